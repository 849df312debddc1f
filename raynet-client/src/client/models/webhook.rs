//! Webhooks (`/webhook/`): the registrations read and written through the API
//! and the [`WebhookEvent`] RAYNET POSTs to a registered URL.
//!
//! Shapes (reference §12, SPEC-CZ/EN; the generated SDK's examples):
//! `GET /webhook/` → `{technicalContacts: [..], webhooks: [{webhookId, url,
//! secretToken, eventsFilter: [..]}]}` (read with or without a `data`
//! envelope: the vendor text does not show one); `PUT /webhook/` takes `{url,
//! secretToken?, events: [..]}` and answers 201 `{data: {uuid}}`. An event is
//! `{eventId, createdAt, type, author, source: {name, description}, data:
//! {entityName, entityId, extIds}}`; the secret token comes in the header
//! [`WEBHOOK_TOKEN_HEADER`].
//!
//! Reading is tolerant: unknown event types, source names and entity names
//! are kept as `Unknown(..)`, and everything but `data.entityId` may be
//! missing. The entity name of a **meeting** (`Meeting`) is not shown in any
//! vendor text we read (reference §12): [`WebhookEntity`] is an open enum so
//! that whatever RAYNET sends is kept.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sync_secret::Secret;

use super::common::de;
use super::entity::EntityName;
use super::macros::open_enum;
use crate::client::error::{Error, Result};

/// The header carrying a webhook's secret token on every delivery.
pub const WEBHOOK_TOKEN_HEADER: &str = "X-RAYNETCRM-Token";

open_enum! {
    /// The kind of change an event reports (and a webhook subscribes to).
    WebhookEventType {
        /// `record.created`.
        Created = "record.created",
        /// `record.updated`.
        Updated = "record.updated",
        /// `record.deleted`.
        Deleted = "record.deleted",
    }
}

impl WebhookEventType {
    /// The three documented types.
    pub const ALL: [WebhookEventType; 3] = [
        WebhookEventType::Created,
        WebhookEventType::Updated,
        WebhookEventType::Deleted,
    ];
}

open_enum! {
    /// Who made a change (`source.name`).
    WebhookSourceName {
        /// `user`: a person in the UI (`description`: `browser` or `mobile`).
        User = "user",
        /// `api`: an API key (`description`: the key's name).
        Api = "api",
        /// `system`: RAYNET itself.
        System = "system",
    }
}

open_enum! {
    /// The entity of a changed record (`data.entityName`), in PascalCase.
    /// `Company` is documented; `Meeting`, `Event` and `Person` follow the same
    /// pattern but are **unverified** (kept open for what RAYNET really sends).
    WebhookEntity {
        /// `Company`.
        Company = "Company",
        /// `Person`.
        Person = "Person",
        /// `Meeting` (unverified spelling).
        Meeting = "Meeting",
        /// `Event` (unverified spelling).
        Event = "Event",
        /// `Task`.
        Task = "Task",
    }
}

impl WebhookEntity {
    /// The entity as used in API paths (`Meeting` → `meeting`), when known.
    pub fn entity_name(&self) -> Option<EntityName> {
        Some(match self {
            WebhookEntity::Company => EntityName::Company,
            WebhookEntity::Person => EntityName::Person,
            WebhookEntity::Meeting => EntityName::Meeting,
            WebhookEntity::Event => EntityName::Event,
            WebhookEntity::Task => EntityName::Task,
            WebhookEntity::Unknown(_) => return None,
        })
    }
}

/// `GET /webhook/`: the technical contacts and the registered webhooks.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct WebhookList {
    /// E-mails told when deliveries fail (after a day) and recover.
    #[serde(deserialize_with = "de::null_as_empty")]
    pub technical_contacts: Vec<String>,
    /// The registered webhooks.
    #[serde(deserialize_with = "de::null_as_empty")]
    pub webhooks: Vec<Webhook>,
}

impl WebhookList {
    /// Parses the body of `GET /webhook/`, with or without a `data` envelope;
    /// a failure names the field (e.g. `webhooks[1].eventsFilter[0]`).
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] (endpoint `GET /webhook/`) when the body is not a
    /// webhook list.
    pub fn from_slice(body: &[u8]) -> Result<WebhookList> {
        const ENDPOINT: &str = "GET /webhook/";
        let decode_error = |e: serde_path_to_error::Error<serde_json::Error>| Error::Decode {
            endpoint: ENDPOINT.to_owned(),
            path: e.path().to_string(),
            source: e.into_inner(),
        };
        let de = &mut serde_json::Deserializer::from_slice(body);
        let mut v: serde_json::Value =
            serde_path_to_error::deserialize(de).map_err(decode_error)?;
        if v.get("webhooks").is_none()
            && v.get("technicalContacts").is_none()
            && v.get("data").is_some_and(serde_json::Value::is_object)
        {
            v = v["data"].take();
        }
        serde_path_to_error::deserialize(v).map_err(decode_error)
    }
}

/// One registered webhook.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Webhook {
    /// Its id (a UUID without dashes, e.g. `532d339c0a874f68ae8f2cc108c7f7b2`):
    /// what `DELETE /webhook/{uuid}/` takes.
    #[serde(default, deserialize_with = "de_string")]
    pub webhook_id: String,
    /// Where events are POSTed.
    #[serde(default, deserialize_with = "de_string")]
    pub url: String,
    /// The token sent in [`WEBHOOK_TOKEN_HEADER`] (never printed).
    #[serde(default, deserialize_with = "de_secret")]
    pub secret_token: Option<Secret>,
    /// The event types delivered.
    #[serde(default, deserialize_with = "de::null_as_empty")]
    pub events_filter: Vec<WebhookEventType>,
}

/// `PUT /webhook/`: a new webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NewWebhook {
    /// Where events are POSTed (http or https).
    pub url: String,
    /// The token RAYNET sends in [`WEBHOOK_TOKEN_HEADER`].
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_secret")]
    pub secret_token: Option<Secret>,
    /// The event types to deliver.
    pub events: Vec<WebhookEventType>,
}

impl NewWebhook {
    /// A webhook for `url` with every event type and no token.
    pub fn new(url: impl Into<String>) -> Self {
        NewWebhook {
            url: url.into(),
            secret_token: None,
            events: WebhookEventType::ALL.to_vec(),
        }
    }

    /// Sets the secret token.
    #[must_use]
    pub fn secret_token(mut self, token: impl Into<Secret>) -> Self {
        self.secret_token = Some(token.into());
        self
    }

    /// Sets the event types.
    #[must_use]
    pub fn events(mut self, events: impl IntoIterator<Item = WebhookEventType>) -> Self {
        self.events = events.into_iter().collect();
        self
    }
}

/// `POST /webhook/technicalContact/`: the body.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TechnicalContacts<'a> {
    pub(crate) technical_contacts: &'a [String],
}

/// The 201 answer of `PUT /webhook/`: `{data: {uuid}}`.
#[derive(Debug, Deserialize)]
pub(crate) struct CreatedWebhook {
    pub(crate) data: CreatedUuid,
}

/// The `data` of [`CreatedWebhook`].
#[derive(Debug, Deserialize)]
pub(crate) struct CreatedUuid {
    #[serde(deserialize_with = "de_string")]
    pub(crate) uuid: String,
}

/// One change notification, as RAYNET POSTs it to a webhook's URL.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct WebhookEvent {
    /// The event's id (for deduplication).
    #[serde(default, deserialize_with = "de::opt_string_lenient")]
    pub event_id: Option<String>,
    /// When the change happened (ISO 8601 with offset).
    #[serde(default, deserialize_with = "de_datetime")]
    pub created_at: Option<DateTime<FixedOffset>>,
    /// The kind of change (`type`).
    #[serde(rename = "type")]
    pub kind: WebhookEventType,
    /// The user who made the change (an e-mail).
    #[serde(default, deserialize_with = "de::opt_string_lenient")]
    pub author: Option<String>,
    /// Where the change came from.
    #[serde(default)]
    pub source: WebhookSource,
    /// The changed record.
    pub data: WebhookData,
}

/// `source` of a [`WebhookEvent`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct WebhookSource {
    /// `user`, `api` or `system`.
    pub name: Option<WebhookSourceName>,
    /// `browser` / `mobile` for users, the API key's name for `api`.
    #[serde(deserialize_with = "de::opt_string_lenient")]
    pub description: Option<String>,
}

/// `data` of a [`WebhookEvent`]: which record changed (ids only; the content
/// needs a read).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct WebhookData {
    /// The entity (`Company`, `Person`, `Meeting`, …).
    pub entity_name: WebhookEntity,
    /// The record's id.
    #[serde(deserialize_with = "de::u64_lenient")]
    pub entity_id: u64,
    /// The record's extIds (missing or `null`: none).
    #[serde(default, deserialize_with = "de_ext_ids")]
    pub ext_ids: Vec<String>,
}

impl WebhookEvent {
    /// Parses a delivered body; a failure names the field (e.g. `data.entityId`).
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] (endpoint `webhook event`) when the body is not an
    /// event.
    pub fn from_slice(body: &[u8]) -> Result<WebhookEvent> {
        let de = &mut serde_json::Deserializer::from_slice(body);
        serde_path_to_error::deserialize(de).map_err(|e| Error::Decode {
            endpoint: "webhook event".to_owned(),
            path: e.path().to_string(),
            source: e.into_inner(),
        })
    }

    /// True when the change was made through the API key named `key_name`
    /// (an echo of our own write).
    pub fn is_from_api_key(&self, key_name: &str) -> bool {
        self.source.name == Some(WebhookSourceName::Api)
            && self.source.description.as_deref() == Some(key_name)
    }
}

/// A string, or a number rendered as text; null or missing → empty.
fn de_string<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    Ok(de::opt_string_lenient(d)?.unwrap_or_default())
}

/// A secret token (null or empty → `None`).
fn de_secret<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<Secret>, D::Error> {
    Ok(de::opt_string_lenient(d)?
        .filter(|s| !s.is_empty())
        .map(Secret::new))
}

/// Writes the token itself (the one place it is sent).
#[allow(clippy::ref_option)] // serde's `serialize_with` hands `&Option<_>`
fn ser_secret<S: Serializer>(v: &Option<Secret>, s: S) -> std::result::Result<S::Ok, S::Error> {
    match v {
        Some(secret) => s.serialize_str(secret.expose()),
        None => s.serialize_none(),
    }
}

/// ISO 8601 with an offset (`+01:00`, `+0100` or `Z`); null → `None`.
fn de_datetime<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<DateTime<FixedOffset>>, D::Error> {
    use serde::de::Error as _;
    let Some(s) = Option::<String>::deserialize(d)? else {
        return Ok(None);
    };
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    DateTime::parse_from_rfc3339(t)
        .or_else(|_| DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .map(Some)
        .map_err(|_| D::Error::custom(format!("invalid datetime `{s}`")))
}

/// extIds: an array of strings (numbers rendered as text), or null.
fn de_ext_ids<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    use serde_json::Value;
    let items = Option::<Vec<Value>>::deserialize(d)?.unwrap_or_default();
    Ok(items
        .into_iter()
        .filter_map(|v| match v {
            Value::Null => None,
            Value::String(s) => Some(s),
            other => Some(other.to_string()),
        })
        .collect())
}
