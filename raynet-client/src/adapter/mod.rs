//! Mappings between RAYNET records and the sync engine's model, and the
//! engine's provider traits on RAYNET.
//!
//! This is the only module that knows `sync_core` (habit 9): the client under
//! [`crate::client`] stays a plain API client. The mappings are pure:
//!
//! * [`activity_to_core`] — a meeting or event → [`sync_core::Event`];
//!   [`event_to_new_activity`] / [`event_to_update`] / [`participant_changes`]
//!   — the way back, as create and partial-update bodies.
//! * [`person_to_contact`] — a person → [`sync_core::Contact`] (contacts flow
//!   one way, RAYNET → Outlook).
//! * [`classify`] — every [`Error`](crate::Error) (so every HTTP status) → an
//!   [`ErrorKind`](sync_core::ErrorKind); `From<Error> for ProviderError`.
//!
//! [`RaynetCalendar`] and [`RaynetContacts`] implement the engine's provider
//! traits on top of these mappings and a [`crate::Client`]. Their reads are
//! incremental after the first: `rowInfo.lastModifiedAt` deltas from a
//! watermark cursor, with a scheduled `view=rowInfo` id scan so the engine
//! can infer deletions (see [`RaynetCalendar`]). An [`InstanceFeed`] serves
//! the incremental reads and version checks of every member of an instance
//! with one read per resource and round.
//!
//! Webhooks are a trigger on top of this, never a source of truth: the
//! [`push`] module (used as `adapter::push::classify`, apart from the error
//! [`classify`]) keeps our webhook registered and says which read a delivered
//! event calls for.
//!
//! # Time
//!
//! RAYNET times are wall-clock times of the instance's zone (default
//! Europe/Prague); the engine works in UTC. Conversions go through `chrono-tz`.
//! Writes always carry an explicit offset, so the two 02:30s of 25 October are
//! told apart; a naive local time that does not exist (29 March, 02:00–03:00)
//! moves forward by the gap, and an ambiguous one takes the earlier instant.
//!
//! RAYNET has no all-day flag. An activity from local midnight to a later local
//! midnight (or to 23:59 of the last day) reads as all-day on those dates, and
//! an all-day event is written as local midnight to local midnight, so it stays
//! all-day on the same dates across DST changes.
//!
//! # Files
//!
//! Each file uses only files above it in this table (no import cycle).
//!
//! | File | Holds |
//! |---|---|
//! | `error.rs` | [`classify`] (client error → [`ErrorKind`](sync_core::ErrorKind)), [`MapError`] |
//! | `time.rs` | [`DEFAULT_TIME_ZONE`], [`time_zone_from_code`], [`schedule_to_core`] / [`schedule_from_core`], [`local_time_to_utc`], [`last_day`] |
//! | `cursor.rs` | the watermark cursor ([`CursorInfo`]) |
//! | `facts.rs` | [`InstanceFacts`]: what the providers learn about an instance |
//! | `rows.rs` | what is read off a row: ids, [`version_of`], owner, [`EXT_ID_PREFIX`] keys, the window filter |
//! | `lookup.rs` | [`EmailsByPerson`], [`CompanyNames`] and the listings that fill them |
//! | `event_map.rs` | meeting or event ⇄ [`sync_core::Event`], [`UNTITLED`] |
//! | `contact_map.rs` | person → [`sync_core::Contact`] |
//! | `feed.rs` | [`InstanceFeed`]: the instance-wide reads and version checks of a round |
//! | `calendar.rs` | [`RaynetCalendar`]: settings and reads (`ReadSide<Event>`) |
//! | `calendar_write.rs` | [`RaynetCalendar`]'s writes (`WriteSide<Event>`) |
//! | `contacts.rs` | [`RaynetContacts`] (`ReadSide<Contact>`) |
//! | `tenant.rs` | [`RaynetTenant`]: Raynet's part of a tenant round (accounts, the shared feed, the scan's [`ScanSchedule`], [`PersonFilter`]) |
//! | `push.rs` | the public module [`push`]: webhooks as triggers — [`push::WebhookKeeper`] (keeps ours registered, [`push::WebhookState`]), [`push::classify`] (a delivered event → [`push::WebhookSignal`]), [`push::activity_owner`] |

mod calendar;
mod calendar_write;
mod contact_map;
mod contacts;
mod cursor;
mod error;
mod event_map;
mod facts;
mod feed;
mod lookup;
pub mod push;
mod rows;
mod tenant;
mod time;

pub use calendar::RaynetCalendar;
pub use contact_map::{person_to_contact, person_to_contact_with};
pub use contacts::RaynetContacts;
pub use cursor::CursorInfo;
pub use error::{MapError, classify};
pub use event_map::{
    UNTITLED, activity_to_core, event_to_new_activity, event_to_update, participant_changes,
};
pub use facts::InstanceFacts;
pub use feed::{DEFAULT_RECHECK_AGE, FeedPlan, InstanceFeed, PersonRoute};
pub use lookup::{CompanyNames, EmailsByPerson, PersonEmails};
pub use rows::{EXT_ID_PREFIX, version_of};
pub use tenant::{PersonFilter, RAYNET_DAILY_QUOTA, RaynetTenant, SCAN_QUOTA_SHARE, ScanSchedule};
pub use time::{
    DEFAULT_TIME_ZONE, last_day, local_time_to_utc, schedule_from_core, schedule_to_core,
    time_zone_from_code,
};
