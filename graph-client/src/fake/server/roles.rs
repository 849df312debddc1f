//! Application permissions: the `roles` claim of the tokens the fake issues (the permissions
//! granted when the token was issued, as the identity platform does), and the check that a
//! request's token carries the permission its endpoint needs (`403` otherwise, with Graph's
//! codes: `Authorization_RequestDenied` on the directory, `ErrorAccessDenied` on mailboxes).

use base64::Engine as _;
use serde_json::json;

use super::request::{Req, Resp};
use crate::fake::state::State;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A JWT-shaped access token (number `n`) whose claims carry the permissions granted now;
/// no `roles` claim at all when none is granted.
pub(super) fn token_text(st: &State, n: u64) -> String {
    let mut claims =
        json!({"aud": "https://graph.microsoft.com", "tid": st.tenant, "appid": st.client_id});
    if !st.application_permissions.is_empty() {
        claims["roles"] = json!(st.application_permissions);
    }
    // `{"typ":"JWT"}`: every token starts `eyJ0eXAi`, which tests look for in logs.
    format!(
        "eyJ0eXAiOiJKV1QifQ.{}.fake{n:016x}",
        b64(claims.to_string().as_bytes())
    )
}

/// The permission an endpoint needs (the least privileged one of its Graph page).
fn needed(endpoint: &str) -> Option<&'static str> {
    let resource = endpoint.split('.').next().unwrap_or_default();
    match resource {
        "groups" => Some("GroupMember.Read.All"),
        "users" => Some("User.Read.All"),
        "calendarView" | "events" => Some("Calendars.ReadWrite"),
        "contactFolders" | "contacts" => Some("Contacts.ReadWrite"),
        _ => None,
    }
}

/// `403` when the request's token does not carry the permission `endpoint` needs.
pub(super) fn check_role(req: &Req, endpoint: &str) -> Result<(), Resp> {
    let Some(permission) = needed(endpoint) else {
        return Ok(());
    };
    // The claim read as the client reads it (`Client::application_permissions`).
    let roles = req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .and_then(|t| crate::client::roles::roles_of(&sync_secret::Secret::new(t)).ok())
        .unwrap_or_default();
    if roles.iter().any(|r| r == permission) {
        return Ok(());
    }
    Err(if permission.ends_with(".Read.All") {
        Resp::error(
            403,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        )
    } else {
        Resp::error(
            403,
            "ErrorAccessDenied",
            "Access is denied. Check credentials and try again.",
        )
    })
}
