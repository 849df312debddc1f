//! The crate's one error type.

use chrono::{DateTime, Utc};

/// Everything that can go wrong when talking to RAYNET.
///
/// Every variant names the endpoint (`METHOD path`) it happened on where there
/// is one. No variant ever holds the API key: credentials live only inside the
/// client and are redacted in its `Debug` output.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The API answered with an unsuccessful status (other than the special
    /// cases below), possibly with its error envelope (`type`, `message`).
    #[error("raynet answered {status} on {endpoint}{}", fmt_api(.kind.as_deref(), .message.as_deref()))]
    Api {
        /// `METHOD path` of the request.
        endpoint: String,
        /// HTTP status code.
        status: u16,
        /// The API's error `type`, e.g. `EntityNotFoundException`.
        kind: Option<String>,
        /// The API's error `message`.
        message: Option<String>,
        /// The API's `translatedMessage` (user-language text), if any.
        translated_message: Option<String>,
        /// The raw body when it was not a recognisable error envelope
        /// (truncated to 2 KiB).
        body: Option<String>,
    },
    /// The credentials were refused (401/403). This trips the client's breaker:
    /// all later calls fail with [`Error::AuthBreakerOpen`] without sending
    /// anything, because more than 20 bad logins block the host for an hour.
    #[error("raynet refused the credentials ({status}) on {endpoint}")]
    Unauthorized {
        /// `METHOD path` of the request.
        endpoint: String,
        /// 401 or 403.
        status: u16,
        /// The API's error `message`, if any.
        message: Option<String>,
    },
    /// An earlier call was refused as unauthorised; no request was sent.
    #[error("client stopped after an authentication failure; no request sent to {endpoint}")]
    AuthBreakerOpen {
        /// `METHOD path` of the request that was not sent.
        endpoint: String,
    },
    /// The instance's daily request quota is spent and waiting for the reset
    /// would take longer than [`RetryConfig::max_quota_wait`](crate::RetryConfig).
    #[error("daily raynet quota spent until {until}")]
    QuotaExhausted {
        /// When the quota resets (the `X-Ratelimit-Reset` header).
        until: DateTime<Utc>,
        /// `METHOD path` of the request that was refused or not sent.
        endpoint: String,
    },
    /// HTTP 429 kept coming back after every allowed retry.
    #[error("raynet kept answering 429 on {endpoint}")]
    RateLimited {
        /// `METHOD path` of the request.
        endpoint: String,
    },
    /// The request timed out.
    #[error("request to {endpoint} timed out")]
    Timeout {
        /// `METHOD path` of the request.
        endpoint: String,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// Connection or protocol failure (after retries, for safe requests).
    #[error("network error on {endpoint}")]
    Network {
        /// `METHOD path` of the request.
        endpoint: String,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// The response body could not be decoded.
    #[error("cannot decode the response of {endpoint} at `{path}`")]
    Decode {
        /// `METHOD path` of the request.
        endpoint: String,
        /// Path of the failing field inside the JSON body, e.g. `data[3].scheduledFrom`.
        path: String,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// A request body could not be serialised.
    #[error("cannot encode the request body for {endpoint}")]
    Encode {
        /// `METHOD path` of the request.
        endpoint: String,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// The client was configured wrongly (bad base URL, missing instance, …).
    #[error("invalid client configuration: {0}")]
    Config(String),
}

fn fmt_api(kind: Option<&str>, message: Option<&str>) -> String {
    match (kind, message) {
        (Some(k), Some(m)) => format!(": {k}: {m}"),
        (Some(k), None) => format!(": {k}"),
        (None, Some(m)) => format!(": {m}"),
        (None, None) => String::new(),
    }
}

impl Error {
    /// The HTTP status this error carries, if it came from a response.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } | Error::Unauthorized { status, .. } => Some(*status),
            Error::RateLimited { .. } | Error::QuotaExhausted { .. } => Some(429),
            _ => None,
        }
    }

    /// `METHOD path` of the request, if the error belongs to one.
    pub fn endpoint(&self) -> Option<&str> {
        match self {
            Error::Api { endpoint, .. }
            | Error::Unauthorized { endpoint, .. }
            | Error::AuthBreakerOpen { endpoint }
            | Error::QuotaExhausted { endpoint, .. }
            | Error::RateLimited { endpoint }
            | Error::Timeout { endpoint, .. }
            | Error::Network { endpoint, .. }
            | Error::Decode { endpoint, .. }
            | Error::Encode { endpoint, .. } => Some(endpoint),
            Error::Config(_) => None,
        }
    }

    /// The API's own error `type` (e.g. `EntityNotFoundException`), if any.
    pub fn api_type(&self) -> Option<&str> {
        match self {
            Error::Api { kind, .. } => kind.as_deref(),
            _ => None,
        }
    }

    /// True for a 404 answer (record or route does not exist).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// True when the credentials were refused now or earlier (breaker open).
    pub fn is_auth(&self) -> bool {
        matches!(
            self,
            Error::Unauthorized { .. } | Error::AuthBreakerOpen { .. }
        )
    }

    /// True when the request may succeed later without any change
    /// (network trouble, timeouts, 5xx, 429).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Network { .. } | Error::Timeout { .. } | Error::RateLimited { .. } => true,
            Error::Api { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

/// Convenience alias for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
