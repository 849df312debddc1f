//! Request and response structs for the Graph resources this crate uses.
//!
//! Field names follow Graph's camelCase JSON. Structs are `#[non_exhaustive]`: build them with
//! `Default::default()` and set the public fields. Open enums keep values this crate does not
//! know in an `Unknown(String)` variant, so a new Graph value never fails a read.
//!
//! | file | holds |
//! | --- | --- |
//! | `common.rs` | shared shapes: bodies, date-time-zone, addresses, extended properties (and [`property_ids_match`]), errors |
//! | `event.rs` | [`Event`] and its parts (attendees, recurrence, open enums) |
//! | `contact.rs` | [`Contact`], [`ContactFolder`] and Graph's caps on contacts |
//! | `directory.rs` | [`Group`], [`User`], [`DirectoryObject`] |
//! | `batch.rs` | [`BatchRequest`], [`BatchResponse`] |
//! | `subscription.rs` | [`Subscription`], [`NewSubscription`] (change-notification subscriptions) |
//! | `notification.rs` | [`ChangeNotificationCollection`], [`ChangeNotification`], [`ResourceData`], [`ChangeType`], [`LifecycleEvent`] (what Graph POSTs to us) |
//! | `secret_field.rs` | (de)serialising an optional `Secret` (`clientState`) |
//! | `open_enum.rs` | the `open_enum!` macro (known values plus `Unknown(String)`) |

pub(crate) mod batch;
mod common;
mod contact;
mod directory;
mod event;
mod notification;
mod open_enum;
mod secret_field;
mod subscription;

pub use batch::{BatchRequest, BatchResponse};
pub use common::{
    BodyType, DateTimeTimeZone, EmailAddress, ErrorBody, ErrorResponse, ItemBody, PhysicalAddress,
    Recipient, Removed, SingleValueExtendedProperty, property_ids_match,
};
pub use contact::{Contact, ContactFolder, MAX_CONTACT_BUSINESS_PHONES, MAX_CONTACT_EMAILS};
pub use directory::{DirectoryObject, Group, ODATA_TYPE_GROUP, ODATA_TYPE_USER, User};
pub use event::{
    Attendee, AttendeeType, DayOfWeek, Event, EventType, Importance, Location, PatternedRecurrence,
    RecurrencePattern, RecurrencePatternType, RecurrenceRange, RecurrenceRangeType, ResponseStatus,
    ResponseType, Sensitivity, ShowAs,
};
pub use notification::{
    ChangeNotification, ChangeNotificationCollection, ChangeType, LifecycleEvent,
    NOTIFICATION_ENDPOINT, ResourceData,
};
pub use subscription::{ALL_CHANGE_TYPES, NewSubscription, Subscription};
