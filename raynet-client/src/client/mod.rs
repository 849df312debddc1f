//! The typed HTTP client: [`Client`] and its builder. Nothing in this module
//! knows about the sync engine.
//!
//! | File | Holds |
//! |---|---|
//! | `mod.rs` | [`Client`], [`ClientBuilder`] |
//! | `auth.rs` | [`Credentials`] (the API key is a [`sync_secret::Secret`]) |
//! | `transport.rs` | the one transport layer: retries ([`RetryConfig`]), 429s and the quota, the in-flight cap, the authentication breaker, the request span |
//! | `resources/` | one handler per resource: `client.meetings()`, `events()`, `persons()`, `companies()`, `user_accounts()`, `ext_ids(..)` |
//! | `models/` | request and response structs |
//! | `page.rs` | [`Page`](page::Page): one page of a list |
//! | `query.rs` | [`ListQuery`](query::ListQuery): filters, sorting, paging |
//! | `html.rs` | the HTML `description` to text and back |
//! | `error.rs` | [`Error`], the one error enum |

pub mod auth;
pub mod error;
pub mod html;
pub mod models;
pub mod page;
pub mod query;
pub mod resources;
pub mod transport;

pub use auth::Credentials;
pub use models::EntityName;
pub use resources::{Activities, Companies, ExtIds, Persons, UserAccounts};

use std::sync::Arc;

use reqwest::Method;
use serde::de::DeserializeOwned;
use sync_secret::Secret;
use url::Url;

use self::error::{Error, Result};
use self::models::{Created, DetailEnvelope};
use self::transport::{RateLimit, RetryConfig, Transport, decode};

/// The default RAYNET host. Instances may live on another host
/// (`app.raynetcrm.sk`, `app.raynetcrm.com`, `eu.raynetcrm.com`): the base URL
/// is always configurable.
pub const DEFAULT_BASE_URL: &str = "https://app.raynet.cz/api/v2/";

/// Builds a [`Client`].
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct ClientBuilder {
    base_url: Option<String>,
    instance: Option<String>,
    credentials: Option<Credentials>,
    retry: RetryConfig,
    user_agent: Option<String>,
}

impl ClientBuilder {
    /// The API root, e.g. `https://app.raynet.cz/api/v2/` (the default) or a
    /// fake's URL. A missing trailing slash is added.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The instance name (sent as `X-Instance-Name`).
    pub fn instance(mut self, instance: impl Into<String>) -> Self {
        self.instance = Some(instance.into());
        self
    }

    /// Login e-mail and API key (a `&str`, a `String` or a [`Secret`]).
    pub fn credentials(mut self, user: impl Into<String>, api_key: impl Into<Secret>) -> Self {
        self.credentials = Some(Credentials::new(user, api_key));
        self
    }

    /// Replaces the whole retry configuration.
    pub fn retry_config(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// Retries of safe requests after 5xx / network errors.
    pub fn max_retries(mut self, n: u32) -> Self {
        self.retry.max_retries = n;
        self
    }

    /// Retries after a 429 caused by the connection cap.
    pub fn max_rate_limit_retries(mut self, n: u32) -> Self {
        self.retry.max_rate_limit_retries = n;
        self
    }

    /// First backoff delay and its cap.
    pub fn backoff(mut self, initial: std::time::Duration, max: std::time::Duration) -> Self {
        self.retry.initial_backoff = initial;
        self.retry.max_backoff = max;
        self
    }

    /// Longest wait for the daily quota to reset before failing.
    pub fn max_quota_wait(mut self, wait: std::time::Duration) -> Self {
        self.retry.max_quota_wait = wait;
        self
    }

    /// Timeout of every request.
    pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
        self.retry.request_timeout = timeout;
        self
    }

    /// Requests in flight at once (default 3; the API refuses more than 4).
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.retry.max_in_flight = n.max(1);
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = Some(agent.into());
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the base URL is not an http(s) URL, or the
    /// instance or credentials are missing.
    pub fn build(self) -> Result<Client> {
        let mut base = self.base_url.unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        if !base.ends_with('/') {
            base.push('/');
        }
        let base = Url::parse(&base).map_err(|e| Error::Config(format!("base url: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(Error::Config("base url must be http or https".into()));
        }
        let instance = self
            .instance
            .filter(|i| !i.trim().is_empty())
            .ok_or_else(|| Error::Config("instance name is missing".into()))?;
        let credentials = self
            .credentials
            .filter(|c| !c.user.is_empty() && !c.api_key.is_empty())
            .ok_or_else(|| Error::Config("credentials are missing".into()))?;
        let mut http = reqwest::Client::builder()
            .user_agent(
                self.user_agent
                    .unwrap_or_else(|| concat!("raynet-sync/", env!("CARGO_PKG_VERSION")).into()),
            )
            .connect_timeout(self.retry.request_timeout);
        let loopback = match base.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d == "localhost",
            None => false,
        };
        if loopback {
            http = http.no_proxy();
        }
        let http = http
            .build()
            .map_err(|e| Error::Config(format!("http client: {e}")))?;
        Ok(Client {
            inner: Arc::new(Transport::new(
                http,
                base,
                instance,
                credentials,
                self.retry,
            )),
        })
    }
}

/// A RAYNET API client for one instance. Cheap to clone; clones share the
/// in-flight cap, the rate-limit state and the authentication breaker.
///
/// Requests go through one handler per resource ([`resources`]):
/// [`Client::meetings`], [`Client::events`], [`Client::persons`],
/// [`Client::companies`], [`Client::user_accounts`] and [`Client::ext_ids`].
#[derive(Clone)]
pub struct Client {
    inner: Arc<Transport>,
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
    /// Starts building a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

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
    async fn detail<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let env: DetailEnvelope<T> = self.inner.get_json(path, &[]).await?;
        Ok(env.data)
    }

    /// `PUT` of a new record; answers its id.
    async fn create<B: serde::Serialize>(&self, path: &str, body: &B) -> Result<u64> {
        let resp = self.inner.send_json(Method::PUT, path, body).await?;
        let created: Created = decode(&format!("PUT /{path}"), &resp.body)?;
        tracing::debug!(status = resp.status, id = created.id, "created");
        Ok(created.id)
    }
}
