//! Contacts (DESIGN §5): the one-way round that makes a target hold what the source holds,
//! [`plan_replicate`] (any item type) and [`plan_contacts`] (Raynet persons → Outlook contacts).
//!
//! Creates, updates and deletes flow one way; a target edit or deletion of a paired item is
//! overwritten or restored; target items that were never paired are never touched.

use crate::contact::Contact;
use crate::ids::{IdempotencyKey, Side};
use crate::item::SyncItem;
use crate::plan::{Outcome, Plan, Skipped, Step, Write};
use crate::policy::Policy;
use crate::provider::{SideRead, Window};
use crate::rule::StepRule;
use crate::state::{PairRecord, SideRecord, StoredState};

use chrono::{DateTime, Utc};

use super::guard::apply_guard;
use super::keys::{attempt_key, pending_keys, relink_replica};
use super::read::{ReadIndex, SideNow, current, skipped, version_now};

/// Everything the one-way (contacts) planner looks at.
#[derive(Debug)]
pub struct ReplicateInput<'a, T: SyncItem> {
    /// What the store knows of this scope (the source is the pairs' Raynet side).
    pub state: &'a StoredState<T>,
    /// The source's read.
    pub source: &'a SideRead<T>,
    /// The target's read.
    pub target: &'a SideRead<T>,
    /// What the target can hold.
    pub target_profile: &'a T::Profile,
    /// The rules (only the mass-deletion guard applies).
    pub policy: &'a Policy,
    /// The round's clock.
    pub now: DateTime<Utc>,
}

/// Plans a one-way round: the target is made to hold what the source holds (projected on the
/// target's profile). Target edits and deletions of paired items are overwritten and restored;
/// target items that were never paired are left alone.
///
/// Pairs keep the source on their Raynet side and the target on their Outlook side.
#[must_use]
pub fn plan_replicate<T: SyncItem>(input: &ReplicateInput<'_, T>) -> Plan<T> {
    let six = ReadIndex::new(input.source);
    let tix = ReadIndex::new(input.target);
    let mut plan = Plan::default();
    let pending = pending_keys(input.state);

    // Every listing of an id some pair holds counts as paired (`claim`, `mark`): those are not
    // "new" whatever state they are in.
    for (pid, pair) in &input.state.pairs {
        // The label is only worked out for a pair that gets a step.
        let mk = |rule: StepRule, writes: Vec<Write<T>>, outcome: Outcome<T>| {
            Step::on_pair(*pid, pair, rule, writes, outcome)
        };
        let Some(s) = &pair.raynet else {
            // No source: the target copy is an orphan of ours; forget the record.
            if let Some(t) = &pair.outlook {
                tix.mark(&t.id);
            }
            plan.steps
                .push(mk(StepRule::Forgotten, vec![], Outcome::Forget));
            continue;
        };
        let sn = six.state_of(s, true);
        let tn = pair.outlook.as_ref().map(|t| (t, tix.state_of(t, true)));
        match (sn, tn) {
            // Source gone, target gone or never made: forget.
            (SideNow::Deleted, None | Some((_, SideNow::Deleted))) => {
                plan.steps
                    .push(mk(StepRule::DeletedInSource, vec![], Outcome::Forget));
            }
            // Source gone: delete the target copy.
            (
                SideNow::Deleted,
                Some((
                    t,
                    tnow @ (SideNow::Present(_)
                    | SideNow::Unchanged
                    | SideNow::Unknown
                    | SideNow::LeftWindow),
                )),
            ) => plan.steps.push(mk(
                StepRule::DeletedInSource,
                vec![Write::Delete {
                    side: Side::Outlook,
                    id: t.id.clone(),
                    expected: Some(version_now(&tnow, t).clone()),
                }],
                Outcome::Forget,
            )),
            // Source unknown or out of scope: leave it.
            (SideNow::Unknown | SideNow::LeftWindow, _) => {}
            // Source known: make the target hold it.
            (SideNow::Present(_) | SideNow::Unchanged, tn) => {
                let s_cur = current(&sn, s);
                let projected = s_cur.project(input.target_profile);
                let desired = projected.item;
                let source_rec = SideRecord {
                    id: s.id.clone(),
                    version: version_now(&sn, s).clone(),
                    base: s_cur.clone(),
                };
                match tn {
                    // The target copy was deleted (or never made): restore it.
                    None | Some((_, SideNow::Deleted)) => {
                        note_dropped(&mut plan, s, &projected.dropped);
                        plan.steps.push(mk(
                            StepRule::MissingInTarget,
                            vec![Write::Create {
                                side: Side::Outlook,
                                item: desired,
                                key: attempt_key(Side::Raynet, &s.id, input.now),
                            }],
                            Outcome::Record(PairRecord {
                                raynet: Some(source_rec),
                                outlook: None,
                                origin: Side::Raynet,
                            }),
                        ));
                    }
                    Some((_, SideNow::LeftWindow)) => {}
                    Some((
                        t,
                        tnow @ (SideNow::Present(_) | SideNow::Unchanged | SideNow::Unknown),
                    )) => {
                        let t_cur = current(&tnow, t);
                        let diff = desired.diff(t_cur);
                        let record = PairRecord {
                            raynet: Some(source_rec),
                            outlook: Some(SideRecord {
                                id: t.id.clone(),
                                version: version_now(&tnow, t).clone(),
                                base: desired.clone(),
                            }),
                            origin: Side::Raynet,
                        };
                        if diff.is_empty() {
                            if &record != pair {
                                plan.steps.push(mk(
                                    StepRule::VersionsMoved,
                                    vec![],
                                    Outcome::Record(record),
                                ));
                            }
                            continue;
                        }
                        note_dropped(&mut plan, s, &projected.dropped);
                        let rule = if t_cur.diff(&t.base).is_empty() {
                            StepRule::ChangedInSource
                        } else {
                            StepRule::EditedInTarget
                        };
                        plan.steps.push(mk(
                            rule,
                            vec![Write::Update {
                                side: Side::Outlook,
                                id: t.id.clone(),
                                item: desired,
                                before: t_cur.clone(),
                                changed: diff,
                                expected: version_now(&tnow, t).clone(),
                            }],
                            Outcome::Record(record),
                        ));
                    }
                }
            }
        }
    }

    // Target items carrying the sync mark of an unpaired source (a lost state store): link.
    relink_replica(&six, &tix, input.target_profile, &mut plan);

    for s in six.unseen(&Window::everything()) {
        if let Err(e) = s.item.validate() {
            plan.skipped
                .push(skipped(Side::Raynet, s, format!("cannot be synced: {e}")));
            continue;
        }
        let key = IdempotencyKey::for_source(Side::Raynet, &s.id);
        if pending.contains(&key) {
            continue;
        }
        let projected = s.item.project(input.target_profile);
        for d in &projected.dropped {
            plan.skipped
                .push(skipped(Side::Raynet, s, format!("dropped {d}")));
        }
        plan.steps.push(Step::create_new(
            Side::Raynet,
            s,
            StepRule::NewInSource,
            projected.item,
            key,
        ));
    }

    apply_guard(&mut plan, input.state, input.policy);
    plan
}

/// Reports the fields the target cannot hold, dropped from a source item.
fn note_dropped<T: SyncItem>(plan: &mut Plan<T>, s: &SideRecord<T>, dropped: &[String]) {
    for d in dropped {
        plan.skipped.push(Skipped {
            side: Side::Raynet,
            id: s.id.clone(),
            label: s.base.label(),
            reason: format!("dropped {d}"),
        });
    }
}

/// Plans a contacts round (Raynet persons → Outlook contacts). See [`plan_replicate`].
#[must_use]
pub fn plan_contacts(input: &ReplicateInput<'_, Contact>) -> Plan<Contact> {
    plan_replicate(input)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contact::ContactProfile;
    use crate::ids::RemoteId;
    use crate::planner::testutil::{creates, now, one_pair, remote};

    #[test]
    fn a_paired_source_listed_as_unreadable_is_never_new() {
        let person = Contact {
            surname: "Novák".into(),
            ..Contact::default()
        };
        let state = one_pair(person.clone(), person.clone());
        let mut source = SideRead::complete(vec![remote("1", "v1", person.clone())]);
        source
            .unreadable
            .push((RemoteId::new("1").unwrap(), "bad phone".into()));
        let target = SideRead::complete(vec![remote("A", "v1", person)]);
        let plan = plan_contacts(&ReplicateInput {
            state: &state,
            source: &source,
            target: &target,
            target_profile: &ContactProfile::default(),
            policy: &Policy::default(),
            now: now(),
        });
        assert_eq!(
            creates(&plan),
            0,
            "a paired source is never created again: {plan}"
        );
        assert!(
            plan.steps.is_empty(),
            "an unreadable source is left alone: {plan}"
        );
    }
}
