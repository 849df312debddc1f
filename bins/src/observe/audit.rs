//! The audit trail: every write a round made, with when, whose, which item on each side, which
//! fields changed from what to what, and which rule decided. (Being built.)

use sync_core::tenant::TenantReport;

use crate::store::ServiceStore;

/// Records the writes of `report` in `store` and prunes entries older than `keep_days`.
#[allow(clippy::unused_async)] // Being built: it writes to the store.
pub async fn record(store: &dyn ServiceStore, tenant: &str, report: &TenantReport, keep_days: u32) {
    let _ = (store, tenant, report, keep_days);
}
