//! A typed, app-only Microsoft Graph client for raynet-sync, and an in-process fake Graph.
//!
//! # What is here
//!
//! - [`client`]: OAuth 2.0 client credentials with a token cache, one method per Graph
//!   endpoint the sync uses (groups and members, users, calendar-view delta, events,
//!   the dedicated contact folder and its contacts, `$batch`, change-notification
//!   subscriptions), typed models (with the notification payloads Graph POSTs to us), one error enum,
//!   and one transport layer that obeys `Retry-After`, keeps at most 4 requests in flight per
//!   mailbox and backs off with jitter.
//! - [`adapter`]: pure mappings between Graph's models and `sync_core`'s `Event` and
//!   `Contact`, the classification of client errors for the engine, and the engine's sides:
//!   [`GraphCalendar`] (one member's default calendar, two-way) and [`GraphContacts`] (one
//!   member's dedicated contact folder, the target of the one-way contact sync), with
//!   [`BatchPacker`] to pack the batched writes of a tenant's sides into full `$batch`
//!   requests across mailboxes. It is the only module that knows `sync_core`; nothing under
//!   [`client`] does.
//! - `fake` (cargo feature `fake`): a stateful simulator of the same endpoints over loopback
//!   HTTP, with seed builders, counters, an invitation log, fault injection, and change
//!   notifications pushed to loopback receivers.

//! # Map
//!
//! The same shape as `raynet-client`; each folder's `mod.rs` has a table of its files.
//!
//! | folder | files |
//! |---|---|
//! | `client/` | `http.rs` the [`Client`], `builder.rs`, `transport.rs` (retries, limits, spans), `retry.rs` ([`RetryConfig`]), `auth.rs` ([`Credentials`], [`ClientCredential`], tokens), `assertion.rs` (certificate and federated assertions), `resources/` one file per resource (directory, events, contacts, `$batch`, subscriptions), `models/`, `page.rs` ([`Page`], [`DeltaRound`]), `error.rs` (the one [`Error`]) |
//! | `adapter/` | `error.rs` ([`adapter::classify`]: every error → the engine's kind), `event_map.rs` and `contact_map.rs` (the mappings per item type), `calendar.rs` and `contacts.rs` (one side per collection), `packer.rs` and `prefetch.rs` (what a tenant's members share), `tenant.rs` ([`adapter::GraphTenant`]: Microsoft 365's part of a tenant round), `push.rs` (change notifications: [`adapter::SubscriptionKeeper`], [`adapter::notification_version`]) |
//! | `fake/` | `graph.rs` (the handle), `state.rs`, `seed.rs` (seed builders), `fault.rs`, `subs.rs` and `push.rs` (change notifications: state and delivery), `server/` (the HTTP server, one file per resource) |
//!
//! # Glossary
//!
//! - *mailbox*: a user's Exchange Online mailbox, addressed by the user's object id.
//! - *delta round*: reading `@odata.nextLink` pages until an `@odata.deltaLink`; the delta link
//!   starts the next round. An expired link is [`Error::DeltaExpired`]: re-read fully and
//!   reconcile, never delete.
//! - *change token*: an event's `@odata.etag` (`W/"<changeKey>"`), sent back as `If-Match`.
//!
//! # Example
//!
//! ```no_run
//! # async fn demo() -> Result<(), graph_client::Error> {
//! let client = graph_client::Client::builder()
//!     .credentials("contoso.onmicrosoft.com", "app-id", "secret")
//!     .build()?;
//! let group = client.groups().find("Sales").await?;
//! if let Some(group) = group {
//!     for member in client.groups().all_transitive_members(&group.id).await? {
//!         println!("{:?}", member.mail);
//!     }
//! }
//! # Ok(())
//! # }
//! ```

pub mod adapter;
pub mod client;
#[cfg(feature = "fake")]
pub mod fake;

pub use adapter::{
    BatchPacker, DeltaPrefetch, GraphCalendar, GraphContacts, GraphTenant, PrefetchStats,
};
pub use client::{
    AssertionAlgorithm, CertificateCredential, Client, ClientBuilder, ClientCredential,
    CredentialProblem, Credentials, DeltaRound, Error, FederatedCredential, ItemFailure, Page,
    Result, RetryConfig,
};
