//! The provider traits: what the engine asks of each side.
//!
//! A side is read as a [`SideRead`]: the items it lists with their version tokens, the
//! deletions it reports explicitly, and how complete the listing is. Only a
//! [`Completeness::Complete`] listing lets the engine infer deletions from absence; a
//! [`Completeness::Delta`] read carries explicit deletion markers; a
//! [`Completeness::Partial`] read (or a failed one) never deletes anything.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ProviderError;
use crate::ids::{Cursor, IdempotencyKey, RemoteId, Version};
use crate::item::{FieldSet, SyncItem};

/// A time window `[start, end)`: calendar items whose schedule overlaps it are in scope.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Window {
    /// Start (inclusive).
    pub start: DateTime<Utc>,
    /// End (exclusive).
    pub end: DateTime<Utc>,
}

impl Window {
    /// A window that holds every instant.
    #[must_use]
    pub fn everything() -> Self {
        Self {
            start: DateTime::<Utc>::MIN_UTC,
            end: DateTime::<Utc>::MAX_UTC,
        }
    }

    /// Whether the span `[start, end)` overlaps the window (a zero-length span counts when its
    /// instant lies inside).
    #[must_use]
    pub fn overlaps(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
        if start == end {
            return start >= self.start && start < self.end;
        }
        start < self.end && end > self.start
    }
}

/// One item as read from a side.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Remote<T> {
    /// Its id on that side.
    pub id: RemoteId,
    /// Its version token on that side.
    pub version: Version,
    /// When it was last modified, when the side says (used by the `latest` conflict policy).
    pub modified: Option<DateTime<Utc>>,
    /// The item, normalized.
    pub item: T,
    /// The idempotency key a create of ours left on the item (Raynet external id, Graph
    /// extended property), when the read could see it. It lets the engine re-link items after
    /// a lost state store and spot copies of a synced item; `None` when unknown.
    pub key: Option<IdempotencyKey>,
}

/// How much a read can be trusted to say about what is *not* in it.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum Completeness {
    /// Every item in scope is listed: a known item that is absent is gone.
    Complete,
    /// Only changes since the cursor are listed: absent means unchanged, and deletions are
    /// the explicit markers in [`SideRead::deleted`].
    Delta,
    /// Some items may be missing (a page failed, the read was cut short): absent means
    /// unknown, and no deletion is inferred, not even from explicit markers.
    Partial,
}

/// What a side returned for one read.
#[derive(Clone, Debug, PartialEq)]
pub struct SideRead<T> {
    /// Items listed (for a delta: the changed ones).
    pub items: Vec<Remote<T>>,
    /// Explicit deletion markers.
    pub deleted: Vec<RemoteId>,
    /// How complete the listing is.
    pub completeness: Completeness,
    /// The cursor for the next incremental read, when the side supports them.
    pub cursor: Option<Cursor>,
    /// Items that were listed but could not be mapped, with the reason (they are reported and
    /// left alone: never deleted, never overwritten).
    pub unreadable: Vec<(RemoteId, String)>,
    /// A complete listing of the ids in scope that came with a [`Completeness::Delta`] read
    /// (Raynet has no deletion feed: it lists every id, cheaply, instead). A known item whose
    /// id is missing from it is treated like an explicit deletion marker. `None` when the side
    /// did not list ids.
    pub listed_ids: Option<Vec<RemoteId>>,
}

impl<T> SideRead<T> {
    /// A complete listing of `items`.
    #[must_use]
    pub fn complete(items: Vec<Remote<T>>) -> Self {
        Self {
            items,
            deleted: Vec::new(),
            completeness: Completeness::Complete,
            cursor: None,
            unreadable: Vec::new(),
            listed_ids: None,
        }
    }

    /// A read that failed: nothing listed, nothing may be inferred.
    #[must_use]
    pub fn failed() -> Self {
        Self {
            items: Vec::new(),
            deleted: Vec::new(),
            completeness: Completeness::Partial,
            cursor: None,
            unreadable: Vec::new(),
            listed_ids: None,
        }
    }
}

/// What the engine asks for in one read.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadRequest {
    /// The calendar window (ignored by contact providers).
    pub window: Option<Window>,
    /// The cursor of the last read, for an incremental read; `None` for a full listing.
    pub cursor: Option<Cursor>,
}

/// What a successful write left on the side.
#[derive(Clone, Debug, PartialEq)]
pub struct Written<T> {
    /// The item's id (new for a create).
    pub id: RemoteId,
    /// Its new version token.
    pub version: Version,
    /// The item as the side now holds it, when the side returned it (else the engine assumes
    /// it holds what was sent, projected on the side's profile).
    pub item: Option<T>,
}

/// A side the engine can read.
///
/// Note for implementors: return items normalized (see [`SyncItem::normalized`]); map every
/// failure to a [`ProviderError`] whose [`crate::ErrorKind`] says what happened; never report
/// [`Completeness::Complete`] unless every item in scope was listed.
#[async_trait]
pub trait ReadSide<T: SyncItem>: Send + Sync {
    /// What this side can hold.
    fn profile(&self) -> T::Profile;

    /// Lists the items in scope, or the changes since `request.cursor`.
    ///
    /// # Errors
    /// A [`ProviderError`]; the engine then treats the side as unread (no deletions).
    async fn read(&self, request: &ReadRequest) -> Result<SideRead<T>, ProviderError>;

    /// Fetches one item by id; `Ok(None)` when it does not exist.
    ///
    /// # Errors
    /// A [`ProviderError`] other than "not found".
    async fn get(&self, id: &RemoteId) -> Result<Option<Remote<T>>, ProviderError>;
}

/// One update of a [`WriteSide::update_many`] call.
#[derive(Debug)]
pub struct UpdateRequest<'a, T: SyncItem> {
    /// Which item.
    pub id: &'a RemoteId,
    /// Its new content.
    pub item: &'a T,
    /// The fields that change.
    pub changed: FieldSet<T::Field>,
    /// The version the item must still have.
    pub expected: Option<&'a Version>,
}

/// A side the engine can also write.
///
/// Note for implementors: every write must honour `expected` when given (optimistic
/// concurrency: fail with [`crate::ErrorKind::PreconditionFailed`] when the item's version is
/// not `expected`), and a create must leave `key` on the item so that
/// [`WriteSide::find_by_key`] finds it after a crash.
#[async_trait]
pub trait WriteSide<T: SyncItem>: ReadSide<T> {
    /// Creates `item`, marked with the idempotency `key`.
    ///
    /// # Errors
    /// A [`ProviderError`].
    async fn create(&self, item: &T, key: &IdempotencyKey) -> Result<Written<T>, ProviderError>;

    /// Updates the item `id` to `item`; `changed` names the fields that differ from what the
    /// side holds (a provider may send only those: unchanged attendees must never be
    /// rewritten, since that sends invitations).
    ///
    /// # Errors
    /// A [`ProviderError`].
    async fn update(
        &self,
        id: &RemoteId,
        item: &T,
        changed: FieldSet<T::Field>,
        expected: Option<&Version>,
    ) -> Result<Written<T>, ProviderError>;

    /// Deletes the item `id`.
    ///
    /// # Errors
    /// A [`ProviderError`]; "not found" counts as success for the engine.
    async fn delete(&self, id: &RemoteId, expected: Option<&Version>) -> Result<(), ProviderError>;

    /// How many creates this side takes in one [`WriteSide::create_many`] call (default 1:
    /// the engine sends creates one by one).
    fn max_batch(&self) -> usize {
        1
    }

    /// Creates several items in one call (Graph `$batch`); one result per item, in order.
    ///
    /// Note for implementors: the default sends them one by one through
    /// [`WriteSide::create`]; a side that overrides [`WriteSide::max_batch`] overrides this.
    async fn create_many(
        &self,
        items: &[(&T, &IdempotencyKey)],
    ) -> Vec<Result<Written<T>, ProviderError>> {
        let mut out = Vec::with_capacity(items.len());
        for (item, key) in items {
            out.push(self.create(item, key).await);
        }
        out
    }

    /// Updates several items in one call (Graph `$batch`); one result per item, in order. The
    /// engine groups single updates into calls of at most [`WriteSide::max_batch`].
    ///
    /// Note for implementors: the default sends them one by one through
    /// [`WriteSide::update`].
    async fn update_many(
        &self,
        items: &[UpdateRequest<'_, T>],
    ) -> Vec<Result<Written<T>, ProviderError>> {
        let mut out = Vec::with_capacity(items.len());
        for u in items {
            out.push(self.update(u.id, u.item, u.changed, u.expected).await);
        }
        out
    }

    /// Looks an item up by the idempotency key a create left on it.
    ///
    /// # Errors
    /// A [`ProviderError`]; the engine then keeps the create pending.
    async fn find_by_key(&self, key: &IdempotencyKey) -> Result<Option<Remote<T>>, ProviderError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Contact, Event};

    // Object safety: the runner takes `&dyn WriteSide<T>`.
    fn _object_safe(_: &dyn WriteSide<Event>, _: &dyn ReadSide<Contact>) {}

    #[test]
    fn window_overlap() {
        use chrono::TimeZone;
        let t = |d| Utc.with_ymd_and_hms(2026, 1, d, 0, 0, 0).unwrap();
        let w = Window {
            start: t(10),
            end: t(20),
        };
        assert!(w.overlaps(t(9), t(11)));
        assert!(!w.overlaps(t(5), t(10)));
        assert!(!w.overlaps(t(20), t(21)));
        assert!(w.overlaps(t(15), t(15)));
    }
}
