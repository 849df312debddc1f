//! The process's Prometheus metrics. (Being built.)

use std::sync::OnceLock;

use sync_core::tenant::TenantReport;

/// The metrics of this process.
#[derive(Debug, Default)]
pub struct Metrics {}

/// The process's metrics (one registry per process).
pub fn global() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::default)
}

impl Metrics {
    /// Counts what a finished round of `tenant` did.
    pub fn observe_round(&self, tenant: &str, report: &TenantReport) {
        let _ = (tenant, report);
    }

    /// The metrics in Prometheus' text format, with the figures read from `store` at scrape
    /// time (the members' freshness) brought up to date for `tenants`.
    #[allow(clippy::unused_async)] // Being built: it reads the store.
    pub async fn scrape(
        &self,
        store: &dyn crate::store::ServiceStore,
        tenants: &[String],
    ) -> String {
        let _ = (store, tenants);
        String::new()
    }
}
