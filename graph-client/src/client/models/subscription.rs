//! [`Subscription`] (a change-notification subscription as Graph returns it) and
//! [`NewSubscription`] (what `POST /subscriptions` sends).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sync_secret::Secret;

/// The change types of a subscription to every change: `created,updated,deleted`.
pub const ALL_CHANGE_TYPES: &str = "created,updated,deleted";

/// The body of `POST /subscriptions`.
///
/// `clientState` is a [`Secret`]: sent on the wire, printed as `***`. Graph accepts at most
/// 128 characters. `lifecycleNotificationUrl` can only be set at creation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NewSubscription {
    /// Comma-separated change types, e.g. [`ALL_CHANGE_TYPES`].
    pub change_type: String,
    /// Where Graph POSTs change notifications (https for Graph).
    pub notification_url: String,
    /// Where Graph POSTs lifecycle notifications (`reauthorizationRequired`,
    /// `subscriptionRemoved`, `missed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifecycle_notification_url: Option<String>,
    /// The watched resource, e.g. `/users/{id}/events` or
    /// `/users/{id}/contactFolders/{id}/contacts`.
    pub resource: String,
    /// When the subscription should expire (Graph may shorten it; read the answer back).
    pub expiration_date_time: DateTime<Utc>,
    /// The value every notification carries back, to check it came from Graph.
    #[serde(skip_serializing_if = "Option::is_none", with = "super::secret_field")]
    pub client_state: Option<Secret>,
}

impl NewSubscription {
    /// A subscription to every change ([`ALL_CHANGE_TYPES`]) of `resource`, delivered to
    /// `notification_url`, until `expiration`.
    #[must_use]
    pub fn new(
        resource: impl Into<String>,
        notification_url: impl Into<String>,
        expiration: DateTime<Utc>,
    ) -> Self {
        Self {
            change_type: ALL_CHANGE_TYPES.to_owned(),
            notification_url: notification_url.into(),
            lifecycle_notification_url: None,
            resource: resource.into(),
            expiration_date_time: expiration,
            client_state: None,
        }
    }

    /// Sets `lifecycleNotificationUrl`.
    #[must_use]
    pub fn lifecycle_url(mut self, url: impl Into<String>) -> Self {
        self.lifecycle_notification_url = Some(url.into());
        self
    }

    /// Sets `clientState`.
    #[must_use]
    pub fn client_state(mut self, state: impl Into<Secret>) -> Self {
        self.client_state = Some(state.into());
        self
    }
}

/// A change-notification subscription, as Graph returns it. Read `expiration_date_time`
/// back: Graph may have shortened the lifetime asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Subscription {
    /// Subscription id.
    pub id: String,
    /// The watched resource.
    pub resource: Option<String>,
    /// Comma-separated change types.
    pub change_type: Option<String>,
    /// Where change notifications go.
    pub notification_url: Option<String>,
    /// Where lifecycle notifications go.
    pub lifecycle_notification_url: Option<String>,
    /// When the subscription expires.
    pub expiration_date_time: Option<DateTime<Utc>>,
    /// The client state every notification carries.
    #[serde(with = "super::secret_field")]
    pub client_state: Option<Secret>,
    /// The application that created the subscription.
    pub application_id: Option<String>,
    /// The user or service principal that created it.
    pub creator_id: Option<String>,
    /// The newest TLS version the notification endpoint supports.
    pub latest_supported_tls_version: Option<String>,
}
