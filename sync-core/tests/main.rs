//! sync-core's integration tests: one binary, one module per theme.
#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

// Shared builders: events, sides, rounds.
mod util;
// One readable example per row of DESIGN §3's decision table and §4's calendar rules.
mod decision_table;
// The one-way contacts plan (§5).
mod contacts;
// The audit entries a round reports: rules, ids, field changes, conflicts, failures.
mod audit;
// Runner behaviour: pending creates, crashes, failed and partial reads, the guard, dry runs.
mod runner;
// Property tests over random histories (DESIGN §3 invariants).
mod properties;
// Property tests of DESIGN §7's time-shift guard and invitation cap.
mod guard_properties;
// A whole tenant's round: membership, claims, isolation, reports (sync_core::tenant).
mod tenant;
