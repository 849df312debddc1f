//! Companies (`/company/`): [`Companies`].

use super::path::segment;
use crate::client::error::Result;
use crate::client::http::Client;
use crate::client::models::Company;
use crate::client::page::Page;
use crate::client::query::ListQuery;

impl Client {
    /// Companies (`/company/`).
    pub fn companies(&self) -> Companies<'_> {
        Companies { client: self }
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
