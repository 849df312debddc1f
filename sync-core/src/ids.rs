//! Identifier and version-token newtypes.
//!
//! Every identifier that crosses the engine's boundary is a validated newtype, so that a
//! provider cannot hand the engine an empty id or a token with control characters, and so that
//! a Raynet id is never confused with an Outlook id by accident.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::ModelError;

/// Longest id or token the engine accepts (Graph ids are ~150 characters; 2 KiB is generous).
const MAX_TOKEN_LEN: usize = 2048;

fn check_token(kind: &'static str, value: &str) -> Result<(), ModelError> {
    if value.is_empty() {
        return Err(ModelError::InvalidId {
            kind,
            reason: "is empty",
        });
    }
    if value.len() > MAX_TOKEN_LEN {
        return Err(ModelError::InvalidId {
            kind,
            reason: "is longer than 2048 bytes",
        });
    }
    if value.chars().any(char::is_control) {
        return Err(ModelError::InvalidId {
            kind,
            reason: "contains a control character",
        });
    }
    Ok(())
}

/// Serde for a validated string newtype: written as its text, read through its constructor
/// (so a stored value is validated like a new one).
macro_rules! validated_serde {
    ($name:ident, $new:expr) => {
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                ($new)(raw).map_err(serde::de::Error::custom)
            }
        }
    };
}

macro_rules! token_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        // A boxed `str` rather than a `String`: 16 bytes instead of 24 and no spare capacity,
        // which counts at several ids and tokens per pair and 100,000 pairs.
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Box<str>);

        impl $name {
            /// Validates and wraps a value.
            ///
            /// # Errors
            /// [`ModelError::InvalidId`] when the value is empty, longer than 2 KiB or holds a
            /// control character.
            pub fn new(value: impl Into<String>) -> Result<Self, ModelError> {
                let value = value.into();
                check_token($kind, &value)?;
                // INVARIANT: non-empty, at most 2 KiB, no control characters.
                Ok(Self(value.into_boxed_str()))
            }

            /// The value as a string slice (compare ids byte for byte, never case-folded).
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = ModelError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = ModelError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::new(s)
            }
        }

        validated_serde!($name, |raw: String| $name::new(raw));
    };
}

token_type!(
    /// The id of an item on one side (a Raynet record id in decimal, a Graph immutable id, ...).
    ///
    /// ```
    /// use sync_core::RemoteId;
    /// let id: RemoteId = "AAMkAGI2TG93AAA=".parse().unwrap();
    /// assert_eq!(id.as_str(), "AAMkAGI2TG93AAA=");
    /// assert!(RemoteId::new("").is_err());
    /// ```
    RemoteId,
    "remote id"
);

token_type!(
    /// A side's version token for one item (Raynet `rowInfo.updatedAt`/`_version`, Graph
    /// `changeKey`/ETag). Opaque: the engine only compares tokens for equality and hands them
    /// back for optimistic concurrency.
    Version,
    "version token"
);

token_type!(
    /// A provider's opaque incremental-read cursor (a Graph delta link, a Raynet watermark).
    Cursor,
    "cursor"
);

/// An idempotency key marking a create on the target side, so that a create retried after a
/// crash finds its first try instead of making a duplicate.
///
/// Keys are short and URL-safe (`[A-Za-z0-9_-]`, at most 64 characters) so that they fit a
/// Raynet external id and a Graph `transactionId` alike.
///
/// ```
/// use sync_core::{IdempotencyKey, RemoteId, Side};
/// let id = RemoteId::new("42").unwrap();
/// let key = IdempotencyKey::for_source(Side::Raynet, &id);
/// assert_eq!(key.as_str(), "r-42");
/// let long = RemoteId::new("AAMkAGI2/TG93+AAA=".repeat(8)).unwrap();
/// let key = IdempotencyKey::for_source(Side::Outlook, &long);
/// assert!(key.as_str().starts_with("o-h") && key.as_str().len() <= 64);
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct IdempotencyKey(Box<str>);

impl IdempotencyKey {
    /// Validates and wraps a key.
    ///
    /// # Errors
    /// [`ModelError::InvalidId`] when the key is empty, longer than 64 characters or holds a
    /// character outside `[A-Za-z0-9_-]`.
    pub fn new(value: impl Into<String>) -> Result<Self, ModelError> {
        let value = value.into();
        if value.is_empty() || value.len() > 64 {
            return Err(ModelError::InvalidId {
                kind: "idempotency key",
                reason: "must be 1 to 64 characters",
            });
        }
        if !value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(ModelError::InvalidId {
                kind: "idempotency key",
                reason: "may hold only A-Z, a-z, 0-9, '-' and '_'",
            });
        }
        // INVARIANT: 1..=64 characters of [A-Za-z0-9_-].
        Ok(Self(value.into_boxed_str()))
    }

    /// The deterministic key for creating, on the other side, the item `id` of side `source`.
    ///
    /// Short URL-safe ids are used as they are (`r-42`); others are hashed (`o-h<32 hex>`), so
    /// a raw Graph id (with `/`, `+`, `=`) never ends up in a Raynet URL path.
    #[must_use]
    pub fn for_source(source: Side, id: &RemoteId) -> Self {
        let prefix = match source {
            Side::Raynet => "r-",
            Side::Outlook => "o-",
        };
        let raw = id.as_str();
        let url_safe = raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if url_safe && raw.len() <= 40 {
            return Self(format!("{prefix}{raw}").into_boxed_str());
        }
        Self(format!("{prefix}h{}", hash_hex(raw.as_bytes())).into_boxed_str())
    }

    /// The key as a string slice.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

validated_serde!(IdempotencyKey, |raw: String| IdempotencyKey::new(raw));

/// A 128-bit FNV-1a-style digest in hex: two 64-bit FNV-1a lanes with different offsets.
/// Not cryptographic; it only has to keep distinct ids apart.
fn hash_hex(bytes: &[u8]) -> String {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut a: u64 = 0xcbf2_9ce4_8422_2325;
    let mut b: u64 = 0x6c62_272e_07bb_0142;
    for &byte in bytes {
        a = (a ^ u64::from(byte)).wrapping_mul(PRIME);
        b = (b ^ u64::from(byte.rotate_left(3))).wrapping_mul(PRIME);
        b = b.rotate_left(7);
    }
    format!("{a:016x}{b:016x}")
}

/// One of the two sides of the sync.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// RAYNET CRM.
    Raynet,
    /// Microsoft 365 Outlook (Graph).
    Outlook,
}

impl Side {
    /// The other side.
    #[must_use]
    pub fn other(self) -> Self {
        match self {
            Self::Raynet => Self::Outlook,
            Self::Outlook => Self::Raynet,
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Raynet => "raynet",
            Self::Outlook => "outlook",
        })
    }
}

/// A normalized e-mail address: trimmed and lower-cased, with exactly one `@` and a non-empty
/// local part and domain.
///
/// ```
/// use sync_core::Email;
/// let e = Email::new("  Jana.Novak@Example.CZ ").unwrap();
/// assert_eq!(e.as_str(), "jana.novak@example.cz");
/// assert_eq!(e.domain(), "example.cz");
/// assert!(Email::new("not-an-address").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Email(Box<str>);

impl Email {
    /// Normalizes and validates an address.
    ///
    /// # Errors
    /// [`ModelError::InvalidEmail`] when the value is not `local@domain`.
    pub fn new(value: &str) -> Result<Self, ModelError> {
        let v = value.trim().to_lowercase();
        let mut parts = v.split('@');
        let ok = match (parts.next(), parts.next(), parts.next()) {
            (Some(local), Some(domain), None) => {
                !local.is_empty()
                    && !domain.is_empty()
                    && !v.chars().any(|c| c.is_whitespace() || c.is_control())
            }
            _ => false,
        };
        if !ok {
            return Err(ModelError::InvalidEmail {
                value: value.chars().take(80).collect(),
            });
        }
        // INVARIANT: lower-case, trimmed, exactly one '@' with both parts non-empty.
        Ok(Self(v.into_boxed_str()))
    }

    /// The address as a string slice.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after the `@`.
    #[must_use]
    pub fn domain(&self) -> &str {
        self.0.split('@').nth(1).unwrap_or_default()
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Email {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

validated_serde!(Email, |raw: String| Email::new(&raw));

/// What one sync run is about: a tenant, a member's mailbox and a collection. The state store
/// keeps pairs, cursors and pending creates per scope.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct Scope {
    /// The tenant's name in the configuration.
    pub tenant: String,
    /// The member (their e-mail address, or any stable key an embedder chooses).
    pub member: String,
    /// Which collection of the member is synced.
    pub collection: Collection,
}

impl Scope {
    /// A scope for `collection` of `member` in `tenant`.
    #[must_use]
    pub fn new(
        tenant: impl Into<String>,
        member: impl Into<String>,
        collection: Collection,
    ) -> Self {
        Self {
            tenant: tenant.into(),
            member: member.into(),
            collection,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.tenant, self.member, self.collection)
    }
}

/// The two kinds of collection raynet-sync keeps in step.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Collection {
    /// Meetings and events, two-way.
    Calendar,
    /// Persons → contacts, one-way.
    Contacts,
}

impl fmt::Display for Collection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Calendar => "calendar",
            Self::Contacts => "contacts",
        })
    }
}

/// The store's own handle for one pair. Only a [`crate::StateStore`] hands these out.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct PairId(u64);

impl PairId {
    /// Wraps a store-assigned number. Meant for [`crate::StateStore`] implementations.
    #[must_use]
    pub fn from_store(n: u64) -> Self {
        Self(n)
    }

    /// The number, for a store to persist.
    #[must_use]
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for PairId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_id_rejects_bad_values() {
        assert!(RemoteId::new("").is_err());
        assert!(RemoteId::new("a\nb").is_err());
        assert!(RemoteId::new("x".repeat(3000)).is_err());
        assert!(serde_json::from_str::<RemoteId>("\"\"").is_err());
        assert_eq!(
            serde_json::from_str::<RemoteId>("\"AA+/=\"")
                .unwrap()
                .as_str(),
            "AA+/="
        );
    }

    #[test]
    fn ids_compare_byte_for_byte() {
        assert_ne!(
            RemoteId::new("AAk=").unwrap(),
            RemoteId::new("aak=").unwrap()
        );
    }

    #[test]
    fn idempotency_keys_are_url_safe_and_distinct() {
        let a = IdempotencyKey::for_source(Side::Outlook, &RemoteId::new("AA/b+c=").unwrap());
        let b = IdempotencyKey::for_source(Side::Outlook, &RemoteId::new("AA/b+c=d").unwrap());
        assert_ne!(a, b);
        assert!(IdempotencyKey::new(a.as_str()).is_ok());
        assert!(IdempotencyKey::new("has space").is_err());
        let r = IdempotencyKey::for_source(Side::Raynet, &RemoteId::new("77").unwrap());
        let o = IdempotencyKey::for_source(Side::Outlook, &RemoteId::new("77").unwrap());
        assert_ne!(r, o);
    }

    #[test]
    fn email_normalizes_case_and_space() {
        assert_eq!(Email::new(" A@B.c ").unwrap(), Email::new("a@b.C").unwrap());
        assert!(Email::new("a@@b").is_err());
        assert!(Email::new("@b").is_err());
        assert!(Email::new("a b@c").is_err());
    }
}
