//! The entry points: [`Config::load`] (read a file, with the process environment),
//! [`Config::from_toml`] (any text and environment), [`Config::state_of`] (where the state is
//! kept, without the tenants' secrets) and [`Config::example`]. Loading is two steps: `raw.rs` parses
//! the text, `resolve.rs` checks it and resolves the secrets.
//!
//! The tests here go through the whole of it: text in, [`Config`] or [`ConfigError`] out.

use std::path::Path;

use super::error::ConfigError;
use super::raw::parse_raw;
use super::resolve::{Resolver, base_dir};
use super::settings::{Config, StateLocation};

/// The example config file, `bins/raynet-sync.example.toml`: every key, its default and what it
/// means.
const EXAMPLE: &str = include_str!("../../raynet-sync.example.toml");

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

    /// Where the config file at `path` keeps the state, resolving only `state_url`'s secret and
    /// checking nothing else (for `status`, which must work without the tenants' secrets).
    ///
    /// # Errors
    /// A [`ConfigError`] when the file cannot be read or parsed, or `state_url` is wrong.
    pub fn state_of(path: &Path) -> Result<StateLocation, ConfigError> {
        let text = read_file(path)?;
        let raw = parse_raw(&text, path)?;
        let cx = Resolver {
            file: path,
            base_dir: base_dir(path),
            env: &|name| std::env::var(name),
        };
        cx.state(raw.state_path.as_deref(), raw.state_url)
    }

    /// A commented example config file, with every key and its default.
    #[must_use]
    pub fn example() -> &'static str {
        EXAMPLE
    }
}

fn read_file(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        file: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::Path;
    use std::time::Duration;

    use sync_core::{
        AttendeeMode, CompletedEvents, ConflictPolicy, DeleteEditPolicy, InvitedEvents,
        OutlookDeletes, OutlookNewAs, Policy, PrivateEvents,
    };

    use crate::config::defaults::{
        DEFAULT_AUTHORITY, DEFAULT_CONTACTS_FOLDER, DEFAULT_GRAPH_BASE_URL,
        DEFAULT_INTERVAL_SECONDS, DEFAULT_MAX_PARALLEL_MEMBERS, DEFAULT_MEMBERSHIP_REFRESH_SECONDS,
        DEFAULT_RAYNET_BASE_URL, DEFAULT_TIME_ZONE,
    };
    use crate::config::error::ConfigError;
    use crate::config::settings::Config;
    use crate::config::sync_settings::SyncMode;
    use raynet_client::adapter::{PersonFilter, ScanSchedule};

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
        assert_eq!(c.state.file().unwrap(), Path::new("/x/raynet-sync.db"));
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
        assert_eq!(t.sync.contacts_filter, PersonFilter::All);
        assert_eq!(t.sync.policy.shift_guard, sync_core::ShiftGuard::default());
        assert_eq!(
            t.sync.policy.max_invitations,
            sync_core::DEFAULT_MAX_INVITATIONS
        );
        assert_eq!(t.raynet.api_key.expose(), LITERAL_KEY);
        assert_eq!(t.microsoft.client_secret().unwrap().expose(), ENV_SECRET);
        assert_eq!(
            c.state.file().unwrap(),
            Path::new("/etc/raynet-sync/raynet-sync.db")
        );
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
max_shift_share = 0.3
max_invitations = 20
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
        assert!((p.shift_guard.max_share - 0.3).abs() < f64::EPSILON);
        assert!(!p.shift_guard.allow);
        assert_eq!(p.max_invitations, 20);
        assert_eq!(s.contacts_folder, "CRM");
        assert_eq!(s.contacts_filter, PersonFilter::Tag("vip".into()));
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
                "max_shift_share = 1.5",
                "tenant[0].sync.max_shift_share",
                "between 0 and 1",
            ),
            (
                "max_invitations = -1",
                "tenant[0].sync.max_invitations",
                "0 (no cap)",
            ),
            (
                "max_invitations = 1000000",
                "tenant[0].sync.max_invitations",
                "out of range",
            ),
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
}
