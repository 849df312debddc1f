//! Typed async client for the RAYNET CRM REST API v2, as used by raynet-sync.
//!
//! The crate has two layers, kept apart on purpose:
//!
//! * [`client`] — HTTP and models only (never depends on the sync engine): a
//!   [`Client`] with one handler per resource (`client.meetings()`,
//!   `client.events()`, `client.persons()`, `client.companies()`,
//!   `client.user_accounts()`, `client.ext_ids(..)`, `client.webhooks()`), request/response structs
//!   in [`client::models`], a typed filter builder ([`ListQuery`]) and one
//!   transport layer that owns retries, rate limits, the in-flight cap and the
//!   authentication breaker.
//! * [`adapter`] — the only module that knows `sync_core`: pure mappings
//!   between RAYNET records and the engine's `Event`/`Contact`, and the
//!   classification of this crate's errors into `sync_core::ErrorKind`.
//! * [`fake`] (cargo feature `fake`) — an in-process, stateful fake RAYNET
//!   server (axum on `127.0.0.1:0`) for tests and demos, with fault injection
//!   and request counters.
//!
//! # Map
//!
//! The same shape as `graph-client`; each folder's `mod.rs` has a table of its
//! files.
//!
//! | folder | files |
//! |---|---|
//! | `client/` | `http.rs` the [`Client`], `builder.rs`, `transport.rs` (retries, 429s, the quota, the in-flight cap, the authentication breaker, spans), `retry.rs` ([`RetryConfig`]), `auth.rs` ([`Credentials`]), `resources/` one file per resource (activities, persons, companies, user accounts, extIds, webhooks), `models/`, `page.rs` ([`Page`]), `query.rs` ([`ListQuery`]), `html.rs`, `error.rs` (the one [`Error`]) |
//! | `adapter/` | `error.rs` ([`adapter::classify`]: every error → the engine's kind), `event_map.rs` and `contact_map.rs` (the mappings per item type), `time.rs`, `calendar.rs` + `calendar_write.rs` and `contacts.rs` (one side per collection), `feed.rs`, `facts.rs`, `cursor.rs` (what a tenant's members share), `tenant.rs` ([`adapter::RaynetTenant`]: Raynet's part of a tenant round, the deletion scan's [`adapter::ScanSchedule`]), `push.rs` ([`adapter::push`]: keeping our webhook registered, what a delivered event calls for) |
//! | `fake/` | `mod.rs` (the handle), `instance.rs`, `seed.rs` (seed builders), `fault.rs`, `push.rs` + `push_settings.rs` (webhook deliveries, to loopback URLs only), `state/` (the API's semantics), `server/` (the HTTP server, one file per resource) |
//!
//! # Glossary
//!
//! * **instance** — one RAYNET tenant, named by the `X-Instance-Name` header.
//! * **activity** — a RAYNET calendar item: a *meeting* (`/meeting/`) or an
//!   *event* (`/event/`, "událost"). Both share one model,
//!   [`CalendarActivity`].
//! * **extId** — an external identifier (`prefix:value`) attached to a record;
//!   up to 10 per record.
//! * **watermark** — the `rowInfo.lastModifiedAt` value from which an
//!   incremental read starts again.
//!
//! # Example
//!
//! ```no_run
//! use raynet_client::{Client, ListQuery, Op};
//!
//! # async fn run() -> Result<(), raynet_client::Error> {
//! let client = Client::builder()
//!     .base_url("https://app.raynet.cz/api/v2/")
//!     .instance("acme")
//!     .credentials("api@acme.cz", "crm-secret")
//!     .build()?;
//! let query = ListQuery::new()
//!     .filter("rowInfo.lastModifiedAt", Op::Ge, "2026-01-01T00:00:00.000+00:00")
//!     .sort("rowInfo.lastModifiedAt", raynet_client::SortDirection::Asc);
//! let changed = client.persons().list_all(&query).await?;
//! println!("{} persons changed", changed.len());
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

pub mod adapter;
pub mod client;
#[cfg(feature = "fake")]
pub mod fake;
#[cfg(test)]
mod testutil;

pub use client::auth::Credentials;
pub use client::error::Error;
pub use client::html::{html_to_text, text_to_html};
pub use client::models;
pub use client::models::{CalendarActivity, Company, EntityName, Person, UserAccount};
pub use client::page::{ItemFailure, Listing, Page};
pub use client::query::{FilterValue, ListQuery, Op, SortDirection};
pub use client::transport::{RateLimit, RetryConfig};
pub use client::{Client, ClientBuilder, DEFAULT_BASE_URL};
