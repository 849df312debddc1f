//! Directory objects: users and groups.

use serde::{Deserialize, Serialize};

/// `@odata.type` of a user.
pub const ODATA_TYPE_USER: &str = "#microsoft.graph.user";
/// `@odata.type` of a group.
pub const ODATA_TYPE_GROUP: &str = "#microsoft.graph.group";

/// A member or owner of a group: a user, a group, a device, a service principal...
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DirectoryObject {
    /// `#microsoft.graph.user`, `#microsoft.graph.group`, ...
    #[serde(
        default,
        rename = "@odata.type",
        skip_serializing_if = "Option::is_none"
    )]
    pub odata_type: Option<String>,
    /// Object id.
    pub id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Primary SMTP address (null without a mailbox).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail: Option<String>,
    /// Sign-in name (users).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_principal_name: Option<String>,
}

impl DirectoryObject {
    /// Whether this object is a user.
    #[must_use]
    pub fn is_user(&self) -> bool {
        self.odata_type.as_deref() == Some(ODATA_TYPE_USER)
    }
}

/// A user.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct User {
    /// Object id (use it in every `/users/{id}` path).
    pub id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Primary SMTP address (null without a mailbox).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail: Option<String>,
    /// Sign-in name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_principal_name: Option<String>,
    /// Whether the account can sign in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_enabled: Option<bool>,
}

/// A group.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Group {
    /// Object id.
    pub id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Group SMTP address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail: Option<String>,
    /// `["Unified"]` for Microsoft 365 groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_types: Vec<String>,
}
