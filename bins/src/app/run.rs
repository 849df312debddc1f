//! `run`: one round for every tenant, or `--watch` to keep going; `--dry-run`, `--json`,
//! `--allow-mass-delete`, `--allow-mass-change`.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tracing::Instrument as _;

use sync_core::Policy;
use sync_core::tenant::{RoundOptions, TenantReport};

use super::report::{exit_code, round_summary};
use super::setup::{load_config, shutdown_signal};
use crate::cli::{RunArgs, exit};
use crate::config::TenantConfig;
use crate::observe::admin::Admin;
use crate::store::{ServiceStore, open_store};

/// What `run` was asked to do, beyond the config.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Plan only: write nothing.
    pub dry_run: bool,
    /// Print reports as JSON.
    pub json: bool,
    /// Let the mass-deletion guard through for this run.
    pub allow_mass_delete: bool,
    /// Let the mass time-shift guard through for this run (not the mass-deletion guard).
    pub allow_mass_change: bool,
}

impl From<&RunArgs> for RunOptions {
    fn from(a: &RunArgs) -> Self {
        Self {
            dry_run: a.dry_run,
            json: a.json,
            allow_mass_delete: a.allow_mass_delete,
            allow_mass_change: a.allow_mass_change,
        }
    }
}

/// The policy a tenant's rounds follow in this run (the config's, with `--allow-mass-delete`
/// and `--allow-mass-change`). Each flag opens its own guard only: a run allowed to move many
/// events is not thereby allowed to delete many.
#[must_use]
pub fn policy_for(tenant: &TenantConfig, opts: &RunOptions) -> Policy {
    let mut policy = tenant.sync.policy.clone();
    policy.delete_guard.allow = opts.allow_mass_delete;
    policy.shift_guard.allow = opts.allow_mass_change;
    policy
}

/// Runs the rounds `args` ask for and says how the process should exit.
pub(super) async fn run_rounds(config: &Path, args: &RunArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(config)?;
    let tenants = config.select(args.tenant.as_deref())?;
    let store = open_store(&config.state).await?;
    let opts = RunOptions::from(args);
    // Ctrl-C or SIGTERM: finish the write under way, then stop; a second one stops at once.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (stopped_tx, mut stopped_rx) = tokio::sync::watch::channel(false);
    {
        let stop = stop.clone();
        tokio::spawn(async move {
            shutdown_signal().await;
            stop.store(true, std::sync::atomic::Ordering::SeqCst);
            let _ = stopped_tx.send(true);
            eprintln!("raynet-sync: stopping after the write under way (again to stop at once)");
            shutdown_signal().await;
            std::process::exit(130);
        });
    }
    // `--watch` with `[admin] bind`: the status page's figures, /metrics and health.
    if args.watch {
        if let Some(bind) = config.admin.bind {
            let admin = Arc::new(Admin {
                store: store.clone(),
                tenants: Vec::new(),
                tenant_names: tenants.iter().map(|t| t.name.clone()).collect(),
                token: config.admin.token.clone(),
            });
            let listener = tokio::net::TcpListener::bind(bind)
                .await
                .with_context(|| format!("admin.bind: cannot listen on {bind}"))?;
            let local = listener.local_addr().unwrap_or(bind);
            tracing::info!(bind = %local, "the status page, /metrics and health");
            let mut admin_stop = stopped_rx.clone();
            tokio::spawn(async move {
                let stop = async move {
                    let _ = admin_stop.changed().await;
                };
                if let Err(e) = crate::observe::admin::serve(listener, admin, stop).await {
                    tracing::warn!(error = %e, "the admin endpoint stopped");
                }
            });
        }
    }
    // One pause for all tenants: the shortest they ask for.
    let interval = tenants
        .iter()
        .map(|t| t.sync.interval)
        .min()
        .unwrap_or(Duration::from_secs(crate::config::DEFAULT_INTERVAL_SECONDS));
    // One pair of clients per tenant for the whole run: `--watch` rounds share their tokens,
    // the group's membership (for `membership_refresh_seconds`) and the deletion scan's cost.
    let clients: Vec<anyhow::Result<crate::wiring::TenantClients>> = tenants
        .iter()
        .map(|t| crate::wiring::TenantClients::new(t))
        .collect();
    loop {
        let mut reports = Vec::new();
        let mut tenant_failed = false;
        for (tenant, clients) in tenants.iter().zip(&clients) {
            if stop.load(std::sync::atomic::Ordering::SeqCst) {
                break;
            }
            let round = match clients {
                Ok(clients) => {
                    // The round's requests are counted for the tenant (`/metrics`).
                    sync_tenant(tenant, clients, &*store, &opts, &stop)
                        .instrument(crate::observe::requests::tenant_span(&tenant.name))
                        .await
                }
                Err(e) => Err(anyhow::anyhow!("{e:#}")),
            };
            match round {
                Ok(round) => {
                    if !opts.dry_run {
                        crate::observe::after_round(
                            &*store,
                            &tenant.name,
                            &round,
                            config.admin.audit_days,
                        )
                        .await;
                    }
                    for f in &round.findings {
                        if !opts.json {
                            println!("{}: note: {f}", tenant.name);
                        }
                    }
                    for e in &round.member_failures {
                        eprintln!("{}: error: {e}", tenant.name);
                        tenant_failed = true;
                    }
                    reports.extend(round.reports);
                }
                Err(e) => {
                    if !opts.dry_run {
                        crate::observe::metrics::global().observe_round_error(&tenant.name);
                    }
                    // One tenant's failure never stops the others.
                    eprintln!("raynet-sync: tenant `{}`: {e:#}", tenant.name);
                    tenant_failed = true;
                }
            }
        }
        for r in &reports {
            if opts.json {
                println!("{}", round_summary(r));
            } else {
                print!("{r}");
            }
        }
        let code = if tenant_failed {
            exit::PARTIAL_FAILURE
        } else {
            exit_code(&reports)
        };
        if !args.watch || stop.load(std::sync::atomic::Ordering::SeqCst) {
            return Ok(ExitCode::from(code));
        }
        tracing::info!(seconds = interval.as_secs(), "next round after a pause");
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            _ = stopped_rx.changed() => {
                tracing::info!("asked to stop; stopping");
                return Ok(ExitCode::from(code));
            }
        }
    }
}

/// One round for every member of `tenant` (each recorded in `store` unless a dry run).
async fn sync_tenant(
    tenant: &TenantConfig,
    clients: &crate::wiring::TenantClients,
    store: &dyn ServiceStore,
    opts: &RunOptions,
    stop: &std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> anyhow::Result<TenantReport> {
    // `serve` workers holding this tenant's members: a round here would sync them a second
    // time at once (a dry run writes nothing and may go ahead).
    if !opts.dry_run {
        let now = chrono::Utc::now();
        let prefix = format!("worker:{}:", tenant.name);
        let workers: Vec<String> = store
            .leases()
            .await?
            .into_iter()
            .filter(|l| l.name.starts_with(&prefix) && l.expires_at > now)
            .map(|l| l.holder)
            .collect();
        anyhow::ensure!(
            workers.is_empty(),
            "`serve` worker(s) {} sync this tenant now: stop them, or let them do the rounds \
             (`run --dry-run` shows a plan without writing)",
            workers.join(", ")
        );
    }
    let policy = policy_for(tenant, opts);
    let progress = !opts.json && std::io::IsTerminal::is_terminal(&std::io::stderr());
    crate::wiring::sync_tenant(
        clients,
        store,
        &policy,
        RoundOptions {
            dry_run: opts.dry_run,
            stop: Some(stop.clone()),
            progress: progress.then(crate::wiring::progress_bar),
            ..RoundOptions::default()
        },
        chrono::Utc::now(),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn allow_flags_reach_the_policy() {
        let env = |_: &str| Ok("SECRET-VALUE-123".to_owned());
        let c = Config::from_toml(Config::example(), Path::new("c.toml"), &env).unwrap();
        let t = &c.tenants[0];
        assert!(!policy_for(t, &RunOptions::default()).delete_guard.allow);
        let opts = RunOptions {
            allow_mass_delete: true,
            ..RunOptions::default()
        };
        assert!(policy_for(t, &opts).delete_guard.allow);
        assert!(!policy_for(t, &opts).shift_guard.allow);
        let opts = RunOptions {
            allow_mass_change: true,
            ..RunOptions::default()
        };
        let p = policy_for(t, &opts);
        assert!(
            p.shift_guard.allow && !p.delete_guard.allow,
            "each flag its own guard"
        );
        assert!(!super::super::check::tenant_line(t).contains("SECRET-VALUE-123"));
    }
}
