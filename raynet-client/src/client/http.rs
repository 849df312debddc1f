//! [`Client`]: one RAYNET instance behind the transport, with its getters
//! and the request helpers the resource handlers share.

use std::sync::Arc;

use reqwest::Method;
use serde::de::DeserializeOwned;
use url::Url;

use super::error::Result;
use super::models::{Created, DetailEnvelope};
use super::retry::RetryConfig;
use super::transport::{RateLimit, Transport, decode};

/// A RAYNET API client for one instance. Cheap to clone; clones share the
/// in-flight cap, the rate-limit state and the authentication breaker.
///
/// Requests go through one handler per resource ([`resources`](super::resources)):
/// [`Client::meetings`], [`Client::events`], [`Client::persons`],
/// [`Client::companies`], [`Client::user_accounts`] and [`Client::ext_ids`].
#[derive(Clone)]
pub struct Client {
    /// The shared transport (built by [`ClientBuilder::build`](super::ClientBuilder::build)).
    pub(super) inner: Arc<Transport>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base.as_str())
            .field("instance", &self.inner.instance)
            .field("credentials", &self.inner.credentials)
            .field("stopped", &self.inner.is_stopped())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// The API root.
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// The instance name.
    pub fn instance(&self) -> &str {
        &self.inner.instance
    }

    /// The retry configuration in force.
    pub fn retry_config(&self) -> &RetryConfig {
        &self.inner.retry
    }

    /// The `X-Ratelimit-*` values of the last answer that carried them.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.inner.rate_limit()
    }

    /// True once the credentials were refused: no further request is sent.
    pub fn is_stopped(&self) -> bool {
        self.inner.is_stopped()
    }

    /// `GET` of one record, unwrapped from its `data` envelope.
    pub(super) async fn detail<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let env: DetailEnvelope<T> = self.inner.get_json(path, &[]).await?;
        Ok(env.data)
    }

    /// `PUT` of a new record; answers its id.
    pub(super) async fn create<B: serde::Serialize>(&self, path: &str, body: &B) -> Result<u64> {
        let resp = self.inner.send_json(Method::PUT, path, body).await?;
        let created: Created = decode(&format!("PUT /{path}"), &resp.body)?;
        tracing::debug!(status = resp.status, id = created.id, "created");
        Ok(created.id)
    }
}
