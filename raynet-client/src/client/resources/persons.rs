//! Persons (`/person/`): [`Persons`].

use super::path::segment;
use crate::client::error::Result;
use crate::client::http::Client;
use crate::client::models::{Person, RowSummary};
use crate::client::page::Page;
use crate::client::query::{self, ListQuery};

impl Client {
    /// Persons (`/person/`).
    pub fn persons(&self) -> Persons<'_> {
        Persons { client: self }
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
