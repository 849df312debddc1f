//! The read phase: read both sides (from their cursors), then double-check the known items a
//! listing left out (DESIGN §7: a failed or partial read is never a deletion).

use std::collections::HashSet;

use crate::error::ErrorKind;
use crate::ids::{RemoteId, Side};
use crate::item::SyncItem;
use crate::plan::Skipped;
use crate::policy::Policy;
use crate::provider::{Completeness, ReadRequest, ReadSide, SideRead, Window};
use crate::state::{SideRecord, StoredState};

use super::report::RoundReport;

/// Reads one side, normalizing its items; unreadable items are reported as skipped, a failed
/// read as a failure (and planned as a partial read: it deletes nothing).
pub(super) async fn read<T: SyncItem>(
    side: &dyn ReadSide<T>,
    state: &StoredState<T>,
    which: Side,
    window: Option<Window>,
    report: &mut RoundReport,
) -> SideRead<T> {
    let request = ReadRequest {
        window,
        cursor: state.cursors.get(&which).cloned(),
    };
    match side.read(&request).await {
        Ok(mut read) => {
            read.items = std::mem::take(&mut read.items)
                .into_iter()
                .map(|mut r| {
                    r.item = r.item.normalized();
                    r
                })
                .collect();
            for (id, why) in &read.unreadable {
                report.skipped.push(Skipped {
                    side: which,
                    id: id.clone(),
                    label: String::new(),
                    reason: format!("cannot be read: {why}"),
                });
            }
            read
        }
        Err(e) => {
            report.fail(Some(which), "read".into(), None, &e);
            SideRead::failed()
        }
    }
}

/// Checks the known items a complete listing left out, one lookup each: an item that is
/// really gone becomes an explicit deletion, one that still exists (moved out of the window,
/// say) is added to the read, and one that cannot be checked is left alone. With more absences
/// than `limit` nothing is checked (the mass-deletion guard will speak).
pub(super) async fn confirm_absences<T: SyncItem>(
    side: &dyn ReadSide<T>,
    read: &mut SideRead<T>,
    state: &StoredState<T>,
    which: Side,
    limit: usize,
    window: Option<Window>,
) {
    // Items last seen outside the window are left alone by the planner: never look them up.
    let in_scope = |r: &&SideRecord<T>| match (window, r.base.span()) {
        (Some(w), Some((start, end))) => w.overlaps(start, end),
        (None, _) | (_, None) => true,
    };
    if read.completeness == Completeness::Delta {
        if let Some(ids) = read.listed_ids.take() {
            // A known item missing from the id listing is marked deleted (then checked below).
            let all: HashSet<&RemoteId> = ids.iter().collect();
            let listed: HashSet<&RemoteId> = read.items.iter().map(|r| &r.id).collect();
            let missing: Vec<RemoteId> = state
                .pairs
                .values()
                .filter_map(|p| p.side(which))
                .filter(in_scope)
                .filter(|r| !all.contains(&r.id) && !listed.contains(&r.id))
                .map(|r| r.id.clone())
                .collect();
            read.deleted.extend(missing);
        }
    }
    let listed: HashSet<&RemoteId> = read.items.iter().map(|r| &r.id).collect();
    let marked: HashSet<&RemoteId> = read.deleted.iter().collect();
    let absent: Vec<RemoteId> = match read.completeness {
        Completeness::Partial => return,
        // Absent from a complete listing: deleted, or moved out of the window.
        Completeness::Complete => state
            .pairs
            .values()
            .filter_map(|p| p.side(which))
            .filter(in_scope)
            .filter(|r| !listed.contains(&r.id))
            .map(|r| r.id.clone())
            .collect(),
        // A delta's removal marker: deleted, or moved out of the window (Graph says both
        // the same way).
        Completeness::Delta => state
            .pairs
            .values()
            .filter_map(|p| p.side(which))
            .filter(in_scope)
            .filter(|r| marked.contains(&r.id) && !listed.contains(&r.id))
            .map(|r| r.id.clone())
            .collect(),
    };
    if absent.is_empty() || absent.len() > limit {
        return;
    }
    let checked: HashSet<RemoteId> = absent.iter().cloned().collect();
    read.deleted.retain(|id| !checked.contains(id));
    let mut confirmed = Vec::new();
    let mut found = Vec::new();
    for id in absent {
        match side.get(&id).await {
            Ok(None) => confirmed.push(id),
            Ok(Some(item)) => found.push(item),
            Err(e) if e.kind() == ErrorKind::NotFound => confirmed.push(id),
            Err(e) => {
                tracing::info!(%which, %id, error = %e, "cannot confirm a deletion; left alone");
            }
        }
    }
    for mut f in found {
        f.item = f.item.normalized();
        read.items.push(f);
    }
    read.deleted.extend(confirmed);
    read.completeness = Completeness::Delta;
}

/// The most absences [`confirm_absences`] checks: one more than the mass-deletion guard lets a
/// round delete (beyond that the guard speaks), and at most the runner's `verify_limit`.
pub(super) fn verify_budget<T>(
    policy: &Policy,
    verify_limit: usize,
    state: &StoredState<T>,
) -> usize {
    let g = &policy.delete_guard;
    let paired = state.pairs.len();
    let allowed = g.floor.max((g.max_share * paired as f64) as usize) + 1;
    allowed.min(verify_limit)
}
