//! What change notifications tell a round beyond *whose* round it is: which side changed (the
//! other side need not be read while its push is healthy) and which items a side said it deleted
//! (each confirmed with one `get` before it counts, so a forged or replayed notification deletes
//! nothing).
//!
//! [`Hints`] travel in [`RoundOptions::hints`](super::RoundOptions::hints); the tenant round
//! wraps each member's sides in a [`HintedSide`], which answers a skipped read with "nothing
//! changed since the cursor" (no request) and adds the confirmed deletions to a read.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use async_trait::async_trait;

use crate::error::ProviderError;
use crate::ids::{Collection, Email, IdempotencyKey, RemoteId, Side, Version};
use crate::item::{FieldSet, SyncItem};
use crate::provider::{
    Completeness, ReadRequest, ReadSide, Remote, SideRead, UpdateRequest, WriteSide, Written,
};

/// What notifications said about one side of a member's collection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SideHint {
    /// A notification said something changed there: the side is read.
    pub changed: bool,
    /// Items a notification said were deleted there (confirmed by a `get` before they count).
    pub deleted: BTreeSet<RemoteId>,
}

/// What notifications said about a member's collection, per side.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hint {
    /// The Raynet side.
    pub raynet: SideHint,
    /// The Outlook side.
    pub outlook: SideHint,
}

impl Hint {
    /// The hint of `side`.
    #[must_use]
    pub fn side(&self, side: Side) -> &SideHint {
        match side {
            Side::Raynet => &self.raynet,
            Side::Outlook => &self.outlook,
        }
    }

    /// The hint of `side`, to change.
    pub fn side_mut(&mut self, side: Side) -> &mut SideHint {
        match side {
            Side::Raynet => &mut self.raynet,
            Side::Outlook => &mut self.outlook,
        }
    }
}

/// Hints for some members' collections. A member's collection without a hint reads both sides,
/// as every round did before push; with one, a side no notification named is not read.
///
/// ```
/// use sync_core::tenant::Hints;
/// use sync_core::{Collection, Email, RemoteId, Side};
/// let jana: Email = "jana@acme.cz".parse().unwrap();
/// let mut hints = Hints::default();
/// hints.deleted(&jana, Collection::Calendar, Side::Raynet, RemoteId::new("m-7").unwrap());
/// // Raynet said a meeting went: confirm it with one read, leave Outlook unread.
/// assert!(hints.skips(jana.as_str(), Collection::Calendar, Side::Outlook));
/// assert!(hints.skips(jana.as_str(), Collection::Calendar, Side::Raynet));
/// assert_eq!(hints.suspects(jana.as_str(), Collection::Calendar, Side::Raynet).len(), 1);
/// // Push from Outlook is not healthy: read it anyway.
/// hints.read_everywhere(Side::Outlook);
/// assert!(!hints.skips(jana.as_str(), Collection::Calendar, Side::Outlook));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hints {
    members: BTreeMap<(Email, Collection), Hint>,
}

impl Hints {
    fn entry(&mut self, member: &Email, collection: Collection) -> &mut Hint {
        self.members
            .entry((member.clone(), collection))
            .or_default()
    }

    /// Notes that `side` of `member`'s `collection` changed.
    pub fn changed(&mut self, member: &Email, collection: Collection, side: Side) {
        self.entry(member, collection).side_mut(side).changed = true;
    }

    /// Notes that `side` said it deleted `id` of `member`'s `collection`.
    pub fn deleted(&mut self, member: &Email, collection: Collection, side: Side, id: RemoteId) {
        self.entry(member, collection)
            .side_mut(side)
            .deleted
            .insert(id);
    }

    /// Notes that everything of `member`'s `collection` must be read (a lifecycle event said
    /// notifications were missed, say).
    pub fn read_all(&mut self, member: &Email, collection: Collection) {
        let hint = self.entry(member, collection);
        hint.raynet.changed = true;
        hint.outlook.changed = true;
    }

    /// Makes every hinted round read `side` (its push is not healthy).
    pub fn read_everywhere(&mut self, side: Side) {
        for hint in self.members.values_mut() {
            hint.side_mut(side).changed = true;
        }
    }

    /// Adds `hint` to what is known of `member`'s `collection`.
    pub fn add(&mut self, member: &Email, collection: Collection, hint: Hint) {
        let mine = self.entry(member, collection);
        let Hint { raynet, outlook } = hint;
        for (side, theirs) in [(Side::Raynet, raynet), (Side::Outlook, outlook)] {
            let m = mine.side_mut(side);
            m.changed |= theirs.changed;
            m.deleted.extend(theirs.deleted);
        }
    }

    /// Adds `other`'s hints to these.
    pub fn merge(&mut self, other: Hints) {
        for ((member, collection), hint) in other.members {
            self.add(&member, collection, hint);
        }
    }

    /// The hint for `member`'s `collection`, if any.
    #[must_use]
    pub fn of(&self, member: &str, collection: Collection) -> Option<&Hint> {
        self.members
            .iter()
            .find(|((m, c), _)| m.as_str() == member && *c == collection)
            .map(|(_, h)| h)
    }

    /// Whether the read of `side` of `member`'s `collection` is skipped (a hint exists and no
    /// notification said that side changed).
    #[must_use]
    pub fn skips(&self, member: &str, collection: Collection, side: Side) -> bool {
        self.of(member, collection)
            .is_some_and(|h| !h.side(side).changed)
    }

    /// The items `side` of `member`'s `collection` said it deleted.
    #[must_use]
    pub fn suspects(&self, member: &str, collection: Collection, side: Side) -> BTreeSet<RemoteId> {
        self.of(member, collection)
            .map(|h| h.side(side).deleted.clone())
            .unwrap_or_default()
    }

    /// Whether there is no hint at all.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The side with `skip` and `suspects` applied (the side itself when there is nothing to do).
    pub(crate) fn wrap<S: ?Sized>(
        &self,
        member: &str,
        collection: Collection,
        side: Side,
        inner: Arc<S>,
    ) -> HintedSide<S> {
        HintedSide {
            inner,
            skip: self.skips(member, collection, side),
            suspects: self.suspects(member, collection, side),
        }
    }
}

/// A side as a hinted round reads it: a skipped read answers "nothing changed since the cursor"
/// without a request (a first read, without a cursor, is never skipped), and each suspected
/// deletion becomes a deletion marker, which the runner confirms with one [`ReadSide::get`]
/// like any marker — only an item the side no longer has is deleted. Writes pass through.
pub struct HintedSide<S: ?Sized> {
    inner: Arc<S>,
    skip: bool,
    suspects: BTreeSet<RemoteId>,
}

impl<S: ?Sized> HintedSide<S> {
    async fn read_hinted<T: SyncItem>(
        &self,
        inner: &(impl ReadSide<T> + ?Sized),
        request: &ReadRequest,
    ) -> Result<SideRead<T>, ProviderError> {
        let mut read = match (&request.cursor, self.skip) {
            (Some(cursor), true) => SideRead {
                completeness: Completeness::Delta,
                cursor: Some(cursor.clone()),
                ..SideRead::complete(Vec::new())
            },
            _ => inner.read(request).await?,
        };
        // A complete listing finds deletions by absence; a partial one must not delete.
        if read.completeness != Completeness::Delta {
            return Ok(read);
        }
        // Marked deleted: the runner confirms each marker of a kept pair with one `get`
        // before it believes it (and the mass-deletion guard stands behind that).
        for id in &self.suspects {
            if !read.deleted.contains(id) && !read.items.iter().any(|r| &r.id == id) {
                read.deleted.push(id.clone());
            }
        }
        Ok(read)
    }
}

/// `ReadSide` for a hinted side of either kind (the read hinted, the rest passed through).
macro_rules! hinted_read_side {
    ($($side:ident),+) => {$(
        #[async_trait]
        impl<T: SyncItem> ReadSide<T> for HintedSide<dyn $side<T>> {
            fn profile(&self) -> T::Profile {
                self.inner.profile()
            }

            async fn read(&self, request: &ReadRequest) -> Result<SideRead<T>, ProviderError> {
                self.read_hinted(self.inner.as_ref(), request).await
            }

            async fn get(&self, id: &RemoteId) -> Result<Option<Remote<T>>, ProviderError> {
                self.inner.get(id).await
            }
        }
    )+};
}

hinted_read_side!(ReadSide, WriteSide);

#[async_trait]
impl<T: SyncItem> WriteSide<T> for HintedSide<dyn WriteSide<T>> {
    async fn create(&self, item: &T, key: &IdempotencyKey) -> Result<Written<T>, ProviderError> {
        self.inner.create(item, key).await
    }

    async fn update(
        &self,
        id: &RemoteId,
        item: &T,
        changed: FieldSet<T::Field>,
        expected: Option<&Version>,
    ) -> Result<Written<T>, ProviderError> {
        self.inner.update(id, item, changed, expected).await
    }

    async fn delete(&self, id: &RemoteId, expected: Option<&Version>) -> Result<(), ProviderError> {
        self.inner.delete(id, expected).await
    }

    fn max_batch(&self) -> usize {
        self.inner.max_batch()
    }

    async fn create_many(
        &self,
        items: &[(&T, &IdempotencyKey)],
    ) -> Vec<Result<Written<T>, ProviderError>> {
        self.inner.create_many(items).await
    }

    async fn update_many(
        &self,
        items: &[UpdateRequest<'_, T>],
    ) -> Vec<Result<Written<T>, ProviderError>> {
        self.inner.update_many(items).await
    }

    async fn find_by_key(&self, key: &IdempotencyKey) -> Result<Option<Remote<T>>, ProviderError> {
        self.inner.find_by_key(key).await
    }
}
