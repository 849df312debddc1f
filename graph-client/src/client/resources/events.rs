//! Events of one mailbox (`/users/{id}/events`, `/users/{id}/calendarView/delta`).

use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::Method;

use super::mailbox::MailboxScope;
use super::outcome::DeleteOutcome;
use crate::client::error::{Error, Result};
use crate::client::http::Client;
use crate::client::models::{BatchRequest, Event};
use crate::client::page::{DeltaRound, Page};
use crate::client::url::{encode_segment, link_property_query, query};

/// Asks Graph for start/end in UTC.
pub(crate) const PREFER_UTC: &str = r#"outlook.timezone="UTC""#;

/// The preferences every events request carries besides `IdType`: UTC times.
pub(crate) const PREFERENCES: &[&str] = &[PREFER_UTC];

/// The endpoint of a new calendar-view delta round.
const DELTA: &str = "GET /users/{id}/calendarView/delta";
/// The endpoint of a calendar-view delta link (a next link or a stored delta link).
const DELTA_LINK: &str = "GET /users/{id}/calendarView/delta link";

/// A request body as JSON (refused as a direct request's body would be).
fn to_json(body: &Event) -> Result<serde_json::Value> {
    serde_json::to_value(body)
        .map_err(|e| Error::InvalidRequest(format!("body could not be serialized: {e}")))
}

impl Client {
    /// Event endpoints of one mailbox (`user_id` is the user's object id).
    #[must_use]
    pub fn events<'a>(&'a self, user_id: &'a str) -> Events<'a> {
        Events::new(self, user_id)
    }
}

/// Event endpoints of one mailbox.
#[derive(Debug, Clone, Copy)]
pub struct Events<'a> {
    mailbox: MailboxScope<'a>,
}

impl<'a> Events<'a> {
    pub(crate) fn new(client: &'a Client, user: &'a str) -> Self {
        Self {
            mailbox: MailboxScope::new(client, user, PREFERENCES),
        }
    }

    /// `GET /users/{id}/events/{id}` (any event: single, occurrence, exception, series master).
    pub async fn get(&self, event_id: &str) -> Result<Event> {
        let endpoint = "GET /users/{id}/events/{id}";
        let req = self
            .mailbox
            .request(Method::GET, &path(Some(event_id)), endpoint);
        self.mailbox.client.send(&req).await
    }

    /// `GET /users/{id}/events/{id}?$expand=singleValueExtendedProperties($filter=id eq '{prop}')`:
    /// the event with the value of one extended property.
    pub async fn get_with_property(&self, event_id: &str, property_id: &str) -> Result<Event> {
        let endpoint = "GET /users/{id}/events/{id}?$expand";
        self.mailbox
            .get_with_property(&path(Some(event_id)), property_id, endpoint)
            .await
    }

    /// `POST /users/{id}/events` with `transactionId` (so a retry after a timeout cannot
    /// create a second event). Put the Raynet link into
    /// `event.single_value_extended_properties`: it is written in the same POST.
    pub async fn create(&self, event: &Event, transaction_id: &str) -> Result<Event> {
        let body = with_transaction(event, transaction_id)?;
        let req = self
            .mailbox
            .request(Method::POST, &path(None), "POST /users/{id}/events")
            .json(&body)?
            .retry_safe(true);
        self.mailbox.client.send(&req).await
    }

    /// `PATCH /users/{id}/events/{id}` with `If-Match: {etag}`. A changed event answers
    /// [`Error::Conflict`].
    pub async fn update(&self, event_id: &str, patch: &Event, etag: &str) -> Result<Event> {
        let endpoint = "PATCH /users/{id}/events/{id}";
        let req = self
            .mailbox
            .request(Method::PATCH, &path(Some(event_id)), endpoint)
            .header("If-Match", etag)
            .json(patch)?;
        self.mailbox.client.send(&req).await
    }

    /// [`Events::create`] as a `$batch` sub-request with the id `id`: the same relative path,
    /// body (with `transactionId`) and preferences (`outlook.timezone`; [`Client::batch`] adds
    /// `IdType`).
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for an empty transaction id or a body that cannot be
    /// serialized.
    pub(crate) fn create_in_batch(
        &self,
        id: impl Into<String>,
        event: &Event,
        transaction_id: &str,
    ) -> Result<BatchRequest> {
        let body = with_transaction(event, transaction_id)?;
        Ok(
            BatchRequest::new(id, "POST", self.mailbox.relative(&path(None)))
                .with_json(to_json(&body)?)
                .with_header("Prefer", PREFER_UTC),
        )
    }

    /// [`Events::update`] as a `$batch` sub-request with the id `id`: the same relative path,
    /// `If-Match`, body and preferences (`outlook.timezone`; [`Client::batch`] adds `IdType`).
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for a body that cannot be serialized.
    pub(crate) fn update_in_batch(
        &self,
        id: impl Into<String>,
        event_id: &str,
        patch: &Event,
        etag: &str,
    ) -> Result<BatchRequest> {
        let relative = self.mailbox.relative(&path(Some(event_id)));
        Ok(BatchRequest::new(id, "PATCH", relative)
            .with_json(to_json(patch)?)
            .with_header("If-Match", etag)
            .with_header("Prefer", PREFER_UTC))
    }

    /// `DELETE /users/{id}/events/{id}`, with `If-Match` when an ETag is given. Deleting an
    /// organizer's meeting sends cancellations.
    pub async fn delete(&self, event_id: &str, etag: Option<&str>) -> Result<DeleteOutcome> {
        let endpoint = "DELETE /users/{id}/events/{id}";
        match self
            .mailbox
            .delete(&path(Some(event_id)), endpoint, etag)
            .await
        {
            Ok(()) => Ok(DeleteOutcome::Deleted),
            Err(e)
                if e.is_not_found()
                    && e.code()
                        .is_some_and(|c| c.eq_ignore_ascii_case("ErrorItemNotFound")) =>
            {
                Ok(DeleteOutcome::AlreadyGone)
            }
            Err(e) => Err(e),
        }
    }

    /// `GET /users/{id}/events?$filter=singleValueExtendedProperties/Any(ep: ep/id eq '{prop}' and ep/value eq '{value}')`
    /// (with the property expanded), every page. Finds the events a crashed create left behind.
    pub async fn find_by_extended_property(
        &self,
        property_id: &str,
        value: &str,
    ) -> Result<Vec<Event>> {
        let (filter, expand) = link_property_query(property_id, value);
        let filtered = format!(
            "{}{}",
            path(None),
            query(&[("$filter", &filter), ("$expand", &expand)])
        );
        self.mailbox
            .all_pages(
                &filtered,
                "GET /users/{id}/events?$filter",
                "GET /users/{id}/events nextLink",
            )
            .await
    }

    /// `GET /users/{id}/calendarView/delta?startDateTime&endDateTime`: the first page of a new
    /// round over the window (the window is fixed for the token's life).
    pub async fn delta_start(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Page<Event>> {
        if end <= start {
            return Err(Error::InvalidRequest(
                "delta window end must be after its start".into(),
            ));
        }
        let start = start.to_rfc3339_opts(SecondsFormat::Secs, true);
        let end = end.to_rfc3339_opts(SecondsFormat::Secs, true);
        let window = query(&[("startDateTime", &start), ("endDateTime", &end)]);
        self.mailbox
            .delta_start(&format!("/calendarView/delta{window}"), DELTA)
            .await
    }

    /// Follows a next link or a stored delta link, verbatim and with the same headers.
    /// An expired token is [`Error::DeltaExpired`].
    pub async fn delta_page(&self, link: &str) -> Result<Page<Event>> {
        self.mailbox.delta_page(link, DELTA_LINK).await
    }

    /// A whole initial round over the window.
    pub async fn delta_full(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<DeltaRound<Event>> {
        let first = self.delta_start(start, end).await?;
        self.delta_resume_from(first).await
    }

    /// A whole round from a stored delta link. On [`Error::DeltaExpired`] call
    /// [`Events::delta_full`] and reconcile: never treat the expiry as deletions.
    pub async fn delta_resume(&self, delta_link: &str) -> Result<DeltaRound<Event>> {
        let first = self.delta_page(delta_link).await?;
        self.delta_resume_from(first).await
    }

    /// A whole round whose first page was already read (e.g. the answer to the stored delta
    /// link inside a `$batch`, see `adapter::DeltaPrefetch`): follows its next links to the
    /// delta link, as [`Events::delta_resume`] does after its first request. A stale next
    /// link is [`Error::DeltaExpired`]: re-read fully, as for an expired delta link.
    pub async fn delta_resume_from(&self, first_page: Page<Event>) -> Result<DeltaRound<Event>> {
        self.mailbox
            .finish_round(first_page, DELTA, DELTA_LINK)
            .await
    }
}

/// The path of a mailbox's events below `/users/{id}`: `/events`, plus `/{id}` for one event.
fn path(event_id: Option<&str>) -> String {
    match event_id {
        Some(id) => format!("/events/{}", encode_segment(id)),
        None => "/events".to_owned(),
    }
}

/// A create's body: `event` with `transactionId` (refused when empty).
fn with_transaction(event: &Event, transaction_id: &str) -> Result<Event> {
    if transaction_id.is_empty() {
        return Err(Error::InvalidRequest(
            "transaction id must not be empty".into(),
        ));
    }
    let mut body = event.clone();
    body.transaction_id = Some(transaction_id.to_owned());
    Ok(body)
}
