//! An in-process fake of the Microsoft Graph endpoints this crate uses (cargo feature `fake`).
//!
//! [`FakeGraph::start`] serves on `127.0.0.1:0` and stops when the handle is dropped. It keeps
//! state (users, groups, mailboxes with events, series and contacts, delta tokens), answers
//! with Graph's shapes and error codes, and reproduces the sharp edges of the real service:
//! sparse occurrences in calendar-view delta, `@removed` for items leaving the window,
//! replayed items, expired tokens (`410 SyncStateNotFound`), ETags and `412`, `transactionId`
//! dedupe, contact caps, mailboxes without Exchange or outside the access policy, per-mailbox
//! throttling, and `$batch`. Lists are paged as Graph pages them (`calendarView`, events,
//! contacts and contact folders 10 a page, directory lists 100, `$top` and `@odata.nextLink`),
//! items carry the properties Graph's answers always carry, and ids are Exchange's URL-safe
//! base64.
//!
//! Like Exchange, it **delivers invitations** (on by default,
//! [`FakeGraph::set_invitation_delivery`]): a meeting organised in a mailbox of the fake —
//! through the API, a `$batch` or [`FakeGraph::add_event`] — lands in the calendar of every
//! attendee with a mailbox in the fake as their own copy (same `iCalUId`, `isOrganizer:
//! false`), follows the organiser's changes, and is marked cancelled (`isCancelled`, subject
//! `Canceled: …`) when the organiser cancels (`POST /events/{id}/cancel`) or deletes it; each
//! change of a copy shows in delta reads and change notifications. Tests inspect it through counters ([`FakeGraph::request_count`]),
//! the invitation log ([`FakeGraph::invitations`]) and inject faults ([`FakeGraph::inject`]).
//!
//! It also serves change-notification subscriptions (`/subscriptions` on a mailbox's events,
//! contacts or one contact folder's contacts): creation validates the notification and
//! lifecycle URLs with Graph's handshake, and every later change to a watched item — through
//! the API, inside a `$batch`, or through this handle's seeding and editing methods — is
//! POSTed to the notification URL, retried while the endpoint fails
//! ([`FakeGraph::set_delivery_retries`]), after an optional delay
//! ([`FakeGraph::set_delivery_delay`]). Subscriptions expire on the fake's clock
//! ([`FakeGraph::advance_clock`]); lifecycle events are sent on demand
//! ([`FakeGraph::send_lifecycle_event`]); deliveries are observed with
//! [`FakeGraph::deliveries`] and [`FakeGraph::pending_deliveries`]. **Real Graph requires
//! `https`; the fake posts only to loopback hosts (`127.0.0.0/8`, `::1`, `localhost`), over
//! `http` or `https`, and refuses any other notification URL with a 400.**
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use graph_client::fake::{EventSeed, Fault, FakeGraph, GroupSeed, UserSeed};
//! let fake = FakeGraph::start().await;
//! let alice = fake.add_user(UserSeed::new("Alice"));
//! let group = fake.add_group(GroupSeed::new("Sales").members(&[&alice]));
//! let now = chrono::Utc::now();
//! fake.add_event(&alice, EventSeed::new("Kickoff", now, now + chrono::Duration::hours(1)));
//! fake.inject(Fault::throttle("0.01").on("calendarView.delta"));
//!
//! let client = fake.client_builder().build().expect("client");
//! let members = client.groups().all_transitive_members(&group).await.expect("members");
//! assert_eq!(members[0].id, alice);
//! let round = client
//!     .events(&alice)
//!     .delta_full(now - chrono::Duration::days(1), now + chrono::Duration::days(1))
//!     .await
//!     .expect("the 429 was obeyed");
//! assert_eq!(round.items.len(), 1);
//! assert_eq!(fake.status_count(429), 1);
//! # }
//! ```
//!
//! | file | holds |
//! | --- | --- |
//! | `graph.rs` | [`FakeGraph`]: start, seed, behaviour settings, observation |
//! | `seed.rs` | [`UserSeed`] ([`MailboxAccess`]), [`GroupSeed`], [`EventSeed`], [`SeriesSeed`] |
//! | `fault.rs` | [`Fault`], [`FaultKind`] |
//! | `credentials.rs` | the apps' certificates and [`FederatedIdentityCredential`]s (registered through [`FakeGraph`]), [`generate_certificate`] |
//! | `records.rs` | [`RequestRecord`], [`Invitation`], [`InvitationKind`], [`Delivery`] |
//! | `subs.rs` | change-notification subscriptions, delivery settings and log, the clock of expiry |
//! | `push.rs` | delivery: the validation handshake and each subscription's worker (retries) |
//! | `state.rs` | the fake's data: directory, mailboxes, delta tokens, counters, faults |
//! | `time.rs` | zones, local times and recurrence dates |
//! | `server/` | request handling: routing, admission, one file per resource |

mod credentials;
mod fault;
mod graph;
mod push;
mod records;
mod seed;
mod server;
mod state;
mod subs;
mod time;

pub use credentials::{
    FEDERATED_AUDIENCE, FederatedIdentityCredential, GeneratedCertificate, generate_certificate,
};
pub use fault::{Fault, FaultKind};
pub use graph::FakeGraph;
pub use records::{Delivery, Invitation, InvitationKind, RequestRecord};
pub use seed::{EventSeed, GroupSeed, MailboxAccess, SeriesSeed, UserSeed};
