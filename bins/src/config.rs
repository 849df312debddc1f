//! The configuration file: one TOML file, one `[[tenant]]` table per organisation served.
//!
//! Loading has two steps. The file is first parsed into private "raw" structs that mirror it
//! key for key (`deny_unknown_fields` everywhere, so a typo is an error, not a silently ignored
//! setting); every error names the file, the full dotted key (`tenant[0].sync.private_events`)
//! and what is allowed. The raw values are then checked and resolved into [`Config`]: secrets
//! are read from the environment or from files into [`Secret`]s, URLs are parsed, the `sync`
//! keys become a [`sync_core::Policy`].
//!
//! Relative paths in the file (`state_path`, `{ file = "..." }` secrets) are resolved against
//! the directory of the config file, so that the service behaves the same whatever its
//! working directory.
//!
//! Secrets are never printed: [`Secret`]'s `Debug` and `Display` show `***`, and no error
//! message quotes a secret's value (errors about a secret name its key and, for `env` and
//! `file` secrets, the variable or the file).
//!
//! [`Config::example`] is a commented example file.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use sync_core::{
    AttendeeMode, CompletedEvents, ConflictPolicy, DeleteEditPolicy, DeleteGuard, Email,
    InvitedEvents, ModelError, OutlookDeletes, OutlookNewAs, Policy, PrivateEvents,
};
use url::Url;

/// The default Raynet API base URL.
pub const DEFAULT_RAYNET_BASE_URL: &str = "https://app.raynet.cz/api/v2/";
/// The default time zone of a Raynet instance.
pub const DEFAULT_TIME_ZONE: &str = "Europe/Prague";
/// The default Microsoft Graph base URL.
pub const DEFAULT_GRAPH_BASE_URL: &str = "https://graph.microsoft.com/v1.0/";
/// The default Microsoft identity platform authority.
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com/";
/// The default name of the Outlook contact folder the contacts go to.
pub const DEFAULT_CONTACTS_FOLDER: &str = "Raynet";
/// The default state file, relative to the config file's directory.
pub const DEFAULT_STATE_PATH: &str = "raynet-sync.db";
/// The default pause between two rounds of `run --watch`, in seconds.
pub const DEFAULT_INTERVAL_SECONDS: u64 = 900;
/// The default number of members synced at the same time.
pub const DEFAULT_MAX_PARALLEL_MEMBERS: usize = 4;

/// Shortest allowed `sync.interval_seconds`.
const MIN_INTERVAL_SECONDS: u64 = 10;
/// Longest allowed `sync.interval_seconds` (one week).
const MAX_INTERVAL_SECONDS: u64 = 7 * 24 * 3600;
/// Default `sync.membership_refresh_seconds` (an hour).
pub const DEFAULT_MEMBERSHIP_REFRESH_SECONDS: u64 = 3600;
/// Largest allowed `sync.max_parallel_members`.
const MAX_PARALLEL_MEMBERS: usize = 64;

/// A configuration that cannot be used. Every variant names the config file; all but
/// [`ConfigError::Read`] and [`ConfigError::Syntax`] name the key at fault. No variant ever
/// holds a secret's value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config file {}", file.display())]
    Read {
        /// The config file.
        file: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("config file {}{}: not valid TOML: {message}", file.display(), at_line(*line))]
    Syntax {
        /// The config file.
        file: PathBuf,
        /// The line of the error, when known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// A key holds a value of the wrong type, an unknown value, or is unknown or missing.
    #[error("config file {}{}: key `{key}`: {message}", file.display(), at_line(*line))]
    Parse {
        /// The config file.
        file: PathBuf,
        /// The full dotted key (`tenant[0].sync.private_events`).
        key: String,
        /// The line of the error, when known.
        line: Option<usize>,
        /// What is wrong, and what is allowed.
        message: String,
    },
    /// A key's value is well-typed but makes no sense.
    #[error("config file {}: key `{key}`: {reason}", file.display())]
    Invalid {
        /// The config file.
        file: PathBuf,
        /// The full dotted key.
        key: String,
        /// What is wrong, and what is allowed.
        reason: String,
    },
    /// A secret given as `{ env = "NAME" }` could not be read from the environment.
    #[error("config file {}: key `{key}`: environment variable `{var}` {reason}", file.display())]
    SecretEnv {
        /// The config file.
        file: PathBuf,
        /// The full dotted key of the secret.
        key: String,
        /// The variable's name.
        var: String,
        /// What is wrong with it ("is not set", "is empty", ...).
        reason: &'static str,
    },
    /// A secret given as `{ file = "PATH" }` could not be read.
    #[error("config file {}: key `{key}`: cannot read secret file {}", file.display(), path.display())]
    SecretFile {
        /// The config file.
        file: PathBuf,
        /// The full dotted key of the secret.
        key: String,
        /// The secret file.
        path: PathBuf,
        /// Why (an I/O error; never the file's content).
        #[source]
        source: std::io::Error,
    },
    /// `--tenant NAME` names no tenant of the file.
    #[error("config file {}: no tenant named `{name}` (known: {known})", file.display())]
    UnknownTenant {
        /// The config file.
        file: PathBuf,
        /// The name asked for.
        name: String,
        /// The names the file holds, comma-separated.
        known: String,
    },
}

impl ConfigError {
    /// The full dotted key at fault, when the error is about one key.
    #[must_use]
    pub fn key(&self) -> Option<&str> {
        match self {
            Self::Parse { key, .. }
            | Self::Invalid { key, .. }
            | Self::SecretEnv { key, .. }
            | Self::SecretFile { key, .. } => Some(key),
            Self::Read { .. } | Self::Syntax { .. } | Self::UnknownTenant { .. } => None,
        }
    }
}

fn at_line(line: Option<usize>) -> String {
    line.map(|l| format!(", line {l}")).unwrap_or_default()
}

/// A secret (an API key, a client secret). `Debug` and `Display` print `***`; only
/// [`Secret::expose`] gives the value, for the one place that sends it (over TLS).
///
/// ```
/// use raynet_sync::config::Secret;
/// let s = Secret::new("hunter2");
/// assert_eq!(format!("{s} {s:?}"), "*** ***");
/// assert_eq!(s.expose(), "hunter2");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    #[must_use]
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value. Call it only where the secret is sent; never log the result.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// What a tenant syncs (`sync.mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SyncMode {
    /// Meetings and events only (two-way).
    Meetings,
    /// Contacts only (one-way, Raynet → Outlook).
    Contacts,
    /// Both.
    #[default]
    Both,
}

impl SyncMode {
    /// Whether meetings are synced.
    #[must_use]
    pub fn meetings(self) -> bool {
        matches!(self, Self::Meetings | Self::Both)
    }

    /// Whether contacts are synced.
    #[must_use]
    pub fn contacts(self) -> bool {
        matches!(self, Self::Contacts | Self::Both)
    }

    /// The value as written in the config file.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Meetings => "meetings",
            Self::Contacts => "contacts",
            Self::Both => "both",
        }
    }
}

impl fmt::Display for SyncMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SyncMode {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        match raw.trim().to_ascii_lowercase().as_str() {
            "meetings" => Ok(Self::Meetings),
            "contacts" => Ok(Self::Contacts),
            "both" => Ok(Self::Both),
            _ => Err(de::Error::custom(format!(
                "unknown value {:?} (allowed: meetings, contacts, both)",
                raw.chars().take(80).collect::<String>()
            ))),
        }
    }
}

/// Which Raynet persons reach a member's Outlook contact folder (`sync.contacts_filter`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum ContactsFilter {
    /// Every person the integration user can see (`"all"`, the default).
    #[default]
    All,
    /// Only persons owned by the member (`"owned"`).
    Owned,
    /// Only persons with this tag (`"tag:<name>"`).
    Tag(String),
}

impl fmt::Display for ContactsFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::All => f.write_str("all"),
            Self::Owned => f.write_str("owned"),
            Self::Tag(t) => write!(f, "tag:{t}"),
        }
    }
}

impl<'de> Deserialize<'de> for ContactsFilter {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        let v = raw.trim();
        if v.eq_ignore_ascii_case("all") {
            return Ok(Self::All);
        }
        if v.eq_ignore_ascii_case("owned") {
            return Ok(Self::Owned);
        }
        if let Some(tag) = v.strip_prefix("tag:") {
            let tag = tag.trim();
            if !tag.is_empty() && !tag.chars().any(char::is_control) {
                return Ok(Self::Tag(tag.to_owned()));
            }
        }
        Err(de::Error::custom(format!(
            "unknown value {:?} (allowed: \"all\", \"owned\", \"tag:<name>\")",
            raw.chars().take(80).collect::<String>()
        )))
    }
}

/// The whole configuration, checked and with its secrets resolved.
#[derive(Clone, Debug)]
pub struct Config {
    /// The file it was read from (used in messages).
    pub source: PathBuf,
    /// The SQLite state file (`state_path`, resolved against the config file's directory).
    pub state_path: PathBuf,
    /// The tenants, in file order; at least one, with unique names.
    pub tenants: Vec<TenantConfig>,
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
}

/// The `[tenant.microsoft]` table.
#[derive(Clone, Debug)]
pub struct MicrosoftConfig {
    /// The Microsoft 365 tenant: a GUID or a domain (`contoso.onmicrosoft.com`).
    pub tenant_id: String,
    /// The app registration's (client) id, a GUID.
    pub client_id: String,
    /// The app's client secret.
    pub client_secret: Secret,
    /// The group whose members are served: its display name or object id.
    pub group: String,
    /// The Graph base URL, ending in `/`.
    pub graph_base_url: Url,
    /// The identity platform authority, ending in `/`.
    pub authority: Url,
}

/// The `[tenant.sync]` table.
#[derive(Clone, Debug)]
pub struct SyncConfig {
    /// What is synced.
    pub mode: SyncMode,
    /// The engine's rules (conflicts, deletions, private and completed events, window, guard).
    pub policy: Policy,
    /// The Outlook contact folder contacts go to.
    pub contacts_folder: String,
    /// Which persons become contacts.
    pub contacts_filter: ContactsFilter,
    /// The pause between two rounds of `run --watch`.
    pub interval: Duration,
    /// How many members are synced at the same time.
    pub max_parallel_members: usize,
    /// How often Raynet's deletion scan (a listing of every id) runs.
    pub deletion_scan_every: ScanSchedule,
    /// How long the group's membership (and the Raynet users it is matched with) is kept
    /// between rounds of one process; zero reads it every round.
    pub membership_refresh: Duration,
}

/// How often Raynet's deletion scan runs (`sync.deletion_scan_every`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ScanSchedule {
    /// `"auto"`: every round while one scan a round costs under 5 % of the instance's daily
    /// quota, less often beyond (every `n`-th round, the smallest `n` that stays under).
    #[default]
    Auto,
    /// Every this many rounds (1 to 1000).
    Every(u32),
}

/// The share of the daily Raynet quota the deletion scans may take under
/// [`ScanSchedule::Auto`].
pub const SCAN_QUOTA_SHARE: f64 = 0.05;

impl ScanSchedule {
    /// The rounds between two scans: fixed, or for [`ScanSchedule::Auto`] the fewest that keep
    /// `scan_requests` per scan under 5 % of `daily_quota` at one round per `interval`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use raynet_sync::config::ScanSchedule;
    /// let quarter = Duration::from_secs(900); // 96 rounds a day
    /// // 5 requests a scan: 480 a day, 2 % of 24,000: every round.
    /// assert_eq!(ScanSchedule::Auto.every(5, quarter, 24_000), 1);
    /// // 25 requests a scan: every round would be 10 %: every other round (5 %).
    /// assert_eq!(ScanSchedule::Auto.every(25, quarter, 24_000), 2);
    /// assert_eq!(ScanSchedule::Every(4).every(25, quarter, 24_000), 4);
    /// ```
    #[must_use]
    pub fn every(self, scan_requests: u64, interval: Duration, daily_quota: u64) -> u32 {
        match self {
            ScanSchedule::Every(n) => n.max(1),
            ScanSchedule::Auto => {
                let rounds_per_day = 86_400.0 / interval.as_secs_f64().max(1.0);
                let budget = SCAN_QUOTA_SHARE * daily_quota.max(1) as f64;
                let n = (scan_requests as f64 * rounds_per_day / budget).ceil();
                if n.is_finite() && n >= 1.0 {
                    n.min(1000.0) as u32
                } else {
                    1
                }
            }
        }
    }
}

/// `deletion_scan_every` as written: a whole number or `"auto"`.
#[derive(Clone, Copy, Debug)]
enum RawScanEvery {
    Auto,
    Every(i64),
}

impl<'de> Deserialize<'de> for RawScanEvery {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl de::Visitor<'_> for Visit {
            type Value = RawScanEvery;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("\"auto\" or a whole number of rounds, 1 to 1000")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawScanEvery, E> {
                Ok(RawScanEvery::Every(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawScanEvery, E> {
                Ok(RawScanEvery::Every(i64::try_from(v).unwrap_or(i64::MAX)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawScanEvery, E> {
                if v.trim().eq_ignore_ascii_case("auto") {
                    Ok(RawScanEvery::Auto)
                } else {
                    Err(E::custom(format!(
                        "unknown value {:?} (allowed: \"auto\" or a whole number of rounds, 1 to 1000)",
                        v.chars().take(80).collect::<String>()
                    )))
                }
            }
        }
        d.deserialize_any(Visit)
    }
}

impl Config {
    /// Reads, checks and resolves the config file at `path`, reading secrets from the process
    /// environment and from files.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the file and, where there is one, the key at fault.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = read_file(path)?;
        Self::from_toml(&text, path, &|name| std::env::var(name))
    }

    /// Checks and resolves `text` as if read from `source`, looking `{ env = "NAME" }`
    /// secrets up with `env` (tests pass a map; [`Config::load`] passes `std::env::var`).
    ///
    /// # Errors
    /// A [`ConfigError`] naming `source` and, where there is one, the key at fault.
    pub fn from_toml(
        text: &str,
        source: &Path,
        env: &dyn Fn(&str) -> Result<String, std::env::VarError>,
    ) -> Result<Self, ConfigError> {
        let raw = parse_raw(text, source)?;
        let cx = Resolver {
            file: source,
            base_dir: base_dir(source),
            env,
        };
        cx.config(raw)
    }

    /// The state file named by the config file at `path`, without resolving secrets or
    /// checking the tenants (for `status`, which must work without the secrets).
    ///
    /// # Errors
    /// A [`ConfigError`] when the file cannot be read or parsed.
    pub fn state_path_of(path: &Path) -> Result<PathBuf, ConfigError> {
        let text = read_file(path)?;
        let raw = parse_raw(&text, path)?;
        Ok(state_path(raw.state_path.as_deref(), &base_dir(path)))
    }

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

    /// A commented example config file, with every key and its default.
    #[must_use]
    pub fn example() -> &'static str {
        EXAMPLE
    }
}

const EXAMPLE: &str = r#"# raynet-sync configuration.
#
# Relative paths are resolved against the directory of this file. Unknown keys are errors.
# Secrets (api_key, client_secret) may be a literal string, { env = "NAME" } or
# { file = "PATH" }; prefer the last two, so that this file holds no secret.

# The SQLite file where the sync state is kept (pairs, cursors, pending creates, round
# summaries). Keep it: without it the next round must rebuild the pairs.
state_path = "raynet-sync.db"

# One [[tenant]] table per organisation served. Names must be unique; they are part of every
# state-store key, so do not rename a tenant that has synced.
[[tenant]]
name = "acme"

[tenant.raynet]
# The Raynet instance: the path segment after app.raynet.cz
# (for https://app.raynet.cz/acme/?view=Helpboard it is "acme").
instance = "acme"
# The login e-mail of the Raynet user the integration acts as; ideally a dedicated virtual
# user, so that Raynet's notifications show the integration's changes under its name.
user = "integration@acme.example"
# Raynet: Settings -> API keys -> New API key.
api_key = { env = "RAYNET_API_KEY" }
# base_url = "https://app.raynet.cz/api/v2/"
# The instance's time zone (an IANA name); Raynet times are local times of it.
# time_zone = "Europe/Prague"

[tenant.microsoft]
# The Microsoft 365 tenant (a GUID or a domain such as acme.onmicrosoft.com).
tenant_id = "acme.onmicrosoft.com"
# The app registration (client) id, with application permissions on calendars, contacts,
# users and groups.
client_id = "00000000-0000-4000-8000-000000000000"
client_secret = { env = "MS_CLIENT_SECRET" }
# The Microsoft 365 group whose *members* are served (its name or its object id).
group = "Raynet sync"
# graph_base_url = "https://graph.microsoft.com/v1.0/"
# authority = "https://login.microsoftonline.com/"

[tenant.sync]
# What is synced: "meetings" (two-way), "contacts" (one-way, Raynet -> Outlook) or "both".
mode = "both"
# Private Outlook events: "standard" (synced like any other), "time-blocker" (the time only,
# titled "Time blocker") or "skip" (never reach Raynet).
private_events = "skip"
# Meetings completed in Raynet: "sync" (keep flowing to Outlook) or "stop".
completed_events = "sync"
# An Outlook deletion: "delete" the Raynet record, "cancel" it (keeping its history) or
# "ignore" (only unlink).
outlook_deletes = "cancel"
# Outlook events organised by someone who is not a served member: "skip" or "own" (written
# to Raynet owned by the invited member).
invited_events = "skip"
# The Raynet type of a new Outlook item: "event", "meeting" or "auto" (a meeting when it has
# attendees from outside the organisation).
outlook_new_as = "event"
# Raynet participants: "invite" (Outlook attendees; Outlook sends them invitations) or
# "list" (listed in the body; nothing is ever sent).
attendees = "invite"
# A field changed on both sides: "latest" (the later change wins; a tie goes to Raynet),
# "raynet" or "outlook".
conflict = "latest"
# Deleted on one side, edited on the other: "keep-edit" (re-created, nothing lost) or "delete".
delete_vs_edit = "keep-edit"
# The calendar window, in days around today.
window_days_back = 30
window_days_ahead = 365
# A round that would delete more than this share of a member's items stops and reports
# instead (run with --allow-mass-delete to let it through once).
max_delete_share = 0.2
# The Outlook contact folder the contacts go to; contacts outside it are never touched.
contacts_folder = "Raynet"
# Which Raynet persons: "all" (all the integration user can see), "owned" (owned by the
# member) or "tag:<name>".
contacts_filter = "all"
# The pause between two rounds of `run --watch`, in seconds.
interval_seconds = 900
# How many members are synced at the same time.
max_parallel_members = 4
# Raynet has no deletion feed: deletions are found by listing every id of the instance (1
# request per 1,000 records). "auto" runs that scan every round while it costs under 5 % of
# the daily quota (24,000 requests), less often beyond; a number N runs it every N rounds. A
# Raynet deletion reaches Outlook within that many rounds.
deletion_scan_every = "auto"
# How long the group's members (and their Raynet users) are kept between rounds of
# `run --watch`, in seconds; 0 reads them every round.
membership_refresh_seconds = 3600
"#;

// ---------------------------------------------------------------------------------------------
// The file as written.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    state_path: Option<PathBuf>,
    #[serde(default)]
    tenant: Vec<RawTenant>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTenant {
    name: String,
    raynet: RawRaynet,
    microsoft: RawMicrosoft,
    #[serde(default)]
    sync: RawSync,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRaynet {
    instance: String,
    user: String,
    api_key: SecretSource,
    base_url: Option<String>,
    time_zone: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMicrosoft {
    tenant_id: String,
    client_id: String,
    client_secret: SecretSource,
    group: String,
    graph_base_url: Option<String>,
    authority: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSync {
    mode: Option<SyncMode>,
    private_events: Option<PrivateEvents>,
    completed_events: Option<CompletedEvents>,
    outlook_deletes: Option<OutlookDeletes>,
    invited_events: Option<InvitedEvents>,
    outlook_new_as: Option<OutlookNewAs>,
    attendees: Option<AttendeeMode>,
    conflict: Option<ConflictPolicy>,
    delete_vs_edit: Option<DeleteEditPolicy>,
    window_days_back: Option<u32>,
    window_days_ahead: Option<u32>,
    max_delete_share: Option<f64>,
    contacts_folder: Option<String>,
    contacts_filter: Option<ContactsFilter>,
    interval_seconds: Option<u64>,
    max_parallel_members: Option<usize>,
    deletion_scan_every: Option<RawScanEvery>,
    membership_refresh_seconds: Option<u64>,
}

/// Where a secret comes from. Its `Deserialize` never quotes the value in an error.
enum SecretSource {
    Literal(String),
    Env(String),
    File(PathBuf),
}

const SECRET_EXPECTED: &str =
    "must be a string, { env = \"NAME\" } or { file = \"PATH\" } (the value is not shown)";

impl<'de> Deserialize<'de> for SecretSource {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SecretVisitor)
    }
}

struct SecretVisitor;

impl<'de> Visitor<'de> for SecretVisitor {
    type Value = SecretSource;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(SECRET_EXPECTED)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(SecretSource::Literal(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(SecretSource::Literal(v))
    }

    // The default implementations of the following quote the value in their error.
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Err(E::custom(SECRET_EXPECTED))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Err(E::custom(SECRET_EXPECTED))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Err(E::custom(SECRET_EXPECTED))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Err(E::custom(SECRET_EXPECTED))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(de::Error::custom(SECRET_EXPECTED))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found: Option<SecretSource> = None;
        while let Some(key) = map.next_key::<String>()? {
            let source = match key.as_str() {
                "env" => SecretSource::Env(map.next_value::<String>()?),
                "file" => SecretSource::File(map.next_value::<PathBuf>()?),
                // A TOML date arrives as a map with a private key: say what is allowed only.
                k if k.starts_with('$') => return Err(de::Error::custom(SECRET_EXPECTED)),
                k => {
                    return Err(de::Error::custom(format!(
                        "unknown key `{k}` in a secret: {SECRET_EXPECTED}"
                    )));
                }
            };
            if found.is_some() {
                return Err(de::Error::custom(format!(
                    "give either env or file, not both: {SECRET_EXPECTED}"
                )));
            }
            found = Some(source);
        }
        found.ok_or_else(|| de::Error::custom(SECRET_EXPECTED))
    }
}

fn read_file(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        file: path.to_owned(),
        source,
    })
}

fn base_dir(file: &Path) -> PathBuf {
    file.parent().map(Path::to_path_buf).unwrap_or_default()
}

fn state_path(raw: Option<&Path>, base_dir: &Path) -> PathBuf {
    base_dir.join(raw.unwrap_or_else(|| Path::new(DEFAULT_STATE_PATH)))
}

fn line_of(text: &str, span: Option<std::ops::Range<usize>>) -> Option<usize> {
    let start = span?.start;
    Some(text.get(..start)?.matches('\n').count() + 1)
}

/// Parses the file into the raw structs; errors name the key (never quoting a source line,
/// which could hold a secret).
fn parse_raw(text: &str, file: &Path) -> Result<RawConfig, ConfigError> {
    let de = toml::de::Deserializer::parse(text).map_err(|e| ConfigError::Syntax {
        file: file.to_owned(),
        line: line_of(text, e.span()),
        message: e.message().to_owned(),
    })?;
    serde_path_to_error::deserialize::<_, RawConfig>(de).map_err(|e| {
        let inner = e.inner();
        let message = inner.message().to_owned();
        let mut key = e.path().to_string();
        // For a missing key, the path names the table that lacks it: add the key. (For an
        // unknown key, the path already ends with it.)
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next());
        if let Some(name) = missing {
            key = if key == "." {
                name.to_owned()
            } else {
                format!("{key}.{name}")
            };
        }
        let mut message = message
            .replace("missing field", "missing key")
            .replace("unknown field", "unknown key")
            .replace(" )", ")");
        // sync-core's value errors start by naming the field, which the key already does.
        let last = key.rsplit(['.', ']']).next().unwrap_or_default();
        if let Some(rest) = message.strip_prefix(&format!("field `{last}`: ")) {
            message = rest.to_owned();
        }
        if message.starts_with("invalid ") {
            if let Some(allowed) = allowed_values(&key) {
                message = format!("{message} (allowed: {allowed})");
            }
        }
        ConfigError::Parse {
            file: file.to_owned(),
            key,
            line: line_of(text, inner.span()),
            message,
        }
    })
}

/// What a key accepts, for type errors (value errors list it themselves).
fn allowed_values(key: &str) -> Option<String> {
    fn of<E>(parse: fn(&str) -> Result<E, ModelError>) -> Option<String> {
        match parse("") {
            Err(ModelError::UnknownValue { allowed, .. }) => Some(allowed.trim().to_owned()),
            _ => None,
        }
    }
    let (table, leaf) = key.rsplit_once('.')?;
    if table.ends_with("raynet") || table.ends_with("microsoft") {
        return match leaf {
            "api_key" | "client_secret" => None,
            _ => Some("a string".to_owned()),
        };
    }
    if !table.ends_with("sync") {
        return None;
    }
    match leaf {
        "mode" => Some("meetings contacts both".to_owned()),
        "private_events" => of(PrivateEvents::parse),
        "completed_events" => of(CompletedEvents::parse),
        "outlook_deletes" => of(OutlookDeletes::parse),
        "invited_events" => of(InvitedEvents::parse),
        "outlook_new_as" => of(OutlookNewAs::parse),
        "attendees" => of(AttendeeMode::parse),
        "conflict" => of(ConflictPolicy::parse),
        "delete_vs_edit" => of(DeleteEditPolicy::parse),
        "window_days_back" | "window_days_ahead" => Some("a whole number of days".to_owned()),
        "max_delete_share" => Some("a number between 0 and 1".to_owned()),
        "contacts_folder" => Some("a folder name".to_owned()),
        "contacts_filter" => Some("\"all\", \"owned\", \"tag:<name>\"".to_owned()),
        "interval_seconds" => Some(format!(
            "a whole number of seconds, {MIN_INTERVAL_SECONDS} to {MAX_INTERVAL_SECONDS}"
        )),
        "max_parallel_members" => Some(format!("a whole number, 1 to {MAX_PARALLEL_MEMBERS}")),
        "deletion_scan_every" => Some("\"auto\" or a whole number of rounds, 1 to 1000".to_owned()),
        "membership_refresh_seconds" => Some(format!(
            "a whole number of seconds, 0 to {MAX_INTERVAL_SECONDS}"
        )),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Checking and resolving.

struct Resolver<'a> {
    file: &'a Path,
    base_dir: PathBuf,
    env: &'a dyn Fn(&str) -> Result<String, std::env::VarError>,
}

impl Resolver<'_> {
    fn invalid(&self, key: impl Into<String>, reason: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            file: self.file.to_owned(),
            key: key.into(),
            reason: reason.into(),
        }
    }

    fn config(&self, raw: RawConfig) -> Result<Config, ConfigError> {
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
            state_path: state_path(raw.state_path.as_deref(), &self.base_dir),
            tenants,
        })
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
            sync: self.sync(&format!("{prefix}.sync"), t.sync)?,
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
            client_secret: self.secret(&format!("{prefix}.client_secret"), m.client_secret)?,
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
        })
    }

    fn sync(&self, prefix: &str, s: RawSync) -> Result<SyncConfig, ConfigError> {
        let defaults = Policy::default();
        let max_share = s
            .max_delete_share
            .unwrap_or(defaults.delete_guard.max_share);
        if !(max_share.is_finite() && (0.0..=1.0).contains(&max_share)) {
            return Err(self.invalid(
                format!("{prefix}.max_delete_share"),
                format!("{max_share} is not a share between 0 and 1 (e.g. 0.2 for 20 %)"),
            ));
        }
        let policy = Policy {
            conflict: s.conflict.unwrap_or(defaults.conflict),
            delete_vs_edit: s.delete_vs_edit.unwrap_or(defaults.delete_vs_edit),
            outlook_deletes: s.outlook_deletes.unwrap_or(defaults.outlook_deletes),
            private_events: s.private_events.unwrap_or(defaults.private_events),
            completed_events: s.completed_events.unwrap_or(defaults.completed_events),
            invited_events: s.invited_events.unwrap_or(defaults.invited_events),
            outlook_new_as: s.outlook_new_as.unwrap_or(defaults.outlook_new_as),
            attendees: s.attendees.unwrap_or(defaults.attendees),
            window_days_back: s.window_days_back.unwrap_or(defaults.window_days_back),
            window_days_ahead: s.window_days_ahead.unwrap_or(defaults.window_days_ahead),
            delete_guard: DeleteGuard {
                max_share,
                ..defaults.delete_guard
            },
        };
        policy.validate().map_err(|e| {
            let (field, reason) = match &e {
                ModelError::OutOfRange { field, reason } => (*field, reason.clone()),
                other => ("", other.to_string()),
            };
            let key = match field {
                "delete_guard.max_share" => "max_delete_share",
                "" => "",
                f => f,
            };
            let key = if key.is_empty() {
                prefix.to_owned()
            } else {
                format!("{prefix}.{key}")
            };
            self.invalid(key, reason)
        })?;

        let contacts_folder = s
            .contacts_folder
            .unwrap_or_else(|| DEFAULT_CONTACTS_FOLDER.to_owned());
        if contacts_folder.trim().is_empty()
            || contacts_folder.chars().count() > 255
            || contacts_folder.chars().any(char::is_control)
        {
            return Err(self.invalid(
                format!("{prefix}.contacts_folder"),
                "must be a folder name of 1 to 255 characters, without control characters",
            ));
        }
        let interval_seconds = s.interval_seconds.unwrap_or(DEFAULT_INTERVAL_SECONDS);
        if !(MIN_INTERVAL_SECONDS..=MAX_INTERVAL_SECONDS).contains(&interval_seconds) {
            return Err(self.invalid(
                format!("{prefix}.interval_seconds"),
                format!(
                    "{interval_seconds} is out of range \
                     ({MIN_INTERVAL_SECONDS} to {MAX_INTERVAL_SECONDS} seconds)"
                ),
            ));
        }
        let max_parallel_members = s
            .max_parallel_members
            .unwrap_or(DEFAULT_MAX_PARALLEL_MEMBERS);
        if !(1..=MAX_PARALLEL_MEMBERS).contains(&max_parallel_members) {
            return Err(self.invalid(
                format!("{prefix}.max_parallel_members"),
                format!("{max_parallel_members} is out of range (1 to {MAX_PARALLEL_MEMBERS})"),
            ));
        }
        let deletion_scan_every = match s.deletion_scan_every {
            None | Some(RawScanEvery::Auto) => ScanSchedule::Auto,
            Some(RawScanEvery::Every(n)) => match u32::try_from(n) {
                Ok(n) if (1..=1000).contains(&n) => ScanSchedule::Every(n),
                _ => {
                    return Err(self.invalid(
                        format!("{prefix}.deletion_scan_every"),
                        format!("{n} is out of range (\"auto\", or 1 to 1000 rounds)"),
                    ));
                }
            },
        };
        let membership_refresh = s
            .membership_refresh_seconds
            .unwrap_or(DEFAULT_MEMBERSHIP_REFRESH_SECONDS);
        if membership_refresh > MAX_INTERVAL_SECONDS {
            return Err(self.invalid(
                format!("{prefix}.membership_refresh_seconds"),
                format!(
                    "{membership_refresh} is out of range (0 to {MAX_INTERVAL_SECONDS} seconds)"
                ),
            ));
        }
        Ok(SyncConfig {
            mode: s.mode.unwrap_or_default(),
            policy,
            contacts_folder: contacts_folder.trim().to_owned(),
            contacts_filter: s.contacts_filter.unwrap_or_default(),
            interval: Duration::from_secs(interval_seconds),
            max_parallel_members,
            deletion_scan_every,
            membership_refresh: Duration::from_secs(membership_refresh),
        })
    }

    fn secret(&self, key: &str, source: SecretSource) -> Result<Secret, ConfigError> {
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
        Ok(Secret(value))
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

/// Whether `s` looks like an IANA time zone name: `UTC`, `GMT`, or `Area/Location[/More]`
/// with a known area. (A format check: the Raynet client resolves the name for real.)
fn is_iana_zone_name(s: &str) -> bool {
    const AREAS: &[&str] = &[
        "Africa",
        "America",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
        "Etc",
    ];
    if s == "UTC" || s == "GMT" {
        return true;
    }
    let mut parts = s.split('/');
    let Some(area) = parts.next() else {
        return false;
    };
    let rest: Vec<&str> = parts.collect();
    AREAS.contains(&area)
        && !rest.is_empty()
        && rest.len() <= 2
        && rest.iter().all(|p| {
            p.len() <= 32
                && p.starts_with(|c: char| c.is_ascii_uppercase())
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-+".contains(&b))
        })
}

/// Whether `s` is a GUID (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hex digits).
fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether `s` is a DNS domain name with at least two labels.
fn is_domain(s: &str) -> bool {
    s.len() <= 253
        && s.contains('.')
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const LITERAL_KEY: &str = "rk-LITERAL-7f3a9c";
    const ENV_SECRET: &str = "cs-FROM-ENV-51d2";

    fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Result<String, std::env::VarError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned().ok_or(std::env::VarError::NotPresent)
    }

    fn minimal(extra_sync: &str) -> String {
        format!(
            r#"
[[tenant]]
name = "acme"
[tenant.raynet]
instance = "acme"
user = "Integration@Acme.example"
api_key = "{LITERAL_KEY}"
[tenant.microsoft]
tenant_id = "acme.onmicrosoft.com"
client_id = "00000000-0000-4000-8000-000000000000"
client_secret = {{ env = "MS_SECRET" }}
group = "Raynet sync"
[tenant.sync]
{extra_sync}
"#
        )
    }

    fn load(text: &str) -> Result<Config, ConfigError> {
        let env = env_of(&[("MS_SECRET", ENV_SECRET)]);
        Config::from_toml(text, Path::new("/etc/raynet-sync/config.toml"), &env)
    }

    fn err(text: &str) -> ConfigError {
        match load(text) {
            Ok(_) => panic!("config should have been refused"),
            Err(e) => e,
        }
    }

    #[test]
    fn example_parses_and_matches_defaults() {
        let env = env_of(&[("RAYNET_API_KEY", "k"), ("MS_CLIENT_SECRET", "s")]);
        let c = Config::from_toml(Config::example(), Path::new("/x/example.toml"), &env).unwrap();
        assert_eq!(c.tenants.len(), 1);
        let t = &c.tenants[0];
        assert_eq!(t.sync.policy, Policy::default());
        assert_eq!(t.sync.mode, SyncMode::Both);
        assert_eq!(t.sync.contacts_folder, DEFAULT_CONTACTS_FOLDER);
        assert_eq!(
            t.sync.interval,
            Duration::from_secs(DEFAULT_INTERVAL_SECONDS)
        );
        assert_eq!(c.state_path, Path::new("/x/raynet-sync.db"));
        assert_eq!(t.sync.deletion_scan_every, ScanSchedule::Auto);
        assert_eq!(
            t.sync.membership_refresh,
            Duration::from_secs(DEFAULT_MEMBERSHIP_REFRESH_SECONDS)
        );
    }

    #[test]
    fn scan_schedule_and_membership_refresh_are_read() {
        let c = load(&minimal(
            "deletion_scan_every = 3\nmembership_refresh_seconds = 0",
        ))
        .unwrap();
        assert_eq!(
            c.tenants[0].sync.deletion_scan_every,
            ScanSchedule::Every(3)
        );
        assert_eq!(c.tenants[0].sync.membership_refresh, Duration::ZERO);
        let c = load(&minimal("deletion_scan_every = \"AUTO\"")).unwrap();
        assert_eq!(c.tenants[0].sync.deletion_scan_every, ScanSchedule::Auto);
        assert_eq!(
            load(&minimal("")).unwrap().tenants[0]
                .sync
                .deletion_scan_every,
            ScanSchedule::Auto
        );
    }

    /// The README's table of how long a Raynet deletion takes to reach Outlook.
    #[test]
    fn readme_deletion_latency_table() {
        let quarter = Duration::from_secs(900);
        let five = Duration::from_secs(300);
        // (meetings, events, persons) → scan requests → rounds between scans.
        let scan = |m: u64, e: u64, p: u64| m.div_ceil(1000) + e.div_ceil(1000) + p.div_ceil(1000);
        let rows = [
            (scan(250, 250, 200), quarter, 3, 1),
            (scan(2_500, 2_500, 2_000), quarter, 8, 1),
            (scan(12_500, 12_500, 5_050), quarter, 32, 3),
            (scan(12_500, 12_500, 5_050), five, 32, 8),
            (scan(50_000, 50_000, 20_000), quarter, 120, 10),
        ];
        for (requests, interval, want_requests, want_every) in rows {
            assert_eq!(requests, want_requests);
            assert_eq!(
                ScanSchedule::Auto.every(requests, interval, 24_000),
                want_every,
                "{requests} requests at {interval:?}"
            );
        }
    }

    #[test]
    fn auto_scan_schedule_keeps_scans_under_five_percent_of_the_quota() {
        let quarter = Duration::from_secs(900);
        for requests in [1_u64, 5, 12, 13, 25, 400, 12_000] {
            let every = ScanSchedule::Auto.every(requests, quarter, 24_000);
            let daily = requests as f64 * 96.0 / f64::from(every);
            assert!(
                daily <= 1_200.0 + 1e-9,
                "{requests}: every {every} → {daily}/day"
            );
            if every > 1 && every < 1000 {
                let one_more_often = requests as f64 * 96.0 / f64::from(every - 1);
                assert!(
                    one_more_often > 1_200.0,
                    "{requests}: every {every} is not the fewest"
                );
            }
        }
        assert_eq!(ScanSchedule::Auto.every(12, quarter, 24_000), 1);
        assert_eq!(ScanSchedule::Auto.every(13, quarter, 24_000), 2);
        assert_eq!(
            ScanSchedule::Auto.every(100_000, quarter, 24_000),
            1000,
            "capped"
        );
        assert_eq!(ScanSchedule::Auto.every(0, quarter, 24_000), 1);
        assert_eq!(
            ScanSchedule::Auto.every(5, quarter, 0),
            1000,
            "no quota known: rarely"
        );
    }

    #[test]
    fn defaults_fill_missing_keys() {
        let c = load(&minimal("")).unwrap();
        let t = &c.tenants[0];
        assert_eq!(t.raynet.user.as_str(), "integration@acme.example");
        assert_eq!(t.raynet.base_url.as_str(), DEFAULT_RAYNET_BASE_URL);
        assert_eq!(t.raynet.time_zone, DEFAULT_TIME_ZONE);
        assert_eq!(t.microsoft.graph_base_url.as_str(), DEFAULT_GRAPH_BASE_URL);
        assert_eq!(t.microsoft.authority.as_str(), DEFAULT_AUTHORITY);
        assert_eq!(t.sync.max_parallel_members, DEFAULT_MAX_PARALLEL_MEMBERS);
        assert_eq!(t.sync.contacts_filter, ContactsFilter::All);
        assert_eq!(t.raynet.api_key.expose(), LITERAL_KEY);
        assert_eq!(t.microsoft.client_secret.expose(), ENV_SECRET);
        assert_eq!(c.state_path, Path::new("/etc/raynet-sync/raynet-sync.db"));
    }

    #[test]
    fn sync_keys_map_onto_the_policy() {
        let c = load(&minimal(
            r#"mode = "meetings"
private_events = "time_blocker"
completed_events = "stop"
outlook_deletes = "delete"
invited_events = "own"
outlook_new_as = "auto"
attendees = "list"
conflict = "outlook"
delete_vs_edit = "delete"
window_days_back = 7
window_days_ahead = 60
max_delete_share = 0.5
contacts_folder = "CRM"
contacts_filter = "tag:vip"
interval_seconds = 60
max_parallel_members = 2"#,
        ))
        .unwrap();
        let s = &c.tenants[0].sync;
        assert!(s.mode.meetings() && !s.mode.contacts());
        let p = &s.policy;
        assert_eq!(p.private_events, PrivateEvents::TimeBlocker);
        assert_eq!(p.completed_events, CompletedEvents::Stop);
        assert_eq!(p.outlook_deletes, OutlookDeletes::Delete);
        assert_eq!(p.invited_events, InvitedEvents::Own);
        assert_eq!(p.outlook_new_as, OutlookNewAs::Auto);
        assert_eq!(p.attendees, AttendeeMode::List);
        assert_eq!(p.conflict, ConflictPolicy::Outlook);
        assert_eq!(p.delete_vs_edit, DeleteEditPolicy::Delete);
        assert_eq!((p.window_days_back, p.window_days_ahead), (7, 60));
        assert!((p.delete_guard.max_share - 0.5).abs() < f64::EPSILON);
        assert!(!p.delete_guard.allow);
        assert_eq!(s.contacts_folder, "CRM");
        assert_eq!(s.contacts_filter, ContactsFilter::Tag("vip".into()));
        assert_eq!(s.interval, Duration::from_secs(60));
        assert_eq!(s.max_parallel_members, 2);
    }

    #[test]
    fn errors_name_file_and_full_key() {
        let cases: &[(&str, &str, &str)] = &[
            (
                r#"private_events = "secret""#,
                "tenant[0].sync.private_events",
                "time-blocker",
            ),
            (
                "private_events = 3",
                "tenant[0].sync.private_events",
                "expected a string (allowed: standard time-blocker skip)",
            ),
            (
                "max_delete_share = \"20%\"",
                "tenant[0].sync.max_delete_share",
                "between 0 and 1",
            ),
            ("bogus = 1", "tenant[0].sync.bogus", "unknown key"),
            (
                "max_delete_share = 3",
                "tenant[0].sync.max_delete_share",
                "between 0 and 1",
            ),
            (
                "window_days_back = -1",
                "tenant[0].sync.window_days_back",
                "u32",
            ),
            (
                "window_days_back = 0\nwindow_days_ahead = 0",
                "tenant[0].sync.window_days_ahead",
                "empty",
            ),
            (
                "mode = \"all\"",
                "tenant[0].sync.mode",
                "meetings, contacts, both",
            ),
            (
                "contacts_filter = \"tag:\"",
                "tenant[0].sync.contacts_filter",
                "tag:<name>",
            ),
            (
                "interval_seconds = 1",
                "tenant[0].sync.interval_seconds",
                "out of range",
            ),
            (
                "max_parallel_members = 0",
                "tenant[0].sync.max_parallel_members",
                "1 to 64",
            ),
            (
                "deletion_scan_every = 0",
                "tenant[0].sync.deletion_scan_every",
                "1 to 1000",
            ),
            (
                "deletion_scan_every = \"sometimes\"",
                "tenant[0].sync.deletion_scan_every",
                "\"auto\"",
            ),
            (
                "deletion_scan_every = 1.5",
                "tenant[0].sync.deletion_scan_every",
                "1 to 1000",
            ),
            (
                "membership_refresh_seconds = -1",
                "tenant[0].sync.membership_refresh_seconds",
                "0 to",
            ),
        ];
        for (sync, key, allowed) in cases {
            let e = err(&minimal(sync));
            let msg = e.to_string();
            assert_eq!(e.key(), Some(*key), "{msg}");
            assert!(msg.contains("/etc/raynet-sync/config.toml"), "{msg}");
            assert!(msg.contains(key), "{msg}");
            assert!(msg.contains(allowed), "{sync}: {msg}");
        }
    }

    #[test]
    fn other_tables_are_checked_too() {
        let text = minimal("");
        let cases: &[(&str, &str, &str)] = &[
            (
                "user = \"Integration@Acme.example\"",
                "user = \"nobody\"",
                "tenant[0].raynet.user",
            ),
            (
                "instance = \"acme\"",
                "instance = \"acme\"\ntime_zone = \"Mars/Olympus\"",
                "tenant[0].raynet.time_zone",
            ),
            (
                "instance = \"acme\"",
                "instance = \"acme\"\nbase_url = \"http://app.raynet.cz/api/v2/\"",
                "tenant[0].raynet.base_url",
            ),
            (
                "client_id = \"00000000-0000-4000-8000-000000000000\"",
                "client_id = \"my-app\"",
                "tenant[0].microsoft.client_id",
            ),
            ("group = \"Raynet sync\"\n", "", "tenant[0].microsoft.group"),
            (
                "name = \"acme\"",
                "name = \"acme\"\ncolour = 1",
                "tenant[0].colour",
            ),
        ];
        for (from, to, key) in cases {
            let e = err(&text.replacen(from, to, 1));
            assert_eq!(e.key(), Some(*key), "{e}");
        }
        let e = err("state_path = 1\n");
        assert_eq!(e.key(), Some("state_path"), "{e}");
        let e = err("");
        assert_eq!(e.key(), Some("tenant"), "{e}");
        let twice = format!("{text}\n{}", minimal("").replace("[tenant.sync]", ""));
        let e = err(&twice);
        assert_eq!(e.key(), Some("tenant[1].name"), "{e}");
        let e = err("[[tenant]\n");
        assert!(
            matches!(e, ConfigError::Syntax { line: Some(1), .. }),
            "{e}"
        );
    }

    #[test]
    fn loopback_http_is_allowed_for_the_fakes() {
        let text = minimal("").replacen(
            "instance = \"acme\"",
            "instance = \"acme\"\nbase_url = \"http://127.0.0.1:8080/api/v2\"",
            1,
        );
        let c = load(&text).unwrap();
        assert_eq!(
            c.tenants[0].raynet.base_url.as_str(),
            "http://127.0.0.1:8080/api/v2/"
        );
    }

    #[test]
    fn secrets_never_appear_in_debug_or_errors() {
        let c = load(&minimal("")).unwrap();
        let debug = format!("{c:?}");
        assert!(
            !debug.contains(LITERAL_KEY) && !debug.contains(ENV_SECRET),
            "{debug}"
        );
        assert!(debug.contains("***"));

        // A wrong type for a secret: the value is not quoted.
        let text = minimal("").replace(&format!("\"{LITERAL_KEY}\""), "987654321");
        let msg = err(&text).to_string();
        assert!(msg.contains("tenant[0].raynet.api_key"), "{msg}");
        assert!(!msg.contains("987654321"), "{msg}");

        // An error elsewhere in a file holding a literal secret never quotes the file.
        let msg = err(&minimal("private_events = \"x\"")).to_string();
        assert!(!msg.contains(LITERAL_KEY), "{msg}");
        let msg = err(&format!("{}\nnope = 1", minimal(""))).to_string();
        assert!(!msg.contains(LITERAL_KEY), "{msg}");
    }

    #[test]
    fn missing_env_secret_names_key_and_variable() {
        let env = env_of(&[]);
        let e = Config::from_toml(&minimal(""), Path::new("c.toml"), &env).unwrap_err();
        let msg = e.to_string();
        assert_eq!(e.key(), Some("tenant[0].microsoft.client_secret"));
        assert!(
            msg.contains("MS_SECRET") && msg.contains("is not set"),
            "{msg}"
        );
    }

    #[test]
    fn file_secrets_resolve_against_the_config_dir() {
        let tmp = crate::testutil::TempDir::new("cfg-secret-file");
        let dir = tmp.path();
        std::fs::write(dir.join("api.key"), "rk-FROM-FILE-88\n").unwrap();
        let text = minimal("").replace(&format!("\"{LITERAL_KEY}\""), "{ file = \"api.key\" }");
        let env = env_of(&[("MS_SECRET", ENV_SECRET)]);
        let c = Config::from_toml(&text, &dir.join("c.toml"), &env).unwrap();
        assert_eq!(c.tenants[0].raynet.api_key.expose(), "rk-FROM-FILE-88");
        assert!(!format!("{c:?}").contains("rk-FROM-FILE-88"));

        let text = text.replace("api.key", "missing.key");
        let e = Config::from_toml(&text, &dir.join("c.toml"), &env).unwrap_err();
        let msg = format!("{e}");
        assert_eq!(e.key(), Some("tenant[0].raynet.api_key"));
        assert!(msg.contains("missing.key"), "{msg}");
    }

    #[test]
    fn select_by_tenant_name() {
        let c = load(&minimal("")).unwrap();
        assert_eq!(c.select(None).unwrap().len(), 1);
        assert_eq!(c.select(Some("acme")).unwrap()[0].name, "acme");
        let msg = c.select(Some("other")).unwrap_err().to_string();
        assert!(msg.contains("other") && msg.contains("acme"), "{msg}");
    }

    #[test]
    fn zone_and_id_formats() {
        for ok in [
            "Europe/Prague",
            "UTC",
            "America/Argentina/Buenos_Aires",
            "Etc/GMT+1",
        ] {
            assert!(is_iana_zone_name(ok), "{ok}");
        }
        for bad in ["Prague", "europe/prague", "Europe/", "CET ", "Mars/Base"] {
            assert!(!is_iana_zone_name(bad), "{bad}");
        }
        assert!(is_guid("0a1b2c3d-0000-4000-8000-00000000000f"));
        assert!(!is_guid("0a1b2c3d-0000-4000-8000-00000000000"));
        assert!(is_domain("contoso.onmicrosoft.com"));
        assert!(!is_domain("contoso"));
    }
}
