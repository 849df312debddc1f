//! The runner: resolve pending creates → read both sides → plan → execute → record.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};

use crate::contact::Contact;
use crate::error::{ErrorKind, ProviderError, SyncError};
use crate::event::Event;
use crate::ids::{Scope, Side};
use crate::item::SyncItem;
use crate::plan::{Conflict, GuardTrip, Outcome, Plan, Skipped, Step, Write};
use crate::planner::{CalendarInput, ReplicateInput, plan_calendar, plan_replicate};
use crate::policy::{Member, Policy};
use crate::provider::{Completeness, ReadRequest, ReadSide, SideRead, WriteSide};
use crate::state::{PendingCreate, SideRecord, StateStore, StoredState};

/// Counts per side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SideCounts {
    /// On the Raynet side.
    pub raynet: usize,
    /// On the Outlook side.
    pub outlook: usize,
}

impl SideCounts {
    fn bump(&mut self, side: Side) {
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
    /// Set when the mass-deletion guard stopped the round.
    pub guard: Option<GuardTrip>,
    /// The plan as text (dry runs only).
    pub plan: Option<String>,
}

impl RoundReport {
    fn new(scope: Scope, dry_run: bool) -> Self {
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
            plan: None,
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

    /// Whether everything planned was done (no failure, no guard stop).
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.failures.is_empty() && self.guard.is_none()
    }

    fn fail(
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
        for c in &self.conflicts {
            writeln!(f, "  {c}")?;
        }
        for s in &self.skipped {
            writeln!(f, "  {s}")?;
        }
        for x in &self.failures {
            writeln!(f, "  failed: {x}")?;
        }
        if let Some(p) = &self.plan {
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

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

    fn stopping(&self) -> bool {
        self.stop.as_ref().is_some_and(|f| f.load(Ordering::SeqCst))
    }

    fn tick(&self, done: usize, total: usize) {
        if let Some(p) = &self.progress {
            (p.0)(&self.scope, done, total);
        }
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
        self.policy.validate().map_err(SyncError::Policy)?;
        let mut report = RoundReport::new(self.scope.clone(), self.dry_run);
        let sides = Sides {
            raynet: Some(raynet),
            outlook,
        };
        let state = self.prepare(&sides, store, &mut report).await?;
        let window = Some(self.policy.window(now));
        let mut r_read = self
            .read(raynet, &state, Side::Raynet, window, &mut report)
            .await;
        let mut o_read = self
            .read(outlook, &state, Side::Outlook, window, &mut report)
            .await;
        let limit = self.verify_budget(&state);
        confirm_absences(raynet, &mut r_read, &state, Side::Raynet, limit, window).await;
        confirm_absences(outlook, &mut o_read, &state, Side::Outlook, limit, window).await;
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
        self.finish(plan, &sides, store, [&r_read, &o_read], report)
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
        self.policy.validate().map_err(SyncError::Policy)?;
        let mut report = RoundReport::new(self.scope.clone(), self.dry_run);
        let sides = Sides {
            raynet: None,
            outlook: target,
        };
        let state = self.prepare(&sides, store, &mut report).await?;
        let mut s_read = self
            .read(source, &state, Side::Raynet, None, &mut report)
            .await;
        let mut t_read = self
            .read(target, &state, Side::Outlook, None, &mut report)
            .await;
        let limit = self.verify_budget(&state);
        confirm_absences(source, &mut s_read, &state, Side::Raynet, limit, None).await;
        confirm_absences(target, &mut t_read, &state, Side::Outlook, limit, None).await;
        let plan = plan_replicate(&ReplicateInput {
            state: &state,
            source: &s_read,
            target: &t_read,
            target_profile: &target.profile(),
            policy: &self.policy,
            now,
        });
        self.finish(plan, &sides, store, [&s_read, &t_read], report)
            .await
    }

    fn verify_budget<T>(&self, state: &StoredState<T>) -> usize {
        let g = &self.policy.delete_guard;
        let paired = state.pairs.len();
        let allowed = g.floor.max((g.max_share * paired as f64) as usize) + 1;
        allowed.min(self.verify_limit)
    }

    /// Loads the state and resolves creates a crash left pending.
    async fn prepare<T: SyncItem>(
        &self,
        sides: &Sides<'_, T>,
        store: &dyn StateStore<T>,
        report: &mut RoundReport,
    ) -> Result<StoredState<T>, SyncError> {
        let state = store.load(&self.scope).await?;
        if self.dry_run || state.pending.is_empty() {
            return Ok(state);
        }
        for p in &state.pending {
            let Some(side) = sides.get(p.target) else {
                store
                    .resolve_pending(&self.scope, &p.key, None, None)
                    .await?;
                continue;
            };
            match side.find_by_key(&p.key).await {
                Ok(Some(found)) if state.find(p.target, &found.id).is_some() => {
                    // Already linked (by its sync mark, in a round that ran meanwhile).
                    store
                        .resolve_pending(&self.scope, &p.key, None, None)
                        .await?;
                }
                Ok(Some(found)) => {
                    let mut record = p.record.clone();
                    // The base is what we sent, not what is there now: an edit made since
                    // then is a change to carry over, not the starting point. The version is
                    // not the found one either: that one may already include such an edit,
                    // and a write "expecting" it would pass and return the edit as if it were
                    // the base (it would never be carried over). A version no side ever holds
                    // makes every write wait until the item has been read and merged.
                    *record.side_mut(p.target) = Some(SideRecord {
                        id: found.id,
                        version: recovered_version(&found.version),
                        base: p.item.clone(),
                    });
                    store
                        .resolve_pending(&self.scope, &p.key, p.pair, Some(&record))
                        .await?;
                    report.recovered += 1;
                }
                Ok(None) => {
                    store
                        .resolve_pending(&self.scope, &p.key, None, None)
                        .await?;
                }
                Err(e) => report.fail(
                    Some(p.target),
                    format!("resolve pending create {}", p.key),
                    Some(p.item.label()),
                    &e,
                ),
            }
        }
        Ok(store.load(&self.scope).await?)
    }

    async fn read<T: SyncItem>(
        &self,
        side: &dyn ReadSide<T>,
        state: &StoredState<T>,
        which: Side,
        window: Option<crate::provider::Window>,
        report: &mut RoundReport,
    ) -> SideRead<T> {
        let request = ReadRequest {
            window,
            cursor: state.cursors.get(&which).cloned(),
        };
        match side.read(&request).await {
            Ok(mut read) => {
                read.items = std::mem::take(&mut read.items)
                    .into_iter()
                    .map(|mut r| {
                        r.item = r.item.normalized();
                        r
                    })
                    .collect();
                for (id, why) in &read.unreadable {
                    report.skipped.push(Skipped {
                        side: which,
                        id: id.clone(),
                        label: String::new(),
                        reason: format!("cannot be read: {why}"),
                    });
                }
                read
            }
            Err(e) => {
                report.fail(Some(which), "read".into(), None, &e);
                SideRead::failed()
            }
        }
    }

    async fn finish<T: SyncItem>(
        &self,
        plan: Plan<T>,
        sides: &Sides<'_, T>,
        store: &dyn StateStore<T>,
        reads: [&SideRead<T>; 2],
        mut report: RoundReport,
    ) -> Result<RoundReport, SyncError> {
        report.planned_writes = plan.write_count();
        report.conflicts.clone_from(&plan.conflicts);
        report.skipped.extend(plan.skipped.iter().cloned());
        report.guard.clone_from(&plan.guard);
        if self.dry_run {
            report.plan = Some(plan.to_string());
            return Ok(report);
        }
        if let Some(g) = &plan.guard {
            tracing::warn!(scope = %self.scope, "{g}");
            return Ok(report);
        }
        self.execute(plan, sides, store, &mut report).await?;
        let reads_ok = reads
            .iter()
            .all(|r| r.completeness != Completeness::Partial);
        if report.failures.is_empty() && reads_ok {
            for (side, read) in [Side::Raynet, Side::Outlook].into_iter().zip(reads) {
                if let Some(c) = &read.cursor {
                    store.put_cursor(&self.scope, side, Some(c)).await?;
                }
            }
        }
        Ok(report)
    }

    async fn execute<T: SyncItem>(
        &self,
        plan: Plan<T>,
        sides: &Sides<'_, T>,
        store: &dyn StateStore<T>,
        report: &mut RoundReport,
    ) -> Result<(), SyncError> {
        // Plain creates go out in batches where a side takes them (Graph `$batch`); every
        // other step runs on its own, in plan order.
        let mut buffers: [Vec<Step<T>>; 4] = Default::default();
        let total = plan.steps.len();
        let mut done = 0usize;
        for step in plan.steps {
            if self.stopping() {
                report.failures.push(Failure {
                    side: None,
                    action: "stopped on request".into(),
                    item: None,
                    error: format!("{} step(s) left for the next round", total - done),
                    kind: None,
                });
                break;
            }
            done += 1;
            if done % 25 == 0 || done == total {
                self.tick(done, total);
            }
            // Slot: creates 0–1, updates 2–3 (Raynet, Outlook).
            let batchable = match step.writes.as_slice() {
                [Write::Create { side, .. }] => Some((0, *side)),
                [Write::Update { side, .. }] => Some((2, *side)),
                _ => None,
            }
            .and_then(|(base, side)| {
                let max = sides.get(side)?.max_batch();
                (max > 1).then_some((base + usize::from(side == Side::Outlook), side, max))
            });
            if let Some((slot, side, max)) = batchable {
                buffers[slot].push(step);
                if buffers[slot].len() >= max {
                    let batch = std::mem::take(&mut buffers[slot]);
                    if self.flush(slot, batch, side, sides, store, report).await? {
                        return Ok(());
                    }
                }
                continue;
            }
            if self.execute_step(step, sides, store, report).await? {
                return Ok(());
            }
        }
        for (slot, buffer) in buffers.iter_mut().enumerate() {
            let side = if slot % 2 == 0 {
                Side::Raynet
            } else {
                Side::Outlook
            };
            let batch = std::mem::take(buffer);
            if !batch.is_empty() && self.flush(slot, batch, side, sides, store, report).await? {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Sends a buffered batch: creates (slots 0–1) or updates (slots 2–3). Returns whether all
    /// traffic must stop.
    async fn flush<T: SyncItem>(
        &self,
        slot: usize,
        batch: Vec<Step<T>>,
        side: Side,
        sides: &Sides<'_, T>,
        store: &dyn StateStore<T>,
        report: &mut RoundReport,
    ) -> Result<bool, SyncError> {
        if slot < 2 {
            self.create_batch(batch, side, sides, store, report).await
        } else {
            self.update_batch(batch, side, sides, store, report).await
        }
    }

    /// Sends a batch of single-update steps to one side; each step is recorded right after its
    /// update succeeded. Returns whether all traffic must stop.
    async fn update_batch<T: SyncItem>(
        &self,
        batch: Vec<Step<T>>,
        which: Side,
        sides: &Sides<'_, T>,
        store: &dyn StateStore<T>,
        report: &mut RoundReport,
    ) -> Result<bool, SyncError> {
        let Some(side) = sides.get(which) else {
            return Ok(false);
        };
        let requests: Vec<crate::provider::UpdateRequest<'_, T>> = batch
            .iter()
            .filter_map(|step| match step.writes.as_slice() {
                [
                    Write::Update {
                        id,
                        item,
                        changed,
                        expected,
                        ..
                    },
                ] => Some(crate::provider::UpdateRequest {
                    id,
                    item,
                    changed: *changed,
                    expected: Some(expected),
                }),
                _ => None,
            })
            .collect();
        let mut results = side.update_many(&requests).await.into_iter();
        drop(requests);
        let mut stop = false;
        for step in batch {
            let result = results.next().unwrap_or_else(|| {
                Err(ProviderError::new(
                    ErrorKind::Interrupted,
                    "the batch answered fewer results than requests",
                ))
            });
            let Some(Write::Update { item, .. }) = step.writes.first() else {
                continue;
            };
            match result {
                Ok(w) => {
                    report.updated.bump(which);
                    let mut record = match step.outcome {
                        Outcome::Record(r) => Some(r),
                        Outcome::Forget => None,
                    };
                    set_side(&mut record, which, w.id, w.version, w.item, item);
                    match (record, step.pair) {
                        (Some(r), pair) => {
                            store.put_pair(&self.scope, pair, &r).await?;
                        }
                        (None, Some(pair)) => store.remove_pair(&self.scope, pair).await?,
                        (None, None) => {}
                    }
                }
                Err(e) => {
                    stop |= e.kind() == ErrorKind::Unauthorized;
                    let what = step
                        .writes
                        .first()
                        .map_or_else(String::new, ToString::to_string);
                    report.fail(Some(which), what, Some(step.label.clone()), &e);
                }
            }
        }
        Ok(stop)
    }

    /// Records a create as pending before it is sent: what to record once it is confirmed.
    async fn add_pending<T: SyncItem>(
        &self,
        store: &dyn StateStore<T>,
        target: Side,
        pair: Option<crate::ids::PairId>,
        record: Option<&crate::state::PairRecord<T>>,
        item: &T,
        key: &crate::ids::IdempotencyKey,
    ) -> Result<(), SyncError> {
        let record = record.cloned().unwrap_or(crate::state::PairRecord {
            raynet: None,
            outlook: None,
            origin: target.other(),
        });
        let pending = PendingCreate {
            key: key.clone(),
            target,
            pair,
            record,
            item: item.clone(),
        };
        Ok(store.add_pending(&self.scope, &pending).await?)
    }

    /// Sends a batch of plain creates to one side; returns whether all traffic must stop.
    async fn create_batch<T: SyncItem>(
        &self,
        batch: Vec<Step<T>>,
        which: Side,
        sides: &Sides<'_, T>,
        store: &dyn StateStore<T>,
        report: &mut RoundReport,
    ) -> Result<bool, SyncError> {
        let Some(side) = sides.get(which) else {
            return Ok(false);
        };
        let mut items: Vec<(T, crate::ids::IdempotencyKey)> = Vec::with_capacity(batch.len());
        for step in &batch {
            if let [Write::Create { item, key, .. }] = step.writes.as_slice() {
                let record = match &step.outcome {
                    Outcome::Record(r) => Some(r),
                    Outcome::Forget => None,
                };
                self.add_pending(store, which, step.pair, record, item, key)
                    .await?;
                items.push((item.clone(), key.clone()));
            }
        }
        let refs: Vec<(&T, &crate::ids::IdempotencyKey)> =
            items.iter().map(|(i, k)| (i, k)).collect();
        let mut results = side.create_many(&refs).await.into_iter();
        let mut stop = false;
        for (step, (item, key)) in batch.into_iter().zip(items.iter()) {
            let result = results.next().unwrap_or_else(|| {
                Err(ProviderError::new(
                    ErrorKind::Interrupted,
                    "the batch answered fewer results than requests",
                ))
            });
            let mut record = match step.outcome {
                Outcome::Record(r) => Some(r),
                Outcome::Forget => None,
            };
            match result {
                Ok(w) => {
                    report.created.bump(which);
                    set_side(&mut record, which, w.id, w.version, w.item, item);
                    let keep = record.filter(|r| r.raynet.is_some() || r.outlook.is_some());
                    store
                        .resolve_pending(&self.scope, key, step.pair, keep.as_ref())
                        .await?;
                }
                Err(e) => {
                    if e.kind() != ErrorKind::Interrupted {
                        store.resolve_pending(&self.scope, key, None, None).await?;
                    }
                    stop |= e.kind() == ErrorKind::Unauthorized;
                    let what = step
                        .writes
                        .first()
                        .map_or_else(String::new, ToString::to_string);
                    report.fail(Some(which), what, Some(step.label.clone()), &e);
                }
            }
        }
        Ok(stop)
    }

    /// Runs one step; returns whether all traffic must stop (refused credentials).
    async fn execute_step<T: SyncItem>(
        &self,
        step: Step<T>,
        sides: &Sides<'_, T>,
        store: &dyn StateStore<T>,
        report: &mut RoundReport,
    ) -> Result<bool, SyncError> {
        {
            let mut record = match step.outcome {
                Outcome::Record(r) => Some(r),
                Outcome::Forget => None,
            };
            let mut pending_key = None;
            for write in &step.writes {
                let which = write.side();
                let Some(side) = sides.get(which) else {
                    report.fail(
                        Some(which),
                        format!("{write}"),
                        Some(step.label.clone()),
                        &ProviderError::new(ErrorKind::ReadOnly, "this side is read-only"),
                    );
                    return Ok(false);
                };
                let result = match write {
                    Write::Create { item, key, .. } => {
                        self.add_pending(store, which, step.pair, record.as_ref(), item, key)
                            .await?;
                        pending_key = Some(key.clone());
                        match side.create(item, key).await {
                            Ok(w) => {
                                report.created.bump(which);
                                set_side(&mut record, which, w.id, w.version, w.item, item);
                                Ok(())
                            }
                            Err(e) => {
                                if e.kind() != ErrorKind::Interrupted {
                                    // The create certainly did not land: nothing to resolve.
                                    store.resolve_pending(&self.scope, key, None, None).await?;
                                }
                                Err(e)
                            }
                        }
                    }
                    Write::Update {
                        id,
                        item,
                        changed,
                        expected,
                        ..
                    } => match side.update(id, item, *changed, Some(expected)).await {
                        Ok(w) => {
                            report.updated.bump(which);
                            set_side(&mut record, which, w.id, w.version, w.item, item);
                            Ok(())
                        }
                        Err(e) => Err(e),
                    },
                    Write::Delete { id, expected, .. } => {
                        match side.delete(id, expected.as_ref()).await {
                            Ok(()) => {
                                report.deleted.bump(which);
                                Ok(())
                            }
                            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
                            Err(e) => Err(e),
                        }
                    }
                };
                if let Err(e) = result {
                    let stop = e.kind() == ErrorKind::Unauthorized;
                    report.fail(
                        Some(which),
                        format!("{write}"),
                        Some(step.label.clone()),
                        &e,
                    );
                    if let (Some(key), true) =
                        (&pending_key, !matches!(write, Write::Create { .. }))
                    {
                        // The create went through; record what we have.
                        store
                            .resolve_pending(&self.scope, key, step.pair, record.as_ref())
                            .await?;
                    }
                    // Refused credentials: stop all traffic, never retry in a loop.
                    return Ok(stop);
                }
            }
            let keep = record.filter(|r| r.raynet.is_some() || r.outlook.is_some());
            match (pending_key, keep, step.pair) {
                (Some(key), keep, pair) => {
                    store
                        .resolve_pending(&self.scope, &key, pair, keep.as_ref())
                        .await?;
                }
                (None, Some(r), pair) => {
                    store.put_pair(&self.scope, pair, &r).await?;
                    if step.writes.is_empty() {
                        report.recorded += 1;
                    }
                }
                (None, None, Some(pair)) => store.remove_pair(&self.scope, pair).await?,
                (None, None, None) => {}
            }
        }
        Ok(false)
    }
}

fn set_side<T: SyncItem>(
    record: &mut Option<crate::state::PairRecord<T>>,
    side: Side,
    id: crate::ids::RemoteId,
    version: crate::ids::Version,
    returned: Option<T>,
    sent: &T,
) {
    if let Some(r) = record.as_mut() {
        *r.side_mut(side) = Some(SideRecord {
            id,
            version,
            base: returned.map_or_else(|| sent.clone(), SyncItem::normalized),
        });
    }
}

/// The version recorded for an item found again by its idempotency key: one that matches no
/// version the side can hold (so that a write expecting it fails as "changed since") while
/// still naming the version it was found at.
fn recovered_version(found: &crate::ids::Version) -> crate::ids::Version {
    crate::ids::Version::new(format!("recovered:{found}")).unwrap_or_else(|_| found.clone())
}

/// Checks the known items a complete listing left out, one lookup each: an item that is
/// really gone becomes an explicit deletion, one that still exists (moved out of the window,
/// say) is added to the read, and one that cannot be checked is left alone. With more absences
/// than `limit` nothing is checked (the mass-deletion guard will speak).
async fn confirm_absences<T: SyncItem>(
    side: &dyn ReadSide<T>,
    read: &mut SideRead<T>,
    state: &StoredState<T>,
    which: Side,
    limit: usize,
    window: Option<crate::provider::Window>,
) {
    // Items last seen outside the window are left alone by the planner: never look them up.
    let in_scope = |r: &&SideRecord<T>| match (window, r.base.span()) {
        (Some(w), Some((start, end))) => w.overlaps(start, end),
        (None, _) | (_, None) => true,
    };
    if read.completeness == Completeness::Delta {
        if let Some(ids) = read.listed_ids.take() {
            // A known item missing from the id listing is marked deleted (then checked below).
            let all: HashSet<&crate::ids::RemoteId> = ids.iter().collect();
            let listed: HashSet<&crate::ids::RemoteId> = read.items.iter().map(|r| &r.id).collect();
            let missing: Vec<crate::ids::RemoteId> = state
                .pairs
                .values()
                .filter_map(|p| p.side(which))
                .filter(in_scope)
                .filter(|r| !all.contains(&r.id) && !listed.contains(&r.id))
                .map(|r| r.id.clone())
                .collect();
            read.deleted.extend(missing);
        }
    }
    let listed: HashSet<&crate::ids::RemoteId> = read.items.iter().map(|r| &r.id).collect();
    let marked: HashSet<&crate::ids::RemoteId> = read.deleted.iter().collect();
    let absent: Vec<crate::ids::RemoteId> = match read.completeness {
        Completeness::Partial => return,
        // Absent from a complete listing: deleted, or moved out of the window.
        Completeness::Complete => state
            .pairs
            .values()
            .filter_map(|p| p.side(which))
            .filter(in_scope)
            .filter(|r| !listed.contains(&r.id))
            .map(|r| r.id.clone())
            .collect(),
        // A delta's removal marker: deleted, or moved out of the window (Graph says both
        // the same way).
        Completeness::Delta => state
            .pairs
            .values()
            .filter_map(|p| p.side(which))
            .filter(in_scope)
            .filter(|r| marked.contains(&r.id) && !listed.contains(&r.id))
            .map(|r| r.id.clone())
            .collect(),
    };
    if absent.is_empty() || absent.len() > limit {
        return;
    }
    let checked: HashSet<crate::ids::RemoteId> = absent.iter().cloned().collect();
    read.deleted.retain(|id| !checked.contains(id));
    let mut confirmed = Vec::new();
    let mut found = Vec::new();
    for id in absent {
        match side.get(&id).await {
            Ok(None) => confirmed.push(id),
            Ok(Some(item)) => found.push(item),
            Err(e) if e.kind() == ErrorKind::NotFound => confirmed.push(id),
            Err(e) => {
                tracing::info!(%which, %id, error = %e, "cannot confirm a deletion; left alone");
            }
        }
    }
    for mut f in found {
        f.item = f.item.normalized();
        read.items.push(f);
    }
    read.deleted.extend(confirmed);
    read.completeness = Completeness::Delta;
}

/// The writable sides of a round (a one-way round has no writable Raynet side).
struct Sides<'a, T: SyncItem> {
    raynet: Option<&'a dyn WriteSide<T>>,
    outlook: &'a dyn WriteSide<T>,
}

impl<'a, T: SyncItem> Sides<'a, T> {
    fn get(&self, side: Side) -> Option<&'a dyn WriteSide<T>> {
        match side {
            Side::Raynet => self.raynet,
            Side::Outlook => Some(self.outlook),
        }
    }
}
