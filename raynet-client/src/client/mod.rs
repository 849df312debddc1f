//! The typed HTTP client: [`Client`], its builder and one handler per resource.
//!
//! Nothing in this module knows about the sync engine.

pub mod error;
pub mod html;
pub mod models;
pub mod page;
pub mod query;
pub mod transport;

use std::sync::Arc;

use reqwest::Method;
use serde::de::DeserializeOwned;
use url::Url;

use self::error::{Error, Result};
use self::models::{
    ActivityUpdate, CalendarActivity, Company, Created, DetailEnvelope, NewActivity, Person,
    RowSummary, UserAccount, open_enum,
};
use self::page::Page;
use self::query::ListQuery;
use self::transport::{RateLimit, RetryPolicy, Transport, decode};

/// The default RAYNET host. Instances may live on another host
/// (`app.raynetcrm.sk`, `app.raynetcrm.com`, `eu.raynetcrm.com`): the base URL
/// is always configurable.
pub const DEFAULT_BASE_URL: &str = "https://app.raynet.cz/api/v2/";

/// Characters escaped in a path segment (extIds such as `m365:a/b+c=`).
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b':');

fn segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

/// The API key. Its `Debug` prints `***`; it has no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    #[must_use]
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }

    /// The key itself (only the transport needs it).
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// User name (the login e-mail) and API key for HTTP Basic authentication.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub(crate) user: String,
    pub(crate) api_key: ApiKey,
}

impl Credentials {
    /// Credentials of the RAYNET user the key belongs to.
    #[must_use]
    pub fn new(user: impl Into<String>, api_key: impl Into<String>) -> Self {
        Credentials {
            user: user.into(),
            api_key: ApiKey::new(api_key),
        }
    }

    /// The user name (login e-mail).
    pub fn user(&self) -> &str {
        &self.user
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("api_key", &self.api_key)
            .finish()
    }
}

open_enum! {
    /// The API's entity names, as used in paths (`/{entity}/…`).
    EntityName {
        /// `meeting`.
        Meeting = "meeting",
        /// `event`.
        Event = "event",
        /// `task`.
        Task = "task",
        /// `person`.
        Person = "person",
        /// `company`.
        Company = "company",
        /// `companyAddress`.
        CompanyAddress = "companyAddress",
        /// `userAccount`.
        UserAccount = "userAccount",
    }
}

/// Builds a [`Client`].
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct ClientBuilder {
    base_url: Option<String>,
    instance: Option<String>,
    credentials: Option<Credentials>,
    policy: RetryPolicy,
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

    /// Login e-mail and API key.
    pub fn credentials(mut self, user: impl Into<String>, api_key: impl Into<String>) -> Self {
        self.credentials = Some(Credentials::new(user, api_key));
        self
    }

    /// Replaces the whole retry policy.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Retries of safe requests after 5xx / network errors.
    pub fn max_retries(mut self, n: u32) -> Self {
        self.policy.max_retries = n;
        self
    }

    /// Retries after a 429 caused by the connection cap.
    pub fn max_rate_limit_retries(mut self, n: u32) -> Self {
        self.policy.max_rate_limit_retries = n;
        self
    }

    /// First backoff delay and its cap.
    pub fn backoff(mut self, initial: std::time::Duration, max: std::time::Duration) -> Self {
        self.policy.initial_backoff = initial;
        self.policy.max_backoff = max;
        self
    }

    /// Longest wait for the daily quota to reset before failing.
    pub fn max_quota_wait(mut self, wait: std::time::Duration) -> Self {
        self.policy.max_quota_wait = wait;
        self
    }

    /// Timeout of every request.
    pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
        self.policy.request_timeout = timeout;
        self
    }

    /// Requests in flight at once (default 3; the API refuses more than 4).
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.policy.max_in_flight = n.max(1);
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
            .filter(|c| !c.user.is_empty() && !c.api_key.0.is_empty())
            .ok_or_else(|| Error::Config("credentials are missing".into()))?;
        let mut http = reqwest::Client::builder()
            .user_agent(
                self.user_agent
                    .unwrap_or_else(|| concat!("raynet-sync/", env!("CARGO_PKG_VERSION")).into()),
            )
            .connect_timeout(self.policy.request_timeout);
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
                self.policy,
            )),
        })
    }
}

/// A RAYNET API client for one instance. Cheap to clone; clones share the
/// in-flight cap, the rate-limit state and the authentication breaker.
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

    /// The retry policy in force.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.policy
    }

    /// The `X-Ratelimit-*` values of the last answer that carried them.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.inner.rate_limit()
    }

    /// True once the credentials were refused: no further request is sent.
    pub fn is_stopped(&self) -> bool {
        self.inner.is_stopped()
    }

    /// Meetings (`/meeting/`).
    pub fn meetings(&self) -> Activities<'_> {
        Activities {
            client: self,
            entity: EntityName::Meeting,
        }
    }

    /// Events, "události" (`/event/`).
    pub fn events(&self) -> Activities<'_> {
        Activities {
            client: self,
            entity: EntityName::Event,
        }
    }

    /// Persons (`/person/`).
    pub fn persons(&self) -> Persons<'_> {
        Persons { client: self }
    }

    /// Companies (`/company/`).
    pub fn companies(&self) -> Companies<'_> {
        Companies { client: self }
    }

    /// User accounts (`/userAccount/`).
    pub fn user_accounts(&self) -> UserAccounts<'_> {
        UserAccounts { client: self }
    }

    /// External ids of one record (`/{entity}/{id}/extId/`).
    pub fn ext_ids(&self, entity: EntityName, id: u64) -> ExtIds<'_> {
        ExtIds {
            client: self,
            entity,
            id,
        }
    }

    async fn detail<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let env: DetailEnvelope<T> = self.inner.get_json(path, &[]).await?;
        Ok(env.data)
    }

    async fn create<B: serde::Serialize>(&self, path: &str, body: &B) -> Result<u64> {
        let resp = self.inner.send_json(Method::PUT, path, body).await?;
        let created: Created = decode(&format!("PUT /{path}"), &resp.body)?;
        tracing::debug!(status = resp.status, id = created.id, "created");
        Ok(created.id)
    }
}

/// Meetings or events: `client.meetings()` / `client.events()`.
#[derive(Debug, Clone)]
pub struct Activities<'a> {
    client: &'a Client,
    entity: EntityName,
}

impl Activities<'_> {
    fn root(&self) -> String {
        format!("{}/", self.entity.as_str())
    }

    /// `GET /{meeting|event}/`: one page.
    pub async fn list(&self, query: &ListQuery) -> Result<Page<CalendarActivity>> {
        self.client.inner.list_page(&self.root(), query).await
    }

    /// `GET /{meeting|event}/`: every page (1000 rows per request unless the
    /// query sets a limit).
    pub async fn list_all(&self, query: &ListQuery) -> Result<Vec<CalendarActivity>> {
        self.client.inner.list_all(&self.root(), query).await
    }

    /// Like [`Activities::list_all`], with the server's clock (HTTP `Date`)
    /// when it answered the first page: a watermark for incremental reads.
    pub async fn list_all_timed(
        &self,
        query: &ListQuery,
    ) -> Result<(Vec<CalendarActivity>, Option<chrono::DateTime<chrono::Utc>>)> {
        self.client.inner.list_all_timed(&self.root(), query).await
    }

    /// `GET /{meeting|event}/?view=rowInfo&limit=1000`: ids and audit blocks
    /// of every matching record, one request per 1000 rows (the cheap scan
    /// that detects deletions).
    pub async fn row_summaries(&self, query: &ListQuery) -> Result<Vec<RowSummary>> {
        let q = query.clone().view_row_info().limit(query::MAX_LIMIT);
        self.client.inner.list_all(&self.root(), &q).await
    }

    /// `GET /{meeting|event}/{id}/`.
    pub async fn get(&self, id: u64) -> Result<CalendarActivity> {
        self.client
            .detail(&format!("{}/{id}/", self.entity.as_str()))
            .await
    }

    /// `GET /{meeting|event}/ext/{extId}/`.
    pub async fn by_ext_id(&self, ext_id: &str) -> Result<CalendarActivity> {
        self.client
            .detail(&format!(
                "{}/ext/{}/",
                self.entity.as_str(),
                segment(ext_id)
            ))
            .await
    }

    /// `PUT /{meeting|event}/`: creates and returns the new id.
    pub async fn create(&self, body: &NewActivity) -> Result<u64> {
        self.client.create(&self.root(), body).await
    }

    /// `POST /{meeting|event}/{id}/`: partial update.
    pub async fn update(&self, id: u64, body: &ActivityUpdate) -> Result<()> {
        self.client
            .inner
            .send_json(
                Method::POST,
                &format!("{}/{id}/", self.entity.as_str()),
                body,
            )
            .await
            .map(drop)
    }

    /// `DELETE /{meeting|event}/{id}/`.
    pub async fn delete(&self, id: u64) -> Result<()> {
        self.client
            .inner
            .execute(
                Method::DELETE,
                &format!("{}/{id}/", self.entity.as_str()),
                &[],
                None,
            )
            .await
            .map(drop)
    }
}

/// Persons: `client.persons()`.
#[derive(Debug, Clone, Copy)]
pub struct Persons<'a> {
    client: &'a Client,
}

impl Persons<'_> {
    /// `GET /person/`: one page.
    pub async fn list(&self, query: &ListQuery) -> Result<Page<Person>> {
        self.client.inner.list_page("person/", query).await
    }

    /// `GET /person/`: every page.
    pub async fn list_all(&self, query: &ListQuery) -> Result<Vec<Person>> {
        self.client.inner.list_all("person/", query).await
    }

    /// Like [`Persons::list_all`], with the server's clock (HTTP `Date`) when
    /// it answered the first page: a watermark for incremental reads.
    pub async fn list_all_timed(
        &self,
        query: &ListQuery,
    ) -> Result<(Vec<Person>, Option<chrono::DateTime<chrono::Utc>>)> {
        self.client.inner.list_all_timed("person/", query).await
    }

    /// `GET /person/?view=rowInfo&limit=1000`: ids and audit blocks of every
    /// matching person, one request per 1000 rows.
    pub async fn row_summaries(&self, query: &ListQuery) -> Result<Vec<RowSummary>> {
        let q = query.clone().view_row_info().limit(query::MAX_LIMIT);
        self.client.inner.list_all("person/", &q).await
    }

    /// Incremental read: every person with `rowInfo.lastModifiedAt >= since`,
    /// oldest change first (dedupe by `(id, _version)` across overlapping reads).
    pub async fn modified_since<Tz: chrono::TimeZone>(
        &self,
        since: &chrono::DateTime<Tz>,
    ) -> Result<Vec<Person>> {
        self.list_all(&ListQuery::new().modified_since(since)).await
    }

    /// `GET /person/{id}/`.
    pub async fn get(&self, id: u64) -> Result<Person> {
        self.client.detail(&format!("person/{id}/")).await
    }

    /// `GET /person/ext/{extId}/`.
    pub async fn by_ext_id(&self, ext_id: &str) -> Result<Person> {
        self.client
            .detail(&format!("person/ext/{}/", segment(ext_id)))
            .await
    }
}

/// Companies: `client.companies()`.
#[derive(Debug, Clone, Copy)]
pub struct Companies<'a> {
    client: &'a Client,
}

impl Companies<'_> {
    /// `GET /company/`: one page.
    pub async fn list(&self, query: &ListQuery) -> Result<Page<Company>> {
        self.client.inner.list_page("company/", query).await
    }

    /// `GET /company/`: every page.
    pub async fn list_all(&self, query: &ListQuery) -> Result<Vec<Company>> {
        self.client.inner.list_all("company/", query).await
    }

    /// `GET /company/{id}/`.
    pub async fn get(&self, id: u64) -> Result<Company> {
        self.client.detail(&format!("company/{id}/")).await
    }

    /// `GET /company/ext/{extId}/`.
    pub async fn by_ext_id(&self, ext_id: &str) -> Result<Company> {
        self.client
            .detail(&format!("company/ext/{}/", segment(ext_id)))
            .await
    }
}

/// User accounts: `client.user_accounts()`.
#[derive(Debug, Clone, Copy)]
pub struct UserAccounts<'a> {
    client: &'a Client,
}

impl UserAccounts<'_> {
    /// `GET /userAccount/`: one page.
    pub async fn list(&self, query: &ListQuery) -> Result<Page<UserAccount>> {
        self.client.inner.list_page("userAccount/", query).await
    }

    /// `GET /userAccount/`: every page.
    pub async fn list_all(&self, query: &ListQuery) -> Result<Vec<UserAccount>> {
        self.client.inner.list_all("userAccount/", query).await
    }

    /// `GET /userAccount/{id}/` (adds `email2`, `timezone`, …).
    pub async fn get(&self, id: u64) -> Result<UserAccount> {
        self.client.detail(&format!("userAccount/{id}/")).await
    }
}

/// External ids of one record: `client.ext_ids(EntityName::Meeting, 5)`.
#[derive(Debug, Clone)]
pub struct ExtIds<'a> {
    client: &'a Client,
    entity: EntityName,
    id: u64,
}

impl ExtIds<'_> {
    /// `PUT /{entity}/{id}/extId/` with `{"extId": ..}`.
    pub async fn add(&self, ext_id: &str) -> Result<()> {
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Body<'b> {
            ext_id: &'b str,
        }
        self.client
            .inner
            .send_json(
                Method::PUT,
                &format!("{}/{}/extId/", self.entity.as_str(), self.id),
                &Body { ext_id },
            )
            .await
            .map(drop)
    }

    /// `DELETE /{entity}/{id}/extId/{extId}` (no trailing slash, as documented).
    pub async fn remove(&self, ext_id: &str) -> Result<()> {
        self.client
            .inner
            .execute(
                Method::DELETE,
                &format!(
                    "{}/{}/extId/{}",
                    self.entity.as_str(),
                    self.id,
                    segment(ext_id)
                ),
                &[],
                None,
            )
            .await
            .map(drop)
    }
}
