//! How a Graph item carries what the engine recognises it by: the extended property holding
//! the idempotency key, and the version token (`changeKey` / ETag) with its `If-Match` form.

use crate::client::models::SingleValueExtendedProperty;

/// The single-value extended property (a named string property in our own property set) that
/// holds the idempotency key on the events and contacts this crate creates.
pub const LINK_PROPERTY_ID: &str =
    "String {5b0e3a6c-9d2f-4c1e-8a47-2f6d1c9e7b30} Name RaynetSyncKey";

/// A version token without its ETag dressing: the `changeKey`, else the ETag's inner value
/// (`W/"abc"` → `abc`), so that every read path (delta items carry only the ETag) gives the
/// same version.
#[must_use]
pub fn version_of(change_key: Option<&str>, etag: Option<&str>) -> Option<String> {
    change_key.map(str::to_owned).or_else(|| {
        etag.map(|e| {
            e.trim()
                .trim_start_matches("W/")
                .trim_matches('"')
                .to_owned()
        })
    })
}

/// The `If-Match` value for a version from [`version_of`] (`W/"<changeKey>"`).
#[must_use]
pub fn if_match(version: &str) -> String {
    if version.starts_with("W/") || version.starts_with('"') {
        version.to_owned()
    } else {
        format!("W/\"{version}\"")
    }
}

/// The extended property holding the idempotency key, for the create's body.
#[must_use]
pub fn link_property(
    property_id: &str,
    key: &sync_core::IdempotencyKey,
) -> SingleValueExtendedProperty {
    SingleValueExtendedProperty::new(property_id, key.as_str())
}
