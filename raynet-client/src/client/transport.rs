//! The one transport layer: authentication headers, retries with capped
//! exponential backoff and jitter, 429 handling (connection cap and daily
//! quota), the in-flight cap, the authentication breaker, rate-limit header
//! tracking, timeouts and the per-request `tracing` span. Its settings are a
//! [`RetryConfig`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use tracing::Instrument as _;
use url::Url;

use super::auth::Credentials;
use super::error::{Error, Result};
use super::models::ErrorEnvelope;
use super::page::{Listing, Page};
use super::query::{ListQuery, MAX_LIMIT};

// Defined in `retry.rs`; `client::transport::RetryConfig` is its public path.
pub use super::retry::RetryConfig;

/// Waits for a quota reset per request before giving up (a server that keeps
/// moving its reset forward must not hold a request forever).
const MAX_QUOTA_WAITS: u32 = 2;

/// The rate-limit state last reported by the API (`X-Ratelimit-*` headers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimit {
    /// `X-Ratelimit-Limit`: requests allowed in the window (per instance and day).
    pub limit: Option<u64>,
    /// `X-Ratelimit-Remaining`: requests left in the window.
    pub remaining: Option<u64>,
    /// `X-Ratelimit-Reset`: when the window resets.
    pub reset: Option<DateTime<Utc>>,
}

impl RateLimit {
    /// Parses the headers; `None` when none of them is present.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let num = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<i64>().ok())
        };
        let limit = num("x-ratelimit-limit");
        let remaining = num("x-ratelimit-remaining");
        let reset = num("x-ratelimit-reset");
        if limit.is_none() && remaining.is_none() && reset.is_none() {
            return None;
        }
        Some(RateLimit {
            limit: limit.and_then(|v| u64::try_from(v).ok()),
            remaining: remaining.map(|v| u64::try_from(v).unwrap_or(0)),
            reset: reset.and_then(|s| DateTime::from_timestamp(s, 0)),
        })
    }
}

/// A successful raw answer.
pub(crate) struct RawResponse {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
    /// The server's clock (`Date` header), when it sent one.
    pub(crate) date: Option<DateTime<Utc>>,
}

/// The instant of an HTTP `Date` header (`Tue, 25 Nov 2026 13:02:00 GMT`).
pub(crate) fn http_date(headers: &HeaderMap) -> Option<DateTime<Utc>> {
    let v = headers.get(reqwest::header::DATE)?.to_str().ok()?;
    DateTime::parse_from_rfc2822(v.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

pub(crate) struct Transport {
    http: reqwest::Client,
    pub(crate) base: Url,
    pub(crate) instance: String,
    pub(crate) credentials: Credentials,
    pub(crate) retry: RetryConfig,
    permits: Arc<Semaphore>,
    breaker: AtomicBool,
    rate: Mutex<Option<RateLimit>>,
}

impl Transport {
    pub(crate) fn new(
        http: reqwest::Client,
        base: Url,
        instance: String,
        credentials: Credentials,
        retry: RetryConfig,
    ) -> Self {
        let permits = shared_permits(&base, &instance, retry.max_in_flight.max(1));
        Transport {
            http,
            base,
            instance,
            credentials,
            retry,
            permits,
            breaker: AtomicBool::new(false),
            rate: Mutex::new(None),
        }
    }

    pub(crate) fn rate_limit(&self) -> Option<RateLimit> {
        *self.rate()
    }

    /// The last reported rate-limit state, locked (a poisoned lock still holds it).
    fn rate(&self) -> MutexGuard<'_, Option<RateLimit>> {
        self.rate
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.breaker.load(Ordering::SeqCst)
    }

    /// Fails when the authentication breaker is open.
    fn check_breaker(&self, endpoint: &str) -> Result<()> {
        if self.is_stopped() {
            return Err(Error::AuthBreakerOpen {
                endpoint: endpoint.to_owned(),
            });
        }
        Ok(())
    }

    fn record_rate(&self, headers: &HeaderMap) {
        if let Some(rl) = RateLimit::from_headers(headers) {
            *self.rate() = Some(rl);
        }
    }

    /// When the last answer said the quota is spent: the reset time.
    fn quota_spent_until(&self) -> Option<DateTime<Utc>> {
        let rl = self.rate_limit()?;
        (rl.remaining == Some(0)).then_some(())?;
        let reset = rl.reset.unwrap_or_else(next_utc_midnight);
        (reset > Utc::now()).then_some(reset)
    }

    /// Waits for the quota reset if it is near, or fails if it is too far or
    /// the request has already waited [`MAX_QUOTA_WAITS`] times (`waits`).
    async fn wait_for_quota(
        &self,
        endpoint: &str,
        until: DateTime<Utc>,
        waits: &mut u32,
    ) -> Result<()> {
        let wait = (until - Utc::now()).to_std().unwrap_or_default();
        if *waits >= MAX_QUOTA_WAITS || wait > self.retry.max_quota_wait {
            return Err(Error::QuotaExhausted {
                until,
                endpoint: endpoint.to_owned(),
            });
        }
        *waits += 1;
        tracing::warn!(
            ?wait,
            wait_ms = wait.as_millis() as u64,
            reason = "quota",
            "raynet daily quota spent; waiting for the reset"
        );
        tokio::time::sleep(wait + Duration::from_millis(50)).await;
        // Forget the spent state: the next answer brings fresh headers.
        if let Some(rl) = self.rate().as_mut() {
            rl.remaining = None;
        }
        Ok(())
    }

    /// Sleeps the backoff of retry number `*tries` and counts it.
    async fn back_off(&self, tries: &mut u32) {
        tokio::time::sleep(self.retry.backoff(*tries)).await;
        *tries += 1;
    }

    /// Sends one logical request (with retries) and returns the successful answer.
    pub(crate) async fn execute(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<Vec<u8>>,
    ) -> Result<RawResponse> {
        let endpoint = format!("{method} /{path}");
        let span = tracing::info_span!(
            "raynet.request",
            method = %method,
            path = %path,
            status = tracing::field::Empty,
            attempts = tracing::field::Empty,
            quota_remaining = tracing::field::Empty,
            quota_limit = tracing::field::Empty,
        );
        self.execute_inner(method, path, query, body, &endpoint)
            .instrument(span)
            .await
    }

    async fn execute_inner(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<Vec<u8>>,
        endpoint: &str,
    ) -> Result<RawResponse> {
        let mut url = self
            .base
            .join(path)
            .map_err(|e| Error::Config(format!("bad path `{path}`: {e}")))?;
        {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
            if method == Method::GET {
                pairs.append_pair("dateFormat", "ISO8601");
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        let safe = method == Method::GET || method == Method::HEAD;
        let span = tracing::Span::current();
        let mut retries = 0u32;
        let mut rate_retries = 0u32;
        let mut quota_waits = 0u32;
        let mut attempts = 0u32;
        loop {
            self.check_breaker(endpoint)?;
            if let Some(until) = self.quota_spent_until() {
                self.wait_for_quota(endpoint, until, &mut quota_waits)
                    .await?;
            }
            let permit = self
                .permits
                .acquire()
                .await
                .expect("the semaphore is never closed");
            self.check_breaker(endpoint)?;
            attempts += 1;
            span.record("attempts", attempts);
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .basic_auth(
                    &self.credentials.user,
                    Some(self.credentials.api_key.expose()),
                )
                .header("X-Instance-Name", &self.instance)
                .timeout(self.retry.request_timeout);
            if let Some(b) = &body {
                req = req
                    .header(CONTENT_TYPE, "application/json; charset=UTF-8")
                    .body(b.clone());
            }
            let sent = match req.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    self.record_rate(resp.headers());
                    if let Some(rl) = RateLimit::from_headers(resp.headers()) {
                        if let Some(remaining) = rl.remaining {
                            span.record("quota_remaining", remaining);
                        }
                        if let Some(limit) = rl.limit {
                            span.record("quota_limit", limit);
                        }
                    }
                    let date = http_date(resp.headers());
                    resp.bytes().await.map(|b| (status, b.to_vec(), date))
                }
                Err(e) => Err(e),
            };
            drop(permit);
            let (status, bytes, date) = match sent {
                Ok(ok) => ok,
                Err(e) => {
                    if safe && retries < self.retry.max_retries {
                        tracing::debug!(error = %e, "network error; retrying");
                        self.back_off(&mut retries).await;
                        continue;
                    }
                    return Err(if e.is_timeout() {
                        Error::Timeout {
                            endpoint: endpoint.to_owned(),
                            source: e,
                        }
                    } else {
                        Error::Network {
                            endpoint: endpoint.to_owned(),
                            source: e,
                        }
                    });
                }
            };
            span.record("status", status);
            match status {
                200..=299 => {
                    return Ok(RawResponse {
                        status,
                        body: bytes,
                        date,
                    });
                }
                401 | 403 => {
                    self.breaker.store(true, Ordering::SeqCst);
                    let env = parse_error_envelope(&bytes);
                    tracing::error!(
                        status,
                        "raynet refused the credentials; stopping all traffic"
                    );
                    return Err(Error::Unauthorized {
                        endpoint: endpoint.to_owned(),
                        status,
                        message: env.and_then(|e| e.message),
                    });
                }
                429 => {
                    let env = parse_error_envelope(&bytes);
                    let quota_body = env
                        .as_ref()
                        .and_then(|e| e.kind.as_deref())
                        .is_some_and(|k| k == "RequestLimitReached");
                    let until = self.quota_spent_until().or_else(|| {
                        let headers_known =
                            self.rate_limit().is_some_and(|r| r.remaining.is_some());
                        (quota_body && !headers_known).then(next_utc_midnight)
                    });
                    if let Some(until) = until {
                        self.wait_for_quota(endpoint, until, &mut quota_waits)
                            .await?;
                        continue;
                    }
                    if rate_retries < self.retry.max_rate_limit_retries {
                        let wait = self.retry.backoff(rate_retries);
                        tracing::debug!(
                            wait_ms = wait.as_millis() as u64,
                            "429 (connection cap); backing off"
                        );
                        tokio::time::sleep(wait).await;
                        rate_retries += 1;
                        continue;
                    }
                    return Err(Error::RateLimited {
                        endpoint: endpoint.to_owned(),
                    });
                }
                500..=599 if safe && retries < self.retry.max_retries => {
                    tracing::debug!(status, "server error; retrying");
                    self.back_off(&mut retries).await;
                }
                _ => return Err(api_error(endpoint, status, &bytes)),
            }
        }
    }

    /// GET and decode JSON.
    pub(crate) async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(String, String)],
    ) -> Result<T> {
        let resp = self.execute(Method::GET, path, query, None).await?;
        decode(&format!("GET /{path}"), &resp.body)
    }

    /// Sends a JSON body.
    pub(crate) async fn send_json<B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        body: &B,
    ) -> Result<RawResponse> {
        let bytes = serde_json::to_vec(body).map_err(|source| Error::Encode {
            endpoint: format!("{method} /{path}"),
            source,
        })?;
        self.execute(method, path, &[], Some(bytes)).await
    }

    /// One page of a list (rows that do not decode are in [`Page::failed`]).
    pub(crate) async fn list_page<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &ListQuery,
    ) -> Result<Page<T>> {
        let offset = query.get_offset().unwrap_or(0);
        let limit = query.get_limit().unwrap_or(MAX_LIMIT);
        let q = query.clone().offset(offset).limit(limit);
        let resp = self.execute(Method::GET, path, &q.to_pairs(), None).await?;
        let mut page = Page::parse(&format!("GET /{path}"), &resp.body, offset, limit)?;
        page.server_time = resp.date;
        Ok(page)
    }

    /// Every page of a list, from the query's offset on; a row that does not
    /// decode fails alone (in [`Listing::failed`]).
    pub(crate) async fn list_rows<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &ListQuery,
    ) -> Result<Listing<T>> {
        let mut out = Listing::default();
        let mut q = query.clone();
        let mut first = true;
        loop {
            let page = self.list_page::<T>(path, &q).await?;
            if first {
                out.server_time = page.server_time;
                first = false;
            }
            let next = page.next_offset();
            out.items.extend(page.items);
            out.failed.extend(page.failed);
            match next {
                Some(offset) => q = q.offset(offset),
                None => return Ok(out),
            }
        }
    }
}

/// Decodes a JSON body (an answer of `endpoint`) as `T`, naming the failing
/// field path: the one decoder of every answer this client reads.
///
/// # Errors
///
/// [`Error::Decode`] with the endpoint and the path of the failing field.
pub fn decode<T: DeserializeOwned>(endpoint: &str, body: &[u8]) -> Result<T> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| Error::Decode {
        endpoint: endpoint.to_owned(),
        path: e.path().to_string(),
        source: e.into_inner(),
    })
}

fn parse_error_envelope(body: &[u8]) -> Option<ErrorEnvelope> {
    let env: ErrorEnvelope = serde_json::from_slice(body).ok()?;
    (env.kind.is_some() || env.message.is_some()).then_some(env)
}

/// The error for an unsuccessful answer (`status`, other than 401/403/429,
/// which the transport handles itself) of `endpoint`: the API's error
/// envelope (`type`, `message`, `translatedMessage`) when the body is one,
/// else the body as text (lossy UTF-8, at most 2048 characters).
pub fn api_error(endpoint: &str, status: u16, body: &[u8]) -> Error {
    if let Some(env) = parse_error_envelope(body) {
        Error::Api {
            endpoint: endpoint.to_owned(),
            status,
            kind: env.kind,
            message: env.message,
            translated_message: env.translated_message,
            body: None,
        }
    } else {
        let text = String::from_utf8_lossy(body);
        let text: String = text.chars().take(2048).collect();
        Error::Api {
            endpoint: endpoint.to_owned(),
            status,
            kind: None,
            message: None,
            translated_message: None,
            body: (!text.is_empty()).then_some(text),
        }
    }
}

/// The in-flight permits of one instance, shared by every client of this
/// process that talks to the same base URL and instance with the same cap
/// (the API counts connections per instance, not per client object).
fn shared_permits(base: &Url, instance: &str, cap: usize) -> Arc<Semaphore> {
    type Registry = Mutex<HashMap<(String, String, usize), Weak<Semaphore>>>;
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    let mut map = REGISTRY
        .get_or_init(|| Mutex::new(HashMap::new()))
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    map.retain(|_, w| w.strong_count() > 0);
    let key = (base.as_str().to_owned(), instance.to_owned(), cap);
    if let Some(existing) = map.get(&key).and_then(Weak::upgrade) {
        return existing;
    }
    let permits = Arc::new(Semaphore::new(cap));
    map.insert(key, Arc::downgrade(&permits));
    permits
}

/// The next 00:00 UTC: the documented reset of the daily window.
pub(crate) fn next_utc_midnight() -> DateTime<Utc> {
    let tomorrow = Utc::now().date_naive() + chrono::Duration::days(1);
    tomorrow
        .and_hms_opt(0, 0, 0)
        .map_or_else(Utc::now, |n| n.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_http_dates() {
        let mut h = HeaderMap::new();
        assert_eq!(http_date(&h), None);
        h.insert(
            "Date",
            "Wed, 25 Nov 2026 13:02:07 GMT".parse().expect("header"),
        );
        assert_eq!(
            http_date(&h).map(|d| d.to_rfc3339()).as_deref(),
            Some("2026-11-25T13:02:07+00:00")
        );
        h.insert("Date", "yesterday".parse().expect("header"));
        assert_eq!(http_date(&h), None);
    }

    #[test]
    fn parses_rate_limit_headers() {
        let mut h = HeaderMap::new();
        h.insert("X-Ratelimit-Limit", "24000".parse().expect("header"));
        h.insert("X-Ratelimit-Remaining", "23983".parse().expect("header"));
        h.insert("X-Ratelimit-Reset", "1769126400".parse().expect("header"));
        let rl = RateLimit::from_headers(&h).expect("present");
        assert_eq!(rl.limit, Some(24_000));
        assert_eq!(rl.remaining, Some(23_983));
        assert_eq!(
            rl.reset.map(|r| r.to_rfc3339()).as_deref(),
            Some("2026-01-23T00:00:00+00:00")
        );
        assert_eq!(RateLimit::from_headers(&HeaderMap::new()), None);
    }

    #[test]
    fn error_envelopes_in_all_shapes() {
        let e = api_error(
            "GET /meeting/",
            400,
            br#"{"type":"BadRequest","message":"Unsupported filter column [x]"}"#,
        );
        assert_eq!(e.api_type(), Some("BadRequest"));
        assert_eq!(
            e.to_string(),
            "raynet answered 400 on GET /meeting/: BadRequest: Unsupported filter column [x]"
        );
        let e = api_error(
            "GET /x/",
            500,
            br#"{"success":false,"type":"X","message":"m","translatedMessage":"t"}"#,
        );
        assert!(matches!(e, Error::Api { translated_message: Some(ref t), .. } if t == "t"));
        let e = api_error("GET /x/", 500, br#"{"message":"only"}"#);
        assert_eq!(e.to_string(), "raynet answered 500 on GET /x/: only");
        let e = api_error("GET /x/", 502, b"<html>bad gateway</html>");
        assert!(matches!(e, Error::Api { body: Some(ref b), .. } if b.contains("bad gateway")));
    }
}
