//! One suite of store tests, written once and run against every store:
//! - sync-core's [`MemoryTenantStore`] (the `StateStore`/`TenantStore` tests: it has no
//!   [`ServiceStore`]),
//! - [`SqliteStore`] on a fresh file in a temporary directory,
//! - [`PostgresStore`] in a fresh schema (`schema=` in the URL), dropped after the test.
//!
//! Each test is a generic `async fn` taking a [`Harness`]; the `suite!` invocation at the end
//! makes one `#[tokio::test]` per store of it: `store::conformance::{memory,sqlite,postgres}::NAME`.
//!
//! | file | holds |
//! |---|---|
//! | `harness.rs` | the stores under test |
//! | `fixtures.rs` | the values the tests store |
//! | `state.rs` | `StateStore`/`TenantStore` tests (every store) |
//! | `service.rs` | `ServiceStore` tests (SQLite, PostgreSQL) |
//! | `audit.rs` | the audit trail's tests |
//! | `pg_only.rs` | PostgreSQL-only tests |
//! | `mod.rs` | the `suite!` that makes a test per store |
//!
//! PostgreSQL is found at `RAYNET_SYNC_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/test`; without `schema=`). When it cannot be reached a
//! PostgreSQL test prints why on stderr (past libtest's capture) and passes without running,
//! unless `CI=true`: then it fails, so that CI never passes without them.

use std::any::Any;
use std::io::Write as _;
use std::panic::AssertUnwindSafe;
use std::str::FromStr as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::{TimeZone as _, Utc};
use futures::FutureExt as _;
use sync_core::tenant::{MemoryTenantStore, RoundSummary, TenantStore};
use sync_core::{
    AuditConflict, AuditEntry, AuditWrite, Collection, ConflictRule, Contact, Cursor, Email, Event,
    FieldChange, IdempotencyKey, PairId, PairRecord, PendingCreate, RemoteId, RoundReport,
    Schedule, Scope, Side, SideCounts, SideRecord, StepRule, StoreError, StoredState, Version,
    WriteAction,
};

use super::postgres::{PostgresStoreError, listen_application_name, redact};
use super::{
    AuditMatch, AuditTrail as _, LeaseTaken, Noted, PostgresStore, PushNote, ServiceStore,
    SqliteStore, status::ROUNDS_KEPT,
};
use crate::testutil::TempDir;
use sync_secret::Secret;

mod audit;
pub(super) mod fixtures;
mod harness;
mod pg_only;
mod service;
mod state;

use audit::*;
use fixtures::*;
use harness::*;
use pg_only::*;
use service::*;
use state::*;

// ---------------------------------------------------------------------------------------------
// The tests, one per store
// ---------------------------------------------------------------------------------------------

/// Makes a `#[tokio::test]` per store of each test: `every` runs on all three stores,
/// `service` on the two [`ServiceStore`]s, `postgres_only` on PostgreSQL.
macro_rules! suite {
    (
        every: [$($every:ident),* $(,)?],
        service: [$($service:ident),* $(,)?],
        postgres_only: [$($pg:ident),* $(,)?] $(,)?
    ) => {
        mod memory {
            use super::*;
            $(
                #[tokio::test]
                async fn $every() {
                    super::$every(&MemoryHarness::default()).await;
                }
            )*
        }

        mod sqlite {
            use super::*;
            $(
                #[tokio::test]
                async fn $every() {
                    super::$every(&SqliteHarness::new(stringify!($every))).await;
                }
            )*
            $(
                #[tokio::test]
                async fn $service() {
                    super::$service(&SqliteHarness::new(stringify!($service))).await;
                }
            )*
        }

        mod postgres {
            use super::*;
            $(
                #[tokio::test]
                async fn $every() {
                    let Some(h) = PgHarness::new(stringify!($every)).await else {
                        return;
                    };
                    let outcome = AssertUnwindSafe(super::$every(&h)).catch_unwind().await;
                    h.finish(outcome).await;
                }
            )*
            $(
                #[tokio::test]
                async fn $service() {
                    let Some(h) = PgHarness::new(stringify!($service)).await else {
                        return;
                    };
                    let outcome = AssertUnwindSafe(super::$service(&h)).catch_unwind().await;
                    h.finish(outcome).await;
                }
            )*
            $(
                #[tokio::test]
                async fn $pg() {
                    let Some(h) = PgHarness::new(stringify!($pg)).await else {
                        return;
                    };
                    let outcome = AssertUnwindSafe(super::$pg(&h)).catch_unwind().await;
                    h.finish(outcome).await;
                }
            )*
        }
    };
}

suite! {
    every: [
        every_method_round_trips_and_survives_reopen,
        contacts_are_kept_beside_events,
        scopes_are_kept_apart,
        a_crash_inside_resolve_pending_leaves_the_old_state,
        tenant_cursors_list_one_tenants_cursors,
        pair_counts_count_each_scope_of_a_tenant,
        recorded_version_finds_an_items_pair,
        scopes_holding_lists_the_members_whose_pairs_hold_an_item,
        two_instances_share_the_state,
    ],
    service: [
        a_pair_id_of_one_scope_cannot_be_written_in_another,
        status_counts_and_last_rounds,
        push_notes_survive_a_reopen_until_their_round_ran,
        dropping_notes_forgets_only_the_handled_ones,
        a_generated_secret_is_kept_and_the_same_for_concurrent_callers,
        subscriptions_are_kept_and_forgotten,
        a_lease_is_taken_and_renewed_with_its_epoch,
        a_live_lease_of_another_holder_is_refused_until_it_lapses,
        a_released_lease_can_be_taken_at_once,
        push_secrets_are_listed_and_replaced,
        freshness_is_the_last_clean_round_of_each_scope,
        member_rounds_are_logged_from_start_to_end,
        a_copy_moves_everything_and_refuses_a_target_holding_the_tenant,
        the_audit_trail_finds_an_items_entries_by_id_and_title,
        the_audit_trail_is_pruned_by_age_and_keeps_a_large_round,
    ],
    postgres_only: [
        a_note_added_by_one_worker_wakes_another,
        a_dropped_listening_connection_wakes_every_tenant,
        a_newer_schema_is_refused_and_left_untouched,
        a_version_2_schema_gains_the_invitation_columns,
        workers_starting_at_once_migrate_once,
        the_password_never_shows_once_connected,
    ],
}
