//! What a tenant round reports: one [`RoundReport`] per member and collection, typed
//! [`MemberFailure`]s, the membership [`Finding`]s, and a serialisable [`TenantReport`].

use std::fmt;

use serde::{Deserialize, Serialize};

use super::members::Finding;
use crate::error::{StoreError, SyncError, error_chain};
use crate::ids::{Collection, Email};
use crate::runner::{RoundReport, SideCounts};

/// The summary of one member's round of one collection: what the state store records and
/// `run --json` prints. Plain data; its JSON shape is stable (the SQLite store keeps it). A
/// summary needs only the counts and the failures to be read back; the rest defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundSummary {
    /// The scope (`tenant/member/collection`).
    #[serde(default)]
    pub scope: String,
    /// Whether nothing was written.
    pub dry_run: bool,
    /// Whether nothing failed and no guard stopped the round.
    #[serde(default)]
    pub clean: bool,
    /// Writes the plan held.
    #[serde(default)]
    pub planned_writes: usize,
    /// Items created per side.
    pub created: SideCounts,
    /// Items updated per side.
    pub updated: SideCounts,
    /// Items deleted per side.
    pub deleted: SideCounts,
    /// Pair records written without a remote write.
    #[serde(default)]
    pub recorded: usize,
    /// Creates left pending by a crash that were found and recorded.
    #[serde(default)]
    pub recovered: usize,
    /// How many conflicts were decided.
    pub conflicts: usize,
    /// Each conflict and how it was decided, in words.
    #[serde(default)]
    pub conflict_details: Vec<String>,
    /// How many items were left alone on purpose.
    #[serde(default)]
    pub skipped: usize,
    /// What failed, in words.
    pub failures: Vec<String>,
    /// Why a guard (mass deletion, mass time shift) stopped the round, when one did.
    pub guard: Option<String>,
    /// Which guard stopped the round (`mass-deletion`, `time-shift`), when one did.
    #[serde(default)]
    pub guard_kind: Option<String>,
    /// Writes done that made Exchange mail attendees.
    #[serde(default)]
    pub invitations: usize,
    /// Writes that would have mailed attendees, held back by the invitation cap for the next
    /// round.
    #[serde(default)]
    pub invitations_deferred: usize,
}

impl RoundSummary {
    /// The summary of `report`.
    #[must_use]
    pub fn of(report: &RoundReport) -> Self {
        Self {
            scope: report.scope.to_string(),
            dry_run: report.dry_run,
            clean: report.is_clean(),
            planned_writes: report.planned_writes,
            created: report.created,
            updated: report.updated,
            deleted: report.deleted,
            recorded: report.recorded,
            recovered: report.recovered,
            conflicts: report.conflicts.len(),
            conflict_details: report.conflicts.iter().map(ToString::to_string).collect(),
            skipped: report.skipped.len(),
            failures: report.failures.iter().map(ToString::to_string).collect(),
            guard: report.guard.as_ref().map(ToString::to_string),
            guard_kind: report.guard.as_ref().map(|g| g.guard().to_owned()),
            invitations: report.invitations,
            invitations_deferred: report.invitations_deferred(),
        }
    }
}

impl fmt::Display for RoundSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pair = |c: SideCounts| format!("{}/{}", c.raynet, c.outlook);
        write!(
            f,
            "created {} updated {} deleted {} (raynet/outlook), {} conflict(s), {} failure(s){}",
            pair(self.created),
            pair(self.updated),
            pair(self.deleted),
            self.conflicts,
            self.failures.len(),
            if self.dry_run { ", dry run" } else { "" },
        )?;
        if let Some(g) = &self.guard {
            write!(f, ", STOPPED: {g}")?;
        }
        Ok(())
    }
}

/// Why one member's round (or part of it) could not run. The other members' rounds go on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MemberError {
    /// The claims of the other members could not be read (§4: one outside meeting, one record).
    #[error("cannot read the state store")]
    Claims(#[source] StoreError),
    /// The round of one collection stopped (the state store failed, or the policy is invalid).
    #[error("{collection} round aborted")]
    Round {
        /// The collection whose round stopped.
        collection: Collection,
        /// Why.
        #[source]
        source: SyncError,
    },
}

/// One member's failure in a tenant round.
#[derive(Debug)]
pub struct MemberFailure {
    /// The member (the address their scopes are kept under).
    pub member: Email,
    /// What failed.
    pub error: MemberError,
}

impl fmt::Display for MemberFailure {
    /// `member: what failed: why`, the whole chain on one line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.member, error_chain(&self.error))
    }
}

impl Serialize for MemberFailure {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut st = s.serialize_struct("MemberFailure", 2)?;
        st.serialize_field("member", &self.member)?;
        st.serialize_field("error", &error_chain(&self.error))?;
        st.end()
    }
}

/// What one tenant round did.
#[derive(Debug, Default)]
pub struct TenantReport {
    /// The tenant.
    pub tenant: String,
    /// One report per member and collection, ordered by scope.
    pub reports: Vec<RoundReport>,
    /// Who is not served, and other things to look at.
    pub findings: Vec<Finding>,
    /// Members whose round (or part of it) could not run.
    pub member_failures: Vec<MemberFailure>,
    /// Requests Raynet's deletion scan took this round (0: no scan was due).
    pub raynet_scan_requests: u64,
}

impl TenantReport {
    /// Whether everything planned was done: no member failed, no round failed or was stopped.
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.member_failures.is_empty() && self.reports.iter().all(RoundReport::is_clean)
    }

    /// The summary of each member's round, ordered by scope.
    #[must_use]
    pub fn summaries(&self) -> Vec<RoundSummary> {
        self.reports.iter().map(RoundSummary::of).collect()
    }
}

impl Serialize for TenantReport {
    /// `{ tenant, clean, rounds: [RoundSummary], findings, member_failures, raynet_scan_requests }`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut st = s.serialize_struct("TenantReport", 6)?;
        st.serialize_field("tenant", &self.tenant)?;
        st.serialize_field("clean", &self.is_clean())?;
        st.serialize_field("rounds", &self.summaries())?;
        st.serialize_field("findings", &self.findings)?;
        st.serialize_field("member_failures", &self.member_failures)?;
        st.serialize_field("raynet_scan_requests", &self.raynet_scan_requests)?;
        st.end()
    }
}
