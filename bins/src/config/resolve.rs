//! Checking and resolving: the raw values become a [`Config`]. Secrets are read from the
//! environment or from files into [`Secret`]s, URLs are parsed and checked (`https://`, or
//! `http://` for loopback hosts only), relative paths are joined to the config file's
//! directory. Every error names the file and the full key; none quotes a secret.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use sync_core::Email;
use sync_secret::Secret;
use url::Url;

use std::time::Duration;

use super::defaults::{
    DEFAULT_API_KEY_NAME, DEFAULT_AUDIT_DAYS, DEFAULT_AUTHORITY, DEFAULT_COALESCE_MS,
    DEFAULT_GRAPH_BASE_URL, DEFAULT_INVITATION_PAUSE_SECONDS, DEFAULT_LEASE_SECONDS,
    DEFAULT_MAINTENANCE_SECONDS, DEFAULT_POLL_INTERVAL_SECONDS, DEFAULT_RAYNET_BASE_URL,
    DEFAULT_SERVE_BIND, DEFAULT_STATE_PATH, DEFAULT_TIME_ZONE, MAX_INTERVAL_SECONDS,
    MIN_INTERVAL_SECONDS,
};
use super::error::ConfigError;
use super::formats::{is_domain, is_guid, is_iana_zone_name};
use super::policy::sync_config;
use super::raw::{RawAdmin, RawConfig, RawMicrosoft, RawRaynet, RawServe, RawTenant, SecretSource};
use super::settings::{
    AdminConfig, Config, MicrosoftConfig, RaynetConfig, ServeConfig, StateLocation, TenantConfig,
};

/// Checks raw values and resolves them (secrets read, URLs parsed, relative paths joined).
pub(super) struct Resolver<'a> {
    /// The config file, named in every error.
    pub(super) file: &'a Path,
    /// Its directory: relative paths are resolved against it.
    pub(super) base_dir: PathBuf,
    /// Looks `{ env = "NAME" }` secrets up.
    pub(super) env: &'a dyn Fn(&str) -> Result<String, std::env::VarError>,
}

impl Resolver<'_> {
    pub(super) fn invalid(&self, key: impl Into<String>, reason: impl Into<String>) -> ConfigError {
        ConfigError::invalid(self.file, key, reason)
    }

    /// Checks and resolves the whole file.
    pub(super) fn config(&self, raw: RawConfig) -> Result<Config, ConfigError> {
        if raw.tenant.is_empty() {
            return Err(self.invalid(
                "tenant",
                "at least one [[tenant]] table is required (see `raynet-sync --help`)",
            ));
        }
        let mut names = BTreeSet::new();
        let mut tenants = Vec::with_capacity(raw.tenant.len());
        for (i, t) in raw.tenant.into_iter().enumerate() {
            let prefix = format!("tenant[{i}]");
            if !names.insert(t.name.clone()) {
                return Err(self.invalid(
                    format!("{prefix}.name"),
                    format!("tenant name {:?} is used twice", t.name),
                ));
            }
            tenants.push(self.tenant(&prefix, t)?);
        }
        Ok(Config {
            source: self.file.to_owned(),
            state: self.state(raw.state_path.as_deref(), raw.state_url)?,
            tenants,
            serve: self.serve(raw.serve)?,
            admin: self.admin(raw.admin)?,
        })
    }

    fn admin(&self, a: RawAdmin) -> Result<AdminConfig, ConfigError> {
        let bind = match a.bind {
            None => None,
            Some(text) => Some(text.trim().parse().map_err(|_| {
                self.invalid(
                    "admin.bind",
                    format!(
                        "{:?} is not an address and port (e.g. \"127.0.0.1:8788\")",
                        text.chars().take(80).collect::<String>()
                    ),
                )
            })?),
        };
        let audit_days = a.audit_days.unwrap_or(DEFAULT_AUDIT_DAYS);
        if !(1..=3650).contains(&audit_days) {
            return Err(self.invalid("admin.audit_days", "must be between 1 and 3650"));
        }
        Ok(AdminConfig {
            bind,
            token: self.optional_secret("admin.token", a.token)?,
            audit_days: u32::try_from(audit_days).unwrap_or(3650),
        })
    }

    fn serve(&self, s: RawServe) -> Result<ServeConfig, ConfigError> {
        let bind_text = s.bind.unwrap_or_else(|| DEFAULT_SERVE_BIND.to_owned());
        let bind = bind_text.trim().parse().map_err(|_| {
            self.invalid(
                "serve.bind",
                format!(
                    "{:?} is not an address and port (e.g. \"127.0.0.1:8787\" or \"[::1]:8787\")",
                    bind_text.chars().take(80).collect::<String>()
                ),
            )
        })?;
        let public_url = match s.public_url.as_deref() {
            Some(text) => Some(self.url("serve.public_url", Some(text), "")?),
            None => None,
        };
        let seconds = |key: &str, v: Option<u64>, default: u64, min: u64, max: u64| {
            let v = v.unwrap_or(default);
            if (min..=max).contains(&v) {
                Ok(v)
            } else {
                Err(self.invalid(key, format!("must be between {min} and {max}")))
            }
        };
        Ok(ServeConfig {
            bind,
            public_url,
            poll_interval: Duration::from_secs(seconds(
                "serve.poll_interval_seconds",
                s.poll_interval_seconds,
                DEFAULT_POLL_INTERVAL_SECONDS,
                MIN_INTERVAL_SECONDS,
                MAX_INTERVAL_SECONDS,
            )?),
            coalesce: Duration::from_millis(seconds(
                "serve.coalesce_ms",
                s.coalesce_ms,
                DEFAULT_COALESCE_MS,
                0,
                60_000,
            )?),
            maintenance: Duration::from_secs(seconds(
                "serve.maintenance_seconds",
                s.maintenance_seconds,
                DEFAULT_MAINTENANCE_SECONDS,
                1,
                24 * 3600,
            )?),
            invitation_pause: Duration::from_secs(seconds(
                "serve.invitation_pause_seconds",
                s.invitation_pause_seconds,
                DEFAULT_INVITATION_PAUSE_SECONDS,
                1,
                24 * 3600,
            )?),
            lease: Duration::from_secs(seconds(
                "serve.lease_seconds",
                s.lease_seconds,
                DEFAULT_LEASE_SECONDS,
                3,
                600,
            )?),
            worker_id: match s.worker_id {
                Some(id) => {
                    let ok = !id.is_empty()
                        && id.len() <= 100
                        && id.bytes().all(|b| b.is_ascii_graphic());
                    if !ok {
                        return Err(self.invalid(
                            "serve.worker_id",
                            "must be 1 to 100 printable ASCII characters without spaces",
                        ));
                    }
                    id
                }
                None => default_worker_id(),
            },
        })
    }

    /// Where the state is kept: `state_url` (a PostgreSQL URL, a secret reference since it can
    /// carry a password) or `state_path` (the default file), not both.
    pub(super) fn state(
        &self,
        path: Option<&Path>,
        url: Option<SecretSource>,
    ) -> Result<StateLocation, ConfigError> {
        let Some(source) = url else {
            return Ok(StateLocation::File(state_path(path, &self.base_dir)));
        };
        if path.is_some() {
            return Err(self.invalid(
                "state_url",
                "set either state_path (an SQLite file) or state_url (PostgreSQL), not both",
            ));
        }
        // A literal URL without a password is no secret worth a warning.
        let value = match source {
            SecretSource::Literal(v) if Url::parse(&v).is_ok_and(|u| u.password().is_none()) => {
                Secret::new(v)
            }
            other => self.secret("state_url", other)?,
        };
        let parsed = Url::parse(value.expose()).map_err(|_| {
            self.invalid(
                "state_url",
                "is not a URL; expected postgres://USER@HOST:PORT/DATABASE",
            )
        })?;
        if !matches!(parsed.scheme(), "postgres" | "postgresql") {
            return Err(self.invalid(
                "state_url",
                format!(
                    "the scheme {:?} is not supported; expected postgres://USER@HOST:PORT/DATABASE",
                    parsed.scheme().chars().take(20).collect::<String>()
                ),
            ));
        }
        Ok(StateLocation::Postgres(value))
    }

    fn optional_secret(
        &self,
        key: &str,
        source: Option<SecretSource>,
    ) -> Result<Option<Secret>, ConfigError> {
        source.map(|s| self.secret(key, s)).transpose()
    }

    fn tenant(&self, prefix: &str, t: RawTenant) -> Result<TenantConfig, ConfigError> {
        let name_ok = !t.name.is_empty()
            && t.name.len() <= 64
            && t.name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !name_ok {
            return Err(self.invalid(
                format!("{prefix}.name"),
                "must be 1 to 64 characters of A-Z, a-z, 0-9, '-', '_' and '.'",
            ));
        }
        Ok(TenantConfig {
            name: t.name,
            raynet: self.raynet(&format!("{prefix}.raynet"), t.raynet)?,
            microsoft: self.microsoft(&format!("{prefix}.microsoft"), t.microsoft)?,
            sync: sync_config(self.file, &format!("{prefix}.sync"), t.sync)?,
        })
    }

    fn raynet(&self, prefix: &str, r: RawRaynet) -> Result<RaynetConfig, ConfigError> {
        let instance = r.instance.trim();
        if instance.is_empty()
            || !instance
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            return Err(self.invalid(
                format!("{prefix}.instance"),
                "must be the instance name: the path segment after app.raynet.cz \
                 (A-Z, a-z, 0-9, '-', '_', '.')",
            ));
        }
        let user = Email::new(&r.user).map_err(|e| {
            self.invalid(
                format!("{prefix}.user"),
                format!("must be the Raynet user's login e-mail: {e}"),
            )
        })?;
        let time_zone = r.time_zone.unwrap_or_else(|| DEFAULT_TIME_ZONE.to_owned());
        if !is_iana_zone_name(&time_zone) {
            return Err(self.invalid(
                format!("{prefix}.time_zone"),
                format!(
                    "{:?} is not an IANA time zone name (e.g. \"Europe/Prague\", \"UTC\")",
                    time_zone.chars().take(80).collect::<String>()
                ),
            ));
        }
        Ok(RaynetConfig {
            instance: instance.to_owned(),
            user,
            api_key: self.secret(&format!("{prefix}.api_key"), r.api_key)?,
            base_url: self.url(
                &format!("{prefix}.base_url"),
                r.base_url.as_deref(),
                DEFAULT_RAYNET_BASE_URL,
            )?,
            time_zone,
            api_key_name: match r.api_key_name {
                Some(n) if n.trim().is_empty() || n.chars().any(char::is_control) => {
                    return Err(self.invalid(
                        format!("{prefix}.api_key_name"),
                        "must be the API key's name as Raynet shows it",
                    ));
                }
                Some(n) => n.trim().to_owned(),
                None => DEFAULT_API_KEY_NAME.to_owned(),
            },
            webhook_token: self
                .optional_secret(&format!("{prefix}.webhook_token"), r.webhook_token)?,
        })
    }

    fn microsoft(&self, prefix: &str, m: RawMicrosoft) -> Result<MicrosoftConfig, ConfigError> {
        let tenant_id = m.tenant_id.trim();
        if !(is_guid(tenant_id) || is_domain(tenant_id)) {
            return Err(self.invalid(
                format!("{prefix}.tenant_id"),
                "must be the Microsoft 365 tenant id (a GUID) or its domain \
                 (e.g. contoso.onmicrosoft.com)",
            ));
        }
        let client_id = m.client_id.trim();
        if !is_guid(client_id) {
            return Err(self.invalid(
                format!("{prefix}.client_id"),
                "must be the app registration's (client) id, a GUID \
                 (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
            ));
        }
        let credential = self.credential(prefix, m.client_secret, m.certificate, m.federated)?;
        let group = m.group.trim();
        if group.is_empty() || group.chars().any(char::is_control) {
            return Err(self.invalid(
                format!("{prefix}.group"),
                "must be the Microsoft 365 group's name or object id",
            ));
        }
        Ok(MicrosoftConfig {
            tenant_id: tenant_id.to_owned(),
            client_id: client_id.to_owned(),
            credential,
            group: group.to_owned(),
            graph_base_url: self.url(
                &format!("{prefix}.graph_base_url"),
                m.graph_base_url.as_deref(),
                DEFAULT_GRAPH_BASE_URL,
            )?,
            authority: self.url(
                &format!("{prefix}.authority"),
                m.authority.as_deref(),
                DEFAULT_AUTHORITY,
            )?,
            client_state: match self
                .optional_secret(&format!("{prefix}.client_state"), m.client_state)?
            {
                Some(s) if s.expose().len() > 128 => {
                    return Err(self.invalid(
                        format!("{prefix}.client_state"),
                        "must be at most 128 characters (Graph's limit)",
                    ));
                }
                other => other,
            },
        })
    }

    pub(super) fn secret(&self, key: &str, source: SecretSource) -> Result<Secret, ConfigError> {
        let value = match source {
            SecretSource::Literal(v) => {
                tracing::warn!(
                    key,
                    "a secret is written in the config file; prefer {{ env = \"NAME\" }} or \
                     {{ file = \"PATH\" }}"
                );
                v
            }
            SecretSource::Env(var) => {
                let env_error = |reason| ConfigError::SecretEnv {
                    file: self.file.to_owned(),
                    key: key.to_owned(),
                    var: var.clone(),
                    reason,
                };
                match (self.env)(&var) {
                    Ok(v) if v.trim().is_empty() => return Err(env_error("is empty")),
                    Ok(v) => v,
                    Err(std::env::VarError::NotPresent) => return Err(env_error("is not set")),
                    Err(std::env::VarError::NotUnicode(_)) => {
                        return Err(env_error("is not valid UTF-8"));
                    }
                }
            }
            SecretSource::File(path) => {
                let path = self.base_dir.join(path);
                let text =
                    std::fs::read_to_string(&path).map_err(|source| ConfigError::SecretFile {
                        file: self.file.to_owned(),
                        key: key.to_owned(),
                        path: path.clone(),
                        source,
                    })?;
                // Editors add a final newline; a secret never ends in white space.
                text.trim_end().to_owned()
            }
        };
        if value.trim().is_empty() {
            return Err(self.invalid(key, "the secret is empty"));
        }
        Ok(Secret::new(value))
    }

    fn url(&self, key: &str, value: Option<&str>, default: &str) -> Result<Url, ConfigError> {
        let text = value.unwrap_or(default).trim();
        let shown: String = text.chars().take(120).collect();
        let mut url = Url::parse(text)
            .map_err(|e| self.invalid(key, format!("{shown:?} is not a URL: {e}")))?;
        let loopback = match url.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && loopback);
        if !scheme_ok || url.host().is_none() {
            return Err(self.invalid(
                key,
                format!(
                    "{shown:?} must be an https:// URL (http:// is allowed only for loopback \
                     hosts, such as the fake servers)"
                ),
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(self.invalid(key, "must not hold a user name or password"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(self.invalid(key, format!("{shown:?} must not have a query or fragment")));
        }
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Ok(url)
    }
}

/// `<host>-<pid>`: unique among the workers of one store while they run.
fn default_worker_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().replace(|c: char| !c.is_ascii_graphic(), "_"))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".to_owned());
    format!("{host}-{}", std::process::id())
}

/// The directory relative paths in `file` are resolved against.
pub(super) fn base_dir(file: &Path) -> PathBuf {
    file.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// The state file: `raw` (or the default) against `base_dir`.
pub(super) fn state_path(raw: Option<&Path>, base_dir: &Path) -> PathBuf {
    base_dir.join(raw.unwrap_or_else(|| Path::new(DEFAULT_STATE_PATH)))
}
