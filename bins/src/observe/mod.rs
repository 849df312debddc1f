//! The operator's window: what a round leaves beside its state — the audit trail of its writes
//! ([`audit`], read back by `raynet-sync explain`) and the metrics ([`metrics`], scraped at
//! `/metrics`) — and the admin endpoint ([`admin`]: the status page at `/`, `/metrics`,
//! `/healthz`, `/readyz`).
//!
//! | file | holds |
//! |---|---|
//! | `mod.rs` | [`after_round`]: what every finished tenant round records, wherever it ran |
//! | `audit.rs` | the audit trail: every write with the rule that decided it, kept `audit_days` |
//! | `metrics.rs` | the Prometheus metrics of the process |
//! | `requests.rs` | the tracing layer that counts the API clients' requests for the metrics |
//! | `admin.rs` | the admin router: the status page, `/metrics`, health; the bearer token |
//! | `page.rs` | the status page's model and its HTML |

pub mod admin;
pub mod audit;
pub mod metrics;
pub mod page;
pub mod requests;

use sync_core::tenant::TenantReport;

use crate::store::ServiceStore;

/// Records what a finished round of `tenant` did: its writes in the audit trail (kept
/// `audit_days`), its figures in the metrics. Never fails the round: a write to the trail that
/// fails is logged.
pub async fn after_round(
    store: &dyn ServiceStore,
    tenant: &str,
    report: &TenantReport,
    audit_days: u32,
) {
    audit::record(store, tenant, report, audit_days).await;
    metrics::global().observe_round(tenant, report);
}
