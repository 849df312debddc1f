//! Pure mappings between Graph's models and `sync_core`'s model, the classification of client
//! errors for the engine, and the engine's sides. The only module of this crate that knows
//! `sync_core`.
//!
//! - [`event_to_core`] / [`event_from_core`]: Graph event ⇄ [`sync_core::Event`]. All-day
//!   events map to floating dates and are never shifted through a zone. Sparse occurrences from
//!   calendar-view delta must first be completed with [`fill_from_master`].
//! - [`contact_from_core`]: [`sync_core::Contact`] → Graph contact, keeping Graph's caps (3
//!   e-mail addresses, 2 business phones, 1 mobile, 2 home phones) and saying what it dropped.
//! - [`contact_to_core`]: Graph contact → [`sync_core::Contact`] (the fields the forward mapping
//!   writes).
//! - [`classify`] / [`provider_error`]: every client error to a [`sync_core::ErrorKind`].
//! - The engine's sides: [`GraphCalendar`] (a member's default calendar, two-way) and
//!   [`GraphContacts`] (a member's dedicated contact folder, written one way).
//! - [`DeltaPrefetch`]: the first pages of many members' stored delta links, read 20 to a
//!   `$batch`, which the sides then use instead of a request of their own (an idle round
//!   costs one request per 20 links instead of one per link).
//! - [`BatchPacker`]: the batched writes of all members' sides of a tenant, packed into full
//!   `$batch` requests of 20 across mailboxes (50 members × 50 updates: 125 batches instead
//!   of 150).
//! - [`GraphTenant`]: the group and its members, and each round's prefetch and sides, for
//!   `sync_core::tenant::Tenant`.
//! - Change notifications: [`watched_resource`] (what to subscribe to for a member's
//!   collection), [`SubscriptionKeeper`] (one live subscription per resource, renewed at
//!   half-life), [`notification_item`] / [`notification_version`] (a notification in the
//!   engine's terms, to recognise the echo of the sync's own writes).
//!
//! | file | holds |
//! | --- | --- |
//! | `error.rs` | [`MapError`], [`classify`], [`provider_error`], [`graph_error`] |
//! | `keys.rs` | [`LINK_PROPERTY_ID`], [`link_property`], [`version_of`], [`if_match`] |
//! | `time.rs` | reading Graph's `dateTimeTimeZone` (local date-time, instant in its zone) |
//! | `event_map.rs` | Graph event ⇄ core event: [`event_to_core`], [`event_remote`], [`event_from_core`], [`event_patch`], [`fill_from_master`], [`schedule_of`], [`html_to_text`] |
//! | `contact_map.rs` | Graph contact ⇄ core contact: [`contact_from_core`] ([`MappedContact`]), [`contact_to_core`] |
//! | `calendar.rs` | [`GraphCalendar`]: a member's default calendar as the engine's side |
//! | `contacts.rs` | [`GraphContacts`]: a member's contact folder as the engine's side |
//! | `mailbox.rs` | what both sides share: the client, mailbox, link property, prefetch and packer, and their builder methods |
//! | `batch_write.rs` | a side's batched writes, each read as its single write would be |
//! | `batch_send.rs` | one `$batch` of writes on the wire, transient update failures sent again |
//! | `packer.rs` | [`BatchPacker`]: a tenant's batched writes packed into full `$batch` requests |
//! | `prefetch.rs` | [`DeltaPrefetch`], [`PrefetchStats`]: stored delta links' first pages in `$batch` |
//! | `tenant.rs` | [`GraphTenant`]: Microsoft 365's part of a tenant round (the group, the prefetch and the packer shared by its members) |
//! | `push.rs` | change notifications: [`watched_resource`], [`contact_folder_in_cursor`], [`SubscriptionKeeper`] ([`KeptSubscription`], [`KeepOutcome`]), [`notification_item`], [`notification_version`] |

mod batch_send;
mod batch_write;
mod calendar;
mod contact_map;
mod contacts;
mod error;
mod event_map;
mod keys;
mod mailbox;
mod packer;
mod prefetch;
mod push;
mod tenant;
mod time;

pub use calendar::{GraphCalendar, SeriesMasters};
pub use contact_map::{MappedContact, contact_from_core, contact_to_core};
pub use contacts::GraphContacts;
pub use error::{MapError, classify, graph_error, provider_error};
pub use event_map::{
    event_from_core, event_patch, event_remote, event_to_core, fill_from_master, html_to_text,
    schedule_of,
};
pub use keys::{LINK_PROPERTY_ID, if_match, link_property, version_of};
pub use packer::BatchPacker;
pub use prefetch::{DeltaPrefetch, PrefetchStats};
pub use push::{
    DEFAULT_LIFETIME_MINUTES, KeepOutcome, KeptSubscription, SubscriptionKeeper,
    contact_folder_in_cursor, notification_item, notification_version, watched_resource,
};
pub use tenant::GraphTenant;
