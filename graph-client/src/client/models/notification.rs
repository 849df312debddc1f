//! The payloads Graph POSTs to a notification endpoint: [`ChangeNotificationCollection`] of
//! [`ChangeNotification`]s, which are change notifications (`changeType`, `resourceData`) or
//! lifecycle notifications (`lifecycleEvent`).
//!
//! Parsing is tolerant: unknown fields are ignored, every field but `value` is optional, and
//! unknown change types and lifecycle events are kept as `Unknown(String)`.
//! [`ChangeNotificationCollection::parse`] names the failing field path.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sync_secret::Secret;

use super::open_enum::open_enum;
use crate::client::error::{Error, Result};
use crate::client::page::{ItemFailure, decode_items};

open_enum!(
    /// What happened to the resource of a change notification.
    ChangeType {
        /// The item was created.
        Created = "created",
        /// The item was updated.
        Updated = "updated",
        /// The item was deleted.
        Deleted = "deleted",
    }
);

open_enum!(
    /// A lifecycle notification's event.
    LifecycleEvent {
        /// The access behind the subscription must be renewed: call
        /// `POST /subscriptions/{id}/reauthorize` (or renew the subscription).
        ReauthorizationRequired = "reauthorizationRequired",
        /// Graph removed the subscription: create it again, then catch up with delta.
        SubscriptionRemoved = "subscriptionRemoved",
        /// Some notifications were dropped: catch up with delta.
        Missed = "missed",
    }
);

/// The endpoint name used in decode errors of notification payloads.
pub const NOTIFICATION_ENDPOINT: &str = "change notification";

/// What a basic (no resource data) notification says about the changed item.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ResourceData {
    /// e.g. `#Microsoft.Graph.Event`.
    #[serde(rename = "@odata.type")]
    pub odata_type: Option<String>,
    /// The item's path, e.g. `Users/{id}/Events/{id}`.
    #[serde(rename = "@odata.id")]
    pub odata_id: Option<String>,
    /// The item's ETag after the change (absent on deletions).
    #[serde(rename = "@odata.etag")]
    pub odata_etag: Option<String>,
    /// The item's id.
    pub id: Option<String>,
}

/// One change or lifecycle notification.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct ChangeNotification {
    /// The notification's id (not always sent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The subscription it belongs to.
    pub subscription_id: String,
    /// When that subscription expires.
    pub subscription_expiration_date_time: Option<DateTime<Utc>>,
    /// What happened (change notifications).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_type: Option<ChangeType>,
    /// The subscription's client state: compare it with [`ChangeNotification::client_state_is`].
    #[serde(with = "super::secret_field")]
    pub client_state: Option<Secret>,
    /// The tenant id.
    pub tenant_id: Option<String>,
    /// The changed item's path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The changed item (change notifications).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_data: Option<ResourceData>,
    /// The lifecycle event (lifecycle notifications).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifecycle_event: Option<LifecycleEvent>,
}

impl ChangeNotification {
    /// Whether this is a lifecycle notification.
    #[must_use]
    pub fn is_lifecycle(&self) -> bool {
        self.lifecycle_event.is_some()
    }

    /// Whether the notification carries `expected` as its client state (constant-time).
    #[must_use]
    pub fn client_state_is(&self, expected: &Secret) -> bool {
        self.client_state.as_ref().is_some_and(|s| s == expected)
    }
}

/// The body of a notification POST: `{"value": [...]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ChangeNotificationCollection {
    /// The notifications.
    pub value: Vec<ChangeNotification>,
    /// Validation tokens (rich notifications only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_tokens: Option<Vec<String>>,
}

impl ChangeNotificationCollection {
    /// Parses a notification POST's body; [`Error::Decode`] names the failing field. One
    /// notification that does not decode fails the whole body: see
    /// [`ChangeNotificationCollection::parse_by_item`] to keep the others.
    ///
    /// # Errors
    /// When the body is not such a payload.
    pub fn parse(body: &[u8]) -> Result<Self> {
        let de = &mut serde_json::Deserializer::from_slice(body);
        serde_path_to_error::deserialize(de).map_err(|e| Error::Decode {
            endpoint: NOTIFICATION_ENDPOINT.to_owned(),
            path: e.path().to_string(),
            source: e.into_inner(),
        })
    }

    /// Parses a notification POST's body notification by notification: one that does not
    /// decode fails alone, as an [`ItemFailure`] whose [`Error::Decode`] names it and the
    /// field (`value[1].subscriptionExpirationDateTime`); the others are returned.
    ///
    /// # Errors
    /// [`Error::Decode`] naming the failing field when the body is not a notification
    /// collection at all (not JSON, no `value` array, `validationTokens` unreadable).
    pub fn parse_by_item(body: &[u8]) -> Result<(Self, Vec<ItemFailure>)> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Raw {
            value: Vec<serde_json::Value>,
            #[serde(default)]
            validation_tokens: Option<Vec<String>>,
        }
        let de = &mut serde_json::Deserializer::from_slice(body);
        let raw: Raw = serde_path_to_error::deserialize(de).map_err(|e| Error::Decode {
            endpoint: NOTIFICATION_ENDPOINT.to_owned(),
            path: e.path().to_string(),
            source: e.into_inner(),
        })?;
        let (value, failed) = decode_items(raw.value, NOTIFICATION_ENDPOINT, "value");
        Ok((
            Self {
                value,
                validation_tokens: raw.validation_tokens,
            },
            failed,
        ))
    }
}
