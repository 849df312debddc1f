//! Dispatch: which handler serves an endpoint, behind the mailbox gate (no mailbox, outside
//! the access policy); REST ids (which change when an item moves between folders) mapped to
//! and from the immutable ids the handlers use.

use serde_json::Value;

use super::calendar_view::calendar_view;
use super::contacts::{
    contact_create, contact_delete, contact_get, contact_patch, contacts_list, folder_create,
    folder_get, folders_list,
};
use super::delta::{calendar_delta, contacts_delta};
use super::directory::{group_get, group_relation, groups_list, user_get, users_list};
use super::events::{
    event_cancel, event_create, event_delete, event_get, event_patch, events_list,
};
use super::instances::base_id;
use super::request::{Answer, Req, Resp};
use crate::fake::seed::MailboxAccess;
use crate::fake::state::State;

/// The prefix of REST ids (what Graph returns without `Prefer: IdType="ImmutableId"`).
pub(super) const REST_PREFIX: &str = "AAMkARg";

/// The digits of a REST id after [`REST_PREFIX`] that count the item's moves (in the id's
/// URL-safe base64 alphabet: no separator Exchange would not use).
const GENERATION_DIGITS: usize = 4;

/// The prefix of the fake's immutable ids.
pub(super) const IMMUTABLE_PREFIX: &str = "AAMkAG";

/// Handles one request (a `$batch` is handled by `batch::batch`, which runs each of its
/// sub-requests through here). Without `Prefer: IdType="ImmutableId"` item ids are answered and
/// accepted in their REST form, which changes whenever the item moves between folders.
pub(super) fn process(st: &mut State, req: &Req, endpoint: &str) -> Resp {
    let immutable = req
        .prefer()
        .id_type
        .is_some_and(|v| v.eq_ignore_ascii_case("ImmutableId"));
    let user = match req.segs.as_slice() {
        [users, u, _, ..] if users == "users" => st.user(u).map(|x| x.id.clone()),
        _ => None,
    };
    let Some(user) = user.filter(|_| !immutable && endpoint != "batch") else {
        return route(st, req, endpoint);
    };
    let mut mapped = req.clone();
    for seg in mapped.segs.iter_mut().skip(2) {
        if seg.starts_with(REST_PREFIX) {
            match resolve_rest_id(st, &user, seg) {
                Some(id) => *seg = id,
                None => {
                    return Resp::error(
                        404,
                        "ErrorItemNotFound",
                        "The specified object was not found in the store.",
                    );
                }
            }
        }
    }
    let mut resp = route(st, &mapped, endpoint);
    if let Some(body) = resp.body.as_mut() {
        to_rest_ids(st, &user, body);
    }
    resp
}

pub(super) fn resolve_rest_id(st: &State, user: &str, rest: &str) -> Option<String> {
    let rest = rest.strip_prefix(REST_PREFIX)?;
    let (generation, tail) = (
        rest.get(..GENERATION_DIGITS)?,
        rest.get(GENERATION_DIGITS..)?,
    );
    let id = format!("{IMMUTABLE_PREFIX}{tail}");
    let current = st
        .mailboxes
        .get(user)
        .and_then(|mb| mb.moves.get(base_id(&id)))
        .copied()
        .unwrap_or(0);
    (generation.parse::<u32>().ok()? == current).then_some(id)
}

pub(super) fn to_rest_ids(st: &State, user: &str, value: &mut Value) {
    let Some(mb) = st.mailboxes.get(user) else {
        return;
    };
    let is_folder = |id: &str| id == mb.root_folder || mb.folders.iter().any(|f| f.id == id);
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match v {
                    Value::String(id)
                        if (key == "id" || key == "seriesMasterId")
                            && id.starts_with(IMMUTABLE_PREFIX)
                            && !is_folder(id) =>
                    {
                        let generation = mb.moves.get(base_id(id)).copied().unwrap_or(0);
                        *id = format!(
                            "{REST_PREFIX}{generation:0width$}{}",
                            &id[IMMUTABLE_PREFIX.len()..],
                            width = GENERATION_DIGITS
                        );
                    }
                    Value::Object(_) | Value::Array(_) => to_rest_ids(st, user, v),
                    _ => {}
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| to_rest_ids(st, user, v)),
        _ => {}
    }
}

pub(crate) fn move_between_folders(st: &mut State, user: &str, id: &str) -> bool {
    let mb = st.mailbox(user);
    let base = base_id(id).to_owned();
    if !mb.events.contains_key(&base) && !mb.contacts.contains_key(&base) {
        return false;
    }
    *mb.moves.entry(base).or_default() += 1;
    true
}

pub(super) fn route(st: &mut State, req: &Req, endpoint: &str) -> Resp {
    let segs: Vec<String> = req.segs.clone();
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    match (endpoint, s.as_slice()) {
        ("groups.list", _) => groups_list(st, req),
        ("groups.get", [_, g]) => group_get(st, g),
        (
            "groups.members" | "groups.transitiveMembers" | "groups.owners",
            [_, g, rel, rest @ ..],
        ) => group_relation(st, req, g, rel, rest),
        ("users.get", [_, u]) => user_get(st, req, u),
        ("users.list", _) => users_list(st, req),
        (_, ["users", u, rest @ ..]) => {
            mailbox_route(st, req, endpoint, u, rest).unwrap_or_else(|r| r)
        }
        _ => Resp::error(400, "BadRequest", "Resource not found for the segment."),
    }
}

/// The endpoints of one mailbox (`/users/{u}/{rest}`), behind the mailbox gate.
fn mailbox_route(st: &mut State, req: &Req, endpoint: &str, u: &str, rest: &[&str]) -> Answer {
    let user = mailbox_gate(st, u)?;
    match (endpoint, rest) {
        ("calendarView.delta", _) => calendar_delta(st, req, &user),
        ("calendarView.list", _) => calendar_view(st, req, &user),
        ("events.list", _) => events_list(st, req, &user),
        ("events.create", _) => event_create(st, req, &user),
        ("events.get", [_, id]) => event_get(st, req, &user, id),
        ("events.update", [_, id]) => event_patch(st, req, &user, id, true),
        ("events.delete", [_, id]) => event_delete(st, req, &user, id),
        ("events.cancel", [_, id, _]) => event_cancel(st, req, &user, id),
        ("contactFolders.list", _) => folders_list(st, req, &user),
        ("contactFolders.create", _) => folder_create(st, req, &user),
        ("contactFolders.get", [_, f]) => folder_get(st, &user, f),
        ("contacts.list", rest) => contacts_list(st, req, &user, folder_of(rest)),
        ("contacts.create", rest) => contact_create(st, req, &user, folder_of(rest)),
        ("contacts.delta", [_, f, ..]) => contacts_delta(st, req, &user, f),
        ("contacts.get", [_, c]) => contact_get(st, req, &user, c),
        ("contacts.update", [_, c]) => contact_patch(st, req, &user, c),
        ("contacts.delete", [_, c]) => contact_delete(st, req, &user, c),
        _ => Err(Resp::error(
            400,
            "BadRequest",
            "Resource not found for the segment.",
        )),
    }
}

pub(super) fn folder_of<'a>(rest: &[&'a str]) -> Option<&'a str> {
    match rest {
        ["contactFolders", f, ..] => Some(f),
        _ => None,
    }
}

pub(super) fn mailbox_gate(st: &mut State, key: &str) -> Result<String, Resp> {
    let Some(user) = st.user(key) else {
        return Err(Resp::error(
            404,
            "ErrorInvalidUser",
            &format!("The requested user '{key}' is invalid."),
        ));
    };
    match user.access {
        MailboxAccess::NotEnabled => Err(Resp::error(
            404,
            "MailboxNotEnabledForRESTAPI",
            "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
        )),
        MailboxAccess::AccessDenied => Err(Resp::error(
            403,
            "ErrorAccessDenied",
            "Access to OData is disabled.",
        )),
        MailboxAccess::Enabled => {
            let id = user.id.clone();
            st.mailbox(&id);
            Ok(id)
        }
    }
}
