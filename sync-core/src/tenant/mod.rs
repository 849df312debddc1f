//! A tenant's round as library code: everything between "here is a Microsoft 365 group and a
//! Raynet instance" and one [`Runner`](crate::Runner) round per member and collection.
//!
//! A [`Tenant`] reads who is served (the group's members matched to Raynet users by e-mail),
//! lets each service do the reads its members share, runs every member's rounds with bounded
//! concurrency — one member's failure never stops the others — and returns a serialisable
//! [`TenantReport`]. It works over two small traits, one per service ([`RaynetService`],
//! [`OutlookService`], implemented by the `raynet-client` and `graph-client` adapters) and any
//! [`TenantStore`] (a [`StateStore`](crate::StateStore) per collection — one value may serve both).
//!
//! | file | holds |
//! |---|---|
//! | `round.rs` | [`Tenant`]: membership, shared reads, the members' rounds, recording |
//! | `members.rs` | §6 who is served: [`match_members`], [`Membership`], [`Finding`] |
//! | `claims.rs` | §4 one outside meeting is one Raynet record: [`claimed_elsewhere`], [`members_at_once`] |
//! | `service.rs` | the services' traits: [`RaynetService`], [`OutlookService`], [`RoundStart`] |
//! | `store.rs` | [`TenantStore`] and [`MemoryTenantStore`] |
//! | `report.rs` | [`TenantReport`], [`MemberFailure`], [`RoundSummary`] |
//! | `trigger.rs` | §10 push as a trigger: [`Triggers`] coalesces notifications into member rounds ([`Targets`]); [`is_own_write`] knows an echo without a read |
//! | `hint.rs` | what notifications said per side: [`Hints`]; [`HintedSide`] skips an unnamed side's read and confirms notified deletions |
//! | `error.rs` | [`TenantError`]: a round that cannot start |
//!
//! ## Example: an embedder runs a whole tenant in memory
//! ```
//! use chrono::{Duration, Utc};
//! use sync_core::tenant::{MemoryTenantStore, RoundOptions, Tenant};
//! use sync_core::testing::MemoryOrg;
//! use sync_core::{Email, Event, Policy, Schedule};
//! # futures::executor::block_on(async {
//! // Both services: in memory here; `raynet_client::adapter::RaynetServiceAdapter` and
//! // `graph_client::adapter::GraphTenant` in production.
//! let org = MemoryOrg::new();
//! let jana = org.add_member("jana@acme.cz");
//! let petr = org.add_member("petr@acme.cz");
//! let now = Utc::now();
//! let start = now + Duration::days(1);
//! jana.raynet_calendar.insert(Event::new("Kickoff", Schedule::Timed { start, end: start + Duration::hours(1) }));
//!
//! let integration = Email::new("integration@acme.cz").unwrap();
//! let tenant = Tenant::new("acme", integration, org.raynet(), org.outlook()).max_parallel_members(8);
//! let store = MemoryTenantStore::new(); // or your own `TenantStore`
//! let report = tenant.round(&store, &Policy::default(), &RoundOptions::default(), now).await.unwrap();
//!
//! assert!(report.is_clean());
//! assert_eq!(report.reports.len(), 4); // two members × (calendar, contacts)
//! assert_eq!(jana.outlook_calendar.items()[0].title, "Kickoff");
//! assert!(petr.outlook_calendar.is_empty());
//! assert_eq!(store.rounds().len(), 4); // every finished round is recorded
//! println!("{}", serde_json::to_string(&report).unwrap());
//! # });
//! ```

mod claims;
mod error;
mod hint;
mod members;
mod report;
mod round;
mod service;
mod store;
mod trigger;

pub use claims::{claimed_elsewhere, members_at_once};
pub use error::TenantError;
pub use hint::{Hint, HintedSide, Hints, SideHint};
pub use members::{Finding, GroupUser, Membership, RaynetUser, ServedMember, match_members};
pub use report::{MemberError, MemberFailure, RoundSummary, TenantReport};
pub use round::{RoundOptions, Targets, Tenant};
pub use service::{
    Collections, Group, OutlookRound, OutlookService, RaynetRound, RaynetService, RoundStart,
    ServiceRound, SharedCosts,
};
pub use store::{MemoryTenantStore, TenantStore};
pub use trigger::{Due, Triggers, is_own_write};
