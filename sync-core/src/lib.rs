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

pub mod contact;
pub mod error;
pub mod event;
pub mod ids;
pub mod item;
pub mod plan;
pub mod planner;
pub mod policy;
pub mod provider;
pub mod runner;
pub mod state;
pub mod tenant;
#[cfg(feature = "testing")]
pub mod testing;

pub use contact::{Address, Contact, ContactField, ContactProfile, Phone, PhoneKind};
pub use error::{ErrorKind, ModelError, ProviderError, StoreError, SyncError};
pub use event::{
    ActivityKind, Attendee, Event, EventField, EventProfile, EventStatus, Organizer, Response,
    Schedule, Sensitivity, SeriesRef,
};
pub use ids::{Collection, Cursor, Email, IdempotencyKey, PairId, RemoteId, Scope, Side, Version};
pub use item::{Field, FieldSet, Projected, SyncItem, normalize_line, normalize_text};
pub use plan::{Conflict, GuardTrip, Outcome, Plan, Skipped, Step, Write};
pub use planner::{
    CalendarInput, PARTICIPANTS_MARKER, ReplicateInput, TIME_BLOCKER_TITLE, plan_calendar,
    plan_contacts, plan_replicate, strip_participants,
};
pub use policy::{
    AttendeeMode, CompletedEvents, ConflictPolicy, DeleteEditPolicy, DeleteGuard, InvitedEvents,
    Member, OutlookDeletes, OutlookNewAs, Policy, PrivateEvents,
};
pub use provider::{
    Completeness, ReadRequest, ReadSide, Remote, SideRead, UpdateRequest, Window, WriteSide,
    Written,
};
pub use runner::{Failure, Progress, RoundReport, Runner, SideCounts};
pub use state::{
    MemoryStore, PairRecord, Pairs, PendingCreate, SideRecord, StateStore, StoredState,
};
