//! In-memory sides with fault injection.
//!
//! A [`MemorySide`] behaves like a remote collection: it hands out ids and version tokens,
//! keeps a change log for incremental reads, honours optimistic concurrency and idempotency
//! keys, stores only what its profile can hold, and can be told to fail: failed reads, partial
//! reads, failed writes, and writes that land but report an interruption (a crash between the
//! remote write and the state record).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};

use crate::error::{ErrorKind, ProviderError};
use crate::ids::{Cursor, IdempotencyKey, RemoteId, Version};
use crate::item::{FieldSet, SyncItem};
use crate::provider::{Completeness, ReadRequest, ReadSide, Remote, SideRead, WriteSide, Written};

/// A logical clock shared by sides, so that "the later modification wins" can be tested.
#[derive(Clone, Debug)]
pub struct MemoryClock(Arc<AtomicI64>);

impl Default for MemoryClock {
    fn default() -> Self {
        Self(Arc::new(AtomicI64::new(0)))
    }
}

impl MemoryClock {
    /// A clock at 2026-01-01T00:00:00Z.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Advances one second and returns the new time.
    #[must_use]
    pub fn tick(&self) -> DateTime<Utc> {
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default()
            + chrono::Duration::seconds(n)
    }
}

/// Faults to inject, each counted down as it fires.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// The next this-many reads fail (unavailable).
    pub failing_reads: u32,
    /// The next this-many reads return only every other item, marked partial.
    pub partial_reads: u32,
    /// The next this-many writes fail without landing.
    pub failing_writes: u32,
    /// The next this-many writes land but report an interruption.
    pub interrupted_writes: u32,
    /// The next this-many `get`/`find_by_key` lookups fail.
    pub failing_lookups: u32,
}

#[derive(Clone, Debug)]
struct Stored<T> {
    version: u64,
    modified: DateTime<Utc>,
    item: T,
    key: Option<IdempotencyKey>,
}

#[derive(Debug)]
struct Inner<T> {
    items: BTreeMap<RemoteId, Stored<T>>,
    /// Change log: sequence number → id changed or deleted.
    log: Vec<(u64, RemoteId)>,
    seq: u64,
    next_id: u64,
    faults: Faults,
    writes: u64,
    reads: u64,
}

/// An in-memory collection acting as one side.
///
/// ```
/// use sync_core::{testing::MemorySide, Contact, ContactProfile};
/// let side = MemorySide::<Contact>::new(ContactProfile::outlook());
/// let id = side.insert(Contact { surname: "Novák".into(), ..Contact::default() });
/// assert_eq!(side.get_item(&id).unwrap().surname, "Novák");
/// ```
#[derive(Debug)]
pub struct MemorySide<T: SyncItem> {
    inner: Mutex<Inner<T>>,
    profile: T::Profile,
    prefix: String,
    clock: MemoryClock,
    deltas: bool,
    id_listing: bool,
    batch: usize,
}

impl<T: SyncItem> MemorySide<T> {
    /// An empty side holding what `profile` allows, with its own clock and incremental reads.
    #[must_use]
    pub fn new(profile: T::Profile) -> Self {
        Self {
            inner: Mutex::new(Inner {
                items: BTreeMap::new(),
                log: Vec::new(),
                seq: 0,
                next_id: 1,
                faults: Faults::default(),
                writes: 0,
                reads: 0,
            }),
            profile,
            prefix: "m".into(),
            clock: MemoryClock::new(),
            deltas: true,
            id_listing: false,
            batch: 1,
        }
    }

    /// Ids start with `prefix` (tests give the two sides different prefixes).
    #[must_use]
    pub fn with_prefix(mut self, prefix: &str) -> Self {
        prefix.clone_into(&mut self.prefix);
        self
    }

    /// Shares `clock` with other sides.
    #[must_use]
    pub fn with_clock(mut self, clock: MemoryClock) -> Self {
        self.clock = clock;
        self
    }

    /// Incremental reads the way Raynet can do them: changed items plus a listing of every id,
    /// with no deletion markers (Raynet has no deletion feed).
    #[must_use]
    pub fn with_id_listing(mut self) -> Self {
        self.id_listing = true;
        self
    }

    /// Takes creates in batches of `n` (as Graph's `$batch` does).
    #[must_use]
    pub fn with_batch(mut self, n: usize) -> Self {
        self.batch = n.max(1);
        self
    }

    /// Whether reads with a cursor return only changes (default) or always everything.
    #[must_use]
    pub fn with_deltas(mut self, on: bool) -> Self {
        self.deltas = on;
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<T>> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn new_id(&self, inner: &mut Inner<T>) -> RemoteId {
        let n = inner.next_id;
        inner.next_id += 1;
        RemoteId::new(format!("{}{n}", self.prefix)).unwrap_or_else(|_| unreachable_id())
    }

    fn touch(inner: &mut Inner<T>, id: &RemoteId) -> u64 {
        inner.seq += 1;
        let seq = inner.seq;
        inner.log.push((seq, id.clone()));
        seq
    }

    /// A user creates an item directly on this side; returns its id.
    #[allow(clippy::needless_pass_by_value)]
    pub fn insert(&self, item: T) -> RemoteId {
        let item = item.project(&self.profile).item;
        let modified = self.clock.tick();
        let mut inner = self.lock();
        self.add_new(&mut inner, item, modified, None).0
    }

    /// Stores a new item under a fresh id; returns the id and the item's version.
    fn add_new(
        &self,
        inner: &mut Inner<T>,
        item: T,
        modified: DateTime<Utc>,
        key: Option<IdempotencyKey>,
    ) -> (RemoteId, u64) {
        let id = self.new_id(inner);
        let version = Self::touch(inner, &id);
        inner.items.insert(
            id.clone(),
            Stored {
                version,
                modified,
                item,
                key,
            },
        );
        (id, version)
    }

    /// A user edits an item directly on this side; returns whether it existed.
    pub fn edit(&self, id: &RemoteId, f: impl FnOnce(&mut T)) -> bool {
        let modified = self.clock.tick();
        let mut inner = self.lock();
        let Some(mut stored) = inner.items.get(id).cloned() else {
            return false;
        };
        f(&mut stored.item);
        stored.item = stored.item.project(&self.profile).item;
        stored.version = Self::touch(&mut inner, id);
        stored.modified = modified;
        inner.items.insert(id.clone(), stored);
        true
    }

    /// A user deletes an item directly on this side; returns whether it existed.
    pub fn remove(&self, id: &RemoteId) -> bool {
        let mut inner = self.lock();
        if inner.items.remove(id).is_some() {
            Self::touch(&mut inner, id);
            true
        } else {
            false
        }
    }

    /// One item's content.
    #[must_use]
    pub fn get_item(&self, id: &RemoteId) -> Option<T> {
        self.lock().items.get(id).map(|s| s.item.clone())
    }

    /// Every item's content, in id order.
    #[must_use]
    pub fn items(&self) -> Vec<T> {
        self.lock().items.values().map(|s| s.item.clone()).collect()
    }

    /// Every item with its id, in id order.
    #[must_use]
    pub fn entries(&self) -> Vec<(RemoteId, T)> {
        self.lock()
            .items
            .iter()
            .map(|(k, s)| (k.clone(), s.item.clone()))
            .collect()
    }

    /// Every id, in order.
    #[must_use]
    pub fn ids(&self) -> Vec<RemoteId> {
        self.lock().items.keys().cloned().collect()
    }

    /// How many items there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().items.len()
    }

    /// Whether there is no item.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes made through the provider traits (creates, updates, deletes), landed or not.
    #[must_use]
    pub fn write_calls(&self) -> u64 {
        self.lock().writes
    }

    /// Reads made through the provider traits.
    #[must_use]
    pub fn read_calls(&self) -> u64 {
        self.lock().reads
    }

    /// Sets the faults to inject.
    pub fn set_faults(&self, faults: Faults) {
        self.lock().faults = faults;
    }

    /// The faults not yet fired.
    #[must_use]
    pub fn faults(&self) -> Faults {
        self.lock().faults.clone()
    }

    fn remote(id: &RemoteId, s: &Stored<T>) -> Remote<T> {
        Remote {
            id: id.clone(),
            version: version_token(s.version),
            modified: Some(s.modified),
            item: s.item.clone(),
            key: s.key.clone(),
        }
    }

    /// Counts a write and decides its fate: `Err` = fail without landing, `Ok(true)` = land
    /// then report an interruption.
    fn write_fault(inner: &mut Inner<T>, what: &str) -> Result<bool, ProviderError> {
        inner.writes += 1;
        if inner.faults.failing_writes > 0 {
            inner.faults.failing_writes -= 1;
            return Err(ProviderError::new(
                ErrorKind::Unavailable,
                format!("injected failure: {what}"),
            ));
        }
        if inner.faults.interrupted_writes > 0 {
            inner.faults.interrupted_writes -= 1;
            return Ok(true);
        }
        Ok(false)
    }

    fn lookup_fault(inner: &mut Inner<T>) -> Result<(), ProviderError> {
        if inner.faults.failing_lookups > 0 {
            inner.faults.failing_lookups -= 1;
            return Err(ProviderError::new(
                ErrorKind::Unavailable,
                "injected failure: lookup",
            ));
        }
        Ok(())
    }
}

fn version_token(v: u64) -> Version {
    Version::new(format!("v{v}")).unwrap_or_else(|_| unreachable_version())
}

#[cold]
fn unreachable_id() -> RemoteId {
    // "x" is a valid id; this only runs if the formatting above ever produced an invalid one.
    RemoteId::new("x").unwrap_or_else(|_| unreachable!("\"x\" is a valid id"))
}

#[cold]
fn unreachable_version() -> Version {
    Version::new("v").unwrap_or_else(|_| unreachable!("\"v\" is a valid version"))
}

/// The stored item `id`, if it is there and still at the `expected` version.
fn checked<'a, T>(
    inner: &'a Inner<T>,
    id: &RemoteId,
    expected: Option<&Version>,
) -> Result<&'a Stored<T>, ProviderError> {
    let Some(current) = inner.items.get(id) else {
        return Err(ProviderError::new(
            ErrorKind::NotFound,
            format!("item {id}"),
        ));
    };
    if let Some(expected) = expected {
        if &version_token(current.version) != expected {
            return Err(ProviderError::new(
                ErrorKind::PreconditionFailed,
                format!("item {id} changed since version {expected}"),
            ));
        }
    }
    Ok(current)
}

fn interrupted(what: &str) -> ProviderError {
    ProviderError::new(
        ErrorKind::Interrupted,
        format!("injected interruption after the write landed: {what}"),
    )
}

#[async_trait]
impl<T: SyncItem> ReadSide<T> for MemorySide<T> {
    fn profile(&self) -> T::Profile {
        self.profile.clone()
    }

    async fn read(&self, request: &ReadRequest) -> Result<SideRead<T>, ProviderError> {
        let mut inner = self.lock();
        inner.reads += 1;
        if inner.faults.failing_reads > 0 {
            inner.faults.failing_reads -= 1;
            return Err(ProviderError::new(
                ErrorKind::Unavailable,
                "injected failure: read",
            ));
        }
        let in_window = |item: &T| match (request.window, item.span()) {
            (Some(w), Some((start, end))) => w.overlaps(start, end),
            (None, _) | (_, None) => true,
        };
        let since = match (&request.cursor, self.deltas) {
            (Some(c), true) => c
                .as_str()
                .strip_prefix("seq:")
                .and_then(|n| n.parse::<u64>().ok()),
            (Some(_) | None, _) => None,
        };
        let cursor = Cursor::new(format!("seq:{}", inner.seq)).ok();
        let mut read = match since {
            None => SideRead {
                items: inner
                    .items
                    .iter()
                    .filter(|(_, s)| in_window(&s.item))
                    .map(|(id, s)| Self::remote(id, s))
                    .collect(),
                deleted: Vec::new(),
                completeness: Completeness::Complete,
                cursor,
                unreadable: Vec::new(),
                listed_ids: None,
            },
            Some(since) => {
                let changed: std::collections::BTreeSet<&RemoteId> = inner
                    .log
                    .iter()
                    .filter(|(seq, _)| *seq > since)
                    .map(|(_, id)| id)
                    .collect();
                let mut items = Vec::new();
                let mut deleted = Vec::new();
                for id in changed {
                    match inner.items.get(id) {
                        Some(s) if in_window(&s.item) => items.push(Self::remote(id, s)),
                        // Changed to outside the window, or deleted: both come as removals,
                        // as Graph's delta does; the engine must tell them apart.
                        Some(_) | None => deleted.push(id.clone()),
                    }
                }
                let listed_ids = self
                    .id_listing
                    .then(|| inner.items.keys().cloned().collect());
                SideRead {
                    items,
                    deleted: if self.id_listing { Vec::new() } else { deleted },
                    completeness: Completeness::Delta,
                    cursor,
                    unreadable: Vec::new(),
                    listed_ids,
                }
            }
        };
        if inner.faults.partial_reads > 0 {
            inner.faults.partial_reads -= 1;
            let mut keep = true;
            read.items.retain(|_| {
                keep = !keep;
                keep
            });
            read.deleted.clear();
            read.completeness = Completeness::Partial;
            read.cursor = None;
        }
        Ok(read)
    }

    async fn get(&self, id: &RemoteId) -> Result<Option<Remote<T>>, ProviderError> {
        let mut inner = self.lock();
        Self::lookup_fault(&mut inner)?;
        Ok(inner.items.get(id).map(|s| Self::remote(id, s)))
    }
}

#[async_trait]
impl<T: SyncItem> WriteSide<T> for MemorySide<T> {
    async fn create(&self, item: &T, key: &IdempotencyKey) -> Result<Written<T>, ProviderError> {
        let modified = self.clock.tick();
        let mut inner = self.lock();
        let interrupt = Self::write_fault(&mut inner, "create")?;
        // Idempotent: a second create with the same key returns the first item.
        if let Some((id, s)) = inner
            .items
            .iter()
            .find(|(_, s)| s.key.as_ref() == Some(key))
        {
            let (id, s) = (id.clone(), s.clone());
            return Ok(Written {
                id,
                version: version_token(s.version),
                item: Some(s.item),
            });
        }
        let stored_item = item.project(&self.profile).item;
        let (id, version) =
            self.add_new(&mut inner, stored_item.clone(), modified, Some(key.clone()));
        if interrupt {
            return Err(interrupted("create"));
        }
        Ok(Written {
            id,
            version: version_token(version),
            item: Some(stored_item),
        })
    }

    async fn update(
        &self,
        id: &RemoteId,
        item: &T,
        changed: FieldSet<T::Field>,
        expected: Option<&Version>,
    ) -> Result<Written<T>, ProviderError> {
        let modified = self.clock.tick();
        let mut inner = self.lock();
        let interrupt = Self::write_fault(&mut inner, "update")?;
        let current = checked(&inner, id, expected)?.clone();
        // Like the real APIs (a Graph PATCH, a Raynet partial update), only the changed
        // fields are written: whatever else the item holds now stays.
        let mut patched = current.item.clone();
        for f in changed.iter() {
            patched.copy_field(item, f);
        }
        let stored_item = patched.project(&self.profile).item;
        let version = Self::touch(&mut inner, id);
        inner.items.insert(
            id.clone(),
            Stored {
                version,
                modified,
                item: stored_item.clone(),
                key: current.key,
            },
        );
        if interrupt {
            return Err(interrupted("update"));
        }
        Ok(Written {
            id: id.clone(),
            version: version_token(version),
            item: Some(stored_item),
        })
    }

    async fn delete(&self, id: &RemoteId, expected: Option<&Version>) -> Result<(), ProviderError> {
        let mut inner = self.lock();
        let interrupt = Self::write_fault(&mut inner, "delete")?;
        checked(&inner, id, expected)?;
        inner.items.remove(id);
        Self::touch(&mut inner, id);
        if interrupt {
            return Err(interrupted("delete"));
        }
        Ok(())
    }

    fn max_batch(&self) -> usize {
        self.batch
    }

    async fn find_by_key(&self, key: &IdempotencyKey) -> Result<Option<Remote<T>>, ProviderError> {
        let mut inner = self.lock();
        Self::lookup_fault(&mut inner)?;
        Ok(inner
            .items
            .iter()
            .find(|(_, s)| s.key.as_ref() == Some(key))
            .map(|(id, s)| Self::remote(id, s)))
    }
}
