//! The audit trail: every write a round made, with when, whose, which item on each side, which
//! fields changed from what to what, and which rule decided (the rounds' [`AuditEntry`]s, kept
//! by the store's [`AuditTrail`](crate::store::AuditTrail)). Entries older than `audit_days`
//! are pruned, at most once an hour per process. `raynet-sync explain` reads them back.
//!
//! [`AuditEntry`]: sync_core::AuditEntry

use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::Utc;
use sync_core::tenant::TenantReport;

use crate::store::ServiceStore;

/// How often a process prunes the trail at most.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// When this process last pruned the trail.
static LAST_PRUNE: Mutex<Option<Instant>> = Mutex::new(None);

/// Records the writes of `report` in `store` and prunes entries older than `keep_days`. Never
/// fails: a write to the trail that fails is logged.
pub async fn record(store: &dyn ServiceStore, tenant: &str, report: &TenantReport, keep_days: u32) {
    let now = Utc::now();
    if report.reports.iter().any(|r| !r.audit.is_empty()) {
        match store.record_audit(tenant, now, &report.reports).await {
            Ok(kept) => tracing::debug!(tenant, kept, "audit trail recorded"),
            Err(e) => {
                tracing::warn!(tenant, error = %format!("{:#}", anyhow::Error::new(e)), "the round's writes cannot be kept in the audit trail");
            }
        }
    }
    if prune_due(Instant::now()) {
        let before = now - chrono::Duration::days(i64::from(keep_days));
        match store.prune_audit(before).await {
            Ok(gone) => tracing::debug!(gone, keep_days, "audit trail pruned"),
            Err(e) => {
                tracing::warn!(error = %format!("{:#}", anyhow::Error::new(e)), "the audit trail cannot be pruned");
            }
        }
    }
}

/// Whether the trail is due for pruning at `now` (the first time, and an hour after the last);
/// if so, notes `now` as the last time.
fn prune_due(now: Instant) -> bool {
    let mut last = LAST_PRUNE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match *last {
        Some(at) if now.saturating_duration_since(at) < PRUNE_EVERY => false,
        Some(_) | None => {
            *last = Some(now);
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pruning_is_due_at_most_once_an_hour() {
        let start = Instant::now();
        // Whatever an earlier test did, an hour and a second later it is due.
        let later = start + PRUNE_EVERY + Duration::from_secs(1);
        assert!(prune_due(later));
        assert!(
            !prune_due(later + Duration::from_secs(60)),
            "not twice within the hour"
        );
        assert!(prune_due(later + PRUNE_EVERY), "due again an hour later");
    }
}
