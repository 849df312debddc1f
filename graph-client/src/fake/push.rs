//! Delivery of notifications to subscribers' endpoints: the validation handshake and one
//! worker per subscription that POSTs its queued notifications in order, retrying with
//! bounded exponential backoff while the endpoint answers non-2xx or does not answer.
//!
//! Workers are tokio tasks the fake owns: a deleted or expired subscription's worker is
//! aborted, and every worker is aborted when the `FakeGraph` is dropped. Only loopback URLs
//! ever reach this file (checked at creation, `subs::is_loopback_url`); redirects are not
//! followed and no proxy is used.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::AbortHandle;

use super::records::Delivery;
use super::state::{State, lock};
use super::subs::Outgoing;

/// How long the endpoint has to answer the validation request (Graph: 10 s).
pub(crate) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The HTTP client of deliveries: no proxy, no redirects.
fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

/// Graph's validation request: `POST {url}?validationToken={token}` (the token
/// percent-encoded, `text/plain`, empty body). Succeeds only on a `200` `text/plain` answer
/// whose body is the decoded token, within [`HANDSHAKE_TIMEOUT`].
pub(crate) async fn handshake(url: &str, token: &str) -> Result<(), String> {
    let sep = if url.contains('?') { '&' } else { '?' };
    let target = format!(
        "{url}{sep}validationToken={}",
        utf8_percent_encode(token, NON_ALPHANUMERIC)
    );
    let attempt = async {
        let resp = http()
            .post(&target)
            .header("content-type", "text/plain; charset=utf-8")
            .send()
            .await
            .map_err(|e| format!("no answer: {e}"))?;
        let status = resp.status().as_u16();
        let plain = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("text/plain")
            });
        let body = resp.text().await.map_err(|e| e.to_string())?;
        if status != 200 {
            return Err(format!("answered {status}"));
        }
        if !plain {
            return Err("answered without Content-Type: text/plain".into());
        }
        if body != token {
            return Err("answered another body than the validation token".into());
        }
        Ok(())
    };
    tokio::time::timeout(HANDSHAKE_TIMEOUT, attempt)
        .await
        .unwrap_or_else(|_| Err("no answer within 10 seconds".into()))
}

/// Starts the delivery worker of a subscription; the fake keeps the abort handle.
pub(crate) fn spawn_worker(shared: Arc<Mutex<State>>) -> (UnboundedSender<Outgoing>, AbortHandle) {
    let (tx, rx) = unbounded_channel();
    let task = tokio::spawn(run(shared, rx));
    (tx, task.abort_handle())
}

async fn run(shared: Arc<Mutex<State>>, mut rx: UnboundedReceiver<Outgoing>) {
    let http = http();
    while let Some(out) = rx.recv().await {
        let (attempts, status, delivered) = deliver(&shared, &http, &out).await;
        let mut st = lock(&shared);
        if let Some(n) = st.push.pending.get_mut(&out.subscription) {
            *n = n.saturating_sub(1);
        }
        if attempts > 0 {
            st.push.deliveries.push(Delivery {
                subscription_id: out.subscription,
                url: out.url,
                body: out.body,
                attempts,
                status,
                delivered,
            });
        }
    }
}

/// Whether a queued notification should still go out: lifecycle notifications always, change
/// notifications while their subscription lives (on the fake's clock).
fn still_wanted(shared: &Mutex<State>, out: &Outgoing) -> bool {
    out.lifecycle || lock(shared).push.is_live(&out.subscription)
}

/// Posts one notification until a 2xx or the attempts run out: (attempts, last status,
/// delivered). No attempt is made for a notification no longer wanted.
async fn deliver(
    shared: &Mutex<State>,
    http: &reqwest::Client,
    out: &Outgoing,
) -> (u32, Option<u16>, bool) {
    let (delay, max_attempts, first_backoff, timeout) = {
        let st = lock(shared);
        let p = &st.push;
        (
            p.delay,
            p.max_attempts.max(1),
            p.first_backoff,
            p.attempt_timeout,
        )
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let body = serde_json::to_vec(&out.body).unwrap_or_default();
    let mut status = None;
    for attempt in 1..=max_attempts {
        if !still_wanted(shared, out) {
            return (attempt - 1, status, false);
        }
        let sent = http
            .post(&out.url)
            .header("content-type", "application/json")
            .body(body.clone())
            .timeout(timeout)
            .send()
            .await;
        if let Ok(resp) = sent {
            let code = resp.status().as_u16();
            status = Some(code);
            if resp.status().is_success() {
                return (attempt, status, true);
            }
        }
        if attempt < max_attempts {
            let factor = 2u32.saturating_pow((attempt - 1).min(10));
            tokio::time::sleep((first_backoff * factor).min(Duration::from_secs(2))).await;
        }
    }
    (max_attempts, status, false)
}
