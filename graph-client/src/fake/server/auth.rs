//! The token endpoint (OAuth 2.0 client credentials) and the check of a request's token.

use std::collections::HashMap;
use std::time::Instant;

use chrono::Utc;
use serde_json::json;

use super::request::{Req, Resp};
use crate::fake::state::State;
use crate::fake::time;

pub(super) fn check_auth(st: &State, req: &Req) -> Result<(), Resp> {
    let token = req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "));
    match token.and_then(|t| st.tokens.get(t)) {
        Some(expiry) if Instant::now() < *expiry => Ok(()),
        Some(_) => Err(Resp::error(
            401,
            "InvalidAuthenticationToken",
            "Lifetime validation failed, the token is expired.",
        )),
        None => Err(Resp::error(
            401,
            "InvalidAuthenticationToken",
            "Access token is empty or invalid.",
        )),
    }
}

pub(super) fn token_endpoint(
    st: &mut State,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Resp {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let oauth = |status: u16, error: &str, description: &str| {
        Resp::json(
            status,
            json!({"error": error, "error_description": description, "error_codes": [], "timestamp": time::fmt_utc(Utc::now())}),
        )
    };
    let [tenant, "oauth2", "v2.0", "token"] = segs.as_slice() else {
        return Resp::error(404, "NotFound", "No such endpoint.");
    };
    if method != "POST" {
        return oauth(
            405,
            "invalid_request",
            "AADSTS900561: The endpoint only accepts POST requests.",
        );
    }
    if *tenant != st.tenant {
        return oauth(
            400,
            "invalid_tenant",
            &format!("AADSTS90002: Tenant '{tenant}' not found."),
        );
    }
    let form_ok = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("content-type") && v.starts_with("application/x-www-form-urlencoded")
    });
    if !form_ok {
        return oauth(
            400,
            "invalid_request",
            "AADSTS900144: The request body must contain the following parameter: 'grant_type'.",
        );
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return oauth(
            400,
            "unsupported_grant_type",
            "AADSTS70003: The app requested an unsupported grant type.",
        );
    }
    if !form.get("scope").is_some_and(|s| s.ends_with("/.default")) {
        return oauth(
            400,
            "invalid_scope",
            "AADSTS1002012: The provided value for scope is not valid.",
        );
    }
    if form.get("client_id") != Some(&st.client_id) {
        return oauth(
            400,
            "unauthorized_client",
            "AADSTS700016: Application was not found in the directory.",
        );
    }
    if form.get("client_secret") != Some(&st.client_secret) {
        return oauth(
            401,
            "invalid_client",
            "AADSTS7000215: Invalid client secret provided.",
        );
    }
    let n = st.next();
    let token = super::roles::token_text(st, n);
    st.tokens
        .insert(token.clone(), Instant::now() + st.token_lifetime);
    let secs = st.token_lifetime.as_secs().max(1);
    Resp::json(
        200,
        json!({"token_type": "Bearer", "expires_in": secs, "ext_expires_in": secs, "access_token": token}),
    )
}
