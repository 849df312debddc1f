//! [`Records`]: the handler every resource shares (the list and detail
//! endpoints of `/{entity}/`), each resource's handler ([`Activities`],
//! [`Persons`], [`Companies`], [`UserAccounts`]) and the [`Client`] methods
//! that return them.

use std::fmt;
use std::marker::PhantomData;

use super::path::segment;
use crate::client::error::Result;
use crate::client::http::Client;
use crate::client::models::{CalendarActivity, Company, Person, RowSummary, UserAccount};
use crate::client::page::{Listing, Page};
use crate::client::query::{self, ListQuery};

/// The records of one resource (`/{entity}/`, e.g. `/person/`), read as `T`:
/// the list and detail endpoints every entity has. Each resource's handler is
/// one of these: [`Activities`] (which adds the writes), [`Persons`],
/// [`Companies`] and [`UserAccounts`].
pub struct Records<'a, T> {
    pub(super) client: &'a Client,
    /// The entity name as used in paths (`person`, `meeting`, …).
    entity: &'static str,
    record: PhantomData<fn() -> T>,
}

/// Persons (`/person/`): `client.persons()`.
pub type Persons<'a> = Records<'a, Person>;

/// Companies (`/company/`): `client.companies()`.
pub type Companies<'a> = Records<'a, Company>;

/// User accounts (`/userAccount/`): `client.user_accounts()`. The detail
/// ([`Records::get`]) adds `email2`, `timezone`, … to what the list shows.
pub type UserAccounts<'a> = Records<'a, UserAccount>;

/// Meetings or events: `client.meetings()` / `client.events()`; their writes
/// are in `activities.rs`.
pub type Activities<'a> = Records<'a, CalendarActivity>;

impl Client {
    /// Meetings (`/meeting/`).
    pub fn meetings(&self) -> Activities<'_> {
        Records::new(self, "meeting")
    }

    /// Events, "události" (`/event/`).
    pub fn events(&self) -> Activities<'_> {
        Records::new(self, "event")
    }

    /// Persons (`/person/`).
    pub fn persons(&self) -> Persons<'_> {
        Records::new(self, "person")
    }

    /// Companies (`/company/`).
    pub fn companies(&self) -> Companies<'_> {
        Records::new(self, "company")
    }

    /// User accounts (`/userAccount/`).
    pub fn user_accounts(&self) -> UserAccounts<'_> {
        Records::new(self, "userAccount")
    }
}

impl<'a, T> Records<'a, T> {
    pub(super) fn new(client: &'a Client, entity: &'static str) -> Self {
        Records {
            client,
            entity,
            record: PhantomData,
        }
    }

    /// `{entity}/`: the list (and create) path.
    pub(super) fn root(&self) -> String {
        format!("{}/", self.entity)
    }

    /// `{entity}/{id}/`: the path of one record.
    pub(super) fn path(&self, id: u64) -> String {
        format!("{}/{id}/", self.entity)
    }
}

impl<T: serde::de::DeserializeOwned> Records<'_, T> {
    /// `GET /{entity}/`: one page.
    pub async fn list(&self, query: &ListQuery) -> Result<Page<T>> {
        self.client.inner.list_page(&self.root(), query).await
    }

    /// `GET /{entity}/`: every page (1000 rows per request unless the query
    /// sets a limit). Strict: a row that does not decode fails the call with
    /// its [`Error::Decode`](crate::Error::Decode) (`data[3].title`); use
    /// [`Records::list_rows`] to keep the other rows.
    pub async fn list_all(&self, query: &ListQuery) -> Result<Vec<T>> {
        self.list_rows(query).await?.into_complete()
    }

    /// `GET /{entity}/`: every page, a row that does not decode set aside in
    /// [`Listing::failed`] (with its id when readable) while the others are
    /// returned, with the server's clock (HTTP `Date`) when it answered the
    /// first page: a watermark for incremental reads.
    pub async fn list_rows(&self, query: &ListQuery) -> Result<Listing<T>> {
        self.client.inner.list_rows(&self.root(), query).await
    }

    /// `GET /{entity}/?view=rowInfo&limit=1000`: ids and audit blocks of
    /// every matching record, one request per 1000 rows (the cheap scan that
    /// detects deletions). A row whose audit block does not decode is in
    /// [`Listing::failed`], with its id when readable.
    pub async fn row_summaries(&self, query: &ListQuery) -> Result<Listing<RowSummary>> {
        let q = query.clone().view_row_info().limit(query::MAX_LIMIT);
        self.client.inner.list_rows(&self.root(), &q).await
    }

    /// Incremental read: every record with `rowInfo.lastModifiedAt >= since`,
    /// oldest change first (dedupe by `(id, _version)` across overlapping reads).
    pub async fn modified_since<Tz: chrono::TimeZone>(
        &self,
        since: &chrono::DateTime<Tz>,
    ) -> Result<Vec<T>> {
        self.list_all(&ListQuery::new().modified_since(since)).await
    }

    /// `GET /{entity}/{id}/`.
    pub async fn get(&self, id: u64) -> Result<T> {
        self.client.detail(&self.path(id)).await
    }

    /// `GET /{entity}/ext/{extId}/`.
    pub async fn by_ext_id(&self, ext_id: &str) -> Result<T> {
        self.client
            .detail(&format!("{}/ext/{}/", self.entity, segment(ext_id)))
            .await
    }
}

// Not derived: the derives would require `T: Clone + Copy + Debug`.
impl<T> Clone for Records<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Records<'_, T> {}

impl<T> fmt::Debug for Records<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Records")
            .field("client", self.client)
            .field("entity", &self.entity)
            .finish()
    }
}
