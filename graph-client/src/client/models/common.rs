//! Small complex types shared by several resources.

use serde::{Deserialize, Serialize};

use super::open_enum::open_enum;

/// Graph's error envelope: `{"error": {"code", "message", "innerError"}}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct ErrorResponse {
    /// The error.
    pub error: ErrorBody,
}

/// The body of Graph's error envelope.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct ErrorBody {
    /// Machine-readable code, e.g. `ErrorItemNotFound` (compare case-insensitively).
    pub code: String,
    /// Human-readable message (never branch on it).
    pub message: String,
}

/// A point in time with its time zone name (`dateTimeTimeZone`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DateTimeTimeZone {
    /// Local date and time, e.g. `2026-01-05T09:00:00.0000000`.
    pub date_time: String,
    /// Windows or IANA zone name, e.g. `UTC`.
    pub time_zone: String,
}

impl DateTimeTimeZone {
    /// Builds a value from its two parts.
    #[must_use]
    pub fn new(date_time: impl Into<String>, time_zone: impl Into<String>) -> Self {
        Self {
            date_time: date_time.into(),
            time_zone: time_zone.into(),
        }
    }

    /// A UTC instant, written as Graph writes it.
    #[must_use]
    pub fn utc(at: chrono::DateTime<chrono::Utc>) -> Self {
        Self::new(at.format("%Y-%m-%dT%H:%M:%S.0000000").to_string(), "UTC")
    }
}

/// A name and an e-mail address.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct EmailAddress {
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// SMTP address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

impl EmailAddress {
    /// Builds an address with an optional name.
    #[must_use]
    pub fn new(address: impl Into<String>, name: Option<String>) -> Self {
        Self {
            name,
            address: Some(address.into()),
        }
    }
}

/// An organizer or another recipient.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Recipient {
    /// The address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_address: Option<EmailAddress>,
}

open_enum! {
    /// Body content type.
    BodyType {
        /// Plain text.
        Text = "text",
        /// HTML.
        Html = "html",
    }
}

/// An item body.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ItemBody {
    /// `text` or `html`.
    pub content_type: BodyType,
    /// The content.
    #[serde(default)]
    pub content: String,
}

impl ItemBody {
    /// A plain-text body.
    #[must_use]
    pub fn text(content: impl Into<String>) -> Self {
        Self {
            content_type: BodyType::Text,
            content: content.into(),
        }
    }
}

/// A postal address.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct PhysicalAddress {
    /// Street.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    /// City.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// State or region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Postal code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// Country or region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country_or_region: Option<String>,
}

/// A single-value extended property (`{"id": "String {guid} Name X", "value": "..."}`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct SingleValueExtendedProperty {
    /// Property id, e.g. `String {guid} Name RaynetId`.
    pub id: String,
    /// Value (always a string on the wire).
    #[serde(default)]
    pub value: String,
}

impl SingleValueExtendedProperty {
    /// Builds a property.
    #[must_use]
    pub fn new(id: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            value: value.into(),
        }
    }

    /// The id of a named string property: `String {guid} Name {name}`.
    #[must_use]
    pub fn named_string_id(guid: &str, name: &str) -> String {
        format!("String {{{guid}}} Name {name}")
    }
}

/// Extended property ids: the type and GUID compare case-insensitively, the name exactly
/// (Graph matches the `Name` part case-sensitively).
#[must_use]
pub fn property_ids_match(a: &str, b: &str) -> bool {
    match (a.split_once(" Name "), b.split_once(" Name ")) {
        (Some((pa, na)), Some((pb, nb))) => pa.eq_ignore_ascii_case(pb) && na == nb,
        _ => a.eq_ignore_ascii_case(b),
    }
}

/// The `@removed` marker of a delta item.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
#[non_exhaustive]
pub struct Removed {
    /// `deleted` or `changed`.
    pub reason: String,
}

/// The methods of an item that carries extended properties (`single_value_extended_properties`)
/// and can be a delta's `@removed` marker (`removed`): events and contacts.
macro_rules! item_methods {
    ($item:ident) => {
        impl $item {
            /// The value of the extended property `id`, if the response carried it.
            #[must_use]
            pub fn extended_property(&self, id: &str) -> Option<&str> {
                self.single_value_extended_properties
                    .as_deref()?
                    .iter()
                    .find(|p| $crate::client::models::common::property_ids_match(&p.id, id))
                    .map(|p| p.value.as_str())
            }

            /// Whether this delta item is an `@removed` marker.
            #[must_use]
            pub fn is_removed(&self) -> bool {
                self.removed.is_some()
            }
        }
    };
}
pub(crate) use item_methods;
