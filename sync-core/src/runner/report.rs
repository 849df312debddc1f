//! What a round tells its caller: the [`RoundReport`] (counts per side in [`SideCounts`],
//! conflicts, skipped items, each [`Failure`], the audit entries of the steps sent), and the
//! [`Progress`] callback told how far the execution is.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::audit::AuditEntry;
use crate::error::{ErrorKind, ProviderError, error_chain};
use crate::ids::{Scope, Side};
use crate::plan::{Conflict, Deferred, GuardTrip, Skipped, write_list};

/// Counts per side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SideCounts {
    /// On the Raynet side.
    pub raynet: usize,
    /// On the Outlook side.
    pub outlook: usize,
}

impl SideCounts {
    /// Counts one more on `side`.
    pub(super) fn bump(&mut self, side: Side) {
        match side {
            Side::Raynet => self.raynet += 1,
            Side::Outlook => self.outlook += 1,
        }
    }

    /// The count for `side`.
    #[must_use]
    pub fn get(&self, side: Side) -> usize {
        match side {
            Side::Raynet => self.raynet,
            Side::Outlook => self.outlook,
        }
    }
}

/// Something that failed this round; it is retried next round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The side the failing call went to.
    pub side: Option<Side>,
    /// What was being done ("read", "update ...", "resolve pending create ...").
    pub action: String,
    /// The item's label, when about one item.
    pub item: Option<String>,
    /// What went wrong (never a secret).
    pub error: String,
    /// The error's kind, when a provider said.
    pub kind: Option<ErrorKind>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(side) = self.side {
            write!(f, "{side}: ")?;
        }
        write!(f, "{}", self.action)?;
        if let Some(item) = &self.item {
            write!(f, " {item:?}")?;
        }
        write!(f, ": {}", self.error)
    }
}

/// What one round did, for one scope.
#[derive(Clone, Debug, PartialEq)]
pub struct RoundReport {
    /// The scope.
    pub scope: Scope,
    /// Whether this was a dry run (nothing written, nothing recorded).
    pub dry_run: bool,
    /// Writes the plan held.
    pub planned_writes: usize,
    /// Items created, per side.
    pub created: SideCounts,
    /// Items updated, per side.
    pub updated: SideCounts,
    /// Items deleted, per side.
    pub deleted: SideCounts,
    /// Pair records written without a remote write (versions moved, content agreed).
    pub recorded: usize,
    /// Creates left pending by an earlier crash that were found and recorded.
    pub recovered: usize,
    /// Conflicts and how each was decided.
    pub conflicts: Vec<Conflict>,
    /// Items left alone on purpose.
    pub skipped: Vec<Skipped>,
    /// What failed (retried next round).
    pub failures: Vec<Failure>,
    /// Set when a guard (mass deletion, mass time shift) stopped the round.
    pub guard: Option<GuardTrip>,
    /// Writes done that made Exchange mail attendees (invitations, meeting updates,
    /// cancellations).
    pub invitations: usize,
    /// Steps the invitation cap held back for the next round (not failures: nothing is lost).
    pub deferred: Vec<Deferred>,
    /// The plan as text (dry runs only).
    pub plan: Option<String>,
    /// One entry per step whose writes were sent (succeeded or not) and per deletion answered
    /// without a write, in the order they ran: what the audit trail keeps. Empty for a dry run
    /// and a round the guard stopped.
    pub audit: Vec<AuditEntry>,
}

impl RoundReport {
    /// An empty report for `scope` (the runner fills it; embedders' and tests' own reports
    /// start here too).
    #[must_use]
    pub fn new(scope: Scope, dry_run: bool) -> Self {
        Self {
            scope,
            dry_run,
            planned_writes: 0,
            created: SideCounts::default(),
            updated: SideCounts::default(),
            deleted: SideCounts::default(),
            recorded: 0,
            recovered: 0,
            conflicts: Vec::new(),
            skipped: Vec::new(),
            failures: Vec::new(),
            guard: None,
            invitations: 0,
            deferred: Vec::new(),
            plan: None,
            audit: Vec::new(),
        }
    }

    /// Items created on `side`.
    #[must_use]
    pub fn created(&self, side: Side) -> usize {
        self.created.get(side)
    }

    /// Writes done (creates, updates and deletes on both sides).
    #[must_use]
    pub fn writes(&self) -> usize {
        [self.created, self.updated, self.deleted]
            .iter()
            .map(|c| c.raynet + c.outlook)
            .sum()
    }

    /// Writes the invitation cap held back for the next round that would have mailed
    /// attendees.
    #[must_use]
    pub fn invitations_deferred(&self) -> usize {
        self.deferred.iter().map(|d| d.invitations).sum()
    }

    /// Whether everything planned was done (no failure, no guard stop; steps the invitation
    /// cap deferred are no failure).
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.failures.is_empty() && self.guard.is_none()
    }

    /// Records a provider failure (and logs it).
    pub(super) fn fail(
        &mut self,
        side: Option<Side>,
        action: String,
        item: Option<String>,
        e: &ProviderError,
    ) {
        tracing::warn!(scope = %self.scope, ?side, %action, error = %e, "sync step failed");
        self.failures.push(Failure {
            side,
            action,
            item,
            error: error_chain(e),
            kind: Some(e.kind()),
        });
    }
}

impl fmt::Display for RoundReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}{}: created {}/{} updated {}/{} deleted {}/{} (raynet/outlook), {} conflict(s), \
             {} skipped, {} failure(s)",
            self.scope,
            if self.dry_run { " (dry run)" } else { "" },
            self.created.raynet,
            self.created.outlook,
            self.updated.raynet,
            self.updated.outlook,
            self.deleted.raynet,
            self.deleted.outlook,
            self.conflicts.len(),
            self.skipped.len(),
            self.failures.len()
        )?;
        if let Some(g) = &self.guard {
            writeln!(f, "  STOPPED: {g}")?;
        }
        if self.invitations > 0 || !self.deferred.is_empty() {
            writeln!(
                f,
                "  invitations: {} write(s) mailed attendees, {} deferred to the next round \
                 (invitation cap)",
                self.invitations,
                self.invitations_deferred()
            )?;
        }
        write_list(f, "", &self.conflicts)?;
        write_list(f, "", &self.skipped)?;
        write_list(f, "", &self.deferred)?;
        write_list(f, "failed: ", &self.failures)?;
        if let Some(p) = &self.plan {
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// The function behind [`Progress`]: `(scope, steps done, steps planned)`.
pub type ProgressFn = dyn Fn(&Scope, usize, usize) + Send + Sync;

/// A callback told how far a round's execution is.
#[derive(Clone)]
pub struct Progress(pub Arc<ProgressFn>);

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Progress(..)")
    }
}
