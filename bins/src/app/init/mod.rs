//! `init`: the seed's sign-up form as a terminal dialogue. Each step asks its questions (or
//! takes the answers given as flags and environment variables), checks them against the
//! service at once, and on a problem says what is wrong and lets the user fix the answer
//! (interactive) or stops with exit code 78 (a wrong answer) or 1 (a service unreachable).
//!
//! | file | holds |
//! |---|---|
//! | `mod.rs` | [`init`]: the steps in order, and `run_init`, the command |
//! | `prompt.rs` | [`Prompter`]: [`TerminalPrompter`] (dialoguer), [`ScriptedPrompter`] |
//! | `ask.rs` | one run's questions: given answers, defaults, unattended mode, retries |
//! | `microsoft.rs` | 1. the app (consent link, token, a first call); Graph errors as answers |
//! | `credential.rs` | 1. how the app signs in: secret, certificate (thumbprint) or token file |
//! | `consent.rs` | 1. waiting for admin consent: the permissions a fresh token carries |
//! | `graph_errors.rs` | what a Graph error means for the answers (key at fault, permission) |
//! | `group.rs` | 2. the group: picked by typing part of its name (counts shown), or typed |
//! | `raynet.rs` | 3. instance (from a pasted address), user, API key: one request |
//! | `modes.rs` | 4. the modes, each with one sentence and its default |
//! | `write.rs` | 5. the config (no secret), the owner-only secrets file, loading it back |
//!
//! After writing, `init` runs `check` (`check.rs`) on what it wrote, and offers (interactive)
//! or prints (unattended) a dry run of the first round.

mod ask;
mod consent;
mod credential;
mod graph_errors;
mod group;
mod microsoft;
mod modes;
mod prompt;
mod raynet;
mod write;

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

pub use microsoft::admin_consent_url;
pub use prompt::{Prompter, ScriptedPrompter, TerminalPrompter, Waited};
pub use raynet::instance_from;
pub use write::{API_KEY_VAR, CLIENT_SECRET_VAR, PKCS12_PASSWORD_VAR};

use crate::cli::{InitArgs, exit};
use crate::config::{Config, Secret};

/// The secrets `init` may be given through the environment (never as flags).
#[derive(Clone, Debug, Default)]
pub struct GivenSecrets {
    /// The Microsoft app's client secret (`RAYNET_SYNC_CLIENT_SECRET`).
    pub client_secret: Option<Secret>,
    /// The Raynet API key (`RAYNET_SYNC_RAYNET_API_KEY`).
    pub raynet_api_key: Option<Secret>,
    /// The password of the app's PKCS#12 certificate file (`RAYNET_SYNC_PKCS12_PASSWORD`).
    pub pkcs12_password: Option<Secret>,
}

impl GivenSecrets {
    /// The secrets in the process environment.
    #[must_use]
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().map(Secret::new);
        Self {
            client_secret: var(credential::CLIENT_SECRET.env),
            raynet_api_key: var(raynet::API_KEY.env),
            pkcs12_password: var(credential::PKCS12_PASSWORD.env),
        }
    }
}

/// `init` as the binary runs it: the terminal's prompts, unless `--yes` or standard input is
/// not a terminal; lines to standard output.
pub(super) async fn run_init(config: &Path, args: &InitArgs) -> anyhow::Result<ExitCode> {
    let unattended = args.yes || !std::io::IsTerminal::is_terminal(&std::io::stdin());
    let secrets = GivenSecrets::from_env();
    init(
        config,
        args,
        &secrets,
        &mut TerminalPrompter,
        unattended,
        &mut std::io::stdout(),
    )
    .await
}

/// Runs the five steps, writes `config` and its secrets file, checks them, and offers a dry
/// run. `unattended`: nothing is asked (`prompter` is not used).
///
/// # Errors
/// A wrong or missing answer when unattended, or one the user gave up fixing: a
/// [`crate::config::ConfigError`] naming the config key (exit 78); a service that cannot be
/// reached (exit 1); an existing config or secrets file without `--force`.
pub async fn init(
    config: &Path,
    args: &InitArgs,
    secrets: &GivenSecrets,
    prompter: &mut dyn Prompter,
    unattended: bool,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let secrets_file = write::secrets_path(config, args.secrets_file.as_deref());
    if !args.force {
        for existing in [config, secrets_file.as_path()] {
            if existing.exists() {
                anyhow::bail!(
                    "{} exists: init does not overwrite it (use --force to replace it, or \
                     --config for another file)",
                    existing.display()
                );
            }
        }
    }
    let mut s = ask::Session::new(prompter, out, unattended, config.to_owned());
    s.say(format!(
        "raynet-sync init: writes {} and {} (answers can also be flags and variables: \
         raynet-sync init --help)",
        config.display(),
        secrets_file.display()
    ));
    let given = credential::Given::of(
        args,
        secrets.client_secret.as_ref(),
        secrets.pkcs12_password.as_ref(),
    );
    let ms = microsoft::app(&mut s, args, given).await?;
    let group = group::group(&mut s, args, &ms).await?;
    let raynet = raynet::raynet(&mut s, args, secrets.raynet_api_key.as_ref()).await?;
    let modes = loop {
        let modes = modes::modes(&mut s, args)?;
        let probe = match group.members.first() {
            Some(m) if modes.contacts() => microsoft::probe_contacts(&mut s, &ms, m).await,
            _ => Ok(()),
        };
        match probe {
            Ok(()) => {
                s.step_done();
                break modes;
            }
            Err(p) => s.retry_or_fail(p)?,
        }
    };
    let tenant_name = args
        .tenant_name
        .clone()
        .unwrap_or_else(|| raynet.instance.clone());
    let answers = write::Answers {
        tenant_name,
        ms: &ms,
        group: &group,
        raynet: &raynet,
        modes: &modes,
    };
    let loaded = write::write(&mut s, &answers, &secrets_file, args.force)?;
    drop(answers);
    finish(&mut s, &loaded, config, &secrets_file).await
}

/// `check` on what was written, then the dry run: offered (interactive) or printed.
async fn finish(
    s: &mut ask::Session<'_>,
    loaded: &Config,
    config: &Path,
    secrets_file: &Path,
) -> anyhow::Result<ExitCode> {
    s.say("\nChecking it as `raynet-sync check` does:");
    let tenants: Vec<_> = loaded.tenants.iter().collect();
    let mut lines = Vec::new();
    let ok = super::check::check_tenants(loaded, &tenants, &mut lines).await?;
    s.say(String::from_utf8_lossy(&lines).trim_end());
    if !ok {
        return Ok(ExitCode::from(exit::FAILURE));
    }
    let command = write::dry_run_command(config, secrets_file);
    if s.confirm(
        "Show the first round's plan now (a dry run: nothing is changed)?",
        true,
        false,
    )? {
        dry_run(s, loaded).await?;
    }
    s.say(format!(
        "\nDone. The first round's plan, changing nothing:\n  {command}\nthen `run` (or `serve`) \
         without --dry-run."
    ));
    Ok(ExitCode::from(exit::SUCCESS))
}

/// One dry round for every tenant of `config`, its plan written out.
async fn dry_run(s: &mut ask::Session<'_>, config: &Config) -> anyhow::Result<()> {
    let store = crate::store::open_store(&config.state).await?;
    for t in &config.tenants {
        let clients = crate::wiring::TenantClients::new(t)?;
        let options = crate::wiring::RoundOptions {
            dry_run: true,
            ..crate::wiring::RoundOptions::default()
        };
        let round = crate::wiring::sync_tenant(
            &clients,
            &*store,
            &t.sync.policy,
            options,
            chrono::Utc::now(),
        )
        .await?;
        for r in &round.reports {
            s.say(r.to_string().trim_end());
        }
    }
    Ok(())
}
