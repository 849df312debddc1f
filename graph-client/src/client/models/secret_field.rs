//! (De)serialising an optional [`Secret`] field (`clientState`): the wire carries the plain
//! value, every other rendering (`Debug`, `Display`) prints `***`.

use serde::{Deserialize, Deserializer, Serializer};
use sync_secret::Secret;

/// Writes the secret's value (or `null`).
#[allow(clippy::ref_option)]
pub(crate) fn serialize<S: Serializer>(value: &Option<Secret>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(secret) => s.serialize_some(secret.expose()),
        None => s.serialize_none(),
    }
}

/// Reads a string (or `null`) into a secret.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(Secret::new))
}
