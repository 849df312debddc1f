//! The audit entries of a round ([`AuditEntry`]): one per step whose writes were sent, and one
//! per deletion the round answered without a write. An entry is drafted from the step before
//! its writes go out (the rule, the item's ids, each write with its changed fields from what to
//! what, the pair's conflicts), then completed with what happened: which writes the sides
//! accepted, the ids creates got, the error that stopped it, the pair recorded.

use std::collections::HashMap;

use crate::audit::{AuditConflict, AuditEntry, AuditWrite, FieldChange, WriteAction};
use crate::error::{ProviderError, error_chain};
use crate::ids::{PairId, RemoteId, Side};
use crate::item::{Field, SyncItem};
use crate::plan::{Conflict, Outcome, Step, Write};
use crate::state::{PairRecord, Pairs};

use super::report::RoundReport;

/// What the entries of one round are drafted from: the pairs as the round found them, and the
/// plan's conflicts by pair.
pub(super) struct Trail<'a, T> {
    /// The pairs before the round (the ids a deleted item had).
    pairs: &'a Pairs<T>,
    /// The plan's conflicts, by pair.
    conflicts: HashMap<PairId, Vec<&'a Conflict>>,
}

impl<'a, T: SyncItem> Trail<'a, T> {
    /// The trail of a round that found `pairs` and planned `conflicts`.
    pub(super) fn new(pairs: &'a Pairs<T>, conflicts: &'a [Conflict]) -> Self {
        let mut by_pair: HashMap<PairId, Vec<&Conflict>> = HashMap::new();
        for c in conflicts {
            by_pair.entry(c.pair).or_default().push(c);
        }
        Self {
            pairs,
            conflicts: by_pair,
        }
    }

    /// The draft entry of `step`: empty for a step the trail does not keep (no write, and not
    /// a deletion).
    pub(super) fn draft(&self, step: &Step<T>) -> Draft {
        if step.writes.is_empty() && !step.rule.audited_without_writes() {
            return Draft(None);
        }
        let mut ids = [None, None];
        let before = step.pair.and_then(|p| self.pairs.get(&p));
        let records = [
            before,
            match &step.outcome {
                Outcome::Record(r) => Some(r),
                Outcome::Forget => None,
            },
        ];
        for record in records.into_iter().flatten() {
            for side in [Side::Raynet, Side::Outlook] {
                if let Some(s) = record.side(side) {
                    ids[slot(side)] = Some(s.id.clone());
                }
            }
        }
        let writes = step
            .writes
            .iter()
            .map(|w| {
                let (action, id, changes) = match w {
                    Write::Create { .. } => (WriteAction::Create, None, Vec::new()),
                    Write::Update {
                        id,
                        item,
                        before,
                        changed,
                        ..
                    } => (
                        WriteAction::Update,
                        Some(id.clone()),
                        changed
                            .iter()
                            .map(|f| FieldChange {
                                field: f.name().to_owned(),
                                from: before.field_text(f),
                                to: item.field_text(f),
                            })
                            .collect(),
                    ),
                    Write::Delete { id, .. } => (WriteAction::Delete, Some(id.clone()), Vec::new()),
                };
                if let Some(id) = &id {
                    ids[slot(w.side())] = Some(id.clone());
                }
                AuditWrite {
                    side: w.side(),
                    action,
                    id,
                    changes,
                    done: false,
                }
            })
            .collect();
        let conflicts = step
            .pair
            .and_then(|p| self.conflicts.get(&p))
            .map(|cs| {
                cs.iter()
                    .map(|c| AuditConflict {
                        field: c.field.to_owned(),
                        winner: c.winner,
                        rule: c.rule,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let [raynet_id, outlook_id] = ids;
        Draft(Some(AuditEntry {
            rule: step.rule,
            reason: step.reason.clone(),
            pair: step.pair,
            label: step.label.clone(),
            raynet_id,
            outlook_id,
            writes,
            conflicts,
            error: None,
        }))
    }
}

/// The index of `side` in `[raynet, outlook]`.
fn slot(side: Side) -> usize {
    match side {
        Side::Raynet => 0,
        Side::Outlook => 1,
    }
}

/// An entry being completed while its step runs (empty for a step the trail does not keep).
#[must_use = "a draft is added to the report by `finish`"]
pub(super) struct Draft(Option<AuditEntry>);

impl Draft {
    /// The write at `index` was accepted; a create's item got `id`.
    pub(super) fn done(&mut self, index: usize, id: Option<&RemoteId>) {
        let Some(entry) = &mut self.0 else { return };
        let Some(write) = entry.writes.get_mut(index) else {
            return;
        };
        write.done = true;
        if let Some(id) = id {
            write.id = Some(id.clone());
            match write.side {
                Side::Raynet => entry.raynet_id = Some(id.clone()),
                Side::Outlook => entry.outlook_id = Some(id.clone()),
            }
        }
    }

    /// The step failed with `e` (the writes not marked done were not accepted).
    pub(super) fn fail(&mut self, e: &ProviderError) {
        if let Some(entry) = &mut self.0 {
            entry.error = Some(error_chain(e));
        }
    }

    /// Adds the entry to `report`: the step recorded `pair` (or forgot it) holding `record`.
    pub(super) fn finish<T>(
        self,
        pair: Option<PairId>,
        record: Option<&PairRecord<T>>,
        report: &mut RoundReport,
    ) {
        let Some(mut entry) = self.0 else { return };
        if pair.is_some() {
            entry.pair = pair;
        }
        if let Some(r) = record {
            for side in [Side::Raynet, Side::Outlook] {
                if let Some(s) = r.side(side) {
                    match side {
                        Side::Raynet => entry.raynet_id = Some(s.id.clone()),
                        Side::Outlook => entry.outlook_id = Some(s.id.clone()),
                    }
                }
            }
        }
        report.audit.push(entry);
    }
}
