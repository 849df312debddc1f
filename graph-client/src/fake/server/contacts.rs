//! Contact endpoints: contact folders, and the contacts of a folder (Graph's caps, extended
//! properties, `If-Match`).

use chrono::Utc;
use serde_json::{Map, Value, json};

use super::odata::{
    apply_select, enc, ext_expand, ext_filter, has_ext_value, next_skip_query, parse_eq_filter,
    parse_ext_props, top_and_skip, upsert_ext,
};
use super::request::{Req, Resp, check_if_match, not_found_or_malformed};
use crate::client::models::property_ids_match as prop_id_matches;
use crate::fake::state::{Folder, State, StoredContact};
use crate::fake::time;

pub(super) const CONTACT_READ_ONLY: &[&str] = &[
    "id",
    "@odata.etag",
    "@odata.type",
    "@odata.context",
    "changeKey",
    "createdDateTime",
    "lastModifiedDateTime",
    "parentFolderId",
    "singleValueExtendedProperties",
];

pub(super) fn render_contact(c: &StoredContact) -> Value {
    let mut m = Map::new();
    m.insert(
        "@odata.etag".into(),
        json!(format!("W/\"{}\"", c.change_key)),
    );
    m.insert("id".into(), json!(c.id));
    m.insert("createdDateTime".into(), json!(time::fmt_utc(c.created)));
    m.insert(
        "lastModifiedDateTime".into(),
        json!(time::fmt_utc(c.modified)),
    );
    m.insert("changeKey".into(), json!(c.change_key));
    m.insert("categories".into(), json!([]));
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

pub(super) fn folders_list(st: &mut State, req: &Req, user: &str) -> Resp {
    let name = match req.q("$filter") {
        None => None,
        Some(f) => match parse_eq_filter(f, "displayName") {
            Some(n) => Some(n),
            None => {
                return Resp::error(
                    400,
                    "ErrorInvalidUrlQueryFilter",
                    "The query filter contains one or more invalid nodes.",
                );
            }
        },
    };
    let mb = st.mailbox(user);
    let value: Vec<Value> = mb
        .folders
        .iter()
        .filter(|f| {
            name.as_ref()
                .is_none_or(|n| f.display_name.eq_ignore_ascii_case(n))
        })
        .map(|f| json!({"id": f.id, "displayName": f.display_name, "parentFolderId": f.parent}))
        .collect();
    Resp::json(200, json!({"value": value}))
}

pub(super) fn folder_get(st: &mut State, user: &str, id: &str) -> Resp {
    match st.mailbox(user).folders.iter().find(|f| f.id == id) {
        Some(f) => Resp::json(
            200,
            json!({"id": f.id, "displayName": f.display_name, "parentFolderId": f.parent}),
        ),
        None => not_found_or_malformed(id),
    }
}

pub(super) fn folder_create(st: &mut State, req: &Req, user: &str) -> Resp {
    let body = match req.json_body() {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(name) = body
        .get("displayName")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    else {
        return Resp::error(400, "ErrorInvalidRequest", "The displayName is required.");
    };
    if st
        .mailbox(user)
        .folders
        .iter()
        .any(|f| f.display_name.eq_ignore_ascii_case(name))
    {
        return Resp::error(
            409,
            "ErrorFolderExists",
            "A folder with the specified name already exists.",
        );
    }
    let id = seed_folder(st, user, name);
    folder_get(st, user, &id).with_status(201)
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

pub(super) fn contacts_list(st: &mut State, req: &Req, user: &str, folder: Option<&str>) -> Resp {
    let folder = match contacts_folder(st, user, folder) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let filter = match ext_filter(req) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let (top, skip) = top_and_skip(req);
    let select = req.select();
    let expand = match ext_expand(req) {
        Ok(e) => e,
        Err(r) => return r,
    };
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
    Resp::json(200, body)
}

pub(super) fn contact_create(st: &mut State, req: &Req, user: &str, folder: Option<&str>) -> Resp {
    let body = match req.json_body() {
        Ok(b) => b,
        Err(r) => return r,
    };
    let folder = match contacts_folder(st, user, folder) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let ext = match checked_write(&body) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let id = insert_contact(st, user, &folder, &body, ext);
    match st.mailbox(user).contacts.get(&id) {
        Some(c) => Resp::json(201, render_contact(c)),
        None => Resp::error(500, "generalException", "The contact was lost."),
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
    let fields: Map<String, Value> = body
        .iter()
        .filter(|(k, _)| !CONTACT_READ_ONLY.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
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
    if let Some(prop) = expand {
        let found: Vec<Value> = c
            .ext
            .iter()
            .filter(|(id, _)| prop_id_matches(id, prop))
            .map(|(id, val)| json!({"id": id, "value": val}))
            .collect();
        if !found.is_empty() {
            v["singleValueExtendedProperties"] = json!(found);
        }
    }
    v
}

pub(super) fn contact_get(st: &mut State, req: &Req, user: &str, id: &str) -> Resp {
    let select = req.select();
    let expand = match ext_expand(req) {
        Ok(e) => e,
        Err(r) => return r,
    };
    match st.mailbox(user).contacts.get(id) {
        Some(c) => Resp::json(
            200,
            contact_ext(
                c,
                expand.as_deref(),
                apply_select(render_contact(c), select.as_deref(), &["id"]),
            ),
        ),
        None => not_found_or_malformed(id),
    }
}

pub(super) fn contact_patch(st: &mut State, req: &Req, user: &str, id: &str) -> Resp {
    let body = match req.json_body() {
        Ok(b) => b,
        Err(r) => return r,
    };
    let ext = match checked_write(&body) {
        Ok(e) => e,
        Err(r) => return r,
    };
    if let Err(r) = check_contact_if_match(st, req, user, id) {
        return r;
    }
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
        if !CONTACT_READ_ONLY.contains(&k.as_str()) {
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
        .map(|c| format!("W/\"{}\"", c.change_key))
    else {
        return Err(not_found_or_malformed(id));
    };
    check_if_match(req, &current)
}

pub(super) fn contact_delete(st: &mut State, req: &Req, user: &str, id: &str) -> Resp {
    if let Err(r) = check_contact_if_match(st, req, user, id) {
        return r;
    }
    remove_contact(st, user, id);
    Resp::empty(204)
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
