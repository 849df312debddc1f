//! [`ClientBuilder`] (and [`Client::builder`]): base URL, instance,
//! credentials, retry settings; [`DEFAULT_BASE_URL`].

use std::sync::Arc;

use sync_secret::Secret;
use url::Url;

use super::auth::Credentials;
use super::error::{Error, Result};
use super::http::Client;
use super::retry::RetryConfig;
use super::transport::Transport;

/// The default RAYNET host. Instances may live on another host
/// (`app.raynetcrm.sk`, `app.raynetcrm.com`, `eu.raynetcrm.com`): the base URL
/// is always configurable.
pub const DEFAULT_BASE_URL: &str = "https://app.raynet.cz/api/v2/";

impl Client {
    /// Starts building a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }
}

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

    /// Replaces the whole retry configuration (read back with
    /// [`Client::retry_config`]).
    pub fn retry(mut self, retry: RetryConfig) -> Self {
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
