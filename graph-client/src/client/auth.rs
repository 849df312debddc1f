//! App-only authentication: OAuth 2.0 client credentials and a token cache. The app proves
//! itself with one of three credentials ([`ClientCredential`]): a client secret, a certificate
//! (a signed client assertion, `assertion.rs`) or a federated token file (an assertion another
//! identity provider issued, read anew for each token request).

use std::fmt;
use std::time::{Duration, Instant};

use serde::Deserialize;
use sync_secret::Secret;
use tokio::sync::Mutex;

pub use super::assertion::{
    ASSERTION_LIFETIME, AssertionAlgorithm, CLIENT_ASSERTION_TYPE, CertificateCredential,
    FEDERATED_TOKEN_FILE_VAR, FederatedCredential,
};
use super::error::{Error, Result};
use super::retry::RetryConfig;
use super::url::encode_segment;

/// The scope of every app-only Graph token.
pub const GRAPH_DEFAULT_SCOPE: &str = "https://graph.microsoft.com/.default";

/// How the app proves who it is to the token endpoint. `Debug` prints no secret material.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum ClientCredential {
    /// A client secret (`client_secret`; `Debug` prints `***`).
    Secret(Secret),
    /// A certificate: a client assertion signed with its key for each token request.
    Certificate(CertificateCredential),
    /// Workload identity federation: the assertion in a token file the platform rotates.
    Federated(FederatedCredential),
}

impl ClientCredential {
    /// The kind, for messages: `client secret`, `certificate` or `federated token file`.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Secret(_) => "client secret",
            Self::Certificate(_) => "certificate",
            Self::Federated(_) => "federated token file",
        }
    }
}

impl From<Secret> for ClientCredential {
    fn from(secret: Secret) -> Self {
        Self::Secret(secret)
    }
}

impl From<CertificateCredential> for ClientCredential {
    fn from(certificate: CertificateCredential) -> Self {
        Self::Certificate(certificate)
    }
}

impl From<FederatedCredential> for ClientCredential {
    fn from(federated: FederatedCredential) -> Self {
        Self::Federated(federated)
    }
}

/// Tenant, application (client) id and the app's credential.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// Tenant GUID or domain.
    pub tenant: String,
    /// Application (client) id.
    pub client_id: String,
    /// How the app proves itself (`Debug` prints no secret material).
    pub credential: ClientCredential,
}

impl Credentials {
    /// Credentials with a client secret.
    #[must_use]
    pub fn new(
        tenant: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
    ) -> Self {
        Self::with_credential(
            tenant,
            client_id,
            ClientCredential::Secret(client_secret.into()),
        )
    }

    /// Credentials with any [`ClientCredential`].
    #[must_use]
    pub fn with_credential(
        tenant: impl Into<String>,
        client_id: impl Into<String>,
        credential: impl Into<ClientCredential>,
    ) -> Self {
        Self {
            tenant: tenant.into(),
            client_id: client_id.into(),
            credential: credential.into(),
        }
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

#[derive(Deserialize, Default)]
struct OAuthError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

struct Cached {
    token: Secret,
    refresh_at: Instant,
}

/// Fetches and caches client-credentials tokens.
pub(crate) struct TokenCache {
    http: reqwest::Client,
    token_url: String,
    credentials: Credentials,
    margin: Duration,
    retry: RetryConfig,
    cached: Mutex<Option<Cached>>,
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache")
            .field("token_url", &self.token_url)
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

impl TokenCache {
    pub(crate) fn new(
        http: reqwest::Client,
        authority_base_url: &str,
        credentials: Credentials,
        margin: Duration,
        retry: RetryConfig,
    ) -> Self {
        let tenant = encode_segment(&credentials.tenant);
        let token_url = format!(
            "{}/{tenant}/oauth2/v2.0/token",
            authority_base_url.trim_end_matches('/')
        );
        Self {
            http,
            token_url,
            credentials,
            margin,
            retry,
            cached: Mutex::new(None),
        }
    }

    /// A token fetched now (not the cached one, which it replaces): one that carries what
    /// was granted since the cached one was issued.
    pub(crate) async fn fresh_token(&self) -> Result<Secret> {
        let cached = self.cached.lock().await.as_ref().map(|c| c.token.clone());
        self.token(cached.as_ref()).await
    }

    /// A valid token. With `rejected`, the token Graph just refused with 401: if the cache
    /// still holds it, a fresh one is fetched (only once for concurrent callers).
    pub(crate) async fn token(&self, rejected: Option<&Secret>) -> Result<Secret> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref() {
            let stale = rejected.is_some_and(|r| *r == c.token);
            if !stale && Instant::now() < c.refresh_at {
                return Ok(c.token.clone());
            }
        }
        // The token request is idempotent: transport failures, 5xx and 429 are retried.
        let mut attempt = 0;
        let fresh = loop {
            attempt += 1;
            match self.fetch().await {
                Ok(fresh) => break fresh,
                Err(e) if attempt < self.retry.max_attempts && is_transient(&e) => {
                    tokio::time::sleep(self.retry.backoff(attempt - 1)).await;
                }
                Err(e) => return Err(e),
            }
        };
        let token = fresh.token.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    async fn fetch(&self) -> Result<Cached> {
        let span = tracing::info_span!(
            "graph.token",
            method = "POST",
            path = "/{tenant}/oauth2/v2.0/token",
            status = tracing::field::Empty
        );
        tracing::Instrument::instrument(self.fetch_in(&span), span.clone()).await
    }

    /// The form of a token request, and the assertion it carries (none with a secret).
    fn token_request(&self) -> Result<(String, Option<Secret>)> {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("client_id", &self.credentials.client_id);
        // A fresh assertion for every request (a new `jti`; the token file read anew).
        let assertion = match &self.credentials.credential {
            ClientCredential::Secret(secret) => {
                form.append_pair("client_secret", secret.expose());
                None
            }
            ClientCredential::Certificate(cert) => {
                Some(cert.assertion(&self.token_url, &self.credentials.client_id)?)
            }
            ClientCredential::Federated(file) => Some(file.assertion()?),
        };
        if let Some(assertion) = &assertion {
            form.append_pair("client_assertion_type", CLIENT_ASSERTION_TYPE)
                .append_pair("client_assertion", assertion.expose());
        }
        form.append_pair("scope", GRAPH_DEFAULT_SCOPE)
            .append_pair("grant_type", "client_credentials");
        Ok((form.finish(), assertion))
    }

    async fn fetch_in(&self, span: &tracing::Span) -> Result<Cached> {
        let (body, assertion) = self.token_request()?;
        let started = Instant::now();
        let response = self
            .http
            .post(&self.token_url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body)
            .send()
            .await
            .map_err(|e| Error::Transport {
                endpoint: "POST /{tenant}/oauth2/v2.0/token".into(),
                source: e.without_url(),
            })?;
        let status = response.status().as_u16();
        span.record("status", status);
        let bytes = response.bytes().await.map_err(|e| Error::Transport {
            endpoint: "POST /{tenant}/oauth2/v2.0/token".into(),
            source: e.without_url(),
        })?;
        if !(200..300).contains(&status) {
            let err: OAuthError = serde_json::from_slice(&bytes).unwrap_or_default();
            let sent = match &self.credentials.credential {
                ClientCredential::Secret(secret) => Some(secret),
                _ => assertion.as_ref(),
            };
            let sent = sent.map_or("", Secret::expose);
            return Err(Error::Auth {
                status: Some(status),
                code: redact(&err.error, sent),
                message: redact(&err.error_description, sent),
            });
        }
        let (token, lifetime) = parse_token_answer(&bytes, status)?;
        let margin = if lifetime > self.margin * 2 {
            self.margin
        } else {
            lifetime / 2
        };
        tracing::debug!(lifetime_secs = lifetime.as_secs(), "fetched app-only token");
        Ok(Cached {
            token,
            refresh_at: started + lifetime.saturating_sub(margin),
        })
    }
}

/// The longest token lifetime believed (a day; Entra ID issues about an hour). A longer or
/// absurd `expires_in` (up to `u64::MAX` seconds, which overflowed the refresh instant) is
/// cut to it.
const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// Reads a successful (`status`) answer of the token endpoint: the access token and its
/// lifetime (`expires_in`, a number or a numeric string, at most [`MAX_TOKEN_LIFETIME`];
/// missing or unreadable: 0, so the token is fetched again at its next use).
///
/// # Errors
/// [`Error::Auth`] `invalid_token_response` naming the failing field when the body is not a
/// token answer (the message never holds the token).
#[doc(hidden)]
pub fn parse_token_answer(body: &[u8], status: u16) -> Result<(Secret, Duration)> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    let parsed: TokenResponse = serde_path_to_error::deserialize(de).map_err(|e| Error::Auth {
        status: Some(status),
        code: "invalid_token_response".into(),
        message: format!(
            "token response could not be read at `{}`: {}",
            e.path(),
            e.inner()
        ),
    })?;
    // `expires_in` is a number, but some servers send it as a string.
    let lifetime = match parsed.expires_in {
        Some(serde_json::Value::Number(n)) => n.as_u64().unwrap_or(0),
        Some(serde_json::Value::String(s)) => s.trim().parse().unwrap_or(0),
        _ => 0,
    };
    let lifetime = Duration::from_secs(lifetime).min(MAX_TOKEN_LIFETIME);
    Ok((Secret::new(parsed.access_token), lifetime))
}

fn is_transient(e: &Error) -> bool {
    match e {
        Error::Transport { .. } | Error::Timeout { .. } => true,
        Error::Auth {
            status: Some(s), ..
        } => *s == 429 || *s >= 500,
        _ => false,
    }
}

fn redact(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        text.to_owned()
    } else {
        text.replace(secret, "***")
    }
}
