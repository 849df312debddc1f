//! The typed Graph client: HTTP, auth and models. Nothing here knows about `sync_core`.

pub mod auth;
pub mod error;
pub mod models;
mod page;
mod resources;
mod transport;
pub mod zones;

use std::sync::Arc;
use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sync_secret::Secret;

pub use auth::Credentials;
pub use error::{Error, Result};
pub use page::{DeltaRound, Page};
pub(crate) use resources::retry_safe;
pub use resources::{Contacts, DeleteOutcome, Events, Groups, MAX_BATCH_REQUESTS, Users};
pub use transport::RetryConfig;

use transport::Transport;
pub(crate) use transport::{parse_retry_after, path_of};

/// Graph's public v1.0 endpoint.
pub const DEFAULT_GRAPH_BASE_URL: &str = "https://graph.microsoft.com/v1.0";
/// The Microsoft identity platform (global cloud).
pub const DEFAULT_AUTHORITY_BASE_URL: &str = "https://login.microsoftonline.com";

/// Characters kept as-is in a path segment: unreserved only. Ids holding `/`, `+` or `=` are
/// escaped.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// Characters escaped in an OData query value (space becomes `%20`, never `+`).
const QUERY: &AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'+')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'|')
    .add(b'\\')
    .add(b'^')
    .add(b'[')
    .add(b']')
    .add(b'=');

/// Percent-encodes one path segment (e.g. an event id).
pub(crate) fn encode_segment(segment: &str) -> String {
    utf8_percent_encode(segment, SEGMENT).to_string()
}

/// Builds `?k=v&...` with OData-friendly escaping.
pub(crate) fn query(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(k);
        out.push('=');
        out.push_str(&utf8_percent_encode(v, QUERY).to_string());
    }
    out
}

/// Quotes a string for an OData literal (`'` doubled).
pub(crate) fn odata_string(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// The `$filter` and `$expand` that find items by the value of a single-value extended
/// property (and return that property with them).
pub(crate) fn link_property_query(property_id: &str, value: &str) -> (String, String) {
    let id = odata_string(property_id);
    (
        format!(
            "singleValueExtendedProperties/Any(ep: ep/id eq {id} and ep/value eq {})",
            odata_string(value)
        ),
        format!("singleValueExtendedProperties($filter=id eq {id})"),
    )
}

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

    /// App-only credentials.
    pub fn credentials(
        mut self,
        tenant: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
    ) -> Self {
        self.credentials = Some(Credentials::new(tenant, client_id, client_secret));
        self
    }

    /// Retry and backoff settings.
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// Timeout of one attempt (connect, send and read the body).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Connect timeout.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Requests in flight per mailbox (Graph allows 4).
    pub fn per_mailbox_concurrency(mut self, n: usize) -> Self {
        self.per_mailbox_concurrency = n;
        self
    }

    /// `Prefer: odata.maxpagesize` for delta reads (default [`DEFAULT_PAGE_SIZE`]).
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = n.max(1);
        self
    }

    /// Renew a token this long before it expires.
    pub fn token_refresh_margin(mut self, margin: Duration) -> Self {
        self.token_refresh_margin = margin;
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
        let tokens = auth::TokenCache::new(
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
        Ok(Client {
            inner: Arc::new(Inner {
                transport,
                base: self.graph_base_url,
                page_size: self.page_size,
            }),
        })
    }
}

#[derive(Debug)]
struct Inner {
    transport: Transport,
    base: String,
    page_size: u32,
}

/// An app-only Microsoft Graph client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl Client {
    /// Starts a builder.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The Graph base URL.
    #[must_use]
    pub fn graph_base_url(&self) -> &str {
        &self.inner.base
    }

    /// Group endpoints.
    #[must_use]
    pub fn groups(&self) -> Groups<'_> {
        Groups::new(self)
    }

    /// User endpoints.
    #[must_use]
    pub fn users(&self) -> Users<'_> {
        Users::new(self)
    }

    /// Event endpoints of one mailbox (`user_id` is the user's object id).
    #[must_use]
    pub fn events<'a>(&'a self, user_id: &'a str) -> Events<'a> {
        Events::new(self, user_id)
    }

    /// Contact endpoints of one mailbox.
    #[must_use]
    pub fn contacts<'a>(&'a self, user_id: &'a str) -> Contacts<'a> {
        Contacts::new(self, user_id)
    }

    /// Checks that `link` (a next or delta link) points at our Graph host, so the token is
    /// never sent elsewhere.
    pub(crate) fn check_link(&self, link: &str) -> Result<String> {
        let base = url::Url::parse(&self.inner.base).map_err(|e| Error::Config(e.to_string()))?;
        let target = url::Url::parse(link).map_err(|_| Error::Shape {
            endpoint: "paging".into(),
            detail: "next or delta link is not a url".into(),
        })?;
        if target.origin() != base.origin() {
            return Err(Error::Shape {
                endpoint: "paging".into(),
                detail: "next or delta link points at another host".into(),
            });
        }
        Ok(link.to_owned())
    }

    /// Whether `other` is this client (a clone of it: same transport, tokens and limits).
    pub(crate) fn is(&self, other: &Client) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.inner.base)
    }

    pub(crate) fn page_size(&self) -> u32 {
        self.inner.page_size
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.inner.transport
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_fully_escaped_in_paths() {
        assert_eq!(encode_segment("AAMk/a+b=="), "AAMk%2Fa%2Bb%3D%3D");
        assert_eq!(encode_segment("user@contoso.com"), "user%40contoso.com");
    }

    #[test]
    fn odata_queries_use_percent_20() {
        let q = query(&[(
            "$filter",
            &format!("displayName eq {}", odata_string("O'Brien")),
        )]);
        assert_eq!(q, "?$filter=displayName%20eq%20'O''Brien'");
    }

    #[test]
    fn builder_requires_credentials_and_valid_urls() {
        assert!(matches!(Client::builder().build(), Err(Error::Config(_))));
        let bad = Client::builder()
            .credentials("t", "a", "s")
            .graph_base_url("not a url")
            .build();
        assert!(matches!(bad, Err(Error::Config(_))));
    }

    #[test]
    fn public_types_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Client>();
        check::<Error>();
        check::<models::Event>();
        check::<models::Contact>();
        check::<Page<models::Event>>();
    }
}
