//! Mappings between RAYNET records and the sync engine's model.
//!
//! This is the only module that knows `sync_core` (habit 9): the client under
//! [`crate::client`] stays a plain API client. Everything here is pure:
//!
//! * [`activity_to_core`] — a meeting or event → [`sync_core::Event`];
//!   [`event_to_new_activity`] / [`event_to_update`] / [`participant_changes`]
//!   — the way back, as create and partial-update bodies.
//! * [`person_to_contact`] — a person → [`sync_core::Contact`] (contacts flow
//!   one way, RAYNET → Outlook).
//! * [`classify`] — every [`Error`] (so every HTTP status) → an
//!   [`ErrorKind`]; `From<Error> for ProviderError`.
//!
//! [`RaynetCalendar`] and [`RaynetContacts`] implement the engine's provider
//! traits on top of these mappings and a [`crate::Client`]. Their reads are
//! incremental after the first: `rowInfo.lastModifiedAt` deltas from a
//! watermark cursor, with a scheduled `view=rowInfo` id scan so the engine
//! can infer deletions (see [`RaynetCalendar`]).
//!
//! # Time
//!
//! RAYNET times are wall-clock times of the instance's zone (default
//! Europe/Prague); the engine works in UTC. Conversions go through `chrono-tz`.
//! Writes always carry an explicit offset, so the two 02:30s of 25 October are
//! told apart; a naive local time that does not exist (29 March, 02:00–03:00)
//! moves forward by the gap, and an ambiguous one takes the earlier instant.
//!
//! RAYNET has no all-day flag. An activity from local midnight to a later local
//! midnight (or to 23:59 of the last day) reads as all-day on those dates, and
//! an all-day event is written as local midnight to local midnight, so it stays
//! all-day on the same dates across DST changes.

mod cursor;
mod facts;
mod feed;
mod provider;
mod tenant;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveTime, Timelike, Utc};
use chrono_tz::Tz;
use sync_core::{
    ActivityKind, Address, Attendee, Contact, Email, ErrorKind, Event, EventField, EventStatus,
    FieldSet, Phone, PhoneKind, ProviderError, Response, Schedule, Sensitivity, Version,
};

use crate::client::error::Error;
use crate::client::html::{html_to_text, text_to_html};
use crate::client::models::{
    ActivityStatus, ActivityUpdate, ApiDateTime, CalendarActivity, NewActivity, Participant,
    ParticipantChange, ParticipantRole, Person, Priority, RowInfo, local_to_utc,
};

pub use cursor::CursorInfo;
pub use facts::InstanceFacts;
pub use feed::{DEFAULT_RECHECK_AGE, FeedPlan, InstanceFeed, PersonRoute};
pub use provider::{EXT_ID_PREFIX, RaynetCalendar, RaynetContacts};
pub use tenant::{PersonFilter, RAYNET_DAILY_QUOTA, RaynetTenant, SCAN_QUOTA_SHARE, ScanSchedule};

/// The zone RAYNET times are in when nothing else is configured.
pub const DEFAULT_TIME_ZONE: Tz = chrono_tz::Europe::Prague;

/// The zone of a RAYNET time-zone code as `GET /userAccount/{id}/` shows it
/// (`EUROPE_PRAGUE` → Europe/Prague, `AMERICA_NEW_YORK` → America/New_York).
#[must_use]
pub fn time_zone_from_code(code: &str) -> Option<Tz> {
    let title = |w: &str| {
        let mut cs = w.chars();
        cs.next().map_or_else(String::new, |c| {
            c.to_uppercase()
                .chain(cs.flat_map(char::to_lowercase))
                .collect()
        })
    };
    let mut parts = code.trim().split('_');
    let region = title(parts.next()?);
    let rest: Vec<String> = parts.map(title).collect();
    if rest.is_empty() {
        return region.parse().ok().or_else(|| code.trim().parse().ok());
    }
    format!("{region}/{}", rest.join("_"))
        .parse()
        .ok()
        .or_else(|| code.trim().parse().ok())
}

/// Title written for an event that has none (RAYNET requires one).
pub const UNTITLED: &str = "(no title)";

/// A RAYNET record that cannot be mapped. Names the record and the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot map raynet {entity} {id}: field `{field}` {reason}")]
#[non_exhaustive]
pub struct MapError {
    /// `meeting`, `event` or `person`.
    pub entity: &'static str,
    /// The record id.
    pub id: u64,
    /// The API field at fault, e.g. `scheduledFrom`.
    pub field: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

/// E-mail addresses of persons, by person id: participants are persons, and the
/// engine knows attendees by address.
pub type EmailsByPerson = BTreeMap<u64, Email>;

fn kind_name(kind: ActivityKind) -> &'static str {
    match kind {
        ActivityKind::Meeting => "meeting",
        ActivityKind::Event => "event",
    }
}

/// Reads a RAYNET schedule (`scheduledFrom`/`scheduledTill`) in `tz`.
///
/// # Errors
/// A message when the start is missing or the end is before the start.
pub fn schedule_to_core(
    from: Option<&ApiDateTime>,
    till: Option<&ApiDateTime>,
    tz: &Tz,
) -> Result<Schedule, (&'static str, String)> {
    let from = from.ok_or(("scheduledFrom", "is missing".to_owned()))?;
    let till = till.unwrap_or(from);
    let local_from = from.naive_local_in(tz);
    let local_till = till.naive_local_in(tz);
    if local_from.time() == NaiveTime::MIN {
        let (d0, d1) = (local_from.date(), local_till.date());
        if local_till.time() == NaiveTime::MIN && d1 > d0 {
            return Ok(Schedule::AllDay { start: d0, end: d1 });
        }
        if local_till.hour() == 23 && local_till.minute() == 59 && d1 >= d0 {
            let end = d1
                .succ_opt()
                .ok_or(("scheduledTill", "is out of range".to_owned()))?;
            return Ok(Schedule::AllDay { start: d0, end });
        }
    }
    let start = from
        .to_utc(tz)
        .ok_or(("scheduledFrom", format!("`{from}` does not exist in {tz}")))?;
    let end = till
        .to_utc(tz)
        .ok_or(("scheduledTill", format!("`{till}` does not exist in {tz}")))?;
    if end < start {
        return Err((
            "scheduledTill",
            format!("{till} is before the start {from}"),
        ));
    }
    Ok(Schedule::Timed { start, end })
}

/// Writes a schedule as RAYNET start/end with explicit offsets of `tz`.
#[must_use]
pub fn schedule_from_core(
    schedule: &Schedule,
    tz: &Tz,
) -> (DateTime<FixedOffset>, DateTime<FixedOffset>) {
    let at = |utc: DateTime<Utc>| utc.with_timezone(tz).fixed_offset();
    let midnight = |d: NaiveDate| {
        let utc = local_to_utc(tz, d.and_time(NaiveTime::MIN))
            .unwrap_or_else(|| d.and_time(NaiveTime::MIN).and_utc());
        at(utc)
    };
    match schedule {
        Schedule::Timed { start, end } => (at(*start), at(*end)),
        Schedule::AllDay { start, end } => (midnight(*start), midnight(*end)),
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
                u.description =
                    Some((!e.description.is_empty()).then(|| text_to_html(&e.description)));
            }
            EventField::Location => {
                u.meeting_place = Some((!e.location.is_empty()).then(|| e.location.clone()));
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
                u.completed = Some(completed);
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

/// The version token of a record: `_version`, else `rowInfo.lastModifiedAt`.
#[must_use]
pub fn version_of(row: &RowInfo) -> Option<Version> {
    let raw = match (row.version, &row.last_modified_at) {
        (Some(v), _) => format!("v{v}"),
        (None, Some(t)) => format!("t{t}"),
        (None, None) => return None,
    };
    Version::new(raw).ok()
}

fn phone_kind(kind: Option<&str>) -> PhoneKind {
    let k = kind.unwrap_or_default().to_lowercase();
    if k.contains("mob") || k.contains("cell") {
        PhoneKind::Mobile
    } else if k.contains("dom") || k.contains("home") || k.contains("soukr") || k.contains("priv") {
        PhoneKind::Home
    } else {
        PhoneKind::Business
    }
}

/// Company names by company id, for persons whose rows name their company by
/// id only.
pub type CompanyNames = BTreeMap<u64, String>;

/// [`person_to_contact`], taking the company name from `companies` when the
/// person's row carries only the company's id.
#[must_use]
pub fn person_to_contact_with(p: &Person, companies: &CompanyNames) -> Contact {
    let mut c = person_to_contact(p);
    if c.company.trim().is_empty() {
        if let Some(name) = p
            .primary_relationship
            .as_ref()
            .and_then(|r| r.company.as_ref())
            .and_then(|r| companies.get(&r.id))
        {
            c.company.clone_from(name);
        }
    }
    c
}

/// A person → the engine's [`Contact`]: names and titles, e-mails, phones (kind
/// from `tel1Type`/`tel2Type`: `mobil…` → mobile, `domů`/`soukromý`/`home` →
/// home, else business), company and job title from the primary relationship,
/// business address, birthday and note. Addresses that are not e-mail
/// addresses are left out (and logged).
#[must_use]
pub fn person_to_contact(p: &Person) -> Contact {
    let mut c = Contact {
        given_name: p.first_name.clone().unwrap_or_default(),
        surname: p.last_name.clone().unwrap_or_default(),
        title_before: p.title_before.clone().unwrap_or_default(),
        title_after: p.title_after.clone().unwrap_or_default(),
        company: p.primary_company_name().unwrap_or_default().to_owned(),
        job_title: p
            .primary_relationship
            .as_ref()
            .and_then(|r| r.position.clone())
            .unwrap_or_default(),
        birthday: p.birthday,
        notes: p.notice.clone().unwrap_or_default(),
        ..Contact::default()
    };
    if let Some(ci) = &p.contact_info {
        for (field, value) in [("email", &ci.email), ("email2", &ci.email2)] {
            let Some(value) = value.as_deref().filter(|v| !v.trim().is_empty()) else {
                continue;
            };
            if let Ok(e) = Email::new(value) {
                c.emails.push(e);
            } else {
                tracing::warn!(person = p.id, field, "not an e-mail address; left out");
            }
        }
        for (tel, kind) in [(&ci.tel1, &ci.tel1_type), (&ci.tel2, &ci.tel2_type)] {
            if let Some(number) = tel.as_deref().filter(|t| !t.trim().is_empty()) {
                c.phones.push(Phone {
                    kind: phone_kind(kind.as_deref()),
                    number: number.to_owned(),
                });
            }
        }
    }
    if let Some(a) = p
        .company_address
        .as_ref()
        .and_then(|ca| ca.address.as_ref())
    {
        c.business_address = Address {
            street: a.street.clone().unwrap_or_default(),
            city: a.city.clone().unwrap_or_default(),
            postal_code: a.zip_code.clone().unwrap_or_default(),
            region: a.province.clone().unwrap_or_default(),
            country: a
                .country_code
                .clone()
                .or_else(|| a.country.clone())
                .unwrap_or_default(),
        };
    }
    c
}

/// The engine's classification of an [`Error`]. Every status has a kind:
///
/// | Error | Kind |
/// |---|---|
/// | 401, 403, breaker open | `Unauthorized` |
/// | 404, 410 | `NotFound` |
/// | 409, 412 | `PreconditionFailed` |
/// | 429, quota spent, rate limited | `Throttled` (with the wait until the reset) |
/// | 500 `AttributeAccessDeniedException` | `Unauthorized` |
/// | 500 `ConversionFailedException`, `TranslatedApplicationException`, `IllegalArgumentException` | `Invalid` |
/// | other 5xx, 1xx, 3xx | `Unavailable` |
/// | other 4xx | `Invalid` |
/// | timeout / network error on a GET or DELETE | `Unavailable` |
/// | timeout / network error after a PUT/POST was sent | `Interrupted` |
/// | connection refused (nothing sent) | `Unavailable` |
/// | undecodable answer, unencodable body, bad configuration | `Invalid` |
#[must_use]
pub fn classify(e: &Error) -> ErrorKind {
    let write = e
        .endpoint()
        .is_some_and(|ep| ep.starts_with("PUT ") || ep.starts_with("POST "));
    match e {
        Error::Unauthorized { .. } | Error::AuthBreakerOpen { .. } => ErrorKind::Unauthorized,
        Error::QuotaExhausted { until, .. } => ErrorKind::Throttled {
            retry_after: (*until - Utc::now()).to_std().ok(),
        },
        Error::RateLimited { .. } => ErrorKind::Throttled { retry_after: None },
        Error::Api { status, kind, .. } => match (*status, kind.as_deref()) {
            (401 | 403, _) | (500, Some("AttributeAccessDeniedException")) => {
                ErrorKind::Unauthorized
            }
            (404 | 410, _) => ErrorKind::NotFound,
            (409 | 412, _) => ErrorKind::PreconditionFailed,
            (429, _) => ErrorKind::Throttled { retry_after: None },
            (
                500,
                Some(
                    "ConversionFailedException"
                    | "TranslatedApplicationException"
                    | "IllegalArgumentException",
                ),
            )
            | (400..=499, _) => ErrorKind::Invalid,
            _ => ErrorKind::Unavailable,
        },
        Error::Network { source, .. } if source.is_connect() => ErrorKind::Unavailable,
        Error::Timeout { .. } | Error::Network { .. } => {
            if write {
                ErrorKind::Interrupted
            } else {
                ErrorKind::Unavailable
            }
        }
        Error::Decode { .. } | Error::Encode { .. } | Error::Config(_) => ErrorKind::Invalid,
        // `Error` is non-exhaustive only for other crates; every variant is listed above.
    }
}

impl From<Error> for ProviderError {
    fn from(e: Error) -> Self {
        let kind = classify(&e);
        let context = match e.endpoint() {
            Some(ep) => format!("raynet {ep}"),
            None => "raynet".to_owned(),
        };
        ProviderError::with_source(kind, context, e)
    }
}

/// The UTC instant of a local wall-clock time in `tz` (gap: forward; fold: earlier).
#[must_use]
pub fn local_time_to_utc(tz: &Tz, date: NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
    local_to_utc(tz, date.and_time(time))
}

/// Shifts an all-day end (exclusive) to the inclusive last day.
#[must_use]
pub fn last_day(schedule: &Schedule) -> Option<NaiveDate> {
    match schedule {
        Schedule::AllDay { end, .. } => Some(*end - Duration::days(1)),
        Schedule::Timed { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::models::{DetailEnvelope, ListEnvelope, Ref};
    use chrono::NaiveDateTime;

    const PRAGUE: Tz = chrono_tz::Europe::Prague;

    fn local(s: &str) -> ApiDateTime {
        ApiDateTime::Local(NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap())
    }

    fn zoned(s: &str) -> ApiDateTime {
        ApiDateTime::Zoned(DateTime::parse_from_rfc3339(s).unwrap())
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

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

    #[test]
    fn local_times_become_utc_on_both_sides_of_the_march_switch() {
        // 28 March: CET (+01:00); 29 March: CEST (+02:00).
        let (s, e) = timed(&meeting(
            local("2026-03-28 10:00"),
            local("2026-03-28 11:00"),
        ));
        assert_eq!(
            (s, e),
            (utc("2026-03-28T09:00:00Z"), utc("2026-03-28T10:00:00Z"))
        );
        let (s, e) = timed(&meeting(
            local("2026-03-29 10:00"),
            local("2026-03-29 11:00"),
        ));
        assert_eq!(
            (s, e),
            (utc("2026-03-29T08:00:00Z"), utc("2026-03-29T09:00:00Z"))
        );
        // Across the switch: 01:30 CET → 03:30 CEST is one hour.
        let (s, e) = timed(&meeting(
            local("2026-03-29 01:30"),
            local("2026-03-29 03:30"),
        ));
        assert_eq!(
            (s, e),
            (utc("2026-03-29T00:30:00Z"), utc("2026-03-29T01:30:00Z"))
        );
        // 02:30 does not exist on 29 March: moved forward to 03:00 CEST.
        let (s, _) = timed(&meeting(
            local("2026-03-29 02:30"),
            local("2026-03-29 04:00"),
        ));
        assert_eq!(s, utc("2026-03-29T01:00:00Z"));
    }

    #[test]
    fn local_times_become_utc_on_both_sides_of_the_october_switch() {
        // 02:30 happens twice on 25 October: the earlier (CEST) is taken.
        let (s, e) = timed(&meeting(
            local("2026-10-25 02:30"),
            local("2026-10-25 03:00"),
        ));
        assert_eq!(
            (s, e),
            (utc("2026-10-25T00:30:00Z"), utc("2026-10-25T02:00:00Z"))
        );
        // With offsets (dateFormat=ISO8601) both 02:30s are distinct.
        let (s, e) = timed(&meeting(
            zoned("2026-10-25T02:30:00+02:00"),
            zoned("2026-10-25T02:30:00+01:00"),
        ));
        assert_eq!(e - s, Duration::hours(1));
        let (s, _) = timed(&meeting(
            local("2026-10-26 10:00"),
            local("2026-10-26 11:00"),
        ));
        assert_eq!(s, utc("2026-10-26T09:00:00Z"));
    }

    #[test]
    fn timed_events_round_trip_across_dst() {
        for (a, b) in [
            ("2026-03-28T23:15:00Z", "2026-03-29T01:45:00Z"), // spans the March switch
            ("2026-10-24T23:30:00Z", "2026-10-25T01:30:00Z"), // spans the October switch
            ("2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z"), // 02:30 CEST → 02:30 CET
            ("2026-07-01T08:00:00Z", "2026-07-01T08:00:00Z"), // zero length
        ] {
            let sched = Schedule::Timed {
                start: utc(a),
                end: utc(b),
            };
            let (from, till) = schedule_from_core(&sched, &PRAGUE);
            let back = schedule_to_core(
                Some(&ApiDateTime::Zoned(from)),
                Some(&ApiDateTime::Zoned(till)),
                &PRAGUE,
            )
            .unwrap();
            assert_eq!(back, sched, "round trip of {a} – {b}");
        }
        let (from, till) = schedule_from_core(
            &Schedule::Timed {
                start: utc("2026-10-25T00:30:00Z"),
                end: utc("2026-10-25T01:30:00Z"),
            },
            &PRAGUE,
        );
        assert_eq!(from.to_rfc3339(), "2026-10-25T02:30:00+02:00");
        assert_eq!(till.to_rfc3339(), "2026-10-25T02:30:00+01:00");
    }

    #[test]
    fn all_day_stays_on_the_same_dates_across_dst() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        for (start, end) in [
            ("2026-03-29", "2026-03-30"),
            ("2026-10-25", "2026-10-26"),
            ("2026-03-27", "2026-03-31"),
        ] {
            let sched = Schedule::AllDay {
                start: d(start),
                end: d(end),
            };
            let (from, till) = schedule_from_core(&sched, &PRAGUE);
            assert_eq!(from.time(), NaiveTime::MIN, "local midnight");
            assert_eq!(till.time(), NaiveTime::MIN);
            // Read back with offsets and as naive local times alike.
            let zoned_back = schedule_to_core(
                Some(&ApiDateTime::Zoned(from)),
                Some(&ApiDateTime::Zoned(till)),
                &PRAGUE,
            )
            .unwrap();
            let naive_back = schedule_to_core(
                Some(&ApiDateTime::Local(from.naive_local())),
                Some(&ApiDateTime::Local(till.naive_local())),
                &PRAGUE,
            )
            .unwrap();
            assert_eq!(zoned_back, sched);
            assert_eq!(naive_back, sched);
            assert_eq!(last_day(&sched), Some(d(end) - Duration::days(1)));
        }
        let (from, till) = schedule_from_core(
            &Schedule::AllDay {
                start: d("2026-03-29"),
                end: d("2026-03-30"),
            },
            &PRAGUE,
        );
        assert_eq!(from.to_rfc3339(), "2026-03-29T00:00:00+01:00");
        assert_eq!(till.to_rfc3339(), "2026-03-30T00:00:00+02:00");
        // 00:00–23:59 also reads as all-day.
        let s = schedule_to_core(
            Some(&local("2026-10-25 00:00")),
            Some(&local("2026-10-25 23:59")),
            &PRAGUE,
        )
        .unwrap();
        assert_eq!(
            s,
            Schedule::AllDay {
                start: d("2026-10-25"),
                end: d("2026-10-26")
            }
        );
    }

    #[test]
    fn time_zone_codes() {
        assert_eq!(
            time_zone_from_code("EUROPE_PRAGUE"),
            Some(chrono_tz::Europe::Prague)
        );
        assert_eq!(
            time_zone_from_code("AMERICA_NEW_YORK"),
            Some(chrono_tz::America::New_York)
        );
        assert_eq!(time_zone_from_code("UTC"), Some(chrono_tz::UTC));
        assert_eq!(
            time_zone_from_code("Europe/Bratislava"),
            Some(chrono_tz::Europe::Bratislava)
        );
        assert_eq!(time_zone_from_code("MARS_OLYMPUS"), None);
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
            serde_json::json!({"description": null, "meetingPlace": null})
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

    #[test]
    fn person_fixture_to_contact() {
        let env: ListEnvelope<Person> =
            serde_json::from_str(include_str!("../../tests/fixtures/person_list.json")).unwrap();
        let c = person_to_contact(&env.data[0]);
        assert_eq!(
            (c.given_name.as_str(), c.surname.as_str()),
            ("Petr", "Svoboda")
        );
        assert_eq!(
            (c.title_before.as_str(), c.title_after.as_str()),
            ("Ing.", "Ph.D.")
        );
        assert_eq!(
            c.emails,
            vec![Email::new("petr.svoboda@raynet.cz").unwrap()]
        );
        assert_eq!(c.phones[0].kind, PhoneKind::Mobile);
        assert_eq!(c.phones[1].kind, PhoneKind::Business);
        assert_eq!(c.company, "RAYNET s.r.o.");
        assert_eq!(c.job_title, "obchodní ředitel");
        assert_eq!(c.business_address.city, "Ostrava");
        assert_eq!(c.business_address.country, "CZ");
        assert_eq!(c.birthday, NaiveDate::from_ymd_opt(1980, 5, 17));
        assert_eq!(c.notes, "Preferuje telefon.");
        let mut p = env.data[0].clone();
        if let Some(ci) = p.contact_info.as_mut() {
            ci.email = Some("n/a".into());
        }
        assert!(
            person_to_contact(&p).emails.is_empty(),
            "invalid addresses are left out"
        );
    }

    fn api(status: u16, kind: Option<&str>, endpoint: &str) -> Error {
        Error::Api {
            endpoint: endpoint.into(),
            status,
            kind: kind.map(str::to_owned),
            message: None,
            translated_message: None,
            body: None,
        }
    }

    #[test]
    fn every_status_has_a_kind() {
        let g = "GET /meeting/1/";
        for status in 100..600u16 {
            let kind = classify(&api(status, None, g));
            let want = match status {
                401 | 403 => ErrorKind::Unauthorized,
                404 | 410 => ErrorKind::NotFound,
                409 | 412 => ErrorKind::PreconditionFailed,
                429 => ErrorKind::Throttled { retry_after: None },
                400..=499 => ErrorKind::Invalid,
                _ => ErrorKind::Unavailable,
            };
            assert_eq!(kind, want, "status {status}");
        }
        assert_eq!(
            classify(&api(500, Some("AttributeAccessDeniedException"), g)),
            ErrorKind::Unauthorized
        );
        assert_eq!(
            classify(&api(500, Some("TranslatedApplicationException"), g)),
            ErrorKind::Invalid
        );
        assert_eq!(
            classify(&Error::AuthBreakerOpen { endpoint: g.into() }),
            ErrorKind::Unauthorized
        );
        assert_eq!(
            classify(&Error::RateLimited { endpoint: g.into() }),
            ErrorKind::Throttled { retry_after: None }
        );
        let until = Utc::now() + Duration::hours(2);
        let ErrorKind::Throttled {
            retry_after: Some(wait),
        } = classify(&Error::QuotaExhausted {
            until,
            endpoint: g.into(),
        })
        else {
            panic!("throttled with a wait")
        };
        assert!(wait > std::time::Duration::from_secs(3600));
        let decode = serde_json::from_str::<u8>("x").unwrap_err();
        assert_eq!(
            classify(&Error::Decode {
                endpoint: g.into(),
                path: ".".into(),
                source: decode
            }),
            ErrorKind::Invalid
        );
        let pe: ProviderError = api(404, Some("EntityNotFoundException"), g).into();
        assert_eq!(pe.kind(), ErrorKind::NotFound);
        assert_eq!(pe.context(), "raynet GET /meeting/1/");
    }

    #[tokio::test]
    async fn network_failures_after_a_write_are_interrupted() {
        // A server that accepts the connection and hangs up without answering.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                drop(sock);
            }
        });
        let client = crate::Client::builder()
            .base_url(format!("http://{addr}/api/v2/"))
            .instance("acme")
            .credentials("u@x.cz", "k")
            .retry_policy(crate::RetryPolicy::fast())
            .build()
            .unwrap();
        let err = client
            .meetings()
            .create(&NewActivity::new("t", Priority::Default, 1))
            .await
            .unwrap_err();
        assert_eq!(classify(&err), ErrorKind::Interrupted, "{err:?}");
        let err = client.meetings().get(1).await.unwrap_err();
        assert_eq!(classify(&err), ErrorKind::Unavailable, "{err:?}");
    }
}
