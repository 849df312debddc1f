//! [`DeltaPrefetch`]: the first page of many mailboxes' delta rounds, read together in
//! `$batch` requests, for the providers' reads to use instead of a request of their own.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures::StreamExt;

use crate::client::models::{BatchRequest, BatchResponse};
use crate::client::{Client, MAX_BATCH_REQUESTS};

/// `$batch` requests in flight at once during [`DeltaPrefetch::load`]. Graph runs at most 4
/// sub-requests of one batch in parallel; a few batches side by side stay well inside each
/// mailbox's limit of 4 concurrent requests, as a mailbox has at most 2 links (calendar and
/// contacts).
const CONCURRENT_BATCHES: usize = 4;

/// The first pages of stored delta links (calendar-view and contacts delta), read 20 to a
/// `$batch` request, so that an idle round costs one request per 20 links instead of one per
/// link. Cheap to clone (the pages are shared).
///
/// Use: learn the link each read will resume from ([`super::GraphCalendar::resume_link`],
/// [`super::GraphContacts::resume_link`] on the stored cursors), [`DeltaPrefetch::load`] them,
/// give the providers the prefetch (`with_prefetch`), run the round, then
/// [`DeltaPrefetch::clear`] (or drop it). A read whose link was prefetched takes the page
/// ([`DeltaPrefetch::take`], once) and sends no request for it; it follows the page's
/// `@odata.nextLink`s as usual. A read whose link is not held (its sub-request failed: an
/// expired token, 404, 403, 5xx, still throttled; or its batch failed) sends its own
/// request and handles the answer as it always does, so a prefetch can only save requests,
/// never change what a read returns.
///
/// A page is a snapshot of when it was loaded: load right before the reads, not a round
/// ahead (a stale page is still correct, as its delta link then reports what changed since,
/// but it holds back changes until the next round).
#[derive(Clone, Default)]
pub struct DeltaPrefetch {
    pages: Arc<Mutex<HashMap<String, serde_json::Value>>>,
}

/// What a [`DeltaPrefetch::load`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PrefetchStats {
    /// Distinct links asked for.
    pub links: usize,
    /// First pages kept (answered 2xx with a page).
    pub kept: usize,
    /// `$batch` requests sent (at most 20 links each), not counting the batches
    /// [`Client::batch`] sends again for throttled sub-requests.
    pub batches: usize,
}

impl std::fmt::Debug for DeltaPrefetch {
    // Never the pages: their links hold delta tokens.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeltaPrefetch")
            .field("pages", &self.lock().len())
            .finish()
    }
}

impl DeltaPrefetch {
    /// An empty prefetch.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, serde_json::Value>> {
        self.pages.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads the first page of each delta link in `$batch` requests of at most 20 (a few
    /// batches at once) and keeps each page that came back 2xx, keyed by its link (added to
    /// what is already held; duplicates are asked once).
    ///
    /// Each link must start with the client's [`Client::graph_base_url`] (the token is never
    /// sent elsewhere) and be a calendar-view or contacts delta link; it is sent as a `GET`
    /// of its path and query relative to the base URL, with the `Prefer` preferences of the
    /// direct request (`outlook.timezone="UTC"` for events, `odata.maxpagesize`, and the
    /// batch's `IdType="ImmutableId"`). [`Client::batch`] retries throttled sub-requests.
    ///
    /// Nothing here fails: a link that is refused, a sub-request that failed, an answer
    /// without a page body, or a whole batch that failed is not kept (and logged with the
    /// mailbox path, never the token); its read then sends its own request, exactly as
    /// without a prefetch.
    pub async fn load(&self, client: &Client, links: Vec<String>) -> PrefetchStats {
        let mut stats = PrefetchStats::default();
        let mut seen = HashSet::new();
        let mut wanted: Vec<String> = Vec::new();
        for link in links {
            if seen.insert(link.clone()) {
                wanted.push(link);
            }
        }
        stats.links = wanted.len();
        // (link, sub-request) per batch, ids "1".."20" within each.
        let mut chunks: Vec<Vec<(String, BatchRequest)>> = Vec::new();
        let mut chunk: Vec<(String, BatchRequest)> = Vec::new();
        for link in wanted {
            let id = (chunk.len() + 1).to_string();
            match client.delta_link_request(id, &link) {
                Ok(request) => chunk.push((link, request)),
                Err(e) => {
                    tracing::info!(path = %crate::client::path_of(&link), error = %e, "a delta link cannot be prefetched: its read sends its own request");
                    continue;
                }
            }
            if chunk.len() == MAX_BATCH_REQUESTS {
                chunks.push(std::mem::take(&mut chunk));
            }
        }
        if !chunk.is_empty() {
            chunks.push(chunk);
        }
        stats.batches = chunks.len();
        let answered: Vec<(Vec<String>, crate::client::Result<Vec<BatchResponse>>)> =
            futures::stream::iter(chunks.into_iter().map(|chunk| async move {
                let (links, requests): (Vec<String>, Vec<BatchRequest>) = chunk.into_iter().unzip();
                let answers = client.batch(requests).await;
                (links, answers)
            }))
            .buffer_unordered(CONCURRENT_BATCHES)
            .collect()
            .await;
        for (links, answers) in answered {
            let answers = match answers {
                Ok(a) => a,
                Err(e) => {
                    tracing::info!(count = links.len(), error = %e, "a delta prefetch batch failed: those reads send their own requests");
                    continue;
                }
            };
            let mut pages = self.lock();
            for (link, answer) in links.into_iter().zip(answers) {
                match page_of(answer) {
                    Ok(body) => {
                        pages.insert(link, body);
                        stats.kept += 1;
                    }
                    Err(status) => {
                        tracing::debug!(path = %crate::client::path_of(&link), status, "a prefetched delta page was not kept: its read sends its own request");
                    }
                }
            }
        }
        tracing::debug!(
            links = stats.links,
            kept = stats.kept,
            batches = stats.batches,
            "delta pages prefetched"
        );
        stats
    }

    /// The prefetched first page of `link` (the JSON body Graph answered), removed from the
    /// prefetch: each page is used once. `None` when it was not prefetched (or was taken).
    #[must_use]
    pub fn take(&self, link: &str) -> Option<serde_json::Value> {
        self.lock().remove(link)
    }

    /// Pages held.
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no page is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Drops every page held (e.g. after a round: a page not taken is of no later use).
    pub fn clear(&self) {
        self.lock().clear();
    }
}

/// The body of a sub-answer worth keeping: 2xx with a JSON object holding a `value` array
/// (the shape of every page). Anything else is left to the direct request; a kept page is
/// still parsed fail-closed by the read (an item that does not decode fails it, as a direct
/// answer would). `Err` carries the status for the log.
fn page_of(answer: BatchResponse) -> Result<serde_json::Value, u16> {
    if !answer.is_success() {
        return Err(answer.status);
    }
    match answer.body {
        Some(body) if body.get("value").is_some_and(serde_json::Value::is_array) => Ok(body),
        _ => Err(answer.status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: Option<serde_json::Value>) -> BatchResponse {
        BatchResponse {
            id: "1".into(),
            status,
            headers: std::collections::BTreeMap::new(),
            body,
        }
    }

    #[test]
    fn only_2xx_pages_are_kept() {
        let page = serde_json::json!({"value": [], "@odata.deltaLink": "d"});
        assert_eq!(page_of(answer(200, Some(page.clone()))), Ok(page.clone()));
        assert_eq!(page_of(answer(410, Some(page.clone()))), Err(410));
        assert_eq!(page_of(answer(429, None)), Err(429));
        assert_eq!(page_of(answer(200, None)), Err(200));
        assert_eq!(
            page_of(answer(200, Some(serde_json::json!({"error": {}})))),
            Err(200)
        );
        assert_eq!(
            page_of(answer(200, Some(serde_json::json!({"value": {}})))),
            Err(200)
        );
    }

    #[test]
    fn pages_are_taken_once_and_never_printed() {
        let p = DeltaPrefetch::new();
        p.lock().insert(
            "http://x/v1.0/users/u/calendarView/delta?$deltatoken=SECRET".into(),
            serde_json::json!({"value": []}),
        );
        let clone = p.clone();
        assert_eq!(clone.len(), 1, "clones share the pages");
        assert!(!format!("{p:?}").contains("SECRET"));
        assert!(
            p.take("http://x/v1.0/users/u/calendarView/delta?$deltatoken=SECRET")
                .is_some()
        );
        assert!(
            clone
                .take("http://x/v1.0/users/u/calendarView/delta?$deltatoken=SECRET")
                .is_none(),
            "one-shot"
        );
        p.lock()
            .insert("a".into(), serde_json::json!({"value": []}));
        clone.clear();
        assert!(p.is_empty());
    }

    #[test]
    fn prefetch_is_send_and_sync() {
        fn check<T: Send + Sync + Clone + Default + std::fmt::Debug>() {}
        fn send<T: Send>(_: &T) {}
        check::<DeltaPrefetch>();
        let client = Client::builder()
            .credentials("t", "a", "s")
            .build()
            .expect("client");
        let prefetch = DeltaPrefetch::new();
        // The load can run on any task (never polled here).
        send(&prefetch.load(&client, Vec::new()));
    }
}
