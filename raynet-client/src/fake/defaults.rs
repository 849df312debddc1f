//! The fake's defaults: the instance, user and API key every fake starts
//! with, and the API's limits it enforces.

/// Name of the instance every fake starts with.
pub const DEFAULT_INSTANCE: &str = "acme";
/// Login of the default instance's API user.
pub const DEFAULT_USER: &str = "api@acme.test";
/// API key of the default instance's API user.
pub const DEFAULT_API_KEY: &str = "crm-fake0123456789abcdef";
/// Name of every API key the fake knows, unless set otherwise
/// ([`FakeInstance::set_api_key_name`](super::FakeInstance::set_api_key_name)):
/// a webhook event's `source.description` for a change made through it.
pub const DEFAULT_API_KEY_NAME: &str = "raynet-sync";
/// Bad logins tolerated before the IP block (the 21st blocks).
pub const BAD_LOGIN_LIMIT: u32 = 20;
/// Requests in flight tolerated before 429.
pub const DEFAULT_CONCURRENCY_LIMIT: usize = 4;
