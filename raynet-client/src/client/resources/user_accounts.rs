//! User accounts (`/userAccount/`): [`UserAccounts`].

use crate::client::error::Result;
use crate::client::http::Client;
use crate::client::models::UserAccount;
use crate::client::page::Page;
use crate::client::query::ListQuery;

impl Client {
    /// User accounts (`/userAccount/`).
    pub fn user_accounts(&self) -> UserAccounts<'_> {
        UserAccounts { client: self }
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
