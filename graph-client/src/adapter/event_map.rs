//! Graph event ⇄ [`sync_core::Event`]: the pure mappings of events, both ways, and the body
//! of a `PATCH` holding only the changed fields.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use sync_core::{Event, EventField, FieldSet};

use super::error::MapError;
use super::keys::version_of;
use super::time::{instant, parse_local};
use crate::client::models::{
    self, Attendee, AttendeeType, DateTimeTimeZone, EventType, ItemBody, Location, ResponseStatus,
    ResponseType,
};
use crate::client::zones;

/// The schedule of a Graph event: all-day events keep the date part of `dateTime` (never
/// converted through a zone); timed events are read in their `timeZone`.
pub fn schedule_of(event: &models::Event) -> Result<sync_core::Schedule, MapError> {
    let start = event.start.as_ref().ok_or(MapError::Missing("start"))?;
    let end = event.end.as_ref().ok_or(MapError::Missing("end"))?;
    if event.is_all_day == Some(true) {
        let s = parse_local("start", &start.date_time)?.date();
        let mut e = parse_local("end", &end.date_time)?.date();
        if e <= s {
            e = s.succ_opt().unwrap_or(s);
        }
        return Ok(sync_core::Schedule::AllDay { start: s, end: e });
    }
    Ok(sync_core::Schedule::Timed {
        start: instant("start", start)?,
        end: instant("end", end)?,
    })
}

/// Plain text of an HTML body (tags dropped, common entities decoded, paragraphs kept).
#[must_use]
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    let mut tag = String::new();
    for c in html.chars() {
        match (in_tag, c) {
            (false, '<') => {
                in_tag = true;
                tag.clear();
            }
            (true, '>') => {
                in_tag = false;
                let name = tag
                    .trim_start_matches('/')
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_ascii_lowercase();
                if matches!(name.as_str(), "br" | "br/" | "p" | "div" | "li" | "tr")
                    && !out.ends_with('\n')
                    && !out.is_empty()
                {
                    out.push('\n');
                }
            }
            (true, c) => tag.push(c),
            (false, c) => out.push(c),
        }
    }
    out.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn response(r: Option<&ResponseStatus>) -> sync_core::Response {
    match r.and_then(|s| s.response.as_ref()) {
        Some(ResponseType::Organizer) => sync_core::Response::Organizer,
        Some(ResponseType::Accepted) => sync_core::Response::Accepted,
        Some(ResponseType::TentativelyAccepted) => sync_core::Response::Tentative,
        Some(ResponseType::Declined) => sync_core::Response::Declined,
        Some(ResponseType::NotResponded) => sync_core::Response::NotResponded,
        _ => sync_core::Response::None,
    }
}

fn sensitivity(s: Option<&models::Sensitivity>) -> sync_core::Sensitivity {
    match s {
        Some(models::Sensitivity::Personal) => sync_core::Sensitivity::Personal,
        Some(models::Sensitivity::Private) => sync_core::Sensitivity::Private,
        Some(models::Sensitivity::Confidential) => sync_core::Sensitivity::Confidential,
        _ => sync_core::Sensitivity::Normal,
    }
}

/// Completes a sparse occurrence from calendar-view delta with its series master's fields
/// (subject, body, location, attendees, organizer, categories, sensitivity, show-as). The
/// occurrence's own id, times, type and ETag stay, and so does its `iCalUId` (each occurrence
/// has its own).
#[must_use]
pub fn fill_from_master(occurrence: &models::Event, master: &models::Event) -> models::Event {
    let mut e = occurrence.clone();
    macro_rules! fill {
        ($($f:ident),+) => { $( if e.$f.is_none() { e.$f.clone_from(&master.$f); } )+ };
    }
    fill!(
        subject,
        body,
        body_preview,
        location,
        attendees,
        organizer,
        is_organizer,
        categories,
        sensitivity,
        show_as,
        importance,
        is_all_day,
        original_start_time_zone,
        original_end_time_zone
    );
    e
}

/// The prefix Exchange puts before the subject of a meeting in an attendee's calendar once
/// the organiser cancelled it (English mailboxes; other languages use their own word).
pub(crate) const CANCELED_PREFIX: &str = "Canceled: ";

/// An event's title: its subject, without the [`CANCELED_PREFIX`] Exchange adds to an
/// attendee's cancelled copy (the cancellation is the event's status, not part of its title).
fn title_of(event: &models::Event) -> String {
    let subject = event.subject.clone().unwrap_or_default();
    if event.is_cancelled == Some(true) && event.is_organizer == Some(false) {
        if let Some(title) = subject.strip_prefix(CANCELED_PREFIX) {
            return title.to_owned();
        }
    }
    subject
}

/// A Graph event as the engine's [`sync_core::Event`] (normalized).
///
/// # Errors
/// [`MapError`] naming the field when start or end are missing or unreadable.
pub fn event_to_core(event: &models::Event) -> Result<sync_core::Event, MapError> {
    use sync_core::SyncItem;
    let mut out = sync_core::Event::new(title_of(event), schedule_of(event)?);
    out.description = match &event.body {
        Some(b) if b.content_type == models::BodyType::Html => html_to_text(&b.content),
        Some(b) => b.content.clone(),
        None => String::new(),
    };
    out.location = event
        .location
        .as_ref()
        .and_then(|l| l.display_name.clone())
        .unwrap_or_default();
    out.time_zone = event.original_start_time_zone.as_deref().and_then(|z| {
        zones::windows_to_iana(z)
            .map(str::to_owned)
            .or_else(|| z.parse::<chrono_tz::Tz>().ok().map(|_| z.to_owned()))
    });
    out.sensitivity = sensitivity(event.sensitivity.as_ref());
    if event.is_cancelled == Some(true) {
        out.status = sync_core::EventStatus::Cancelled;
    }
    out.organizer = event
        .organizer
        .as_ref()
        .and_then(|o| o.email_address.as_ref())
        .map(|a| sync_core::Organizer {
            email: a
                .address
                .as_deref()
                .and_then(|x| sync_core::Email::new(x).ok()),
            name: a.name.clone().unwrap_or_default(),
        });
    out.attendees = event
        .attendees
        .iter()
        .flatten()
        .filter(|a| a.kind != Some(AttendeeType::Resource))
        .filter_map(|a| {
            let addr = a.email_address.as_ref()?;
            Some(sync_core::Attendee {
                email: sync_core::Email::new(addr.address.as_deref()?).ok()?,
                name: addr.name.clone().unwrap_or_default(),
                response: response(a.status.as_ref()),
            })
        })
        .collect();
    out.categories = event.categories.clone().unwrap_or_default();
    if matches!(
        event.kind,
        Some(EventType::Occurrence | EventType::Exception)
    ) {
        if let (Some(series), Some(original)) = (&event.series_master_id, &event.original_start) {
            let original = DateTime::parse_from_rfc3339(original)
                .map(|d| d.with_timezone(&Utc))
                .or_else(|_| parse_local("originalStart", original).map(|l| l.and_utc()))
                .map_err(|_| MapError::BadDateTime {
                    field: "originalStart",
                    value: original.clone(),
                })?;
            out.series = Some(sync_core::SeriesRef {
                series_id: series.clone(),
                original_start: original,
            });
        }
    }
    // Each occurrence has its own iCalUId, but sparse delta items do not carry it: leave it out
    // for plain occurrences so that every read path gives the same item.
    if event.kind != Some(EventType::Occurrence) {
        out.global_id.clone_from(&event.ical_uid);
    }
    Ok(out.normalized())
}

/// A Graph event as an engine [`sync_core::Remote`]: id, version (`changeKey`, else the ETag),
/// modification time and the idempotency key found in the extended property `link_property`
/// (present only when the read expanded it).
///
/// # Errors
/// [`MapError`] for a missing id or version, or an unmappable event.
pub fn event_remote(
    event: &models::Event,
    link_property: &str,
) -> Result<sync_core::Remote<sync_core::Event>, MapError> {
    let id = sync_core::RemoteId::new(event.id.clone().ok_or(MapError::Missing("id"))?)?;
    let version = version_of(event.change_key.as_deref(), event.etag.as_deref())
        .ok_or(MapError::Missing("changeKey"))?;
    Ok(sync_core::Remote {
        id,
        version: sync_core::Version::new(version)?,
        modified: event
            .last_modified_date_time
            .as_deref()
            .and_then(|m| DateTime::parse_from_rfc3339(m).ok())
            .map(|d| d.with_timezone(&Utc)),
        item: event_to_core(event)?,
        key: event
            .extended_property(link_property)
            .and_then(|k| sync_core::IdempotencyKey::new(k).ok()),
    })
}

fn midnight(date: NaiveDate) -> DateTimeTimeZone {
    DateTimeTimeZone::new(
        date.and_time(NaiveTime::MIN)
            .format("%Y-%m-%dT%H:%M:%S.0000000")
            .to_string(),
        "UTC",
    )
}

fn sensitivity_to_graph(s: sync_core::Sensitivity) -> models::Sensitivity {
    match s {
        sync_core::Sensitivity::Personal => models::Sensitivity::Personal,
        sync_core::Sensitivity::Private => models::Sensitivity::Private,
        sync_core::Sensitivity::Confidential => models::Sensitivity::Confidential,
        sync_core::Sensitivity::Normal => models::Sensitivity::Normal,
    }
}

/// A Graph event body for a create or a full update from the engine's event. Times are
/// written in UTC (all-day events as midnight-to-midnight dates with `isAllDay`). Attendees
/// are written only with `with_attendees` — Exchange mails every attendee written.
#[must_use]
pub fn event_from_core(event: &sync_core::Event, with_attendees: bool) -> models::Event {
    let (start, end, all_day) = match event.schedule {
        sync_core::Schedule::Timed { start, end } => (
            DateTimeTimeZone::utc(start),
            DateTimeTimeZone::utc(end),
            false,
        ),
        sync_core::Schedule::AllDay { start, end } => (midnight(start), midnight(end), true),
    };
    let attendees = with_attendees.then(|| {
        event
            .attendees
            .iter()
            .map(|a| {
                Attendee::required(
                    a.email.as_str(),
                    (!a.name.is_empty()).then(|| a.name.clone()),
                )
            })
            .collect()
    });
    models::Event {
        subject: Some(event.title.clone()),
        body: Some(ItemBody::text(event.description.clone())),
        location: Some(Location {
            display_name: Some(event.location.clone()),
            ..Location::default()
        }),
        start: Some(start),
        end: Some(end),
        is_all_day: Some(all_day),
        sensitivity: Some(sensitivity_to_graph(event.sensitivity)),
        categories: Some(event.categories.clone()),
        attendees,
        ..models::Event::default()
    }
}

/// The body of a `PATCH` that writes only the `changed` fields (attendees only when they
/// changed: writing them mails every attendee).
#[must_use]
pub fn event_patch(item: &Event, changed: FieldSet<EventField>) -> models::Event {
    let full = event_from_core(item, changed.contains(EventField::Attendees));
    let mut patch = models::Event::default();
    for field in changed.iter() {
        match field {
            EventField::Title => patch.subject.clone_from(&full.subject),
            EventField::Description => patch.body.clone_from(&full.body),
            EventField::Location => patch.location.clone_from(&full.location),
            EventField::Schedule => {
                patch.start.clone_from(&full.start);
                patch.end.clone_from(&full.end);
                patch.is_all_day = full.is_all_day;
            }
            EventField::Sensitivity => patch.sensitivity.clone_from(&full.sensitivity),
            EventField::Attendees => patch.attendees.clone_from(&full.attendees),
            EventField::Categories => patch.categories.clone_from(&full.categories),
            // Written in UTC; the zone is Outlook's own.
            EventField::TimeZone
            // `isCancelled` is read-only (cancelling is a separate action that mails).
            | EventField::Status
            // Not held by Outlook.
            | EventField::Kind
            // Read-only in Graph.
            | EventField::Organizer
            | EventField::Series
            | EventField::GlobalId => {}
        }
    }
    patch
}

/// Whether a `PATCH` body writes nothing.
pub(crate) fn patch_is_empty(p: &models::Event) -> bool {
    *p == models::Event::default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn graph_event(json: serde_json::Value) -> models::Event {
        serde_json::from_value(json).expect("event")
    }

    #[test]
    fn a_cancelled_copy_keeps_its_title_and_says_cancelled() {
        let copy = |cancelled: bool, organizer: bool| {
            graph_event(serde_json::json!({
                "id": "AAMk=", "changeKey": "ck1", "subject": "Canceled: Budget review",
                "isCancelled": cancelled, "isOrganizer": organizer,
                "start": {"dateTime": "2030-03-29T09:00:00.0000000", "timeZone": "UTC"},
                "end": {"dateTime": "2030-03-29T10:00:00.0000000", "timeZone": "UTC"},
            }))
        };
        let core = event_to_core(&copy(true, false)).expect("maps");
        assert_eq!(core.title, "Budget review");
        assert_eq!(core.status, sync_core::EventStatus::Cancelled);
        // Only Exchange's prefix on a cancelled attendee's copy: a title someone typed stays.
        assert_eq!(
            event_to_core(&copy(false, false)).expect("maps").title,
            "Canceled: Budget review"
        );
        assert_eq!(
            event_to_core(&copy(true, true)).expect("maps").title,
            "Canceled: Budget review"
        );
    }

    #[test]
    fn timed_event_maps_to_core_and_back() {
        let e = graph_event(serde_json::json!({
            "id": "AAMk=", "changeKey": "ck1", "subject": " Quarterly  review ",
            "body": {"contentType": "html", "content": "<html><body><p>Agenda</p><p>1. numbers &amp; plans</p></body></html>"},
            "start": {"dateTime": "2030-03-29T09:00:00.0000000", "timeZone": "W. Europe Standard Time"},
            "end": {"dateTime": "2030-03-29T10:00:00.0000000", "timeZone": "W. Europe Standard Time"},
            "originalStartTimeZone": "W. Europe Standard Time",
            "location": {"displayName": "Room 1"}, "sensitivity": "private", "iCalUId": "uid-1",
            "organizer": {"emailAddress": {"name": "Jana", "address": "Jana@Firma.cz"}},
            "attendees": [
                {"type": "required", "status": {"response": "accepted"}, "emailAddress": {"name": "Petr", "address": "petr@firma.cz"}},
                {"type": "resource", "emailAddress": {"name": "Room 1", "address": "room1@firma.cz"}}
            ]
        }));
        let core = event_to_core(&e).expect("maps");
        assert_eq!(core.title, "Quarterly review");
        assert_eq!(core.description, "Agenda\n1. numbers & plans");
        let sync_core::Schedule::Timed { start, end } = core.schedule else {
            panic!("timed")
        };
        assert_eq!(
            start,
            Utc.with_ymd_and_hms(2030, 3, 29, 8, 0, 0).unwrap(),
            "CET is UTC+1 in March"
        );
        assert_eq!(end - start, chrono::Duration::hours(1));
        assert_eq!(core.time_zone.as_deref(), Some("Europe/Berlin"));
        assert_eq!(core.sensitivity, sync_core::Sensitivity::Private);
        assert_eq!(core.attendees.len(), 1, "rooms are not people");
        assert_eq!(core.attendees[0].response, sync_core::Response::Accepted);
        assert_eq!(
            core.organizer
                .as_ref()
                .and_then(|o| o.email.as_ref())
                .map(sync_core::Email::as_str),
            Some("jana@firma.cz")
        );
        assert_eq!(core.global_id.as_deref(), Some("uid-1"));

        let back = event_from_core(&core, false);
        assert_eq!(
            back.start.as_ref().map(|s| s.date_time.as_str()),
            Some("2030-03-29T08:00:00.0000000")
        );
        assert_eq!(
            back.start.as_ref().map(|s| s.time_zone.as_str()),
            Some("UTC")
        );
        assert_eq!(
            back.attendees, None,
            "attendees only when asked: they trigger mail"
        );
        assert!(
            event_from_core(&core, true)
                .attendees
                .is_some_and(|a| a.len() == 1)
        );
        let remote = event_remote(&e, "x").expect("remote");
        assert_eq!(remote.version.as_str(), "ck1");
    }

    #[test]
    fn all_day_dates_never_shift() {
        for zone in ["Tokyo Standard Time", "Pacific Standard Time", "UTC"] {
            let e = graph_event(serde_json::json!({
                "isAllDay": true,
                "start": {"dateTime": "2030-05-01T00:00:00.0000000", "timeZone": zone},
                "end": {"dateTime": "2030-05-02T00:00:00.0000000", "timeZone": zone}
            }));
            let core = event_to_core(&e).expect("maps");
            let d = |day| NaiveDate::from_ymd_opt(2030, 5, day).unwrap();
            assert_eq!(
                core.schedule,
                sync_core::Schedule::AllDay {
                    start: d(1),
                    end: d(2)
                },
                "{zone}"
            );
            let back = event_from_core(&core, false);
            assert_eq!(back.is_all_day, Some(true));
            assert_eq!(
                back.start.map(|s| s.date_time),
                Some("2030-05-01T00:00:00.0000000".into())
            );
            assert_eq!(
                back.end.map(|s| s.date_time),
                Some("2030-05-02T00:00:00.0000000".into())
            );
        }
    }

    #[test]
    fn sparse_occurrences_are_completed_from_the_master() {
        let occ = graph_event(serde_json::json!({
            "id": "occ", "type": "occurrence", "seriesMasterId": "master", "originalStart": "2030-01-07T08:00:00Z",
            "start": {"dateTime": "2030-01-07T08:00:00.0000000", "timeZone": "UTC"},
            "end": {"dateTime": "2030-01-07T08:30:00.0000000", "timeZone": "UTC"}
        }));
        let master = graph_event(
            serde_json::json!({"id": "master", "type": "seriesMaster", "subject": "Standup"}),
        );
        let core = event_to_core(&fill_from_master(&occ, &master)).expect("maps");
        assert_eq!(core.title, "Standup");
        let series = core.series.expect("series");
        assert_eq!(series.series_id, "master");
        assert_eq!(
            series.original_start,
            Utc.with_ymd_and_hms(2030, 1, 7, 8, 0, 0).unwrap()
        );
    }

    #[test]
    fn unreadable_times_name_the_field() {
        let e = graph_event(serde_json::json!({
            "start": {"dateTime": "tomorrow", "timeZone": "UTC"}, "end": {"dateTime": "2030-01-01T00:00:00", "timeZone": "UTC"}
        }));
        assert!(matches!(
            event_to_core(&e),
            Err(MapError::BadDateTime { field: "start", .. })
        ));
        let e = graph_event(serde_json::json!({
            "start": {"dateTime": "2030-01-01T00:00:00", "timeZone": "Mars"}, "end": {"dateTime": "2030-01-01T00:00:00", "timeZone": "UTC"}
        }));
        assert!(matches!(
            event_to_core(&e),
            Err(MapError::UnknownZone { field: "start", .. })
        ));
        assert!(matches!(
            event_to_core(&models::Event::default()),
            Err(MapError::Missing("start"))
        ));
    }

    #[test]
    fn patches_hold_only_changed_fields() {
        let start = Utc.with_ymd_and_hms(2030, 1, 1, 9, 0, 0).unwrap();
        let mut e = Event::new(
            "x",
            sync_core::Schedule::Timed {
                start,
                end: start + chrono::Duration::hours(1),
            },
        );
        e.attendees.push(sync_core::Attendee {
            email: sync_core::Email::new("a@b.cz").unwrap(),
            name: String::new(),
            response: sync_core::Response::None,
        });
        let p = event_patch(&e, FieldSet::of(&[EventField::Title, EventField::Status]));
        assert_eq!(p.subject.as_deref(), Some("x"));
        assert!(
            p.attendees.is_none(),
            "unchanged attendees are never written"
        );
        assert!(p.start.is_none() && p.body.is_none());
        let p = event_patch(&e, FieldSet::of(&[EventField::Attendees]));
        assert_eq!(p.attendees.map(|a| a.len()), Some(1));
        assert!(patch_is_empty(&event_patch(
            &e,
            FieldSet::of(&[EventField::TimeZone])
        )));
    }
}
