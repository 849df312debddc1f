//! [`Credentials`]: the login e-mail and API key of HTTP Basic authentication.
//!
//! The key is a [`sync_secret::Secret`]: `Debug` and `Display` print `***`, and
//! only the transport reads it ([`Secret::expose`]) to send it.

use sync_secret::Secret;

/// User name (the login e-mail) and API key for HTTP Basic authentication.
/// `Debug` shows the user and `***` for the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub(crate) user: String,
    pub(crate) api_key: Secret,
}

impl Credentials {
    /// Credentials of the RAYNET user the key belongs to.
    #[must_use]
    pub fn new(user: impl Into<String>, api_key: impl Into<Secret>) -> Self {
        Credentials {
            user: user.into(),
            api_key: api_key.into(),
        }
    }

    /// The user name (login e-mail).
    pub fn user(&self) -> &str {
        &self.user
    }
}
