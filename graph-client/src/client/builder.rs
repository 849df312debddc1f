//! [`ClientBuilder`]: base URLs, credentials, retries, timeouts and limits, and
//! [`Client::builder`], which starts one.

use std::time::Duration;

use sync_secret::Secret;

use super::auth::{ClientCredential, Credentials, TokenCache};
use super::error::{Error, Result};
use super::http::Client;
use super::retry::RetryConfig;
use super::transport::Transport;

/// Graph's public v1.0 endpoint.
pub const DEFAULT_GRAPH_BASE_URL: &str = "https://graph.microsoft.com/v1.0";
/// The Microsoft identity platform (global cloud).
pub const DEFAULT_AUTHORITY_BASE_URL: &str = "https://login.microsoftonline.com";

/// Builds a [`Client`].
#[derive(Debug)]
#[must_use]
pub struct ClientBuilder {
    graph_base_url: String,
    authority_base_url: String,
    credentials: Option<Credentials>,
    retry: RetryConfig,
    request_timeout: Duration,
    connect_timeout: Duration,
    per_mailbox_concurrency: usize,
    page_size: u32,
    token_refresh_margin: Duration,
}

/// The default `odata.maxpagesize` of delta reads: 200, the most Graph serves per contacts
/// delta page (it caps larger values silently; Microsoft Q&A answer 2052165, 2025). Calendar
/// view delta pages may be capped lower by Graph; asking for more is harmless.
pub const DEFAULT_PAGE_SIZE: u32 = 200;

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            graph_base_url: DEFAULT_GRAPH_BASE_URL.to_owned(),
            authority_base_url: DEFAULT_AUTHORITY_BASE_URL.to_owned(),
            credentials: None,
            retry: RetryConfig::default(),
            request_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            per_mailbox_concurrency: 4,
            page_size: DEFAULT_PAGE_SIZE,
            token_refresh_margin: Duration::from_secs(300),
        }
    }
}

/// Plain setters: each stores its argument in the builder's field of the same name.
macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, value: $ty) -> Self {
                self.$name = value;
                self
            }
        )*
    };
}

impl ClientBuilder {
    /// Graph base URL including the version, e.g. `https://graph.microsoft.com/v1.0`.
    pub fn graph_base_url(mut self, url: impl Into<String>) -> Self {
        let url: String = url.into();
        url.trim_end_matches('/')
            .clone_into(&mut self.graph_base_url);
        self
    }

    /// Identity platform base URL, e.g. `https://login.microsoftonline.com` (national clouds
    /// and fakes differ).
    pub fn authority_base_url(mut self, url: impl Into<String>) -> Self {
        let url: String = url.into();
        url.trim_end_matches('/')
            .clone_into(&mut self.authority_base_url);
        self
    }

    /// App-only credentials with a client secret.
    pub fn credentials(
        mut self,
        tenant: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
    ) -> Self {
        self.credentials = Some(Credentials::new(tenant, client_id, client_secret));
        self
    }

    /// App-only credentials with any [`ClientCredential`]: a secret, a certificate or a
    /// federated token file.
    pub fn credential(
        mut self,
        tenant: impl Into<String>,
        client_id: impl Into<String>,
        credential: impl Into<ClientCredential>,
    ) -> Self {
        self.credentials = Some(Credentials::with_credential(tenant, client_id, credential));
        self
    }

    setters! {
        /// Retry and backoff settings.
        retry: RetryConfig;
        /// Timeout of one attempt (connect, send and read the body).
        request_timeout: Duration;
        /// Connect timeout.
        connect_timeout: Duration;
        /// Requests in flight per mailbox (Graph allows 4).
        per_mailbox_concurrency: usize;
        /// Renew a token this long before it expires.
        token_refresh_margin: Duration;
    }

    /// `Prefer: odata.maxpagesize` for delta reads (default [`DEFAULT_PAGE_SIZE`]).
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = n.max(1);
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client> {
        let credentials = self
            .credentials
            .ok_or_else(|| Error::Config("credentials are required".into()))?;
        for (name, value) in [
            ("graph base url", &self.graph_base_url),
            ("authority base url", &self.authority_base_url),
        ] {
            url::Url::parse(value)
                .map_err(|e| Error::Config(format!("{name} is not a url: {e}")))?;
        }
        let http = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .timeout(self.request_timeout)
            .build()
            .map_err(|e| Error::Config(format!("http client: {e}")))?;
        let tokens = TokenCache::new(
            http.clone(),
            &self.authority_base_url,
            credentials,
            self.token_refresh_margin,
            self.retry.clone(),
        );
        let transport = Transport::new(
            http,
            tokens,
            self.retry,
            self.request_timeout,
            self.per_mailbox_concurrency,
        );
        Ok(Client::new(transport, self.graph_base_url, self.page_size))
    }
}

impl Client {
    /// Starts a builder.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_requires_credentials_and_valid_urls() {
        assert!(matches!(Client::builder().build(), Err(Error::Config(_))));
        let bad = Client::builder()
            .credentials("t", "a", "s")
            .graph_base_url("not a url")
            .build();
        assert!(matches!(bad, Err(Error::Config(_))));
    }
}
