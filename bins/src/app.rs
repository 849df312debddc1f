//! The commands: load the config, open the state store, run, report, choose the exit code.
//!
//! What is wired so far: `status` (complete), and `run` / `check` up to loading and checking
//! the config and opening the state store. Syncing itself, `check`'s remote checks, `demo` and
//! `sandbox` need the Raynet and Graph clients and their fake servers; until those are wired
//! in, they stop with a "not wired yet" error.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use serde::Deserialize as _;
use sync_core::tenant::{RoundOptions, RoundSummary, TenantReport};
use sync_core::{Policy, RoundReport};

use crate::cli::{CheckArgs, Cli, Command, LogFormat, RunArgs, StatusArgs, exit};
use crate::config::{Config, TenantConfig};
use crate::store::{SCHEMA_VERSION, ScopeStatus, SqliteStore};

/// Runs the command `cli` asks for and says how the process should exit.
///
/// # Errors
/// Anything that kept the command from running at all: a bad config (the message names the
/// file and the key), an unusable state file, or a part not wired yet. The binary prints the
/// error chain and exits with [`exit::CONFIG_ERROR`].
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        #[cfg(feature = "fake")]
        Command::Demo => {
            let dir = std::env::temp_dir().join(format!("raynet-sync-demo-{}", std::process::id()));
            let clean = crate::demo::run_demo(&dir).await?;
            Ok(ExitCode::from(if clean {
                exit::SUCCESS
            } else {
                exit::PARTIAL_FAILURE
            }))
        }
        #[cfg(feature = "fake")]
        Command::Sandbox(args) => crate::demo::serve_sandbox(&args, shutdown_signal()).await,
        Command::Status(args) => status(&cli.config, &args),
        Command::Check(args) => check(&cli.config, &args).await,
        Command::Run(args) => run_rounds(&cli.config, &args).await,
    }
}

/// The exit code for an error that kept a command from running: [`exit::CONFIG_ERROR`] when
/// the configuration or the state file is at fault, else [`exit::FAILURE`].
#[must_use]
pub fn error_exit_code(e: &anyhow::Error) -> u8 {
    let config = e
        .chain()
        .any(|c| c.is::<crate::config::ConfigError>() || c.is::<crate::store::StateFileError>());
    if config {
        exit::CONFIG_ERROR
    } else {
        exit::FAILURE
    }
}

/// Starts logging to standard error: `human` or `json` lines, at `info` (`-v` debug, `-vv`
/// trace) unless `RUST_LOG` says otherwise. Does nothing when logging was already started.
pub fn init_tracing(format: LogFormat, verbose: u8) {
    let default = match verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    // An error only means a subscriber is already installed (tests); keep that one.
    let _ = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Loads the config file, or says which file and key are wrong.
fn load_config(path: &Path) -> anyhow::Result<Config> {
    Ok(Config::load(path)?)
}

// ---------------------------------------------------------------------------------------------
// status

fn status(config: &Path, args: &StatusArgs) -> anyhow::Result<ExitCode> {
    let state_path = Config::state_path_of(config)?;
    let scopes: Vec<ScopeStatus> = if state_path.exists() {
        SqliteStore::open(&state_path)?
            .status()
            .with_context(|| format!("cannot read state file {}", state_path.display()))?
    } else {
        // Do not create the file: `status` changes nothing.
        Vec::new()
    };
    if args.json {
        let out = serde_json::json!({
            "state_path": state_path,
            "exists": state_path.exists(),
            "schema_version": SCHEMA_VERSION,
            "scopes": scopes,
        });
        println!("{out}");
    } else {
        print!("{}", status_text(&state_path, state_path.exists(), &scopes));
    }
    Ok(ExitCode::from(exit::SUCCESS))
}

/// The human-readable `status` report.
fn status_text(state_path: &Path, exists: bool, scopes: &[ScopeStatus]) -> String {
    use std::fmt::Write as _;
    let mut out = format!("state file: {}\n", state_path.display());
    if !exists {
        out.push_str("no state file yet: no round has run\n");
        return out;
    }
    if scopes.is_empty() {
        out.push_str("no scope synced yet\n");
        return out;
    }
    for s in scopes {
        let _ = write!(
            out,
            "{}: {} pair(s), {} pending create(s), {} cursor(s)",
            s.scope, s.pairs, s.pending, s.cursors
        );
        match &s.last_round {
            Some(r) => {
                let _ = writeln!(
                    out,
                    "; last round {}: {}",
                    r.finished_at.format("%Y-%m-%d %H:%M:%S UTC"),
                    describe_summary(&r.summary)
                );
            }
            None => out.push_str("; no round recorded\n"),
        }
    }
    out
}

/// One line out of a summary made by [`round_summary`]; anything else is shown as JSON.
fn describe_summary(v: &serde_json::Value) -> String {
    RoundSummary::deserialize(v).map_or_else(|_| v.to_string(), |s| s.to_string())
}

/// The summary of a round, as recorded in the state store and printed by `run --json`.
#[must_use]
pub fn round_summary(report: &RoundReport) -> serde_json::Value {
    serde_json::to_value(RoundSummary::of(report)).unwrap_or_default()
}

/// The exit code for a run that produced `reports`: [`exit::PARTIAL_FAILURE`] when any round
/// had a failure or was stopped by the mass-deletion guard, else [`exit::SUCCESS`].
#[must_use]
pub fn exit_code(reports: &[RoundReport]) -> u8 {
    if reports.iter().all(RoundReport::is_clean) {
        exit::SUCCESS
    } else {
        exit::PARTIAL_FAILURE
    }
}

// ---------------------------------------------------------------------------------------------
// check

async fn check(config: &Path, args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(config)?;
    let tenants = config.select(args.tenant.as_deref())?;
    for t in &tenants {
        println!("{}", tenant_line(t));
    }
    println!(
        "configuration ok: {} ({} tenant(s))",
        config.source.display(),
        tenants.len()
    );
    let mut ok = true;
    for t in &tenants {
        let clients = crate::wiring::TenantClients::new(t)?;
        match crate::wiring::discover_members(&clients).await {
            Ok(m) => {
                println!(
                    "tenant `{}`: credentials ok (Graph and Raynet answered), group {} found, \
                     {} member(s) served",
                    t.name,
                    m.group_id,
                    m.served.len()
                );
                for s in &m.served {
                    println!(
                        "  served: {} ({}), Raynet person {}",
                        s.user.name, s.email, s.person_id
                    );
                }
                for f in &m.findings {
                    println!("  note: {f}");
                }
            }
            Err(e) => {
                ok = false;
                println!("tenant `{}`: FAILED: {e:#}", t.name);
            }
        }
    }
    Ok(ExitCode::from(if ok {
        exit::SUCCESS
    } else {
        exit::FAILURE
    }))
}

/// One line describing a tenant's settings (never a secret).
fn tenant_line(t: &TenantConfig) -> String {
    format!(
        "tenant `{}`: raynet instance `{}` as {} ({}), microsoft tenant {} group {:?}, mode {}, \
         every {} s",
        t.name,
        t.raynet.instance,
        t.raynet.user,
        t.raynet.time_zone,
        t.microsoft.tenant_id,
        t.microsoft.group,
        t.sync.mode,
        t.sync.interval.as_secs()
    )
}

// ---------------------------------------------------------------------------------------------
// run

/// What `run` was asked to do, beyond the config.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Plan only: write nothing.
    pub dry_run: bool,
    /// Print reports as JSON.
    pub json: bool,
    /// Let the mass-deletion guard through for this run.
    pub allow_mass_delete: bool,
}

impl From<&RunArgs> for RunOptions {
    fn from(a: &RunArgs) -> Self {
        Self {
            dry_run: a.dry_run,
            json: a.json,
            allow_mass_delete: a.allow_mass_delete,
        }
    }
}

/// The policy a tenant's rounds follow in this run (the config's, with `--allow-mass-delete`).
#[must_use]
pub fn policy_for(tenant: &TenantConfig, opts: &RunOptions) -> Policy {
    let mut policy = tenant.sync.policy.clone();
    policy.delete_guard.allow = opts.allow_mass_delete;
    policy
}

async fn run_rounds(config: &Path, args: &RunArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(config)?;
    let tenants = config.select(args.tenant.as_deref())?;
    let store = SqliteStore::open(&config.state_path)?;
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
                Ok(clients) => sync_tenant(tenant, clients, &store, &opts, &stop).await,
                Err(e) => Err(anyhow::anyhow!("{e:#}")),
            };
            match round {
                Ok(round) => {
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

/// Resolves on Ctrl-C, or on SIGTERM (how service managers stop a service) on Unix.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// One round for every member of `tenant` (each recorded in `store` unless a dry run).
async fn sync_tenant(
    tenant: &TenantConfig,
    clients: &crate::wiring::TenantClients,
    store: &SqliteStore,
    opts: &RunOptions,
    stop: &std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> anyhow::Result<TenantReport> {
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
        },
        chrono::Utc::now(),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_core::{Collection, Scope, SideCounts};

    fn report() -> RoundReport {
        RoundReport {
            scope: Scope::new("acme", "jana@acme.cz", Collection::Calendar),
            dry_run: false,
            planned_writes: 3,
            created: SideCounts {
                raynet: 1,
                outlook: 2,
            },
            updated: SideCounts::default(),
            deleted: SideCounts::default(),
            recorded: 0,
            recovered: 0,
            conflicts: Vec::new(),
            skipped: Vec::new(),
            failures: Vec::new(),
            guard: None,
            plan: None,
        }
    }

    #[test]
    fn summary_round_trips_into_the_status_line() {
        let r = report();
        let line = describe_summary(&round_summary(&r));
        assert_eq!(
            line,
            "created 1/2 updated 0/0 deleted 0/0 (raynet/outlook), 0 conflict(s), 0 failure(s)"
        );
        assert_eq!(describe_summary(&serde_json::json!({"x": 1})), r#"{"x":1}"#);
    }

    #[test]
    fn failures_make_a_partial_failure() {
        let clean = report();
        let mut failed = report();
        failed.failures.push(sync_core::Failure {
            side: Some(sync_core::Side::Outlook),
            action: "create".into(),
            item: Some("Kickoff".into()),
            error: "unavailable".into(),
            kind: None,
        });
        assert_eq!(exit_code(&[]), exit::SUCCESS);
        assert_eq!(exit_code(std::slice::from_ref(&clean)), exit::SUCCESS);
        assert_eq!(exit_code(&[clean, failed]), exit::PARTIAL_FAILURE);
    }

    #[test]
    fn allow_mass_delete_reaches_the_policy() {
        let env = |_: &str| Ok("SECRET-VALUE-123".to_owned());
        let c = Config::from_toml(Config::example(), Path::new("c.toml"), &env).unwrap();
        let t = &c.tenants[0];
        assert!(!policy_for(t, &RunOptions::default()).delete_guard.allow);
        let opts = RunOptions {
            allow_mass_delete: true,
            ..RunOptions::default()
        };
        assert!(policy_for(t, &opts).delete_guard.allow);
        assert!(!tenant_line(t).contains("SECRET-VALUE-123"));
    }
}
