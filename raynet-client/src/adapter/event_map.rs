//! Calendar mapping: a RAYNET meeting or event ⇄ the engine's [`Event`]
//! ([`activity_to_core`]; [`event_to_new_activity`], [`event_to_update`] and
//! [`participant_changes`] for the way back, as create and partial-update bodies).

use chrono_tz::Tz;
use sync_core::{
    ActivityKind, Attendee, Email, Event, EventField, EventStatus, FieldSet, Response, Sensitivity,
};

use super::error::MapError;
use super::lookup::EmailsByPerson;
use super::time::{schedule_from_core, schedule_to_core};
use crate::client::html::{html_to_text, text_to_html};
use crate::client::models::{
    ActivityStatus, ActivityUpdate, CalendarActivity, NewActivity, Participant, ParticipantChange,
    ParticipantRole, Priority,
};

/// Title written for an event that has none (RAYNET requires one).
pub const UNTITLED: &str = "(no title)";

fn kind_name(kind: ActivityKind) -> &'static str {
    match kind {
        ActivityKind::Meeting => "meeting",
        ActivityKind::Event => "event",
    }
}

/// A meeting or event → the engine's [`Event`].
///
/// Attendees are the non-owner participants whose person has an address in
/// `emails` (or who carry one themselves); others cannot reach Outlook.
/// Unknown statuses read as scheduled.
///
/// # Errors
/// [`MapError`] when the schedule is missing or inverted.
pub fn activity_to_core(
    a: &CalendarActivity,
    kind: ActivityKind,
    tz: &Tz,
    emails: &EmailsByPerson,
) -> Result<Event, MapError> {
    let schedule = schedule_to_core(a.scheduled_from.as_ref(), a.scheduled_till.as_ref(), tz)
        .map_err(|(field, reason)| MapError {
            entity: kind_name(kind),
            id: a.id,
            field,
            reason,
        })?;
    let mut e = Event::new(a.title.clone().unwrap_or_default(), schedule);
    e.description = a
        .description
        .as_deref()
        .map(html_to_text)
        .unwrap_or_default();
    e.location = a.meeting_place.clone().unwrap_or_default();
    e.sensitivity = if a.personal == Some(true) {
        Sensitivity::Private
    } else {
        Sensitivity::Normal
    };
    e.status = match &a.status {
        Some(ActivityStatus::Completed) => EventStatus::Completed,
        Some(ActivityStatus::Cancelled) => EventStatus::Cancelled,
        Some(ActivityStatus::New | ActivityStatus::Scheduled) | None => EventStatus::Scheduled,
        Some(other) => {
            tracing::warn!(id = a.id, status = %other, "unknown raynet status; read as scheduled");
            EventStatus::Scheduled
        }
    };
    e.kind = Some(kind);
    e.attendees = a
        .participants
        .iter()
        .filter(|p| p.owner != Some(true))
        .filter_map(|p| {
            let email = p
                .person
                .as_ref()
                .and_then(|r| emails.get(&r.id).cloned())
                .or_else(|| p.email.as_deref().and_then(|m| Email::new(m).ok()))?;
            let name = p
                .name
                .clone()
                .or_else(|| p.person.as_ref().and_then(|r| r.label().map(str::to_owned)))
                .unwrap_or_default();
            Some(Attendee {
                email,
                name,
                response: Response::None,
            })
        })
        .collect();
    Ok(e)
}

/// The create body for an [`Event`] owned by `owner_person_id`.
///
/// The insert DTO lacks place, privacy, status and participants: send
/// [`event_to_update`] (and [`participant_changes`]) right after the create.
#[must_use]
pub fn event_to_new_activity(e: &Event, owner_person_id: u64, tz: &Tz) -> NewActivity {
    let title = if e.title.trim().is_empty() {
        UNTITLED
    } else {
        e.title.as_str()
    };
    let mut body = NewActivity::new(title, Priority::Default, owner_person_id);
    let (from, till) = schedule_from_core(&e.schedule, tz);
    body.scheduled_from = Some(from);
    body.scheduled_till = Some(till);
    if !e.description.is_empty() {
        body.description = Some(text_to_html(&e.description));
    }
    body
}

/// The partial-update body carrying the `changed` fields of `e` (attendees
/// excepted: see [`participant_changes`]).
#[must_use]
pub fn event_to_update(e: &Event, changed: FieldSet<EventField>, tz: &Tz) -> ActivityUpdate {
    let mut u = ActivityUpdate::default();
    for field in changed.iter() {
        match field {
            EventField::Title => {
                let title = if e.title.trim().is_empty() {
                    UNTITLED
                } else {
                    e.title.as_str()
                };
                u.title = Some(title.to_owned());
            }
            EventField::Description => {
                // An empty text is sent as "" (the edit schema's string), never `null`.
                u.description = Some(if e.description.is_empty() {
                    String::new()
                } else {
                    text_to_html(&e.description)
                });
            }
            EventField::Location => {
                u.meeting_place = Some(e.location.clone());
            }
            EventField::Schedule => {
                let (from, till) = schedule_from_core(&e.schedule, tz);
                u.scheduled_from = Some(from);
                u.scheduled_till = Some(till);
            }
            EventField::Sensitivity => u.personal = Some(e.sensitivity.is_private()),
            EventField::Status => {
                let (status, completed) = match e.status {
                    EventStatus::Scheduled => (ActivityStatus::Scheduled, None),
                    EventStatus::Completed => (
                        ActivityStatus::Completed,
                        Some(schedule_from_core(&e.schedule, tz).1),
                    ),
                    EventStatus::Cancelled => (ActivityStatus::Cancelled, None),
                };
                u.status = Some(status);
                // Re-opening sends the status alone: `completed` is never `null`.
                u.completed = completed;
            }
            // RAYNET holds none of these (see `EventProfile::raynet`); attendees
            // go through `participant_changes`.
            EventField::TimeZone
            | EventField::Kind
            | EventField::Organizer
            | EventField::Attendees
            | EventField::Categories
            | EventField::Series
            | EventField::GlobalId => {}
        }
    }
    u
}

/// The participant diff turning `current` into the owner plus `wanted` person
/// ids: adds missing persons (role `TO`), removes rows of persons no longer
/// wanted, never touches the owner's row or unchanged rows.
#[must_use]
pub fn participant_changes(current: &[Participant], wanted: &[u64]) -> Vec<ParticipantChange> {
    let present: Vec<u64> = current
        .iter()
        .filter_map(|p| p.person.as_ref().map(|r| r.id))
        .collect();
    let mut changes: Vec<ParticipantChange> = current
        .iter()
        .filter(|p| p.owner != Some(true))
        .filter(|p| p.person.as_ref().is_some_and(|r| !wanted.contains(&r.id)))
        .filter_map(|p| p.id.map(ParticipantChange::remove))
        .collect();
    let mut added = Vec::new();
    for id in wanted {
        if !present.contains(id) && !added.contains(id) {
            added.push(*id);
            changes.push(ParticipantChange::add_person(
                *id,
                Some(ParticipantRole::To),
            ));
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapter::rows::version_of;
    use crate::client::models::{ApiDateTime, DetailEnvelope, Ref};
    use crate::testutil::{PRAGUE, local, utc, zoned};
    use chrono::{DateTime, Duration, Utc};
    use sync_core::Schedule;

    fn meeting(from: ApiDateTime, till: ApiDateTime) -> CalendarActivity {
        CalendarActivity {
            id: 9,
            title: Some("M".into()),
            scheduled_from: Some(from),
            scheduled_till: Some(till),
            ..CalendarActivity::default()
        }
    }

    fn timed(a: &CalendarActivity) -> (DateTime<Utc>, DateTime<Utc>) {
        match activity_to_core(a, ActivityKind::Meeting, &PRAGUE, &EmailsByPerson::new())
            .unwrap()
            .schedule
        {
            Schedule::Timed { start, end } => (start, end),
            other @ Schedule::AllDay { .. } => panic!("expected timed, got {other}"),
        }
    }

    /// The UTC span of a meeting from and till naive local times.
    fn local_span(from: &str, till: &str) -> (DateTime<Utc>, DateTime<Utc>) {
        timed(&meeting(local(from), local(till)))
    }

    #[test]
    fn local_times_become_utc_on_both_sides_of_the_march_switch() {
        for ((from, till), (start, end)) in [
            // 28 March: CET (+01:00); 29 March: CEST (+02:00).
            (
                ("2026-03-28 10:00", "2026-03-28 11:00"),
                ("2026-03-28T09:00:00Z", "2026-03-28T10:00:00Z"),
            ),
            (
                ("2026-03-29 10:00", "2026-03-29 11:00"),
                ("2026-03-29T08:00:00Z", "2026-03-29T09:00:00Z"),
            ),
            // Across the switch: 01:30 CET → 03:30 CEST is one hour.
            (
                ("2026-03-29 01:30", "2026-03-29 03:30"),
                ("2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z"),
            ),
        ] {
            assert_eq!(
                local_span(from, till),
                (utc(start), utc(end)),
                "{from} – {till}"
            );
        }
        // 02:30 does not exist on 29 March: moved forward to 03:00 CEST.
        let (s, _) = local_span("2026-03-29 02:30", "2026-03-29 04:00");
        assert_eq!(s, utc("2026-03-29T01:00:00Z"));
    }

    #[test]
    fn local_times_become_utc_on_both_sides_of_the_october_switch() {
        // 02:30 happens twice on 25 October: the earlier (CEST) is taken.
        assert_eq!(
            local_span("2026-10-25 02:30", "2026-10-25 03:00"),
            (utc("2026-10-25T00:30:00Z"), utc("2026-10-25T02:00:00Z"))
        );
        // With offsets (dateFormat=ISO8601) both 02:30s are distinct.
        let (s, e) = timed(&meeting(
            zoned("2026-10-25T02:30:00+02:00"),
            zoned("2026-10-25T02:30:00+01:00"),
        ));
        assert_eq!(e - s, Duration::hours(1));
        let (s, _) = local_span("2026-10-26 10:00", "2026-10-26 11:00");
        assert_eq!(s, utc("2026-10-26T09:00:00Z"));
    }

    #[test]
    fn bad_schedules_name_the_field() {
        let mut m = meeting(local("2026-05-01 10:00"), local("2026-05-01 09:00"));
        let err =
            activity_to_core(&m, ActivityKind::Event, &PRAGUE, &EmailsByPerson::new()).unwrap_err();
        assert_eq!(
            (err.entity, err.id, err.field),
            ("event", 9, "scheduledTill")
        );
        m.scheduled_from = None;
        let err = activity_to_core(&m, ActivityKind::Meeting, &PRAGUE, &EmailsByPerson::new())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot map raynet meeting 9: field `scheduledFrom` is missing"
        );
    }

    #[test]
    fn meeting_fixture_to_core() {
        let env: DetailEnvelope<CalendarActivity> =
            serde_json::from_str(include_str!("../../tests/fixtures/meeting_detail.json")).unwrap();
        let mut emails = EmailsByPerson::new();
        emails.insert(7, Email::new("petr.svoboda@raynet.cz").unwrap());
        let e = activity_to_core(&env.data, ActivityKind::Meeting, &PRAGUE, &emails).unwrap();
        assert_eq!(e.title, "Schůzka s klientem");
        assert_eq!(e.description, "Poznámka\n\"Cena\" & termín");
        assert_eq!(e.location, "Ostrava, Libušina 4");
        assert_eq!(
            e.schedule,
            Schedule::Timed {
                start: utc("2026-03-29T08:00:00Z"),
                end: utc("2026-03-29T09:30:00Z")
            }
        );
        assert_eq!(e.kind, Some(ActivityKind::Meeting));
        assert_eq!(e.status, EventStatus::Scheduled);
        assert_eq!(e.attendees.len(), 1, "the owner is not an attendee");
        assert_eq!(e.attendees[0].email.as_str(), "petr.svoboda@raynet.cz");
        assert_eq!(e.attendees[0].name, "Petr Svoboda");
        assert_eq!(version_of(&env.data.row_info).unwrap().as_str(), "v4");
    }

    #[test]
    fn statuses_and_privacy() {
        let mut m = meeting(local("2026-05-01 10:00"), local("2026-05-01 11:00"));
        for (status, want) in [
            (ActivityStatus::New, EventStatus::Scheduled),
            (ActivityStatus::Completed, EventStatus::Completed),
            (ActivityStatus::Cancelled, EventStatus::Cancelled),
            (
                ActivityStatus::Unknown("POSTPONED".into()),
                EventStatus::Scheduled,
            ),
        ] {
            m.status = Some(status);
            assert_eq!(
                activity_to_core(&m, ActivityKind::Meeting, &PRAGUE, &EmailsByPerson::new())
                    .unwrap()
                    .status,
                want
            );
        }
        m.personal = Some(true);
        let e =
            activity_to_core(&m, ActivityKind::Meeting, &PRAGUE, &EmailsByPerson::new()).unwrap();
        assert_eq!(e.sensitivity, Sensitivity::Private);
    }

    #[test]
    fn event_to_raynet_bodies() {
        let mut e = Event::new(
            "  ",
            Schedule::Timed {
                start: utc("2026-03-29T08:00:00Z"),
                end: utc("2026-03-29T09:00:00Z"),
            },
        );
        e.description = "line 1\n\nline \"3\"".into();
        e.location = "Brno".into();
        e.sensitivity = Sensitivity::Confidential;
        e.status = EventStatus::Completed;
        let new = event_to_new_activity(&e, 5, &PRAGUE);
        let json = serde_json::to_value(&new).unwrap();
        assert_eq!(json["title"], UNTITLED);
        assert_eq!(json["owner"], 5);
        assert_eq!(json["scheduledFrom"], "2026-03-29T10:00:00.000+02:00");
        assert_eq!(
            html_to_text(json["description"].as_str().unwrap()),
            e.description
        );

        let all: FieldSet<EventField> = FieldSet::all();
        let u = serde_json::to_value(event_to_update(&e, all, &PRAGUE)).unwrap();
        assert_eq!(u["meetingPlace"], "Brno");
        assert_eq!(u["personal"], true);
        assert_eq!(u["status"], "COMPLETED");
        assert_eq!(u["completed"], "2026-03-29T11:00:00.000+02:00");
        assert!(
            u.get("participants").is_none(),
            "attendees go through participant_changes"
        );

        let only_title = serde_json::to_value(event_to_update(
            &e,
            FieldSet::of(&[EventField::Title]),
            &PRAGUE,
        ))
        .unwrap();
        assert_eq!(
            only_title,
            serde_json::json!({"title": UNTITLED}),
            "partial: only changed fields"
        );

        e.description.clear();
        e.location.clear();
        let cleared = serde_json::to_value(event_to_update(
            &e,
            FieldSet::of(&[EventField::Description, EventField::Location]),
            &PRAGUE,
        ))
        .unwrap();
        assert_eq!(
            cleared,
            serde_json::json!({"description": "", "meetingPlace": ""}),
            "texts clear with an empty string, never null (the edit schema's type)"
        );
    }

    #[test]
    fn participant_diff() {
        let row = |id: i64, person: u64, owner: bool| Participant {
            id: Some(id),
            owner: Some(owner),
            person: Some(Ref::id(person)),
            ..Participant::default()
        };
        let current = vec![row(1, 100, true), row(2, 7, false), row(3, 8, false)];
        let changes = participant_changes(&current, &[8, 9, 9]);
        let json = serde_json::to_value(&changes).unwrap();
        assert_eq!(
            json,
            serde_json::json!([{"id": -2}, {"person": 9, "role": "TO"}])
        );
        assert!(
            participant_changes(&current, &[7, 8]).is_empty(),
            "nothing to change"
        );
    }
}
