//! The one transport layer: auth header, `Prefer` headers, per-mailbox concurrency, retries,
//! `Retry-After`, timeouts and one `tracing` span per request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderValue};
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use tracing::Instrument;

use sync_secret::Secret;

use super::auth::TokenCache;
use super::error::{Error, Result};
use super::retry::{RetryConfig, parse_retry_after};

type Bytes = Vec<u8>;

/// One request, as the resource handlers describe it.
#[derive(Debug)]
pub(crate) struct Request {
    pub(crate) method: Method,
    /// Absolute URL.
    pub(crate) url: String,
    /// Method and path template, for errors.
    pub(crate) endpoint: String,
    /// The mailbox the request targets (for the concurrency limit).
    pub(crate) mailbox: Option<String>,
    /// Preferences besides `IdType="ImmutableId"` (always sent).
    pub(crate) prefer: Vec<String>,
    /// Extra headers (`If-Match`, `ConsistencyLevel`...).
    pub(crate) headers: Vec<(&'static str, String)>,
    /// JSON body.
    pub(crate) body: Option<Vec<u8>>,
    /// Whether a repeat cannot duplicate an effect (GET, PATCH/DELETE, POST with transactionId).
    pub(crate) retry_safe: bool,
}

impl Request {
    pub(crate) fn new(method: Method, url: String, endpoint: impl Into<String>) -> Self {
        let retry_safe = method != Method::POST;
        Self {
            method,
            url,
            endpoint: endpoint.into(),
            mailbox: None,
            prefer: Vec::new(),
            headers: Vec::new(),
            body: None,
            retry_safe,
        }
    }

    pub(crate) fn mailbox(mut self, user: &str) -> Self {
        self.mailbox = Some(user.to_owned());
        self
    }

    pub(crate) fn prefer(mut self, preference: impl Into<String>) -> Self {
        self.prefer.push(preference.into());
        self
    }

    pub(crate) fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// `If-Match: etag`, when an ETag is given.
    pub(crate) fn if_match(self, etag: Option<&str>) -> Self {
        match etag {
            Some(etag) => self.header("If-Match", etag),
            None => self,
        }
    }

    pub(crate) fn json<T: serde::Serialize>(mut self, body: &T) -> Result<Self> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| Error::InvalidRequest(format!("body could not be serialized: {e}")))?;
        self.body = Some(bytes);
        Ok(self)
    }

    pub(crate) fn retry_safe(mut self, safe: bool) -> Self {
        self.retry_safe = safe;
        self
    }
}

/// A successful answer.
#[derive(Debug)]
#[allow(dead_code)]
pub(crate) struct Response {
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) endpoint: String,
}

impl Response {
    pub(crate) fn decode<T: DeserializeOwned>(&self) -> Result<T> {
        decode(&self.body, &self.endpoint)
    }
}

/// Decodes JSON, naming the failing field path.
pub(crate) fn decode<T: DeserializeOwned>(body: &[u8], endpoint: &str) -> Result<T> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| Error::Decode {
        endpoint: endpoint.to_owned(),
        path: e.path().to_string(),
        source: e.into_inner(),
    })
}

/// HTTP, tokens, limits and retries.
#[derive(Debug)]
pub(crate) struct Transport {
    pub(crate) http: reqwest::Client,
    pub(crate) tokens: TokenCache,
    pub(crate) retry: RetryConfig,
    pub(crate) request_timeout: Duration,
    pub(crate) per_mailbox: usize,
    mailboxes: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl Transport {
    pub(crate) fn new(
        http: reqwest::Client,
        tokens: TokenCache,
        retry: RetryConfig,
        request_timeout: Duration,
        per_mailbox: usize,
    ) -> Self {
        Self {
            http,
            tokens,
            retry,
            request_timeout,
            per_mailbox: per_mailbox.max(1),
            mailboxes: Mutex::new(HashMap::new()),
        }
    }

    fn semaphore(&self, mailbox: &str) -> Arc<Semaphore> {
        let mut map = self
            .mailboxes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(
            map.entry(mailbox.to_owned())
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_mailbox))),
        )
    }

    /// Sends `req`, retrying as allowed, and returns a 2xx answer or a typed error.
    ///
    /// One `graph.request` span covers the request with its retries; it records the method,
    /// the URL path (never the query, which may hold delta tokens), the endpoint template
    /// (ids replaced by `{id}`), the final status and the number of attempts. Tokens and
    /// secrets are never recorded.
    pub(crate) async fn send(&self, req: &Request) -> Result<Response> {
        let span = tracing::info_span!(
            "graph.request",
            method = %req.method,
            path = %path_of(&req.url),
            endpoint = %req.endpoint,
            status = tracing::field::Empty,
            attempts = tracing::field::Empty,
        );
        self.send_in(req, &span).instrument(span.clone()).await
    }

    async fn send_in(&self, req: &Request, span: &tracing::Span) -> Result<Response> {
        let mut attempt: u32 = 0;
        let mut rejected: Option<Secret> = None;
        let mut reauthorized = false;
        loop {
            attempt += 1;
            span.record("attempts", attempt);
            let token = self.tokens.token(rejected.take().as_ref()).await?;
            let outcome = {
                let _permit = match &req.mailbox {
                    Some(m) => Some(
                        self.semaphore(m)
                            .acquire_owned()
                            .await
                            .map_err(|_| Error::Config("mailbox limiter closed".into()))?,
                    ),
                    None => None,
                };
                tokio::time::timeout(self.request_timeout, self.once(req, &token)).await
            };
            let can_retry = attempt < self.retry.max_attempts;
            let (status, headers, body) = match outcome {
                Err(_) => {
                    tracing::warn!("request timed out");
                    if req.retry_safe && can_retry {
                        tokio::time::sleep(self.retry.backoff(attempt - 1)).await;
                        continue;
                    }
                    return Err(Error::Timeout {
                        endpoint: req.endpoint.clone(),
                    });
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e.without_url_ref(), "transport error");
                    if req.retry_safe && can_retry {
                        tokio::time::sleep(self.retry.backoff(attempt - 1)).await;
                        continue;
                    }
                    return Err(Error::Transport {
                        endpoint: req.endpoint.clone(),
                        source: e.without_url(),
                    });
                }
                Ok(Ok(answer)) => answer,
            };
            span.record("status", status);
            if (200..300).contains(&status) {
                return Ok(Response {
                    headers,
                    body,
                    endpoint: req.endpoint.clone(),
                });
            }
            if status == 401 && !reauthorized {
                reauthorized = true;
                rejected = Some(token);
                attempt -= 1;
                continue;
            }
            if status == 504 {
                // A gateway gave up waiting: the answer is lost, nothing asked us to slow
                // down. A retry-safe request is repeated; any other is reported as lost.
                if req.retry_safe && can_retry {
                    tracing::info!("gateway timeout, repeating");
                    tokio::time::sleep(self.retry.backoff(attempt - 1)).await;
                    continue;
                }
                return Err(Error::AnswerLost {
                    status,
                    endpoint: req.endpoint.clone(),
                });
            }
            if matches!(status, 429 | 503) {
                let retry_after = headers
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(parse_retry_after)
                    .map(|d| d.min(self.retry.max_retry_after));
                // A 429 was refused before any effect, so even an unsafe POST may repeat it.
                if (status == 429 || req.retry_safe) && can_retry {
                    let wait = retry_after.unwrap_or_else(|| self.retry.backoff(attempt - 1));
                    tracing::info!(wait_ms = wait.as_millis() as u64, "throttled, waiting");
                    tokio::time::sleep(wait).await;
                    continue;
                }
                return Err(Error::Throttled {
                    status,
                    retry_after,
                    endpoint: req.endpoint.clone(),
                });
            }
            if matches!(status, 500 | 502) && req.retry_safe && can_retry {
                tokio::time::sleep(self.retry.backoff(attempt - 1)).await;
                continue;
            }
            return Err(Error::from_status(status, &body, &req.endpoint));
        }
    }

    async fn once(
        &self,
        req: &Request,
        token: &Secret,
    ) -> reqwest::Result<(u16, HeaderMap, Bytes)> {
        let mut prefer = vec![r#"IdType="ImmutableId""#.to_owned()];
        prefer.extend(req.prefer.iter().cloned());
        let mut builder = self
            .http
            .request(req.method.clone(), &req.url)
            .bearer_auth(token.expose())
            .header("Prefer", prefer.join(", "))
            .header("client-request-id", client_request_id());
        for (name, value) in &req.headers {
            builder = builder.header(*name, value);
        }
        if let Some(body) = &req.body {
            builder = builder
                .header(
                    reqwest::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )
                .body(body.clone());
        }
        let response = builder.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await?.to_vec();
        Ok((status, headers, body))
    }
}

trait WithoutUrlRef {
    fn without_url_ref(&self) -> String;
}

impl WithoutUrlRef for reqwest::Error {
    fn without_url_ref(&self) -> String {
        let kind = if self.is_connect() {
            "connect"
        } else if self.is_timeout() {
            "timeout"
        } else if self.is_body() || self.is_decode() {
            "body"
        } else {
            "request"
        };
        kind.to_owned()
    }
}

/// The path of a URL, without its query (which may hold delta tokens).
pub(crate) fn path_of(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => u.path().to_owned(),
        Err(_) => String::from("?"),
    }
}

fn client_request_id() -> String {
    let mut rng = rand::rng();
    let time_low: u32 = rng.random();
    let time_mid: u16 = rng.random();
    let version: u16 = rng.random::<u16>() & 0x0fff | 0x4000;
    let variant: u16 = rng.random::<u16>() & 0x3fff | 0x8000;
    let node: u64 = rng.random::<u64>() & 0xffff_ffff_ffff;
    format!("{time_low:08x}-{time_mid:04x}-{version:04x}-{variant:04x}-{node:012x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_path_drops_the_query() {
        assert_eq!(
            path_of(
                "https://graph.microsoft.com/v1.0/users/x/calendarView/delta?$deltatoken=secret"
            ),
            "/v1.0/users/x/calendarView/delta"
        );
    }

    #[test]
    fn only_posts_are_unsafe_by_default() {
        assert!(!Request::new(Method::POST, String::new(), "x").retry_safe);
        assert!(Request::new(Method::PATCH, String::new(), "x").retry_safe);
        assert!(Request::new(Method::GET, String::new(), "x").retry_safe);
    }
}
