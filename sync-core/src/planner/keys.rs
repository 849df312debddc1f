//! No duplicates (DESIGN §7): the idempotency keys a create carries, the items found again by
//! them, and the creates a crash left pending.
//!
//! - A create carries [`IdempotencyKey::for_source`] of the item it copies; a re-create after a
//!   deletion gets its own key, and so does every attempt at an Outlook copy ([`attempt_key`]).
//! - With a lost or rebuilt state store, unpaired items carrying the key of an unpaired item on
//!   the other side are linked again instead of copied ([`link_by_key`] for the calendar,
//!   [`relink_replica`] for the one-way round); a key nobody answers to marks a copy or an
//!   orphan, never mirrored again.
//! - Items our own unconfirmed creates may have made are never mirrored back
//!   ([`pending_targets`], [`pending_keys`]).

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};

use crate::event::Event;
use crate::ids::{IdempotencyKey, RemoteId, Side};
use crate::item::SyncItem;
use crate::plan::{Outcome, Plan, Skipped, Step, Write};
use crate::provider::{Remote, Window};
use crate::rule::StepRule;
use crate::state::{PairRecord, SideRecord, StoredState};

use super::calendar_rules::CalendarRules;
use super::read::{ReadIndex, skipped};

/// The key of one attempt at creating a copy of `id` in Outlook (a first copy, or a re-create
/// after the first was deleted): the source's key and the attempt's time. Graph dedupes a
/// create's `transactionId` (our key) for an undocumented time and may answer a later
/// attempt with the earlier, deleted item; so each attempt gets its own key (the round's time
/// in milliseconds: two rounds never share it), while every retry
/// of one attempt reuses it (the pending create holds it), so a lost answer never duplicates.
/// Finding a copy again by its key ([`lookup_key`]) accepts any attempt's key.
pub(super) fn attempt_key(source: Side, id: &RemoteId, now: DateTime<Utc>) -> IdempotencyKey {
    let base = IdempotencyKey::for_source(source, id);
    IdempotencyKey::new(format!(
        "{}-k{}",
        base.as_str(),
        now.timestamp_millis().max(0)
    ))
    .unwrap_or(base)
}

/// Indexes `items` of `side` by the idempotency key a create from each would carry.
fn by_source_key<T>(side: Side, items: &[&Remote<T>]) -> HashMap<String, usize> {
    items
        .iter()
        .enumerate()
        .map(|(i, r)| {
            (
                IdempotencyKey::for_source(side, &r.id).as_str().to_owned(),
                i,
            )
        })
        .collect()
}

/// Finds, among `candidates` (indexed by the key a create from them would carry), the item
/// that `key` points at: the key itself, or a re-create key (`<key>-k<digits>`).
fn lookup_key<'m>(by_key: &'m HashMap<String, usize>, key: &IdempotencyKey) -> Option<&'m usize> {
    let k = key.as_str();
    by_key.get(k).or_else(|| {
        let at = k.rfind("-k")?;
        let digits = &k[at + 2..];
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            by_key.get(&k[..at])
        } else {
            None
        }
    })
}

/// One direction of the key linking: each unclaimed item of `from` (on `side`) that carries a
/// key looks for the item of the other side it was created from (`to_by_key`). A match nobody
/// claimed yet is a link (`from`'s index, the other's index); a key nobody answers to marks a
/// copy or an orphan, which is reported and never mirrored (`linked_from`).
fn link_from<'a>(
    side: Side,
    from: &[&'a Remote<Event>],
    to_by_key: &HashMap<String, usize>,
    (claimed_from, claimed_to): (&mut HashSet<usize>, &mut HashSet<usize>),
    linked_from: &mut Vec<&'a RemoteId>,
    plan: &mut Plan<Event>,
) -> Vec<(usize, usize)> {
    let mut links = Vec::new();
    for (i, item) in from.iter().enumerate() {
        let Some(key) = &item.key else { continue };
        if claimed_from.contains(&i) {
            continue;
        }
        claimed_from.insert(i);
        match lookup_key(to_by_key, key) {
            Some(&j) if claimed_to.insert(j) => links.push((i, j)),
            Some(_) | None => {
                linked_from.push(&item.id);
                plan.skipped.push(foreign_mark(side, item, key));
            }
        }
    }
    links
}

/// Links unpaired items that carry the idempotency key of an unpaired item on the other side
/// (a lost or rebuilt state store), and reports items that carry a key nobody answers to (a
/// copy of a synced item, or an orphan): those are never mirrored again.
pub(super) fn link_by_key<'a>(
    unpaired_r: &[&'a Remote<Event>],
    unpaired_o: &[&'a Remote<Event>],
    rules: &CalendarRules<'_>,
    plan: &mut Plan<Event>,
) -> (Vec<&'a RemoteId>, Vec<&'a RemoteId>) {
    let r_by_key = by_source_key(Side::Raynet, unpaired_r);
    let o_by_key = by_source_key(Side::Outlook, unpaired_o);
    let mut linked_r: Vec<&RemoteId> = Vec::new();
    let mut linked_o: Vec<&RemoteId> = Vec::new();
    let mut claimed_r: HashSet<usize> = HashSet::new();
    let mut claimed_o: HashSet<usize> = HashSet::new();
    // (raynet index, outlook index, origin)
    let mut links: Vec<(usize, usize, Side)> = Vec::new();
    // Outlook items made from Raynet ones first, then the other way round.
    let from_o = link_from(
        Side::Outlook,
        unpaired_o,
        &r_by_key,
        (&mut claimed_o, &mut claimed_r),
        &mut linked_o,
        plan,
    );
    links.extend(from_o.into_iter().map(|(oi, ri)| (ri, oi, Side::Raynet)));
    let claims = (&mut claimed_r, &mut claimed_o);
    let from_r = link_from(
        Side::Raynet,
        unpaired_r,
        &o_by_key,
        claims,
        &mut linked_r,
        plan,
    );
    links.extend(from_r.into_iter().map(|(ri, oi)| (ri, oi, Side::Outlook)));
    links.sort_unstable();
    for (ri, oi, origin) in links {
        let (r, o) = (unpaired_r[ri], unpaired_o[oi]);
        linked_r.push(&r.id);
        linked_o.push(&o.id);
        let (new_r, new_o) = match origin {
            Side::Raynet => (r.item.clone(), rules.to_outlook(&r.item, Side::Raynet)),
            Side::Outlook => {
                let mut src = o.item.clone();
                src.kind = r.item.kind.or_else(|| Some(rules.new_kind(&o.item)));
                let masked = rules.masked(Side::Outlook, &o.item);
                (rules.to_raynet(&src, masked), o.item.clone())
            }
        };
        let mut writes = Vec::new();
        for (side, cur, new) in [(Side::Raynet, r, &new_r), (Side::Outlook, o, &new_o)] {
            let changed = new.diff(&cur.item);
            if !changed.is_empty() {
                writes.push(Write::Update {
                    side,
                    id: cur.id.clone(),
                    item: new.clone(),
                    before: cur.item.clone(),
                    changed,
                    expected: cur.version.clone(),
                });
            }
        }
        plan.steps.push(Step {
            pair: None,
            label: r.item.label(),
            rule: StepRule::Relinked,
            reason: format!("{} ({origin} holds the original)", StepRule::Relinked).into(),
            writes,
            outcome: Outcome::Record(PairRecord {
                raynet: Some(SideRecord {
                    id: r.id.clone(),
                    version: r.version.clone(),
                    base: new_r,
                }),
                outlook: Some(SideRecord {
                    id: o.id.clone(),
                    version: o.version.clone(),
                    base: new_o,
                }),
                origin,
            }),
            invitation_writes: Vec::new(),
        });
    }
    (linked_r, linked_o)
}

/// An unpaired item carrying a key no unpaired item on the other side answers to (or one
/// already answered): a copy of a synced item, or an orphan, left alone.
fn foreign_mark<T: SyncItem>(side: Side, r: &Remote<T>, key: &IdempotencyKey) -> Skipped {
    skipped(
        side,
        r,
        format!("carries the sync mark {key} of another item: a copy, or an orphan"),
    )
}

/// One-way round: links target items carrying the sync mark of an unpaired source (a lost
/// state store), and marks those sources as paired in `six`. A mark whose source is not listed,
/// and a second copy carrying one, are left alone.
pub(super) fn relink_replica<T: SyncItem>(
    six: &ReadIndex<'_, T>,
    tix: &ReadIndex<'_, T>,
    target_profile: &T::Profile,
    plan: &mut Plan<T>,
) {
    let sources = six.unseen(&Window::everything());
    let s_by_key = by_source_key(Side::Raynet, &sources);
    let mut claimed: HashSet<usize> = HashSet::new();
    for t in tix.unseen(&Window::everything()) {
        let Some(key) = &t.key else { continue };
        let Some(&si) = lookup_key(&s_by_key, key) else {
            plan.skipped.push(skipped(
                Side::Outlook,
                t,
                format!("carries the sync mark {key} of a source item not listed: left alone"),
            ));
            continue;
        };
        if !claimed.insert(si) {
            plan.skipped.push(skipped(
                Side::Outlook,
                t,
                format!("a second copy carrying the sync mark {key}: left alone"),
            ));
            continue;
        }
        let s = sources[si];
        six.mark(&s.id);
        let desired = s.item.project(target_profile).item;
        let changed = desired.diff(&t.item);
        let writes = if changed.is_empty() {
            Vec::new()
        } else {
            vec![Write::Update {
                side: Side::Outlook,
                id: t.id.clone(),
                item: desired.clone(),
                before: t.item.clone(),
                changed,
                expected: t.version.clone(),
            }]
        };
        plan.steps.push(Step {
            pair: None,
            label: s.item.label(),
            rule: StepRule::Relinked,
            reason: StepRule::Relinked.phrase().into(),
            writes,
            outcome: Outcome::Record(PairRecord {
                raynet: Some(SideRecord {
                    id: s.id.clone(),
                    version: s.version.clone(),
                    base: s.item.clone(),
                }),
                outlook: Some(SideRecord {
                    id: t.id.clone(),
                    version: t.version.clone(),
                    base: desired,
                }),
                origin: Side::Raynet,
            }),
            invitation_writes: Vec::new(),
        });
    }
}

/// The sides our own unconfirmed creates went to: items there may be ours, so none is mirrored
/// back this round.
pub(super) fn pending_targets<T>(state: &StoredState<T>) -> BTreeSet<Side> {
    state.pending.iter().map(|p| p.target).collect()
}

/// The keys of our unconfirmed creates: a source whose create is pending is not new.
pub(super) fn pending_keys<T>(state: &StoredState<T>) -> BTreeSet<&IdempotencyKey> {
    state.pending.iter().map(|p| &p.key).collect()
}
