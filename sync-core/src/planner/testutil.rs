//! Helpers shared by the planner's unit tests: a fixed clock, listed items and recorded sides
//! built by hand.

use chrono::{DateTime, TimeZone, Utc};

use crate::ids::{PairId, RemoteId, Side, Version};
use crate::item::SyncItem;
use crate::plan::{Plan, Write};
use crate::provider::Remote;
use crate::state::{PairRecord, SideRecord, StoredState};

/// The tests' clock.
pub(super) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap()
}

/// An item listed under `id` at `version`.
pub(super) fn remote<T>(id: &str, version: &str, item: T) -> Remote<T> {
    Remote {
        id: RemoteId::new(id).unwrap(),
        version: Version::new(version).unwrap(),
        modified: None,
        item,
        key: None,
    }
}

/// A recorded side `id` at version `v1` with `base`.
pub(super) fn side<T>(id: &str, base: T) -> SideRecord<T> {
    SideRecord {
        id: RemoteId::new(id).unwrap(),
        version: Version::new("v1").unwrap(),
        base,
    }
}

/// How many creates a plan holds.
pub(super) fn creates<T: SyncItem>(plan: &Plan<T>) -> usize {
    plan.steps
        .iter()
        .flat_map(|s| &s.writes)
        .filter(|w| matches!(w, Write::Create { .. }))
        .count()
}

/// A state of one pair (store id 1) linking Raynet's `"1"` (base `raynet`) with Outlook's
/// `"A"` (base `outlook`), made from Raynet.
pub(super) fn one_pair<T>(raynet: T, outlook: T) -> StoredState<T> {
    let mut state = StoredState::default();
    state.pairs.insert(
        PairId::from_store(1),
        PairRecord {
            raynet: Some(side("1", raynet)),
            outlook: Some(side("A", outlook)),
            origin: Side::Raynet,
        },
    );
    state
}
