//! The `event` resource and its recurrence types.

use serde::{Deserialize, Serialize};

use super::common::{
    DateTimeTimeZone, EmailAddress, ItemBody, PhysicalAddress, Recipient, Removed,
    SingleValueExtendedProperty, item_methods,
};
use super::open_enum::open_enum;

open_enum! {
    /// `event.type`.
    EventType {
        /// A one-off event.
        SingleInstance = "singleInstance",
        /// An unmodified occurrence of a series.
        Occurrence = "occurrence",
        /// A modified occurrence of a series.
        Exception = "exception",
        /// The series itself.
        SeriesMaster = "seriesMaster",
    }
}

open_enum! {
    /// `event.sensitivity`.
    Sensitivity {
        /// Normal.
        Normal = "normal",
        /// Personal.
        Personal = "personal",
        /// Private.
        Private = "private",
        /// Confidential.
        Confidential = "confidential",
    }
}

open_enum! {
    /// `event.showAs`.
    ShowAs {
        /// Free.
        Free = "free",
        /// Tentative.
        Tentative = "tentative",
        /// Busy.
        Busy = "busy",
        /// Out of office.
        Oof = "oof",
        /// Working elsewhere.
        WorkingElsewhere = "workingElsewhere",
        /// Unknown.
        UnknownStatus = "unknown",
    }
}

open_enum! {
    /// `event.importance`.
    Importance {
        /// Low.
        Low = "low",
        /// Normal.
        Normal = "normal",
        /// High.
        High = "high",
    }
}

open_enum! {
    /// `attendee.type`.
    AttendeeType {
        /// Required.
        Required = "required",
        /// Optional.
        Optional = "optional",
        /// A resource (room, equipment).
        Resource = "resource",
    }
}

open_enum! {
    /// `responseStatus.response`.
    ResponseType {
        /// No response.
        None = "none",
        /// The organizer.
        Organizer = "organizer",
        /// Tentatively accepted.
        TentativelyAccepted = "tentativelyAccepted",
        /// Accepted.
        Accepted = "accepted",
        /// Declined.
        Declined = "declined",
        /// Not responded.
        NotResponded = "notResponded",
    }
}

open_enum! {
    /// `recurrencePattern.type`.
    RecurrencePatternType {
        /// Every `interval` days.
        Daily = "daily",
        /// On `daysOfWeek` every `interval` weeks.
        Weekly = "weekly",
        /// On `dayOfMonth`.
        AbsoluteMonthly = "absoluteMonthly",
        /// On the `index`th `daysOfWeek` of the month.
        RelativeMonthly = "relativeMonthly",
        /// On `dayOfMonth` of `month`.
        AbsoluteYearly = "absoluteYearly",
        /// On the `index`th `daysOfWeek` of `month`.
        RelativeYearly = "relativeYearly",
    }
}

open_enum! {
    /// `recurrenceRange.type`.
    RecurrenceRangeType {
        /// Until `endDate`.
        EndDate = "endDate",
        /// Without end.
        NoEnd = "noEnd",
        /// `numberOfOccurrences` times.
        Numbered = "numbered",
    }
}

open_enum! {
    /// A day of the week.
    DayOfWeek {
        /// Sunday.
        Sunday = "sunday",
        /// Monday.
        Monday = "monday",
        /// Tuesday.
        Tuesday = "tuesday",
        /// Wednesday.
        Wednesday = "wednesday",
        /// Thursday.
        Thursday = "thursday",
        /// Friday.
        Friday = "friday",
        /// Saturday.
        Saturday = "saturday",
    }
}

/// `responseStatus`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct ResponseStatus {
    /// The response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<ResponseType>,
    /// When it was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
}

/// An attendee.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Attendee {
    /// Required, optional or resource.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<AttendeeType>,
    /// Their response (read-only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ResponseStatus>,
    /// Their address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_address: Option<EmailAddress>,
}

impl Attendee {
    /// A required attendee.
    #[must_use]
    pub fn required(address: impl Into<String>, name: Option<String>) -> Self {
        Self {
            kind: Some(AttendeeType::Required),
            status: None,
            email_address: Some(EmailAddress::new(address, name)),
        }
    }
}

/// A location.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Location {
    /// The name shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// `default`, `conferenceRoom`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location_type: Option<String>,
    /// Postal address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<PhysicalAddress>,
}

/// `recurrencePattern`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct RecurrencePattern {
    /// The pattern kind.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<RecurrencePatternType>,
    /// Units between occurrences.
    pub interval: u32,
    /// Days of the week (weekly and relative patterns).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub days_of_week: Vec<DayOfWeek>,
    /// Day of the month (absolute patterns).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub day_of_month: Option<u32>,
    /// Month (yearly patterns).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub month: Option<u32>,
    /// `first`, `second`, ... (relative patterns).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
    /// First day of the week.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_day_of_week: Option<DayOfWeek>,
}

/// `recurrenceRange`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct RecurrenceRange {
    /// The range kind.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<RecurrenceRangeType>,
    /// First date (`YYYY-MM-DD`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    /// Last date (`endDate` ranges).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
    /// Count (`numbered` ranges).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number_of_occurrences: Option<u32>,
    /// Zone of the dates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recurrence_time_zone: Option<String>,
}

/// `patternedRecurrence`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct PatternedRecurrence {
    /// How often.
    pub pattern: RecurrencePattern,
    /// For how long.
    pub range: RecurrenceRange,
}

/// An Outlook event. Used both as a response and as a create/update body: unset fields are
/// not sent.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Event {
    /// Id (immutable when `IdType="ImmutableId"` is asked for, which this client always does).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Weak ETag, `W/"<changeKey>"`.
    #[serde(rename = "@odata.etag", skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// Version stamp.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_key: Option<String>,
    /// iCalendar UID (shared by the organizer's and attendees' copies).
    #[serde(rename = "iCalUId", skip_serializing_if = "Option::is_none")]
    pub ical_uid: Option<String>,
    /// Subject.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<ItemBody>,
    /// Read-only text preview of the body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_preview: Option<String>,
    /// Start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<DateTimeTimeZone>,
    /// End (exclusive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<DateTimeTimeZone>,
    /// Zone the start was created in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_start_time_zone: Option<String>,
    /// Zone the end was created in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_end_time_zone: Option<String>,
    /// All-day: start and end are floating midnights.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_all_day: Option<bool>,
    /// Location.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// Attendees. Writing them makes Exchange send invitations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attendees: Option<Vec<Attendee>>,
    /// Organizer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organizer: Option<Recipient>,
    /// Whether the mailbox owner organized it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_organizer: Option<bool>,
    /// The mailbox owner's response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_status: Option<ResponseStatus>,
    /// Sensitivity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sensitivity: Option<Sensitivity>,
    /// Free/busy status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub show_as: Option<ShowAs>,
    /// Importance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub importance: Option<Importance>,
    /// Category names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<String>>,
    /// Cancelled by the organizer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_cancelled: Option<bool>,
    /// Single instance, occurrence, exception or series master.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<EventType>,
    /// The series master of an occurrence or exception.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub series_master_id: Option<String>,
    /// Original UTC start of an occurrence or exception.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_start: Option<String>,
    /// Recurrence (series masters only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recurrence: Option<PatternedRecurrence>,
    /// Creation time (UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_date_time: Option<String>,
    /// Last modification time (UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified_date_time: Option<String>,
    /// Client idempotency key for creates; returned only if set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    /// Reminder on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_reminder_on: Option<bool>,
    /// Minutes before start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reminder_minutes_before_start: Option<i64>,
    /// Link to Outlook on the web.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web_link: Option<String>,
    /// Extended properties (written on create/update; read only through `$expand`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub single_value_extended_properties: Option<Vec<SingleValueExtendedProperty>>,
    /// Set on delta items that were removed (or fell outside the window).
    #[serde(rename = "@removed", skip_serializing_if = "Option::is_none")]
    pub removed: Option<Removed>,
}

item_methods!(Event);
