//! [`SqliteStore`]: the embedded [`StateStore`], one SQLite file for every tenant, member and
//! collection.
//!
//! ## Layout
//! - `schema_version(version)` — one row; the schema this file follows.
//! - `scopes(id, tenant, member, collection)` — one row per [`Scope`].
//! - `pairs(id, scope_id, record, raynet_id, outlook_id)` — one row per pair; `record` is the
//!   [`PairRecord`] as JSON, the two id columns are copies for people inspecting the file.
//!   Pair ids come from `AUTOINCREMENT`, so a forgotten pair's id is never handed out again.
//! - `cursors(scope_id, side, cursor)` — each side's incremental-read cursor.
//! - `pending(id, scope_id, key, record)` — creates recorded before they are sent
//!   ([`PendingCreate`] as JSON), in the order they were added.
//! - `rounds(id, scope_id, finished_at, summary, invitations, invitations_deferred)` — the
//!   summaries of the last rounds of each scope, for `raynet-sync status`, with each round's
//!   invitation counts (writes that mailed attendees, and those the invitation cap deferred).
//!
//! ## Guarantees
//! - Every [`StateStore`] method runs in one transaction: a crash (or a kill) leaves either
//!   the old or the new state. [`StateStore::resolve_pending`] drops the pending create and
//!   stores its pair in the *same* transaction, so a crash can never leave both (which would
//!   make the next round look the item up again) or neither.
//! - The file is in WAL mode with `synchronous = FULL` and a busy timeout, so a second process
//!   (`raynet-sync status` during `run --watch`) waits instead of failing.
//! - A file that is not an SQLite database, is damaged, belongs to another program, or was
//!   written by a newer raynet-sync (a higher schema version) is refused with a
//!   [`StateFileError`] and never written to.
//!
//! ## Blocking
//! rusqlite is synchronous. The connection sits behind a [`std::sync::Mutex`] and each call
//! does its work inline, on the calling task's thread: the writes are a few small rows in a
//! local file (well under a millisecond without contention), which is cheaper than a hop to a
//! blocking thread pool. Calls from parallel members are serialized by the mutex; the lock is
//! never held across an `.await`.
//!
//! ## Files
//!
//! | file             | holds                                                              |
//! |------------------|--------------------------------------------------------------------|
//! | `open.rs`        | [`SqliteStore`]: opening (WAL, refusing a bad file), transactions   |
//! | `schema.rs`      | [`SCHEMA_VERSION`], the migrations, the probe of a file's version  |
//! | `state_store.rs` | the [`StateStore`] impl: pairs, cursors, pending creates           |
//! | `status.rs`      | [`RoundRecord`], [`ScopeStatus`], [`SqliteStore::cursors_of`]      |
//! | `tenant_store.rs`| the [`TenantStore`] impl: a tenant's cursors and pair counts, rounds |
//! | `rows.rs`        | values ↔ rows: scope row ids, collections and sides, JSON records  |
//! | `error.rs`       | [`StateFileError`]; SQLite's errors as [`StoreError`]s             |
//! | `push.rs`        | the notes waiting for their round, subscriptions, push secrets      |
//! | `lease.rs`       | leases and the member-round log in the file                        |
//! | `service.rs`     | [`ServiceStore`]: the trait both stores implement for the binary    |
//! | `location.rs`    | [`open_store`]: the file or the database the config names          |
//! | `copy.rs`        | [`copy_state`]: `state copy`, one store's contents into another    |
//! | `audit.rs`       | the audit trail in the file: every write and its rule (`explain`)   |
//! | `postgres/`      | [`PostgresStore`]: the same store in PostgreSQL, shared by workers  |
//! | `conformance.rs` | (tests) one suite run against every store                          |
//!
//! Dependencies run one way: `tenant_store`, `state_store` → `status` → `open` → `schema` → `error`; `rows`
//! and `error` are used by those above them.
//!
//! [`StoreError`]: sync_core::StoreError
//! [`StateStore`]: sync_core::StateStore
//! [`TenantStore`]: sync_core::tenant::TenantStore
//! [`StateStore::resolve_pending`]: sync_core::StateStore::resolve_pending
//! [`Scope`]: sync_core::Scope
//! [`PairRecord`]: sync_core::PairRecord
//! [`PendingCreate`]: sync_core::PendingCreate

mod audit;
#[cfg(test)]
mod conformance;
mod copy;
mod error;
mod lease;
mod location;
mod open;
mod postgres;
mod push;
mod rows;
mod schema;
mod service;
mod state_store;
mod status;
mod tenant_store;

pub use copy::{CopyError, CopyReport, copy_state};
pub use error::StateFileError;
pub use location::open_store;
pub use open::SqliteStore;
pub use postgres::{PostgresStore, PostgresStoreError};
pub use push::{Noted, PushNote};
pub use schema::SCHEMA_VERSION;
pub use service::{
    AuditMatch, AuditRecord, AuditTrail, Lease, LeaseTaken, MEMBER_ROUNDS_KEPT, MemberRound,
    ServiceStore, fold_label, keeper_lease, member_lease,
};
pub use status::{RoundRecord, ScopeStatus};
