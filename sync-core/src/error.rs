//! The engine's error types: bad model values, provider failures the engine can classify, and
//! state-store failures.

use std::fmt;
use std::time::Duration;

/// A model or policy value that makes no sense. Always names the field or kind at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// An identifier or token failed validation.
    #[error("invalid {kind}: {reason}")]
    InvalidId {
        /// Which kind of id.
        kind: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Not an e-mail address.
    #[error("invalid e-mail address {value:?}")]
    InvalidEmail {
        /// The offending value (cut to 80 characters).
        value: String,
    },
    /// A schedule that ends before it starts.
    #[error("field `{field}`: end {end} is before start {start}")]
    EndBeforeStart {
        /// The field at fault.
        field: &'static str,
        /// The start as text.
        start: String,
        /// The end as text.
        end: String,
    },
    /// A provider sent an enum value the model has no place for.
    #[error("field `{field}`: unknown value {value:?} (allowed: {allowed})")]
    UnknownValue {
        /// The field at fault.
        field: &'static str,
        /// The value seen.
        value: String,
        /// The values allowed.
        allowed: &'static str,
    },
    /// A value outside its allowed range.
    #[error("field `{field}`: {reason}")]
    OutOfRange {
        /// The field at fault.
        field: &'static str,
        /// Why it is out of range.
        reason: String,
    },
}

/// What kind of failure a provider met. The engine branches on this only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The item does not exist (any more).
    NotFound,
    /// The version given for optimistic concurrency is stale (HTTP 412): re-read and retry.
    PreconditionFailed,
    /// The remote asked us to slow down; `retry_after` when it said how long.
    Throttled {
        /// How long the remote asked us to wait, when it said.
        retry_after: Option<Duration>,
    },
    /// The remote is down, timed out or answered 5xx.
    Unavailable,
    /// The credentials were refused (HTTP 401/403). Stop all traffic for the account.
    Unauthorized,
    /// The remote refused the data or answered garbage (HTTP 400, malformed body, unmappable
    /// record).
    Invalid,
    /// The item or collection cannot be written (e.g. a read-only source).
    ReadOnly,
    /// The operation is not supported by this provider or mailbox.
    Unsupported,
    /// The connection dropped after the request was sent: the write may or may not have
    /// happened (a crash between the remote write and the state record looks like this).
    Interrupted,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound => f.write_str("not found"),
            Self::PreconditionFailed => f.write_str("precondition failed"),
            Self::Throttled {
                retry_after: Some(d),
            } => write!(f, "throttled (retry after {:.1}s)", d.as_secs_f64()),
            Self::Throttled { retry_after: None } => f.write_str("throttled"),
            Self::Unavailable => f.write_str("unavailable"),
            Self::Unauthorized => f.write_str("unauthorized"),
            Self::Invalid => f.write_str("invalid data"),
            Self::ReadOnly => f.write_str("read-only"),
            Self::Unsupported => f.write_str("unsupported"),
            Self::Interrupted => f.write_str("interrupted"),
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A failure reported by a provider, classified by [`ErrorKind`], with the provider's own error
/// as its source.
///
/// ```
/// use sync_core::{ErrorKind, ProviderError};
/// let e = ProviderError::new(ErrorKind::NotFound, "meeting 42");
/// assert_eq!(e.kind(), ErrorKind::NotFound);
/// assert_eq!(e.to_string(), "not found: meeting 42");
/// ```
#[derive(Debug, thiserror::Error)]
#[error("{kind}: {context}")]
pub struct ProviderError {
    kind: ErrorKind,
    context: String,
    #[source]
    source: Option<BoxError>,
}

impl ProviderError {
    /// A new error of `kind`; `context` says what was being done (never a secret).
    #[must_use]
    pub fn new(kind: ErrorKind, context: impl Into<String>) -> Self {
        Self {
            kind,
            context: context.into(),
            source: None,
        }
    }

    /// The same with the provider's own error as the cause.
    #[must_use]
    pub fn with_source(
        kind: ErrorKind,
        context: impl Into<String>,
        source: impl Into<BoxError>,
    ) -> Self {
        Self {
            kind,
            context: context.into(),
            source: Some(source.into()),
        }
    }

    /// The classification the engine acts on.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// What was being done.
    #[must_use]
    pub fn context(&self) -> &str {
        &self.context
    }
}

/// A state-store failure. It aborts the round: the engine never writes to a side without being
/// able to record it.
#[derive(Debug, thiserror::Error)]
#[error("state store: {context}")]
pub struct StoreError {
    context: String,
    #[source]
    source: Option<BoxError>,
}

impl StoreError {
    /// A new store error saying what failed.
    #[must_use]
    pub fn new(context: impl Into<String>) -> Self {
        Self {
            context: context.into(),
            source: None,
        }
    }

    /// The same with the store's own error as the cause.
    #[must_use]
    pub fn with_source(context: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self {
            context: context.into(),
            source: Some(source.into()),
        }
    }
}

/// A round that could not run at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// The state store failed; nothing after the failure was written.
    #[error("round aborted")]
    Store(#[from] StoreError),
    /// The policy makes no sense.
    #[error("invalid policy")]
    Policy(#[source] ModelError),
}

/// An error and its causes on one line (`outer: inner: innermost`), for reports that keep text.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
