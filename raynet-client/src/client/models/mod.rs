//! Request and response structs of the RAYNET API.
//!
//! Reading is lenient, because the API is: `success` may be a boolean or the
//! string `"true"`, references come back as small objects (`{"id":2,"name":..}`)
//! or bare ids, audit keys are flat dotted names (`"rowInfo.createdAt"`), enum
//! values beyond the documented ones are kept as `Unknown(..)`, and every field
//! except `id` is optional. Writing is strict: references are bare ids and
//! datetimes are ISO 8601 with an explicit offset.

/// Declares an open string enum: known variants plus `Unknown(String)`.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this crate does not know; kept verbatim.
            Unknown(String),
        }

        impl $name {
            /// The wire spelling of this value.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $text, )*
                    $name::Unknown(s) => s.as_str(),
                }
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $( $text => $name::$variant, )*
                    other => $name::Unknown(other.to_owned()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Ok($name::from(s.as_ref()))
            }
        }
    };
}
pub(crate) use open_enum;

mod activity;
mod common;
mod company;
mod person;
mod user_account;

pub use activity::{
    ActivityStatus, ActivityUpdate, CalendarActivity, Event, Meeting, NewActivity, Participant,
    ParticipantChange, ParticipantRole, Priority,
};
pub use common::{ApiDateTime, Created, DetailEnvelope, ListEnvelope, Ref, RowInfo, RowSummary};
pub(crate) use common::{ErrorEnvelope, local_to_utc, ser};
#[cfg(feature = "fake")]
pub(crate) use common::{de::bool_from_value as common_bool, split_tags as common_split_tags};
pub use company::{AddressEntry, Company, CompanyRole, CompanyState};
pub use person::{Address, CompanyAddress, ContactInfo, Gender, Person, Relationship};
pub use user_account::{UserAccount, UserRole};
