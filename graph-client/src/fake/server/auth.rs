//! The token endpoint (OAuth 2.0 client credentials: a client secret or a client assertion)
//! and the check of a request's token.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Instant;

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

use sync_secret::Secret;

use super::request::{Req, Resp};
use crate::client::auth::CLIENT_ASSERTION_TYPE;
use crate::fake::state::State;

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

/// An OAuth error as the identity platform writes it: `error`, `error_description` starting
/// with the AADSTS code and ending with the trace and correlation ids and the time,
/// `error_codes`, `timestamp`, `trace_id`, `correlation_id`, `error_uri`.
pub(super) fn oauth_error(status: u16, error: &str, code: u32, description: &str) -> Resp {
    let now = Utc::now();
    let timestamp = now.format("%Y-%m-%d %H:%M:%SZ").to_string();
    let (trace_id, correlation_id) = (random_guid(), random_guid());
    Resp::json(
        status,
        json!({
            "error": error,
            "error_description": format!(
                "AADSTS{code}: {description}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}"
            ),
            "error_codes": [code],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
        }),
    )
}

fn random_guid() -> String {
    let b: [u8; 16] = rand::random();
    let h = b.iter().fold(String::new(), |mut out, x| {
        let _ = write!(out, "{x:02x}");
        out
    });
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

pub(super) fn token_endpoint(
    st: &mut State,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Resp {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let [tenant, "oauth2", "v2.0", "token"] = segs.as_slice() else {
        return Resp::error(404, "NotFound", "No such endpoint.");
    };
    if method != "POST" {
        return oauth_error(
            405,
            "invalid_request",
            900_561,
            "The endpoint only accepts POST requests.",
        );
    }
    if *tenant != st.tenant {
        return oauth_error(
            400,
            "invalid_tenant",
            90002,
            &format!("Tenant '{tenant}' not found."),
        );
    }
    let form_ok = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("content-type") && v.starts_with("application/x-www-form-urlencoded")
    });
    if !form_ok {
        return oauth_error(
            400,
            "invalid_request",
            900_144,
            "The request body must contain the following parameter: 'grant_type'.",
        );
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return oauth_error(
            400,
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type.",
        );
    }
    if !form.get("scope").is_some_and(|s| s.ends_with("/.default")) {
        return oauth_error(
            400,
            "invalid_scope",
            1_002_012,
            "The provided value for scope is not valid.",
        );
    }
    let client_id = form.get("client_id").cloned().unwrap_or_default();
    if client_id != st.client_id && !st.app_credentials.knows(&client_id) {
        return oauth_error(
            400,
            "unauthorized_client",
            700_016,
            &format!("Application with identifier '{client_id}' was not found in the directory."),
        );
    }
    let token_url = format!("{}{path}", st.base_url.trim_end_matches("/v1.0"));
    let accepted = match (form.get("client_secret"), form.get("client_assertion")) {
        (Some(_), Some(_)) => Err(oauth_error(
            400,
            "invalid_request",
            90023,
            "Give either 'client_secret' or 'client_assertion', not both.",
        )),
        (Some(secret), None) => {
            if client_id == st.client_id && Secret::new(st.client_secret.as_str()).matches(secret) {
                Ok(())
            } else {
                Err(oauth_error(
                    401,
                    "invalid_client",
                    7_000_215,
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
                ))
            }
        }
        (None, Some(assertion)) => {
            if form.get("client_assertion_type").map(String::as_str) == Some(CLIENT_ASSERTION_TYPE)
            {
                check_assertion(st, &client_id, &token_url, assertion)
            } else {
                Err(oauth_error(
                    400,
                    "invalid_request",
                    90014,
                    "The required field 'client_assertion_type' is missing or not 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.",
                ))
            }
        }
        (None, None) => Err(oauth_error(
            401,
            "invalid_client",
            7_000_218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )),
    };
    if let Err(resp) = accepted {
        return resp;
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

/// Checks a client assertion as the identity platform does: a certificate's assertion (its
/// header names the certificate by `x5t#S256` or `x5t`) against the certificates registered
/// for the app, with `aud` = the token endpoint and `iss` = `sub` = the client id; any other
/// assertion against the app's federated identity credentials (issuer, subject, audience,
/// the issuer's key). Then the time range (no clock skew allowed) and, for a certificate's
/// assertion, the single use of `jti` (a federated token is presented again and again for its
/// lifetime).
fn check_assertion(
    st: &mut State,
    client_id: &str,
    token_url: &str,
    assertion: &str,
) -> Result<(), Resp> {
    let malformed = || {
        oauth_error(
            400,
            "invalid_request",
            50027,
            "JWT token is invalid or malformed.",
        )
    };
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| malformed())?;
    if !matches!(header.alg, Algorithm::RS256 | Algorithm::PS256) {
        return Err(oauth_error(
            401,
            "invalid_client",
            5_002_738,
            &format!(
                "Invalid JWT token. '{:?}' is not a supported signature algorithm.",
                header.alg
            ),
        ));
    }
    let mut unverified = Validation::new(header.alg);
    unverified.insecure_disable_signature_validation();
    unverified.validate_exp = false;
    unverified.validate_aud = false;
    unverified.required_spec_claims.clear();
    let unchecked: Value =
        jsonwebtoken::decode(assertion, &DecodingKey::from_secret(b""), &unverified)
            .map_err(|_| malformed())?
            .claims;
    let text = |claims: &Value, name: &str| claims[name].as_str().unwrap_or_default().to_owned();
    let by_certificate = header.x5t.is_some() || header.x5t_s256.is_some();
    let key_pem = if by_certificate {
        let registered = st.app_credentials.certificates.iter().find(|c| {
            c.client_id == client_id
                && (header.x5t_s256.as_ref() == Some(&c.x5t_s256)
                    || header.x5t.as_ref() == Some(&c.x5t))
        });
        let Some(cert) = registered else {
            return Err(oauth_error(
                401,
                "invalid_client",
                700_027,
                &format!(
                    "The certificate with identifier used to sign the client assertion is not \
                     registered on application. [Reason - The key was not found., Thumbprint of \
                     key used by client: '{}']",
                    header.x5t_s256.or(header.x5t).unwrap_or_default()
                ),
            ));
        };
        cert.pem.clone()
    } else {
        let issuer = text(&unchecked, "iss");
        let subject = text(&unchecked, "sub");
        let records: Vec<_> = st
            .app_credentials
            .federated
            .iter()
            .filter(|(id, f)| id == client_id && f.issuer == issuer)
            .map(|(_, f)| f)
            .collect();
        let not_found = |code: u32, what: &str, value: &str| {
            oauth_error(
                400,
                "invalid_request",
                code,
                &format!(
                    "No matching federated identity record found for presented assertion {what} \
                     '{value}'. Please check your federated identity credential Subject, Audience \
                     and Issuer against the presented assertion."
                ),
            )
        };
        if records.is_empty() {
            return Err(not_found(700_211, "issuer", &issuer));
        }
        let records: Vec<_> = records
            .into_iter()
            .filter(|f| f.subject == subject)
            .collect();
        if records.is_empty() {
            return Err(not_found(700_213, "subject", &subject));
        }
        let Some(record) = records
            .into_iter()
            .find(|f| audience_holds(&unchecked["aud"], &f.audience))
        else {
            return Err(not_found(
                700_212,
                "audience",
                &audience_text(&unchecked["aud"]),
            ));
        };
        record.issuer_key_pem.clone()
    };
    let bad_signature = || {
        oauth_error(
            401,
            "invalid_client",
            700_027,
            "Client assertion failed signature validation.",
        )
    };
    let key = DecodingKey::from_rsa_pem(key_pem.as_bytes()).map_err(|_| bad_signature())?;
    let mut checked = Validation::new(header.alg);
    checked.validate_exp = false;
    checked.validate_aud = false;
    checked.required_spec_claims.clear();
    let claims: Value = jsonwebtoken::decode(assertion, &key, &checked)
        .map_err(|_| bad_signature())?
        .claims;
    if by_certificate {
        if !audience_holds(&claims["aud"], token_url) {
            return Err(oauth_error(
                401,
                "invalid_client",
                700_023,
                "Client assertion audience claim does not match Realm issuer. Review the \
                 documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
            ));
        }
        if text(&claims, "iss") != client_id || text(&claims, "sub") != client_id {
            return Err(oauth_error(
                401,
                "invalid_client",
                700_021,
                "Client assertion application identifier doesn't match 'client_id' parameter.",
            ));
        }
    }
    let missing = |field: &str| {
        oauth_error(
            400,
            "invalid_request",
            90014,
            &format!("The required field '{field}' is missing from the credential."),
        )
    };
    let now = Utc::now().timestamp();
    let exp = claims["exp"].as_i64().ok_or_else(|| missing("exp"))?;
    let nbf = claims["nbf"].as_i64();
    if now >= exp || nbf.is_some_and(|n| n > now) {
        return Err(oauth_error(
            401,
            "invalid_client",
            700_024,
            &format!(
                "Client assertion is not within its valid time range. Current time: {}, \
                 assertion valid from {}, expiry time of assertion {}.",
                unix_text(now),
                nbf.map_or_else(|| "-".to_owned(), unix_text),
                unix_text(exp)
            ),
        ));
    }
    // A client assertion signed with the app's certificate is single-use. A federated token
    // is not: the platform writes one to the file for its whole lifetime and every token
    // request of the workload presents it again (as Entra accepts it).
    if !by_certificate {
        return Ok(());
    }
    let Some(jti) = claims["jti"].as_str() else {
        return Err(missing("jti"));
    };
    let used = &mut st.app_credentials.used_jtis;
    used.retain(|_, until| *until > now);
    {
        let seen = (client_id.to_owned(), jti.to_owned());
        if used.contains_key(&seen) {
            return Err(oauth_error(
                401,
                "invalid_client",
                50013,
                "Assertion is invalid: its 'jti' was already used. A client assertion is \
                 single-use; sign a new one for each request.",
            ));
        }
        used.insert(seen, exp);
    }
    Ok(())
}

/// Whether an `aud` claim (a string or an array of strings) holds `wanted`.
fn audience_holds(aud: &Value, wanted: &str) -> bool {
    match aud {
        Value::String(s) => s == wanted,
        Value::Array(items) => items.iter().any(|a| a.as_str() == Some(wanted)),
        _ => false,
    }
}

fn audience_text(aud: &Value) -> String {
    match aud {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn unix_text(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0).map_or_else(
        || secs.to_string(),
        |t| t.format("%m/%d/%Y %H:%M:%S").to_string(),
    )
}
