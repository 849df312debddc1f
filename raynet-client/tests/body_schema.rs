//! Every activity body the client can send, checked against the documented DTOs
//! (`MeetingInsertDto`, `MeetingEditDto`; reference `raynet-api.md` §4.4): each key is a
//! documented field and each value has the documented type. A field the schema types as a
//! string (text, enum or date-time) is never `null`.

use chrono::{DateTime, Utc};
use chrono_tz::Europe::Prague;
use raynet_client::adapter::{event_to_new_activity, event_to_update, participant_changes};
use raynet_client::models::{ActivityUpdate, NewActivity, ParticipantChange, ParticipantRole};
use serde_json::Value;
use sync_core::{Event, EventField, EventStatus, FieldSet, Schedule, Sensitivity};

/// The JSON types a documented field accepts.
#[derive(Clone, Copy, Debug)]
enum Shape {
    /// A text (never null).
    Text,
    /// An ISO 8601 date-time string (never null).
    DateTime,
    /// An enum value, a string (never null).
    Enum(&'static [&'static str]),
    /// A reference: an id, or null to clear it.
    Reference,
    /// A boolean.
    Bool,
    /// An array of strings (tags on create).
    TextArray,
    /// An object of custom fields (a null value clears that field).
    CustomFields,
    /// The participants' diff list.
    Participants,
}

const PRIORITIES: &[&str] = &["MINOR", "DEFAULT", "CRITICAL"];
const STATUSES: &[&str] = &["NEW", "SCHEDULED", "COMPLETED", "CANCELLED"];

/// `MeetingInsertDto` (and the event's), plus `extId`: the key sent on create on purpose
/// (whether an insert keeps it is learned, `InstanceFacts`), as the documented string.
fn insert_schema(field: &str) -> Option<Shape> {
    Some(match field {
        "title" | "description" | "solution" | "extId" => Shape::Text,
        "priority" => Shape::Enum(PRIORITIES),
        "owner" | "category" | "person" | "company" | "businessCase" | "offer" | "salesOrder"
        | "project" | "activity" | "lead" | "securityLevel" => Shape::Reference,
        "scheduledFrom" | "scheduledTill" | "completed" => Shape::DateTime,
        "tags" => Shape::TextArray,
        _ => return None,
    })
}

/// `MeetingEditDto`.
fn edit_schema(field: &str) -> Option<Shape> {
    Some(match field {
        "title" | "description" | "solution" | "meetingPlace" | "tags" => Shape::Text,
        "priority" => Shape::Enum(PRIORITIES),
        "status" => Shape::Enum(STATUSES),
        "category" | "company" | "businessCase" | "offer" | "salesOrder" | "project"
        | "activity" | "securityLevel" => Shape::Reference,
        "personal" => Shape::Bool,
        "scheduledFrom" | "scheduledTill" | "completed" => Shape::DateTime,
        "customFields" => Shape::CustomFields,
        "participants" => Shape::Participants,
        _ => return None,
    })
}

fn check_value(body: &str, field: &str, shape: Shape, v: &Value) -> Result<(), String> {
    let ok = match shape {
        Shape::Text => v.is_string(),
        Shape::DateTime => v
            .as_str()
            .is_some_and(|s| DateTime::parse_from_rfc3339(s).is_ok()),
        Shape::Enum(allowed) => v.as_str().is_some_and(|s| allowed.contains(&s)),
        Shape::Reference => v.is_null() || v.is_u64(),
        Shape::Bool => v.is_boolean(),
        Shape::TextArray => v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
        Shape::CustomFields => v.is_object(),
        Shape::Participants => v.as_array().is_some_and(|rows| {
            rows.iter().all(|row| {
                row.as_object().is_some_and(|o| {
                    o.iter().all(|(k, v)| match k.as_str() {
                        "id" => v.is_i64(),
                        "owner" => v.is_boolean(),
                        "role" => v.as_str().is_some_and(|r| ["FROM", "TO"].contains(&r)),
                        "person" | "company" | "lead" => v.is_u64(),
                        _ => false,
                    })
                })
            })
        }),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{body}: `{field}` = {v} is not {shape:?}"))
    }
}

fn check_body(body: &str, json: &Value, schema: fn(&str) -> Option<Shape>) -> Result<(), String> {
    let object = json.as_object().ok_or(format!("{body} is not an object"))?;
    for (field, value) in object {
        let shape = schema(field).ok_or(format!("{body}: `{field}` is not documented"))?;
        check_value(body, field, shape, value)?;
    }
    Ok(())
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Events in every state the adapter writes: each status, empty and filled texts, private
/// and public, timed and all-day.
fn events() -> Vec<Event> {
    let timed = Schedule::Timed {
        start: utc("2026-03-29T08:00:00Z"),
        end: utc("2026-03-29T09:00:00Z"),
    };
    let all_day = Schedule::AllDay {
        start: chrono::NaiveDate::from_ymd_opt(2026, 10, 25).unwrap(),
        end: chrono::NaiveDate::from_ymd_opt(2026, 10, 26).unwrap(),
    };
    let mut out = Vec::new();
    for schedule in [timed, all_day] {
        for status in [
            EventStatus::Scheduled,
            EventStatus::Completed,
            EventStatus::Cancelled,
        ] {
            for filled in [false, true] {
                let mut e = Event::new(if filled { "Visit" } else { "" }, schedule);
                e.status = status;
                if filled {
                    e.description = "Agenda".into();
                    e.location = "Brno".into();
                    e.sensitivity = Sensitivity::Private;
                }
                out.push(e);
            }
        }
    }
    out
}

#[test]
fn every_insert_and_edit_body_of_the_adapter_has_the_documented_shape() {
    let all: FieldSet<EventField> = FieldSet::all();
    for e in events() {
        let insert = serde_json::to_value(event_to_new_activity(&e, 5, &Prague)).unwrap();
        check_body("insert", &insert, insert_schema).unwrap();
        let mut update = event_to_update(&e, all, &Prague);
        update.participants = Some(participant_changes(&[], &[7, 8]));
        let edit = serde_json::to_value(&update).unwrap();
        check_body("edit", &edit, edit_schema).unwrap();
        if e.status == EventStatus::Completed {
            assert!(edit["completed"].is_string(), "{edit}");
        } else {
            assert!(
                edit.get("completed").is_none(),
                "re-opening sends the status alone: {edit}"
            );
        }
    }
}

#[test]
fn the_models_cannot_send_null_for_a_string_field() {
    // Every field of the edit body set, texts cleared, references cleared.
    let mut u = ActivityUpdate::default();
    u.title = Some(String::new());
    u.description = Some(String::new());
    u.solution = Some(String::new());
    u.meeting_place = Some(String::new());
    u.completed = Some(DateTime::parse_from_rfc3339("2026-03-29T11:00:00+02:00").unwrap());
    u.status = Some(raynet_client::models::ActivityStatus::Scheduled);
    u.category = Some(None);
    u.company = Some(None);
    u.business_case = Some(None);
    u.project = Some(Some(4));
    u.security_level = Some(1);
    u.personal = Some(false);
    u.tags = Some(vec!["a".into(), "b".into()]);
    u.participants = Some(vec![
        ParticipantChange::add_person(7, Some(ParticipantRole::To)),
        ParticipantChange::remove(3),
    ]);
    let edit = serde_json::to_value(&u).unwrap();
    check_body("edit", &edit, edit_schema).unwrap();
    assert_eq!(
        edit["description"], "",
        "a text clears with an empty string"
    );
    assert!(edit["company"].is_null(), "a reference clears with null");

    let mut n = NewActivity::new("Visit", raynet_client::models::Priority::Default, 2);
    n.description = Some("x".into());
    n.completed = u.completed;
    n.tags = Some(vec!["a".into()]);
    n.category = Some(3);
    check_body("insert", &serde_json::to_value(&n).unwrap(), insert_schema).unwrap();
}

#[test]
fn the_schema_check_refuses_what_the_documents_do_not_allow() {
    let bad = [
        serde_json::json!({"completed": null}),
        serde_json::json!({"description": null}),
        serde_json::json!({"meetingPlace": null}),
        serde_json::json!({"status": "POSTPONED"}),
        serde_json::json!({"owner": 3}),
        serde_json::json!({"participants": [{"role": null}]}),
    ];
    for body in bad {
        assert!(check_body("edit", &body, edit_schema).is_err(), "{body}");
    }
}
