//! Errors at the adapter's edge: [`MapError`] (a Graph record that cannot be mapped) and
//! [`classify`], every client [`Error`] as the engine's [`ErrorKind`].

use sync_core::{ErrorKind, ProviderError};

use crate::client::Error;

/// The engine's classification of a client error. Every status has a kind.
#[must_use]
pub fn classify(error: &Error) -> ErrorKind {
    match error {
        Error::DeltaExpired { .. }
        | Error::Shape { .. }
        | Error::Decode { .. }
        | Error::InvalidRequest(_)
        | Error::Config(_) => ErrorKind::Invalid,
        Error::Conflict { .. } => ErrorKind::PreconditionFailed,
        Error::Throttled { retry_after, .. } => ErrorKind::Throttled {
            retry_after: *retry_after,
        },
        Error::Auth { .. } | Error::Credential { .. } => ErrorKind::Unauthorized,
        Error::Timeout { .. } | Error::Transport { .. } | Error::AnswerLost { .. } => {
            ErrorKind::Unavailable
        }
        Error::Api { status, .. } => match status {
            404 if error.is_mailbox_not_enabled() => ErrorKind::Unsupported,
            404 | 410 => ErrorKind::NotFound,
            // Outside the application access policy: the app may not touch this mailbox.
            401 | 403 => ErrorKind::Unauthorized,
            409 | 412 => ErrorKind::PreconditionFailed,
            429 => ErrorKind::Throttled { retry_after: None },
            405 | 501 => ErrorKind::Unsupported,
            500..=599 => ErrorKind::Unavailable,
            _ => ErrorKind::Invalid,
        },
    }
}

/// A client error as the engine's [`ProviderError`], with the error as its source.
#[must_use]
pub fn provider_error(context: &str, error: Error) -> ProviderError {
    ProviderError::with_source(classify(&error), context, error)
}

/// A client error as a [`ProviderError`], saying plainly when the mailbox cannot be synced at
/// all (no Exchange Online mailbox; outside the application access policy).
#[must_use]
pub fn graph_error(context: &str, error: Error) -> ProviderError {
    if error.is_mailbox_not_enabled() {
        return provider_error(
            &format!("{context}: mailbox not enabled for REST (no Exchange Online mailbox)"),
            error,
        );
    }
    if error.is_access_denied() {
        return provider_error(
            &format!("{context}: mailbox outside the app's access policy"),
            error,
        );
    }
    provider_error(context, error)
}

/// Whether a failed retry-safe write may still have landed (no answer, a gateway error): the
/// engine then treats it as [`ErrorKind::Interrupted`] and looks the item up by its key.
pub(crate) fn maybe_landed(error: &Error) -> bool {
    match error {
        Error::Timeout { .. } | Error::Transport { .. } | Error::AnswerLost { .. } => true,
        Error::Api { status, .. } => matches!(status, 500 | 502 | 504),
        _ => false,
    }
}

/// Why a Graph record could not be mapped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MapError {
    /// A field the model needs is missing.
    #[error("field `{0}` is missing")]
    Missing(&'static str),
    /// A date or time could not be read.
    #[error("field `{field}`: cannot read {value:?} as a date and time")]
    BadDateTime {
        /// The field at fault.
        field: &'static str,
        /// The value (cut to 80 characters).
        value: String,
    },
    /// A time zone name is unknown.
    #[error("field `{field}`: unknown time zone {zone:?}")]
    UnknownZone {
        /// The field at fault.
        field: &'static str,
        /// The zone name.
        zone: String,
    },
    /// The model refused a value.
    #[error("invalid value")]
    Model(#[from] sync_core::ModelError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapter::keys::{if_match, version_of};

    #[test]
    fn every_error_has_a_kind() {
        let api = |status: u16, code: &str| {
            Error::from_status(
                status,
                format!(r#"{{"error":{{"code":"{code}"}}}}"#).as_bytes(),
                "x",
            )
        };
        for (status, code, kind) in [
            (404, "ErrorItemNotFound", ErrorKind::NotFound),
            (404, "MailboxNotEnabledForRESTAPI", ErrorKind::Unsupported),
            (403, "ErrorAccessDenied", ErrorKind::Unauthorized),
            (403, "Authorization_RequestDenied", ErrorKind::Unauthorized),
            (401, "InvalidAuthenticationToken", ErrorKind::Unauthorized),
            (
                412,
                "ErrorIrresolvableConflict",
                ErrorKind::PreconditionFailed,
            ),
            (400, "ErrorInvalidIdMalformed", ErrorKind::Invalid),
            (410, "SyncStateNotFound", ErrorKind::Invalid),
            (503, "serviceNotAvailable", ErrorKind::Unavailable),
            (501, "notSupported", ErrorKind::Unsupported),
        ] {
            assert_eq!(classify(&api(status, code)), kind, "{status} {code}");
        }
        assert!(
            graph_error("x", api(403, "ErrorAccessDenied"))
                .to_string()
                .contains("access policy")
        );
        assert!(
            graph_error("x", api(404, "MailboxNotEnabledForRESTAPI"))
                .to_string()
                .contains("not enabled for REST")
        );
        assert_eq!(version_of(None, Some("W/\"ck\"")).as_deref(), Some("ck"));
        assert_eq!(if_match("ck"), "W/\"ck\"");
        assert_eq!(if_match("W/\"ck\""), "W/\"ck\"");
        let throttled = Error::Throttled {
            status: 429,
            retry_after: Some(std::time::Duration::from_secs(2)),
            endpoint: "x".into(),
        };
        assert_eq!(
            classify(&throttled),
            ErrorKind::Throttled {
                retry_after: Some(std::time::Duration::from_secs(2))
            }
        );
        let p = provider_error("reading the calendar", api(404, "ErrorItemNotFound"));
        assert_eq!(p.kind(), ErrorKind::NotFound);
        assert!(std::error::Error::source(&p).is_some());
    }
}
