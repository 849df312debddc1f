//! [`PostgresStore`]: the store shared by several workers, in one PostgreSQL database (and,
//! with the URL's `schema=`, one schema of it).
//!
//! ## Layout
//! The tables are the SQLite file's (see [`super::SqliteStore`]), with PostgreSQL types:
//! - `schema_version(version)` — one row; the schema this database follows (PostgreSQL's
//!   own count: version 1 holds what the SQLite file's version 3 holds).
//! - `scopes(id, tenant, member, collection)` — one row per [`Scope`].
//! - `pairs(id, scope_id, record, raynet_id, outlook_id)` — one row per pair; `record` is the
//!   [`PairRecord`] as JSON text (the SQLite file's encoding; not `jsonb`, which refuses
//!   `\u0000`), the two id columns are indexed for
//!   [`TenantStore::recorded_version`] and [`TenantStore::scopes_holding`]. Pair ids come from
//!   the table's sequence, so a forgotten pair's id is never handed out again.
//! - `cursors(scope_id, side, cursor)`, `pending(id, scope_id, key, record)`,
//!   `rounds(id, scope_id, finished_at, summary, invitations, invitations_deferred)` (the
//!   last 50 per scope) — as in SQLite.
//! - `push_inbox(id, tenant, member, collection, side, deleted_id, received_at)`,
//!   `push_subscriptions(tenant, member, collection, record)`,
//!   `push_secrets(tenant, name, value)` — `serve`'s rows.
//! - `leases(name, holder, expires_at, epoch)` — which worker runs what, until when.
//!
//! ## Guarantees
//! - Every [`StateStore`] method runs in one transaction (or is one statement): a crash, a
//!   kill or a dropped connection leaves the old or the new state. [`StateStore::resolve_pending`]
//!   drops the pending create and stores its pair in the *same* transaction. [`StateStore::load`]
//!   reads one snapshot (`REPEATABLE READ`, read-only).
//! - The migrations run in one transaction holding an advisory lock
//!   (`pg_advisory_xact_lock`): workers starting at once on a new database wait for the first
//!   one's migration. A schema written by a newer raynet-sync is refused
//!   ([`PostgresStoreError::TooNew`]) and left untouched.
//! - Lease expiries come from the database's clock (`now()`), so workers agree whatever their
//!   own clocks say. Two workers asking for a push secret at once get the same one.
//! - [`ServiceStore::add_push_note`] keeps the note and announces its tenant on the channel
//!   `raynet_sync_notes` in one transaction; [`ServiceStore::note_wakeups`] receivers in every
//!   worker hear it (see `listen.rs`; the payload `"*"`, [`PostgresStore::EVERY_TENANT`], means
//!   every tenant: sent after the listening connection was lost and made again).
//!
//! ## Connections
//! A [`deadpool_postgres`] pool of `tokio-postgres` connections, and one more connection of
//! its own for `LISTEN`. Connections are not encrypted (`NoTls`): the database is meant to be
//! on the same machine or a private network. The URL's password never appears in a message or
//! in `Debug` output ([`PostgresStore::location`] shows `***`). With `schema=<name>` every
//! connection sets `search_path` to that schema, which is created when missing; several
//! deployments (or test runs) can then share one database. The notification channel is
//! database-wide: a deployment may be woken for another's tenant of the same name (a round that
//! finds nothing to do).
//!
//! ## Files
//!
//! | file             | holds                                                                 |
//! |------------------|-----------------------------------------------------------------------|
//! | `connect.rs`     | [`PostgresStore`]: the URL (`schema=`, the password hidden), the pool, error context |
//! | `schema.rs`      | the schema version, the migrations, the locked migration transaction  |
//! | `state_store.rs` | the [`StateStore`] impl: pairs, cursors, pending creates; scope rows   |
//! | `status.rs`      | the rounds' log and [`ServiceStore::status`]'s counts                  |
//! | `audit.rs`       | the audit trail (`explain`), inserted in chunks                        |
//! | `push.rs`        | notes (announced on `NOTIFY`), subscriptions, push secrets            |
//! | `lease.rs`       | leases on the database's clock                                        |
//! | `listen.rs`      | the `LISTEN` connection and its broadcast of wake-ups, reconnecting   |
//! | `service.rs`     | the [`TenantStore`] and [`ServiceStore`] impls                        |
//! | `error.rs`       | [`PostgresStoreError`]; the driver's errors as [`StoreError`]s         |
//!
//! Dependencies run one way: `service` → `status`, `push`, `lease`, `listen`, `state_store` →
//! `connect` → `schema` → `error`. The value ↔ text helpers (`rows.rs`) and the note columns
//! (`push.rs`) of the SQLite store are shared with it.
//!
//! [`StoreError`]: sync_core::StoreError
//! [`StateStore`]: sync_core::StateStore
//! [`StateStore::resolve_pending`]: sync_core::StateStore::resolve_pending
//! [`StateStore::load`]: sync_core::StateStore::load
//! [`TenantStore`]: sync_core::tenant::TenantStore
//! [`TenantStore::recorded_version`]: sync_core::tenant::TenantStore::recorded_version
//! [`TenantStore::scopes_holding`]: sync_core::tenant::TenantStore::scopes_holding
//! [`ServiceStore`]: super::ServiceStore
//! [`ServiceStore::status`]: super::ServiceStore::status
//! [`ServiceStore::add_push_note`]: super::ServiceStore::add_push_note
//! [`ServiceStore::note_wakeups`]: super::ServiceStore::note_wakeups
//! [`Scope`]: sync_core::Scope
//! [`PairRecord`]: sync_core::PairRecord

mod audit;
mod connect;
mod error;
mod lease;
mod listen;
mod push;
mod schema;
mod service;
mod state_store;
mod status;

pub use connect::PostgresStore;
#[cfg(test)]
pub(in crate::store) use connect::redact;
pub use error::PostgresStoreError;
#[cfg(test)]
pub(in crate::store) use listen::listen_application_name;
#[cfg(test)]
pub(in crate::store) use schema::MIGRATIONS;
#[cfg(test)]
pub(in crate::store) use schema::SCHEMA_VERSION;
