//! Helpers shared by the planner's unit tests: a fixed clock, listed items and recorded sides
//! built by hand.

use chrono::{DateTime, TimeZone, Utc};

use crate::ids::{RemoteId, Version};
use crate::item::SyncItem;
use crate::plan::{Plan, Write};
use crate::provider::Remote;
use crate::state::SideRecord;

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
