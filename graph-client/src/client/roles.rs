//! The application permissions an app-only token carries: its `roles` claim. The claim is
//! read, not verified: the token was just issued to this client over TLS and is only asked
//! what it grants, never trusted for an access decision.

use base64::Engine as _;
use sync_secret::Secret;

use super::error::{Error, Result};
use super::http::Client;

impl Client {
    /// The application permissions granted to the app: the `roles` claim of a token fetched
    /// now (an administrator's consent reaches only tokens issued after it), which also
    /// replaces the cached token. Empty when nothing was granted (the identity platform then
    /// leaves the claim out).
    ///
    /// # Errors
    /// The token endpoint's errors ([`Error::Auth`], transport); [`Error::Shape`] when the
    /// token is not a JWT whose claims can be read.
    pub async fn application_permissions(&self) -> Result<Vec<String>> {
        let token = self.transport().tokens.fresh_token().await?;
        roles_of(&token)
    }
}

/// The `roles` claim of `token` (a JWT: header, claims and signature, base64url).
pub(crate) fn roles_of(token: &Secret) -> Result<Vec<String>> {
    let shape = |detail: &str| Error::Shape {
        endpoint: "token".into(),
        detail: format!("the access token's claims cannot be read: {detail}"),
    };
    let claims = token
        .expose()
        .split('.')
        .nth(1)
        .ok_or_else(|| shape("it is not a JWT"))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(claims.trim_end_matches('='))
        .map_err(|_| shape("not base64url"))?;
    let claims: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| shape("not a JSON object"))?;
    match claims.get("roles") {
        None | Some(serde_json::Value::Null) => Ok(Vec::new()),
        Some(serde_json::Value::Array(roles)) => roles
            .iter()
            .map(|r| {
                r.as_str()
                    .map(ToOwned::to_owned)
                    .ok_or_else(|| shape("a role is not a string"))
            })
            .collect(),
        Some(_) => Err(shape("`roles` is not a list")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> Secret {
        let enc = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        Secret::new(format!("{}.{}.sig", enc(r#"{"typ":"JWT"}"#), enc(claims)))
    }

    #[test]
    fn the_roles_claim_is_read_and_its_absence_means_none() {
        let t = jwt(
            r#"{"aud":"https://graph.microsoft.com","roles":["User.Read.All","Calendars.ReadWrite"]}"#,
        );
        assert_eq!(
            roles_of(&t).unwrap(),
            ["User.Read.All", "Calendars.ReadWrite"]
        );
        assert!(roles_of(&jwt(r#"{"aud":"x"}"#)).unwrap().is_empty());
        for bad in ["opaque", "a.!!!.c", "a.bm90IGpzb24.c"] {
            assert!(
                matches!(roles_of(&Secret::new(bad)), Err(Error::Shape { .. })),
                "{bad}"
            );
        }
        assert!(roles_of(&jwt(r#"{"roles":"User.Read.All"}"#)).is_err());
    }
}
