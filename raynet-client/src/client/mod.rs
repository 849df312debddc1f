//! The typed HTTP client: [`Client`] and its builder. Nothing in this module
//! knows about the sync engine.
//!
//! # Files
//!
//! This file only declares the children and re-exports their public items;
//! each child imports from the sibling file that defines an item, so no two
//! files import each other (directly or through others).
//!
//! | File | Holds |
//! |---|---|
//! | `http.rs` | [`Client`]: getters and the request helpers the handlers share |
//! | `builder.rs` | [`ClientBuilder`] (`Client::builder()`), [`DEFAULT_BASE_URL`] |
//! | `retry.rs` | [`RetryConfig`](transport::RetryConfig): retries, backoff, quota wait, timeout, in-flight cap |
//! | `transport.rs` | the one transport layer: retries, 429s and the quota ([`RateLimit`](transport::RateLimit)), the in-flight cap, the authentication breaker, the request span |
//! | `resources/` | one handler per resource, with its `impl Client` accessor: `client.meetings()`, `events()`, `persons()`, `companies()`, `user_accounts()`, `ext_ids(..)`, `webhooks()` |
//! | `auth.rs` | [`Credentials`] (the API key is a [`sync_secret::Secret`]) |
//! | `models/` | request and response structs |
//! | `page.rs` | [`Page`](page::Page): one page of a list, read row by row ([`ItemFailure`](page::ItemFailure): a row that does not decode); [`Listing`](page::Listing): the rows of every page |
//! | `query.rs` | [`ListQuery`](query::ListQuery): filters, sorting, paging |
//! | `html.rs` | the HTML `description` to text and back |
//! | `error.rs` | [`Error`](error::Error), the one error enum |

pub mod auth;
mod builder;
pub mod error;
pub mod html;
mod http;
pub mod models;
pub mod page;
pub mod query;
pub mod resources;
mod retry;
pub mod transport;

pub use auth::Credentials;
pub use builder::{ClientBuilder, DEFAULT_BASE_URL};
pub use http::Client;
pub use models::EntityName;
pub use resources::{Activities, Companies, ExtIds, Persons, Records, UserAccounts, Webhooks};
