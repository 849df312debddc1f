//! What the handlers of one mailbox's resources ([`Events`](super::Events) and
//! [`Contacts`](super::Contacts)) share: [`MailboxScope`], how their requests are made and
//! their pages read.

use reqwest::Method;
use serde::de::DeserializeOwned;

use crate::client::error::Result;
use crate::client::http::Client;
use crate::client::page::{DeltaRound, Page};
use crate::client::transport::Request;
use crate::client::url::{encode_segment, odata_string, query};

/// The preferences of every delta request of a resource whose requests carry `preferences`
/// (sent directly or inside a `$batch`, where the batch adds `IdType`): those, then the page
/// size.
pub(crate) fn delta_preferences(client: &Client, preferences: &[&str]) -> Vec<String> {
    preferences
        .iter()
        .map(|p| (*p).to_owned())
        .chain([format!("odata.maxpagesize={}", client.page_size())])
        .collect()
}

/// One mailbox of a client, as a resource's handler reaches it: paths under `/users/{id}`,
/// every request naming the mailbox (for the per-mailbox limit) and carrying the resource's
/// preferences.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MailboxScope<'a> {
    pub(crate) client: &'a Client,
    pub(crate) user: &'a str,
    preferences: &'static [&'static str],
}

impl<'a> MailboxScope<'a> {
    /// The mailbox `user` of `client`, for a resource whose requests carry `preferences`.
    pub(crate) fn new(
        client: &'a Client,
        user: &'a str,
        preferences: &'static [&'static str],
    ) -> Self {
        Self {
            client,
            user,
            preferences,
        }
    }

    /// `path` below `/users/{id}`, relative to the Graph base URL (as a `$batch` sub-request
    /// names it).
    pub(crate) fn relative(&self, path: &str) -> String {
        format!("/users/{}{path}", encode_segment(self.user))
    }

    /// A request to `path` below `/users/{id}`, with the resource's preferences.
    pub(crate) fn request(&self, method: Method, path: &str, endpoint: &str) -> Request {
        let url = self.client.url(&self.relative(path));
        self.request_at(method, url, endpoint)
    }

    /// A request to the absolute `url` (a next link), with the resource's preferences.
    fn request_at(&self, method: Method, url: String, endpoint: &str) -> Request {
        self.preferences.iter().fold(
            Request::new(method, url, endpoint).mailbox(self.user),
            |r, p| r.prefer(*p),
        )
    }

    /// `DELETE {path}`, with `If-Match` when an ETag is given.
    pub(crate) async fn delete(
        &self,
        path: &str,
        endpoint: &str,
        etag: Option<&str>,
    ) -> Result<()> {
        let req = self.request(Method::DELETE, path, endpoint).if_match(etag);
        self.client.transport().send(&req).await.map(|_| ())
    }

    /// `GET {path}?$expand=singleValueExtendedProperties($filter=id eq '{prop}')` (`path`: one
    /// event or contact): the item with the value of one extended property.
    pub(crate) async fn get_with_property<T: DeserializeOwned>(
        &self,
        path: &str,
        property_id: &str,
        endpoint: &str,
    ) -> Result<T> {
        let expand = format!(
            "singleValueExtendedProperties($filter=id eq {})",
            odata_string(property_id)
        );
        let path = format!("{path}{}", query(&[("$expand", &expand)]));
        let req = self.request(Method::GET, &path, endpoint);
        self.client.send(&req).await
    }

    /// Every page of the collection at `path`: its first page (`endpoint`) and each page
    /// after it (`next_endpoint`).
    pub(crate) async fn all_pages<T: DeserializeOwned>(
        &self,
        path: &str,
        endpoint: &str,
        next_endpoint: &str,
    ) -> Result<Vec<T>> {
        let first: Page<T> = self
            .client
            .page(&self.request(Method::GET, path, endpoint))
            .await?;
        first
            .collect_all(|link| async move {
                let url = self.client.check_link(&link)?;
                self.client
                    .page(&self.request_at(Method::GET, url, next_endpoint))
                    .await
            })
            .await
    }

    /// A delta request: the resource's preferences and the page size.
    fn delta_request(&self, url: String, endpoint: &str) -> Request {
        delta_preferences(self.client, self.preferences)
            .into_iter()
            .fold(
                Request::new(Method::GET, url, endpoint).mailbox(self.user),
                Request::prefer,
            )
    }

    /// The first page of a new delta round at `path`.
    pub(crate) async fn delta_start<T: DeserializeOwned>(
        &self,
        path: &str,
        endpoint: &str,
    ) -> Result<Page<T>> {
        let url = self.client.url(&self.relative(path));
        self.client
            .page_by_item(&self.delta_request(url, endpoint))
            .await
    }

    /// Follows a next link or a stored delta link, verbatim and with the same headers.
    pub(crate) async fn delta_page<T: DeserializeOwned>(
        &self,
        link: &str,
        endpoint: &str,
    ) -> Result<Page<T>> {
        let url = self.client.check_link(link)?;
        self.client
            .page_by_item(&self.delta_request(url, endpoint))
            .await
    }

    /// A whole round from its first page: follows the next links (each read as
    /// `link_endpoint`) to the delta link; a page with neither link is a shape error of
    /// `endpoint`.
    pub(crate) async fn finish_round<T: DeserializeOwned>(
        &self,
        first: Page<T>,
        endpoint: &str,
        link_endpoint: &str,
    ) -> Result<DeltaRound<T>> {
        DeltaRound::follow(first, endpoint, |link| async move {
            self.delta_page(&link, link_endpoint).await
        })
        .await
    }
}
