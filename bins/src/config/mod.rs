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
//! ```
//! use raynet_sync::config::Secret;
//! let s = Secret::new("hunter2");
//! assert_eq!(format!("{s} {s:?}"), "*** ***");
//! assert_eq!(s.expose(), "hunter2");
//! ```
//!
//! [`Config::example`] is a commented example file (`bins/raynet-sync.example.toml`).
//!
//! ## Files
//!
//! | file               | holds                                                            |
//! |--------------------|------------------------------------------------------------------|
//! | `load.rs`          | [`Config::load`], [`Config::from_toml`], [`Config::example`], …  |
//! | `raw.rs`           | the file as written: serde structs, secret references, the parse |
//! | `resolve.rs`       | checking and resolving the tables, secrets (env, file), URLs     |
//! | `credential.rs`    | the Microsoft credential: `client_secret`, `certificate` or `federated` |
//! | `policy.rs`        | `[tenant.sync]` → [`SyncConfig`] and its [`sync_core::Policy`]    |
//! | `settings.rs`      | [`Config`], [`TenantConfig`], [`RaynetConfig`], [`MicrosoftConfig`] |
//! | `sync_settings.rs` | [`SyncConfig`], [`SyncMode`] (and it uses the Raynet adapter's [`PersonFilter`], [`ScanSchedule`]) |
//! | `error.rs`         | [`ConfigError`], naming the file and the key                      |
//! | `defaults.rs`      | the defaults of optional keys, the limits of numeric ones         |
//! | `formats.rs`       | format checks: IANA zone names, GUIDs, domains                    |
//!
//! `load.rs` also holds the tests of the whole loading (text in, [`Config`] or [`ConfigError`]
//! out); a test of one file's code alone sits in that file.
//!
//! Dependencies run one way: `load` → `resolve` → `policy` → `raw` → `sync_settings`
//! (`credential` adds the credential methods to `resolve`'s resolver and reads `raw`);
//! `settings`, `error`, `defaults` and `formats` are used by those above them.

mod credential;
mod defaults;
mod error;
mod formats;
mod load;
mod policy;
mod raw;
mod resolve;
mod settings;
mod sync_settings;

pub use defaults::{
    DEFAULT_ADMIN_BIND, DEFAULT_AUDIT_DAYS, DEFAULT_AUTHORITY, DEFAULT_CONTACTS_FOLDER,
    DEFAULT_GRAPH_BASE_URL, DEFAULT_INTERVAL_SECONDS, DEFAULT_LEASE_SECONDS,
    DEFAULT_MAX_PARALLEL_MEMBERS, DEFAULT_MEMBERSHIP_REFRESH_SECONDS,
    DEFAULT_POLL_INTERVAL_SECONDS, DEFAULT_RAYNET_BASE_URL, DEFAULT_SERVE_BIND, DEFAULT_STATE_PATH,
    DEFAULT_TIME_ZONE,
};
pub use error::ConfigError;
pub use raynet_client::adapter::{PersonFilter, SCAN_QUOTA_SHARE, ScanSchedule};
pub use settings::{
    AdminConfig, Config, MicrosoftConfig, RaynetConfig, ServeConfig, StateLocation, TenantConfig,
};
pub use sync_secret::Secret;
pub use sync_settings::{SyncConfig, SyncMode};
