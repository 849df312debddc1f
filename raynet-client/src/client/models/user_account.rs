//! User accounts (`/userAccount/`).

use serde::{Deserialize, Serialize};

use super::common::{Ref, RowInfo, de};
use super::macros::open_enum;

open_enum! {
    /// A user's role.
    UserRole {
        /// `ADMIN`.
        Admin = "ADMIN",
        /// `FULL_THROTTLE`.
        FullThrottle = "FULL_THROTTLE",
        /// `CERTAIN_RESTRICTIONS`.
        CertainRestrictions = "CERTAIN_RESTRICTIONS",
        /// `READONLY`.
        ReadOnly = "READONLY",
    }
}

/// A RAYNET user account.
///
/// `username` is the login e-mail. Meetings, owners and participants refer to
/// the linked **person** id ([`UserAccount::person`]), never to this id.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UserAccount {
    /// User account id.
    #[serde(deserialize_with = "de::u64_lenient")]
    pub id: u64,
    /// Login e-mail.
    pub username: Option<String>,
    /// The person record of this user.
    pub person: Option<Ref>,
    /// Role.
    pub user_role: Option<UserRole>,
    /// Second e-mail (detail only).
    pub email2: Option<String>,
    /// Time zone code, e.g. `EUROPE_PRAGUE` (detail only).
    pub timezone: Option<String>,
    /// Audit block and `_version`.
    #[serde(flatten)]
    pub row_info: RowInfo,
}
