//! The execute phase: the plan's steps in plan order, each recorded in the store right after
//! its writes succeed. Plain creates and single updates go out in batches where a side takes
//! them (Graph `$batch`); a create is recorded as pending before it is sent (DESIGN §7).
//! Refused credentials stop all traffic; any other failure is reported and retried next round.
//! Each step sent leaves an audit entry ([`super::audit`]) saying which writes were accepted.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{ErrorKind, ProviderError, SyncError};
use crate::ids::{IdempotencyKey, PairId, RemoteId, Scope, Side, Version};
use crate::item::SyncItem;
use crate::plan::{Outcome, Step, Write};
use crate::provider::{UpdateRequest, WriteSide};
use crate::state::{PairRecord, PendingCreate, SideRecord, StateStore};

use super::audit::{Draft, Trail};
use super::report::{Failure, Progress, RoundReport};
use super::sides::Sides;

/// Executes one round's plan for one scope.
pub(super) struct Executor<'a> {
    /// The scope the steps are recorded under.
    pub(super) scope: &'a Scope,
    /// Checked between steps: once set, the round stops.
    pub(super) stop: Option<&'a AtomicBool>,
    /// Told how far the execution is.
    pub(super) progress: Option<&'a Progress>,
}

impl Executor<'_> {
    fn stopping(&self) -> bool {
        self.stop.is_some_and(|f| f.load(Ordering::SeqCst))
    }

    fn tick(&self, done: usize, total: usize) {
        if let Some(p) = self.progress {
            (p.0)(self.scope, done, total);
        }
    }

    /// Runs the plan's steps; stops early when the stop flag is set or credentials are refused.
    pub(super) async fn execute<T: SyncItem>(
        &self,
        steps: Vec<Step<T>>,
        sides: &Sides<'_, T>,
        store: &dyn StateStore<T>,
        trail: &Trail<'_, T>,
        report: &mut RoundReport,
    ) -> Result<(), SyncError> {
        // Plain creates go out in batches where a side takes them (Graph `$batch`); every
        // other step runs on its own, in plan order.
        let mut buffers: [Vec<Step<T>>; 4] = Default::default();
        let total = steps.len();
        let mut done = 0usize;
        for step in steps {
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
                    if self
                        .flush(slot, batch, side, sides, store, trail, report)
                        .await?
                    {
                        return Ok(());
                    }
                }
                continue;
            }
            if self.execute_step(step, sides, store, trail, report).await? {
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
            if !batch.is_empty()
                && self
                    .flush(slot, batch, side, sides, store, trail, report)
                    .await?
            {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Sends a buffered batch: creates (slots 0–1) or updates (slots 2–3). Returns whether all
    /// traffic must stop.
    #[allow(clippy::too_many_arguments)]
    async fn flush<T: SyncItem>(
        &self,
        slot: usize,
        batch: Vec<Step<T>>,
        side: Side,
        sides: &Sides<'_, T>,
        store: &dyn StateStore<T>,
        trail: &Trail<'_, T>,
        report: &mut RoundReport,
    ) -> Result<bool, SyncError> {
        let Some(target) = sides.get(side) else {
            return Ok(false);
        };
        let to = (side, target);
        let drafts = batch.iter().map(|s| trail.draft(s)).collect();
        if slot < 2 {
            self.create_batch(batch, drafts, to, store, report).await
        } else {
            self.update_batch(batch, drafts, to, store, report).await
        }
    }

    /// Sends a batch of single-update steps to one side; each step is recorded right after its
    /// update succeeded. Returns whether all traffic must stop.
    async fn update_batch<T: SyncItem>(
        &self,
        batch: Vec<Step<T>>,
        drafts: Vec<Draft>,
        (which, side): (Side, &dyn WriteSide<T>),
        store: &dyn StateStore<T>,
        report: &mut RoundReport,
    ) -> Result<bool, SyncError> {
        let requests: Vec<UpdateRequest<'_, T>> = batch
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
                ] => Some(UpdateRequest {
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
        for (step, mut audit) in batch.into_iter().zip(drafts) {
            let result = results.next().unwrap_or_else(missing_result);
            let Some(Write::Update { item, .. }) = step.writes.first() else {
                continue;
            };
            match result {
                Ok(w) => {
                    report.updated.bump(which);
                    report.invitations += step.invitation_writes.len();
                    audit.done(0, Some(&w.id));
                    let mut record = into_record(step.outcome);
                    set_side(&mut record, which, w.id, w.version, w.item, item);
                    let pair = match (&record, step.pair) {
                        (Some(r), pair) => Some(store.put_pair(self.scope, pair, r).await?),
                        (None, Some(pair)) => {
                            store.remove_pair(self.scope, pair).await?;
                            Some(pair)
                        }
                        (None, None) => None,
                    };
                    audit.finish(pair, record.as_ref(), report);
                }
                Err(e) => {
                    stop |= fail_batched(report, which, &step.writes, &step.label, &e);
                    audit.fail(&e);
                    audit.finish::<T>(step.pair, None, report);
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
        pair: Option<PairId>,
        record: Option<&PairRecord<T>>,
        item: &T,
        key: &IdempotencyKey,
    ) -> Result<(), SyncError> {
        let record = record.cloned().unwrap_or(PairRecord {
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
        Ok(store.add_pending(self.scope, &pending).await?)
    }

    /// Sends a batch of plain creates to one side; returns whether all traffic must stop.
    async fn create_batch<T: SyncItem>(
        &self,
        batch: Vec<Step<T>>,
        drafts: Vec<Draft>,
        (which, side): (Side, &dyn WriteSide<T>),
        store: &dyn StateStore<T>,
        report: &mut RoundReport,
    ) -> Result<bool, SyncError> {
        let mut items: Vec<(T, IdempotencyKey)> = Vec::with_capacity(batch.len());
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
        let refs: Vec<(&T, &IdempotencyKey)> = items.iter().map(|(i, k)| (i, k)).collect();
        let mut results = side.create_many(&refs).await.into_iter();
        let mut stop = false;
        for ((step, (item, key)), mut audit) in batch.into_iter().zip(items.iter()).zip(drafts) {
            let result = results.next().unwrap_or_else(missing_result);
            let invitations = step.invitation_writes.len();
            let mut record = into_record(step.outcome);
            match result {
                Ok(w) => {
                    report.created.bump(which);
                    report.invitations += invitations;
                    audit.done(0, Some(&w.id));
                    set_side(&mut record, which, w.id, w.version, w.item, item);
                    let keep = record.filter(|r| r.raynet.is_some() || r.outlook.is_some());
                    let pair = store
                        .resolve_pending(self.scope, key, step.pair, keep.as_ref())
                        .await?;
                    audit.finish(pair.or(step.pair), keep.as_ref(), report);
                }
                Err(e) => {
                    if e.kind() != ErrorKind::Interrupted {
                        store.resolve_pending(self.scope, key, None, None).await?;
                    }
                    stop |= fail_batched(report, which, &step.writes, &step.label, &e);
                    audit.fail(&e);
                    audit.finish::<T>(step.pair, None, report);
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
        trail: &Trail<'_, T>,
        report: &mut RoundReport,
    ) -> Result<bool, SyncError> {
        let mut audit = trail.draft(&step);
        let mut record = into_record(step.outcome);
        let mut pending_key = None;
        for (at, write) in step.writes.iter().enumerate() {
            let which = write.side();
            let Some(side) = sides.get(which) else {
                let e = ProviderError::new(ErrorKind::ReadOnly, "this side is read-only");
                report.fail(
                    Some(which),
                    format!("{write}"),
                    Some(step.label.clone()),
                    &e,
                );
                audit.fail(&e);
                audit.finish::<T>(step.pair, None, report);
                return Ok(false);
            };
            // Ok(whether the write landed).
            let result = match write {
                Write::Create { item, key, .. } => {
                    self.add_pending(store, which, step.pair, record.as_ref(), item, key)
                        .await?;
                    pending_key = Some(key.clone());
                    match side.create(item, key).await {
                        Ok(w) => {
                            report.created.bump(which);
                            audit.done(at, Some(&w.id));
                            set_side(&mut record, which, w.id, w.version, w.item, item);
                            Ok(true)
                        }
                        Err(e) => {
                            if e.kind() != ErrorKind::Interrupted {
                                // The create certainly did not land: nothing to resolve.
                                store.resolve_pending(self.scope, key, None, None).await?;
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
                        audit.done(at, Some(&w.id));
                        set_side(&mut record, which, w.id, w.version, w.item, item);
                        Ok(true)
                    }
                    Err(e) => Err(e),
                },
                Write::Delete { id, expected, .. } => {
                    match side.delete(id, expected.as_ref()).await {
                        Ok(()) => {
                            report.deleted.bump(which);
                            audit.done(at, None);
                            Ok(true)
                        }
                        Err(e) if e.kind() == ErrorKind::NotFound => {
                            // Gone already: what the step wanted (and nobody was mailed).
                            audit.done(at, None);
                            Ok(false)
                        }
                        Err(e) => Err(e),
                    }
                }
            };
            if matches!(result, Ok(true)) && step.invitation_writes.contains(&at) {
                report.invitations += 1;
            }
            if let Err(e) = result {
                let stop = e.kind() == ErrorKind::Unauthorized;
                report.fail(
                    Some(which),
                    format!("{write}"),
                    Some(step.label.clone()),
                    &e,
                );
                audit.fail(&e);
                let mut pair = step.pair;
                if let (Some(key), true) = (&pending_key, !matches!(write, Write::Create { .. })) {
                    // The create went through; record what we have.
                    pair = store
                        .resolve_pending(self.scope, key, step.pair, record.as_ref())
                        .await?
                        .or(pair);
                }
                audit.finish(pair, record.as_ref(), report);
                // Refused credentials: stop all traffic, never retry in a loop.
                return Ok(stop);
            }
        }
        let keep = record.filter(|r| r.raynet.is_some() || r.outlook.is_some());
        let pair = match (pending_key, &keep, step.pair) {
            (Some(key), keep, pair) => store
                .resolve_pending(self.scope, &key, pair, keep.as_ref())
                .await?
                .or(pair),
            (None, Some(r), pair) => {
                let id = store.put_pair(self.scope, pair, r).await?;
                if step.writes.is_empty() {
                    report.recorded += 1;
                }
                Some(id)
            }
            (None, None, Some(pair)) => {
                store.remove_pair(self.scope, pair).await?;
                Some(pair)
            }
            (None, None, None) => None,
        };
        audit.finish(pair, keep.as_ref(), report);
        Ok(false)
    }
}

fn set_side<T: SyncItem>(
    record: &mut Option<PairRecord<T>>,
    side: Side,
    id: RemoteId,
    version: Version,
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

/// What a step records: the pair record, or nothing (the pair is forgotten).
fn into_record<T>(outcome: Outcome<T>) -> Option<PairRecord<T>> {
    match outcome {
        Outcome::Record(r) => Some(r),
        Outcome::Forget => None,
    }
}

/// The result of a request a batch answered no result for.
fn missing_result<W>() -> Result<W, ProviderError> {
    Err(ProviderError::new(
        ErrorKind::Interrupted,
        "the batch answered fewer results than requests",
    ))
}

/// Reports the failed write of a batched step; returns whether all traffic must stop
/// (refused credentials).
fn fail_batched<T: SyncItem>(
    report: &mut RoundReport,
    which: Side,
    writes: &[Write<T>],
    label: &str,
    e: &ProviderError,
) -> bool {
    let what = writes.first().map_or_else(String::new, ToString::to_string);
    report.fail(Some(which), what, Some(label.to_owned()), e);
    e.kind() == ErrorKind::Unauthorized
}
