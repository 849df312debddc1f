//! The tenant round's error: what stops a whole tenant round before any member's round runs.

use crate::error::ProviderError;

/// A tenant round that could not start: the group or the Raynet users could not be read.
/// Failures of one member are not errors of the tenant: they are
/// [`MemberFailure`](super::report::MemberFailure)s in the report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TenantError {
    /// No Microsoft 365 group has the configured display name or id.
    #[error("no Microsoft 365 group {group:?} (microsoft.group: give its display name or id)")]
    GroupNotFound {
        /// The group as configured.
        group: String,
    },
    /// A read of the directory (the group, its members or owners, the Raynet users) failed.
    #[error("cannot {action}")]
    Directory {
        /// What was being read, as a phrase ("list the group's members").
        action: String,
        /// The service's error.
        #[source]
        source: ProviderError,
    },
}

impl TenantError {
    /// A failed directory read: `action` says what was being read.
    #[must_use]
    pub fn directory(action: impl Into<String>, source: ProviderError) -> Self {
        Self::Directory {
            action: action.into(),
            source,
        }
    }
}
