//! The command line, exactly as the user typed it (clap derive structs).
//!
//! Nothing here reads the environment beyond clap's own `--config` fallback
//! (`RAYNET_SYNC_CONFIG`): the resolved [`crate::config::Config`] is built after parsing, by
//! [`crate::app::run`].

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Exit codes of the `raynet-sync` binary.
pub mod exit {
    /// Everything went well.
    pub const SUCCESS: u8 = 0;
    /// The command could not run for a reason other than the configuration (for example the
    /// services could not be reached at all). Nothing was synced.
    pub const FAILURE: u8 = 1;
    /// The command ran, but some items or members failed (they are retried next round), or
    /// a guard (mass deletion, mass time shift) stopped a member's round.
    pub const PARTIAL_FAILURE: u8 = 2;
    /// The command line is wrong (sysexits `EX_USAGE`).
    pub const USAGE: u8 = 64;
    /// The configuration is bad, or the state file is unusable (corrupt, or written by a newer
    /// version): nothing was synced (sysexits `EX_CONFIG`).
    pub const CONFIG_ERROR: u8 = 78;
}

/// `raynet-sync`: keeps RAYNET CRM and Microsoft 365 Outlook in step.
///
/// Meetings flow both ways between Raynet and each group member's Outlook calendar; Raynet
/// persons flow one way into an Outlook contact folder.
#[derive(Debug, Parser)]
#[command(
    name = "raynet-sync",
    version,
    about,
    long_about = None,
    after_help = "Exit codes: 0 success; 1 could not run (services unreachable); 2 some items \
                  or members failed (retried next round) or a guard (mass deletion, mass time \
                  shift) stopped a round; 64 bad command line; 78 bad configuration or \
                  unusable state file."
)]
pub struct Cli {
    /// The config file (TOML).
    #[arg(
        long,
        global = true,
        env = "RAYNET_SYNC_CONFIG",
        default_value = "raynet-sync.toml",
        value_name = "PATH"
    )]
    pub config: PathBuf,

    /// How logs are written (to standard error).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,

    /// More log detail (-v debug, -vv trace); `RUST_LOG` overrides it.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Readable lines.
    Human,
    /// One JSON object per line.
    Json,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs a full sync against built-in fake servers with sample data (no config needed).
    #[cfg(feature = "fake")]
    Demo,
    /// Starts the fake Raynet and Graph servers on loopback, to point a config at.
    #[cfg(feature = "fake")]
    Sandbox(SandboxArgs),
    /// Runs one sync round for every tenant (or keeps going with --watch).
    Run(RunArgs),
    /// Runs as a service: receives Graph change notifications and Raynet webhooks and syncs a
    /// change within seconds; polls as a safety net.
    Serve(ServeArgs),
    /// Checks the config, credentials, permissions, the group and user matching.
    Check(CheckArgs),
    /// Shows what the state store knows: pairs, pending creates, last rounds.
    Status(StatusArgs),
    /// Tells an item's history in plain words: each write the sync made to it, which field
    /// came from where, and the rule that decided (from the audit trail).
    Explain(ExplainArgs),
    /// Sets up a tenant step by step: Microsoft 365 (app, consent, group), Raynet (instance,
    /// user, API key), the modes; writes the config (`--config`) and a secrets file, then
    /// checks them. Every answer can also be given by a flag or an environment variable.
    Init(Box<InitArgs>),
    /// Works on the state store itself: `state copy` moves a state file into PostgreSQL.
    #[command(subcommand)]
    State(StateCommand),
}

/// `state` subcommands.
#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// Copies everything a state store keeps (pairs, cursors, pending creates, waiting
    /// notifications, subscriptions, push secrets) into another, so that a move from the
    /// SQLite file to PostgreSQL needs no first round of re-linking. Refuses a target that
    /// already holds a tenant being copied. Stop `run`/`serve` first.
    Copy(StateCopyArgs),
}

/// `state copy` options. Each store is an SQLite file's path or a `postgres://` URL.
#[derive(Debug, Args)]
pub struct StateCopyArgs {
    /// The store to copy from (e.g. the `state_path` file).
    #[arg(long, value_name = "PATH|URL")]
    pub from: String,
    /// The store to copy into (e.g. `postgres://sync@db.internal/raynet_sync`). Read from
    /// `RAYNET_SYNC_STATE_URL` when not given, so a password need not show in the process list.
    #[arg(
        long,
        env = "RAYNET_SYNC_STATE_URL",
        value_name = "PATH|URL",
        hide_env_values = true
    )]
    pub to: String,
}

/// `sandbox` options.
#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Loopback port of the fake Raynet server (0: any free port).
    #[arg(long, default_value_t = 18080, value_name = "N")]
    pub raynet_port: u16,
    /// Loopback port of the fake Graph server (0: any free port).
    #[arg(long, default_value_t = 18081, value_name = "N")]
    pub graph_port: u16,
    /// The loopback port the ready-made config has `raynet-sync serve` listen on.
    #[arg(long, default_value_t = 18787, value_name = "N")]
    pub serve_port: u16,
    /// Also write the ready-made config to this file.
    #[arg(long, value_name = "PATH")]
    pub write_config: Option<PathBuf>,
}

/// `run` options.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Keep going: a round every `sync.interval_seconds` until interrupted.
    #[arg(long)]
    pub watch: bool,
    /// Print the plan and change nothing (neither side, nor the state store).
    #[arg(long)]
    pub dry_run: bool,
    /// Print the round reports as JSON (one object per line) on standard output.
    #[arg(long)]
    pub json: bool,
    /// Only this tenant.
    #[arg(long, value_name = "NAME")]
    pub tenant: Option<String>,
    /// Let this run's rounds delete more than `sync.max_delete_share` of a member's items.
    #[arg(long)]
    pub allow_mass_delete: bool,
    /// Let this run's rounds move more than `sync.max_shift_share` of a member's events by the
    /// same offset (the time-shift guard; deletions stay under `--allow-mass-delete`).
    #[arg(long)]
    pub allow_mass_change: bool,
}

/// `serve` options.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Only this tenant.
    #[arg(long, value_name = "NAME")]
    pub tenant: Option<String>,
}

/// `check` options.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Only this tenant.
    #[arg(long, value_name = "NAME")]
    pub tenant: Option<String>,
}

/// `init` options: each is an answer `init` would otherwise ask for. With `--yes` (or when
/// standard input is not a terminal) nothing is asked: a missing answer is an error naming its
/// flag and variable, and the modes take their defaults.
///
/// The secrets are never flags (a flag's value shows in the process list): the Microsoft
/// app's client secret is read from `RAYNET_SYNC_CLIENT_SECRET`, a PKCS#12 certificate's
/// password from `RAYNET_SYNC_PKCS12_PASSWORD`, the Raynet API key from
/// `RAYNET_SYNC_RAYNET_API_KEY`, or asked for without echo.
#[derive(Debug, Default, Args)]
pub struct InitArgs {
    /// The Microsoft 365 tenant: its directory (tenant) id or a domain such as
    /// `acme.onmicrosoft.com`.
    #[arg(long, env = "RAYNET_SYNC_TENANT_ID", value_name = "ID")]
    pub tenant_id: Option<String>,
    /// The app registration's application (client) id.
    #[arg(long, env = "RAYNET_SYNC_CLIENT_ID", value_name = "GUID")]
    pub client_id: Option<String>,
    /// How the app signs in: `secret` (a client secret, the default), `certificate` or
    /// `federated` (a token file). Implied by `--certificate`, `--pkcs12` or
    /// `--federated-token-file`.
    #[arg(long, env = "RAYNET_SYNC_CREDENTIAL", value_name = "KIND")]
    pub credential: Option<String>,
    /// The app's certificate, a PEM file (it may hold the private key too).
    #[arg(long, env = "RAYNET_SYNC_CERTIFICATE", value_name = "PATH")]
    pub certificate: Option<PathBuf>,
    /// The certificate's private key, a PEM file (unencrypted), unless the certificate file
    /// holds it. The config refers to the file; the key is never copied.
    #[arg(long, env = "RAYNET_SYNC_CERTIFICATE_KEY", value_name = "PATH")]
    pub certificate_key: Option<PathBuf>,
    /// The app's certificate and key as a PKCS#12 (`.pfx`) file; its password is read from
    /// `RAYNET_SYNC_PKCS12_PASSWORD`.
    #[arg(long, env = "RAYNET_SYNC_PKCS12", value_name = "PATH")]
    pub pkcs12: Option<PathBuf>,
    /// The federated token file a workload platform writes and rotates (default
    /// `$AZURE_FEDERATED_TOKEN_FILE`).
    #[arg(long, env = "RAYNET_SYNC_FEDERATED_TOKEN_FILE", value_name = "PATH")]
    pub federated_token_file: Option<PathBuf>,
    /// The Microsoft 365 group whose members are served: its display name (or the start of
    /// it, when only one group matches) or its object id.
    #[arg(long, env = "RAYNET_SYNC_GROUP", value_name = "NAME")]
    pub group: Option<String>,
    /// The Raynet instance name, or the address of any Raynet page of it
    /// (`https://app.raynet.cz/acme/?view=...` gives `acme`).
    #[arg(long, env = "RAYNET_SYNC_RAYNET_INSTANCE", value_name = "NAME")]
    pub raynet_instance: Option<String>,
    /// The login e-mail of the Raynet user the integration acts as.
    #[arg(long, env = "RAYNET_SYNC_RAYNET_USER", value_name = "EMAIL")]
    pub raynet_user: Option<String>,
    /// What is synced: `meetings`, `contacts` or `both` (default).
    #[arg(long, env = "RAYNET_SYNC_MODE", value_name = "MODE")]
    pub mode: Option<String>,
    /// Private Outlook events: `standard`, `time-blocker` or `skip` (default).
    #[arg(long, env = "RAYNET_SYNC_PRIVATE_EVENTS", value_name = "MODE")]
    pub private_events: Option<String>,
    /// Meetings completed in Raynet: `sync` (default) or `stop`.
    #[arg(long, env = "RAYNET_SYNC_COMPLETED_EVENTS", value_name = "MODE")]
    pub completed_events: Option<String>,
    /// An Outlook deletion: `delete`, `cancel` (default) or `ignore`.
    #[arg(long, env = "RAYNET_SYNC_OUTLOOK_DELETES", value_name = "MODE")]
    pub outlook_deletes: Option<String>,
    /// The tenant's name in the config (default: the Raynet instance name).
    #[arg(long, env = "RAYNET_SYNC_TENANT_NAME", value_name = "NAME")]
    pub tenant_name: Option<String>,
    /// Where the secrets go (default: beside the config, `<name>.secrets.env`; owner-only).
    #[arg(long, value_name = "PATH")]
    pub secrets_file: Option<PathBuf>,
    /// The Graph base URL (default `https://graph.microsoft.com/v1.0/`; the sandbox's fake).
    #[arg(long, env = "RAYNET_SYNC_GRAPH_BASE_URL", value_name = "URL")]
    pub graph_base_url: Option<String>,
    /// The identity platform authority (default `https://login.microsoftonline.com/`).
    #[arg(long, env = "RAYNET_SYNC_AUTHORITY", value_name = "URL")]
    pub authority: Option<String>,
    /// The Raynet API base URL (default `https://app.raynet.cz/api/v2/`).
    #[arg(long, env = "RAYNET_SYNC_RAYNET_BASE_URL", value_name = "URL")]
    pub raynet_base_url: Option<String>,
    /// How long, unattended, to wait for an administrator's consent to the app's permissions
    /// (checked every few seconds) before giving up with exit code 78 (default 300; 0 checks
    /// once).
    #[arg(long, env = "RAYNET_SYNC_CONSENT_WAIT_SECONDS", value_name = "SECONDS")]
    pub consent_wait_seconds: Option<u64>,
    /// How often the app's permissions are checked while waiting for consent (default 3;
    /// interactive, Enter also checks at once).
    #[arg(
        long,
        env = "RAYNET_SYNC_CONSENT_CHECK_SECONDS",
        value_name = "SECONDS"
    )]
    pub consent_check_seconds: Option<u64>,
    /// Ask nothing: take every answer from the flags and the environment, the defaults for
    /// the modes, and fail (exit 78) on a missing or wrong answer.
    #[arg(long)]
    pub yes: bool,
    /// Overwrite an existing config file and secrets file.
    #[arg(long)]
    pub force: bool,
}

/// `explain` options.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The item: its Raynet id, its Outlook id, or (part of) its title or name, any case.
    #[arg(value_name = "ID|TITLE")]
    pub item: String,
    /// Print JSON (the entries found, each with its explanation) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Only this tenant.
    #[arg(long, value_name = "NAME")]
    pub tenant: Option<String>,
}

/// `status` options.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_global_options_after_the_command() {
        let cli = Cli::try_parse_from([
            "raynet-sync",
            "run",
            "--dry-run",
            "--tenant",
            "acme",
            "--config",
            "/etc/rs.toml",
            "-vv",
            "--log-format",
            "json",
        ])
        .unwrap();
        assert_eq!(cli.config, PathBuf::from("/etc/rs.toml"));
        assert_eq!(cli.verbose, 2);
        assert_eq!(cli.log_format, LogFormat::Json);
        let Command::Run(run) = cli.command else {
            panic!("expected run");
        };
        assert!(run.dry_run && !run.watch && !run.allow_mass_delete && !run.allow_mass_change);
        assert_eq!(run.tenant.as_deref(), Some("acme"));
    }
}
