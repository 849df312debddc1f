//! # sync-core — the pure sync engine of raynet-sync
//!
//! This crate decides what to write so that RAYNET CRM and Microsoft 365 Outlook hold the same
//! meetings (two-way) and contacts (one-way, Raynet → Outlook). It does no I/O of its own: the
//! two sides are [`ReadSide`]/[`WriteSide`] trait objects, the memory of past rounds is a
//! [`StateStore`], and the decisions are made by pure functions over snapshots.
//!
//! ## Glossary
//! - **side** — Raynet or Outlook ([`Side`]).
//! - **pair** — one Raynet record linked to one Outlook item of one member ([`PairRecord`]).
//! - **base** — for each side of a pair, the item as that side held it when both last agreed.
//!   A field differs from its base ⇒ that side changed it.
//! - **version token** — a side's opaque per-item version ([`Version`]): Raynet
//!   `rowInfo.updatedAt`, Graph `changeKey`.
//! - **complete listing** — a read that lists every item in scope
//!   ([`Completeness::Complete`]). Only a complete listing lets absence mean deletion; a delta
//!   read carries explicit deletion markers; a partial or failed read never deletes anything.
//! - **profile** — what a side can hold ([`EventProfile`], [`ContactProfile`]); a difference in
//!   a field a side cannot hold is not a change.
//!
//! ## One round
//! 1. **resolve** creates left pending by a crash: look each up by its idempotency key;
//! 2. **read** both sides (from their cursors);
//! 3. **plan**: [`plan_calendar`] / [`plan_contacts`] — a pure function from (state, both
//!    reads, [`Policy`], now) to a [`Plan`]: steps of writes, conflicts and how each was decided,
//!    skipped items, and the mass-deletion guard's verdict;
//! 4. **execute** the steps, recording each step in the store right after its writes succeed.
//!    One failing item is reported and retried next round; only a store failure stops the
//!    round. See [`Runner`].
//!
//! ## A tenant
//! [`tenant::Tenant`] runs one round per member and collection for a whole Microsoft 365
//! group: membership (§6), the reads and writes members share, the claims that keep one
//! outside meeting one record (§4), bounded concurrency with per-member isolation, and a
//! serialisable [`tenant::TenantReport`]. It works over two small traits the API adapters
//! implement ([`tenant::RaynetService`], [`tenant::OutlookService`]) and any
//! [`tenant::TenantStore`]; see the [`tenant`] module for an embedder's example.
//!
//! ## Map: which file holds which rule
//! | DESIGN | rule | file |
//! |---|---|---|
//! | §3 | the model: events, contacts, what each side can hold (profiles) | `event.rs`, `contact.rs`, `item.rs` |
//! | §3 | pairs, bases, cursors, pending creates; the store trait | `state.rs` |
//! | §3 | three-way field merge, conflicts and their policy, deletions vs edits | `planner/merge.rs`, `policy.rs` |
//! | §4 | private and completed events, invited events, Outlook deletions, new-item type, attendees, window | `planner/calendar_rules.rs` |
//! | §4 | one outside meeting is one Raynet record (claims, one member at a time) | `tenant/claims.rs` |
//! | §5 | contacts one-way | `planner/replicate.rs` |
//! | §6 | who is served: members matched to Raynet users, findings | `tenant/members.rs` |
//! | §7 | a failed or partial read is never a deletion | `planner/read.rs`, `runner/read.rs` |
//! | §7 | the mass-deletion guard | `planner/guard.rs` |
//! | §7 | no duplicates after a crash (idempotency keys, pending creates) | `planner/keys.rs`, `runner/prepare.rs` |
//! | §7 | per-item isolation, reports | `runner/execute.rs`, `runner/report.rs` |
//! | §7 | per-member isolation, typed member failures, the tenant report | `tenant/round.rs`, `tenant/report.rs` |
//! | — | ids and version tokens (validated newtypes) | `ids.rs` |
//! | — | the provider traits and the errors the engine classifies | `provider.rs`, `error.rs` |
//! | — | the plan as data (`Display` per action) | `plan.rs` |
//! | — | the rules that decide, as stable codes: steps and conflicts | `rule.rs` |
//! | — | the audit trail's entries: each executed step's writes, fields and rule | `audit.rs`, `runner/audit.rs` |
//! | — | in-memory sides, store and organisation; random histories | `testing/` |
//!
//! ## Example: two in-memory sides
//! ```
//! use sync_core::{testing::MemorySide, *};
//! # tokio_test(async {
//! let raynet = MemorySide::<Event>::new(EventProfile::raynet());
//! let outlook = MemorySide::<Event>::new(EventProfile::outlook());
//! let store = MemoryStore::new();
//! let now = chrono::Utc::now();
//! raynet.insert(Event::new("Kickoff", Schedule::Timed { start: now, end: now + chrono::Duration::hours(1) }));
//! let runner = Runner::new(Scope::new("acme", "jana@acme.cz", Collection::Calendar), Policy::default());
//! let report = runner.sync_calendar(&raynet, &outlook, &store, &Member::default(), now).await.unwrap();
//! assert_eq!(report.created(Side::Outlook), 1);
//! assert_eq!(outlook.items()[0].title, "Kickoff");
//! # });
//! # fn tokio_test(f: impl std::future::Future<Output = ()>) { futures::executor::block_on(f) }
//! ```

pub mod audit;
pub mod contact;
pub mod error;
pub mod event;
pub mod ids;
pub mod item;
pub mod plan;
pub mod planner;
pub mod policy;
pub mod provider;
pub mod rule;
pub mod runner;
pub mod state;
pub mod tenant;
#[cfg(feature = "testing")]
pub mod testing;

pub use audit::{AuditConflict, AuditEntry, AuditWrite, FieldChange, WriteAction};
pub use contact::{Address, Contact, ContactField, ContactProfile, Phone, PhoneKind};
pub use error::{ErrorKind, ModelError, ProviderError, StoreError, SyncError};
pub use event::{
    ActivityKind, Attendee, Event, EventField, EventProfile, EventStatus, Organizer, Response,
    Schedule, Sensitivity, SeriesRef,
};
pub use ids::{Collection, Cursor, Email, IdempotencyKey, PairId, RemoteId, Scope, Side, Version};
pub use item::{EMPTY_VALUE, Field, FieldSet, Projected, SyncItem, normalize_line, normalize_text};
pub use plan::{Conflict, Deferred, GuardTrip, Outcome, Plan, Skipped, Step, Write, offset_text};
pub use planner::{
    CalendarInput, PARTICIPANTS_MARKER, ReplicateInput, TIME_BLOCKER_TITLE, plan_calendar,
    plan_contacts, plan_replicate, strip_participants,
};
pub use policy::{
    AttendeeMode, CompletedEvents, ConflictPolicy, DEFAULT_MAX_INVITATIONS, DeleteEditPolicy,
    DeleteGuard, InvitedEvents, Member, OutlookDeletes, OutlookNewAs, Policy, PrivateEvents,
    ShiftGuard,
};
pub use provider::{
    Completeness, ReadRequest, ReadSide, Remote, SideRead, UpdateRequest, Window, WriteSide,
    Written,
};
pub use rule::{ConflictRule, StepRule};
pub use runner::{Failure, Progress, RoundReport, Runner, SideCounts};
pub use state::{
    MemoryStore, PairRecord, Pairs, PendingCreate, SideRecord, StateStore, StoredState,
};
