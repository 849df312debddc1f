//! Request and response structs of the RAYNET API.
//!
//! Reading is lenient, because the API is: `success` may be a boolean or the
//! string `"true"`, references come back as small objects (`{"id":2,"name":..}`)
//! or bare ids, audit keys are flat dotted names (`"rowInfo.createdAt"`), enum
//! values beyond the documented ones are kept as `Unknown(..)`, and every field
//! except `id` is optional. Writing is strict: references are bare ids and
//! datetimes are ISO 8601 with an explicit offset.
//!
//! Attributes are kept to what changes the decoding: a plain `Option` field
//! carries no `#[serde(default)]` (serde reads a missing one as `None`), a
//! struct whose every field may be missing takes `#[serde(default)]` once, and
//! a field read through `deserialize_with` says `default` itself unless its
//! struct does.
//!
//! | File | Holds |
//! |---|---|
//! | `macros.rs` | `open_enum!`: a string enum with `Unknown(String)` |
//! | `common.rs` | envelopes, references, `rowInfo`, datetimes, lenient decoding |
//! | `entity.rs` | [`EntityName`]: entity names as used in paths |
//! | `activity.rs` | meetings and events: read model, create and update bodies |
//! | `person.rs` | persons, contact info, addresses |
//! | `company.rs` | companies |
//! | `user_account.rs` | user accounts |
//! | `webhook.rs` | webhook registrations and the delivered event |

mod macros;

mod activity;
mod common;
mod company;
mod entity;
mod person;
mod user_account;
mod webhook;

pub use activity::{
    ActivityStatus, ActivityUpdate, CalendarActivity, Event, Meeting, NewActivity, Participant,
    ParticipantChange, ParticipantRole, Priority,
};
pub use common::{ApiDateTime, Created, DetailEnvelope, ListEnvelope, Ref, RowInfo, RowSummary};
pub(crate) use common::{ErrorEnvelope, local_to_utc, ser};
#[cfg(feature = "fake")]
pub(crate) use common::{de::bool_from_value as common_bool, split_tags as common_split_tags};
pub use company::{AddressEntry, Company, CompanyRole, CompanyState};
pub use entity::EntityName;
pub use person::{Address, CompanyAddress, ContactInfo, Gender, Person, Relationship};
pub use user_account::{UserAccount, UserRole};
pub(crate) use webhook::{CreatedWebhook, TechnicalContacts};
pub use webhook::{
    NewWebhook, WEBHOOK_TOKEN_HEADER, Webhook, WebhookData, WebhookEntity, WebhookEvent,
    WebhookEventType, WebhookList, WebhookSource, WebhookSourceName,
};
