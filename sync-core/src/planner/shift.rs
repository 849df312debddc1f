//! The mass time-shift guard (DESIGN §7): a round that would move more than a set share of a
//! member's paired events on one side by one and the same offset stops and reports instead —
//! the signature of a time-zone or daylight-saving bug (every event an hour off, or off by the
//! difference between two zones' UTC offsets), never of people's edits. Like the
//! mass-deletion guard ([`super::guard`]) its verdict is the plan's [`Plan::guard`], and the
//! runner executes nothing of a plan that tripped it.
//!
//! Only updates that shift an event count: its start and its end move by the same offset
//! (a changed duration, or a change between timed and all-day, is an edit, not a shift).
//! Events are counted as people edit them: the occurrences of one recurring series count as
//! one, in the moved events and in the paired ones alike.

use std::collections::{BTreeMap, BTreeSet};

use chrono::TimeDelta;

use crate::event::{Event, EventField, Schedule};
use crate::ids::{PairId, Side};
use crate::plan::{GuardTrip, Plan, Write};
use crate::policy::Policy;
use crate::state::{PairRecord, StoredState};

/// What one event counts as: its recurring series (all occurrences are one edit), or itself.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum EditUnit {
    /// A recurring series, by its master's id.
    Series(String),
    /// A single event, by its pair.
    Pair(PairId),
}

/// The unit of the pair `id`: its series when either side's base is an occurrence.
fn unit_of(id: PairId, pair: &PairRecord<Event>) -> EditUnit {
    [&pair.outlook, &pair.raynet]
        .into_iter()
        .flatten()
        .find_map(|r| r.base.series.as_ref())
        .map_or(EditUnit::Pair(id), |s| {
            EditUnit::Series(s.series_id.clone())
        })
}

/// How far an update moves an event, when it shifts it: start and end by the same non-zero
/// offset, the kind of schedule unchanged.
#[must_use]
pub(super) fn shift_of(before: &Schedule, after: &Schedule) -> Option<TimeDelta> {
    let offset = match (before, after) {
        (Schedule::Timed { start: s0, end: e0 }, Schedule::Timed { start: s1, end: e1 }) => {
            (*s1 - *s0 == *e1 - *e0).then(|| *s1 - *s0)
        }
        (Schedule::AllDay { start: s0, end: e0 }, Schedule::AllDay { start: s1, end: e1 }) => {
            (*s1 - *s0 == *e1 - *e0).then(|| *s1 - *s0)
        }
        (Schedule::Timed { .. }, Schedule::AllDay { .. })
        | (Schedule::AllDay { .. }, Schedule::Timed { .. }) => None,
    }?;
    (offset != TimeDelta::zero()).then_some(offset)
}

/// Sets the plan's guard verdict when its updates would move more of a side's paired events
/// by one offset than the policy allows (`policy.shift_guard`). A verdict already given (the
/// mass-deletion guard's) stands.
pub(super) fn apply_shift_guard(
    plan: &mut Plan<Event>,
    state: &StoredState<Event>,
    policy: &Policy,
) {
    if plan.guard.is_some() || policy.shift_guard.allow {
        return;
    }
    // (side, offset) → the units moved by it.
    let mut moved: BTreeMap<(Side, TimeDelta), BTreeSet<EditUnit>> = BTreeMap::new();
    for step in &plan.steps {
        let Some(pid) = step.pair else { continue };
        let Some(pair) = state.pairs.get(&pid) else {
            continue;
        };
        for w in &step.writes {
            let Write::Update {
                side,
                item,
                before,
                changed,
                ..
            } = w
            else {
                continue;
            };
            if !changed.contains(EventField::Schedule) {
                continue;
            }
            if let Some(offset) = shift_of(&before.schedule, &item.schedule) {
                moved
                    .entry((*side, offset))
                    .or_default()
                    .insert(unit_of(pid, pair));
            }
        }
    }
    // Only offsets that moved more events than the floor can trip the guard; the paired
    // events of a side are counted once, and only when one does.
    let floor = policy.shift_guard.floor;
    let mut paired_on: BTreeMap<Side, usize> = BTreeMap::new();
    let mut worst: Option<GuardTrip> = None;
    for ((side, offset), units) in moved.into_iter().filter(|(_, u)| u.len() > floor) {
        let paired = *paired_on.entry(side).or_insert_with(|| {
            state
                .pairs
                .iter()
                .filter(|(_, p)| p.side(side).is_some())
                .map(|(id, p)| unit_of(*id, p))
                .collect::<BTreeSet<EditUnit>>()
                .len()
        });
        if !policy.shift_guard.trips(units.len(), paired) {
            continue;
        }
        let bigger = match &worst {
            Some(GuardTrip::TimeShift { moved, .. }) => units.len() > *moved,
            Some(GuardTrip::MassDeletion { .. }) | None => true,
        };
        if bigger {
            worst = Some(GuardTrip::TimeShift {
                side,
                moved: units.len(),
                paired,
                offset,
                max_share: policy.shift_guard.max_share,
            });
        }
    }
    plan.guard = worst;
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone, Utc};

    fn timed(h0: u32, h1: u32) -> Schedule {
        Schedule::Timed {
            start: Utc.with_ymd_and_hms(2026, 3, 1, h0, 0, 0).unwrap(),
            end: Utc.with_ymd_and_hms(2026, 3, 1, h1, 0, 0).unwrap(),
        }
    }

    #[test]
    fn a_shift_moves_start_and_end_alike() {
        assert_eq!(
            shift_of(&timed(9, 10), &timed(10, 11)),
            Some(TimeDelta::hours(1))
        );
        assert_eq!(
            shift_of(&timed(9, 10), &timed(8, 9)),
            Some(TimeDelta::hours(-1))
        );
        assert_eq!(
            shift_of(&timed(9, 10), &timed(9, 11)),
            None,
            "a longer meeting"
        );
        assert_eq!(shift_of(&timed(9, 10), &timed(9, 10)), None, "no move");
        let day = |d| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
        let all_day = |a, b| Schedule::AllDay {
            start: day(a),
            end: day(b),
        };
        assert_eq!(
            shift_of(&all_day(1, 2), &all_day(2, 3)),
            Some(TimeDelta::days(1))
        );
        assert_eq!(shift_of(&all_day(1, 2), &timed(9, 10)), None);
    }
}
