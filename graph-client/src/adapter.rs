//! Pure mappings between Graph's models and `sync_core`'s model, and the classification of
//! client errors for the engine. The only module of this crate that knows `sync_core`.
//!
//! - [`event_to_core`] / [`event_from_core`]: Graph event ⇄ [`sync_core::Event`]. All-day
//!   events map to floating dates and are never shifted through a zone. Sparse occurrences from
//!   calendar-view delta must first be completed with [`fill_from_master`].
//! - [`contact_from_core`]: [`sync_core::Contact`] → Graph contact, keeping Graph's caps (3
//!   e-mail addresses, 2 business phones, 1 mobile, 2 home phones) and saying what it dropped.
//! - [`contact_to_core`]: Graph contact → [`sync_core::Contact`] (the fields the forward mapping
//!   writes).
//! - [`error_kind`] / [`provider_error`]: every client error to a [`sync_core::ErrorKind`].
//! - The engine's sides: [`GraphCalendar`] (a member's default calendar, two-way) and
//!   [`GraphContacts`] (a member's dedicated contact folder, written one way).
//! - [`DeltaPrefetch`]: the first pages of many members' stored delta links, read 20 to a
//!   `$batch`, which the sides then use instead of a request of their own (an idle round
//!   costs one request per 20 links instead of one per link).
//! - [`BatchPacker`]: the batched writes of all members' sides of a tenant, packed into full
//!   `$batch` requests of 20 across mailboxes (50 members × 50 updates: 125 batches instead
//!   of 150).

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use sync_core::{ErrorKind, ProviderError};

use crate::client::Error;
use crate::client::models::{
    self, Attendee, AttendeeType, DateTimeTimeZone, EmailAddress, EventType, ItemBody, Location,
    PhysicalAddress, ResponseStatus, ResponseType, SingleValueExtendedProperty,
};
use crate::client::zones;

mod calendar;
mod contacts;
mod packer;
mod prefetch;
mod tenant;

pub use calendar::{GraphCalendar, event_patch};
pub use contacts::{GraphContacts, contact_to_core};
pub use packer::BatchPacker;
pub use prefetch::{DeltaPrefetch, PrefetchStats};
pub use tenant::GraphTenant;

/// The single-value extended property (a named string property in our own property set) that
/// holds the idempotency key on the events and contacts this crate creates.
pub const LINK_PROPERTY_ID: &str =
    "String {5b0e3a6c-9d2f-4c1e-8a47-2f6d1c9e7b30} Name RaynetSyncKey";

/// A version token without its ETag dressing: the `changeKey`, else the ETag's inner value
/// (`W/"abc"` → `abc`), so that every read path (delta items carry only the ETag) gives the
/// same version.
#[must_use]
pub fn version_of(change_key: Option<&str>, etag: Option<&str>) -> Option<String> {
    change_key.map(str::to_owned).or_else(|| {
        etag.map(|e| {
            e.trim()
                .trim_start_matches("W/")
                .trim_matches('"')
                .to_owned()
        })
    })
}

/// The `If-Match` value for a version from [`version_of`] (`W/"<changeKey>"`).
#[must_use]
pub fn if_match(version: &str) -> String {
    if version.starts_with("W/") || version.starts_with('"') {
        version.to_owned()
    } else {
        format!("W/\"{version}\"")
    }
}

/// Whether a failed retry-safe write may still have landed (no answer, a gateway error): the
/// engine then treats it as [`ErrorKind::Interrupted`] and looks the item up by its key.
pub(crate) fn maybe_landed(error: &Error) -> bool {
    match error {
        Error::Timeout { .. } | Error::Transport { .. } => true,
        Error::Throttled { status, .. } => *status == 504,
        Error::Api { status, .. } => matches!(status, 500 | 502 | 504),
        _ => false,
    }
}

/// A client error as a [`ProviderError`], saying plainly when the mailbox cannot be synced at
/// all (no Exchange Online mailbox; outside the application access policy).
#[must_use]
pub fn graph_error(context: &str, error: Error) -> ProviderError {
    if error.is_mailbox_not_enabled() {
        return provider_error(
            &format!("{context}: mailbox not enabled for REST (no Exchange Online mailbox)"),
            error,
        );
    }
    if error.is_access_denied() {
        return provider_error(
            &format!("{context}: mailbox outside the app's access policy"),
            error,
        );
    }
    provider_error(context, error)
}

/// Why a Graph record could not be mapped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MapError {
    /// A field the model needs is missing.
    #[error("field `{0}` is missing")]
    Missing(&'static str),
    /// A date or time could not be read.
    #[error("field `{field}`: cannot read {value:?} as a date and time")]
    BadDateTime {
        /// The field at fault.
        field: &'static str,
        /// The value (cut to 80 characters).
        value: String,
    },
    /// A time zone name is unknown.
    #[error("field `{field}`: unknown time zone {zone:?}")]
    UnknownZone {
        /// The field at fault.
        field: &'static str,
        /// The zone name.
        zone: String,
    },
    /// The model refused a value.
    #[error("invalid value")]
    Model(#[from] sync_core::ModelError),
}

fn parse_local(field: &'static str, value: &str) -> Result<NaiveDateTime, MapError> {
    let trimmed = value.trim().trim_end_matches('Z');
    NaiveDateTime::parse_from_str(trimmed, "%Y-%m-%dT%H:%M:%S%.f").map_err(|_| {
        MapError::BadDateTime {
            field,
            value: value.chars().take(80).collect(),
        }
    })
}

fn instant(field: &'static str, dtz: &DateTimeTimeZone) -> Result<DateTime<Utc>, MapError> {
    let local = parse_local(field, &dtz.date_time)?;
    let zone = zones::parse(&dtz.time_zone).ok_or_else(|| MapError::UnknownZone {
        field,
        zone: dtz.time_zone.clone(),
    })?;
    zone.from_local_datetime(&local)
        .earliest()
        .map(|d| d.with_timezone(&Utc))
        .ok_or(MapError::BadDateTime {
            field,
            value: dtz.date_time.clone(),
        })
}

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

/// A Graph event as the engine's [`sync_core::Event`] (normalized).
///
/// # Errors
/// [`MapError`] naming the field when start or end are missing or unreadable.
pub fn event_to_core(event: &models::Event) -> Result<sync_core::Event, MapError> {
    use sync_core::SyncItem;
    let mut out = sync_core::Event::new(
        event.subject.clone().unwrap_or_default(),
        schedule_of(event)?,
    );
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

/// The extended property holding the idempotency key, for the create's body.
#[must_use]
pub fn link_property(
    property_id: &str,
    key: &sync_core::IdempotencyKey,
) -> SingleValueExtendedProperty {
    SingleValueExtendedProperty::new(property_id, key.as_str())
}

/// A Graph contact built from the engine's contact, and what Graph's caps made us drop.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MappedContact {
    /// The body to send.
    pub contact: models::Contact,
    /// What was dropped, e.g. `"e-mail x@y.cz"` (report it).
    pub dropped: Vec<String>,
}

/// A Graph contact from the engine's contact. Every field is set (empty when empty) so a
/// PATCH overwrites Outlook edits; e-mails beyond 3, business phones beyond 2, mobiles beyond 1
/// and home phones beyond 2 are dropped and listed.
#[must_use]
pub fn contact_from_core(contact: &sync_core::Contact) -> MappedContact {
    use sync_core::PhoneKind;
    let mut dropped = Vec::new();
    let mut display_name = [
        contact.title_before.as_str(),
        &contact.given_name,
        &contact.middle_name,
        &contact.surname,
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect::<Vec<_>>()
    .join(" ");
    if !contact.title_after.is_empty() {
        display_name = format!("{display_name}, {}", contact.title_after);
    }
    let emails: Vec<EmailAddress> = contact
        .emails
        .iter()
        .map(|e| EmailAddress::new(e.as_str(), None))
        .collect();
    for extra in emails.iter().skip(models::MAX_CONTACT_EMAILS) {
        dropped.push(format!(
            "e-mail {}",
            extra.address.as_deref().unwrap_or_default()
        ));
    }
    let mut business = Vec::new();
    let mut home = Vec::new();
    let mut mobile: Option<String> = None;
    for phone in &contact.phones {
        let kept = match phone.kind {
            PhoneKind::Business if business.len() < models::MAX_CONTACT_BUSINESS_PHONES => {
                business.push(phone.number.clone());
                true
            }
            PhoneKind::Home if home.len() < MAX_HOME_PHONES => {
                home.push(phone.number.clone());
                true
            }
            PhoneKind::Mobile if mobile.is_none() => {
                mobile = Some(phone.number.clone());
                true
            }
            _ => false,
        };
        if !kept {
            dropped.push(format!("{} phone {}", phone.kind, phone.number));
        }
    }
    let a = &contact.business_address;
    let address = PhysicalAddress {
        street: Some(a.street.clone()),
        city: Some(a.city.clone()),
        state: Some(a.region.clone()),
        postal_code: Some(a.postal_code.clone()),
        country_or_region: Some(a.country.clone()),
    };
    let out = models::Contact {
        given_name: Some(contact.given_name.clone()),
        middle_name: Some(contact.middle_name.clone()),
        surname: Some(contact.surname.clone()),
        title: Some(contact.title_before.clone()),
        display_name: Some(display_name),
        email_addresses: Some(
            emails
                .into_iter()
                .take(models::MAX_CONTACT_EMAILS)
                .collect(),
        ),
        business_phones: Some(business),
        home_phones: Some(home),
        mobile_phone: Some(mobile.unwrap_or_default()),
        company_name: Some(contact.company.clone()),
        job_title: Some(contact.job_title.clone()),
        business_address: Some(address),
        birthday: contact
            .birthday
            .map(|d| format!("{}T00:00:00Z", d.format("%Y-%m-%d"))),
        personal_notes: Some(contact.notes.clone()),
        ..models::Contact::default()
    };
    MappedContact {
        contact: out,
        dropped,
    }
}

/// Home phones an Outlook contact holds (like business phones; not documented, see the notes).
const MAX_HOME_PHONES: usize = 2;

/// The engine's classification of a client error. Every status has a kind.
#[must_use]
pub fn error_kind(error: &Error) -> ErrorKind {
    match error {
        Error::DeltaExpired { .. }
        | Error::Shape { .. }
        | Error::Decode { .. }
        | Error::InvalidRequest(_)
        | Error::Config(_) => ErrorKind::Invalid,
        Error::Conflict { .. } => ErrorKind::PreconditionFailed,
        Error::Throttled { retry_after, .. } => ErrorKind::Throttled {
            retry_after: *retry_after,
        },
        Error::Auth { .. } => ErrorKind::Unauthorized,
        Error::Timeout { .. } | Error::Transport { .. } => ErrorKind::Unavailable,
        Error::Api { status, .. } => match status {
            404 if error.is_mailbox_not_enabled() => ErrorKind::Unsupported,
            404 | 410 => ErrorKind::NotFound,
            // Outside the application access policy: the app may not touch this mailbox.
            401 | 403 => ErrorKind::Unauthorized,
            409 | 412 => ErrorKind::PreconditionFailed,
            429 => ErrorKind::Throttled { retry_after: None },
            405 | 501 => ErrorKind::Unsupported,
            500..=599 => ErrorKind::Unavailable,
            _ => ErrorKind::Invalid,
        },
    }
}

/// A client error as the engine's [`ProviderError`], with the error as its source.
#[must_use]
pub fn provider_error(context: &str, error: Error) -> ProviderError {
    ProviderError::with_source(error_kind(&error), context, error)
}

/// What a batched write is, for classifying what went wrong with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteKind {
    /// A create: an answer that may hide a landed write (none at all, a gateway error, an
    /// unreadable body) is [`ErrorKind::Interrupted`], and the engine then looks the item up
    /// by its key.
    Create,
    /// An update (a `PATCH` with `If-Match`, harmless to repeat): every failure is classified
    /// as the same request sent alone would be, so a batched update fails exactly as
    /// [`sync_core::WriteSide::update`] does.
    Update,
}

/// One write of a `$batch`: the sub-request (its id is assigned when the batch is cut) and
/// the context its errors are reported under (e.g. `updating event X (mailbox Y)`).
pub(crate) struct BatchWrite {
    pub(crate) request: crate::client::models::BatchRequest,
    pub(crate) context: String,
}

/// Sends writes in `$batch` requests of at most 20 (the client retries a throttled
/// sub-request alone) and reads each answer body as `M`. With a `packer` (of this client) the
/// writes go through it, packed with other callers' writes into full batches; without one
/// each call cuts its own batches. One result per write, in order, the same either way:
///
/// - a failed sub-request maps through [`graph_error`] as the direct request's error would
///   (429, 503 and 504 as [`Error::Throttled`], like the transport); for a
///   [`WriteKind::Create`], an answer that may hide a landed write is
///   [`ErrorKind::Interrupted`] instead;
/// - an update answered 500, 502, 503 or 504 is sent again (in a further batch, after its
///   `Retry-After` or the backoff) as often as the transport repeats a direct request, so a
///   transient failure fails a batched update no sooner than a direct one;
/// - an unreadable answer body is [`ErrorKind::Invalid`] for an update (as a direct answer
///   that cannot be decoded), [`ErrorKind::Interrupted`] for a create;
/// - a failed batch fails each of its writes with its error: classified through
///   [`error_kind`] for updates; for creates a lost or unreadable batch answer is
///   [`ErrorKind::Interrupted`] (the items may exist).
pub(crate) async fn batch_write<M: serde::de::DeserializeOwned>(
    client: &crate::client::Client,
    packer: Option<&BatchPacker>,
    writes: Vec<BatchWrite>,
    endpoint: &str,
    kind: WriteKind,
) -> Vec<Result<M, ProviderError>> {
    let (requests, contexts): (Vec<_>, Vec<String>) =
        writes.into_iter().map(|w| (w.request, w.context)).unzip();
    let outcomes = match packer {
        Some(packer) if packer.serves(client) => packer.send(requests, kind).await,
        other => {
            if other.is_some() {
                tracing::warn!(
                    "the batch packer was made for another client: writes sent without it"
                );
            }
            let mut outcomes = Vec::with_capacity(requests.len());
            let mut requests = requests.into_iter().peekable();
            while requests.peek().is_some() {
                let chunk: Vec<_> = requests
                    .by_ref()
                    .take(crate::client::MAX_BATCH_REQUESTS)
                    .map(|r| (r, kind))
                    .collect();
                outcomes.extend(send_chunk(client, chunk).await);
            }
            outcomes
        }
    };
    outcomes
        .into_iter()
        .zip(&contexts)
        .map(|(outcome, context)| match outcome {
            Ok(answer) => batched_answer(client, answer, endpoint, context, kind),
            Err(BatchFailure { kind, lost, error }) => Err(ProviderError::new(
                kind,
                if lost {
                    format!("{context}: the batch answer was lost, the item may exist ({error})")
                } else {
                    format!("{context}: the batch failed ({error})")
                },
            )),
        })
        .collect()
}

/// What became of one write sent in a batch: its sub-answer, or why the whole batch failed.
pub(crate) type BatchOutcome = Result<crate::client::models::BatchResponse, BatchFailure>;

/// Why a whole batch failed, for each of its writes.
#[derive(Debug)]
pub(crate) struct BatchFailure {
    kind: ErrorKind,
    /// A create's batch whose answer was lost: the items may exist.
    lost: bool,
    error: String,
}

impl BatchFailure {
    /// The write's batch was abandoned while it was being sent (its sender was dropped): the
    /// write may or may not have landed, so it is [`ErrorKind::Interrupted`] either way (a
    /// create "may exist").
    pub(crate) fn abandoned(kind: WriteKind) -> Self {
        Self {
            kind: ErrorKind::Interrupted,
            lost: kind == WriteKind::Create,
            error: "the batch was abandoned while it was being sent".into(),
        }
    }
}

/// Sends one batch (at most 20 requests, of any kinds; ids are assigned here) and sends the
/// updates answered 500, 502, 503 or 504 again until the transport's attempts are used up.
/// One outcome per request, in order.
pub(crate) async fn send_chunk(
    client: &crate::client::Client,
    requests: Vec<(crate::client::models::BatchRequest, WriteKind)>,
) -> Vec<BatchOutcome> {
    let retry = client.transport().retry.clone();
    let mut outcomes: Vec<Option<BatchOutcome>> = std::iter::repeat_with(|| None)
        .take(requests.len())
        .collect();
    let mut pending: Vec<(usize, crate::client::models::BatchRequest, WriteKind)> = requests
        .into_iter()
        .enumerate()
        .map(|(slot, (request, kind))| (slot, request, kind))
        .collect();
    let mut attempt: u32 = 0;
    while !pending.is_empty() {
        attempt += 1;
        let sent: Vec<_> = pending
            .iter()
            .enumerate()
            .map(|(i, (_, r, _))| {
                let mut r = r.clone();
                r.id = (i + 1).to_string();
                r
            })
            .collect();
        let answers = match client.batch(sent).await {
            Ok(answers) => answers,
            Err(e) => {
                let may_have_landed =
                    maybe_landed(&e) || matches!(e, Error::Shape { .. } | Error::Decode { .. });
                for (slot, _, kind) in pending {
                    let lost = kind == WriteKind::Create && may_have_landed;
                    outcomes[slot] = Some(Err(BatchFailure {
                        kind: if lost {
                            ErrorKind::Interrupted
                        } else {
                            error_kind(&e)
                        },
                        lost,
                        error: e.to_string(),
                    }));
                }
                break;
            }
        };
        let mut again = Vec::new();
        let mut wait = std::time::Duration::ZERO;
        for ((slot, request, kind), answer) in pending.into_iter().zip(answers) {
            let transient = matches!(answer.status, 500 | 502 | 503 | 504);
            if kind == WriteKind::Update && transient && attempt < retry.max_attempts {
                let after = matches!(answer.status, 503 | 504)
                    .then(|| answer.header("Retry-After"))
                    .flatten()
                    .and_then(crate::client::parse_retry_after)
                    .map(|d| d.min(retry.max_retry_after));
                wait = wait.max(after.unwrap_or_else(|| retry.backoff(attempt - 1)));
                again.push((slot, request, kind));
            } else {
                outcomes[slot] = Some(Ok(answer));
            }
        }
        if !again.is_empty() {
            tracing::info!(
                count = again.len(),
                wait_ms = wait.as_millis() as u64,
                "sending failed batch updates again"
            );
            tokio::time::sleep(wait).await;
        }
        pending = again;
    }
    outcomes
        .into_iter()
        .map(|o| {
            o.unwrap_or_else(|| {
                Err(BatchFailure {
                    kind: ErrorKind::Interrupted,
                    lost: false,
                    error: "no answer".into(),
                })
            })
        })
        .collect()
}

/// One sub-answer of a batch of writes, read as `M` (see [`batch_write`]).
fn batched_answer<M: serde::de::DeserializeOwned>(
    client: &crate::client::Client,
    answer: crate::client::models::BatchResponse,
    endpoint: &str,
    context: &str,
    kind: WriteKind,
) -> Result<M, ProviderError> {
    let status = answer.status;
    if answer.is_success() {
        let body = answer.body.unwrap_or(serde_json::Value::Null);
        return serde_path_to_error::deserialize(body).map_err(|e| {
            let error = Error::Decode {
                endpoint: endpoint.to_owned(),
                path: e.path().to_string(),
                source: e.into_inner(),
            };
            match kind {
                WriteKind::Create => ProviderError::with_source(
                    ErrorKind::Interrupted,
                    format!("{context}: unreadable answer, it may exist"),
                    error,
                ),
                WriteKind::Update => graph_error(context, error),
            }
        });
    }
    let error = if matches!(status, 429 | 503 | 504) {
        // As the transport reports a request still throttled after its retries.
        let cap = client.transport().retry.max_retry_after;
        Error::Throttled {
            status,
            retry_after: answer
                .header("Retry-After")
                .and_then(crate::client::parse_retry_after)
                .map(|d| d.min(cap)),
            endpoint: endpoint.to_owned(),
        }
    } else {
        let body = answer
            .body
            .as_ref()
            .map(|b| serde_json::to_vec(b).unwrap_or_default())
            .unwrap_or_default();
        Error::from_status(status, &body, endpoint)
    };
    if kind == WriteKind::Create && maybe_landed(&error) {
        return Err(ProviderError::with_source(
            ErrorKind::Interrupted,
            format!("{context}: answered {status}, the item may exist"),
            error,
        ));
    }
    Err(graph_error(context, error))
}

/// One result per item, in order: an item already `settled` (refused before sending, or
/// written another way) keeps its result; every other item takes the next answer of
/// [`batch_write`], turned into what was written by `written(index of the item, answer)`.
pub(crate) fn batch_results<M, T>(
    settled: Vec<Option<Result<sync_core::Written<T>, ProviderError>>>,
    answers: Vec<Result<M, ProviderError>>,
    mut written: impl FnMut(usize, M) -> Result<sync_core::Written<T>, ProviderError>,
) -> Vec<Result<sync_core::Written<T>, ProviderError>> {
    let mut answers = answers.into_iter();
    settled
        .into_iter()
        .enumerate()
        .map(|(i, s)| match s {
            Some(result) => result,
            None => match answers.next() {
                Some(answer) => answer.and_then(|m| written(i, m)),
                None => Err(ProviderError::new(
                    ErrorKind::Interrupted,
                    "the batch answered fewer results than requests",
                )),
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_core::SyncItem;

    fn graph_event(json: serde_json::Value) -> models::Event {
        serde_json::from_value(json).expect("event")
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
    fn contacts_keep_graph_caps_and_report_drops() {
        let c = sync_core::Contact {
            given_name: "Jana".into(),
            surname: "Nováková".into(),
            title_before: "Ing.".into(),
            title_after: "Ph.D.".into(),
            emails: (0..5)
                .map(|i| sync_core::Email::new(&format!("j{i}@firma.cz")).unwrap())
                .collect(),
            phones: vec![
                sync_core::Phone {
                    kind: sync_core::PhoneKind::Business,
                    number: "1".into(),
                },
                sync_core::Phone {
                    kind: sync_core::PhoneKind::Business,
                    number: "2".into(),
                },
                sync_core::Phone {
                    kind: sync_core::PhoneKind::Business,
                    number: "3".into(),
                },
                sync_core::Phone {
                    kind: sync_core::PhoneKind::Mobile,
                    number: "4".into(),
                },
                sync_core::Phone {
                    kind: sync_core::PhoneKind::Mobile,
                    number: "5".into(),
                },
            ],
            birthday: NaiveDate::from_ymd_opt(1980, 2, 29),
            ..sync_core::Contact::default()
        };
        let mapped = contact_from_core(&c.normalized());
        let g = &mapped.contact;
        assert_eq!(g.display_name.as_deref(), Some("Ing. Jana Nováková, Ph.D."));
        assert_eq!(g.email_addresses.as_ref().map(Vec::len), Some(3));
        assert_eq!(
            g.business_phones.as_deref(),
            Some(&["1".to_owned(), "2".to_owned()][..])
        );
        assert_eq!(g.mobile_phone.as_deref(), Some("4"));
        assert_eq!(g.birthday.as_deref(), Some("1980-02-29T00:00:00Z"));
        assert_eq!(mapped.dropped.len(), 4, "{:?}", mapped.dropped);
        let json = serde_json::to_value(g).expect("json");
        assert!(
            json.get("id").is_none(),
            "no read-only fields in a write body"
        );
    }

    #[test]
    fn every_error_has_a_kind() {
        let api = |status: u16, code: &str| {
            Error::from_status(
                status,
                format!(r#"{{"error":{{"code":"{code}"}}}}"#).as_bytes(),
                "x",
            )
        };
        assert_eq!(
            error_kind(&api(404, "ErrorItemNotFound")),
            ErrorKind::NotFound
        );
        assert_eq!(
            error_kind(&api(404, "MailboxNotEnabledForRESTAPI")),
            ErrorKind::Unsupported
        );
        assert_eq!(
            error_kind(&api(403, "ErrorAccessDenied")),
            ErrorKind::Unauthorized
        );
        assert!(
            graph_error("x", api(403, "ErrorAccessDenied"))
                .to_string()
                .contains("access policy")
        );
        assert!(
            graph_error("x", api(404, "MailboxNotEnabledForRESTAPI"))
                .to_string()
                .contains("not enabled for REST")
        );
        assert_eq!(version_of(None, Some("W/\"ck\"")).as_deref(), Some("ck"));
        assert_eq!(if_match("ck"), "W/\"ck\"");
        assert_eq!(if_match("W/\"ck\""), "W/\"ck\"");
        assert_eq!(
            error_kind(&api(403, "Authorization_RequestDenied")),
            ErrorKind::Unauthorized
        );
        assert_eq!(
            error_kind(&api(401, "InvalidAuthenticationToken")),
            ErrorKind::Unauthorized
        );
        assert_eq!(
            error_kind(&api(412, "ErrorIrresolvableConflict")),
            ErrorKind::PreconditionFailed
        );
        assert_eq!(
            error_kind(&api(400, "ErrorInvalidIdMalformed")),
            ErrorKind::Invalid
        );
        assert_eq!(
            error_kind(&api(410, "SyncStateNotFound")),
            ErrorKind::Invalid
        );
        assert_eq!(
            error_kind(&api(503, "serviceNotAvailable")),
            ErrorKind::Unavailable
        );
        assert_eq!(
            error_kind(&api(501, "notSupported")),
            ErrorKind::Unsupported
        );
        let throttled = Error::Throttled {
            status: 429,
            retry_after: Some(std::time::Duration::from_secs(2)),
            endpoint: "x".into(),
        };
        assert_eq!(
            error_kind(&throttled),
            ErrorKind::Throttled {
                retry_after: Some(std::time::Duration::from_secs(2))
            }
        );
        let p = provider_error("reading the calendar", api(404, "ErrorItemNotFound"));
        assert_eq!(p.kind(), ErrorKind::NotFound);
        assert!(std::error::Error::source(&p).is_some());
    }
}
