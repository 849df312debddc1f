//! # raynet-sync — the service around the sync engine
//!
//! The thin library behind the `raynet-sync` binary: everything the binary needs that is not
//! sync logic (which lives in [`sync_core`]).
//!
//! | module | files | holds |
//! |---|---|---|
//! | [`cli`] | `cli.rs` | the command line as typed, and the [exit codes](cli::exit) |
//! | [`config`] | `config/`: `raw.rs` → `resolve.rs`/`load.rs` → `settings.rs`, `sync_settings.rs`, `policy.rs`; `error.rs` | the TOML file by phase: as written (unknown keys refused, secret references), checked settings (secrets resolved as [`config::Secret`], never printed; the rules mapped onto [`sync_core::Policy`]), and errors naming the file and the key; the example config is `bins/raynet-sync.example.toml` |
//! | [`store`] | `store/`: `open.rs`, `schema.rs`, `state_store.rs`, `tenant_store.rs`, `status.rs`, `push.rs`, `lease.rs`, `audit.rs`, `service.rs`, `location.rs`, `copy.rs`; `postgres/` | [`store::ServiceStore`], everything the binary keeps, in one of two stores: [`store::SqliteStore`] (the embedded default: one file, atomic per call, refusing damaged or newer files) and [`store::PostgresStore`] (shared by several workers); `state copy` between them |
//! | [`wiring`] | `wiring.rs` | a tenant's config → the two API clients → [`sync_core::tenant::Tenant`] (whose round is library code: membership, shared reads, claims, reports) |
//! | [`push`] | `push/`: `tenant.rs`, `keep.rs`, `worker.rs`, `share.rs`, `endpoint.rs`, `service.rs` | `serve`'s push: the endpoint (handshake, `clientState` and token checks, `202`), routing a notification to a member collection, echoes known without a read, subscriptions and the webhook kept alive, notified rounds and the safety-net poll, several workers sharing a tenant through leases |
//! | [`observe`] | `observe/`: `admin.rs`, `page.rs`, `metrics.rs`, `requests.rs`, `audit.rs` | the operator's window: the admin endpoint (status page, `/metrics`, health), the metrics, the audit trail `explain` reads |
//! | [`app`] | `app/`: `run.rs`, `serve.rs`, `check.rs`, `status.rs`, `state.rs`, `explain.rs`, `report.rs`, `setup.rs`, `init/` | the commands: load the config, open the store, run, report, choose the exit code; `init`, the step-by-step setup that writes a config |
//! | `demo` | `demo/`: `sample.rs`, `sandbox.rs`, `tour.rs` | `demo` and `sandbox` and **all** the sample data (feature `fake`, on by default; `cargo build -p raynet-sync --no-default-features` leaves them out) |
//!
//! The tenant benchmark is `benches/tenant/` (`cargo bench -p raynet-sync --bench tenant`).
//!
//! ## Flow of `raynet-sync run`
//! parse the command line → load and check the config (secrets resolved) → open the state
//! file → for each tenant: [`sync_core::tenant::Tenant::round`] reads the membership and the
//! shared reads, then for each member and collection `sync_core::Runner` reads both sides,
//! plans, executes and records each write in the store → print the reports → exit with a code of
//! [`cli::exit`]: 0 clean, 2 some items or members failed, 78 bad config or state file.

pub mod app;
pub mod cli;
pub mod config;
#[cfg(feature = "fake")]
pub mod demo;
pub mod observe;
pub mod push;
pub mod store;
pub mod wiring;

#[cfg(test)]
mod testutil;
