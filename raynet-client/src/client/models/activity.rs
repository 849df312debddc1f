//! Meetings (`/meeting/`) and events (`/event/`): RAYNET calendar activities.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::common::{ApiDateTime, Ref, RowInfo, de, ser};
use super::macros::open_enum;

open_enum! {
    /// Activity status (`status`).
    ActivityStatus {
        /// `NEW`.
        New = "NEW",
        /// `SCHEDULED`.
        Scheduled = "SCHEDULED",
        /// `COMPLETED`.
        Completed = "COMPLETED",
        /// `CANCELLED`.
        Cancelled = "CANCELLED",
    }
}

open_enum! {
    /// Activity priority (`priority`); required on create.
    Priority {
        /// `MINOR`.
        Minor = "MINOR",
        /// `DEFAULT`.
        Default = "DEFAULT",
        /// `CRITICAL`.
        Critical = "CRITICAL",
    }
}

impl Default for Priority {
    #[allow(clippy::derivable_impls)] // the variant comes from a macro
    fn default() -> Self {
        Priority::Default
    }
}

open_enum! {
    /// A participant's role (`FROM` = organiser side, `TO` = invitee side).
    ParticipantRole {
        /// `FROM`.
        From = "FROM",
        /// `TO`.
        To = "TO",
    }
}

/// A meeting or an event as read from the API (list row or detail).
///
/// List rows carry fewer fields than details: notably `owner` and `extIds`
/// are detail-only, so [`CalendarActivity::owner_person_id`] falls back to the
/// participant flagged `owner: true`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CalendarActivity {
    /// Record id (meetings and events have separate id spaces).
    #[serde(deserialize_with = "de::u64_lenient")]
    pub id: u64,
    /// Subject.
    pub title: Option<String>,
    /// Status.
    pub status: Option<ActivityStatus>,
    /// Priority.
    pub priority: Option<Priority>,
    /// "Private activity" flag.
    #[serde(default, deserialize_with = "de::opt_bool_lenient")]
    pub personal: Option<bool>,
    /// Category (picklist `/activityCategory/`).
    pub category: Option<Ref>,
    /// Owner: a **person id** (detail only).
    pub owner: Option<Ref>,
    /// Client (company) in context.
    pub company: Option<Ref>,
    /// Contact person in context.
    pub person: Option<Ref>,
    /// Lead in context.
    pub lead: Option<Ref>,
    /// Project in context.
    pub project: Option<Ref>,
    /// Sales order in context.
    pub sales_order: Option<Ref>,
    /// Business case in context.
    pub business_case: Option<Ref>,
    /// Offer in context.
    pub offer: Option<Ref>,
    /// Parent activity.
    pub activity: Option<Ref>,
    /// Calendar start.
    pub scheduled_from: Option<ApiDateTime>,
    /// Calendar end.
    pub scheduled_till: Option<ApiDateTime>,
    /// Realisation (completion) time.
    pub completed: Option<ApiDateTime>,
    /// Description, **HTML** (see [`html_to_text`](crate::html_to_text)).
    pub description: Option<String>,
    /// Meeting outcome, HTML (meetings only).
    pub solution: Option<String>,
    /// Location.
    pub meeting_place: Option<String>,
    /// Tags.
    #[serde(default, deserialize_with = "de::opt_tags")]
    pub tags: Option<Vec<String>>,
    /// Custom fields by generated key (e.g. `VIP_b91d1`).
    pub custom_fields: Option<Map<String, Value>>,
    /// Participants.
    #[serde(default, deserialize_with = "de::null_as_empty")]
    pub participants: Vec<Participant>,
    /// Recurrence description (read-only, shape loosely documented).
    pub recurrence: Option<Value>,
    /// Security level.
    pub security_level: Option<Ref>,
    /// External ids (detail only).
    pub ext_ids: Option<Vec<String>>,
    /// Audit block and `_version`.
    #[serde(flatten)]
    pub row_info: RowInfo,
}

/// A RAYNET meeting ("schůzka").
pub type Meeting = CalendarActivity;
/// A RAYNET event ("událost").
pub type Event = CalendarActivity;

impl CalendarActivity {
    /// Person id of the owner: `owner.id` when present (detail), else the
    /// participant flagged `owner: true` (list rows).
    pub fn owner_person_id(&self) -> Option<u64> {
        self.owner.as_ref().map(|o| o.id).or_else(|| {
            self.participants
                .iter()
                .find(|p| p.owner == Some(true))
                .and_then(|p| p.person.as_ref().map(|r| r.id))
        })
    }
}

/// One participant of an activity.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Participant {
    /// Participant row id (detail only).
    #[serde(deserialize_with = "de::opt_i64_lenient")]
    pub id: Option<i64>,
    /// Whether this participant owns the activity.
    #[serde(deserialize_with = "de::opt_bool_lenient")]
    pub owner: Option<bool>,
    /// Role.
    pub role: Option<ParticipantRole>,
    /// Display name.
    pub name: Option<String>,
    /// The participating person.
    pub person: Option<Ref>,
    /// The participating company.
    pub company: Option<Ref>,
    /// The participating lead.
    pub lead: Option<Ref>,
    /// E-mail (seen only in a 2021 model; unconfirmed).
    pub email: Option<String>,
}

/// Body of `PUT /meeting/` or `PUT /event/` (create).
///
/// `title`, `priority` and `owner` are required by the API. Datetimes are
/// written as ISO 8601 with an explicit offset.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NewActivity {
    /// Subject (required).
    pub title: String,
    /// Priority (required).
    pub priority: Priority,
    /// Owner person id (required).
    pub owner: u64,
    /// Category id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<u64>,
    /// Contact person id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person: Option<u64>,
    /// Company id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<u64>,
    /// Lead id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lead: Option<u64>,
    /// Business case id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub business_case: Option<u64>,
    /// Offer id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer: Option<u64>,
    /// Sales order id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sales_order: Option<u64>,
    /// Project id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<u64>,
    /// Parent activity id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activity: Option<u64>,
    /// Security level id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_level: Option<u64>,
    /// Calendar start.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser::iso_opt"
    )]
    pub scheduled_from: Option<DateTime<FixedOffset>>,
    /// Calendar end.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser::iso_opt"
    )]
    pub scheduled_till: Option<DateTime<FixedOffset>>,
    /// Completion time.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser::iso_opt"
    )]
    pub completed: Option<DateTime<FixedOffset>>,
    /// Description (HTML).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Outcome (HTML, meetings only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub solution: Option<String>,
    /// Tags (an array on create).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// External id set on create (documented for companies; use
    /// [`ExtIds::add`](crate::client::ExtIds::add) to be safe).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ext_id: Option<String>,
}

impl NewActivity {
    /// A create body with the three required fields.
    #[must_use]
    pub fn new(title: impl Into<String>, priority: Priority, owner_person_id: u64) -> Self {
        NewActivity {
            title: title.into(),
            priority,
            owner: owner_person_id,
            ..NewActivity::default()
        }
    }
}

/// Body of `POST /meeting/{id}/` or `POST /event/{id}/` (partial update).
///
/// Only fields that are `Some` are sent, each in the shape the documented edit schema
/// (`MeetingEditDto`) gives it: a field typed as a string is never sent as `null` — a text is
/// cleared with an empty string, and `completed` (a date-time string) is never cleared: an
/// activity is re-opened by its `status` alone. Reference fields (ids) clear with
/// `Some(None)`, sent as `null`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
#[allow(clippy::option_option)]
pub struct ActivityUpdate {
    /// Subject.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Priority.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// Status (send together with `completed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ActivityStatus>,
    /// Private flag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub personal: Option<bool>,
    /// Category id (`Some(None)` clears).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<Option<u64>>,
    /// Company id (`Some(None)` clears).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<Option<u64>>,
    /// Business case id (`Some(None)` clears).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub business_case: Option<Option<u64>>,
    /// Project id (`Some(None)` clears).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<Option<u64>>,
    /// Security level id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_level: Option<u64>,
    /// Calendar start.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser::iso_opt"
    )]
    pub scheduled_from: Option<DateTime<FixedOffset>>,
    /// Calendar end.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser::iso_opt"
    )]
    pub scheduled_till: Option<DateTime<FixedOffset>>,
    /// Completion time (send with `status`). Never cleared: the edit schema types it as a
    /// date-time string; a re-opened activity sends its `status` only.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser::iso_opt"
    )]
    pub completed: Option<DateTime<FixedOffset>>,
    /// Description, HTML (an empty string clears).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Outcome, HTML (an empty string clears; meetings only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub solution: Option<String>,
    /// Location (an empty string clears).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meeting_place: Option<String>,
    /// Tags, sent as one comma-separated string (the update DTO's shape).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser::tags_comma"
    )]
    pub tags: Option<Vec<String>>,
    /// Custom fields to set (a `null` value clears that field).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_fields: Option<Map<String, Value>>,
    /// Participant changes (a diff list, see [`ParticipantChange`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participants: Option<Vec<ParticipantChange>>,
}

impl ActivityUpdate {
    /// True when nothing would be sent.
    pub fn is_empty(&self) -> bool {
        *self == ActivityUpdate::default()
    }
}

/// One entry of the participant diff list on update: no `id` adds a
/// participant, a negative `id` deletes the row `-id`, a positive `id`
/// modifies that row.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ParticipantChange {
    /// Row id (see the type docs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// Owner flag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<bool>,
    /// Role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<ParticipantRole>,
    /// Person id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person: Option<u64>,
    /// Company id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<u64>,
    /// Lead id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lead: Option<u64>,
}

impl ParticipantChange {
    /// Adds a person as a participant.
    #[must_use]
    pub fn add_person(person_id: u64, role: Option<ParticipantRole>) -> Self {
        ParticipantChange {
            person: Some(person_id),
            role,
            ..ParticipantChange::default()
        }
    }

    /// Removes the participant row `row_id`.
    #[must_use]
    pub fn remove(row_id: i64) -> Self {
        ParticipantChange {
            id: Some(-row_id.abs()),
            ..ParticipantChange::default()
        }
    }
}
