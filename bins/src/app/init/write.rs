//! Step 5: the config file (no secret in it: `{ env = "..." }` references) and the secrets
//! file beside it (`NAME=value` lines, owner-only), loaded back as `run` would load them, then
//! `check` and a dry run of the first round.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::ask::Session;
use super::credential::Chosen;
use super::group::PickedGroup;
use super::microsoft::Microsoft;
use super::modes::Modes;
use super::raynet::Raynet;
use crate::config::{Config, Secret};

/// The variable the written config reads the Raynet API key from.
pub const API_KEY_VAR: &str = "RAYNET_API_KEY";
/// The variable the written config reads the Microsoft client secret from.
pub const CLIENT_SECRET_VAR: &str = "MS_CLIENT_SECRET";
/// The variable the written config reads a PKCS#12 certificate's password from.
pub const PKCS12_PASSWORD_VAR: &str = "MS_PKCS12_PASSWORD";

/// Everything `init` learned, ready to be written.
pub(super) struct Answers<'a> {
    pub(super) tenant_name: String,
    pub(super) ms: &'a Microsoft,
    pub(super) group: &'a PickedGroup,
    pub(super) raynet: &'a Raynet,
    pub(super) modes: &'a Modes,
}

/// The secrets file of `config` unless one is given: `<config stem>.secrets.env` beside it.
pub(super) fn secrets_path(config: &Path, given: Option<&Path>) -> PathBuf {
    if let Some(p) = given {
        return p.to_owned();
    }
    let stem = config.file_stem().map_or_else(
        || "raynet-sync".into(),
        |s| s.to_string_lossy().into_owned(),
    );
    config.with_file_name(format!("{stem}.secrets.env"))
}

/// A TOML string literal.
fn q(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// The credential's line of `[tenant.microsoft]` (a certificate's thumbprint in a comment
/// above it): the secret or password as `{ env = "..." }`, a key file as `{ file = "..." }`.
fn credential_toml(c: &Chosen) -> String {
    let path = |p: &Path| q(&p.to_string_lossy());
    let thumbprint = c.thumbprint().map_or_else(String::new, |t| {
        format!("# the certificate's SHA-1 thumbprint: {t}\n")
    });
    let line = match c {
        Chosen::Secret(_) => format!("client_secret = {{ env = {} }}", q(CLIENT_SECRET_VAR)),
        Chosen::Pem {
            certificate,
            key: None,
            ..
        } => format!("certificate = {{ path = {} }}", path(certificate)),
        Chosen::Pem {
            certificate,
            key: Some(key),
            ..
        } => format!(
            "certificate = {{ path = {}, key = {{ file = {} }} }}",
            path(certificate),
            path(key)
        ),
        Chosen::Pkcs12 { file, .. } => format!(
            "certificate = {{ pkcs12 = {}, password = {{ env = {} }} }}",
            path(file),
            q(PKCS12_PASSWORD_VAR)
        ),
        Chosen::Federated { token_file } => {
            format!("federated = {{ token_file = {} }}", path(token_file))
        }
    };
    format!("{thumbprint}{line}")
}

/// The variable the credential's secret goes to, if it has one.
fn credential_var(c: &Chosen) -> Option<(&'static str, &Secret)> {
    let var = match c {
        Chosen::Secret(_) => CLIENT_SECRET_VAR,
        Chosen::Pkcs12 { .. } => PKCS12_PASSWORD_VAR,
        Chosen::Pem { .. } | Chosen::Federated { .. } => return None,
    };
    c.secret().map(|s| (var, s))
}

/// The config file's text: every answer, the secrets as `{ env = "..." }`.
pub(super) fn config_toml(a: &Answers<'_>, state_path: &str) -> String {
    let optional = |key: &str, value: Option<&String>| {
        value.map_or_else(String::new, |v| format!("{key} = {}\n", q(v)))
    };
    format!(
        r#"# raynet-sync configuration, written by `raynet-sync init`.
# Every key and its default: bins/raynet-sync.example.toml (README, "Configuration").
# No secret is in this file: they are read from the environment (the secrets file beside it).

state_path = {state}

[[tenant]]
name = {name}

[tenant.raynet]
instance = {instance}
user = {user}
api_key = {{ env = {key_var} }}
{raynet_base}# time_zone = "Europe/Prague"

[tenant.microsoft]
tenant_id = {tenant}
client_id = {client}
{credential}
# the group {group_name}
group = {group}
{graph_base}{authority}
[tenant.sync]
mode = {mode}
private_events = {private}
completed_events = {completed}
outlook_deletes = {deletes}
"#,
        state = q(state_path),
        name = q(&a.tenant_name),
        instance = q(&a.raynet.instance),
        user = q(a.raynet.user.as_str()),
        key_var = q(API_KEY_VAR),
        raynet_base = optional("base_url", a.raynet.base_url.as_ref()),
        tenant = q(&a.ms.tenant_id),
        client = q(&a.ms.client_id),
        credential = credential_toml(&a.ms.credential),
        group_name = q(a.group.group.display_name.as_deref().unwrap_or_default()),
        group = q(&a.group.group.id),
        graph_base = optional("graph_base_url", a.ms.graph_base_url.as_ref()),
        authority = optional("authority", a.ms.authority.as_ref()),
        mode = q(&a.modes.mode),
        private = q(&a.modes.private_events),
        completed = q(&a.modes.completed_events),
        deletes = q(&a.modes.outlook_deletes),
    )
}

/// The secrets file's text: `NAME=value` lines, as systemd's `EnvironmentFile=`, `podman
/// --env-file` and `set -a; . FILE` read them.
pub(super) fn secrets_env(a: &Answers<'_>) -> anyhow::Result<Secret> {
    let mut text = String::from(
        "# raynet-sync secrets, written by `raynet-sync init`. Keep this file owner-only.\n",
    );
    let credential = credential_var(&a.ms.credential);
    for (var, secret) in std::iter::once((API_KEY_VAR, &a.raynet.api_key)).chain(credential) {
        let v = secret.expose();
        if v.chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\'' || c == '"')
        {
            anyhow::bail!(
                "the value of {var} holds white space or quotes: it cannot go into an environment file"
            );
        }
        text = text + var + "=" + v + "\n";
    }
    Ok(Secret::new(text))
}

/// Writes `text` to `path`: new (or, with `force`, replaced); owner-only when `private`.
pub(super) fn write_file(
    path: &Path,
    text: &str,
    private: bool,
    force: bool,
) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    if private {
        // A replaced file keeps its old mode: make it owner-only before writing.
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot make {} owner-only", path.display()))?;
    }
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Step 5: writes both files and loads the config back (with the secrets just written as its
/// environment, the way the service will see them).
pub(super) fn write(
    s: &mut Session<'_>,
    a: &Answers<'_>,
    secrets: &Path,
    force: bool,
) -> anyhow::Result<Config> {
    s.say("\n5. Writing the configuration");
    let config = s.config.clone();
    let stem = config.file_stem().map_or_else(
        || "raynet-sync".into(),
        |s| s.to_string_lossy().into_owned(),
    );
    let text = config_toml(a, &format!("{stem}.db"));
    let credential = credential_var(&a.ms.credential);
    let env = |name: &str| match (name, credential) {
        (API_KEY_VAR, _) => Ok(a.raynet.api_key.expose().to_owned()),
        (other, Some((var, secret))) if other == var => Ok(secret.expose().to_owned()),
        (other, _) => std::env::var(other),
    };
    // Loaded before anything is written: a file `run` would refuse is never left behind.
    let loaded = Config::from_toml(&text, &config, &env)?;
    write_file(&config, &text, false, force)?;
    write_file(secrets, secrets_env(a)?.expose(), true, force)?;
    s.say(format!("  wrote {} (no secret in it)", config.display()));
    let vars = credential.map_or_else(
        || API_KEY_VAR.to_owned(),
        |(var, _)| format!("{API_KEY_VAR} and {var}"),
    );
    s.say(format!(
        "  wrote {} (owner-only): {vars}; give it to the service as its environment (systemd \
         EnvironmentFile=, podman --env-file, or `set -a; . {}; set +a` in a shell)",
        secrets.display(),
        secrets.display()
    ));
    Ok(loaded)
}

/// The command that shows the first round's plan, changing nothing.
pub(super) fn dry_run_command(config: &Path, secrets: &Path) -> String {
    // `. NAME` without a slash searches PATH: say `./NAME`.
    let secrets =
        if secrets.is_relative() && secrets.parent().is_none_or(|p| p.as_os_str().is_empty()) {
            Path::new(".").join(secrets)
        } else {
            secrets.to_owned()
        };
    format!(
        "set -a; . {}; set +a; raynet-sync --config {} run --dry-run",
        secrets.display(),
        config.display()
    )
}
