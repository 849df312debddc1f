//! Contact endpoints: contact folders, and the contacts of a folder (Graph's caps, extended
//! properties, `If-Match`).

use chrono::Utc;
use serde_json::{Map, Value, json};

use super::item::{etag, is_writable, item_head, writable};
use super::odata::{
    apply_select, enc, expanded_ext, ext_expand, ext_filter, filter_of, has_ext_value,
    next_skip_query, parse_eq_filter, parse_ext_props, top_and_skip, upsert_ext,
};
use super::request::{Answer, Req, Resp, check_if_match, not_found_or_malformed};
use crate::fake::state::{Folder, State, StoredContact};

/// The properties of a contact a write cannot set, besides those of every item.
const CONTACT_READ_ONLY: &[&str] = &["parentFolderId", "singleValueExtendedProperties"];

pub(super) fn render_contact(c: &StoredContact) -> Value {
    let mut m = item_head(&c.id, &c.change_key, c.created, c.modified);
    m.insert("parentFolderId".into(), json!(c.folder));
    for k in [
        "birthday",
        "fileAs",
        "givenName",
        "initials",
        "middleName",
        "nickName",
        "surname",
        "title",
        "generation",
        "jobTitle",
        "companyName",
        "department",
        "officeLocation",
        "profession",
        "businessHomePage",
        "assistantName",
        "manager",
        "mobilePhone",
        "spouseName",
    ] {
        m.insert(k.into(), Value::Null);
    }
    m.insert("personalNotes".into(), json!(""));
    for k in [
        "imAddresses",
        "homePhones",
        "businessPhones",
        "children",
        "emailAddresses",
    ] {
        m.insert(k.into(), json!([]));
    }
    for k in ["homeAddress", "businessAddress", "otherAddress"] {
        m.insert(k.into(), json!({}));
    }
    for (k, v) in &c.fields {
        m.insert(k.clone(), v.clone());
    }
    if m.get("displayName").is_none_or(Value::is_null) {
        let given = c
            .fields
            .get("givenName")
            .and_then(Value::as_str)
            .unwrap_or("");
        let surname = c
            .fields
            .get("surname")
            .and_then(Value::as_str)
            .unwrap_or("");
        m.insert(
            "displayName".into(),
            json!(format!("{given} {surname}").trim().to_owned()),
        );
    }
    Value::Object(m)
}

pub(super) fn check_contact_caps(body: &Map<String, Value>) -> Result<(), Resp> {
    for (field, name, max) in [
        ("emailAddresses", "EmailAddresses", 3),
        ("businessPhones", "BusinessPhones", 2),
        ("homePhones", "HomePhones", 2),
    ] {
        if let Some(n) = body.get(field).and_then(Value::as_array).map(Vec::len) {
            if n > max {
                return Err(Resp::error(
                    400,
                    "ErrorInvalidArgument",
                    &format!(
                        "The property '{name}' has {n} entries, that exceeds the max allowed value of {max}."
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// `GET /users/{id}/contactFolders` (optionally `$filter`ed on the display name), 10 a page
/// (`$top`, `$skip`), with an `@odata.nextLink` while more follow.
pub(super) fn folders_list(st: &mut State, req: &Req, user: &str) -> Answer {
    let name = filter_of(req, |f| parse_eq_filter(f, "displayName"))?;
    let (top, skip) = top_and_skip(req);
    let mb = st.mailbox(user);
    let all: Vec<Value> = mb
        .folders
        .iter()
        .filter(|f| {
            name.as_ref()
                .is_none_or(|n| f.display_name.eq_ignore_ascii_case(n))
        })
        .map(|f| json!({"id": f.id, "displayName": f.display_name, "parentFolderId": f.parent}))
        .collect();
    let page: Vec<Value> = all.iter().skip(skip).take(top).cloned().collect();
    let mut body = json!({"value": page});
    if skip + top < all.len() {
        body["@odata.nextLink"] = json!(format!(
            "{}/users/{}/contactFolders{}",
            st.base_url,
            enc(user),
            next_skip_query(req, skip + top)
        ));
    }
    Ok(Resp::json(200, body))
}

pub(super) fn folder_get(st: &mut State, user: &str, id: &str) -> Answer {
    match st.mailbox(user).folders.iter().find(|f| f.id == id) {
        Some(f) => Ok(Resp::json(
            200,
            json!({"id": f.id, "displayName": f.display_name, "parentFolderId": f.parent}),
        )),
        None => Err(not_found_or_malformed(id)),
    }
}

pub(super) fn folder_create(st: &mut State, req: &Req, user: &str) -> Answer {
    let body = req.json_body()?;
    let Some(name) = body
        .get("displayName")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    else {
        return Err(Resp::error(
            400,
            "ErrorInvalidRequest",
            "The displayName is required.",
        ));
    };
    if st
        .mailbox(user)
        .folders
        .iter()
        .any(|f| f.display_name.eq_ignore_ascii_case(name))
    {
        return Err(Resp::error(
            409,
            "ErrorFolderExists",
            "A folder with the specified name already exists.",
        ));
    }
    let id = seed_folder(st, user, name);
    folder_get(st, user, &id).map(|r| r.with_status(201))
}

/// The folder a contacts request names (its mailbox's root folder without one), or a 404 (or
/// 400) when the mailbox has no such folder.
fn contacts_folder(st: &mut State, user: &str, folder: Option<&str>) -> Result<String, Resp> {
    let folder = folder.map_or_else(|| st.mailbox(user).root_folder.clone(), str::to_owned);
    if folder != st.mailbox(user).root_folder
        && !st.mailbox(user).folders.iter().any(|f| f.id == folder)
    {
        return Err(not_found_or_malformed(&folder));
    }
    Ok(folder)
}

/// The checks of a contact write's body (Graph's caps), and its extended properties.
fn checked_write(body: &Map<String, Value>) -> Result<Vec<(String, String)>, Resp> {
    check_contact_caps(body)?;
    parse_ext_props(body.get("singleValueExtendedProperties"))
}

pub(super) fn contacts_list(st: &mut State, req: &Req, user: &str, folder: Option<&str>) -> Answer {
    let folder = contacts_folder(st, user, folder)?;
    let filter = ext_filter(req)?;
    let (top, skip) = top_and_skip(req);
    let select = req.select();
    let expand = ext_expand(req)?;
    let mb = st.mailbox(user);
    let all: Vec<Value> = mb
        .contacts
        .values()
        .filter(|c| c.folder == folder)
        .filter(|c| filter.as_ref().is_none_or(|f| has_ext_value(&c.ext, f)))
        .map(|c| {
            contact_ext(
                c,
                expand.as_deref(),
                apply_select(render_contact(c), select.as_deref(), &["id"]),
            )
        })
        .collect();
    let page: Vec<Value> = all.iter().skip(skip).take(top).cloned().collect();
    let mut body = json!({"value": page});
    if skip + top < all.len() {
        body["@odata.nextLink"] = json!(format!(
            "{}/users/{}/contactFolders/{}/contacts{}",
            st.base_url,
            enc(user),
            enc(&folder),
            next_skip_query(req, skip + top)
        ));
    }
    Ok(Resp::json(200, body))
}

pub(super) fn contact_create(
    st: &mut State,
    req: &Req,
    user: &str,
    folder: Option<&str>,
) -> Answer {
    let body = req.json_body()?;
    let folder = contacts_folder(st, user, folder)?;
    let ext = checked_write(&body)?;
    let id = insert_contact(st, user, &folder, &body, ext);
    match st.mailbox(user).contacts.get(&id) {
        Some(c) => Ok(Resp::json(201, render_contact(c))),
        None => Err(Resp::error(
            500,
            "generalException",
            "The contact was lost.",
        )),
    }
}

pub(super) fn insert_contact(
    st: &mut State,
    user: &str,
    folder: &str,
    body: &Map<String, Value>,
    ext: Vec<(String, String)>,
) -> String {
    let id = st.outlook_id(b'C');
    let change_key = st.change_key();
    let now = Utc::now();
    let fields = writable(body, CONTACT_READ_ONLY);
    let mb = st.mailbox(user);
    let version = mb.next_seq();
    mb.contacts.insert(
        id.clone(),
        StoredContact {
            id: id.clone(),
            folder: folder.to_owned(),
            fields,
            change_key,
            version,
            created: now,
            modified: now,
            ext,
        },
    );
    id
}

/// The contact's extended properties matching an `$expand` of one property, if asked.
pub(super) fn contact_ext(c: &StoredContact, expand: Option<&str>, mut v: Value) -> Value {
    if let Some(found) = expand.and_then(|prop| expanded_ext(&c.ext, prop)) {
        v["singleValueExtendedProperties"] = found;
    }
    v
}

pub(super) fn contact_get(st: &mut State, req: &Req, user: &str, id: &str) -> Answer {
    let select = req.select();
    let expand = ext_expand(req)?;
    match st.mailbox(user).contacts.get(id) {
        Some(c) => Ok(Resp::json(
            200,
            contact_ext(
                c,
                expand.as_deref(),
                apply_select(render_contact(c), select.as_deref(), &["id"]),
            ),
        )),
        None => Err(not_found_or_malformed(id)),
    }
}

pub(super) fn contact_patch(st: &mut State, req: &Req, user: &str, id: &str) -> Answer {
    let body = req.json_body()?;
    let ext = checked_write(&body)?;
    check_contact_if_match(st, req, user, id)?;
    patch_contact(st, user, id, &body, ext);
    contact_get(
        st,
        &Req {
            query: Vec::new(),
            ..req.clone()
        },
        user,
        id,
    )
}

pub(super) fn patch_contact(
    st: &mut State,
    user: &str,
    id: &str,
    body: &Map<String, Value>,
    ext: Vec<(String, String)>,
) -> bool {
    let change_key = st.change_key();
    let mb = st.mailbox(user);
    let version = mb.next_seq();
    let Some(c) = mb.contacts.get_mut(id) else {
        return false;
    };
    for (k, v) in body {
        if is_writable(k, CONTACT_READ_ONLY) {
            c.fields.insert(k.clone(), v.clone());
        }
    }
    upsert_ext(&mut c.ext, ext);
    c.change_key = change_key;
    c.version = version;
    c.modified = Utc::now();
    true
}

/// The contact's `If-Match` check: a 404 (or 400) when there is no such contact, a 412 when
/// the request's ETag is not the contact's.
fn check_contact_if_match(st: &mut State, req: &Req, user: &str, id: &str) -> Result<(), Resp> {
    let Some(current) = st
        .mailbox(user)
        .contacts
        .get(id)
        .map(|c| etag(&c.change_key))
    else {
        return Err(not_found_or_malformed(id));
    };
    check_if_match(req, &current)
}

pub(super) fn contact_delete(st: &mut State, req: &Req, user: &str, id: &str) -> Answer {
    check_contact_if_match(st, req, user, id)?;
    remove_contact(st, user, id);
    Ok(Resp::empty(204))
}

pub(super) fn remove_contact(st: &mut State, user: &str, id: &str) -> bool {
    let mb = st.mailbox(user);
    let seq = mb.next_seq();
    match mb.contacts.remove(id) {
        Some(c) => {
            mb.contact_tombstones.push((id.to_owned(), c.folder, seq));
            true
        }
        None => false,
    }
}

pub(crate) fn seed_folder(st: &mut State, user: &str, name: &str) -> String {
    let id = st.outlook_id(b'F');
    let mb = st.mailbox(user);
    let parent = mb.root_folder.clone();
    mb.folders.push(Folder {
        id: id.clone(),
        display_name: name.to_owned(),
        parent,
    });
    id
}
