//! The runner: resolve pending creates → read both sides → plan → execute → record.
//!
//! [`Runner`] (this file) holds a scope's settings and drives one round; each phase has its
//! own file:
//!
//! | phase                                                                  | file          |
//! |------------------------------------------------------------------------|---------------|
//! | the round's flow: [`Runner`], its builder, `sync_calendar` / `sync_contacts` / `sync_replica`, recording the cursors | `mod.rs` |
//! | 1. load the state, resolve the creates a crash left pending             | `prepare.rs`  |
//! | 2. read both sides, double-check absences before they count as deletions | `read.rs`    |
//! | 3. plan (the pure planner)                                               | [`crate::planner`] |
//! | 4. execute the steps, alone or in batches, recording each one           | `execute.rs`  |
//! | the audit entry of each step executed: drafted, then completed           | `audit.rs`    |
//! | what a round tells: [`RoundReport`], [`SideCounts`], [`Failure`], [`Progress`] | `report.rs` |
//! | the writable sides of a round                                            | `sides.rs`    |

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use chrono::{DateTime, Utc};

use crate::contact::Contact;
use crate::error::SyncError;
use crate::event::Event;
use crate::ids::{Scope, Side};
use crate::item::SyncItem;
use crate::plan::Plan;
use crate::planner::{CalendarInput, ReplicateInput, plan_calendar, plan_replicate};
use crate::policy::{Member, Policy};
use crate::provider::{Completeness, ReadSide, SideRead, Window, WriteSide};
use crate::state::{Pairs, StateStore, StoredState};

mod audit;
mod execute;
mod prepare;
mod read;
mod report;
mod sides;

pub use report::{Failure, Progress, ProgressFn, RoundReport, SideCounts};

use audit::Trail;
use execute::Executor;
use prepare::prepare;
use read::{confirm_absences, read, verify_budget};
use sides::Sides;

/// Drives rounds for one scope.
///
/// ```
/// use sync_core::*;
/// let runner = Runner::new(Scope::new("acme", "jana@acme.cz", Collection::Calendar), Policy::default())
///     .dry_run(true);
/// assert!(runner.is_dry_run());
/// ```
#[derive(Clone, Debug)]
pub struct Runner {
    scope: Scope,
    policy: Policy,
    dry_run: bool,
    verify_limit: usize,
    stop: Option<Arc<AtomicBool>>,
    progress: Option<Progress>,
}

impl Runner {
    /// A runner for `scope` following `policy`.
    #[must_use]
    pub fn new(scope: Scope, policy: Policy) -> Self {
        Self {
            scope,
            policy,
            dry_run: false,
            verify_limit: 200,
            stop: None,
            progress: None,
        }
    }

    /// A flag checked between steps: once it is set, the round finishes the write under way
    /// and stops (what was not done is reported and done next round).
    #[must_use]
    pub fn stop_flag(mut self, flag: Arc<AtomicBool>) -> Self {
        self.stop = Some(flag);
        self
    }

    /// A callback told after each step how far the round is (for a progress bar).
    #[must_use]
    pub fn progress(mut self, progress: Progress) -> Self {
        self.progress = Some(progress);
        self
    }

    /// Plan and report only: nothing is written and nothing recorded.
    #[must_use]
    pub fn dry_run(mut self, on: bool) -> Self {
        self.dry_run = on;
        self
    }

    /// Whether this runner only plans.
    #[must_use]
    pub fn is_dry_run(&self) -> bool {
        self.dry_run
    }

    /// At most this many items missing from a complete listing are double-checked one by one
    /// (a lookup each) before they count as deleted (default 200).
    #[must_use]
    pub fn verify_limit(mut self, n: usize) -> Self {
        self.verify_limit = n;
        self
    }

    /// The scope.
    #[must_use]
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// Runs one two-way calendar round.
    ///
    /// # Errors
    /// [`SyncError::Store`] when the state store fails (the round stops there; what was
    /// written before is recorded), [`SyncError::Policy`] for a policy that makes no sense.
    /// Provider failures are not errors: they are in the report.
    pub async fn sync_calendar(
        &self,
        raynet: &dyn WriteSide<Event>,
        outlook: &dyn WriteSide<Event>,
        store: &dyn StateStore<Event>,
        member: &Member,
        now: DateTime<Utc>,
    ) -> Result<RoundReport, SyncError> {
        let sides = Sides {
            raynet: Some(raynet),
            outlook,
        };
        let window = Some(self.policy.window(now));
        let (report, state, [r_read, o_read]) =
            self.start(&sides, [raynet, outlook], store, window).await?;
        let plan = plan_calendar(&CalendarInput {
            state: &state,
            raynet: &r_read,
            outlook: &o_read,
            raynet_profile: &raynet.profile(),
            outlook_profile: &outlook.profile(),
            policy: &self.policy,
            member,
            now,
        });
        self.finish(
            plan,
            &sides,
            store,
            &state.pairs,
            [&r_read, &o_read],
            report,
        )
        .await
    }

    /// Runs one one-way round: `source` (Raynet persons) → `target` (Outlook contacts).
    ///
    /// # Errors
    /// As [`Runner::sync_calendar`].
    pub async fn sync_contacts(
        &self,
        source: &dyn ReadSide<Contact>,
        target: &dyn WriteSide<Contact>,
        store: &dyn StateStore<Contact>,
        now: DateTime<Utc>,
    ) -> Result<RoundReport, SyncError> {
        self.sync_replica(source, target, store, now).await
    }

    /// Runs one one-way round for any item type (see [`Runner::sync_contacts`]).
    ///
    /// # Errors
    /// As [`Runner::sync_calendar`].
    pub async fn sync_replica<T: SyncItem>(
        &self,
        source: &dyn ReadSide<T>,
        target: &dyn WriteSide<T>,
        store: &dyn StateStore<T>,
        now: DateTime<Utc>,
    ) -> Result<RoundReport, SyncError> {
        let sides = Sides {
            raynet: None,
            outlook: target,
        };
        let (report, state, [s_read, t_read]) =
            self.start(&sides, [source, target], store, None).await?;
        let plan = plan_replicate(&ReplicateInput {
            state: &state,
            source: &s_read,
            target: &t_read,
            target_profile: &target.profile(),
            policy: &self.policy,
            now,
        });
        self.finish(
            plan,
            &sides,
            store,
            &state.pairs,
            [&s_read, &t_read],
            report,
        )
        .await
    }

    /// Starts a round: checks the policy, starts the report, loads the state, resolves the
    /// creates a crash left pending, then reads both sides (Raynet's first) and double-checks,
    /// within the verification budget, the absences that would count as deletions.
    async fn start<T: SyncItem>(
        &self,
        sides: &Sides<'_, T>,
        [raynet, outlook]: [&dyn ReadSide<T>; 2],
        store: &dyn StateStore<T>,
        window: Option<Window>,
    ) -> Result<(RoundReport, StoredState<T>, [SideRead<T>; 2]), SyncError> {
        self.policy.validate().map_err(SyncError::Policy)?;
        let mut report = RoundReport::new(self.scope.clone(), self.dry_run);
        let state = prepare(&self.scope, self.dry_run, sides, store, &mut report).await?;
        let mut r_read = read(raynet, &state, Side::Raynet, window, &mut report).await;
        let mut o_read = read(outlook, &state, Side::Outlook, window, &mut report).await;
        let limit = verify_budget(&self.policy, self.verify_limit, &state);
        confirm_absences(raynet, &mut r_read, &state, Side::Raynet, limit, window).await;
        confirm_absences(outlook, &mut o_read, &state, Side::Outlook, limit, window).await;
        Ok((report, state, [r_read, o_read]))
    }

    /// Reports the plan, then executes it (unless this is a dry run or a guard tripped),
    /// keeping an audit entry per step sent (`pairs`: the pairs the round found), and records
    /// the cursors of a round that read everything, failed nowhere and deferred nothing.
    async fn finish<T: SyncItem>(
        &self,
        plan: Plan<T>,
        sides: &Sides<'_, T>,
        store: &dyn StateStore<T>,
        pairs: &Pairs<T>,
        reads: [&SideRead<T>; 2],
        mut report: RoundReport,
    ) -> Result<RoundReport, SyncError> {
        report.planned_writes = plan.write_count();
        report.conflicts.clone_from(&plan.conflicts);
        report.skipped.extend(plan.skipped.iter().cloned());
        report.guard.clone_from(&plan.guard);
        report.deferred.clone_from(&plan.deferred);
        if self.dry_run {
            report.plan = Some(plan.to_string());
            return Ok(report);
        }
        if let Some(g) = &plan.guard {
            tracing::warn!(scope = %self.scope, "{g}");
            return Ok(report);
        }
        let executor = Executor {
            scope: &self.scope,
            stop: self.stop.as_deref(),
            progress: self.progress.as_ref(),
        };
        let Plan {
            steps, conflicts, ..
        } = plan;
        let trail = Trail::new(pairs, &conflicts);
        executor
            .execute(steps, sides, store, &trail, &mut report)
            .await?;
        let reads_ok = reads
            .iter()
            .all(|r| r.completeness != Completeness::Partial);
        // Steps the invitation cap deferred are read again next round from these cursors.
        if report.failures.is_empty() && report.deferred.is_empty() && reads_ok {
            for (side, read) in [Side::Raynet, Side::Outlook].into_iter().zip(reads) {
                if let Some(c) = &read.cursor {
                    store.put_cursor(&self.scope, side, Some(c)).await?;
                }
            }
        }
        Ok(report)
    }
}
