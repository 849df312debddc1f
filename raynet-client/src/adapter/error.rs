//! Errors: [`classify`] maps every client [`Error`] (so every HTTP status) to
//! the engine's [`ErrorKind`]; [`MapError`] names a record that cannot be mapped.

use chrono::Utc;
use sync_core::{ErrorKind, ProviderError};

use crate::client::error::Error;

/// A RAYNET record that cannot be mapped. Names the record and the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot map raynet {entity} {id}: field `{field}` {reason}")]
#[non_exhaustive]
pub struct MapError {
    /// `meeting`, `event` or `person`.
    pub entity: &'static str,
    /// The record id.
    pub id: u64,
    /// The API field at fault, e.g. `scheduledFrom`.
    pub field: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

/// An [`ErrorKind::Invalid`] error about `context`, caused by `e`.
pub(super) fn invalid(
    context: String,
    e: impl std::error::Error + Send + Sync + 'static,
) -> ProviderError {
    ProviderError::with_source(ErrorKind::Invalid, context, e)
}

/// The engine's classification of an [`Error`]. Every status has a kind:
///
/// | Error | Kind |
/// |---|---|
/// | 401, 403, breaker open | `Unauthorized` |
/// | 404, 410 | `NotFound` |
/// | 409, 412 | `PreconditionFailed` |
/// | 429, quota spent, rate limited | `Throttled` (with the wait until the reset) |
/// | 500 `AttributeAccessDeniedException` | `Unauthorized` |
/// | 500 `ConversionFailedException`, `TranslatedApplicationException`, `IllegalArgumentException` | `Invalid` |
/// | other 5xx, 1xx, 3xx | `Unavailable` |
/// | other 4xx | `Invalid` |
/// | timeout / network error on a GET or DELETE | `Unavailable` |
/// | timeout / network error after a PUT/POST was sent | `Interrupted` |
/// | connection refused (nothing sent) | `Unavailable` |
/// | undecodable answer, unencodable body, bad configuration | `Invalid` |
#[must_use]
pub fn classify(e: &Error) -> ErrorKind {
    let write = e
        .endpoint()
        .is_some_and(|ep| ep.starts_with("PUT ") || ep.starts_with("POST "));
    match e {
        Error::Unauthorized { .. } | Error::AuthBreakerOpen { .. } => ErrorKind::Unauthorized,
        Error::QuotaExhausted { until, .. } => ErrorKind::Throttled {
            retry_after: (*until - Utc::now()).to_std().ok(),
        },
        Error::RateLimited { .. } => ErrorKind::Throttled { retry_after: None },
        Error::Api { status, kind, .. } => match (*status, kind.as_deref()) {
            (401 | 403, _) | (500, Some("AttributeAccessDeniedException")) => {
                ErrorKind::Unauthorized
            }
            (404 | 410, _) => ErrorKind::NotFound,
            (409 | 412, _) => ErrorKind::PreconditionFailed,
            (429, _) => ErrorKind::Throttled { retry_after: None },
            (
                500,
                Some(
                    "ConversionFailedException"
                    | "TranslatedApplicationException"
                    | "IllegalArgumentException",
                ),
            )
            | (400..=499, _) => ErrorKind::Invalid,
            _ => ErrorKind::Unavailable,
        },
        Error::Network { source, .. } if source.is_connect() => ErrorKind::Unavailable,
        Error::Timeout { .. } | Error::Network { .. } => {
            if write {
                ErrorKind::Interrupted
            } else {
                ErrorKind::Unavailable
            }
        }
        Error::Decode { .. } | Error::Encode { .. } | Error::Config(_) => ErrorKind::Invalid,
        // `Error` is non-exhaustive only for other crates; every variant is listed above.
    }
}

impl From<Error> for ProviderError {
    fn from(e: Error) -> Self {
        let kind = classify(&e);
        let context = match e.endpoint() {
            Some(ep) => format!("raynet {ep}"),
            None => "raynet".to_owned(),
        };
        ProviderError::with_source(kind, context, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::models::{NewActivity, Priority};
    use chrono::Duration;

    fn api(status: u16, kind: Option<&str>, endpoint: &str) -> Error {
        Error::Api {
            endpoint: endpoint.into(),
            status,
            kind: kind.map(str::to_owned),
            message: None,
            translated_message: None,
            body: None,
        }
    }

    #[test]
    fn every_status_has_a_kind() {
        let g = "GET /meeting/1/";
        for status in 100..600u16 {
            let kind = classify(&api(status, None, g));
            let want = match status {
                401 | 403 => ErrorKind::Unauthorized,
                404 | 410 => ErrorKind::NotFound,
                409 | 412 => ErrorKind::PreconditionFailed,
                429 => ErrorKind::Throttled { retry_after: None },
                400..=499 => ErrorKind::Invalid,
                _ => ErrorKind::Unavailable,
            };
            assert_eq!(kind, want, "status {status}");
        }
        assert_eq!(
            classify(&api(500, Some("AttributeAccessDeniedException"), g)),
            ErrorKind::Unauthorized
        );
        assert_eq!(
            classify(&api(500, Some("TranslatedApplicationException"), g)),
            ErrorKind::Invalid
        );
        assert_eq!(
            classify(&Error::AuthBreakerOpen { endpoint: g.into() }),
            ErrorKind::Unauthorized
        );
        assert_eq!(
            classify(&Error::RateLimited { endpoint: g.into() }),
            ErrorKind::Throttled { retry_after: None }
        );
        let until = Utc::now() + Duration::hours(2);
        let ErrorKind::Throttled {
            retry_after: Some(wait),
        } = classify(&Error::QuotaExhausted {
            until,
            endpoint: g.into(),
        })
        else {
            panic!("throttled with a wait")
        };
        assert!(wait > std::time::Duration::from_secs(3600));
        let decode = serde_json::from_str::<u8>("x").unwrap_err();
        assert_eq!(
            classify(&Error::Decode {
                endpoint: g.into(),
                path: ".".into(),
                source: decode
            }),
            ErrorKind::Invalid
        );
        let pe: ProviderError = api(404, Some("EntityNotFoundException"), g).into();
        assert_eq!(pe.kind(), ErrorKind::NotFound);
        assert_eq!(pe.context(), "raynet GET /meeting/1/");
    }

    #[tokio::test]
    async fn network_failures_after_a_write_are_interrupted() {
        // A server that accepts the connection and hangs up without answering.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                drop(sock);
            }
        });
        let client = crate::Client::builder()
            .base_url(format!("http://{addr}/api/v2/"))
            .instance("acme")
            .credentials("u@x.cz", "k")
            .retry(crate::RetryConfig::fast())
            .build()
            .unwrap();
        let err = client
            .meetings()
            .create(&NewActivity::new("t", Priority::Default, 1))
            .await
            .unwrap_err();
        assert_eq!(classify(&err), ErrorKind::Interrupted, "{err:?}");
        let err = client.meetings().get(1).await.unwrap_err();
        assert_eq!(classify(&err), ErrorKind::Unavailable, "{err:?}");
    }
}
