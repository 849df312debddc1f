//! What events and contacts share on the wire: their ETag, the read-only properties a write
//! leaves alone, and the properties every item is rendered with.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::fake::time;

/// The properties of every item that a write cannot set (ignored when a body carries them).
const ITEM_READ_ONLY: &[&str] = &[
    "id",
    "@odata.etag",
    "@odata.type",
    "@odata.context",
    "changeKey",
    "createdDateTime",
    "lastModifiedDateTime",
];

/// The weak ETag of an item with this change key.
pub(super) fn etag(change_key: &str) -> String {
    format!("W/\"{change_key}\"")
}

/// Whether a write sets the property `key`: neither read-only on every item nor in
/// `read_only` (the resource's own).
pub(super) fn is_writable(key: &str, read_only: &[&str]) -> bool {
    !ITEM_READ_ONLY.contains(&key) && !read_only.contains(&key)
}

/// The properties of a write's `body` it sets (see [`is_writable`]).
pub(super) fn writable(body: &Map<String, Value>, read_only: &[&str]) -> Map<String, Value> {
    body.iter()
        .filter(|(k, _)| is_writable(k, read_only))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The properties every item is rendered with: ETag, id, creation and modification times,
/// change key and (empty) categories.
pub(super) fn item_head(
    id: &str,
    change_key: &str,
    created: DateTime<Utc>,
    modified: DateTime<Utc>,
) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("@odata.etag".into(), json!(etag(change_key)));
    m.insert("id".into(), json!(id));
    m.insert("createdDateTime".into(), json!(time::fmt_utc(created)));
    m.insert(
        "lastModifiedDateTime".into(),
        json!(time::fmt_utc(modified)),
    );
    m.insert("changeKey".into(), json!(change_key));
    m.insert("categories".into(), json!([]));
    m
}
