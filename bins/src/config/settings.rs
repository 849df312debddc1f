//! The configuration, checked and with its secrets resolved: [`Config`], one [`TenantConfig`]
//! per organisation, its `[tenant.raynet]` and `[tenant.microsoft]` tables. (The
//! `[tenant.sync]` table is in `sync_settings.rs`; reading a file into these is `load.rs`.)

use std::path::PathBuf;

use sync_core::Email;
use sync_secret::Secret;
use url::Url;

use super::error::ConfigError;
use super::sync_settings::SyncConfig;

/// The whole configuration, checked and with its secrets resolved.
#[derive(Clone, Debug)]
pub struct Config {
    /// The file it was read from (used in messages).
    pub source: PathBuf,
    /// Where the state is kept: the SQLite file (`state_path`, resolved against the config
    /// file's directory; the default) or a PostgreSQL database (`state_url`).
    pub state: StateLocation,
    /// The tenants, in file order; at least one, with unique names.
    pub tenants: Vec<TenantConfig>,
    /// The `[serve]` table: what `raynet-sync serve` listens on and how often it polls.
    pub serve: ServeConfig,
    /// The `[admin]` table: the status page, `/metrics`, the audit trail.
    pub admin: AdminConfig,
}

/// The `[admin]` table: the operator's window.
#[derive(Clone, Debug)]
pub struct AdminConfig {
    /// Where the status page, `/metrics`, `/healthz` and `/readyz` are served (`bind`).
    /// `serve` always serves them, by default on `127.0.0.1:8788` (loopback: only this machine
    /// sees them); `run --watch` only when `bind` is set. `None`: not set.
    pub bind: Option<std::net::SocketAddr>,
    /// The bearer token the page and `/metrics` require (`token`): without it they answer
    /// 401. With a token they are also served on `serve.bind` (behind the reverse proxy).
    pub token: Option<Secret>,
    /// How many days the audit trail keeps a write (`audit_days`).
    pub audit_days: u32,
}

impl AdminConfig {
    /// Where `serve` serves the admin endpoint: `bind`, else loopback port 8788.
    #[must_use]
    pub fn serve_bind(&self) -> std::net::SocketAddr {
        self.bind.unwrap_or_else(|| {
            super::defaults::DEFAULT_ADMIN_BIND
                .parse()
                .expect("the default admin address parses")
        })
    }
}

/// Where the state is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StateLocation {
    /// The embedded SQLite file (`state_path`): one process, one organisation or a few.
    File(PathBuf),
    /// A PostgreSQL database (`state_url = "postgres://…"`), which several workers share. The
    /// URL can carry a password, so it is kept as a secret (`Debug` prints `***`).
    Postgres(Secret),
}

impl StateLocation {
    /// The state file, when the state is kept in one.
    #[must_use]
    pub fn file(&self) -> Option<&std::path::Path> {
        match self {
            Self::File(p) => Some(p),
            Self::Postgres(_) => None,
        }
    }
}

/// The `[serve]` table, read by `raynet-sync serve` only.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// Where the HTTP endpoint listens (`bind`; behind a reverse proxy that holds TLS).
    pub bind: std::net::SocketAddr,
    /// The public base URL Graph and Raynet reach the endpoint at (`public_url`, https; http
    /// only for loopback). `None` when not set: `serve` refuses to start without it.
    pub public_url: Option<Url>,
    /// The safety-net poll's interval while push is healthy (`poll_interval_seconds`); while
    /// it is not, each tenant's `sync.interval_seconds`.
    pub poll_interval: std::time::Duration,
    /// How long a member's burst of notifications must be quiet before its round runs
    /// (`coalesce_ms`).
    pub coalesce: std::time::Duration,
    /// How often the subscriptions and the webhook are checked and renewed
    /// (`maintenance_seconds`).
    pub maintenance: std::time::Duration,
    /// How long after a round whose writes the invitation cap deferred the round that carries
    /// on with them runs (`invitation_pause_seconds`).
    pub invitation_pause: std::time::Duration,
    /// How long a worker's hold on a member's rounds lasts unless renewed (`lease_seconds`):
    /// when a worker dies, its members resume on another within about this long.
    pub lease: std::time::Duration,
    /// This process's name among the workers sharing a state store (`worker_id`; default
    /// `<host>-<pid>`).
    pub worker_id: String,
}

/// One organisation served: a Raynet instance and a Microsoft 365 group.
#[derive(Clone, Debug)]
pub struct TenantConfig {
    /// The tenant's name (unique in the file; part of every state-store scope).
    pub name: String,
    /// The Raynet side.
    pub raynet: RaynetConfig,
    /// The Microsoft 365 side.
    pub microsoft: MicrosoftConfig,
    /// What is synced, and the rules.
    pub sync: SyncConfig,
}

/// The `[tenant.raynet]` table.
#[derive(Clone, Debug)]
pub struct RaynetConfig {
    /// The instance name (the path segment after `app.raynet.cz`).
    pub instance: String,
    /// The integration user's login e-mail.
    pub user: Email,
    /// The integration user's API key.
    pub api_key: Secret,
    /// The API base URL, ending in `/`.
    pub base_url: Url,
    /// The instance's IANA time zone (Raynet times are local times of it).
    pub time_zone: String,
    /// The name of the API key in Raynet (`api_key_name`): a webhook whose `source` is that
    /// key is the echo of the sync's own write.
    pub api_key_name: String,
    /// The token Raynet sends with each webhook (`webhook_token`); `serve` generates one and
    /// keeps it in the state file when it is not set.
    pub webhook_token: Option<Secret>,
}

/// The `[tenant.microsoft]` table.
#[derive(Clone, Debug)]
pub struct MicrosoftConfig {
    /// The Microsoft 365 tenant: a GUID or a domain (`contoso.onmicrosoft.com`).
    pub tenant_id: String,
    /// The app registration's (client) id, a GUID.
    pub client_id: String,
    /// How the app proves itself: a client secret, a certificate or a federated token file
    /// (`client_secret`, `certificate` or `federated`; `Debug` prints no secret material).
    pub credential: graph_client::ClientCredential,
    /// The group whose members are served: its display name or object id.
    pub group: String,
    /// The Graph base URL, ending in `/`.
    pub graph_base_url: Url,
    /// The identity platform authority, ending in `/`.
    pub authority: Url,
    /// The `clientState` of the change-notification subscriptions (`client_state`, at most
    /// 128 characters); `serve` generates one and keeps it in the state file when not set.
    pub client_state: Option<Secret>,
}

impl MicrosoftConfig {
    /// The client secret, when the app uses one.
    #[must_use]
    pub fn client_secret(&self) -> Option<&Secret> {
        match &self.credential {
            graph_client::ClientCredential::Secret(s) => Some(s),
            _ => None,
        }
    }

    /// The credential in words, for `check` (no secret): `client secret`, `certificate
    /// (thumbprint …)` with the SHA-1 thumbprint Entra shows, or `federated token file …`.
    #[must_use]
    pub fn credential_summary(&self) -> String {
        match &self.credential {
            graph_client::ClientCredential::Certificate(c) => {
                format!("certificate (thumbprint {})", c.thumbprint_hex())
            }
            graph_client::ClientCredential::Federated(f) => {
                format!("federated token file {}", f.path().display())
            }
            other => other.kind().to_owned(),
        }
    }
}

impl Config {
    /// The tenants to work on: all of them, or the one named `name`.
    ///
    /// # Errors
    /// [`ConfigError::UnknownTenant`] when no tenant is called `name`.
    pub fn select(&self, name: Option<&str>) -> Result<Vec<&TenantConfig>, ConfigError> {
        let Some(name) = name else {
            return Ok(self.tenants.iter().collect());
        };
        match self.tenants.iter().find(|t| t.name == name) {
            Some(t) => Ok(vec![t]),
            None => Err(ConfigError::UnknownTenant {
                file: self.source.clone(),
                name: name.to_owned(),
                known: self
                    .tenants
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }
}
