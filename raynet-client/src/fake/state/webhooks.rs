//! Webhooks of an [`Instance`]: register, list, remove, technical contacts,
//! and the change notifications queued for delivery (what `fake/push.rs`
//! sends).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::entity::Entity;
use super::hooks::{Hook, check_loopback, new_id};
use super::instance::Instance;
use super::reject::Reject;

/// The event types a webhook can take.
const EVENT_TYPES: [&str; 3] = ["record.created", "record.updated", "record.deleted"];

/// What happened to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChangeKind {
    Created,
    Updated,
    Deleted,
}

impl ChangeKind {
    /// The event `type`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Created => "record.created",
            ChangeKind::Updated => "record.updated",
            ChangeKind::Deleted => "record.deleted",
        }
    }
}

/// Who made a change: the event's `author` and `source`.
#[derive(Debug, Clone)]
pub(crate) struct Origin {
    /// `author`: the user's e-mail.
    pub(crate) author: String,
    /// `source.name`: `api`, `user` or `system`.
    pub(crate) source: &'static str,
    /// `source.description`: the API key's name, or `browser`.
    pub(crate) description: String,
}

impl Origin {
    /// A change through the API by `login` (the key's name as description).
    pub(crate) fn api(inst: &Instance, login: &str) -> Origin {
        let key = inst
            .users
            .iter()
            .find(|u| u.login == login)
            .map(|u| u.key_name.clone())
            .unwrap_or_default();
        Origin {
            author: login.to_owned(),
            source: "api",
            description: key,
        }
    }

    /// A change in the UI by `author`, from a browser.
    pub(crate) fn browser(author: &str) -> Origin {
        Origin {
            author: author.to_owned(),
            source: "user",
            description: "browser".to_owned(),
        }
    }
}

/// The webhook `entityName` of an entity (user accounts send none).
fn entity_name(e: Entity) -> Option<&'static str> {
    match e {
        Entity::Meeting => Some("Meeting"),
        Entity::Event => Some("Event"),
        Entity::Person => Some("Person"),
        Entity::Company => Some("Company"),
        Entity::UserAccount => None,
    }
}

/// The required array `field` of a request body, each element read by
/// `item` (400 when the field is missing or `item` refuses an element).
fn strings<'a>(
    body: &'a Value,
    field: &str,
    item: impl Fn(&'a Value) -> Result<&'a str, Reject>,
) -> Result<Vec<String>, Reject> {
    body.get(field)
        .and_then(Value::as_array)
        .ok_or_else(|| Reject::bad_request(format!("Required field [{field}] is missing")))?
        .iter()
        .map(|v| item(v).map(str::to_owned))
        .collect()
}

impl Instance {
    /// The extIds of record `id` (an array; empty when it has none or is gone).
    pub(crate) fn ext_ids_of(&self, e: Entity, id: u64) -> Value {
        self.row(e, id)
            .and_then(|r| r.get("extIds"))
            .filter(|v| v.is_array())
            .cloned()
            .unwrap_or_else(|| json!([]))
    }

    /// Queues the event of a change for every webhook that takes its type;
    /// returns how many were queued.
    pub(crate) fn notify(
        &mut self,
        kind: ChangeKind,
        e: Entity,
        id: u64,
        ext_ids: &Value,
        origin: &Origin,
        now: DateTime<Utc>,
    ) -> usize {
        let Some(name) = entity_name(e) else {
            return 0;
        };
        let created_at = now
            .with_timezone(&self.tz)
            .format("%Y-%m-%dT%H:%M:%S%.3f%:z")
            .to_string();
        let mut queued = 0;
        for hook in &mut self.hooks.list {
            if !hook.events.iter().any(|t| t == kind.as_str()) {
                continue;
            }
            hook.queue.push_back(json!({
                "eventId": new_id(),
                "createdAt": created_at,
                "type": kind.as_str(),
                "author": origin.author,
                "source": {"name": origin.source, "description": origin.description},
                "data": {"entityName": name, "entityId": id, "extIds": ext_ids},
            }));
            queued += 1;
        }
        queued
    }

    /// `GET /webhook/`: the technical contacts and the webhooks.
    pub(crate) fn webhooks_json(&self) -> Value {
        let hooks: Vec<Value> = self
            .hooks
            .list
            .iter()
            .map(|h| {
                json!({
                    "webhookId": h.id,
                    "url": h.url,
                    "secretToken": h.token,
                    "eventsFilter": h.events,
                })
            })
            .collect();
        json!({"technicalContacts": self.hooks.technical_contacts, "webhooks": hooks})
    }

    /// `PUT /webhook/` with `{url, secretToken?, events}`: registers a webhook
    /// (a non-loopback URL is refused) and returns its id.
    pub(crate) fn add_webhook(&mut self, body: &Value) -> Result<String, Reject> {
        let url = body
            .get("url")
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| Reject::bad_request("Required field [url] is missing"))?;
        check_loopback(url)?;
        let token = match body.get("secretToken") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()).filter(|s| !s.is_empty()),
            Some(_) => return Err(Reject::bad_request("Field [secretToken] must be a string")),
        };
        let events = strings(body, "events", |v| {
            v.as_str()
                .filter(|s| EVENT_TYPES.contains(s))
                .ok_or_else(|| Reject::bad_request(format!("Unknown event type {v}")))
        })?;
        if events.is_empty() {
            return Err(Reject::bad_request("Field [events] must not be empty"));
        }
        let hook = Hook::new(url.to_owned(), token, events);
        let id = hook.id.clone();
        self.hooks.list.push(hook);
        Ok(id)
    }

    /// `DELETE /webhook/{uuid}/`: removes a webhook and its queue.
    pub(crate) fn remove_webhook(&mut self, id: &str) -> Result<(), Reject> {
        let before = self.hooks.list.len();
        self.hooks.list.retain(|h| h.id != id);
        if self.hooks.list.len() == before {
            return Err(Reject::new(
                404,
                "EntityNotFoundException",
                format!("Webhook [{id}] not found"),
            ));
        }
        Ok(())
    }

    /// `POST /webhook/technicalContact/` with `{technicalContacts: [..]}`.
    pub(crate) fn set_technical_contacts(&mut self, body: &Value) -> Result<(), Reject> {
        self.hooks.technical_contacts = strings(body, "technicalContacts", |v| {
            v.as_str()
                .ok_or_else(|| Reject::bad_request("Technical contacts are e-mails"))
        })?;
        Ok(())
    }
}
