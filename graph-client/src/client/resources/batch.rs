//! JSON batching (`POST /$batch`).

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use reqwest::Method;

use super::mailbox::delta_preferences;
use crate::client::error::{Error, Result};
use crate::client::http::Client;
use crate::client::models::batch::{BatchAnswer, BatchEnvelope};
use crate::client::models::{BatchRequest, BatchResponse};
use crate::client::retry::parse_retry_after;
use crate::client::transport::Request;

/// Graph's limit of requests in one batch.
pub const MAX_BATCH_REQUESTS: usize = 20;

impl Client {
    /// `POST /$batch` with at most 20 requests. Every sub-request gets
    /// `Prefer: IdType="ImmutableId"`. Answers are returned in request order. A sub-request
    /// answered 429 (and any dependent answered 424) is sent again alone, in a new batch, after
    /// its `Retry-After`; the others are not repeated. Only retries that got nothing through
    /// count against the retry limit: under a per-mailbox rate limit a retry of 19 throttled
    /// creates may get 5 through and 14 throttled again, and that is progress, not failure
    /// (at most one extra round per sub-request, so the loop stays bounded). Other failures
    /// stay in their [`BatchResponse`]: read each status.
    pub async fn batch(&self, requests: Vec<BatchRequest>) -> Result<Vec<BatchResponse>> {
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        if requests.len() > MAX_BATCH_REQUESTS {
            return Err(Error::InvalidRequest(format!(
                "a batch holds at most {MAX_BATCH_REQUESTS} requests"
            )));
        }
        let mut seen = HashSet::new();
        if let Some(dup) = requests.iter().find(|r| !seen.insert(r.id.as_str())) {
            return Err(Error::InvalidRequest(format!(
                "duplicate batch request id `{}`",
                dup.id
            )));
        }
        let requests: Vec<BatchRequest> = requests.into_iter().map(with_immutable_ids).collect();
        let order: Vec<String> = requests.iter().map(|r| r.id.clone()).collect();
        let mut done: BTreeMap<String, BatchResponse> = BTreeMap::new();
        let mut pending = requests;
        let retry = self.transport().retry.clone();
        let mut round: u32 = 0;
        // Rounds in a row that got no throttled sub-request through.
        let mut stalled: u32 = 0;
        let bound = retry
            .max_attempts
            .saturating_add(u32::try_from(order.len()).unwrap_or(u32::MAX));
        loop {
            round += 1;
            let answers = self.post_batch(&pending).await?;
            let mut throttled: HashSet<String> = HashSet::new();
            let mut wait = Duration::ZERO;
            for answer in &answers {
                if answer.status == 429 {
                    throttled.insert(answer.id.clone());
                    let after = answer.header("Retry-After").and_then(parse_retry_after);
                    wait = wait.max(
                        after
                            .unwrap_or_else(|| retry.backoff(stalled))
                            .min(retry.max_retry_after),
                    );
                }
            }
            // Dependents that failed only because a throttled request failed go again too.
            for answer in &answers {
                if answer.status == 424 {
                    let deps = pending
                        .iter()
                        .find(|r| r.id == answer.id)
                        .map(|r| r.depends_on.clone())
                        .unwrap_or_default();
                    if deps.iter().any(|d| throttled.contains(d)) {
                        throttled.insert(answer.id.clone());
                    }
                }
            }
            let progressed = throttled.len() < pending.len();
            stalled = if progressed { 0 } else { stalled + 1 };
            let give_up = stalled >= retry.max_attempts || round >= bound;
            for answer in answers {
                if !throttled.contains(&answer.id) || give_up {
                    done.insert(answer.id.clone(), answer);
                }
            }
            if throttled.is_empty() || give_up {
                break;
            }
            tracing::info!(
                count = throttled.len(),
                wait_ms = wait.as_millis() as u64,
                "retrying throttled batch requests"
            );
            tokio::time::sleep(wait).await;
            pending.retain(|r| throttled.contains(&r.id));
            for r in &mut pending {
                r.depends_on.retain(|d| throttled.contains(d));
            }
        }
        order
            .iter()
            .map(|id| {
                done.remove(id).ok_or_else(|| Error::Shape {
                    endpoint: "POST /$batch".into(),
                    detail: format!("no response for request `{id}`"),
                })
            })
            .collect()
    }

    /// A `GET` sub-request that follows a stored delta link (or a next link) of a
    /// calendar-view or contacts delta round inside a `$batch`: the link's path and query
    /// relative to the Graph base URL, kept verbatim (the token is sent as Graph wrote it),
    /// with the preferences the direct request sends (`outlook.timezone` for events,
    /// `odata.maxpagesize`; [`Client::batch`] adds `IdType`).
    ///
    /// Graph documents relative sub-request URLs with a query string and per-request
    /// headers (`json-batching`), but not delta links inside a batch explicitly: callers keep
    /// the direct request as the fallback for anything a batch does not answer with a page.
    ///
    /// # Errors
    /// [`Error::Shape`] when the link is not a URL, points at another host (as
    /// [`Client::check_link`]), is not under the base URL's path, or is neither a
    /// calendar-view nor a contacts delta link.
    pub(crate) fn delta_link_request(&self, id: String, link: &str) -> Result<BatchRequest> {
        let refuse = |detail: &str| Error::Shape {
            endpoint: "POST /$batch delta link".into(),
            detail: detail.to_owned(),
        };
        self.check_link(link)?;
        let relative = link
            .strip_prefix(self.graph_base_url())
            .filter(|rest| rest.starts_with('/'))
            .ok_or_else(|| refuse("delta link is not under the graph base url"))?;
        let path = url::Url::parse(link)
            .map_err(|_| refuse("delta link is not a url"))?
            .path()
            .to_ascii_lowercase();
        let preferences = if path.ends_with("/calendarview/delta") {
            delta_preferences(self, super::events::PREFERENCES)
        } else if path.ends_with("/contacts/delta") {
            delta_preferences(self, super::contacts::PREFERENCES)
        } else {
            return Err(refuse("not a calendar-view or contacts delta link"));
        };
        Ok(BatchRequest::new(id, "GET", relative).with_header("Prefer", &preferences.join(", ")))
    }

    async fn post_batch(&self, requests: &[BatchRequest]) -> Result<Vec<BatchResponse>> {
        let url = self.url("/$batch");
        // The envelope itself is retry-safe only when every request in it is.
        let safe = requests.iter().all(retry_safe);
        let req = Request::new(Method::POST, url, "POST /$batch")
            .json(&BatchEnvelope { requests })?
            .retry_safe(safe);
        let answer = BatchAnswer {
            responses: BatchResponse::parse_answer(&self.transport().send(&req).await?.body)?,
        };
        let wanted: HashSet<&str> = requests.iter().map(|r| r.id.as_str()).collect();
        if let Some(stray) = answer
            .responses
            .iter()
            .find(|r| !wanted.contains(r.id.as_str()))
        {
            return Err(Error::Shape {
                endpoint: "POST /$batch".into(),
                detail: format!("unexpected response id `{}`", stray.id),
            });
        }
        Ok(answer.responses)
    }
}

/// Whether a sub-request may be sent twice without harm: anything but a `POST`, or a `POST`
/// whose body carries a `transactionId` (Graph dedupes a repeat). A `$batch` envelope is sent
/// again by the transport only when all of its sub-requests are.
pub(crate) fn retry_safe(request: &BatchRequest) -> bool {
    request.method != "POST"
        || request
            .body
            .as_ref()
            .is_some_and(|b| b.get("transactionId").is_some())
}

fn with_immutable_ids(mut request: BatchRequest) -> BatchRequest {
    const IMMUTABLE: &str = r#"IdType="ImmutableId""#;
    let existing = request
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("Prefer"))
        .map(|(k, v)| (k.clone(), v.clone()));
    match existing {
        Some((key, value)) if !value.contains("IdType") => {
            request.headers.insert(key, format!("{IMMUTABLE}, {value}"));
        }
        Some(_) => {}
        None => {
            request
                .headers
                .insert("Prefer".to_owned(), IMMUTABLE.to_owned());
        }
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Client {
        Client::builder()
            .credentials("t", "a", "s")
            .graph_base_url("http://127.0.0.1:9/v1.0/")
            .page_size(7)
            .build()
            .expect("client")
    }

    #[test]
    fn delta_links_become_relative_sub_requests_with_the_direct_preferences() {
        let c = client();
        let r = c
            .delta_link_request(
                "3".into(),
                "http://127.0.0.1:9/v1.0/users/u%2B1/calendarView/delta?$deltatoken=a%3Db",
            )
            .expect("calendar link");
        assert_eq!(r.id, "3");
        assert_eq!(r.method, "GET");
        assert_eq!(r.url, "/users/u%2B1/calendarView/delta?$deltatoken=a%3Db");
        assert_eq!(
            r.headers.get("Prefer").map(String::as_str),
            Some(r#"outlook.timezone="UTC", odata.maxpagesize=7"#)
        );
        let r = c
            .delta_link_request(
                "4".into(),
                "http://127.0.0.1:9/v1.0/users/u/contactFolders/F/contacts/delta?$deltatoken=x",
            )
            .expect("contacts link");
        assert_eq!(
            r.headers.get("Prefer").map(String::as_str),
            Some("odata.maxpagesize=7")
        );
        assert_eq!(
            with_immutable_ids(r)
                .headers
                .get("Prefer")
                .map(String::as_str),
            Some(r#"IdType="ImmutableId", odata.maxpagesize=7"#)
        );
    }

    #[test]
    fn foreign_or_unknown_links_are_refused() {
        let c = client();
        for link in [
            "https://evil.example/v1.0/users/u/calendarView/delta?$deltatoken=x",
            "http://127.0.0.1:9/beta/users/u/calendarView/delta?$deltatoken=x",
            "http://127.0.0.1:9/v1.0users/u/calendarView/delta",
            "http://127.0.0.1:9/v1.0/users/u/events/delta?$deltatoken=x",
            "not a url",
        ] {
            assert!(
                matches!(
                    c.delta_link_request("1".into(), link),
                    Err(Error::Shape { .. })
                ),
                "{link}"
            );
        }
    }
}
