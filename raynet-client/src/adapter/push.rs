//! Webhooks as a trigger for the engine (reference §12): [`WebhookKeeper`]
//! keeps our webhook registered, [`classify`] says what a delivered
//! [`WebhookEvent`] means for the engine, and [`activity_owner`] finds the
//! member a record the store does not know yet belongs to.
//!
//! A webhook is only a hint (STYLE habit 17): the engine's reads decide what
//! changed. [`WebhookSignal`] therefore carries ids only; the receiver turns
//! it into a read (`ReadSide::get` of the id, or the member's next round).
//!
//! # Entity names
//!
//! The vendor text shows the PascalCase `Company` only; `Meeting`, `Event`
//! and `Person` are **unverified** spellings (reference §12, §14 item 10).
//! [`classify`] accepts them in any case (`Meeting`, `meeting`, `MEETING`),
//! so a lower- or upper-case spelling from the live API is still routed.

use sync_core::{ActivityKind, ProviderError, RemoteId};
use sync_secret::Secret;

use super::calendar::RaynetCalendar;
use super::rows::{activity_id, fetch_activity, owner_of, person_id};
use crate::client::Client;
use crate::client::models::{NewWebhook, Webhook, WebhookEvent, WebhookEventType};

/// What [`WebhookKeeper::ensure`] found or did; `check` prints it (its
/// [`Display`](std::fmt::Display) names the webhook id, never the token).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookState {
    /// Our webhook was already registered (our URL, our token, all three
    /// `record.*` types); nothing was written.
    Registered {
        /// Its webhook id.
        id: String,
    },
    /// Our webhook was registered now: there was none with our URL, or the
    /// one there had another token or fewer event types and was deleted
    /// first.
    Created {
        /// The new webhook id.
        id: String,
    },
}

impl std::fmt::Display for WebhookState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WebhookState::Registered { id } => write!(f, "raynet webhook {id} already registered"),
            WebhookState::Created { id } => write!(f, "raynet webhook {id} registered"),
        }
    }
}

/// Keeps one webhook registered on an instance: our URL, our secret token
/// and the three `record.*` event types. RAYNET removes a webhook whose
/// deliveries have failed for 7 days, so a service calls
/// [`ensure`](Self::ensure) at start and now and then.
///
/// Webhooks are told apart by URL (compared exactly): every webhook with our
/// URL is ours, and webhooks with other URLs are never touched.
#[derive(Debug, Clone)]
pub struct WebhookKeeper {
    client: Client,
    url: String,
    token: Secret,
}

impl WebhookKeeper {
    /// A keeper of the webhook at `url` (where RAYNET will POST) with the
    /// secret `token` (sent back in `X-RAYNETCRM-Token`).
    #[must_use]
    pub fn new(client: Client, url: impl Into<String>, token: Secret) -> Self {
        WebhookKeeper {
            client,
            url: url.into(),
            token,
        }
    }

    /// Makes sure our webhook is registered: `GET /webhook/`; when one with
    /// our URL has our token and all three event types it is kept (no write,
    /// other webhooks with our URL are deleted as duplicates); otherwise every
    /// webhook with our URL is deleted and `PUT /webhook/` registers ours.
    ///
    /// # Errors
    ///
    /// The client's error, classified ([`classify`](super::classify)).
    pub async fn ensure(&self) -> Result<WebhookState, ProviderError> {
        let ours = self.ours().await?;
        let keep = ours.iter().position(|h| self.is_current(h));
        let stale = ours
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != keep)
            .map(|(_, h)| h);
        self.delete_all(stale).await?;
        if let Some(i) = keep {
            return Ok(WebhookState::Registered {
                id: ours[i].webhook_id.clone(),
            });
        }
        let body = NewWebhook::new(self.url.clone()).secret_token(self.token.clone());
        let id = self.client.webhooks().create(&body).await?;
        Ok(WebhookState::Created { id })
    }

    /// Deletes every webhook with our URL; true when there was one.
    ///
    /// # Errors
    ///
    /// The client's error, classified ([`classify`](super::classify)); a
    /// webhook already gone (404) is no error.
    pub async fn remove(&self) -> Result<bool, ProviderError> {
        let ours = self.ours().await?;
        self.delete_all(&ours).await?;
        Ok(!ours.is_empty())
    }

    /// The registered webhooks with our URL.
    async fn ours(&self) -> Result<Vec<Webhook>, ProviderError> {
        let list = self.client.webhooks().list().await?;
        Ok(list
            .webhooks
            .into_iter()
            .filter(|h| h.url == self.url)
            .collect())
    }

    /// Our token (compared in constant time) and every event type.
    fn is_current(&self, h: &Webhook) -> bool {
        h.secret_token.as_ref() == Some(&self.token)
            && WebhookEventType::ALL
                .iter()
                .all(|t| h.events_filter.contains(t))
    }

    async fn delete_all(
        &self,
        hooks: impl IntoIterator<Item = &Webhook>,
    ) -> Result<(), ProviderError> {
        for h in hooks {
            match self.client.webhooks().delete(&h.webhook_id).await {
                Err(e) if !e.is_not_found() => return Err(e.into()),
                _ => {}
            }
        }
        Ok(())
    }
}

/// What a delivered [`WebhookEvent`] means for the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookSignal {
    /// The sync's own write (`source.name` `api` with our API key's name):
    /// nothing to read.
    Echo,
    /// A meeting or an event changed: read `id` in its owner's calendar.
    Calendar {
        /// The engine's id: `m-<id>` or `e-<id>`.
        id: RemoteId,
        /// A `record.deleted` (to be confirmed with `ReadSide::get`).
        deleted: bool,
        /// Who made the change (`author`, a user's e-mail), when sent.
        author: Option<String>,
    },
    /// A person changed: read `id` among the contacts.
    Contacts {
        /// The engine's id: the person id in decimal.
        id: RemoteId,
        /// A `record.deleted` (to be confirmed with `ReadSide::get`).
        deleted: bool,
    },
    /// An entity the sync does not follow (a company, a task, an unknown
    /// name); the reason names it.
    Ignored(String),
}

/// What `event` means for the engine. `our_key_name` is the name of the API
/// key the sync writes with (RAYNET sends it as `source.description` of API
/// changes). Entity names are compared without regard to case (the module's
/// docs say why).
#[must_use]
pub fn classify(event: &WebhookEvent, our_key_name: &str) -> WebhookSignal {
    if event.is_from_api_key(our_key_name) {
        return WebhookSignal::Echo;
    }
    let name = event.data.entity_name.as_str();
    let is = |want: &str| name.eq_ignore_ascii_case(want);
    let deleted = event.kind == WebhookEventType::Deleted;
    let n = event.data.entity_id;
    let kind = if is("Meeting") {
        ActivityKind::Meeting
    } else if is("Event") {
        ActivityKind::Event
    } else if is("Person") {
        return match person_id(n) {
            Ok(id) => WebhookSignal::Contacts { id, deleted },
            Err(_) => WebhookSignal::Ignored(format!("person {n}: no engine id")),
        };
    } else {
        return WebhookSignal::Ignored(format!("entity `{name}` is not synced"));
    };
    match activity_id(kind, n) {
        Ok(id) => WebhookSignal::Calendar {
            id,
            deleted,
            author: event.author.clone(),
        },
        Err(_) => WebhookSignal::Ignored(format!("{} {n}: no engine id", kind.as_str())),
    }
}

/// The person id of the owner of meeting or event `id` (`m-<id>` / `e-<id>`),
/// read with one `GET` of the record; `None` when it does not exist (or
/// names no owner). Routes a webhook for a record the store does not know yet
/// to the owning member.
///
/// # Errors
///
/// [`ErrorKind::NotFound`](sync_core::ErrorKind::NotFound) when `id` is not
/// an activity id; otherwise the client's error, classified
/// ([`classify`](super::classify)).
pub async fn activity_owner(client: &Client, id: &RemoteId) -> Result<Option<u64>, ProviderError> {
    let (kind, n) = RaynetCalendar::parse_id(id)?;
    Ok(fetch_activity(client, kind, n)
        .await?
        .as_ref()
        .and_then(owner_of))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, entity: &str, source: &str, description: &str) -> WebhookEvent {
        let body = serde_json::json!({
            "type": kind,
            "author": "jana@acme.test",
            "source": {"name": source, "description": description},
            "data": {"entityName": entity, "entityId": 42, "extIds": null},
        });
        WebhookEvent::from_slice(body.to_string().as_bytes()).unwrap()
    }

    fn id(s: &str) -> RemoteId {
        RemoteId::new(s).unwrap()
    }

    #[test]
    fn entity_names_are_read_in_any_case() {
        for (entity, want) in [
            ("Meeting", "m-42"),
            ("meeting", "m-42"),
            ("MEETING", "m-42"),
            ("Event", "e-42"),
            ("event", "e-42"),
        ] {
            assert_eq!(
                classify(&event("record.deleted", entity, "user", "browser"), "sync"),
                WebhookSignal::Calendar {
                    id: id(want),
                    deleted: true,
                    author: Some("jana@acme.test".into()),
                },
                "{entity}"
            );
        }
        for entity in ["Person", "person", "PERSON"] {
            assert_eq!(
                classify(&event("record.created", entity, "system", ""), "sync"),
                WebhookSignal::Contacts {
                    id: id("42"),
                    deleted: false
                },
                "{entity}"
            );
        }
    }

    #[test]
    fn other_entities_are_ignored_with_their_name() {
        for entity in ["Company", "Task", "BusinessCase", "meetings"] {
            let got = classify(&event("record.updated", entity, "user", "browser"), "sync");
            assert_eq!(
                got,
                WebhookSignal::Ignored(format!("entity `{entity}` is not synced"))
            );
        }
    }

    #[test]
    fn only_our_api_key_is_an_echo() {
        let ours = event("record.updated", "Meeting", "api", "sync");
        assert_eq!(classify(&ours, "sync"), WebhookSignal::Echo);
        assert_eq!(
            classify(&event("record.updated", "Company", "api", "sync"), "sync"),
            WebhookSignal::Echo
        );
        for (source, description) in [("api", "other-key"), ("user", "sync"), ("system", "")] {
            let got = classify(
                &event("record.updated", "Meeting", source, description),
                "sync",
            );
            assert!(
                matches!(got, WebhookSignal::Calendar { deleted: false, .. }),
                "{source}/{description}: {got:?}"
            );
        }
    }
}
