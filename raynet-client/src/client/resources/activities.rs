//! Meetings (`/meeting/`) and events (`/event/`): [`Activities`].

use reqwest::Method;

use super::path::segment;
use crate::client::error::Result;
use crate::client::http::Client;
use crate::client::models::{
    ActivityUpdate, CalendarActivity, EntityName, NewActivity, RowSummary,
};
use crate::client::page::Page;
use crate::client::query::{self, ListQuery};

impl Client {
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
