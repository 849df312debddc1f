//! [`Service`]: every tenant `serve` runs, their endpoint and their loops, until stopped.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use tracing::Instrument as _;

use super::endpoint::{Tenants, router};
use super::tenant::TenantPush;
use crate::config::Config;
use crate::store::ServiceStore;

/// The tenants `serve` runs.
#[derive(Debug)]
pub struct Service {
    tenants: Tenants,
    /// Routes served beside the notification endpoints (the status page and `/metrics` when
    /// an admin token protects them).
    extra: Option<axum::Router>,
}

impl Service {
    /// The tenants of `config` (or only `only`), their state in `store`.
    ///
    /// # Errors
    /// An unknown tenant name, `serve.public_url` not set, a client that cannot be built, or
    /// a state file that cannot keep the push secrets.
    pub async fn new(
        config: &Config,
        only: Option<&str>,
        store: &Arc<dyn ServiceStore>,
    ) -> anyhow::Result<Self> {
        let mut tenants = BTreeMap::new();
        for t in config.select(only)? {
            let push = TenantPush::new(t, &config.serve, &config.admin, store.clone())
                .await
                .with_context(|| format!("tenant `{}`", t.name))?;
            tenants.insert(t.name.clone(), Arc::new(push));
        }
        Ok(Self {
            tenants: Tenants(tenants),
            extra: None,
        })
    }

    /// Every tenant this service runs.
    #[must_use]
    pub fn tenants(&self) -> Vec<Arc<TenantPush>> {
        self.tenants.0.values().cloned().collect()
    }

    /// Also serves `routes` on the notification listener.
    #[must_use]
    pub fn with_routes(mut self, routes: axum::Router) -> Self {
        self.extra = Some(routes);
        self
    }

    /// The tenant called `name`.
    #[must_use]
    pub fn tenant(&self, name: &str) -> Option<Arc<TenantPush>> {
        self.tenants.0.get(name).cloned()
    }

    /// Serves the endpoint on `listener` and runs every tenant's loop until `stop` resolves;
    /// then lets each loop finish the write under way.
    ///
    /// # Errors
    /// When the endpoint fails.
    pub async fn run(
        &self,
        listener: tokio::net::TcpListener,
        stop: impl std::future::Future<Output = ()>,
    ) -> anyhow::Result<()> {
        for t in self.tenants.0.values() {
            tracing::info!(tenant = %t.name(), graph = %t.graph_url(false), raynet = %t.webhook_url(), "endpoint");
        }
        let stopping = Arc::new(AtomicBool::new(false));
        let (stopped_tx, stopped_rx) = tokio::sync::watch::channel(false);
        let mut server_stop = stopped_rx.clone();
        let mut app = router(self.tenants.clone());
        if let Some(extra) = &self.extra {
            app = app.merge(extra.clone());
        }
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = server_stop.changed().await;
                })
                .await
        });
        // The tenants' loops run on this task (they end only when stopped).
        let workers = futures::future::join_all(self.tenants.0.values().map(|t| {
            // The requests of the tenant's loop are counted for it (`/metrics`).
            let span = crate::observe::requests::tenant_span(t.name());
            t.clone()
                .run(stopping.clone(), stopped_rx.clone())
                .instrument(span)
        }));
        tokio::pin!(workers);
        tokio::select! {
            _ = &mut workers => {}
            () = stop => {
                stopping.store(true, Ordering::SeqCst);
                let _ = stopped_tx.send(true);
                workers.await;
            }
        }
        let _ = stopped_tx.send(true);
        server
            .await
            .context("the endpoint stopped")?
            .context("the endpoint failed")
    }
}
