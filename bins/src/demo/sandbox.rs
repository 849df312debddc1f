//! [`Sandbox`]: both fake servers on loopback, seeded with the [sample data](super::sample),
//! and a config that points `run` at them; the `sandbox` command; and a short table of a
//! member's two calendars for the demo's output.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use graph_client::fake::FakeGraph;
use raynet_client::fake::FakeRaynet;

use super::sample::{INSTANCE, SampleData, seed};
use crate::cli::{SandboxArgs, exit};
use crate::config::{Config, TenantConfig};

/// The environment variable names the sample config reads its secrets from (the demo passes
/// them itself; `sandbox` prints them).
pub const API_KEY_VAR: &str = "RAYNET_SYNC_DEMO_API_KEY";
/// See [`API_KEY_VAR`].
pub const CLIENT_SECRET_VAR: &str = "RAYNET_SYNC_DEMO_CLIENT_SECRET";

/// Both fake servers, seeded with the sample data.
pub struct Sandbox {
    /// The fake Raynet server.
    pub raynet: FakeRaynet,
    /// The fake Graph server.
    pub graph: FakeGraph,
    /// The sample data's ids.
    pub data: SampleData,
}

impl Sandbox {
    /// Starts both fakes on any free loopback ports and seeds them.
    ///
    /// # Errors
    /// When a fake cannot start or the seed data is refused.
    pub async fn start(now: DateTime<Utc>) -> anyhow::Result<Self> {
        Self::start_on(0, 0, now).await
    }

    /// Like [`Sandbox::start`], on fixed loopback ports (`0`: any free port).
    ///
    /// # Errors
    /// When a port cannot be bound or the seed data is refused.
    pub async fn start_on(
        raynet_port: u16,
        graph_port: u16,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Self> {
        let raynet = FakeRaynet::try_start_on(raynet_port)
            .await
            .with_context(|| {
                format!("cannot start the fake Raynet server on 127.0.0.1:{raynet_port}")
            })?;
        let graph = FakeGraph::try_start_on(graph_port).await.with_context(|| {
            format!("cannot start the fake Graph server on 127.0.0.1:{graph_port}")
        })?;
        let data = seed(&raynet, &graph, now)?;
        Ok(Self {
            raynet,
            graph,
            data,
        })
    }

    /// A sandbox over fakes seeded elsewhere (the benchmarks' own data): no sample ids, the
    /// sample's day `today`.
    #[must_use]
    pub fn from_fakes(raynet: FakeRaynet, graph: FakeGraph, today: chrono::NaiveDate) -> Self {
        Self {
            raynet,
            graph,
            data: SampleData {
                today,
                ..SampleData::default()
            },
        }
    }

    /// A config file (TOML) pointing `run` at the fakes; the secrets are read from
    /// [`API_KEY_VAR`] and [`CLIENT_SECRET_VAR`].
    #[must_use]
    pub fn config_toml(&self, state_path: &Path, extra_sync: &str) -> String {
        format!(
            r#"# raynet-sync against the built-in fake servers (loopback only).
state_path = {state:?}

[[tenant]]
name = "demo"

[tenant.raynet]
instance = "{INSTANCE}"
user = "{user}"
api_key = {{ env = "{API_KEY_VAR}" }}
base_url = "{raynet}/"
time_zone = "Europe/Prague"

[tenant.microsoft]
tenant_id = "{tenant}"
client_id = "{client}"
client_secret = {{ env = "{CLIENT_SECRET_VAR}" }}
group = "Raynet Sync"
graph_base_url = "{graph}/"
authority = "{authority}/"

[tenant.sync]
mode = "both"
{extra_sync}
"#,
            state = state_path.display().to_string(),
            user = raynet_client::fake::DEFAULT_USER,
            raynet = self.raynet.base_url().trim_end_matches('/'),
            tenant = FakeGraph::TENANT,
            client = FakeGraph::CLIENT_ID,
            graph = self.graph.base_url().trim_end_matches('/'),
            authority = self.graph.authority_url().trim_end_matches('/'),
        )
    }

    /// Makes a certificate (a new RSA key), uploads it to the fake Graph for the sample app,
    /// and writes `app.crt` and `app.key` (readable by the owner only) into `dir`; returns
    /// the `certificate = { ... }` line of `[tenant.microsoft]` that uses them.
    ///
    /// # Errors
    /// When the key cannot be made or the files cannot be written.
    pub fn certificate_credential(&self, dir: &Path) -> anyhow::Result<String> {
        let generated = graph_client::fake::generate_certificate("raynet-sync sandbox")
            .map_err(|e| anyhow::anyhow!("cannot make the sandbox's certificate: {e}"))?;
        if !self
            .graph
            .register_certificate(FakeGraph::CLIENT_ID, &generated.certificate_pem)
        {
            anyhow::bail!("the fake Graph refused the sandbox's certificate");
        }
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let dir = std::fs::canonicalize(dir)
            .with_context(|| format!("cannot resolve {}", dir.display()))?;
        let cert = dir.join("app.crt");
        let key = dir.join("app.key");
        std::fs::write(&cert, &generated.certificate_pem)
            .with_context(|| format!("cannot write {}", cert.display()))?;
        write_owner_only(&key, &generated.private_key_pem)?;
        Ok(format!(
            "certificate = {{ path = {:?}, key = {{ file = {:?} }} }}",
            cert.display().to_string(),
            key.display().to_string()
        ))
    }

    /// The `[serve]` table for `raynet-sync serve` listening on loopback `port`, reached by
    /// the fakes there (append it to [`Sandbox::config_toml`]).
    #[must_use]
    pub fn serve_section(port: u16) -> String {
        format!(
            "\n[serve]\nbind = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{port}/\"\n"
        )
    }

    /// The tenant of [`Sandbox::config_toml`], resolved (secrets supplied directly).
    ///
    /// # Errors
    /// When the generated config does not load (a bug).
    pub fn tenant(&self, state_path: &Path, extra_sync: &str) -> anyhow::Result<TenantConfig> {
        let text = self.config_toml(state_path, extra_sync);
        let env = |name: &str| match name {
            API_KEY_VAR => Ok(raynet_client::fake::DEFAULT_API_KEY.to_owned()),
            CLIENT_SECRET_VAR => Ok(FakeGraph::CLIENT_SECRET.to_owned()),
            _ => Err(std::env::VarError::NotPresent),
        };
        let config = Config::from_toml(&text, &state_path.with_extension("toml"), &env)?;
        config
            .tenants
            .into_iter()
            .next()
            .context("the sample config has no tenant")
    }
}

/// `sandbox`: both fakes with the sample data on fixed loopback ports, until `stop` resolves
/// (Ctrl-C, in the binary).
///
/// # Errors
/// When a port cannot be bound or the config cannot be written.
pub async fn serve_sandbox(
    args: &SandboxArgs,
    stop: impl std::future::Future<Output = ()>,
) -> anyhow::Result<ExitCode> {
    let sandbox = Sandbox::start_on(args.raynet_port, args.graph_port, Utc::now()).await?;
    let state = std::path::PathBuf::from("raynet-sync-sandbox.db");
    let mut config = sandbox.config_toml(&state, "");
    config.push_str(&Sandbox::serve_section(args.serve_port));
    if let Some(path) = &args.write_config {
        std::fs::write(path, &config)
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("# config written to {}", path.display());
    }
    println!("# fake Raynet: {}", sandbox.raynet.base_url());
    println!(
        "# fake Graph:  {} (token endpoint under {})",
        sandbox.graph.base_url(),
        sandbox.graph.authority_url()
    );
    println!("# the secrets of the sample config (fake values, safe to show):");
    println!(
        "export {API_KEY_VAR}={}",
        raynet_client::fake::DEFAULT_API_KEY
    );
    println!("export {CLIENT_SECRET_VAR}={}", FakeGraph::CLIENT_SECRET);
    let cert_dir = args
        .write_config
        .as_deref()
        .and_then(Path::parent)
        .unwrap_or(Path::new(""))
        .join("raynet-sync-sandbox-certificate");
    let certificate_line = sandbox.certificate_credential(&cert_dir)?;
    println!(
        "# the fake Graph also accepts a certificate (a new key, made now, written to {}):",
        cert_dir.display()
    );
    println!(
        "# to sign in with it instead of the secret, replace the client_secret line of \
         [tenant.microsoft] with"
    );
    println!("{certificate_line}");
    println!(
        "# save the config below as raynet-sync.toml, then: raynet-sync serve (or run / check / status)"
    );
    println!("{config}");
    println!("# serving until Ctrl-C");
    stop.await;
    Ok(ExitCode::from(exit::SUCCESS))
}

/// Writes `text` to a new file only its owner may read (a private key).
fn write_owner_only(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// A short table of one member's two calendars, for the demo's output.
#[must_use]
pub fn describe_calendars(sandbox: &Sandbox, person_id: u64, graph_user: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "  Raynet (owner person {person_id}):");
    let raynet = owned_activities(sandbox, person_id);
    push_sorted(
        &mut out,
        raynet.iter().map(|(entity, rec)| {
            format!(
                "    {entity:<7} {:<34} {:<16} {:<10} {}",
                text(rec, "/title"),
                to_the_minute(rec, "/scheduledFrom"),
                text(rec, "/status"),
                flag(rec, "/personal", "private")
            )
        }),
    );
    let _ = writeln!(out, "  Outlook ({graph_user}):");
    let outlook = sandbox.graph.events(graph_user);
    push_sorted(
        &mut out,
        outlook
            .iter()
            .filter(|e| text(e, "/type") != "seriesMaster")
            .map(|e| {
                format!(
                    "    {:<42} {:<16} {:<12} {}",
                    text(e, "/subject"),
                    to_the_minute(e, "/start/dateTime"),
                    text(e, "/sensitivity"),
                    flag(e, "/isCancelled", "cancelled")
                )
            }),
    );
    out
}

/// Appends `rows` to `out`, sorted, one a line.
fn push_sorted(out: &mut String, rows: impl Iterator<Item = String>) {
    let mut rows: Vec<String> = rows.collect();
    rows.sort();
    out.push_str(&rows.join("\n"));
    out.push('\n');
}

/// The date and time at `pointer` in `v` to the minute (its first 16 characters).
fn to_the_minute(v: &serde_json::Value, pointer: &str) -> String {
    text(v, pointer).chars().take(16).collect()
}

/// `word` when the value at `pointer` in `v` is `true`, else "".
fn flag<'a>(v: &serde_json::Value, pointer: &str, word: &'a str) -> &'a str {
    if v.pointer(pointer).and_then(serde_json::Value::as_bool) == Some(true) {
        word
    } else {
        ""
    }
}

/// The Raynet meetings and events (entity, record) whose owner is the person `person_id`.
pub(super) fn owned_activities(
    sandbox: &Sandbox,
    person_id: u64,
) -> Vec<(&'static str, serde_json::Value)> {
    let inst = sandbox.raynet.instance(INSTANCE);
    let mut records = Vec::new();
    for entity in ["meeting", "event"] {
        for id in inst.ids(entity) {
            let Some(rec) = inst.record(entity, id) else {
                continue;
            };
            let owner = rec
                .pointer("/owner/id")
                .and_then(serde_json::Value::as_u64)
                .unwrap_or_default();
            if owner == person_id {
                records.push((entity, rec));
            }
        }
    }
    records
}

/// The text at `pointer` in `v` ("" when absent or null).
pub(super) fn text(v: &serde_json::Value, pointer: &str) -> String {
    match v.pointer(pointer) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}
