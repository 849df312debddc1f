//! Events of one mailbox (`/users/{id}/events`, `/users/{id}/calendarView/delta`).

use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::Method;

use super::outcome::DeleteOutcome;
use crate::client::error::{Error, Result};
use crate::client::http::Client;
use crate::client::models::{BatchRequest, Event};
use crate::client::page::{DeltaRound, Page};
use crate::client::transport::Request;
use crate::client::url::{encode_segment, link_property_query, odata_string, query};

/// Asks Graph for start/end in UTC.
pub(crate) const PREFER_UTC: &str = r#"outlook.timezone="UTC""#;

/// The preferences of every calendar-view delta request besides `IdType` (sent directly or
/// inside a `$batch`, where the batch adds `IdType`): UTC times and the page size.
pub(crate) fn delta_preferences(client: &Client) -> Vec<String> {
    vec![
        PREFER_UTC.to_owned(),
        format!("odata.maxpagesize={}", client.page_size()),
    ]
}

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
    client: &'a Client,
    user: &'a str,
}

impl<'a> Events<'a> {
    pub(crate) fn new(client: &'a Client, user: &'a str) -> Self {
        Self { client, user }
    }

    fn base(&self) -> String {
        self.client
            .url(&format!("/users/{}", encode_segment(self.user)))
    }

    fn request(&self, method: Method, url: String, endpoint: &str) -> Request {
        Request::new(method, url, endpoint)
            .mailbox(self.user)
            .prefer(PREFER_UTC)
    }

    /// `GET /users/{id}/events/{id}` (any event: single, occurrence, exception, series master).
    pub async fn get(&self, event_id: &str) -> Result<Event> {
        let url = format!("{}/events/{}", self.base(), encode_segment(event_id));
        let req = self.request(Method::GET, url, "GET /users/{id}/events/{id}");
        self.client.transport().send(&req).await?.decode()
    }

    /// `GET /users/{id}/events/{id}?$expand=singleValueExtendedProperties($filter=id eq '{prop}')`:
    /// the event with the value of one extended property.
    pub async fn get_with_property(&self, event_id: &str, property_id: &str) -> Result<Event> {
        let expand = format!(
            "singleValueExtendedProperties($filter=id eq {})",
            odata_string(property_id)
        );
        let url = format!(
            "{}/events/{}{}",
            self.base(),
            encode_segment(event_id),
            query(&[("$expand", &expand)])
        );
        let req = self.request(Method::GET, url, "GET /users/{id}/events/{id}?$expand");
        self.client.transport().send(&req).await?.decode()
    }

    /// `POST /users/{id}/events` with `transactionId` (so a retry after a timeout cannot
    /// create a second event). Put the Raynet link into
    /// `event.single_value_extended_properties`: it is written in the same POST.
    pub async fn create(&self, event: &Event, transaction_id: &str) -> Result<Event> {
        if transaction_id.is_empty() {
            return Err(Error::InvalidRequest(
                "transaction id must not be empty".into(),
            ));
        }
        let mut body = event.clone();
        body.transaction_id = Some(transaction_id.to_owned());
        let url = format!("{}/events", self.base());
        let req = self
            .request(Method::POST, url, "POST /users/{id}/events")
            .json(&body)?
            .retry_safe(true);
        self.client.transport().send(&req).await?.decode()
    }

    /// `PATCH /users/{id}/events/{id}` with `If-Match: {etag}`. A changed event answers
    /// [`Error::Conflict`].
    pub async fn update(&self, event_id: &str, patch: &Event, etag: &str) -> Result<Event> {
        let url = format!("{}/events/{}", self.base(), encode_segment(event_id));
        let req = self
            .request(Method::PATCH, url, "PATCH /users/{id}/events/{id}")
            .header("If-Match", etag)
            .json(patch)?;
        self.client.transport().send(&req).await?.decode()
    }

    /// The path of this mailbox's events relative to the Graph base URL, as a `$batch`
    /// sub-request names it (`/users/{id}/events`, plus `/{id}` for one event).
    fn relative(&self, event_id: Option<&str>) -> String {
        let mut url = format!("/users/{}/events", encode_segment(self.user));
        if let Some(id) = event_id {
            url.push('/');
            url.push_str(&encode_segment(id));
        }
        url
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
        if transaction_id.is_empty() {
            return Err(Error::InvalidRequest(
                "transaction id must not be empty".into(),
            ));
        }
        let mut body = event.clone();
        body.transaction_id = Some(transaction_id.to_owned());
        Ok(BatchRequest::new(id, "POST", self.relative(None))
            .with_json(to_json(&body)?)
            .with_header("Prefer", PREFER_UTC))
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
        Ok(
            BatchRequest::new(id, "PATCH", self.relative(Some(event_id)))
                .with_json(to_json(patch)?)
                .with_header("If-Match", etag)
                .with_header("Prefer", PREFER_UTC),
        )
    }

    /// `DELETE /users/{id}/events/{id}`, with `If-Match` when an ETag is given. Deleting an
    /// organizer's meeting sends cancellations.
    pub async fn delete(&self, event_id: &str, etag: Option<&str>) -> Result<DeleteOutcome> {
        let url = format!("{}/events/{}", self.base(), encode_segment(event_id));
        let mut req = self.request(Method::DELETE, url, "DELETE /users/{id}/events/{id}");
        if let Some(etag) = etag {
            req = req.header("If-Match", etag);
        }
        match self.client.transport().send(&req).await {
            Ok(_) => Ok(DeleteOutcome::Deleted),
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
        let url = format!(
            "{}/events{}",
            self.base(),
            query(&[("$filter", &filter), ("$expand", &expand)])
        );
        let req = self.request(Method::GET, url, "GET /users/{id}/events?$filter");
        let mut page: Page<Event> = Page::parse(
            &self.client.transport().send(&req).await?.body,
            &req.endpoint,
        )?;
        let mut all = std::mem::take(&mut page.items);
        while let Some(link) = page.next_link.take() {
            let req = self.request(
                Method::GET,
                self.client.check_link(&link)?,
                "GET /users/{id}/events nextLink",
            );
            page = Page::parse(
                &self.client.transport().send(&req).await?.body,
                &req.endpoint,
            )?;
            all.append(&mut page.items);
        }
        Ok(all)
    }

    fn delta_request(&self, url: String, endpoint: &str) -> Request {
        delta_preferences(self.client).into_iter().fold(
            Request::new(Method::GET, url, endpoint).mailbox(self.user),
            Request::prefer,
        )
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
        let url = format!(
            "{}/calendarView/delta{}",
            self.base(),
            query(&[("startDateTime", &start), ("endDateTime", &end)])
        );
        let req = self.delta_request(url, "GET /users/{id}/calendarView/delta");
        Page::parse(
            &self.client.transport().send(&req).await?.body,
            &req.endpoint,
        )
    }

    /// Follows a next link or a stored delta link, verbatim and with the same headers.
    /// An expired token is [`Error::DeltaExpired`].
    pub async fn delta_page(&self, link: &str) -> Result<Page<Event>> {
        let url = self.client.check_link(link)?;
        let req = self.delta_request(url, "GET /users/{id}/calendarView/delta link");
        Page::parse(
            &self.client.transport().send(&req).await?.body,
            &req.endpoint,
        )
    }

    /// A whole initial round over the window.
    pub async fn delta_full(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<DeltaRound<Event>> {
        let first = self.delta_start(start, end).await?;
        self.finish_round(first).await
    }

    /// A whole round from a stored delta link. On [`Error::DeltaExpired`] call
    /// [`Events::delta_full`] and reconcile: never treat the expiry as deletions.
    pub async fn delta_resume(&self, delta_link: &str) -> Result<DeltaRound<Event>> {
        let first = self.delta_page(delta_link).await?;
        self.finish_round(first).await
    }

    /// A whole round whose first page was already read (e.g. the answer to the stored delta
    /// link inside a `$batch`, see `adapter::DeltaPrefetch`): follows its next links to the
    /// delta link, as [`Events::delta_resume`] does after its first request. A stale next
    /// link is [`Error::DeltaExpired`]: re-read fully, as for an expired delta link.
    pub async fn delta_resume_from(&self, first_page: Page<Event>) -> Result<DeltaRound<Event>> {
        self.finish_round(first_page).await
    }

    async fn finish_round(&self, first: Page<Event>) -> Result<DeltaRound<Event>> {
        DeltaRound::follow(
            first,
            "GET /users/{id}/calendarView/delta",
            |link| async move { self.delta_page(&link).await },
        )
        .await
    }
}
