//! Invitation delivery, as Exchange does it: a meeting organised in a mailbox of the tenant
//! lands in the calendar of every attendee who has a mailbox in the tenant, as the attendee's
//! own copy (its own id, the same `iCalUId`, `isOrganizer: false`, the organiser in
//! `organizer`, not responded yet). The organiser's later changes reach the copies (subject,
//! body, times, location, attendees, recurrence, exceptions): an added attendee gets a copy,
//! a removed attendee's copy is cancelled, and so are all copies when the organiser cancels
//! or deletes the meeting (`isCancelled: true`, the subject prefixed `Canceled: `). An
//! attendee's edits of their own copy never reach the organiser.
//!
//! Copies are found by `iCalUId`, as Exchange correlates a meeting's items. Each change of a
//! copy gets a new change key and the mailbox's next sequence number, so delta rounds and
//! change notifications see it like any other change. An attendee who deleted their copy gets
//! none again while they stay invited (simplification: Exchange would re-add it with the next
//! update mail).
//!
//! On by default; `FakeGraph::set_invitation_delivery(false)` turns it off.

use std::collections::BTreeMap;

use chrono::{NaiveDate, Utc};
use serde_json::{Map, Value, json};

use super::instances::attendee_addresses;
use crate::fake::seed::MailboxAccess;
use crate::fake::state::{Exception, State, StoredEvent};

/// The properties of a meeting the organiser's changes carry to the attendees' copies (the
/// others — categories, reminders, show-as, extended properties — are each mailbox's own).
const MEETING_FIELDS: &[&str] = &[
    "subject",
    "body",
    "location",
    "locations",
    "attendees",
    "importance",
    "sensitivity",
    "hideAttendees",
    "allowNewTimeProposals",
    "responseRequested",
    "isOnlineMeeting",
    "onlineMeeting",
    "onlineMeetingProvider",
    "onlineMeetingUrl",
];

/// The prefix Exchange puts before the subject of a cancelled meeting in attendees' calendars.
pub(super) const CANCELED_PREFIX: &str = "Canceled: ";

/// The user ids of the attendees at `addresses` who have a mailbox in the tenant, but the
/// organiser's own (`organizer_user`).
fn attendee_mailboxes(st: &State, organizer_user: &str, addresses: &[String]) -> Vec<String> {
    let mut out: Vec<String> = addresses
        .iter()
        .filter_map(|a| st.user(a))
        .filter(|u| u.id != organizer_user && u.access != MailboxAccess::NotEnabled)
        .map(|u| u.id.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The id of `user`'s copy of the meeting with this `iCalUId`, if they hold one.
fn copy_id(st: &State, user: &str, ical_uid: &str) -> Option<String> {
    st.mailboxes.get(user).and_then(|mb| {
        mb.events
            .values()
            .find(|e| !e.is_organizer && e.ical_uid == ical_uid)
            .map(|e| e.id.clone())
    })
}

/// The meeting properties of `fields` (see [`MEETING_FIELDS`]).
fn meeting_fields(fields: &Map<String, Value>) -> Map<String, Value> {
    fields
        .iter()
        .filter(|(k, _)| MEETING_FIELDS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// `fields` marked cancelled: `isCancelled` and the subject prefixed (once).
fn cancelled(mut fields: Map<String, Value>, subject: &str) -> Map<String, Value> {
    fields.insert("isCancelled".into(), json!(true));
    let subject = if subject.starts_with(CANCELED_PREFIX) {
        subject.to_owned()
    } else {
        format!("{CANCELED_PREFIX}{subject}")
    };
    fields.insert("subject".into(), json!(subject));
    fields
}

fn subject_of(fields: &Map<String, Value>) -> &str {
    fields.get("subject").and_then(Value::as_str).unwrap_or("")
}

/// The exceptions a copy should hold after the organiser's `ev`, given the copy's own `old`
/// ones: changed occurrences as the organiser has them, cancelled occurrences shown cancelled
/// (hidden when the copy never showed them).
fn copy_exceptions(
    ev: &StoredEvent,
    old: Option<&BTreeMap<NaiveDate, Exception>>,
) -> BTreeMap<NaiveDate, Exception> {
    let mut out = BTreeMap::new();
    for (date, ex) in &ev.exceptions {
        let known = old.and_then(|o| o.get(date));
        let (hidden, fields) = if ex.cancelled {
            let hidden = old.is_none() || known.is_some_and(|k| k.cancelled);
            let mut base = meeting_fields(&ev.fields);
            for (k, v) in meeting_fields(&ex.fields) {
                base.insert(k, v);
            }
            let subject = subject_of(&base).to_owned();
            (hidden, cancelled(meeting_fields(&ex.fields), &subject))
        } else {
            (false, meeting_fields(&ex.fields))
        };
        let same = known.is_some_and(|k| {
            k.cancelled == hidden && k.start == ex.start && k.end == ex.end && k.fields == fields
        });
        out.insert(
            *date,
            match (same, known) {
                (true, Some(k)) => k.clone(),
                _ => Exception {
                    cancelled: hidden,
                    start: ex.start,
                    end: ex.end,
                    fields,
                    change_key: String::new(),
                    version: 0,
                    modified: ex.modified,
                },
            },
        );
    }
    // Occurrences the attendee removed from their own copy stay removed.
    for (date, k) in old.into_iter().flatten() {
        if k.cancelled && !out.contains_key(date) {
            out.insert(*date, k.clone());
        }
    }
    out
}

/// Stamps the exceptions of `exceptions` that changed (an empty change key) with a fresh
/// change key and `version`.
fn stamp_exceptions(st: &mut State, exceptions: &mut BTreeMap<NaiveDate, Exception>, version: u64) {
    let now = Utc::now();
    for ex in exceptions.values_mut() {
        if ex.change_key.is_empty() {
            ex.change_key = st.change_key();
            ex.version = version;
            ex.modified = now;
        }
    }
}

/// A new copy of the organiser's `ev` in `user`'s mailbox.
fn create_copy(st: &mut State, user: &str, ev: &StoredEvent) {
    let id = st.outlook_id(b'E');
    let change_key = st.change_key();
    let mut fields = meeting_fields(&ev.fields);
    // Not answered yet: Exchange shows the meeting as tentative.
    fields.insert("showAs".into(), json!("tentative"));
    let mut exceptions = copy_exceptions(ev, None);
    let version = st.mailbox(user).next_seq();
    stamp_exceptions(st, &mut exceptions, version);
    let now = Utc::now();
    let copy = StoredEvent {
        id: id.clone(),
        fields,
        start: ev.start,
        end: ev.end,
        start_zone: ev.start_zone.clone(),
        end_zone: ev.end_zone.clone(),
        recurrence: ev.recurrence.clone(),
        recurrence_json: ev.recurrence_json.clone(),
        exceptions,
        change_key,
        version,
        created: now,
        modified: now,
        ext: Vec::new(),
        transaction_id: None,
        ical_uid: ev.ical_uid.clone(),
        organizer: ev.organizer.clone(),
        is_organizer: false,
    };
    st.mailbox(user).events.insert(id, copy);
}

/// Brings `user`'s copy `copy_id` in step with the organiser's `ev`; a new change key and
/// version only when something changed.
fn refresh_copy(st: &mut State, user: &str, copy_id: &str, ev: &StoredEvent) {
    let Some(copy) = st
        .mailboxes
        .get(user)
        .and_then(|mb| mb.events.get(copy_id))
        .cloned()
    else {
        return;
    };
    let mut fields: Map<String, Value> = copy
        .fields
        .iter()
        .filter(|(k, _)| !MEETING_FIELDS.contains(&k.as_str()) && *k != "isCancelled")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    fields.extend(meeting_fields(&ev.fields));
    let mut exceptions = copy_exceptions(ev, Some(&copy.exceptions));
    let unchanged = fields == copy.fields
        && copy.start == ev.start
        && copy.end == ev.end
        && copy.start_zone == ev.start_zone
        && copy.end_zone == ev.end_zone
        && copy.recurrence_json == ev.recurrence_json
        && exceptions.len() == copy.exceptions.len()
        // A changed exception has no change key yet (hidden ones show nothing either way).
        && exceptions
            .values()
            .all(|e| e.cancelled || !e.change_key.is_empty());
    if unchanged {
        return;
    }
    let change_key = st.change_key();
    let version = st.mailbox(user).next_seq();
    stamp_exceptions(st, &mut exceptions, version);
    let now = Utc::now();
    if let Some(c) = st.mailbox(user).events.get_mut(copy_id) {
        c.fields = fields;
        c.start = ev.start;
        c.end = ev.end;
        c.start_zone.clone_from(&ev.start_zone);
        c.end_zone.clone_from(&ev.end_zone);
        c.recurrence.clone_from(&ev.recurrence);
        c.recurrence_json.clone_from(&ev.recurrence_json);
        c.exceptions = exceptions;
        c.change_key = change_key;
        c.version = version;
        c.modified = now;
    }
}

/// Marks `user`'s copy `copy_id` cancelled (once).
fn cancel_copy(st: &mut State, user: &str, copy_id: &str) {
    let Some(copy) = st
        .mailboxes
        .get(user)
        .and_then(|mb| mb.events.get(copy_id))
        .cloned()
    else {
        return;
    };
    if copy.fields.get("isCancelled") == Some(&json!(true)) {
        return;
    }
    let fields = cancelled(copy.fields.clone(), subject_of(&copy.fields));
    let mut exceptions = copy.exceptions.clone();
    for ex in exceptions.values_mut().filter(|e| !e.cancelled) {
        let subject = ex
            .fields
            .get("subject")
            .and_then(Value::as_str)
            .unwrap_or_else(|| subject_of(&copy.fields))
            .to_owned();
        ex.fields = cancelled(std::mem::take(&mut ex.fields), &subject);
        ex.change_key = String::new();
    }
    let change_key = st.change_key();
    let version = st.mailbox(user).next_seq();
    stamp_exceptions(st, &mut exceptions, version);
    let now = Utc::now();
    if let Some(c) = st.mailbox(user).events.get_mut(copy_id) {
        c.fields = fields;
        c.exceptions = exceptions;
        c.change_key = change_key;
        c.version = version;
        c.modified = now;
    }
}

/// After the organiser's meeting `id` in `user`'s mailbox was created (`before`: `None`) or
/// changed (`before`: its attendees before the change): a copy for each newly invited
/// attendee with a mailbox in the tenant, the other copies brought in step, the copies of
/// removed attendees cancelled. Nothing for an event `user` does not organise.
pub(super) fn deliver(st: &mut State, user: &str, id: &str, before: Option<&[String]>) {
    if !st.invitation_delivery {
        return;
    }
    let Some(ev) = st
        .mailboxes
        .get(user)
        .and_then(|mb| mb.events.get(id))
        .filter(|ev| ev.is_organizer)
        .cloned()
    else {
        return;
    };
    let now = attendee_addresses(ev.fields.get("attendees"));
    let before = before.unwrap_or_default();
    for attendee in attendee_mailboxes(st, user, &now) {
        if let Some(copy) = copy_id(st, &attendee, &ev.ical_uid) {
            refresh_copy(st, &attendee, &copy, &ev);
        } else if st
            .user(&attendee)
            .is_some_and(|u| !before.iter().any(|b| is_address_of(u, b)))
        {
            // Newly invited (an attendee who deleted their copy gets none again).
            create_copy(st, &attendee, &ev);
        }
    }
    let removed: Vec<String> = before
        .iter()
        .filter(|b| !now.contains(b))
        .cloned()
        .collect();
    for attendee in attendee_mailboxes(st, user, &removed) {
        if let Some(copy) = copy_id(st, &attendee, &ev.ical_uid) {
            cancel_copy(st, &attendee, &copy);
        }
    }
}

/// After the organiser cancelled or deleted the meeting `ev` (no longer in their mailbox):
/// every attendee's copy is marked cancelled.
pub(super) fn cancel_delivered(st: &mut State, user: &str, ev: &StoredEvent) {
    if !st.invitation_delivery || !ev.is_organizer {
        return;
    }
    let attendees = attendee_addresses(ev.fields.get("attendees"));
    for attendee in attendee_mailboxes(st, user, &attendees) {
        if let Some(copy) = copy_id(st, &attendee, &ev.ical_uid) {
            cancel_copy(st, &attendee, &copy);
        }
    }
}

/// Whether `address` (lowercased) is one of `user`'s addresses.
fn is_address_of(user: &crate::fake::state::FakeUser, address: &str) -> bool {
    user.upn.eq_ignore_ascii_case(address)
        || user
            .mail
            .as_deref()
            .is_some_and(|m| m.eq_ignore_ascii_case(address))
}
