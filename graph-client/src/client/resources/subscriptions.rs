//! Change-notification subscriptions (`/subscriptions`): create, list, get, renew, delete,
//! reauthorize.
//!
//! Every request carries `Prefer: IdType="ImmutableId"` (the transport sends it), so the
//! notifications of a subscription created here carry immutable ids.

use chrono::{DateTime, Utc};
use reqwest::Method;

use super::outcome::DeleteOutcome;
use crate::client::error::Result;
use crate::client::http::Client;
use crate::client::models::{NewSubscription, Subscription};
use crate::client::page::Page;
use crate::client::transport::Request;
use crate::client::url::encode_segment;

impl Client {
    /// Change-notification subscription endpoints.
    #[must_use]
    pub fn subscriptions(&self) -> Subscriptions<'_> {
        Subscriptions { client: self }
    }
}

/// Change-notification subscription endpoints (`/subscriptions`).
#[derive(Debug, Clone, Copy)]
pub struct Subscriptions<'a> {
    client: &'a Client,
}

impl Subscriptions<'_> {
    fn request(self, method: Method, path: &str, endpoint: &str) -> Request {
        Request::new(method, self.client.url(path), endpoint)
    }

    fn one(id: &str) -> String {
        format!("/subscriptions/{}", encode_segment(id))
    }

    /// `POST /subscriptions`. Graph first validates the notification URL (and the lifecycle
    /// URL) with a handshake, so this answers only after the endpoint did. Not retried (a
    /// repeat could create a second subscription). Read the answer's `expirationDateTime`
    /// back: Graph may shorten the lifetime.
    pub async fn create(&self, subscription: &NewSubscription) -> Result<Subscription> {
        let req = self
            .request(Method::POST, "/subscriptions", "POST /subscriptions")
            .json(subscription)?;
        self.client.send(&req).await
    }

    /// `GET /subscriptions`, every page (`@odata.nextLink` followed): the live subscriptions
    /// of the calling app (app-only: the ones it created for any user). Graph leaves
    /// `clientState` out of this listing.
    pub async fn list(&self) -> Result<Vec<Subscription>> {
        let first: Page<Subscription> = self
            .client
            .page(&self.request(Method::GET, "/subscriptions", "GET /subscriptions"))
            .await?;
        first
            .collect_all(|link| async move {
                let url = self.client.check_link(&link)?;
                let req = Request::new(Method::GET, url, "GET /subscriptions nextLink");
                self.client.page(&req).await
            })
            .await
    }

    /// `GET /subscriptions/{id}`.
    pub async fn get(&self, id: &str) -> Result<Subscription> {
        let req = self.request(Method::GET, &Self::one(id), "GET /subscriptions/{id}");
        self.client.send(&req).await
    }

    /// `PATCH /subscriptions/{id} {"expirationDateTime": ...}`: renews the subscription.
    /// Read the answer's `expirationDateTime` back.
    pub async fn renew(&self, id: &str, expiration: DateTime<Utc>) -> Result<Subscription> {
        let body = serde_json::json!({ "expirationDateTime": expiration });
        let req = self
            .request(Method::PATCH, &Self::one(id), "PATCH /subscriptions/{id}")
            .json(&body)?;
        self.client.send(&req).await
    }

    /// `DELETE /subscriptions/{id}`; a subscription that is already gone (`404`) is
    /// [`DeleteOutcome::AlreadyGone`].
    pub async fn delete(&self, id: &str) -> Result<DeleteOutcome> {
        let req = self.request(Method::DELETE, &Self::one(id), "DELETE /subscriptions/{id}");
        match self.client.transport().send(&req).await {
            Ok(_) => Ok(DeleteOutcome::Deleted),
            Err(e) if e.is_not_found() => Ok(DeleteOutcome::AlreadyGone),
            Err(e) => Err(e),
        }
    }

    /// `POST /subscriptions/{id}/reauthorize` (the answer to a `reauthorizationRequired`
    /// lifecycle event). Safe to repeat, so retried like a GET.
    pub async fn reauthorize(&self, id: &str) -> Result<()> {
        let path = format!("{}/reauthorize", Self::one(id));
        let req = self
            .request(Method::POST, &path, "POST /subscriptions/{id}/reauthorize")
            .retry_safe(true);
        self.client.transport().send(&req).await.map(|_| ())
    }
}
