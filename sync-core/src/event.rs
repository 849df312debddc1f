//! The provider-agnostic calendar item.

use std::fmt;

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ModelError;
use crate::ids::Email;
use crate::item::{
    EMPTY_VALUE, Field, FieldSet, Projected, SyncItem, described_text, line_text, list_text,
    normalize_line, normalize_text, short_label,
};

/// When an event takes place: a span of UTC instants, or whole days.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Schedule {
    /// A timed event between two instants.
    Timed {
        /// Start (UTC).
        start: DateTime<Utc>,
        /// End (UTC), not before `start`.
        end: DateTime<Utc>,
    },
    /// An all-day event: `start` up to but not including `end` (so a one-day event on 1 May
    /// has `end` = 2 May). The same dates in every time zone.
    AllDay {
        /// First day.
        start: NaiveDate,
        /// The day after the last day.
        end: NaiveDate,
    },
}

impl Schedule {
    /// Whether this is an all-day schedule.
    #[must_use]
    pub fn is_all_day(&self) -> bool {
        matches!(self, Self::AllDay { .. })
    }

    /// The start as a UTC instant (midnight UTC of the first day for all-day events), used for
    /// window tests.
    #[must_use]
    pub fn start_utc(&self) -> DateTime<Utc> {
        match self {
            Self::Timed { start, .. } => *start,
            Self::AllDay { start, .. } => start.and_time(chrono::NaiveTime::MIN).and_utc(),
        }
    }

    /// The end as a UTC instant (midnight UTC after the last day for all-day events).
    #[must_use]
    pub fn end_utc(&self) -> DateTime<Utc> {
        match self {
            Self::Timed { end, .. } => *end,
            Self::AllDay { end, .. } => end.and_time(chrono::NaiveTime::MIN).and_utc(),
        }
    }

    /// Checks that the end is not before the start (an all-day event lasts at least one day).
    ///
    /// # Errors
    /// [`ModelError::EndBeforeStart`] naming the field `schedule`.
    pub fn validate(&self) -> Result<(), ModelError> {
        let bad = match self {
            Self::Timed { start, end } => end < start,
            Self::AllDay { start, end } => end <= start,
        };
        if bad {
            let (start, end) = match self {
                Self::Timed { start, end } => (start.to_rfc3339(), end.to_rfc3339()),
                Self::AllDay { start, end } => (start.to_string(), end.to_string()),
            };
            return Err(ModelError::EndBeforeStart {
                field: "schedule",
                start,
                end,
            });
        }
        Ok(())
    }

    fn normalized(self) -> Self {
        match self {
            Self::Timed { start, end } => Self::Timed {
                start: start.trunc_subsecs(0),
                end: end.trunc_subsecs(0),
            },
            other @ Self::AllDay { .. } => other,
        }
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timed { start, end } => write!(
                f,
                "{} – {}",
                start.format("%Y-%m-%d %H:%M UTC"),
                end.format("%Y-%m-%d %H:%M UTC")
            ),
            Self::AllDay { start, end } => write!(f, "all day {start} – {end} (excl.)"),
        }
    }
}

macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident, $field:literal, { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// The value's name as written in configuration and reports.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text,)+ }
            }

            /// Parses a provider's or a user's value (case-insensitive).
            ///
            /// # Errors
            /// [`ModelError::UnknownValue`] naming the field and the allowed values.
            pub fn parse(value: &str) -> Result<Self, $crate::error::ModelError> {
                let v = value.trim().replace('_', "-");
                $(if v.eq_ignore_ascii_case(&$text.replace('_', "-")) { return Ok(Self::$variant); })+
                Err($crate::error::ModelError::UnknownValue {
                    field: $field,
                    value: value.chars().take(80).collect(),
                    allowed: concat!($($text, " "),+),
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                Self::parse(&raw).map_err(serde::de::Error::custom)
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::error::ModelError;
            fn from_str(s: &str) -> Result<Self, Self::Err> { Self::parse(s) }
        }
    };
}
pub(crate) use string_enum;

string_enum!(
    /// How private an event is (Outlook's `sensitivity`; Raynet's `personal` flag maps to
    /// `Private`).
    Sensitivity, "sensitivity", {
        /// Visible as usual.
        #[default]
        Normal => "normal",
        /// Personal (Outlook only).
        Personal => "personal",
        /// Private: the lock symbol in Outlook, `personal` in Raynet.
        Private => "private",
        /// Confidential (Outlook only; treated as private).
        Confidential => "confidential",
    }
);

impl Sensitivity {
    /// Whether the privacy rules of DESIGN §4 apply (private or confidential).
    #[must_use]
    pub fn is_private(self) -> bool {
        matches!(self, Self::Private | Self::Confidential)
    }
}

string_enum!(
    /// Where the event stands.
    EventStatus, "status", {
        /// Planned (Raynet `NEW`/`SCHEDULED`, any live Outlook event).
        #[default]
        Scheduled => "scheduled",
        /// Done (Raynet `COMPLETED`; Outlook has no such state).
        Completed => "completed",
        /// Called off (Raynet `CANCELLED`, Outlook `isCancelled`).
        Cancelled => "cancelled",
    }
);

string_enum!(
    /// The Raynet activity type of a calendar item. Outlook does not hold it.
    ActivityKind, "kind", {
        /// Raynet *schůzka*.
        Meeting => "meeting",
        /// Raynet *událost*.
        #[default]
        Event => "event",
    }
);

string_enum!(
    /// An attendee's answer to an invitation.
    Response, "response", {
        /// Unknown or not asked.
        #[default]
        None => "none",
        /// The organizer's own entry.
        Organizer => "organizer",
        /// Accepted.
        Accepted => "accepted",
        /// Tentatively accepted.
        Tentative => "tentative",
        /// Declined.
        Declined => "declined",
        /// Invited, no answer yet.
        NotResponded => "not_responded",
    }
);

/// Someone who organises an event.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct Organizer {
    /// Their address, when known.
    pub email: Option<Email>,
    /// Display name.
    pub name: String,
}

/// Someone invited to an event.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct Attendee {
    /// Their address (attendees without one cannot be synced to Outlook).
    pub email: Email,
    /// Display name.
    pub name: String,
    /// Their answer.
    pub response: Response,
}

/// Where an item sits in a recurring series (Outlook only): each occurrence in the window is
/// its own item.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct SeriesRef {
    /// The series master's id on the side that holds the series.
    pub series_id: String,
    /// The occurrence's original start (identifies it even after it was moved).
    pub original_start: DateTime<Utc>,
}

/// A calendar item, as the engine sees both sides.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use sync_core::{Event, Schedule, SyncItem};
/// let mut e = Event::new("  Quarterly   review ", Schedule::Timed {
///     start: Utc.with_ymd_and_hms(2026, 3, 29, 8, 0, 0).unwrap(),
///     end: Utc.with_ymd_and_hms(2026, 3, 29, 9, 0, 0).unwrap(),
/// });
/// e.description = "Agenda:\r\n1. numbers  \r\n".into();
/// let n = e.normalized();
/// assert_eq!(n.title, "Quarterly review");
/// assert_eq!(n.description, "Agenda:\n1. numbers");
/// assert!(n.validate().is_ok());
/// ```
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Event {
    /// Subject.
    pub title: String,
    /// Body as plain text.
    #[serde(default)]
    pub description: String,
    /// Place.
    #[serde(default)]
    pub location: String,
    /// When.
    pub schedule: Schedule,
    /// The time zone the author meant (an IANA name), a hint only: times are UTC.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Privacy.
    #[serde(default)]
    pub sensitivity: Sensitivity,
    /// Scheduled, completed or cancelled.
    #[serde(default)]
    pub status: EventStatus,
    /// Raynet meeting or event (`None` for an Outlook item not yet in Raynet).
    #[serde(default)]
    pub kind: Option<ActivityKind>,
    /// Who organises it.
    #[serde(default)]
    pub organizer: Option<Organizer>,
    /// Who is invited, sorted by address.
    #[serde(default)]
    pub attendees: Vec<Attendee>,
    /// Categories, sorted and without duplicates.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Its place in a recurring series.
    #[serde(default)]
    pub series: Option<SeriesRef>,
    /// The global id shared by every copy of the meeting (Outlook `iCalUId`).
    #[serde(default)]
    pub global_id: Option<String>,
}

impl Event {
    /// A scheduled, normal event with only a title and a schedule.
    #[must_use]
    pub fn new(title: impl Into<String>, schedule: Schedule) -> Self {
        Self {
            title: title.into(),
            description: String::new(),
            location: String::new(),
            schedule,
            time_zone: None,
            sensitivity: Sensitivity::Normal,
            status: EventStatus::Scheduled,
            kind: None,
            organizer: None,
            attendees: Vec::new(),
            categories: Vec::new(),
            series: None,
            global_id: None,
        }
    }
}

/// The mergeable fields of an [`Event`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum EventField {
    /// `title`.
    Title,
    /// `description`.
    Description,
    /// `location`.
    Location,
    /// `schedule` (start, end and the all-day flag move together).
    Schedule,
    /// `time_zone`.
    TimeZone,
    /// `sensitivity`.
    Sensitivity,
    /// `status`.
    Status,
    /// `kind`.
    Kind,
    /// `organizer`.
    Organizer,
    /// `attendees`.
    Attendees,
    /// `categories`.
    Categories,
    /// `series`.
    Series,
    /// `global_id`.
    GlobalId,
}

impl Field for EventField {
    const ALL: &'static [Self] = &[
        Self::Title,
        Self::Description,
        Self::Location,
        Self::Schedule,
        Self::TimeZone,
        Self::Sensitivity,
        Self::Status,
        Self::Kind,
        Self::Organizer,
        Self::Attendees,
        Self::Categories,
        Self::Series,
        Self::GlobalId,
    ];

    fn index(self) -> u8 {
        self as u8
    }

    fn name(self) -> &'static str {
        match self {
            Self::Title => "title",
            Self::Description => "description",
            Self::Location => "location",
            Self::Schedule => "schedule",
            Self::TimeZone => "time_zone",
            Self::Sensitivity => "sensitivity",
            Self::Status => "status",
            Self::Kind => "kind",
            Self::Organizer => "organizer",
            Self::Attendees => "attendees",
            Self::Categories => "categories",
            Self::Series => "series",
            Self::GlobalId => "global_id",
        }
    }
}

impl fmt::Display for EventField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What one side can hold of an [`Event`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventProfile {
    /// The fields the side stores.
    pub held: FieldSet<EventField>,
    /// Whether the side keeps attendees' answers.
    pub attendee_responses: bool,
    /// Whether the side can say "completed" (else it reads as scheduled).
    pub completed_status: bool,
    /// Whether the side tells personal and confidential apart from normal and private (else
    /// personal reads as normal and confidential as private).
    pub four_sensitivities: bool,
}

impl Default for EventProfile {
    /// Holds everything.
    fn default() -> Self {
        Self {
            held: FieldSet::all(),
            attendee_responses: true,
            completed_status: true,
            four_sensitivities: true,
        }
    }
}

impl EventProfile {
    /// What Raynet holds: no time-zone hint, organizer, categories, series or global id, no
    /// attendee answers, sensitivity only as the `personal` flag.
    #[must_use]
    pub fn raynet() -> Self {
        Self {
            held: FieldSet::of(&[
                EventField::Title,
                EventField::Description,
                EventField::Location,
                EventField::Schedule,
                EventField::Sensitivity,
                EventField::Status,
                EventField::Kind,
                EventField::Attendees,
            ]),
            attendee_responses: false,
            completed_status: true,
            four_sensitivities: false,
        }
    }

    /// What Outlook holds: everything but the Raynet activity kind; no "completed".
    #[must_use]
    pub fn outlook() -> Self {
        Self {
            held: FieldSet::all().without(EventField::Kind),
            attendee_responses: true,
            completed_status: false,
            four_sensitivities: true,
        }
    }
}

impl SyncItem for Event {
    type Field = EventField;
    type Profile = EventProfile;

    fn normalized(mut self) -> Self {
        self.title = normalize_line(&self.title);
        self.description = normalize_text(&self.description);
        self.location = normalize_line(&self.location);
        self.schedule = self.schedule.normalized();
        self.time_zone = self
            .time_zone
            .map(|z| z.trim().to_owned())
            .filter(|z| !z.is_empty());
        if let Some(o) = &mut self.organizer {
            o.name = normalize_line(&o.name);
        }
        if matches!(&self.organizer, Some(o) if o.email.is_none() && o.name.is_empty()) {
            self.organizer = None;
        }
        for a in &mut self.attendees {
            a.name = normalize_line(&a.name);
        }
        self.attendees.sort_by(|a, b| a.email.cmp(&b.email));
        self.attendees.dedup_by(|a, b| a.email == b.email);
        self.categories = self
            .categories
            .iter()
            .map(|c| normalize_line(c))
            .filter(|c| !c.is_empty())
            .collect();
        self.categories.sort();
        self.categories.dedup();
        self.global_id = self
            .global_id
            .map(|g| g.trim().to_owned())
            .filter(|g| !g.is_empty());
        self
    }

    fn validate(&self) -> Result<(), ModelError> {
        self.schedule.validate()
    }

    fn field_eq(&self, other: &Self, field: EventField) -> bool {
        match field {
            EventField::Title => self.title == other.title,
            EventField::Description => self.description == other.description,
            EventField::Location => self.location == other.location,
            EventField::Schedule => self.schedule == other.schedule,
            EventField::TimeZone => self.time_zone == other.time_zone,
            EventField::Sensitivity => self.sensitivity == other.sensitivity,
            EventField::Status => self.status == other.status,
            EventField::Kind => self.kind == other.kind,
            EventField::Organizer => self.organizer == other.organizer,
            EventField::Attendees => self.attendees == other.attendees,
            EventField::Categories => self.categories == other.categories,
            EventField::Series => self.series == other.series,
            EventField::GlobalId => self.global_id == other.global_id,
        }
    }

    fn copy_field(&mut self, from: &Self, field: EventField) {
        match field {
            EventField::Title => self.title.clone_from(&from.title),
            EventField::Description => self.description.clone_from(&from.description),
            EventField::Location => self.location.clone_from(&from.location),
            EventField::Schedule => self.schedule = from.schedule,
            EventField::TimeZone => self.time_zone.clone_from(&from.time_zone),
            EventField::Sensitivity => self.sensitivity = from.sensitivity,
            EventField::Status => self.status = from.status,
            EventField::Kind => self.kind = from.kind,
            EventField::Organizer => self.organizer.clone_from(&from.organizer),
            EventField::Attendees => self.attendees.clone_from(&from.attendees),
            EventField::Categories => self.categories.clone_from(&from.categories),
            EventField::Series => self.series.clone_from(&from.series),
            EventField::GlobalId => self.global_id.clone_from(&from.global_id),
        }
    }

    fn held_fields(profile: &EventProfile) -> FieldSet<EventField> {
        profile.held
    }

    fn project(&self, profile: &EventProfile) -> Projected<Self> {
        let mut item = self.clone().normalized();
        let blank = Event::new(String::new(), item.schedule);
        for f in EventField::ALL {
            if !profile.held.contains(*f) {
                item.copy_field(&blank, *f);
            }
        }
        if !profile.attendee_responses {
            for a in &mut item.attendees {
                a.response = Response::None;
            }
        }
        if !profile.completed_status && item.status == EventStatus::Completed {
            item.status = EventStatus::Scheduled;
        }
        if !profile.four_sensitivities {
            item.sensitivity = if item.sensitivity.is_private() {
                Sensitivity::Private
            } else {
                Sensitivity::Normal
            };
        }
        Projected {
            item,
            dropped: Vec::new(),
        }
    }

    fn label(&self) -> String {
        short_label(&self.title)
    }

    fn field_text(&self, field: EventField) -> String {
        let none = || EMPTY_VALUE.to_owned();
        match field {
            EventField::Title => line_text(&self.title),
            EventField::Description => described_text(&self.description),
            EventField::Location => line_text(&self.location),
            EventField::Schedule => self.schedule.to_string(),
            EventField::TimeZone => self.time_zone.as_deref().map_or_else(none, line_text),
            EventField::Sensitivity => self.sensitivity.as_str().to_owned(),
            EventField::Status => self.status.as_str().to_owned(),
            EventField::Kind => self.kind.map_or_else(none, |k| k.as_str().to_owned()),
            EventField::Organizer => self.organizer.as_ref().map_or_else(none, |o| {
                o.email
                    .as_ref()
                    .map_or_else(|| line_text(&o.name), |e| line_text(e.as_str()))
            }),
            EventField::Attendees => list_text(self.attendees.iter().map(|a| a.email.as_str())),
            EventField::Categories => list_text(&self.categories),
            EventField::Series => self.series.as_ref().map_or_else(none, |s| {
                format!(
                    "occurrence of {}",
                    s.original_start.format("%Y-%m-%d %H:%M UTC")
                )
            }),
            EventField::GlobalId => self.global_id.as_deref().map_or_else(none, line_text),
        }
    }

    fn span(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        Some((self.schedule.start_utc(), self.schedule.end_utc()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 4, h, 0, 0).unwrap()
    }

    #[test]
    fn end_before_start_is_a_typed_error() {
        let e = Event::new(
            "x",
            Schedule::Timed {
                start: at(10),
                end: at(9),
            },
        );
        let err = e.validate().unwrap_err();
        assert!(matches!(
            err,
            ModelError::EndBeforeStart {
                field: "schedule",
                ..
            }
        ));
        let d = NaiveDate::from_ymd_opt(2026, 5, 4).unwrap();
        let all_day = Schedule::AllDay { start: d, end: d };
        assert!(all_day.validate().is_err());
    }

    #[test]
    fn unknown_enum_value_is_a_typed_error_naming_the_field() {
        let err = EventStatus::parse("POSTPONED").unwrap_err();
        assert_eq!(
            err.to_string(),
            "field `status`: unknown value \"POSTPONED\" (allowed: scheduled completed cancelled )"
        );
        assert_eq!(Sensitivity::parse("Private").unwrap(), Sensitivity::Private);
    }

    #[test]
    fn normalization_sorts_sets_and_folds_case() {
        let mut e = Event::new(
            "t",
            Schedule::Timed {
                start: at(1),
                end: at(2),
            },
        );
        e.attendees = vec![
            Attendee {
                email: Email::new("B@x.cz").unwrap(),
                name: " Bee ".into(),
                response: Response::None,
            },
            Attendee {
                email: Email::new("a@x.cz").unwrap(),
                name: "A".into(),
                response: Response::None,
            },
        ];
        e.categories = vec!["z".into(), " ".into(), "a".into(), "z".into()];
        let n = e.normalized();
        assert_eq!(n.attendees[0].email.as_str(), "a@x.cz");
        assert_eq!(n.attendees[1].name, "Bee");
        assert_eq!(n.categories, vec!["a".to_owned(), "z".to_owned()]);
        assert_eq!(n.clone().normalized(), n);
    }

    #[test]
    fn raynet_projection_drops_what_raynet_cannot_hold() {
        let mut e = Event::new(
            "t",
            Schedule::Timed {
                start: at(1),
                end: at(2),
            },
        );
        e.categories = vec!["Red".into()];
        e.sensitivity = Sensitivity::Confidential;
        e.global_id = Some("uid".into());
        let p = e.project(&EventProfile::raynet()).item;
        assert!(p.categories.is_empty());
        assert_eq!(p.global_id, None);
        assert_eq!(p.sensitivity, Sensitivity::Private);
        let mut c = e.clone();
        c.status = EventStatus::Completed;
        assert_eq!(
            c.project(&EventProfile::outlook()).item.status,
            EventStatus::Scheduled
        );
    }
}
