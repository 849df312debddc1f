//! The one error type of the client.

use std::time::Duration;

/// Everything a Graph call can fail with.
///
/// Branch on the variant and on [`Error::code`] (compared case-insensitively), never on the
/// message. No variant ever holds the client secret or an access token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Graph answered with an error status not covered by a more specific variant.
    #[error("graph returned {status} {code} on {endpoint}")]
    Api {
        /// HTTP status.
        status: u16,
        /// Graph's error `code`.
        code: String,
        /// Graph's error `message`.
        message: String,
        /// The endpoint (method and path template), e.g. `GET /users/{id}/events/{id}`.
        endpoint: String,
    },
    /// The delta token (or a stale next link) is no longer known (`410 Gone` or
    /// `syncStateNotFound`/`resyncRequired`). Start a full re-read and reconcile against local
    /// state; this never means the items were deleted.
    #[error("delta token expired on {endpoint}")]
    DeltaExpired {
        /// HTTP status.
        status: u16,
        /// Graph's error `code`.
        code: String,
        /// The endpoint.
        endpoint: String,
    },
    /// The `If-Match` ETag no longer matches (`412`, or `409 ErrorIrresolvableConflict`):
    /// re-read and re-merge.
    #[error("etag conflict on {endpoint}")]
    Conflict {
        /// HTTP status (412 or 409).
        status: u16,
        /// Graph's error `code`.
        code: String,
        /// Graph's error `message`.
        message: String,
        /// The endpoint.
        endpoint: String,
    },
    /// Still throttled (429 or 503) after all retries.
    #[error("throttled on {endpoint}")]
    Throttled {
        /// HTTP status of the last attempt.
        status: u16,
        /// The last `Retry-After`, if any.
        retry_after: Option<Duration>,
        /// The endpoint.
        endpoint: String,
    },
    /// A gateway answered `504 Gateway Timeout`: Graph's answer was lost, so the request may
    /// or may not have taken effect (a read can be repeated; a create is looked up by its
    /// key before it is sent again). Not throttling: nothing asked us to slow down.
    #[error(
        "no answer from graph on {endpoint} (gateway timeout {status}); it may or may not have taken effect"
    )]
    AnswerLost {
        /// HTTP status of the last attempt (504).
        status: u16,
        /// The endpoint.
        endpoint: String,
    },
    /// The token endpoint refused the credentials, or Graph kept answering 401.
    #[error("authentication failed ({code})")]
    Auth {
        /// HTTP status, if there was an answer.
        status: Option<u16>,
        /// OAuth `error` or Graph `code`.
        code: String,
        /// Description (with the secret redacted).
        message: String,
    },
    /// A response body did not have the expected shape.
    #[error("could not decode the response of {endpoint} at `{path}`")]
    Decode {
        /// The endpoint.
        endpoint: String,
        /// Field path of the failure, e.g. `value[3].start.dateTime`.
        path: String,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// The response body had an unexpected shape that is not a field error (e.g. an error
    /// object inside `value`).
    #[error("unexpected response shape from {endpoint}: {detail}")]
    Shape {
        /// The endpoint.
        endpoint: String,
        /// What was wrong.
        detail: String,
    },
    /// The HTTP exchange failed (connect, TLS, reset...).
    #[error("http transport failed on {endpoint}")]
    Transport {
        /// The endpoint.
        endpoint: String,
        /// The cause (its URL is stripped).
        #[source]
        source: reqwest::Error,
    },
    /// The request did not finish within the configured timeout.
    #[error("request timed out on {endpoint}")]
    Timeout {
        /// The endpoint.
        endpoint: String,
    },
    /// The request was refused before sending (bad argument, batch too large...).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The client configuration is unusable (bad URL...).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The app's credential cannot be used: a certificate, key, PKCS#12 or token file that
    /// cannot be read or does not fit. Never holds the key, the password or an assertion.
    #[error("{problem}{}", path.as_ref().map(|p| format!(": {}", p.display())).unwrap_or_default())]
    Credential {
        /// What is wrong.
        problem: CredentialProblem,
        /// The file at fault, when there is one.
        path: Option<std::path::PathBuf>,
        /// The I/O error, when the file could not be read.
        #[source]
        source: Option<std::io::Error>,
    },
}

/// What is wrong with a credential ([`Error::Credential`]). The messages are fixed phrases:
/// none ever quotes a file's content.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialProblem {
    /// A file could not be read.
    #[error("cannot read the credential file")]
    Unreadable,
    /// A file is not PEM text (`-----BEGIN ...-----` blocks).
    #[error(
        "not PEM text (expected -----BEGIN CERTIFICATE----- / -----BEGIN PRIVATE KEY----- blocks)"
    )]
    BadPem,
    /// No `CERTIFICATE` block where the certificate was expected.
    #[error("no certificate (-----BEGIN CERTIFICATE-----) found")]
    NoCertificate,
    /// The certificate cannot be read as an RSA X.509 certificate.
    #[error("the certificate is not an RSA X.509 certificate the identity platform accepts")]
    BadCertificate,
    /// No private key block where the key was expected.
    #[error(
        "no private key (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----) found"
    )]
    NoPrivateKey,
    /// The key is encrypted (`ENCRYPTED PRIVATE KEY`).
    #[error(
        "the private key is encrypted; give it unencrypted (kept in a file only the service reads) \
         or use a PKCS#12 file with its password"
    )]
    EncryptedKey,
    /// The key is not an RSA key (the identity platform signs assertions with RSA only).
    #[error("the private key is not an RSA key (client assertions are signed with RSA)")]
    NotRsaKey,
    /// The private key is not the certificate's.
    #[error("the private key does not belong to the certificate")]
    KeyDoesNotMatchCertificate,
    /// A PKCS#12 file cannot be opened (wrong password, damaged, or not PKCS#12).
    #[error("cannot open the PKCS#12 file (wrong password, or not a PKCS#12 / .pfx file)")]
    BadPkcs12,
    /// A PKCS#12 file holds no private key with its certificate.
    #[error("the PKCS#12 file holds no private key with a certificate")]
    Pkcs12WithoutKey,
    /// The federated token file is empty.
    #[error("the federated token file is empty")]
    EmptyTokenFile,
    /// No federated token file was named, and `AZURE_FEDERATED_TOKEN_FILE` is not set.
    #[error(
        "no federated token file: set its path, or the environment variable AZURE_FEDERATED_TOKEN_FILE"
    )]
    NoTokenFile,
    /// Signing the assertion failed.
    #[error("the client assertion could not be signed")]
    Signing,
}

impl Error {
    /// What is wrong with the app's credential, for an [`Error::Credential`].
    #[must_use]
    pub fn credential_problem(&self) -> Option<CredentialProblem> {
        match self {
            Self::Credential { problem, .. } => Some(*problem),
            _ => None,
        }
    }

    /// The HTTP status, if Graph answered.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. }
            | Self::DeltaExpired { status, .. }
            | Self::Conflict { status, .. }
            | Self::Throttled { status, .. }
            | Self::AnswerLost { status, .. } => Some(*status),
            Self::Auth { status, .. } => *status,
            _ => None,
        }
    }

    /// Graph's error code, if any.
    #[must_use]
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { code, .. }
            | Self::DeltaExpired { code, .. }
            | Self::Conflict { code, .. }
            | Self::Auth { code, .. } => Some(code),
            _ => None,
        }
    }

    fn code_is(&self, wanted: &str) -> bool {
        self.code().is_some_and(|c| c.eq_ignore_ascii_case(wanted))
    }

    /// `404` (item gone, or id from another mailbox) — but not a missing mailbox.
    #[must_use]
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404) && !self.is_mailbox_not_enabled()
    }

    /// The user has no Exchange Online mailbox (`MailboxNotEnabledForRESTAPI`): not syncable.
    #[must_use]
    pub fn is_mailbox_not_enabled(&self) -> bool {
        self.code_is("MailboxNotEnabledForRESTAPI")
    }

    /// An application access policy excludes this mailbox (`403 ErrorAccessDenied`).
    #[must_use]
    pub fn is_access_denied(&self) -> bool {
        self.status() == Some(403) && self.code_is("ErrorAccessDenied")
    }

    /// The delta token expired; do a full re-read.
    #[must_use]
    pub fn is_delta_expired(&self) -> bool {
        matches!(self, Self::DeltaExpired { .. })
    }

    /// An ETag conflict.
    #[must_use]
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::Conflict { .. })
    }

    /// The `Retry-After` of a throttling error.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Throttled { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The error for a non-success answer (`status`, its `body`) of `endpoint`, read from
    /// Graph's `{"error": {"code", "message"}}` (anything else: no code, and the body's first
    /// 200 characters, lossy UTF-8, as the message): [`Error::DeltaExpired`],
    /// [`Error::Conflict`], [`Error::Auth`] or [`Error::Api`]. The transport handles
    /// throttling (429/503/504) itself before this.
    #[must_use]
    pub fn from_status(status: u16, body: &[u8], endpoint: &str) -> Self {
        let (code, message) = parse_error_body(body);
        let endpoint = endpoint.to_owned();
        let expired = code.eq_ignore_ascii_case("syncStateNotFound")
            || code.eq_ignore_ascii_case("resyncRequired")
            || code.eq_ignore_ascii_case("SyncStateInvalid");
        if status == 410 || expired {
            return Self::DeltaExpired {
                status,
                code,
                endpoint,
            };
        }
        if status == 412
            || (status == 409 && code.eq_ignore_ascii_case("ErrorIrresolvableConflict"))
        {
            return Self::Conflict {
                status,
                code,
                message,
                endpoint,
            };
        }
        if status == 401 {
            return Self::Auth {
                status: Some(status),
                code,
                message,
            };
        }
        Self::Api {
            status,
            code,
            message,
            endpoint,
        }
    }
}

/// Reads Graph's `{"error": {"code", "message"}}`, tolerating anything else.
pub(crate) fn parse_error_body(body: &[u8]) -> (String, String) {
    match serde_json::from_slice::<crate::client::models::ErrorResponse>(body) {
        Ok(e) => (e.error.code, e.error.message),
        Err(_) => (
            String::new(),
            String::from_utf8_lossy(body).chars().take(200).collect(),
        ),
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn body(code: &str) -> Vec<u8> {
        format!(r#"{{"error":{{"code":"{code}","message":"m"}}}}"#).into_bytes()
    }

    #[test]
    fn statuses_map_to_typed_errors() {
        let e = Error::from_status(410, &body("SyncStateNotFound"), "x");
        assert!(e.is_delta_expired());
        let e = Error::from_status(400, &body("syncStateNotFound"), "x");
        assert!(e.is_delta_expired(), "the code alone means expiry");
        assert!(Error::from_status(412, &body("ErrorIrresolvableConflict"), "x").is_conflict());
        assert!(Error::from_status(409, &body("ErrorIrresolvableConflict"), "x").is_conflict());
        assert!(!Error::from_status(409, &body("ErrorFolderExists"), "x").is_conflict());
        let e = Error::from_status(404, &body("MailboxNotEnabledForRESTAPI"), "x");
        assert!(e.is_mailbox_not_enabled() && !e.is_not_found());
        assert!(Error::from_status(404, &body("ErrorItemNotFound"), "x").is_not_found());
        assert!(Error::from_status(403, &body("ErrorAccessDenied"), "x").is_access_denied());
        assert!(matches!(
            Error::from_status(401, &body("InvalidAuthenticationToken"), "x"),
            Error::Auth { .. }
        ));
        let e = Error::from_status(500, b"<html>oops</html>", "x");
        assert_eq!(e.status(), Some(500));
        assert_eq!(e.code(), Some(""));
    }

    #[test]
    fn messages_are_short_and_name_the_endpoint() {
        let e = Error::from_status(
            404,
            &body("ErrorItemNotFound"),
            "GET /users/{id}/events/{id}",
        );
        assert_eq!(
            e.to_string(),
            "graph returned 404 ErrorItemNotFound on GET /users/{id}/events/{id}"
        );
    }
}
