//! Directory endpoints: groups, their (transitive) members and owners, users.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::odata::{apply_select, enc, parse_eq_filter, parse_startswith_filter, query_string};
use super::request::{Req, Resp};
use crate::fake::state::{FakeGroup, FakeUser, State};

pub(super) fn group_json(g: &FakeGroup) -> Value {
    json!({"id": g.id, "displayName": g.display_name, "mail": format!("{}@contoso.test", g.display_name.to_ascii_lowercase().replace(' ', "")),
        "groupTypes": ["Unified"], "mailEnabled": true, "securityEnabled": false})
}

pub(super) fn user_json(u: &FakeUser) -> Value {
    // Graph's default user properties (a name's first word as given name, the rest as
    // surname), and `accountEnabled`.
    let (given, surname) = match u.display_name.split_once(' ') {
        Some((g, s)) => (Some(g), Some(s.trim())),
        None => (
            Some(u.display_name.as_str()).filter(|g| !g.is_empty()),
            None,
        ),
    };
    json!({"@odata.type": "#microsoft.graph.user", "id": u.id, "displayName": u.display_name, "mail": u.mail,
        "userPrincipalName": u.upn, "accountEnabled": true, "givenName": given, "surname": surname,
        "jobTitle": null, "businessPhones": [], "mobilePhone": null, "officeLocation": null,
        "preferredLanguage": "en-US"})
}

/// The prefix of the fake's directory skip tokens (the position follows).
const SKIP_TOKEN_PREFIX: &str = "RFNwdAIAAQAAA";

/// One page of a directory listing of `objects` at `path` (below the base URL): `$top` items
/// (`default` without one) from the `$skiptoken`'s position, each as `$select` asks, and an
/// `@odata.nextLink` (the request's `$select`, `$filter`, `$top` and a new `$skiptoken`)
/// while more follow.
fn directory_page(
    st: &State,
    req: &Req,
    objects: &[Value],
    default: usize,
    path: &str,
    context: &str,
) -> Resp {
    let top = match page_size(req, default) {
        Ok(n) => n,
        Err(resp) => return resp,
    };
    let skip: usize = match req.q("$skiptoken") {
        None => 0,
        Some(t) => match t
            .strip_prefix(SKIP_TOKEN_PREFIX)
            .and_then(|n| n.parse().ok())
        {
            Some(n) => n,
            None => {
                return Resp::error(
                    400,
                    "Request_BadRequest",
                    "The specified page token value has expired and can no longer be included in your request.",
                );
            }
        },
    };
    let select = req.select();
    let page: Vec<Value> = objects
        .iter()
        .skip(skip)
        .take(top)
        .cloned()
        .map(|o| apply_select(o, select.as_deref(), &["id"]))
        .collect();
    let mut body =
        json!({"@odata.context": format!("{}/$metadata#{context}", st.base_url), "value": page});
    if skip + top < objects.len() {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for option in ["$select", "$filter"] {
            if let Some(v) = req.q(option) {
                pairs.push((option.into(), v.into()));
            }
        }
        if req.q("$top").is_some() {
            pairs.push(("$top".into(), top.to_string()));
        }
        pairs.push((
            "$skiptoken".into(),
            format!("{SKIP_TOKEN_PREFIX}{}", skip + top),
        ));
        body["@odata.nextLink"] = json!(format!("{}/{path}{}", st.base_url, query_string(&pairs)));
    }
    Resp::json(200, body)
}

/// `GET /users`: the tenant's users, 100 a page (Graph's default; `$top` up to 999).
pub(super) fn users_list(st: &State, req: &Req) -> Resp {
    if req.q("$filter").is_some() {
        return Resp::error(400, "Request_UnsupportedQuery", "Unsupported query.");
    }
    let users: Vec<Value> = st.users.iter().map(user_json).collect();
    directory_page(st, req, &users, st.directory_page_size, "users", "users")
}

/// `GET /groups` (optionally `$filter`ed on the display name), 100 a page (Graph's default;
/// `$top` up to 999).
pub(super) fn groups_list(st: &State, req: &Req) -> Resp {
    let groups: Vec<Value> = match req.q("$filter") {
        None => st.groups.iter().map(group_json).collect(),
        Some(filter) => {
            // `displayName eq '…'` (exact), or `startswith(displayName,'…')`, which Graph
            // compares case-insensitively.
            let keep: Box<dyn Fn(&FakeGroup) -> bool> =
                if let Some(name) = parse_eq_filter(filter, "displayName") {
                    Box::new(move |g| g.display_name == name)
                } else if let Some(prefix) = parse_startswith_filter(filter, "displayName") {
                    let prefix = prefix.to_lowercase();
                    Box::new(move |g| g.display_name.to_lowercase().starts_with(&prefix))
                } else {
                    return Resp::error(400, "Request_UnsupportedQuery", "Unsupported query.");
                };
            st.groups
                .iter()
                .filter(|g| keep(g))
                .map(group_json)
                .collect()
        }
    };
    directory_page(st, req, &groups, st.directory_page_size, "groups", "groups")
}

pub(super) fn is_guid(s: &str) -> bool {
    s.len() == 36 && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

pub(super) fn group_get(st: &State, id: &str) -> Resp {
    if !is_guid(id) {
        return Resp::error(
            400,
            "Request_BadRequest",
            &format!("Invalid object identifier '{id}'."),
        );
    }
    match st.groups.iter().find(|g| g.id == id) {
        Some(g) => Resp::json(200, group_json(g)),
        None => Resp::error(
            404,
            "Request_ResourceNotFound",
            &format!(
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
            ),
        ),
    }
}

pub(super) fn directory_object(st: &State, id: &str) -> Option<Value> {
    if let Some(u) = st.users.iter().find(|u| u.id == id) {
        return Some(user_json(u));
    }
    if let Some(g) = st.groups.iter().find(|g| g.id == id) {
        let mut v = group_json(g);
        if let Value::Object(m) = &mut v {
            m.insert("@odata.type".into(), json!("#microsoft.graph.group"));
        }
        return Some(v);
    }
    st.devices.iter().find(|(d, _)| d == id).map(
        |(d, name)| json!({"@odata.type": "#microsoft.graph.device", "id": d, "displayName": name}),
    )
}

pub(super) fn transitive(
    st: &State,
    group: &str,
    out: &mut Vec<String>,
    seen: &mut BTreeSet<String>,
) {
    let Some(g) = st.groups.iter().find(|g| g.id == group) else {
        return;
    };
    for m in &g.members {
        if seen.insert(m.clone()) {
            out.push(m.clone());
            if st.groups.iter().any(|x| &x.id == m) {
                transitive(st, m, out, seen);
            }
        }
    }
}

pub(super) fn group_relation(
    st: &State,
    req: &Req,
    group: &str,
    relation: &str,
    rest: &[&str],
) -> Resp {
    let Some(g) = st.groups.iter().find(|g| g.id == group) else {
        return group_get(st, group);
    };
    let ids: Vec<String> = match relation {
        "members" => g.members.clone(),
        "owners" => g.owners.clone(),
        _ => {
            let mut out = Vec::new();
            transitive(st, group, &mut out, &mut BTreeSet::new());
            out
        }
    };
    let mut objects: Vec<Value> = ids
        .iter()
        .filter_map(|id| directory_object(st, id))
        .collect();
    match rest {
        [] => {}
        ["microsoft.graph.user"] => {
            let eventual = req
                .header("consistencylevel")
                .is_some_and(|v| v.eq_ignore_ascii_case("eventual"));
            if !eventual || req.q("$count") != Some("true") {
                return Resp::error(
                    400,
                    "Request_UnsupportedQuery",
                    "The specified filter to the reference property query is currently not supported.",
                );
            }
            objects.retain(|o| o["@odata.type"] == "#microsoft.graph.user");
        }
        _ => return Resp::error(400, "BadRequest", "Resource not found for the segment."),
    }
    let suffix = if rest.is_empty() {
        String::new()
    } else {
        format!("/{}", rest.join("/"))
    };
    directory_page(
        st,
        req,
        &objects,
        st.directory_page_size,
        &format!("groups/{}/{relation}{suffix}", enc(group)),
        "directoryObjects",
    )
}

pub(super) fn user_get(st: &State, req: &Req, key: &str) -> Resp {
    match st.user(key) {
        Some(u) => Resp::json(
            200,
            apply_select(user_json(u), req.select().as_deref(), &["id"]),
        ),
        None => Resp::error(
            404,
            "Request_ResourceNotFound",
            &format!(
                "Resource '{key}' does not exist or one of its queried reference-property objects are not present."
            ),
        ),
    }
}

/// `$top` of a directory listing (1 to 999), or `default` without one; a `400` otherwise.
fn page_size(req: &Req, default: usize) -> Result<usize, Resp> {
    match req.q("$top").map(str::parse::<usize>) {
        None => Ok(default),
        Some(Ok(n)) if (1..=999).contains(&n) => Ok(n),
        Some(_) => Err(Resp::error(
            400,
            "Request_UnsupportedQuery",
            "Invalid page size specified.",
        )),
    }
}
