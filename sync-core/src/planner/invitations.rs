//! The invitation-storm guard (DESIGN §7): the writes that make Exchange mail attendees are
//! capped per member and round (`policy.max_invitations`). The steps over the cap are taken
//! out of the plan and listed in [`Plan::deferred`]: they are planned again next round (the
//! runner keeps the read cursors where they were), so a mass change never sends hundreds of
//! mails at once and nothing is lost.
//!
//! Which Outlook writes mail attendees (Graph's event docs; Exchange mails a meeting update
//! when an organiser's meeting changes its time, place, subject or body, and invites or
//! cancels attendees added or removed — as the fake Graph server models it):
//! - creating an event with attendees (an invitation each);
//! - an update of an event with attendees that changes its schedule, place, title,
//!   description or attendees (a meeting update);
//! - deleting an event with attendees (a cancellation).
//!
//! Raynet writes never mail anyone.

use crate::event::{Event, EventField};
use crate::ids::Side;
use crate::plan::{Deferred, Plan, Step, Write};
use crate::policy::Policy;
use crate::state::StoredState;

/// The fields whose change makes Exchange mail the attendees.
const MAILING_FIELDS: [EventField; 5] = [
    EventField::Schedule,
    EventField::Location,
    EventField::Title,
    EventField::Description,
    EventField::Attendees,
];

/// Whether `write` (of a step on an existing pair whose Outlook base is `outlook_base`) makes
/// Exchange mail attendees.
#[must_use]
pub(super) fn mails_attendees(write: &Write<Event>, outlook_base: Option<&Event>) -> bool {
    match write {
        Write::Create { side, item, .. } => *side == Side::Outlook && !item.attendees.is_empty(),
        Write::Update {
            side,
            item,
            before,
            changed,
            ..
        } => {
            *side == Side::Outlook
                && (!item.attendees.is_empty() || !before.attendees.is_empty())
                && MAILING_FIELDS.iter().any(|f| changed.contains(*f))
        }
        Write::Delete { side, .. } => {
            *side == Side::Outlook && outlook_base.is_some_and(|b| !b.attendees.is_empty())
        }
    }
}

/// Marks each step's writes that mail attendees, then keeps the steps in plan order until the
/// cap is reached; the steps beyond it go to [`Plan::deferred`].
pub(super) fn apply_invitation_cap(
    plan: &mut Plan<Event>,
    state: &StoredState<Event>,
    policy: &Policy,
) {
    for step in &mut plan.steps {
        let base = step
            .pair
            .and_then(|p| state.pairs.get(&p))
            .and_then(|p| p.outlook.as_ref())
            .map(|r| &r.base);
        step.invitation_writes = step
            .writes
            .iter()
            .enumerate()
            .filter(|(_, w)| mails_attendees(w, base))
            .map(|(at, _)| at)
            .collect();
    }
    let cap = policy.max_invitations;
    // A plan a guard stopped writes nothing: nothing to hold back.
    if cap == 0 || plan.guard.is_some() || plan.invitations() <= cap {
        return;
    }
    let mut sent = 0usize;
    let steps = std::mem::take(&mut plan.steps);
    let mut kept: Vec<Step<Event>> = Vec::with_capacity(steps.len());
    for step in steps {
        let n = step.invitation_writes.len();
        if n == 0 || sent + n <= cap {
            sent += n;
            kept.push(step);
        } else {
            plan.deferred.push(Deferred {
                pair: step.pair,
                label: step.label.clone(),
                invitations: n,
            });
        }
    }
    plan.steps = kept;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Attendee, Response, Schedule};
    use crate::ids::{IdempotencyKey, RemoteId, Version};
    use crate::item::FieldSet;
    use chrono::{TimeZone, Utc};

    fn event(attendees: bool) -> Event {
        let start = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
        let mut e = Event::new(
            "Review",
            Schedule::Timed {
                start,
                end: start + chrono::Duration::hours(1),
            },
        );
        if attendees {
            e.attendees = vec![Attendee {
                email: "karel@customer.example".parse().unwrap(),
                name: "Karel".into(),
                response: Response::None,
            }];
        }
        e
    }

    fn update(side: Side, field: EventField, attendees: bool) -> Write<Event> {
        Write::Update {
            side,
            id: RemoteId::new("o1").unwrap(),
            item: event(attendees),
            before: event(attendees),
            changed: FieldSet::of(&[field]),
            expected: Version::new("v1").unwrap(),
        }
    }

    #[test]
    fn which_writes_mail_attendees() {
        let key = IdempotencyKey::for_source(Side::Raynet, &RemoteId::new("1").unwrap());
        let create = |side, attendees| Write::Create {
            side,
            item: event(attendees),
            key: key.clone(),
        };
        assert!(mails_attendees(&create(Side::Outlook, true), None));
        assert!(!mails_attendees(&create(Side::Outlook, false), None));
        assert!(
            !mails_attendees(&create(Side::Raynet, true), None),
            "raynet never mails"
        );
        assert!(mails_attendees(
            &update(Side::Outlook, EventField::Schedule, true),
            None
        ));
        assert!(mails_attendees(
            &update(Side::Outlook, EventField::Location, true),
            None
        ));
        assert!(mails_attendees(
            &update(Side::Outlook, EventField::Attendees, true),
            None
        ));
        assert!(mails_attendees(
            &update(Side::Outlook, EventField::Description, true),
            None
        ));
        assert!(mails_attendees(
            &update(Side::Outlook, EventField::Title, true),
            None
        ));
        assert!(
            !mails_attendees(&update(Side::Outlook, EventField::Categories, true), None),
            "new categories mail nobody"
        );
        assert!(!mails_attendees(
            &update(Side::Outlook, EventField::Schedule, false),
            None
        ));
        assert!(!mails_attendees(
            &update(Side::Raynet, EventField::Schedule, true),
            None
        ));
        let delete = Write::Delete {
            side: Side::Outlook,
            id: RemoteId::new("o1").unwrap(),
            expected: None,
        };
        assert!(
            mails_attendees(&delete, Some(&event(true))),
            "a cancellation"
        );
        assert!(!mails_attendees(&delete, Some(&event(false))));
        assert!(!mails_attendees(&delete, None));
    }
}
