//! Hashing and the planner's index of one read: from an id to the item listed under it, small
//! enough not to count at 100,000 items.
//!
//! A `HashMap<&RemoteId, usize>` beside a vector of entries costs ~31 bytes per listed item
//! (a 16-byte bucket and a control byte at up to 7/8 load, rounded up to a power of two, plus
//! 8 bytes of entry). [`IdIndex`] keeps 5 bytes per slot (a tag byte and the item's 32-bit
//! position in the read) at up to 1/2 load and no entry vector: ~10 bytes per item. The low
//! load keeps the probes for an id that is not listed short (the common case of an
//! incremental read: every pair asks, few items are listed); the 7-bit hash tag spares almost
//! every comparison of ids that only share a run of slots.

use std::cell::Cell;
use std::collections::HashSet;
use std::hash::Hasher;

use crate::ids::RemoteId;
use crate::provider::Remote;

/// A fast, non-cryptographic hasher (the FxHash mix) for the planner's id indexes: ids come
/// from the two services, are not chosen by an attacker, and SipHash's cost showed in the
/// 100,000-pair benchmark.
#[derive(Default, Clone, Copy)]
pub(super) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type FxBuild = std::hash::BuildHasherDefault<FxHasher>;

/// A hash set keyed with [`FxHasher`].
pub(super) type FastSet<K> = HashSet<K, FxBuild>;

/// The tag of a free slot (a used slot's tag has its high bit set).
const FREE: u8 = 0;

/// The hash of an id: the FxHash mix of its bytes, then the murmur3 finalizer so that the
/// high bits (the first slot) and the low bits (the tag) both depend on every byte.
fn hash(id: &RemoteId) -> u64 {
    let mut h = FxHasher::default();
    h.write(id.as_str().as_bytes());
    let mut x = h.finish();
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// A set of positions (one bit each).
#[derive(Default)]
pub(super) struct Bits(Vec<Cell<u64>>);

impl Bits {
    /// `n` clear bits.
    pub(super) fn new(n: usize) -> Self {
        Self(vec![Cell::new(0); n.div_ceil(64)])
    }

    /// Sets bit `at` (through a shared reference: the planner marks items as it goes).
    pub(super) fn set(&self, at: usize) {
        let word = &self.0[at / 64];
        word.set(word.get() | 1 << (at % 64));
    }

    /// Whether bit `at` is set.
    pub(super) fn get(&self, at: usize) -> bool {
        self.0[at / 64].get() & 1 << (at % 64) != 0
    }
}

/// The items of a read by id (an open-addressing table with linear probing). An id listed
/// more than once (a replayed page) is indexed under its last listing; the earlier ones are
/// *superseded*.
pub(super) struct IdIndex<'a, T> {
    items: &'a [Remote<T>],
    /// Per slot: [`FREE`], or the high bit and the low 7 bits of the id's hash. More slots than
    /// items, so that a probe always meets a free slot.
    tags: Vec<u8>,
    /// Per slot: the item's position in the read (meaningless in a free slot).
    at: Vec<u32>,
    superseded: Bits,
}

/// A used slot's tag for the hash `h`.
fn tag(h: u64) -> u8 {
    0x80 | (h as u8 & 0x7f)
}

impl<'a, T> IdIndex<'a, T> {
    /// Indexes `items`.
    pub(super) fn new(items: &'a [Remote<T>]) -> Self {
        // A read of 4 billion items would not fit in memory in the first place (each holds an
        // item of a few hundred bytes), so positions fit in 32 bits.
        assert!(
            u32::try_from(items.len()).is_ok(),
            "a read of more than 4 billion items cannot be indexed"
        );
        // At most half full (and at least one free slot).
        let slots = 2 * items.len() + 1;
        let mut index = Self {
            items,
            tags: vec![FREE; slots],
            at: vec![0; slots],
            superseded: Bits::new(items.len()),
        };
        for (i, r) in items.iter().enumerate() {
            let h = hash(&r.id);
            let t = tag(h);
            let mut pos = index.home(h);
            loop {
                if index.tags[pos] == FREE {
                    index.tags[pos] = t;
                    index.at[pos] = i as u32;
                    break;
                }
                let at = index.at[pos] as usize;
                if index.tags[pos] == t && items[at].id == r.id {
                    // Listed again: the later listing wins.
                    index.superseded.set(at);
                    index.at[pos] = i as u32;
                    break;
                }
                pos = index.next(pos);
            }
        }
        index
    }

    /// The slot a hash starts probing at (from its high bits, scaled to the table's length).
    fn home(&self, h: u64) -> usize {
        ((u128::from(h) * self.tags.len() as u128) >> 64) as usize
    }

    fn next(&self, pos: usize) -> usize {
        if pos + 1 == self.tags.len() {
            0
        } else {
            pos + 1
        }
    }

    /// The position of the (last) item listed under `id`.
    pub(super) fn find(&self, id: &RemoteId) -> Option<usize> {
        if self.items.is_empty() {
            return None;
        }
        let h = hash(id);
        let t = tag(h);
        let mut pos = self.home(h);
        loop {
            let here = self.tags[pos];
            if here == FREE {
                return None;
            }
            if here == t {
                let at = self.at[pos] as usize;
                if self.items[at].id == *id {
                    return Some(at);
                }
            }
            pos = self.next(pos);
        }
    }

    /// The item at `at`.
    pub(super) fn item(&self, at: usize) -> &'a Remote<T> {
        &self.items[at]
    }

    /// How many items the read listed (superseded ones included): positions are below this.
    pub(super) fn positions(&self) -> usize {
        self.items.len()
    }

    /// The items not superseded (one per id), with their positions, in read order.
    pub(super) fn live(&self) -> impl Iterator<Item = (usize, &'a Remote<T>)> + '_ {
        self.items
            .iter()
            .enumerate()
            .filter(|(at, _)| !self.superseded.get(*at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contact::Contact;
    use crate::ids::Version;

    fn remote(id: &str, name: &str) -> Remote<Contact> {
        Remote {
            id: RemoteId::new(id).unwrap(),
            version: Version::new("v").unwrap(),
            modified: None,
            item: Contact {
                surname: name.into(),
                ..Contact::default()
            },
            key: None,
        }
    }

    #[test]
    fn finds_every_id_and_folds_replays_to_the_last_listing() {
        let mut items: Vec<_> = (0..1000)
            .map(|i| remote(&format!("id-{i}"), "first"))
            .collect();
        items.push(remote("id-7", "replayed"));
        let ix = IdIndex::new(&items);
        for i in 0..1000 {
            let at = ix.find(&RemoteId::new(format!("id-{i}")).unwrap());
            let expected = if i == 7 { 1000 } else { i };
            assert_eq!(
                at,
                Some(expected),
                "id-{i} must be found at its last listing"
            );
        }
        assert_eq!(ix.find(&RemoteId::new("id-1000").unwrap()), None);
        assert_eq!(ix.live().count(), 1000, "a replayed id is listed once");
        assert!(
            ix.live().all(|(at, _)| at != 7),
            "the earlier listing is superseded"
        );
        assert_eq!(ix.item(1000).item.surname, "replayed");
    }

    #[test]
    fn an_empty_read_finds_nothing() {
        let ix = IdIndex::<Contact>::new(&[]);
        assert_eq!(ix.find(&RemoteId::new("x").unwrap()), None);
        assert_eq!(ix.live().count(), 0);
        assert_eq!(ix.positions(), 0);
    }

    #[test]
    fn bits_set_and_read_back() {
        let bits = Bits::new(130);
        for at in [0, 63, 64, 129] {
            assert!(!bits.get(at));
            bits.set(at);
            assert!(bits.get(at));
        }
        assert!(!bits.get(1) && !bits.get(128));
    }
}
