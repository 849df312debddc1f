//! Request and response structs for the Graph resources this crate uses.
//!
//! Field names follow Graph's camelCase JSON. Structs are `#[non_exhaustive]`: build them with
//! `Default::default()` and set the public fields. Open enums keep values this crate does not
//! know in an `Unknown(String)` variant, so a new Graph value never fails a read.

pub(crate) mod batch;
mod common;
mod contact;
mod directory;
mod event;

pub use batch::{BatchRequest, BatchResponse};
pub use common::{
    BodyType, DateTimeTimeZone, EmailAddress, ErrorBody, ErrorResponse, ItemBody, PhysicalAddress,
    Recipient, Removed, SingleValueExtendedProperty,
};
pub use contact::{Contact, ContactFolder, MAX_CONTACT_BUSINESS_PHONES, MAX_CONTACT_EMAILS};
pub use directory::{DirectoryObject, Group, ODATA_TYPE_GROUP, ODATA_TYPE_USER, User};
pub use event::{
    Attendee, AttendeeType, DayOfWeek, Event, EventType, Importance, Location, PatternedRecurrence,
    RecurrencePattern, RecurrencePatternType, RecurrenceRange, RecurrenceRangeType, ResponseStatus,
    ResponseType, Sensitivity, ShowAs, property_ids_match,
};

/// Declares an open string enum: known values plus `Unknown(String)`.
macro_rules! open_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vm])* $variant,)+
            /// A value this crate does not know, kept verbatim.
            Unknown(String),
        }

        impl $name {
            /// The wire value.
            #[must_use]
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $s,)+
                    Self::Unknown(s) => s,
                }
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $($s => Self::$variant,)+
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
                Ok(Self::from(s.as_ref()))
            }
        }
    };
}
pub(crate) use open_enum;
