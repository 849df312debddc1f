//! Seeding and inspection: what the tests and the demo do as "a user in Outlook" (seed, edit,
//! delete) and the fake's state as Graph would show it.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::contacts::{insert_contact, patch_contact, remove_contact, render_contact};
use super::delivery::deliver;
use super::events::{event_patch, ical_uid, remove_event, user_address};
use super::instances::{
    Render, attendee_addresses, find_instance, instances, overlaps, render_event,
};
use super::odata::parse_ext_props;
use super::request::Req;
use crate::fake::seed::{EventSeed, SeriesSeed};
use crate::fake::state::{State, StoredEvent};
use crate::fake::time::{self, Recurrence, Zone};

pub(crate) fn seed_event(st: &mut State, user: &str, seed: EventSeed) -> String {
    let id = st.outlook_id(b'E');
    let change_key = st.change_key();
    let n = st.next();
    let self_address = user_address(st, user);
    let now = Utc::now();
    let mut fields = seed.extra;
    // A seed may name the meeting's iCalUId (e.g. one invitation planted in two mailboxes).
    let ical = match fields.remove("iCalUId") {
        Some(Value::String(uid)) => uid,
        _ => ical_uid(n),
    };
    fields.insert("subject".into(), json!(seed.subject));
    if !seed.attendees.is_empty() {
        let att: Vec<Value> = seed
            .attendees
            .iter()
            .map(|a| json!({"type": "required", "emailAddress": {"address": a, "name": a}}))
            .collect();
        fields.insert("attendees".into(), json!(att));
    }
    let (organizer, is_organizer) = match &seed.organizer {
        Some(o) => (json!({"emailAddress": {"name": o, "address": o}}), false),
        None => (self_address, true),
    };
    let mb = st.mailbox(user);
    let version = mb.next_seq();
    mb.events.insert(
        id.clone(),
        StoredEvent {
            id: id.clone(),
            fields,
            start: seed.start,
            end: seed.end,
            start_zone: seed.zone.clone(),
            end_zone: seed.zone,
            recurrence: None,
            recurrence_json: None,
            exceptions: std::collections::BTreeMap::new(),
            change_key,
            version,
            created: now,
            modified: now,
            ext: seed.ext,
            transaction_id: None,
            ical_uid: ical,
            organizer,
            is_organizer,
        },
    );
    // A meeting the user organised reaches the attendees' calendars.
    deliver(st, user, &id, None);
    id
}

pub(crate) fn seed_series(st: &mut State, user: &str, seed: SeriesSeed) -> String {
    let SeriesSeed {
        subject,
        first_start,
        duration,
        weekly,
        interval,
        count,
        zone: zone_name,
    } = seed;
    let zone = time::parse_zone(&zone_name).unwrap_or(Zone::Utc);
    let local_start = time::to_local(first_start, zone);
    let (pattern, weekly_days) = match &weekly {
        Some(days) => ("weekly", days.clone()),
        None => ("daily", Vec::new()),
    };
    let recurrence_json = json!({
        "pattern": {"type": pattern, "interval": interval, "month": 0, "dayOfMonth": 0,
            "daysOfWeek": weekly_days.iter().map(|d| time::weekday_name(*d)).collect::<Vec<_>>(),
            "firstDayOfWeek": "sunday", "index": "first"},
        "range": {"type": "numbered", "startDate": local_start.date().format("%Y-%m-%d").to_string(), "endDate": "0001-01-01",
            "recurrenceTimeZone": zone_name, "numberOfOccurrences": count},
    });
    let recurrence = Recurrence {
        weekly: weekly.is_some(),
        interval,
        days: weekly_days,
        first_day_of_week: chrono::Weekday::Sun,
        start_date: local_start.date(),
        end_date: None,
        count: Some(count),
    };
    // The master starts at the first occurrence.
    let first_date = recurrence
        .dates()
        .first()
        .copied()
        .unwrap_or(local_start.date());
    let start = time::to_utc(first_date.and_time(local_start.time()), zone);
    let id = seed_event(
        st,
        user,
        EventSeed::new(&subject, start, start + duration).zone(&zone_name),
    );
    let mut attendees = Vec::new();
    if let Some(ev) = st.mailbox(user).events.get_mut(&id) {
        ev.recurrence = Some(recurrence);
        ev.recurrence_json = Some(recurrence_json);
        attendees = attendee_addresses(ev.fields.get("attendees"));
    }
    deliver(st, user, &id, Some(&attendees));
    id
}

pub(crate) fn occurrence_ids(
    st: &State,
    user: &str,
    master: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Vec<String> {
    let Some(ev) = st.mailboxes.get(user).and_then(|mb| mb.events.get(master)) else {
        return Vec::new();
    };
    instances(ev)
        .into_iter()
        .filter(|i| overlaps(i, start, end))
        .map(|i| i.id)
        .collect()
}

fn user_req(body: &Value) -> Req {
    Req {
        method: "PATCH".into(),
        segs: Vec::new(),
        query: Vec::new(),
        headers: Vec::new(),
        body: serde_json::to_vec(body).unwrap_or_default(),
        in_batch: false,
    }
}

pub(crate) fn user_patch_event(st: &mut State, user: &str, id: &str, fields: &Value) -> bool {
    event_patch(st, &user_req(fields), user, id, false).is_ok_and(|r| r.status == 200)
}

pub(crate) fn user_delete_event(st: &mut State, user: &str, id: &str) -> bool {
    remove_event(st, user, id).is_some()
}

pub(crate) fn inspect_event(st: &State, user: &str, id: &str) -> Option<Value> {
    let inst = find_instance(st, user, id)?;
    let mut v = render_event(
        &inst,
        &Render {
            zone: Zone::Utc,
            label: "UTC",
            sparse: false,
            ext: None,
            select: None,
            body_text: true,
        },
    );
    let props: Vec<Value> = inst
        .ev
        .ext
        .iter()
        .map(|(i, val)| json!({"id": i, "value": val}))
        .collect();
    v["singleValueExtendedProperties"] = json!(props);
    Some(v)
}

pub(crate) fn inspect_events(st: &State, user: &str) -> Vec<Value> {
    let Some(mb) = st.mailboxes.get(user) else {
        return Vec::new();
    };
    mb.events
        .keys()
        .filter_map(|id| inspect_event(st, user, id))
        .collect()
}

pub(crate) fn seed_contact(st: &mut State, user: &str, folder: &str, fields: Value) -> String {
    let body = match fields {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let ext = parse_ext_props(body.get("singleValueExtendedProperties")).unwrap_or_default();
    insert_contact(st, user, folder, &body, ext)
}

pub(crate) fn user_patch_contact(st: &mut State, user: &str, id: &str, fields: &Value) -> bool {
    let body = fields.as_object().cloned().unwrap_or_default();
    patch_contact(st, user, id, &body, Vec::new())
}

pub(crate) fn user_delete_contact(st: &mut State, user: &str, id: &str) -> bool {
    remove_contact(st, user, id)
}

pub(crate) fn inspect_contacts(st: &State, user: &str, folder: &str) -> Vec<Value> {
    let Some(mb) = st.mailboxes.get(user) else {
        return Vec::new();
    };
    mb.contacts
        .values()
        .filter(|c| c.folder == folder)
        .map(render_contact)
        .collect()
}
