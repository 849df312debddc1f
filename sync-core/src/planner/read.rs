//! How each recorded item stands in this round's reads (DESIGN §7: a failed or partial read is
//! never a deletion).
//!
//! A [`ReadIndex`] indexes one side's read by id and answers, for each side of each pair, a
//! [`SideNow`]: listed, unchanged (absent from a delta), unknown (absent from a partial read,
//! or unreadable), deleted (an explicit marker, or absent from a complete listing inside the
//! window) or left the window. Only `Deleted` ever leads to a deletion.

use chrono::{DateTime, Utc};

use super::index::{Bits, FastSet, IdIndex};
use crate::ids::{RemoteId, Side, Version};
use crate::item::SyncItem;
use crate::plan::Skipped;
use crate::provider::{Completeness, Remote, SideRead, Window};
use crate::state::SideRecord;

/// How one side of a pair stands this round.
#[derive(Debug)]
pub(super) enum SideNow<'a, T> {
    /// Listed in the read.
    Present(&'a Remote<T>),
    /// Not in a delta read: as recorded.
    Unchanged,
    /// Not in a partial read, or listed as unreadable: unknown, assumed as recorded, never
    /// deleted.
    Unknown,
    /// Deleted (explicit marker, or absent from a complete listing, inside the window).
    Deleted,
    /// Gone from the read but last seen outside the window: left alone.
    LeftWindow,
}

impl<T> Clone for SideNow<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for SideNow<'_, T> {}

/// A read indexed by id, with duplicates (replays) folded: the last listing of an id wins.
pub(super) struct ReadIndex<'a, T> {
    /// The listed items by id.
    ids: IdIndex<'a, T>,
    deleted: FastSet<&'a RemoteId>,
    unreadable: FastSet<&'a RemoteId>,
    /// Which listed items (by position) some pair asked about, so: paired. Filled in by
    /// `state_of` and `mark`.
    seen: Bits,
    completeness: Completeness,
}

impl<'a, T: SyncItem> ReadIndex<'a, T> {
    /// Indexes `read`.
    pub(super) fn new(read: &'a SideRead<T>) -> Self {
        let ids = IdIndex::new(&read.items);
        let seen = Bits::new(ids.positions());
        Self {
            ids,
            deleted: read.deleted.iter().collect(),
            unreadable: read.unreadable.iter().map(|(id, _)| id).collect(),
            seen,
            completeness: read.completeness,
        }
    }

    /// How the recorded item `rec` stands; `in_window` says whether its base lies in the
    /// window (only such items can be inferred deleted). A listing of `rec` counts as paired,
    /// also when `rec` is listed as unreadable as well (it is then left alone, never taken for
    /// a new item).
    pub(super) fn state_of(&self, rec: &SideRecord<T>, in_window: bool) -> SideNow<'a, T> {
        let found = self.ids.find(&rec.id);
        if let Some(at) = found {
            self.seen.set(at);
        }
        if !self.unreadable.is_empty() && self.unreadable.contains(&rec.id) {
            return SideNow::Unknown;
        }
        if let Some(at) = found {
            return SideNow::Present(self.ids.item(at));
        }
        self.absent(rec, in_window)
    }

    /// Counts the listing of `id`, if any, as paired.
    pub(super) fn mark(&self, id: &RemoteId) {
        if let Some(at) = self.ids.find(id) {
            self.seen.set(at);
        }
    }

    /// How a recorded item that is not listed stands.
    fn absent(&self, rec: &SideRecord<T>, in_window: bool) -> SideNow<'a, T> {
        let marked = !self.deleted.is_empty() && self.deleted.contains(&rec.id);
        match self.completeness {
            Completeness::Partial => SideNow::Unknown,
            Completeness::Delta if !marked => SideNow::Unchanged,
            Completeness::Delta | Completeness::Complete => {
                if in_window {
                    SideNow::Deleted
                } else {
                    SideNow::LeftWindow
                }
            }
        }
    }

    /// The listed items no pair asked about (after every pair was planned), inside the window,
    /// in id order.
    pub(super) fn unseen(&self, window: &Window) -> Vec<&'a Remote<T>> {
        let mut out: Vec<&'a Remote<T>> = self
            .ids
            .live()
            .filter(|(at, _)| !self.seen.get(*at))
            .map(|(_, r)| r)
            .filter(|r| r.item.span().is_none_or(|(s, e)| window.overlaps(s, e)))
            .collect();
        // Sorted here, on the few unpaired items, rather than on the whole read.
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }
}

/// An item of a read left alone, and why.
pub(super) fn skipped<T: SyncItem>(side: Side, r: &Remote<T>, reason: String) -> Skipped {
    Skipped {
        side,
        id: r.id.clone(),
        label: r.item.label(),
        reason,
    }
}

/// An item left for a later round because an earlier create on `side` is not confirmed yet.
pub(super) fn deferred<T: SyncItem>(side: Side, r: &Remote<T>) -> Skipped {
    skipped(
        side,
        r,
        format!("deferred: an earlier create on {side} is not confirmed yet"),
    )
}

/// The current item of a side: what was read, or the base when it was not listed.
pub(super) fn current<'a, T>(now: &SideNow<'a, T>, rec: &'a SideRecord<T>) -> &'a T {
    match now {
        SideNow::Present(r) => &r.item,
        SideNow::Unchanged | SideNow::Unknown | SideNow::Deleted | SideNow::LeftWindow => &rec.base,
    }
}

/// The version of a side: what was read, or the recorded one when it was not listed.
pub(super) fn version_now<'a, T>(now: &SideNow<'a, T>, rec: &'a SideRecord<T>) -> &'a Version {
    match now {
        SideNow::Present(r) => &r.version,
        SideNow::Unchanged | SideNow::Unknown | SideNow::Deleted | SideNow::LeftWindow => {
            &rec.version
        }
    }
}

/// Whether a side holds exactly what was recorded (same version, same content).
pub(super) fn untouched<T: PartialEq>(now: &SideNow<'_, T>, rec: &SideRecord<T>) -> bool {
    match now {
        SideNow::Unchanged | SideNow::Unknown => true,
        SideNow::Present(r) => r.version == rec.version && r.item == rec.base,
        SideNow::Deleted | SideNow::LeftWindow => false,
    }
}

/// When a side says the item was last modified (only a listed item says).
pub(super) fn modified<T>(now: &SideNow<'_, T>) -> Option<DateTime<Utc>> {
    match now {
        SideNow::Present(r) => r.modified,
        SideNow::Unchanged | SideNow::Unknown | SideNow::Deleted | SideNow::LeftWindow => None,
    }
}
