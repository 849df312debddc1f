//! The file as written: private structs that mirror it key for key (`deny_unknown_fields`
//! everywhere, so a typo is an error, not a silently ignored setting), a secret's reference
//! ([`SecretSource`]: literal, `{ env = "NAME" }` or `{ file = "PATH" }`), and [`parse_raw`],
//! whose errors name the full dotted key and what is allowed, never quoting a value that could
//! be a secret.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use sync_core::{
    AttendeeMode, CompletedEvents, ConflictPolicy, DeleteEditPolicy, InvitedEvents, ModelError,
    OutlookDeletes, OutlookNewAs, PrivateEvents,
};

use super::defaults::{
    MAX_INTERVAL_SECONDS, MAX_INVITATIONS_PER_ROUND, MAX_PARALLEL_MEMBERS, MIN_INTERVAL_SECONDS,
};
use super::error::ConfigError;
use raynet_client::adapter::PersonFilter;

use super::sync_settings::SyncMode;

/// The whole file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) state_path: Option<PathBuf>,
    pub(super) state_url: Option<SecretSource>,
    #[serde(default)]
    pub(super) serve: RawServe,
    #[serde(default)]
    pub(super) admin: RawAdmin,
    #[serde(default)]
    pub(super) tenant: Vec<RawTenant>,
}

/// `[serve]`: read by `raynet-sync serve` only; every key optional.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawServe {
    pub(super) bind: Option<String>,
    pub(super) public_url: Option<String>,
    pub(super) poll_interval_seconds: Option<u64>,
    pub(super) coalesce_ms: Option<u64>,
    pub(super) maintenance_seconds: Option<u64>,
    pub(super) invitation_pause_seconds: Option<u64>,
    pub(super) lease_seconds: Option<u64>,
    pub(super) worker_id: Option<String>,
}

/// `[admin]`: the operator's window; every key optional.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAdmin {
    pub(super) bind: Option<String>,
    pub(super) token: Option<SecretSource>,
    pub(super) audit_days: Option<u64>,
}

/// One `[[tenant]]` table.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTenant {
    pub(super) name: String,
    pub(super) raynet: RawRaynet,
    pub(super) microsoft: RawMicrosoft,
    #[serde(default)]
    pub(super) sync: RawSync,
}

/// `[tenant.raynet]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRaynet {
    pub(super) instance: String,
    pub(super) user: String,
    pub(super) api_key: SecretSource,
    pub(super) base_url: Option<String>,
    pub(super) time_zone: Option<String>,
    pub(super) api_key_name: Option<String>,
    pub(super) webhook_token: Option<SecretSource>,
}

/// `[tenant.microsoft]`. Exactly one of `client_secret`, `certificate` and `federated`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMicrosoft {
    pub(super) tenant_id: String,
    pub(super) client_id: String,
    pub(super) client_secret: Option<SecretSource>,
    pub(super) certificate: Option<RawCertificate>,
    pub(super) federated: Option<RawFederated>,
    pub(super) group: String,
    pub(super) graph_base_url: Option<String>,
    pub(super) authority: Option<String>,
    pub(super) client_state: Option<SecretSource>,
}

/// `certificate = { ... }`: a PEM certificate (`path`, and `key` unless the file holds it), or
/// a PKCS#12 file (`pkcs12`, and its `password`); `algorithm` optional.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCertificate {
    pub(super) path: Option<PathBuf>,
    pub(super) key: Option<SecretSource>,
    pub(super) pkcs12: Option<PathBuf>,
    pub(super) password: Option<SecretSource>,
    pub(super) algorithm: Option<String>,
}

/// `federated = { token_file = "PATH" }`, or `federated = {}` for the file named by
/// `AZURE_FEDERATED_TOKEN_FILE`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFederated {
    pub(super) token_file: Option<PathBuf>,
}

/// `[tenant.sync]`: every key optional, a default for each.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSync {
    pub(super) mode: Option<SyncMode>,
    pub(super) private_events: Option<PrivateEvents>,
    pub(super) completed_events: Option<CompletedEvents>,
    pub(super) outlook_deletes: Option<OutlookDeletes>,
    pub(super) invited_events: Option<InvitedEvents>,
    pub(super) outlook_new_as: Option<OutlookNewAs>,
    pub(super) attendees: Option<AttendeeMode>,
    pub(super) conflict: Option<ConflictPolicy>,
    pub(super) delete_vs_edit: Option<DeleteEditPolicy>,
    pub(super) window_days_back: Option<u32>,
    pub(super) window_days_ahead: Option<u32>,
    pub(super) max_delete_share: Option<f64>,
    pub(super) max_shift_share: Option<f64>,
    pub(super) max_invitations: Option<usize>,
    pub(super) contacts_folder: Option<String>,
    pub(super) contacts_filter: Option<PersonFilter>,
    pub(super) interval_seconds: Option<u64>,
    pub(super) max_parallel_members: Option<usize>,
    pub(super) deletion_scan_every: Option<RawScanEvery>,
    pub(super) membership_refresh_seconds: Option<u64>,
}

/// `deletion_scan_every` as written: a whole number or `"auto"`.
#[derive(Clone, Copy, Debug)]
pub(super) enum RawScanEvery {
    /// `"auto"`.
    Auto,
    /// A number, not yet range-checked.
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

/// Where a secret comes from. Its `Deserialize` never quotes the value in an error.
pub(super) enum SecretSource {
    /// Written in the file (`api_key = "..."`).
    Literal(String),
    /// `{ env = "NAME" }`: the environment variable `NAME`.
    Env(String),
    /// `{ file = "PATH" }`: the file's content, `PATH` relative to the config file.
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

fn line_of(text: &str, span: Option<std::ops::Range<usize>>) -> Option<usize> {
    let start = span?.start;
    Some(text.get(..start)?.matches('\n').count() + 1)
}

/// Parses the file into the raw structs; errors name the key (never quoting a source line,
/// which could hold a secret).
pub(super) fn parse_raw(text: &str, file: &Path) -> Result<RawConfig, ConfigError> {
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
            "api_key" | "client_secret" | "key" | "password" => None,
            "certificate" => Some(
                "a table: { path = \"app.pem\" } (with key = { file = \"app.key\" } unless the \
                 file holds the key), or { pkcs12 = \"app.pfx\", password = { env = \"NAME\" } }"
                    .to_owned(),
            ),
            "federated" => Some(
                "a table: {} (the file named by AZURE_FEDERATED_TOKEN_FILE) or \
                 { token_file = \"PATH\" }"
                    .to_owned(),
            ),
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
        "max_delete_share" | "max_shift_share" => Some("a number between 0 and 1".to_owned()),
        "max_invitations" => Some(format!(
            "a whole number, 0 (no cap) to {MAX_INVITATIONS_PER_ROUND}"
        )),
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
