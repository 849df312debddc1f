//! # raynet-sync — the service around the sync engine
//!
//! The thin library behind the `raynet-sync` binary: everything the binary needs that is not
//! sync logic (which lives in [`sync_core`]).
//!
//! - [`config`] — the TOML config file: tenants, credentials ([`config::Secret`], never
//!   printed) and the sync rules, mapped onto [`sync_core::Policy`]; every error names the
//!   file and the key.
//! - [`store`] — [`store::SqliteStore`], the embedded [`sync_core::StateStore`]: one SQLite
//!   file, atomic per call, refusing damaged or newer files.
//! - [`cli`] — the command line as typed, and the [exit codes](cli::exit).
//! - [`app`] — the commands: load the config, open the store, run, report.
//! - [`wiring`] — a tenant's config → the two API clients → [`sync_core::tenant::Tenant`]
//!   (whose round is library code: membership, shared reads, claims, reports).
//! - `demo` (feature `fake`, on by default) — `demo` and `sandbox`: the fake servers and all
//!   the sample data. `cargo build -p raynet-sync --no-default-features` leaves them out.
//!
//! ## Flow of `raynet-sync run`
//! parse the command line → load and check the config (secrets resolved) → open the state
//! file → for each tenant and member: `sync_core::Runner` reads both sides, plans, executes
//! and records each write in the store → print the reports → exit with a code of
//! [`cli::exit`]: 0 clean, 2 some items or members failed, 78 bad config or state file.

pub mod app;
pub mod cli;
pub mod config;
#[cfg(feature = "fake")]
pub mod demo;
pub mod store;
pub mod wiring;

#[cfg(test)]
mod testutil;
