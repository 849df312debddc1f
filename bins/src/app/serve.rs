//! `serve`: the always-on service ([`crate::push::Service`]) — the endpoint for Graph change
//! notifications and Raynet webhooks, and one loop per tenant — until Ctrl-C or SIGTERM.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;

use super::setup::{load_config, shutdown_signal};
use crate::cli::{ServeArgs, exit};
use crate::push::Service;
use crate::store::open_store;

/// Serves until asked to stop.
pub(super) async fn serve(config: &Path, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(config)?;
    let store = open_store(&config.state).await?;
    let service = Service::new(&config, args.tenant.as_deref(), &store).await?;
    let listener = tokio::net::TcpListener::bind(config.serve.bind)
        .await
        .with_context(|| format!("serve.bind: cannot listen on {}", config.serve.bind))?;
    tracing::info!(bind = %config.serve.bind, "listening for change notifications and webhooks");
    service
        .run(listener, async {
            shutdown_signal().await;
            eprintln!("raynet-sync: stopping after the write under way (again to stop at once)");
            tokio::spawn(async {
                shutdown_signal().await;
                std::process::exit(130);
            });
        })
        .await?;
    Ok(ExitCode::from(exit::SUCCESS))
}
