//! [`Client`]: the cheap-to-clone handle the resource handlers send through (Graph base URL,
//! page size and the shared transport). It is built by `ClientBuilder`
//! (`builder.rs`); its endpoint groups (`groups()`, `users()`, `events()`, `contacts()`,
//! `batch()`) are `impl Client` blocks in `resources/`.

use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::error::{Error, Result};
use super::page::Page;
use super::transport::{Request, Transport};

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
    /// A client over `transport`, for the Graph base URL `base` (without a trailing `/`).
    pub(super) fn new(transport: Transport, base: String, page_size: u32) -> Self {
        Self {
            inner: Arc::new(Inner {
                transport,
                base,
                page_size,
            }),
        }
    }

    /// The Graph base URL.
    #[must_use]
    pub fn graph_base_url(&self) -> &str {
        &self.inner.base
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

    /// Sends `req` and decodes its answer.
    pub(crate) async fn send<T: DeserializeOwned>(&self, req: &Request) -> Result<T> {
        self.transport().send(req).await?.decode()
    }

    /// Sends `req` and reads its answer as a page (failing closed, see [`Page`]); an item
    /// that does not decode fails the page ([`Page::complete`]).
    pub(crate) async fn page<T: DeserializeOwned>(&self, req: &Request) -> Result<Page<T>> {
        self.page_by_item(req).await?.complete()
    }

    /// Sends `req` and reads its answer as a page whose items fail alone
    /// ([`Page::failed`]): the pages of delta rounds.
    pub(crate) async fn page_by_item<T: DeserializeOwned>(&self, req: &Request) -> Result<Page<T>> {
        Page::parse(&self.transport().send(req).await?.body, &req.endpoint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::models;

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
