//! What the engine remembers between rounds, and the [`StateStore`] trait that keeps it.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::ids::{Cursor, IdempotencyKey, PairId, RemoteId, Scope, Side, Version};
use crate::item::SyncItem;

/// One side of a pair: the item's id, its version token, and the **base**: the item as that
/// side held it when both sides last agreed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SideRecord<T> {
    /// Id on that side.
    pub id: RemoteId,
    /// Version token when last reconciled.
    pub version: Version,
    /// The side's item when last reconciled (normalized, projected on the side's profile).
    pub base: T,
}

/// A pair: one Raynet record linked to one Outlook item.
///
/// A pair with only one side is *detached*: the item on that side is known and deliberately
/// not mirrored (for example a Raynet meeting kept as cancelled after its Outlook event was
/// deleted). Detached items are never re-created on the other side.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PairRecord<T> {
    /// The Raynet side, if linked.
    pub raynet: Option<SideRecord<T>>,
    /// The Outlook side, if linked.
    pub outlook: Option<SideRecord<T>>,
    /// Which side the item was first seen on.
    pub origin: Side,
}

impl<T> PairRecord<T> {
    /// The record of `side`.
    #[must_use]
    pub fn side(&self, side: Side) -> Option<&SideRecord<T>> {
        match side {
            Side::Raynet => self.raynet.as_ref(),
            Side::Outlook => self.outlook.as_ref(),
        }
    }

    /// The record of `side`, mutably.
    pub fn side_mut(&mut self, side: Side) -> &mut Option<SideRecord<T>> {
        match side {
            Side::Raynet => &mut self.raynet,
            Side::Outlook => &mut self.outlook,
        }
    }

    /// Whether both sides are linked.
    #[must_use]
    pub fn is_linked(&self) -> bool {
        self.raynet.is_some() && self.outlook.is_some()
    }
}

/// A create recorded before it is sent, so that a crash after the remote write cannot lead
/// to a duplicate: the next round looks the item up by `key`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PendingCreate<T> {
    /// The idempotency key sent with the create.
    pub key: IdempotencyKey,
    /// The side the item is being created on.
    pub target: Side,
    /// The existing pair (when re-creating a side of it).
    pub pair: Option<PairId>,
    /// The pair to record once the create is confirmed; its `target` side is filled in with
    /// what the create returned.
    pub record: PairRecord<T>,
    /// The item sent.
    pub item: T,
}

/// The pairs of one scope, kept sorted by [`PairId`] in one vector: compact (no per-node
/// overhead, which matters at 100,000 pairs) and iterated in a deterministic order.
///
/// ```
/// use sync_core::{Pairs, PairId, PairRecord, Side};
/// let mut pairs: Pairs<sync_core::Contact> = Pairs::default();
/// let rec = PairRecord { raynet: None, outlook: None, origin: Side::Raynet };
/// pairs.insert(PairId::from_store(2), rec.clone());
/// pairs.insert(PairId::from_store(1), rec.clone());
/// assert_eq!(pairs.keys().map(|k| k.get()).collect::<Vec<_>>(), vec![1, 2]);
/// assert!(pairs.remove(&PairId::from_store(1)).is_some());
/// assert_eq!(pairs.len(), 1);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Pairs<T> {
    sorted: Vec<(PairId, PairRecord<T>)>,
}

impl<T> Default for Pairs<T> {
    fn default() -> Self {
        Self { sorted: Vec::new() }
    }
}

impl<T> Pairs<T> {
    /// Inserts or replaces the pair `id`; returns the record it replaced. Appending in id
    /// order (as a store loading rows `ORDER BY id` does) costs O(1).
    pub fn insert(&mut self, id: PairId, pair: PairRecord<T>) -> Option<PairRecord<T>> {
        if self.sorted.last().is_none_or(|(last, _)| *last < id) {
            self.sorted.push((id, pair));
            return None;
        }
        match self.sorted.binary_search_by_key(&id, |(k, _)| *k) {
            Ok(at) => Some(std::mem::replace(&mut self.sorted[at].1, pair)),
            Err(at) => {
                self.sorted.insert(at, (id, pair));
                None
            }
        }
    }

    /// Removes the pair `id`; returns its record.
    pub fn remove(&mut self, id: &PairId) -> Option<PairRecord<T>> {
        let at = self.sorted.binary_search_by_key(id, |(k, _)| *k).ok()?;
        Some(self.sorted.remove(at).1)
    }

    /// The pair `id`.
    #[must_use]
    pub fn get(&self, id: &PairId) -> Option<&PairRecord<T>> {
        let at = self.sorted.binary_search_by_key(id, |(k, _)| *k).ok()?;
        Some(&self.sorted[at].1)
    }

    /// How many pairs there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// Whether there is no pair.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// The pairs in id order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&PairId, &PairRecord<T>)> {
        self.sorted.iter().map(|(k, v)| (k, v))
    }

    /// The ids in order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &PairId> {
        self.sorted.iter().map(|(k, _)| k)
    }

    /// The records in id order.
    pub fn values(&self) -> impl ExactSizeIterator<Item = &PairRecord<T>> {
        self.sorted.iter().map(|(_, v)| v)
    }

    /// Releases spare capacity (after loading).
    pub fn shrink_to_fit(&mut self) {
        self.sorted.shrink_to_fit();
    }
}

impl<'a, T> IntoIterator for &'a Pairs<T> {
    type Item = (&'a PairId, &'a PairRecord<T>);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (PairId, PairRecord<T>)>,
        fn(&'a (PairId, PairRecord<T>)) -> (&'a PairId, &'a PairRecord<T>),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.sorted.iter().map(|(k, v)| (k, v))
    }
}

impl<T> FromIterator<(PairId, PairRecord<T>)> for Pairs<T> {
    fn from_iter<I: IntoIterator<Item = (PairId, PairRecord<T>)>>(iter: I) -> Self {
        let mut sorted: Vec<_> = iter.into_iter().collect();
        sorted.sort_by_key(|(k, _)| *k);
        sorted.dedup_by_key(|(k, _)| *k);
        Self { sorted }
    }
}

/// Everything the store knows of one scope.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredState<T> {
    /// The pairs, by their store id.
    pub pairs: Pairs<T>,
    /// The last incremental-read cursor of each side.
    pub cursors: BTreeMap<Side, Cursor>,
    /// Creates sent (or about to be sent) but not yet confirmed.
    pub pending: Vec<PendingCreate<T>>,
}

impl<T> Default for StoredState<T> {
    fn default() -> Self {
        Self {
            pairs: Pairs::default(),
            cursors: BTreeMap::new(),
            pending: Vec::new(),
        }
    }
}

impl<T> StoredState<T> {
    /// The pair holding `id` on `side`, if any (a linear scan; the planner builds an index).
    #[must_use]
    pub fn find(&self, side: Side, id: &RemoteId) -> Option<(PairId, &PairRecord<T>)> {
        self.pairs
            .iter()
            .find(|(_, p)| p.side(side).is_some_and(|r| &r.id == id))
            .map(|(k, p)| (*k, p))
    }
}

/// Where pairs, cursors and pending creates are kept.
///
/// Note for implementors: each method must be atomic (a crash leaves either the old or the new
/// state), and a failure must be returned, never swallowed: the runner stops the round on it.
#[async_trait]
pub trait StateStore<T: SyncItem>: Send + Sync {
    /// Loads everything known of `scope`.
    async fn load(&self, scope: &Scope) -> Result<StoredState<T>, StoreError>;

    /// Inserts a pair (`id` = `None`) or replaces one; returns its id.
    async fn put_pair(
        &self,
        scope: &Scope,
        id: Option<PairId>,
        pair: &PairRecord<T>,
    ) -> Result<PairId, StoreError>;

    /// Forgets a pair.
    async fn remove_pair(&self, scope: &Scope, id: PairId) -> Result<(), StoreError>;

    /// Stores (or clears) a side's cursor.
    async fn put_cursor(
        &self,
        scope: &Scope,
        side: Side,
        cursor: Option<&Cursor>,
    ) -> Result<(), StoreError>;

    /// Records a create before it is sent.
    async fn add_pending(
        &self,
        scope: &Scope,
        pending: &PendingCreate<T>,
    ) -> Result<(), StoreError>;

    /// Drops the pending create `key` and, in the same transaction, stores `pair` (under
    /// `pair_id` if given, else as a new pair). Returns the pair's id when one was stored.
    async fn resolve_pending(
        &self,
        scope: &Scope,
        key: &IdempotencyKey,
        pair_id: Option<PairId>,
        pair: Option<&PairRecord<T>>,
    ) -> Result<Option<PairId>, StoreError>;

    /// Every scope the store knows, for `status` reports.
    async fn scopes(&self) -> Result<Vec<Scope>, StoreError>;
}

/// An in-memory [`StateStore`], for tests and embedders that keep state elsewhere.
///
/// It can be told to fail after a number of writes, which is how tests simulate a crash
/// between a remote write and its state record.
#[derive(Debug)]
pub struct MemoryStore<T> {
    inner: Mutex<MemoryStoreInner<T>>,
}

#[derive(Debug)]
struct MemoryStoreInner<T> {
    scopes: BTreeMap<Scope, StoredState<T>>,
    next_id: u64,
    writes_left: Option<u64>,
}

impl<T> Default for MemoryStore<T> {
    fn default() -> Self {
        Self {
            inner: Mutex::new(MemoryStoreInner {
                scopes: BTreeMap::new(),
                next_id: 1,
                writes_left: None,
            }),
        }
    }
}

impl<T: SyncItem> MemoryStore<T> {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes every write after the next `n` fail (a simulated crash); `None` heals it.
    pub fn fail_after_writes(&self, n: Option<u64>) {
        self.lock().writes_left = n;
    }

    /// A copy of a scope's state.
    #[must_use]
    pub fn snapshot(&self, scope: &Scope) -> StoredState<T> {
        self.lock().scopes.get(scope).cloned().unwrap_or_default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryStoreInner<T>> {
        // A poisoned lock only means a test panicked while holding it; the data is still whole.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write<R>(
        &self,
        scope: &Scope,
        f: impl FnOnce(&mut StoredState<T>, &mut u64) -> R,
    ) -> Result<R, StoreError> {
        let mut inner = self.lock();
        if let Some(left) = inner.writes_left.as_mut() {
            if *left == 0 {
                return Err(StoreError::new("simulated crash: write refused"));
            }
            *left -= 1;
        }
        let MemoryStoreInner {
            scopes, next_id, ..
        } = &mut *inner;
        let state = scopes.entry(scope.clone()).or_default();
        Ok(f(state, next_id))
    }
}

#[async_trait]
impl<T: SyncItem> StateStore<T> for MemoryStore<T> {
    async fn load(&self, scope: &Scope) -> Result<StoredState<T>, StoreError> {
        Ok(self.snapshot(scope))
    }

    async fn put_pair(
        &self,
        scope: &Scope,
        id: Option<PairId>,
        pair: &PairRecord<T>,
    ) -> Result<PairId, StoreError> {
        self.write(scope, |state, next| {
            let id = id.unwrap_or_else(|| {
                let id = PairId::from_store(*next);
                *next += 1;
                id
            });
            state.pairs.insert(id, pair.clone());
            id
        })
    }

    async fn remove_pair(&self, scope: &Scope, id: PairId) -> Result<(), StoreError> {
        self.write(scope, |state, _| {
            state.pairs.remove(&id);
        })
    }

    async fn put_cursor(
        &self,
        scope: &Scope,
        side: Side,
        cursor: Option<&Cursor>,
    ) -> Result<(), StoreError> {
        self.write(scope, |state, _| match cursor {
            Some(c) => {
                state.cursors.insert(side, c.clone());
            }
            None => {
                state.cursors.remove(&side);
            }
        })
    }

    async fn add_pending(
        &self,
        scope: &Scope,
        pending: &PendingCreate<T>,
    ) -> Result<(), StoreError> {
        self.write(scope, |state, _| {
            state.pending.retain(|p| p.key != pending.key);
            state.pending.push(pending.clone());
        })
    }

    async fn resolve_pending(
        &self,
        scope: &Scope,
        key: &IdempotencyKey,
        pair_id: Option<PairId>,
        pair: Option<&PairRecord<T>>,
    ) -> Result<Option<PairId>, StoreError> {
        self.write(scope, |state, next| {
            state.pending.retain(|p| &p.key != key);
            pair.map(|pair| {
                let id = pair_id.unwrap_or_else(|| {
                    let id = PairId::from_store(*next);
                    *next += 1;
                    id
                });
                state.pairs.insert(id, pair.clone());
                id
            })
        })
    }

    async fn scopes(&self) -> Result<Vec<Scope>, StoreError> {
        Ok(self.lock().scopes.keys().cloned().collect())
    }
}

/// The version a pair's side record is known by, for concurrency checks.
#[must_use]
pub fn version_of<T>(pair: &PairRecord<T>, side: Side) -> Option<&Version> {
    pair.side(side).map(|r| &r.version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;

    /// A pair as the state store kept it before ids and tokens were boxed (`Box<str>` instead
    /// of `String` inside the newtypes): the JSON must load, and serialize back unchanged.
    const STORED_PAIR: &str = r#"{"raynet":{"id":"42","version":"2026-05-04T09:00:00Z","base":{"title":"Review","description":"","location":"","schedule":{"type":"timed","start":"2026-05-04T09:00:00Z","end":"2026-05-04T10:00:00Z"},"time_zone":null,"sensitivity":"normal","status":"scheduled","kind":null,"organizer":{"email":"jana@firma.cz","name":"Jana"},"attendees":[{"email":"petr@firma.cz","name":"Petr","response":"accepted"}],"categories":[],"series":null,"global_id":"uid-1"}},"outlook":{"id":"AAMkAGI2TG93AAA=","version":"ck-1","base":{"title":"Review","description":"","location":"","schedule":{"type":"timed","start":"2026-05-04T09:00:00Z","end":"2026-05-04T10:00:00Z"},"time_zone":null,"sensitivity":"normal","status":"scheduled","kind":null,"organizer":{"email":"jana@firma.cz","name":"Jana"},"attendees":[{"email":"petr@firma.cz","name":"Petr","response":"accepted"}],"categories":[],"series":null,"global_id":"uid-1"}},"origin":"raynet"}"#;

    #[test]
    fn stored_pairs_keep_their_json_shape() {
        let pair: PairRecord<Event> = serde_json::from_str(STORED_PAIR).unwrap();
        let r = pair.raynet.as_ref().unwrap();
        assert_eq!(r.id.as_str(), "42");
        assert_eq!(r.version.as_str(), "2026-05-04T09:00:00Z");
        let organizer = r.base.organizer.as_ref().unwrap();
        assert_eq!(organizer.email.as_ref().unwrap().as_str(), "jana@firma.cz");
        assert_eq!(r.base.attendees[0].email.as_str(), "petr@firma.cz");
        assert_eq!(
            serde_json::to_string(&pair).unwrap(),
            STORED_PAIR,
            "a stored pair must serialize back byte for byte"
        );
        let pending = r#"{"key":"r-42","target":"outlook","pair":null,"record":{"raynet":null,"outlook":null,"origin":"raynet"},"item":{"title":"x","schedule":{"type":"all_day","start":"2026-05-04","end":"2026-05-05"}}}"#;
        let p: PendingCreate<Event> = serde_json::from_str(pending).unwrap();
        assert_eq!(p.key.as_str(), "r-42");
    }
}
