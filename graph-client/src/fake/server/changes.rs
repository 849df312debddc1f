//! Change notifications: after every request and every edit through `FakeGraph`, the watched
//! items of each live subscription are compared with what it last saw, and one notification
//! is queued per created, updated or deleted item (`resourceData.id` and `@odata.etag` as
//! after the change; no ETag on a deletion). Several changes to one item within one request
//! (a `$batch`, say) make one notification, the last one's. Expired subscriptions are dropped
//! first, so they deliver nothing.
//!
//! Events are watched as `GET /users/{id}/events` lists them (single events and series
//! masters) plus the exceptions of series; contacts per folder (`/users/{id}/contacts`: the
//! root folder).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::dispatch::to_rest_ids;
use super::instances::occurrence_id;
use super::item::etag;
use crate::fake::state::State;
use crate::fake::subs::{FakeSubscription, Outgoing, Watched};

/// The watched items of `user` now: immutable id → change key.
pub(super) fn snapshot(st: &State, user: &str, watched: &Watched) -> BTreeMap<String, String> {
    let Some(mb) = st.mailboxes.get(user) else {
        return BTreeMap::new();
    };
    match watched {
        Watched::Events => {
            let mut items = BTreeMap::new();
            for ev in mb.events.values() {
                items.insert(ev.id.clone(), ev.change_key.clone());
                for (date, ex) in &ev.exceptions {
                    if !ex.cancelled && !ex.change_key.is_empty() {
                        items.insert(occurrence_id(&ev.id, *date), ex.change_key.clone());
                    }
                }
            }
            items
        }
        Watched::Contacts(folder) => {
            let folder = folder.as_deref().unwrap_or(&mb.root_folder);
            mb.contacts
                .values()
                .filter(|c| c.folder == folder)
                .map(|c| (c.id.clone(), c.change_key.clone()))
                .collect()
        }
    }
}

/// Compares every live subscription's watched items with what it last saw and queues the
/// notifications of the differences.
pub(crate) fn collect_changes(st: &mut State) {
    if st.push.subs.is_empty() {
        return;
    }
    st.push.drop_expired();
    let ids: Vec<String> = st.push.subs.keys().cloned().collect();
    for id in ids {
        let Some(sub) = st.push.subs.get(&id) else {
            continue;
        };
        let now = snapshot(st, &sub.terms.user, &sub.terms.watched);
        if now == sub.known {
            continue;
        }
        let mut changes = Vec::new();
        for (item, key) in &now {
            match sub.known.get(item) {
                None => changes.push(("created", item.clone(), Some(etag(key)))),
                Some(old) if old != key => changes.push(("updated", item.clone(), Some(etag(key)))),
                Some(_) => {}
            }
        }
        for item in sub.known.keys().filter(|k| !now.contains_key(*k)) {
            changes.push(("deleted", item.clone(), None));
        }
        let outgoing: Vec<Outgoing> = changes
            .into_iter()
            .filter(|(change, _, _)| sub.terms.change_types.iter().any(|t| t == change))
            .map(|(change, item, etag)| Outgoing {
                subscription: sub.id.clone(),
                url: sub.terms.notification_url.clone(),
                body: json!({ "value": [notification(st, sub, change, &item, etag)] }),
                lifecycle: false,
            })
            .collect();
        if let Some(sub) = st.push.subs.get_mut(&id) {
            sub.known = now;
        }
        for out in outgoing {
            st.push.enqueue(out);
        }
    }
}

/// One change notification, as Graph sends it for Outlook items.
fn notification(
    st: &State,
    sub: &FakeSubscription,
    change: &str,
    item: &str,
    etag: Option<String>,
) -> Value {
    let mut id = json!({ "id": item });
    if !sub.terms.immutable {
        to_rest_ids(st, &sub.terms.user, &mut id);
    }
    let id = id["id"].as_str().unwrap_or(item).to_owned();
    let (collection, odata_type) = match sub.terms.watched {
        Watched::Events => ("Events", "#Microsoft.Graph.Event"),
        Watched::Contacts(_) => ("Contacts", "#Microsoft.Graph.Contact"),
    };
    let path = format!("Users/{}/{collection}/{id}", sub.terms.user);
    let mut data = json!({ "@odata.type": odata_type, "@odata.id": path, "id": id });
    if let Some(etag) = etag {
        data["@odata.etag"] = json!(etag);
    }
    sub.notification(json!({
        "changeType": change,
        "resource": path,
        "resourceData": data,
    }))
}
