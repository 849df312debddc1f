//! The typed Graph client: HTTP, auth and models. Nothing here knows about `sync_core`.
//!
//! | file | holds |
//! | --- | --- |
//! | `http.rs` | [`Client`]: the cheap-to-clone handle (base URL, page size, transport) |
//! | `builder.rs` | [`ClientBuilder`], [`Client::builder`] and the default URLs and page size |
//! | `resources/` | one method per endpoint: [`Groups`], [`Users`], [`Events`], [`Contacts`], [`Subscriptions`], `$batch`, and the `Client` methods that hand them out |
//! | `transport.rs` | the one transport layer: auth header, `Prefer`, per-mailbox limit, retries, span |
//! | `retry.rs` | [`RetryConfig`] and the parsing of `Retry-After` |
//! | `auth.rs` | [`Credentials`], [`ClientCredential`] and the client-credentials token cache |
//! | `assertion.rs` | client assertions: [`CertificateCredential`] (a JWT signed with the certificate's key), [`FederatedCredential`] (a token file) |
//! | `roles.rs` | [`Client::application_permissions`]: a fresh token's `roles` claim |
//! | `url.rs` | path-segment escaping, OData query strings and literals |
//! | `page.rs` | [`Page`] and [`DeltaRound`], read item by item ([`ItemFailure`]: an item that does not decode) |
//! | `error.rs` | [`Error`] and [`Result`] |
//! | `models/` | request and response structs |
//! | `zones.rs` | Windows and IANA time zone names |

mod assertion;
pub mod auth;
mod builder;
pub mod error;
mod http;
pub mod models;
mod page;
mod resources;
mod retry;
pub(crate) mod roles;
mod transport;
mod url;
pub mod zones;

pub(crate) use self::url::encode_segment;
#[cfg(feature = "fake")]
pub(crate) use assertion::thumbprint;
pub use auth::{
    AssertionAlgorithm, CertificateCredential, ClientCredential, Credentials, FederatedCredential,
};
pub use builder::{
    ClientBuilder, DEFAULT_AUTHORITY_BASE_URL, DEFAULT_GRAPH_BASE_URL, DEFAULT_PAGE_SIZE,
};
pub use error::{CredentialProblem, Error, Result};
pub use http::Client;
pub use page::{DeltaRound, ItemFailure, Page};
pub(crate) use resources::retry_safe;
pub use resources::{
    Contacts, DeleteOutcome, Events, Groups, MAX_BATCH_REQUESTS, Subscriptions, Users, is_object_id,
};
pub use retry::RetryConfig;
pub(crate) use retry::parse_retry_after;
pub(crate) use transport::path_of;
