//! `serve`: the always-on service ([`crate::push::Service`]) — the endpoint for Graph change
//! notifications and Raynet webhooks, and one loop per tenant — until Ctrl-C or SIGTERM.

use std::path::Path;
use std::process::ExitCode;

use std::sync::Arc;

use anyhow::Context as _;

use super::setup::{load_config, shutdown_signal};
use crate::cli::{ServeArgs, exit};
use crate::observe::admin::Admin;
use crate::push::Service;
use crate::store::open_store;

/// Serves until asked to stop.
pub(super) async fn serve(config: &Path, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(config)?;
    let store = open_store(&config.state).await?;
    let mut service = Service::new(&config, args.tenant.as_deref(), &store).await?;
    let listener = tokio::net::TcpListener::bind(config.serve.bind)
        .await
        .with_context(|| format!("serve.bind: cannot listen on {}", config.serve.bind))?;
    tracing::info!(bind = %config.serve.bind, "listening for change notifications and webhooks");
    // The operator's window: the status page, /metrics and health on [admin] bind; with a
    // token, the page and /metrics also beside the notification endpoints.
    let admin = Arc::new(Admin {
        store: store.clone(),
        tenants: service.tenants(),
        tenant_names: service
            .tenants()
            .iter()
            .map(|t| t.name().to_owned())
            .collect(),
        token: config.admin.token.clone(),
    });
    if config.admin.token.is_some() {
        service = service.with_routes(crate::observe::admin::page_and_metrics(admin.clone()));
    }
    let admin_bind = config.admin.serve_bind();
    let admin_listener = tokio::net::TcpListener::bind(admin_bind)
        .await
        .with_context(|| format!("admin.bind: cannot listen on {admin_bind}"))?;
    tracing::info!(bind = %admin_bind, "the status page, /metrics and health");
    let (admin_stop, admin_stopped) = tokio::sync::oneshot::channel::<()>();
    let admin_server = tokio::spawn(crate::observe::admin::serve(admin_listener, admin, async {
        let _ = admin_stopped.await;
    }));
    let served = service
        .run(listener, async {
            shutdown_signal().await;
            eprintln!("raynet-sync: stopping after the write under way (again to stop at once)");
            tokio::spawn(async {
                shutdown_signal().await;
                std::process::exit(130);
            });
        })
        .await;
    let _ = admin_stop.send(());
    let _ = admin_server.await;
    served?;
    Ok(ExitCode::from(exit::SUCCESS))
}
