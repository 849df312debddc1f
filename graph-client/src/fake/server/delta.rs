//! Delta: calendar-view and contacts delta rounds, their pages, skip and delta tokens,
//! replays, `@removed` items and the processing lag.

use chrono::Utc;
use serde_json::json;

use super::calendar_view::window_of;
use super::contacts::render_contact;
use super::instances::{Instance, Render, find_instance, instances, overlaps, render_event};
use super::odata::{applied, apply_select, enc, read_zone};
use super::request::{Answer, Req, Resp, not_found_or_malformed};
use crate::fake::state::{DeltaEntry, Known, RoundItem, Scope, State, StoredEvent};

pub(super) fn expired() -> Resp {
    Resp::error(
        410,
        "SyncStateNotFound",
        "The sync state generation is not found; generation=0;",
    )
}

/// A 400 for the first of the `unsupported` query options the request holds (`resource`: the
/// resource as Graph names it in the message, e.g. `CalendarView`).
fn refuse_options(req: &Req, unsupported: &[&str], resource: &str) -> Result<(), Resp> {
    match unsupported.iter().find(|option| req.q(option).is_some()) {
        Some(option) => Err(Resp::error(
            400,
            "ErrorInvalidUrlQuery",
            &format!(
                "The following parameters are not supported with change tracking over the '{resource}' resource: '{option}'."
            ),
        )),
        None => Ok(()),
    }
}

/// The skip token of the page to serve: the request's `$skiptoken`; else the first page of a
/// new round, from the request's `$deltatoken` (of this mailbox and a scope `of_kind`; any
/// other is expired) or, without one, a full round over the scope `full` gives.
fn page_token(
    st: &mut State,
    req: &Req,
    user: &str,
    page_size: usize,
    of_kind: impl Fn(&Scope) -> bool,
    full: impl FnOnce() -> Result<Scope, Resp>,
) -> Result<String, Resp> {
    if let Some(skip) = req.q("$skiptoken") {
        return Ok(skip.to_owned());
    }
    let (scope, known) = if let Some(token) = req.q("$deltatoken") {
        match st.delta.get(token) {
            Some(DeltaEntry::Token {
                mailbox,
                scope,
                known,
            }) if mailbox == user && of_kind(scope) => (scope.clone(), Some(known.clone())),
            _ => return Err(expired()),
        }
    } else {
        (full()?, None)
    };
    Ok(start_round(st, user, scope, known.as_ref(), page_size))
}

pub(super) fn calendar_delta(st: &mut State, req: &Req, user: &str) -> Answer {
    refuse_options(
        req,
        &["$select", "$filter", "$expand", "$orderby", "$search"],
        "CalendarView",
    )?;
    let prefs = req.prefer();
    let page_size = prefs.max_page_size.unwrap_or(st.default_page_size).max(1);
    let skip = page_token(
        st,
        req,
        user,
        page_size,
        |scope| matches!(scope, Scope::Calendar { .. }),
        || window_of(req).map(|(start, end)| Scope::Calendar { start, end }),
    )?;
    Ok(serve_page(st, req, user, &skip, "calendarView/delta"))
}

/// The largest contacts delta page Graph serves.
pub(super) const MAX_CONTACTS_DELTA_PAGE: usize = 200;

pub(super) fn contacts_delta(st: &mut State, req: &Req, user: &str, folder: &str) -> Answer {
    if !st.mailbox(user).folders.iter().any(|f| f.id == folder) {
        return Err(not_found_or_malformed(folder));
    }
    refuse_options(
        req,
        &["$filter", "$expand", "$orderby", "$search"],
        "Contacts",
    )?;
    let prefs = req.prefer();
    // Graph serves at most 200 contacts per delta page whatever is asked (Microsoft Q&A
    // answer 2052165).
    let page_size = prefs
        .max_page_size
        .unwrap_or(st.default_page_size)
        .clamp(1, MAX_CONTACTS_DELTA_PAGE);
    let skip = page_token(
        st,
        req,
        user,
        page_size,
        |scope| matches!(scope, Scope::Contacts { .. }),
        || {
            Ok(Scope::Contacts {
                folder: folder.to_owned(),
                select: req.select(),
            })
        },
    )?;
    Ok(serve_page(
        st,
        req,
        user,
        &skip,
        &format!("contactFolders/{}/contacts/delta", enc(folder)),
    ))
}

/// What a round is computed from: current (id, version) pairs in scope, ids outside the
/// window changed since the token, tombstones (id, seq), and the mailbox sequence.
pub(super) struct RoundInput {
    current: Vec<(String, u64)>,
    /// Changed too recently to show (the processing lag).
    lagging: std::collections::HashSet<String>,
    outside_changed: Vec<String>,
    tombstones: Vec<(String, u64)>,
    seq: u64,
}

/// Builds a round's item list and returns the skip token of its first page.
pub(super) fn start_round(
    st: &mut State,
    user: &str,
    scope: Scope,
    known: Option<&Known>,
    page_size: usize,
) -> String {
    let replays = st.replays;
    let lag = st.processing_lag;
    let RoundInput {
        current,
        lagging,
        outside_changed,
        tombstones,
        seq,
    } = {
        let mb = st.mailbox(user);
        let seq = mb.seq;
        match &scope {
            Scope::Calendar { start, end } => {
                let (start, end) = (*start, *end);
                let all: Vec<&StoredEvent> = mb.events.values().collect();
                let mut current = Vec::new();
                let mut outside = Vec::new();
                let mut lagging = std::collections::HashSet::new();
                let fresh_since = Utc::now() - chrono::Duration::from_std(lag).unwrap_or_default();
                for ev in all {
                    let is_fresh = !lag.is_zero() && ev.modified > fresh_since;
                    let inside: Vec<Instance> = instances(ev)
                        .into_iter()
                        .filter(|i| overlaps(i, start, end))
                        .collect();
                    if inside.is_empty() {
                        outside.push((ev.id.clone(), ev.version));
                    }
                    for i in inside {
                        if is_fresh {
                            lagging.insert(i.id.clone());
                        }
                        current.push((i.start.instant(), i.id, i.version));
                    }
                }
                current.sort();
                let known_seq = known.map_or(u64::MAX, |k| k.seq);
                let outside_changed = outside
                    .into_iter()
                    .filter(|(_, v)| *v > known_seq)
                    .map(|(id, _)| id)
                    .collect();
                let tombs = mb
                    .event_tombstones
                    .iter()
                    .map(|t| (t.id.clone(), t.seq))
                    .collect();
                RoundInput {
                    current: current.into_iter().map(|(_, id, v)| (id, v)).collect(),
                    lagging,
                    outside_changed,
                    tombstones: tombs,
                    seq,
                }
            }
            Scope::Contacts { folder, .. } => {
                let current = mb
                    .contacts
                    .values()
                    .filter(|c| &c.folder == folder)
                    .map(|c| (c.id.clone(), c.version))
                    .collect();
                let tombs = mb
                    .contact_tombstones
                    .iter()
                    .filter(|(_, f, _)| f == folder)
                    .map(|(id, _, s)| (id.clone(), *s))
                    .collect();
                RoundInput {
                    current,
                    lagging: std::collections::HashSet::new(),
                    outside_changed: Vec::new(),
                    tombstones: tombs,
                    seq,
                }
            }
        }
    };
    // A write younger than the processing lag is not visible yet: the item keeps the version
    // the client knows (or stays unknown) and shows up in a later round.
    let visible: Vec<(String, u64)> = current
        .iter()
        .filter_map(|(id, v)| {
            if lagging.contains(id) {
                known
                    .and_then(|k| k.versions.get(id))
                    .map(|old| (id.clone(), *old))
            } else {
                Some((id.clone(), *v))
            }
        })
        .collect();
    let mut items: Vec<RoundItem> = Vec::new();
    match known {
        None => items.extend(
            current
                .iter()
                .filter(|(id, _)| !lagging.contains(id))
                .map(|(id, _)| RoundItem::Live(id.clone())),
        ),
        Some(k) => {
            for (id, version) in &current {
                if !lagging.contains(id) && k.versions.get(id) != Some(version) {
                    items.push(RoundItem::Live(id.clone()));
                }
            }
            let now: std::collections::HashSet<&str> =
                current.iter().map(|(id, _)| id.as_str()).collect();
            let mut gone: Vec<&String> = k
                .versions
                .keys()
                .filter(|id| !now.contains(id.as_str()))
                .collect();
            gone.sort();
            items.extend(gone.into_iter().map(|id| RoundItem::Removed(id.clone())));
            // Items outside the window that changed, or deletions the client never saw, are
            // reported as removed too (Graph does this; the client must filter by window).
            for id in outside_changed {
                if !items
                    .iter()
                    .any(|i| matches!(i, RoundItem::Removed(x) if *x == id))
                {
                    items.push(RoundItem::Removed(id));
                }
            }
            for (id, seq) in tombstones {
                if seq > k.seq
                    && !items
                        .iter()
                        .any(|i| matches!(i, RoundItem::Removed(x) if *x == id))
                {
                    items.push(RoundItem::Removed(id));
                }
            }
            if replays {
                if let Some(last) = &k.last_item {
                    if now.contains(last.as_str())
                        && !items
                            .iter()
                            .any(|i| matches!(i, RoundItem::Live(x) if x == last))
                    {
                        items.push(RoundItem::Live(last.clone()));
                    }
                }
            }
        }
    }
    if replays && items.len() > page_size {
        let first = items[0].clone();
        items.insert(page_size, first);
    }
    let last_item = items.iter().rev().find_map(|i| match i {
        RoundItem::Live(id) => Some(id.clone()),
        RoundItem::Removed(_) => None,
    });
    let next = Known {
        versions: visible.into_iter().collect(),
        seq,
        last_item,
    };
    let round = format!("R{:x}", st.next());
    st.delta.insert(
        round.clone(),
        DeltaEntry::Round {
            mailbox: user.to_owned(),
            scope,
            items,
            page_size,
            next,
        },
    );
    format!("{round}.0")
}

pub(super) fn serve_page(
    st: &mut State,
    req: &Req,
    user: &str,
    skip: &str,
    link_path: &str,
) -> Resp {
    let Some((round, pos)) = skip.rsplit_once('.') else {
        return expired();
    };
    let Ok(pos) = pos.parse::<usize>() else {
        return expired();
    };
    let Some(DeltaEntry::Round {
        mailbox,
        scope,
        items,
        page_size,
        next,
        ..
    }) = st.delta.get(round).cloned()
    else {
        return expired();
    };
    if mailbox != user || pos > items.len() {
        return expired();
    }
    let prefs = req.prefer();
    let (zone, label, zone_applied) = read_zone(&prefs);
    let end = (pos + page_size).min(items.len());
    let mut value = Vec::new();
    for item in &items[pos..end] {
        let rendered = match (item, &scope) {
            (RoundItem::Live(id), Scope::Calendar { .. }) => {
                find_instance(st, user, id).map(|inst| {
                    let r = Render {
                        zone,
                        label: &label,
                        sparse: inst.kind == "occurrence",
                        ext: None,
                        select: None,
                        body_text: prefs.body_text,
                    };
                    render_event(&inst, &r)
                })
            }
            (RoundItem::Live(id), Scope::Contacts { select, .. }) => st
                .mailboxes
                .get(user)
                .and_then(|mb| mb.contacts.get(id))
                .map(|c| apply_select(render_contact(c), select.as_deref(), &["id"])),
            (RoundItem::Removed(_), _) => None,
        };
        let id = match item {
            RoundItem::Live(id) | RoundItem::Removed(id) => id,
        };
        let odata_type = if matches!(scope, Scope::Calendar { .. }) {
            "#microsoft.graph.event"
        } else {
            "#microsoft.graph.contact"
        };
        value.push(rendered.unwrap_or_else(
            || json!({"@odata.type": odata_type, "id": id, "@removed": {"reason": "deleted"}}),
        ));
    }
    let base = format!("{}/users/{}/{link_path}", st.base_url, enc(user));
    let collection = if matches!(scope, Scope::Calendar { .. }) {
        "event"
    } else {
        "contact"
    };
    let mut body = json!({"@odata.context": format!("{}/$metadata#Collection({collection})", st.base_url), "value": value});
    if end < items.len() {
        body["@odata.nextLink"] = json!(format!(
            "{base}?$skiptoken={}",
            enc(&format!("{round}.{end}"))
        ));
    } else {
        // The same last page always hands out the same delta token.
        let token = format!("D{round}");
        st.delta.entry(token.clone()).or_insert(DeltaEntry::Token {
            mailbox: user.to_owned(),
            scope,
            known: next,
        });
        body["@odata.deltaLink"] = json!(format!("{base}?$deltatoken={}", enc(&token)));
    }
    applied(Resp::json(200, body), &prefs, zone_applied, &label)
}
