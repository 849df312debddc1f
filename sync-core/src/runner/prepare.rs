//! The round's first phase: load the state and resolve the creates a crash left pending
//! (DESIGN §7, no duplicates): each is looked up on its target by its idempotency key and
//! recorded when found, forgotten when not.

use crate::error::SyncError;
use crate::ids::{Scope, Version};
use crate::item::SyncItem;
use crate::state::{SideRecord, StateStore, StoredState};

use super::report::RoundReport;
use super::sides::Sides;

/// Loads the state and resolves creates a crash left pending.
pub(super) async fn prepare<T: SyncItem>(
    scope: &Scope,
    dry_run: bool,
    sides: &Sides<'_, T>,
    store: &dyn StateStore<T>,
    report: &mut RoundReport,
) -> Result<StoredState<T>, SyncError> {
    let state = store.load(scope).await?;
    if dry_run || state.pending.is_empty() {
        return Ok(state);
    }
    for p in &state.pending {
        let Some(side) = sides.get(p.target) else {
            store.resolve_pending(scope, &p.key, None, None).await?;
            continue;
        };
        match side.find_by_key(&p.key).await {
            Ok(Some(found)) if state.find(p.target, &found.id).is_some() => {
                // Already linked (by its sync mark, in a round that ran meanwhile).
                store.resolve_pending(scope, &p.key, None, None).await?;
            }
            Ok(Some(found)) => {
                let mut record = p.record.clone();
                // The base is what we sent, not what is there now: an edit made since
                // then is a change to carry over, not the starting point. The version is
                // not the found one either: that one may already include such an edit,
                // and a write "expecting" it would pass and return the edit as if it were
                // the base (it would never be carried over). A version no side ever holds
                // makes every write wait until the item has been read and merged.
                *record.side_mut(p.target) = Some(SideRecord {
                    id: found.id,
                    version: recovered_version(&found.version),
                    base: p.item.clone(),
                });
                store
                    .resolve_pending(scope, &p.key, p.pair, Some(&record))
                    .await?;
                report.recovered += 1;
            }
            Ok(None) => {
                store.resolve_pending(scope, &p.key, None, None).await?;
            }
            Err(e) => report.fail(
                Some(p.target),
                format!("resolve pending create {}", p.key),
                Some(p.item.label()),
                &e,
            ),
        }
    }
    Ok(store.load(scope).await?)
}

/// The version recorded for an item found again by its idempotency key: one that matches no
/// version the side can hold (so that a write expecting it fails as "changed since") while
/// still naming the version it was found at.
fn recovered_version(found: &Version) -> Version {
    Version::new(format!("recovered:{found}")).unwrap_or_else(|_| found.clone())
}
