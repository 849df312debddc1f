//! Change notifications for a service on top of the sides: which resource to watch for a
//! member's collection ([`watched_resource`]), keeping one subscription per watched resource
//! alive ([`SubscriptionKeeper`], [`KeptSubscription`]), and what a notification says in the
//! engine's terms ([`notification_item`], [`notification_version`]).
//!
//! A notification is a trigger, never a source of truth: the side's next (delta) read decides
//! what changed. [`notification_version`] lets a receiver recognise the echo of the sync's own
//! write (the notification carries the version the write returned) and skip a round for it.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sync_core::{Collection, Cursor, ErrorKind, ProviderError, RemoteId, Version};
use sync_secret::Secret;

use super::contacts::cursor_folder;
use super::error::graph_error;
use super::keys::version_of;
use crate::client::Client;
use crate::client::encode_segment;
use crate::client::models::{ChangeNotification, NewSubscription, ResourceData, Subscription};

/// The lifetime [`SubscriptionKeeper`] asks for by default, in minutes: Outlook's longest
/// (10,080, 7 days) less 5 minutes. Graph may grant less; the answer is what counts.
pub const DEFAULT_LIFETIME_MINUTES: i64 = 10_075;

/// The resource to subscribe to for a member's collection: `/users/{id}/events` for the
/// calendar, `/users/{id}/contactFolders/{folder}/contacts` for the contacts (`None` while the
/// folder is unknown). Ids are percent-encoded as the client encodes path segments.
#[must_use]
pub fn watched_resource(
    user_id: &str,
    collection: Collection,
    contact_folder_id: Option<&str>,
) -> Option<String> {
    let user = encode_segment(user_id);
    match collection {
        Collection::Calendar => Some(format!("/users/{user}/events")),
        Collection::Contacts => contact_folder_id.filter(|f| !f.is_empty()).map(|f| {
            format!(
                "/users/{user}/contactFolders/{}/contacts",
                encode_segment(f)
            )
        }),
    }
}

/// The contact folder id a stored contacts cursor (of [`GraphContacts`]) names; `None` for
/// a cursor that is not one.
///
/// [`GraphContacts`]: super::GraphContacts
#[must_use]
pub fn contact_folder_in_cursor(cursor: &Cursor) -> Option<String> {
    cursor_folder(cursor)
}

/// The version the sides record for the notified item, read from its `@odata.etag` as
/// [`version_of`] reads it (`W/"ck"` → `ck`, the `changeKey` Outlook puts in its ETags): equal
/// to the `Written::version` of the sync's own write that caused it. `None` without an ETag
/// (deletions).
#[must_use]
pub fn notification_version(data: &ResourceData) -> Option<Version> {
    version_of(None, data.odata_etag.as_deref()).and_then(|v| Version::new(v).ok())
}

/// The notified item's id: `resourceData.id`, else the last segment of `resource`
/// (`Users/{id}/Events/{id}`, or `Events('{id}')`), percent-decoded.
#[must_use]
pub fn notification_item(n: &ChangeNotification) -> Option<RemoteId> {
    let from_data = n.resource_data.as_ref().and_then(|d| d.id.clone());
    let id = from_data.or_else(|| {
        let last = n
            .resource
            .as_deref()?
            .trim_end_matches('/')
            .rsplit('/')
            .next()?;
        let last = last
            .split_once("('")
            .and_then(|(_, rest)| rest.strip_suffix("')"))
            .unwrap_or(last);
        Some(
            percent_encoding::percent_decode_str(last)
                .decode_utf8_lossy()
                .into_owned(),
        )
    })?;
    RemoteId::new(id).ok()
}

/// A subscription the caller keeps (in its state store) for one watched resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptSubscription {
    /// The subscription id.
    pub id: String,
    /// The watched resource, as asked for ([`watched_resource`]).
    pub resource: String,
    /// When it expires, as Graph last answered.
    pub expires: DateTime<Utc>,
    /// When it was created or last renewed (the caller's `now` then).
    pub renewed_at: DateTime<Utc>,
}

impl KeptSubscription {
    /// When to renew: half-way through the lifetime Graph granted at the last creation or
    /// renewal.
    #[must_use]
    pub fn renew_due(&self) -> DateTime<Utc> {
        self.renewed_at + (self.expires - self.renewed_at) / 2
    }
}

/// What [`SubscriptionKeeper::ensure`] did; each carries the subscription to keep now.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeepOutcome {
    /// Still young: no request was sent.
    Kept(KeptSubscription),
    /// Nothing was kept for the resource (or a subscription of another resource was kept: it
    /// was deleted): a new one.
    Created(KeptSubscription),
    /// Renewed, with the expiry Graph granted.
    Renewed(KeptSubscription),
    /// The renewal found the subscription gone (expired or removed): a new one. Changes since
    /// it went were not notified; catch up with a read.
    Recreated(KeptSubscription),
}

impl KeepOutcome {
    /// The subscription to keep now.
    #[must_use]
    pub fn subscription(&self) -> &KeptSubscription {
        match self {
            Self::Kept(k) | Self::Created(k) | Self::Renewed(k) | Self::Recreated(k) => k,
        }
    }
}

/// Keeps change-notification subscriptions alive: one per watched resource, created with the
/// lifecycle URL and the client state, renewed at half of the lifetime Graph granted, created
/// again when Graph dropped it. It holds no state: the caller keeps each
/// [`KeptSubscription`] and hands it back.
#[derive(Debug, Clone)]
pub struct SubscriptionKeeper {
    client: Client,
    notification_url: String,
    lifecycle_url: String,
    client_state: Secret,
    lifetime: chrono::Duration,
}

impl SubscriptionKeeper {
    /// A keeper creating subscriptions that deliver to `notification_url` and
    /// `lifecycle_url` with `client_state`, asking for [`DEFAULT_LIFETIME_MINUTES`].
    #[must_use]
    pub fn new(
        client: Client,
        notification_url: impl Into<String>,
        lifecycle_url: impl Into<String>,
        client_state: Secret,
    ) -> Self {
        Self {
            client,
            notification_url: notification_url.into(),
            lifecycle_url: lifecycle_url.into(),
            client_state,
            lifetime: chrono::Duration::minutes(DEFAULT_LIFETIME_MINUTES),
        }
    }

    /// The lifetime to ask for at creation and renewal (Graph may grant less).
    #[must_use]
    pub fn lifetime(mut self, lifetime: chrono::Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// Makes sure `resource` has a live subscription at `now`: creates one when nothing (or
    /// a subscription of another resource, then deleted first) is `kept`, renews the kept one
    /// from its [`KeptSubscription::renew_due`] on (creating it anew when the renewal answers
    /// 404), and sends no request otherwise.
    ///
    /// # Errors
    /// A [`ProviderError`] when a request fails (creation includes Graph's validation
    /// handshake with the notification endpoints), or Graph answers without an id or expiry.
    pub async fn ensure(
        &self,
        resource: &str,
        kept: Option<&KeptSubscription>,
        now: DateTime<Utc>,
    ) -> Result<KeepOutcome, ProviderError> {
        let Some(kept) = kept else {
            return self.create(resource, now).await.map(KeepOutcome::Created);
        };
        if kept.resource != resource {
            self.remove(kept).await?;
            return self.create(resource, now).await.map(KeepOutcome::Created);
        }
        if now < kept.renew_due() {
            return Ok(KeepOutcome::Kept(kept.clone()));
        }
        match self
            .client
            .subscriptions()
            .renew(&kept.id, now + self.lifetime)
            .await
        {
            Ok(sub) => Self::kept(sub, resource, now).map(KeepOutcome::Renewed),
            Err(e) if e.is_not_found() => {
                self.create(resource, now).await.map(KeepOutcome::Recreated)
            }
            Err(e) => Err(graph_error(
                &format!("renewing subscription {}", kept.id),
                e,
            )),
        }
    }

    /// Deletes a kept subscription; one already gone is fine.
    ///
    /// # Errors
    /// A [`ProviderError`] when the delete fails.
    pub async fn remove(&self, kept: &KeptSubscription) -> Result<(), ProviderError> {
        self.client
            .subscriptions()
            .delete(&kept.id)
            .await
            .map(|_| ())
            .map_err(|e| graph_error(&format!("deleting subscription {}", kept.id), e))
    }

    /// The ids of the app's live subscriptions (`GET /subscriptions`, every page): a kept
    /// subscription missing here is gone and can be created again.
    ///
    /// # Errors
    /// A [`ProviderError`] when the listing fails.
    pub async fn live_ids(&self) -> Result<BTreeSet<String>, ProviderError> {
        let subs = self
            .client
            .subscriptions()
            .list()
            .await
            .map_err(|e| graph_error("listing subscriptions", e))?;
        Ok(subs.into_iter().map(|s| s.id).collect())
    }

    /// Answers a `reauthorizationRequired` lifecycle event
    /// (`POST /subscriptions/{id}/reauthorize`).
    ///
    /// # Errors
    /// A [`ProviderError`] when the request fails (`NotFound`: the subscription is gone).
    pub async fn reauthorize(&self, id: &str) -> Result<(), ProviderError> {
        self.client
            .subscriptions()
            .reauthorize(id)
            .await
            .map_err(|e| graph_error(&format!("reauthorizing subscription {id}"), e))
    }

    async fn create(
        &self,
        resource: &str,
        now: DateTime<Utc>,
    ) -> Result<KeptSubscription, ProviderError> {
        let new = NewSubscription::new(resource, &self.notification_url, now + self.lifetime)
            .lifecycle_url(&self.lifecycle_url)
            .client_state(self.client_state.clone());
        let sub = self
            .client
            .subscriptions()
            .create(&new)
            .await
            .map_err(|e| graph_error(&format!("subscribing to {resource}"), e))?;
        Self::kept(sub, resource, now)
    }

    /// What to keep of Graph's answer: its id and granted expiry, never the lifetime asked for.
    fn kept(
        sub: Subscription,
        resource: &str,
        now: DateTime<Utc>,
    ) -> Result<KeptSubscription, ProviderError> {
        let expires = sub.expiration_date_time.ok_or_else(|| {
            ProviderError::new(
                ErrorKind::Invalid,
                "graph answered a subscription without expirationDateTime",
            )
        })?;
        if sub.id.is_empty() {
            return Err(ProviderError::new(
                ErrorKind::Invalid,
                "graph answered a subscription without an id",
            ));
        }
        Ok(KeptSubscription {
            id: sub.id,
            resource: resource.to_owned(),
            expires,
            renewed_at: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::models::ChangeNotificationCollection;

    #[test]
    fn resources_encode_ids_and_need_the_folder() {
        assert_eq!(
            watched_resource("a@b.c", Collection::Calendar, Some("ignored")).as_deref(),
            Some("/users/a%40b.c/events")
        );
        assert_eq!(
            watched_resource("u1", Collection::Contacts, Some("AAMk/x+y=")).as_deref(),
            Some("/users/u1/contactFolders/AAMk%2Fx%2By%3D/contacts")
        );
        assert_eq!(watched_resource("u1", Collection::Contacts, None), None);
        assert_eq!(watched_resource("u1", Collection::Contacts, Some("")), None);
    }

    #[test]
    fn cursors_name_their_folder() {
        let ours = Cursor::new("gc1c;AAMk/f=;https://graph/delta?x=1").expect("cursor");
        assert_eq!(contact_folder_in_cursor(&ours).as_deref(), Some("AAMk/f="));
        let foreign = Cursor::new("https://graph/delta?x=1").expect("cursor");
        assert_eq!(contact_folder_in_cursor(&foreign), None);
    }

    #[test]
    fn renewal_is_due_at_half_of_the_granted_lifetime() {
        let at = |h: i64| DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::hours(h);
        let kept = KeptSubscription {
            id: "s".into(),
            resource: "/users/u/events".into(),
            expires: at(100),
            renewed_at: at(40),
        };
        assert_eq!(kept.renew_due(), at(70));
        let json = serde_json::to_string(&kept).expect("json");
        assert_eq!(
            serde_json::from_str::<KeptSubscription>(&json).expect("back"),
            kept
        );
    }

    #[test]
    fn notifications_give_the_item_and_the_version_the_sides_record() {
        let parse = |v: serde_json::Value| {
            ChangeNotificationCollection::parse(v.to_string().as_bytes())
                .expect("parses")
                .value
                .remove(0)
        };
        let n = parse(serde_json::json!({"value": [{
            "resource": "Users/u/Events/AAMk%2Fother",
            "resourceData": {"id": "AAMk/a+b=", "@odata.etag": "W/\"DwAAABYAAAA\""}
        }]}));
        assert_eq!(
            notification_item(&n).as_ref().map(RemoteId::as_str),
            Some("AAMk/a+b=")
        );
        let data = n.resource_data.as_ref().expect("data");
        assert_eq!(
            notification_version(data),
            Version::new(version_of(None, Some("W/\"DwAAABYAAAA\"")).expect("v")).ok()
        );
        assert_eq!(
            notification_version(data).as_ref().map(Version::as_str),
            Some("DwAAABYAAAA")
        );
        for resource in [
            "Users/u/Events/AAMk%2Fx%3D",
            "Users('u')/Events('AAMk%2Fx%3D')",
        ] {
            let n = parse(serde_json::json!({"value": [{"resource": resource}]}));
            assert_eq!(
                notification_item(&n).as_ref().map(RemoteId::as_str),
                Some("AAMk/x=")
            );
        }
        let deleted = parse(serde_json::json!({"value": [{"resourceData": {"id": "x"}}]}));
        assert_eq!(
            notification_version(deleted.resource_data.as_ref().expect("data")),
            None
        );
        assert_eq!(
            notification_item(&parse(serde_json::json!({"value": [{}]}))),
            None
        );
    }
}
