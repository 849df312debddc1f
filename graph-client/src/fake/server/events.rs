//! Event endpoints: create (with `transactionId`), get, update (an occurrence becomes an
//! exception), delete, list (filtered on an extended property); and the invitations Outlook
//! would mail.

use chrono::{NaiveDate, Utc};
use serde_json::{Map, Value, json};

use super::delivery::{cancel_delivered, deliver};
use super::event_times::{Times, parse_recurrence, resolve_times};
use super::instances::{
    Instance, Render, attendee_addresses, base_id, find_instance, master_instance, occurrence_id,
    render_event,
};
use super::item::{etag, writable};
use super::odata::{
    applied, enc, ext_expand, ext_filter, has_ext_value, next_skip_query, parse_ext_props,
    read_zone, top_and_skip, upsert_ext,
};
use super::request::{Answer, Prefs, Req, Resp, check_if_match, not_found_or_malformed};
use crate::fake::records::{Invitation, InvitationKind};
use crate::fake::state::{Exception, State, StoredEvent, Tombstone};
use crate::fake::time::Recurrence;

/// The properties of an event a write cannot set, besides those of every item.
const EVENT_READ_ONLY: &[&str] = &[
    "iCalUId",
    "isCancelled",
    "isDraft",
    "type",
    "seriesMasterId",
    "originalStart",
    "bodyPreview",
    "webLink",
    "isOrganizer",
    "organizer",
    "responseStatus",
    "start",
    "end",
    "isAllDay",
    "recurrence",
    "singleValueExtendedProperties",
    "transactionId",
    "originalStartTimeZone",
    "originalEndTimeZone",
    "locations",
];

/// The `iCalUId` of the `n`th event made (a fixed Outlook prefix and the number in hex).
pub(super) fn ical_uid(n: u64) -> String {
    format!("040000008200E00074C5B7101A82E0080000000000000000000000000000{n:08X}")
}

pub(super) fn writable_fields(body: &Map<String, Value>) -> Map<String, Value> {
    writable(body, EVENT_READ_ONLY)
}

pub(super) fn user_address(st: &State, user: &str) -> Value {
    let u = st.users.iter().find(|u| u.id == user);
    json!({"emailAddress": {"name": u.map(|u| u.display_name.clone()), "address": u.and_then(|u| u.mail.clone())}})
}

pub(super) fn log_invitation(
    st: &mut State,
    user: &str,
    event_id: &str,
    kind: InvitationKind,
    subject: Option<&Value>,
    attendees: Vec<String>,
) {
    if attendees.is_empty() {
        return;
    }
    st.invitations.push(Invitation {
        mailbox: user.to_owned(),
        event_id: event_id.to_owned(),
        kind,
        subject: subject.and_then(Value::as_str).map(str::to_owned),
        attendees,
    });
}

pub(super) fn event_create(st: &mut State, req: &Req, user: &str) -> Answer {
    let body = req.json_body()?;
    let prefs = req.prefer();
    let render = |st: &State, id: &str| {
        if let Some(inst) = find_instance(st, user, id) {
            answer_event(&inst, 201, &prefs, None, None)
        } else {
            let (_, label, zone_applied) = read_zone(&prefs);
            applied(
                Resp::error(500, "generalException", "lost"),
                &prefs,
                zone_applied,
                &label,
            )
        }
    };
    let transaction = body
        .get("transactionId")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let Some(t) = &transaction {
        if let Some(existing) = st.mailbox(user).transactions.get(t).cloned() {
            if st.mailbox(user).events.contains_key(&existing) {
                return Ok(render(st, &existing));
            }
        }
    }
    let ext = parse_ext_props(body.get("singleValueExtendedProperties"))?;
    let times = resolve_times(&body, None)?;
    let recurrence = match body.get("recurrence").filter(|v| !v.is_null()) {
        Some(v) => Some((parse_recurrence(v, times.start)?, v.clone())),
        None => None,
    };
    let fields = writable_fields(&body);
    let organizer = user_address(st, user);
    let id = st.outlook_id(b'E');
    let change_key = st.change_key();
    let n = st.next();
    let now = Utc::now();
    let mb = st.mailbox(user);
    let version = mb.next_seq();
    let ev = StoredEvent {
        id: id.clone(),
        fields,
        start: times.start,
        end: times.end,
        start_zone: times.start_zone,
        end_zone: times.end_zone,
        recurrence: recurrence.as_ref().map(|r| r.0.clone()),
        recurrence_json: recurrence.map(|r| r.1),
        exceptions: std::collections::BTreeMap::new(),
        change_key,
        version,
        created: now,
        modified: now,
        ext,
        transaction_id: transaction.clone(),
        ical_uid: ical_uid(n),
        organizer,
        is_organizer: true,
    };
    let attendees = attendee_addresses(ev.fields.get("attendees"));
    let subject = ev.fields.get("subject").cloned();
    mb.events.insert(id.clone(), ev);
    if let Some(t) = transaction {
        mb.transactions.insert(t, id.clone());
    }
    log_invitation(
        st,
        user,
        &id,
        InvitationKind::Invite,
        subject.as_ref(),
        attendees,
    );
    deliver(st, user, &id, None);
    Ok(render(st, &id))
}

/// An event as a read or a write answers it: in the zone and body type the request prefers,
/// with `Preference-Applied`.
fn answer_event(
    inst: &Instance,
    status: u16,
    prefs: &Prefs,
    ext: Option<&str>,
    select: Option<&[String]>,
) -> Resp {
    let (zone, label, zone_applied) = read_zone(prefs);
    let r = Render {
        zone,
        label: &label,
        sparse: false,
        ext,
        select,
        body_text: prefs.body_text,
    };
    applied(
        Resp::json(status, render_event(inst, &r)),
        prefs,
        zone_applied,
        &label,
    )
}

pub(super) fn event_get(st: &mut State, req: &Req, user: &str, id: &str) -> Answer {
    let prefs = req.prefer();
    let ext = ext_expand(req)?;
    let select = req.select();
    match find_instance(st, user, id) {
        Some(inst) => Ok(answer_event(
            &inst,
            200,
            &prefs,
            ext.as_deref(),
            select.as_deref(),
        )),
        None => Err(not_found_or_malformed(id)),
    }
}

/// PATCH on a single event, a series master or an occurrence (which becomes an exception).
pub(super) fn event_patch(
    st: &mut State,
    req: &Req,
    user: &str,
    id: &str,
    via_api: bool,
) -> Answer {
    let body = req.json_body()?;
    let Some(inst) = find_instance(st, user, id) else {
        return Err(not_found_or_malformed(id));
    };
    check_if_match(req, &etag(&inst.change_key))?;
    let ext = parse_ext_props(body.get("singleValueExtendedProperties"))?;
    let current = Times {
        start: inst.start,
        end: inst.end,
        start_zone: inst.ev.start_zone.clone(),
        end_zone: inst.ev.end_zone.clone(),
    };
    let times = resolve_times(&body, Some(&current))?;
    let old_attendees = attendee_addresses(inst.fields.get("attendees"));
    let meeting_id = base_id(id).to_owned();
    let meeting_attendees = st
        .mailboxes
        .get(user)
        .and_then(|mb| mb.events.get(&meeting_id))
        .map(|ev| attendee_addresses(ev.fields.get("attendees")))
        .unwrap_or_default();
    let change_key = st.change_key();
    let now = Utc::now();
    let fields = writable_fields(&body);
    let master_id = inst.master_id.clone();
    let mb = st.mailbox(user);
    let version = mb.next_seq();
    if let (Some(master), Some(_)) = (&master_id, inst.original_start) {
        // An occurrence or exception: store an exception.
        let Some(ev) = mb.events.get_mut(master) else {
            return Err(not_found_or_malformed(id));
        };
        let Some(date) = id
            .rsplit_once('_')
            .and_then(|(_, d)| NaiveDate::parse_from_str(d, "%Y%m%d").ok())
        else {
            return Err(not_found_or_malformed(id));
        };
        if let Some(r) = &ev.recurrence {
            let dates = r.dates();
            let pos = dates.iter().position(|d| *d == date).unwrap_or(0);
            let new_date = times.start.instant().date_naive();
            let prev_ok = pos == 0 || dates.get(pos - 1).is_none_or(|p| new_date > *p);
            let next_ok = dates.get(pos + 1).is_none_or(|n| new_date < *n);
            if !(prev_ok && next_ok) {
                return Err(Resp::error(
                    400,
                    "ErrorOccurrenceCrossingBoundary",
                    "An occurrence can't be moved to or past a neighboring occurrence.",
                ));
            }
        }
        let ex = ev.exceptions.entry(date).or_insert_with(|| Exception {
            cancelled: false,
            start: inst.start,
            end: inst.end,
            fields: Map::new(),
            change_key: String::new(),
            version,
            modified: now,
        });
        ex.start = times.start;
        ex.end = times.end;
        for (k, v) in fields {
            ex.fields.insert(k, v);
        }
        ex.change_key = change_key;
        ex.version = version;
        ex.modified = now;
        ev.modified = now;
    } else {
        let Some(ev) = mb.events.get_mut(id) else {
            return Err(not_found_or_malformed(id));
        };
        if let Some(r) = body.get("recurrence") {
            if r.is_null() {
                ev.recurrence = None;
                ev.recurrence_json = None;
            } else {
                ev.recurrence = Some(parse_recurrence(r, times.start)?);
                ev.recurrence_json = Some(r.clone());
            }
        }
        ev.start = times.start;
        ev.end = times.end;
        ev.start_zone = times.start_zone;
        ev.end_zone = times.end_zone;
        for (k, v) in fields {
            ev.fields.insert(k, v);
        }
        upsert_ext(&mut ev.ext, ext);
        ev.change_key = change_key;
        ev.version = version;
        ev.modified = now;
    }
    // What Outlook would mail (only when the organizer's copy changes).
    if via_api && inst.ev.is_organizer {
        let new_attendees = if body.contains_key("attendees") {
            attendee_addresses(body.get("attendees"))
        } else {
            old_attendees.clone()
        };
        let added: Vec<String> = new_attendees
            .iter()
            .filter(|a| !old_attendees.contains(a))
            .cloned()
            .collect();
        let removed: Vec<String> = old_attendees
            .iter()
            .filter(|a| !new_attendees.contains(a))
            .cloned()
            .collect();
        let meeting_change = [
            "start",
            "end",
            "isAllDay",
            "location",
            "recurrence",
            "subject",
            "body",
        ]
        .iter()
        .any(|k| body.contains_key(*k));
        let kept: Vec<String> = new_attendees
            .iter()
            .filter(|a| old_attendees.contains(a))
            .cloned()
            .collect();
        let subject = body
            .get("subject")
            .or_else(|| inst.fields.get("subject"))
            .cloned();
        log_invitation(
            st,
            user,
            id,
            InvitationKind::Invite,
            subject.as_ref(),
            added,
        );
        log_invitation(
            st,
            user,
            id,
            InvitationKind::Cancel,
            subject.as_ref(),
            removed,
        );
        if meeting_change {
            log_invitation(st, user, id, InvitationKind::Update, subject.as_ref(), kept);
        }
    }
    // Exchange brings the attendees' copies in step with the organizer's.
    if inst.ev.is_organizer {
        deliver(st, user, &meeting_id, Some(&meeting_attendees));
    }
    let prefs = req.prefer();
    match find_instance(st, user, id) {
        Some(inst) => Ok(answer_event(&inst, 200, &prefs, None, None)),
        None => Err(Resp::error(500, "generalException", "The event was lost.")),
    }
}

pub(super) fn remove_event(st: &mut State, user: &str, id: &str) -> Option<Instance> {
    let inst = find_instance(st, user, id)?;
    let mb = st.mailbox(user);
    let seq = mb.next_seq();
    if let (Some(master), Some((_, date))) = (&inst.master_id, id.rsplit_once('_')) {
        let date = NaiveDate::parse_from_str(date, "%Y%m%d").ok()?;
        let ev = mb.events.get_mut(master)?;
        let ex = ev.exceptions.entry(date).or_insert_with(|| Exception {
            cancelled: true,
            start: inst.start,
            end: inst.end,
            fields: Map::new(),
            change_key: String::new(),
            version: seq,
            modified: Utc::now(),
        });
        ex.cancelled = true;
        ex.version = seq;
        let attendees = attendee_addresses(ev.fields.get("attendees"));
        let master = master.clone();
        mb.event_tombstones.push(Tombstone {
            id: id.to_owned(),
            seq,
        });
        // The attendees' copies show the occurrence cancelled.
        deliver(st, user, &master, Some(&attendees));
    } else {
        let ev = mb.events.remove(id)?;
        for date in ev
            .recurrence
            .as_ref()
            .map(Recurrence::dates)
            .unwrap_or_default()
        {
            mb.event_tombstones.push(Tombstone {
                id: occurrence_id(id, date),
                seq,
            });
        }
        mb.event_tombstones.push(Tombstone {
            id: id.to_owned(),
            seq,
        });
        // The attendees' copies are marked cancelled.
        cancel_delivered(st, user, &ev);
    }
    Some(inst)
}

pub(super) fn event_delete(st: &mut State, req: &Req, user: &str, id: &str) -> Answer {
    let Some(inst) = find_instance(st, user, id) else {
        return Err(not_found_or_malformed(id));
    };
    check_if_match(req, &etag(&inst.change_key))?;
    if remove_event(st, user, id).is_none() {
        return Err(not_found_or_malformed(id));
    }
    if inst.ev.is_organizer {
        let attendees = attendee_addresses(inst.fields.get("attendees"));
        log_invitation(
            st,
            user,
            id,
            InvitationKind::Cancel,
            inst.fields.get("subject"),
            attendees,
        );
    }
    Ok(Resp::empty(204))
}

/// `POST /events/{id}/cancel` (optional `Comment`): the organizer cancels the meeting, or one
/// occurrence. The event leaves the organizer's calendar (Graph moves it to Deleted Items),
/// the attendees get the cancellation; `202`. An attendee's copy answers `400`.
pub(super) fn event_cancel(st: &mut State, req: &Req, user: &str, id: &str) -> Answer {
    let Some(inst) = find_instance(st, user, id) else {
        return Err(not_found_or_malformed(id));
    };
    if !req.body.is_empty() {
        let body = req.json_body()?;
        let comment = body.get("Comment").or_else(|| body.get("comment"));
        if comment.is_some_and(|c| !c.is_string() && !c.is_null()) {
            return Err(Resp::error(
                400,
                "RequestBodyRead",
                "The Comment must be a string.",
            ));
        }
    }
    if !inst.ev.is_organizer {
        return Err(Resp::error(
            400,
            "ErrorInvalidRequest",
            "Your request can't be completed. You need to be an organizer to cancel a meeting.",
        ));
    }
    if remove_event(st, user, id).is_none() {
        return Err(not_found_or_malformed(id));
    }
    let attendees = attendee_addresses(inst.fields.get("attendees"));
    log_invitation(
        st,
        user,
        id,
        InvitationKind::Cancel,
        inst.fields.get("subject"),
        attendees,
    );
    Ok(Resp::empty(202))
}

pub(super) fn events_list(st: &mut State, req: &Req, user: &str) -> Answer {
    let prefs = req.prefer();
    let (zone, label, zone_applied) = read_zone(&prefs);
    let filter = ext_filter(req)?;
    let ext = ext_expand(req)?;
    let (top, skip) = top_and_skip(req);
    let select = req.select();
    let mb = st.mailbox(user);
    let matching: Vec<Instance> = mb
        .events
        .values()
        .filter(|ev| filter.as_ref().is_none_or(|f| has_ext_value(&ev.ext, f)))
        .map(master_instance)
        .collect();
    let r = Render {
        zone,
        label: &label,
        sparse: false,
        ext: ext.as_deref(),
        select: select.as_deref(),
        body_text: prefs.body_text,
    };
    let page: Vec<Value> = matching
        .iter()
        .skip(skip)
        .take(top)
        .map(|i| render_event(i, &r))
        .collect();
    let mut body = json!({"@odata.context": format!("{}/$metadata#users('{}')/events", st.base_url, user), "value": page});
    if skip + top < matching.len() {
        body["@odata.nextLink"] = json!(format!(
            "{}/users/{}/events{}",
            st.base_url,
            enc(user),
            next_skip_query(req, skip + top)
        ));
    }
    Ok(applied(Resp::json(200, body), &prefs, zone_applied, &label))
}
