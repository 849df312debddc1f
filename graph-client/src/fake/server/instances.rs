//! Event instances: a single event, a series master, and the occurrences and exceptions of a
//! series, each rendered as Graph answers it.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde_json::{Map, Value, json};

use super::item::{etag, item_head};
use super::odata::{apply_select, enc, expanded_ext};
use crate::fake::state::{State, StoredEvent};
use crate::fake::time::{self, When, Zone};

#[derive(Debug, Clone)]
pub(super) struct Instance {
    pub(super) id: String,
    pub(super) kind: &'static str,
    pub(super) master_id: Option<String>,
    pub(super) original_start: Option<DateTime<Utc>>,
    pub(super) start: When,
    pub(super) end: When,
    pub(super) version: u64,
    pub(super) change_key: String,
    pub(super) fields: Map<String, Value>,
    pub(super) recurrence: Option<Value>,
    pub(super) ev: StoredEvent,
}

pub(super) fn master_instance(ev: &StoredEvent) -> Instance {
    Instance {
        id: ev.id.clone(),
        kind: if ev.recurrence.is_some() {
            "seriesMaster"
        } else {
            "singleInstance"
        },
        master_id: None,
        original_start: None,
        start: ev.start,
        end: ev.end,
        version: ev.version,
        change_key: ev.change_key.clone(),
        fields: ev.fields.clone(),
        recurrence: ev.recurrence_json.clone(),
        ev: ev.clone(),
    }
}

/// The id of the item an id names: an occurrence's id (`{master}_{yyyymmdd}`, see
/// [`occurrence_id`]) names its series master. Ids are URL-safe base64 and may hold `_`
/// themselves, but never end in `_` and eight digits (they end in `=` padding).
pub(super) fn base_id(id: &str) -> &str {
    match id.rsplit_once('_') {
        Some((master, date)) if date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()) => {
            master
        }
        _ => id,
    }
}

pub(super) fn occurrence_id(master: &str, date: NaiveDate) -> String {
    format!("{master}_{}", date.format("%Y%m%d"))
}

pub(super) fn series_zone(ev: &StoredEvent) -> Zone {
    time::parse_zone(&ev.start_zone).unwrap_or(Zone::Utc)
}

/// The occurrence of `ev` on `date` before any exception.
pub(super) fn plain_occurrence(ev: &StoredEvent, date: NaiveDate) -> (When, When, DateTime<Utc>) {
    if let (When::AllDay(s), When::AllDay(e)) = (ev.start, ev.end) {
        let days = (e - s).num_days();
        let start = When::AllDay(date);
        (
            start,
            When::AllDay(date + chrono::Duration::days(days)),
            start.instant(),
        )
    } else {
        let zone = series_zone(ev);
        let local_time = time::to_local(ev.start.instant(), zone).time();
        let start = time::to_utc(date.and_time(local_time), zone);
        let duration = ev.end.instant() - ev.start.instant();
        (When::At(start), When::At(start + duration), start)
    }
}

pub(super) fn occurrence(ev: &StoredEvent, date: NaiveDate) -> Option<Instance> {
    let (start, end, original) = plain_occurrence(ev, date);
    let mut inst = Instance {
        id: occurrence_id(&ev.id, date),
        kind: "occurrence",
        master_id: Some(ev.id.clone()),
        original_start: Some(original),
        start,
        end,
        version: ev.version,
        change_key: format!("{}{}", ev.change_key, date.format("%m%d")),
        fields: ev.fields.clone(),
        recurrence: None,
        ev: ev.clone(),
    };
    if let Some(ex) = ev.exceptions.get(&date) {
        if ex.cancelled {
            return None;
        }
        inst.kind = "exception";
        inst.start = ex.start;
        inst.end = ex.end;
        inst.version = ex.version.max(ev.version);
        inst.change_key.clone_from(&ex.change_key);
        for (k, v) in &ex.fields {
            inst.fields.insert(k.clone(), v.clone());
        }
    }
    Some(inst)
}

pub(super) fn instances(ev: &StoredEvent) -> Vec<Instance> {
    match &ev.recurrence {
        None => vec![master_instance(ev)],
        Some(r) => r
            .dates()
            .into_iter()
            .filter_map(|d| occurrence(ev, d))
            .collect(),
    }
}

pub(super) fn find_instance(st: &State, user: &str, id: &str) -> Option<Instance> {
    let mb = st.mailboxes.get(user)?;
    if let Some(ev) = mb.events.get(id) {
        return Some(master_instance(ev));
    }
    let (master, date) = id.rsplit_once('_')?;
    let date = NaiveDate::parse_from_str(date, "%Y%m%d").ok()?;
    let ev = mb.events.get(master)?;
    if !ev.recurrence.as_ref()?.dates().contains(&date) {
        return None;
    }
    occurrence(ev, date)
}

pub(super) fn overlaps(inst: &Instance, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
    let (s, e) = (inst.start.instant(), inst.end.instant());
    s < end && (e > start || (s == e && s >= start))
}

pub(super) fn when_json(w: When, zone: Zone, label: &str) -> Value {
    match w {
        When::At(t) => {
            json!({"dateTime": time::fmt_local(time::to_local(t, zone)), "timeZone": label})
        }
        When::AllDay(d) => {
            json!({"dateTime": time::fmt_local(d.and_time(NaiveTime::MIN)), "timeZone": label})
        }
    }
}

pub(super) fn attendee_addresses(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.pointer("/emailAddress/address").and_then(Value::as_str))
                .map(str::to_ascii_lowercase)
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A location as Exchange answers it: a written display name also becomes its `uniqueId`
/// (`uniqueIdType: private`), with `locationType: default`; no location is an empty one
/// (`uniqueIdType: unknown`, empty address and coordinates).
pub(super) fn full_location(written: Option<&Value>) -> Value {
    let mut loc = written
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let name = loc
        .get("displayName")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    loc.insert("displayName".into(), json!(name));
    loc.entry("locationType").or_insert(json!("default"));
    if name.is_empty() {
        loc.entry("uniqueIdType").or_insert(json!("unknown"));
        loc.entry("address").or_insert(json!({}));
        loc.entry("coordinates").or_insert(json!({}));
    } else {
        loc.entry("uniqueId").or_insert(json!(name));
        loc.entry("uniqueIdType").or_insert(json!("private"));
    }
    Value::Object(loc)
}

pub(super) struct Render<'a> {
    pub(super) zone: Zone,
    pub(super) label: &'a str,
    pub(super) sparse: bool,
    pub(super) ext: Option<&'a str>,
    pub(super) select: Option<&'a [String]>,
    pub(super) body_text: bool,
}

pub(super) fn render_event(inst: &Instance, r: &Render<'_>) -> Value {
    let etag = etag(&inst.change_key);
    if r.sparse {
        return json!({
            "@odata.type": "#microsoft.graph.event", "@odata.etag": etag, "id": inst.id,
            "seriesMasterId": inst.master_id, "type": inst.kind,
            "start": when_json(inst.start, r.zone, r.label), "end": when_json(inst.end, r.zone, r.label),
        });
    }
    let ev = &inst.ev;
    let all_day = matches!(inst.start, When::AllDay(_));
    let mut m = item_head(&inst.id, &inst.change_key, ev.created, ev.modified);
    if let Some(t) = &ev.transaction_id {
        m.insert("transactionId".into(), json!(t));
    }
    m.insert("originalStartTimeZone".into(), json!(ev.start_zone));
    m.insert("originalEndTimeZone".into(), json!(ev.end_zone));
    m.insert(
        "iCalUId".into(),
        // Each occurrence has its own, the same in the organizer's and the attendees' copies.
        json!(match inst.original_start {
            Some(original) => format!("{}{}", ev.ical_uid, original.format("%Y%m%d")),
            None => ev.ical_uid.clone(),
        }),
    );
    m.insert("reminderMinutesBeforeStart".into(), json!(15));
    m.insert("isReminderOn".into(), json!(true));
    m.insert("hasAttachments".into(), json!(false));
    m.insert("subject".into(), json!(""));
    m.insert("importance".into(), json!("normal"));
    m.insert("sensitivity".into(), json!("normal"));
    m.insert("isCancelled".into(), json!(false));
    m.insert("responseRequested".into(), json!(true));
    m.insert("showAs".into(), json!("busy"));
    m.insert("isOnlineMeeting".into(), json!(false));
    m.insert("onlineMeetingProvider".into(), json!("unknown"));
    m.insert("onlineMeetingUrl".into(), Value::Null);
    m.insert("onlineMeeting".into(), Value::Null);
    m.insert("isDraft".into(), json!(false));
    m.insert("hideAttendees".into(), json!(false));
    m.insert("allowNewTimeProposals".into(), json!(true));
    m.insert("body".into(), json!({"contentType": "html", "content": ""}));
    m.insert("attendees".into(), json!([]));
    for (k, v) in &inst.fields {
        m.insert(k.clone(), v.clone());
    }
    let location = full_location(m.get("location"));
    if let Some(Value::Array(att)) = m.get_mut("attendees") {
        for a in att.iter_mut() {
            if let Value::Object(o) = a {
                o.entry("type").or_insert(json!("required"));
                o.entry("status")
                    .or_insert(json!({"response": "none", "time": "0001-01-01T00:00:00Z"}));
            }
        }
    }
    let body_text = m
        .get("body")
        .and_then(|b| b.get("content"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let is_text = m
        .get("body")
        .and_then(|b| b.get("contentType"))
        .and_then(Value::as_str)
        .is_some_and(|c| c.eq_ignore_ascii_case("text"));
    if is_text && !r.body_text {
        m.insert("body".into(), json!({"contentType": "html", "content": format!("<html><body>{}</body></html>", html_escape(&body_text))}));
    }
    m.insert(
        "bodyPreview".into(),
        json!(body_text.chars().take(255).collect::<String>()),
    );
    let has_location = location
        .get("displayName")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty());
    m.insert(
        "locations".into(),
        if has_location {
            json!([location])
        } else {
            json!([])
        },
    );
    m.insert("location".into(), location);
    m.insert("isAllDay".into(), json!(all_day));
    m.insert("type".into(), json!(inst.kind));
    m.insert("seriesMasterId".into(), json!(inst.master_id));
    if let Some(o) = inst.original_start {
        m.insert("originalStart".into(), json!(time::fmt_utc(o)));
    }
    m.insert(
        "recurrence".into(),
        inst.recurrence.clone().unwrap_or(Value::Null),
    );
    m.insert("isOrganizer".into(), json!(ev.is_organizer));
    m.insert("responseStatus".into(), json!({"response": if ev.is_organizer { "organizer" } else { "notResponded" }, "time": "0001-01-01T00:00:00Z"}));
    m.insert("organizer".into(), ev.organizer.clone());
    m.insert(
        "webLink".into(),
        json!(format!(
            "https://outlook.office365.com/owa/?itemid={}&exvsurl=1&path=/calendar/item",
            enc(&inst.id)
        )),
    );
    m.insert("start".into(), when_json(inst.start, r.zone, r.label));
    m.insert("end".into(), when_json(inst.end, r.zone, r.label));
    if let Some(found) = r.ext.and_then(|prop| expanded_ext(&ev.ext, prop)) {
        m.insert("singleValueExtendedProperties".into(), found);
    }
    apply_select(
        Value::Object(m),
        r.select,
        &["id", "singleValueExtendedProperties"],
    )
}
