//! The calendar rules (DESIGN §4): what each side holds of an event, and which Outlook items
//! reach Raynet at all.
//!
//! | rule (policy key)                                    | where                                 |
//! |------------------------------------------------------|---------------------------------------|
//! | private events, time blocker (`private_events`)      | [`CalendarRules::masked`], `raynet_held`, `to_raynet`, `keeps_out_private`, `outlook_skip_reason`; [`TIME_BLOCKER_TITLE`] |
//! | completed events (`completed_events`)                | [`CalendarRules::frozen`], [`outlook_status_ignored`] |
//! | invited events, claims (`invited_events`, `Member`)  | [`CalendarRules::outlook_skip_reason`] |
//! | Outlook deletions (`outlook_deletes`)                | [`CalendarRules::outlook_deletion`]   |
//! | a new Outlook item's type (`outlook_new_as`)         | [`CalendarRules::new_kind`]           |
//! | attendees or a participant list (`attendees`)        | `lists_participants`, `outlook_held`, `to_outlook`, `carries_to_outlook`; [`PARTICIPANTS_MARKER`], [`strip_participants`] |
//! | the window (`window_days_back`, `window_days_ahead`) | [`event_in_window`], [`outside_stays_outside`] |

use crate::event::{ActivityKind, Attendee, Event, EventField, EventProfile, EventStatus};
use crate::ids::{Side, Version};
use crate::item::{FieldSet, SyncItem};
use crate::plan::{Outcome, Write};
use crate::policy::{
    AttendeeMode, CompletedEvents, InvitedEvents, Member, OutlookDeletes, OutlookNewAs, Policy,
    PrivateEvents,
};
use crate::provider::Window;
use crate::rule::StepRule;
use crate::state::{PairRecord, SideRecord};

use super::read::SideNow;

/// The title a private Outlook event gets in Raynet with `private_events = "time-blocker"`.
pub const TIME_BLOCKER_TITLE: &str = "Time blocker";

/// The line that starts the participant list written into an Outlook body with
/// `attendees = "list"`; everything from it on is ours and never flows back to Raynet.
pub const PARTICIPANTS_MARKER: &str = "-- Raynet participants --";

/// Whether an event overlaps the window.
pub(super) fn event_in_window(e: &Event, w: &Window) -> bool {
    w.overlaps(e.schedule.start_utc(), e.schedule.end_utc())
}

/// An item last seen outside the window and still outside it is out of scope: its changes are
/// not carried over (a side may list it anyway, say an incremental read without a window
/// filter). An item moving into or out of the window is a change like any other.
pub(super) fn outside_stays_outside<'a>(
    now: SideNow<'a, Event>,
    rec: &SideRecord<Event>,
    window: &Window,
) -> SideNow<'a, Event> {
    match now {
        SideNow::Present(cur)
            if !event_in_window(&rec.base, window) && !event_in_window(&cur.item, window) =>
        {
            SideNow::LeftWindow
        }
        other @ (SideNow::Present(_)
        | SideNow::Unchanged
        | SideNow::Unknown
        | SideNow::Deleted
        | SideNow::LeftWindow) => other,
    }
}

/// The calendar rules that shape what each side holds.
pub(super) struct CalendarRules<'a> {
    /// The rules.
    pub(super) policy: &'a Policy,
    /// Whose calendar this is.
    pub(super) member: &'a Member,
    /// What Raynet can hold.
    pub(super) raynet_profile: &'a EventProfile,
    /// What Outlook can hold.
    pub(super) outlook_profile: &'a EventProfile,
}

impl CalendarRules<'_> {
    /// Whether the Raynet copy of an Outlook item must be a time blocker.
    pub(super) fn masked(&self, origin: Side, outlook_item: &Event) -> bool {
        self.policy.private_events == PrivateEvents::TimeBlocker
            && origin == Side::Outlook
            && outlook_item.sensitivity.is_private()
    }

    /// The fields Raynet holds for this pair.
    pub(super) fn raynet_held(&self, masked: bool) -> FieldSet<EventField> {
        let mut held = Event::held_fields(self.raynet_profile);
        if masked {
            for f in [
                EventField::Title,
                EventField::Description,
                EventField::Location,
                EventField::Attendees,
            ] {
                held.remove(f);
            }
        }
        held
    }

    /// Whether Raynet participants go into the Outlook body instead of the attendee list
    /// (only for items that came from Raynet: an Outlook item's own attendees are Outlook's).
    pub(super) fn lists_participants(&self, origin: Side) -> bool {
        self.policy.attendees == AttendeeMode::List && origin == Side::Raynet
    }

    /// The fields Outlook holds for a pair of this origin.
    pub(super) fn outlook_held(&self, origin: Side) -> FieldSet<EventField> {
        let held = Event::held_fields(self.outlook_profile);
        if self.lists_participants(origin) {
            held.without(EventField::Attendees)
        } else {
            held
        }
    }

    /// The item as Raynet will hold it.
    pub(super) fn to_raynet(&self, item: &Event, masked: bool) -> Event {
        let mut out = item.clone();
        out.description = strip_participants(&out.description);
        let mut out = out.project(self.raynet_profile).item;
        if masked {
            TIME_BLOCKER_TITLE.clone_into(&mut out.title);
            out.description.clear();
            out.location.clear();
            out.attendees.clear();
        }
        out
    }

    /// The item as Outlook will hold it; `item`'s attendees are the Raynet participants when
    /// they are listed in the body.
    pub(super) fn to_outlook(&self, item: &Event, origin: Side) -> Event {
        let mut out = item.project(self.outlook_profile).item;
        if self.lists_participants(origin) {
            let base = strip_participants(&out.description);
            out.description = with_participants(&base, &out.attendees);
            out.attendees.clear();
            out = out.normalized();
        }
        out
    }

    /// Why an unpaired Outlook item must not reach Raynet, if it must not.
    pub(super) fn outlook_skip_reason(&self, o: &Event) -> Option<String> {
        if o.status == EventStatus::Cancelled {
            return Some("cancelled in Outlook before it was ever synced".into());
        }
        if o.sensitivity.is_private() && self.policy.private_events == PrivateEvents::Skip {
            return Some("private event (private_events = \"skip\")".into());
        }
        if let Some(uid) = &o.global_id {
            if self.member.claimed_elsewhere.contains(uid) {
                return Some(
                    "the same meeting is already synced from another member's calendar".into(),
                );
            }
        }
        if let Some(org) = &o.organizer {
            if let Some(email) = &org.email {
                if !self.member.emails.contains(email) {
                    if self.member.served.contains(email) {
                        return Some(format!(
                            "organised by {email}, who is served: synced from their calendar"
                        ));
                    }
                    if self.policy.invited_events == InvitedEvents::Skip {
                        return Some(format!(
                            "organised by {email}, not a served member \
                             (invited_events = \"skip\")"
                        ));
                    }
                    // The same meeting sits in every invited member's mailbox: it becomes one
                    // Raynet record, owned by the first served attendee (by address).
                    let first_served = o
                        .attendees
                        .iter()
                        .map(|a| &a.email)
                        .filter(|e| self.member.served.contains(*e))
                        .min();
                    if let Some(first) = first_served {
                        if !self.member.emails.contains(first) {
                            return Some(format!(
                                "invitation also sent to {first}: synced from their calendar"
                            ));
                        }
                    }
                }
            }
        }
        None
    }

    /// The Raynet type of a new Outlook item.
    pub(super) fn new_kind(&self, o: &Event) -> ActivityKind {
        match self.policy.outlook_new_as {
            OutlookNewAs::Event => ActivityKind::Event,
            OutlookNewAs::Meeting => ActivityKind::Meeting,
            OutlookNewAs::Auto => {
                if o.attendees
                    .iter()
                    .any(|a| !self.member.is_internal(&a.email))
                {
                    ActivityKind::Meeting
                } else {
                    ActivityKind::Event
                }
            }
        }
    }

    /// Whether a pair's private Outlook item stays out of Raynet entirely
    /// (`private_events = "skip"`; only items that came from Outlook).
    pub(super) fn keeps_out_private(&self, origin: Side, outlook_item: &Event) -> bool {
        origin == Side::Outlook
            && outlook_item.sensitivity.is_private()
            && self.policy.private_events == PrivateEvents::Skip
    }

    /// A meeting completed in Raynet and still completed, with `completed_events = "stop"`: its
    /// later Raynet changes no longer reach Outlook, and no Outlook edit overwrites it.
    pub(super) fn frozen(&self, r_base: &Event, r_cur: &Event) -> bool {
        self.policy.completed_events == CompletedEvents::Stop
            && r_base.status == EventStatus::Completed
            && r_cur.status == EventStatus::Completed
    }

    /// Whether a Raynet value of `field` goes to Outlook: listed participants never become
    /// attendees of an Outlook item.
    pub(super) fn carries_to_outlook(&self, field: EventField, origin: Side) -> bool {
        !(field == EventField::Attendees && self.policy.attendees == AttendeeMode::List)
            || self.lists_participants(origin)
    }

    /// What the Raynet record of a pair whose Outlook event was deleted becomes
    /// (`outlook_deletes`), when no Raynet edit wins over the deletion: the step's rule,
    /// writes and outcome. `r_cur` and `r_version` are the record's item and version now.
    pub(super) fn outlook_deletion(
        &self,
        r: &SideRecord<Event>,
        r_cur: &Event,
        r_version: &Version,
        origin: Side,
    ) -> (StepRule, Vec<Write<Event>>, Outcome<Event>) {
        let detached = |base: Event| {
            Outcome::Record(PairRecord {
                raynet: Some(SideRecord {
                    id: r.id.clone(),
                    version: r_version.clone(),
                    base,
                }),
                outlook: None,
                origin,
            })
        };
        match self.policy.outlook_deletes {
            OutlookDeletes::Delete => (
                StepRule::DeletedInOutlookDelete,
                vec![Write::Delete {
                    side: Side::Raynet,
                    id: r.id.clone(),
                    expected: Some(r_version.clone()),
                }],
                Outcome::Forget,
            ),
            OutlookDeletes::Cancel => {
                if r_cur.status == EventStatus::Scheduled {
                    let mut cancelled = r_cur.clone();
                    cancelled.status = EventStatus::Cancelled;
                    (
                        StepRule::DeletedInOutlookCancel,
                        vec![Write::Update {
                            side: Side::Raynet,
                            id: r.id.clone(),
                            item: cancelled.clone(),
                            before: r_cur.clone(),
                            changed: FieldSet::of(&[EventField::Status]),
                            expected: r_version.clone(),
                        }],
                        detached(cancelled),
                    )
                } else {
                    // Already completed or cancelled: keep it as it is, unlinked.
                    (
                        StepRule::DeletedInOutlookKeptClosed,
                        vec![],
                        detached(r_cur.clone()),
                    )
                }
            }
            OutlookDeletes::Ignore => (
                StepRule::DeletedInOutlookIgnored,
                vec![],
                detached(r_cur.clone()),
            ),
        }
    }
}

/// Whether Outlook's status is ignored for a meeting completed in Raynet (before or now):
/// Outlook cannot say "completed", so its "scheduled" never reopens the meeting. A
/// cancellation in Outlook still cancels it.
pub(super) fn outlook_status_ignored(r_base: &Event, r_cur: &Event, o_cur: &Event) -> bool {
    (r_cur.status == EventStatus::Completed || r_base.status == EventStatus::Completed)
        && o_cur.status != EventStatus::Cancelled
}

/// Removes the participant list we append to Outlook bodies with `attendees = "list"`.
#[must_use]
pub fn strip_participants(description: &str) -> String {
    match description.find(PARTICIPANTS_MARKER) {
        Some(at) => description[..at].trim_end().to_owned(),
        None => description.to_owned(),
    }
}

/// Appends the participant list (`attendees = "list"`) to a body.
fn with_participants(description: &str, attendees: &[Attendee]) -> String {
    if attendees.is_empty() {
        return description.to_owned();
    }
    let mut out = description.to_owned();
    if !out.is_empty() {
        out.push_str("\n\n");
    }
    out.push_str(PARTICIPANTS_MARKER);
    for a in attendees {
        out.push('\n');
        if a.name.is_empty() {
            out.push_str(a.email.as_str());
        } else {
            out.push_str(&a.name);
            out.push_str(" <");
            out.push_str(a.email.as_str());
            out.push('>');
        }
    }
    out
}
