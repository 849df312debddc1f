//! # sync-secret — the one secret type of raynet-sync
//!
//! [`Secret`] holds an API key, a client secret or a shared token. It is the only secret type
//! of the workspace: the Raynet client's API key, Graph's client secret and the config file's
//! resolved secrets are all a `Secret`, so the rules below hold everywhere at once:
//!
//! - `Debug` and `Display` print `***`; only [`Secret::expose`] gives the value, for the one
//!   place that sends it (over TLS);
//! - `==` compares in constant time (no early exit on the first differing byte), so a token
//!   received from outside can be checked against the configured one without a timing leak.
//!
//! The crate has no dependencies and does no I/O: the API clients (whose `client/` modules
//! never see the sync engine) and the engine's embedders can both use it.
//!
//! ```
//! use sync_secret::Secret;
//! let s = Secret::new("hunter2");
//! assert_eq!(format!("{s} {s:?}"), "*** ***");
//! assert_eq!(s.expose(), "hunter2");
//! assert_eq!(s, Secret::from("hunter2"));
//! assert_ne!(s, Secret::from("hunter3"));
//! ```

use std::fmt;

/// A secret string. `Debug` and `Display` print `***`; equality is constant-time.
#[derive(Clone, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    #[must_use]
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value. Call it only where the secret is sent; never log the result.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is empty (a config that left it blank, say).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Compares with a value received from outside (a webhook token, a `clientState`) in
    /// time that depends only on the lengths, never on where the bytes first differ.
    #[must_use]
    pub fn matches(&self, candidate: &str) -> bool {
        constant_time_eq(self.0.as_bytes(), candidate.as_bytes())
    }
}

/// Byte-wise equality that reads every byte of the shorter input whatever they hold.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    // The length is not secret (it is public knowledge for every token format we hold);
    // the bytes are.
    let mut diff = u8::from(a.len() != b.len());
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    std::hint::black_box(diff) == 0
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.matches(&other.0)
    }
}

impl Eq for Secret {}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_printed() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s}|{s:?}|{s:#?}"), "***|***|***");
        let wrapped = Some(s);
        assert_eq!(format!("{wrapped:?}"), "Some(***)");
    }

    #[test]
    fn equality_compares_every_byte_and_the_length() {
        let s = Secret::new("abcdef");
        assert!(s.matches("abcdef"));
        assert!(!s.matches("abcdeg"));
        assert!(!s.matches("Abcdef"));
        assert!(!s.matches("abcde"));
        assert!(!s.matches("abcdefg"));
        assert!(!s.matches(""));
        assert!(Secret::new("").matches(""));
    }
}
