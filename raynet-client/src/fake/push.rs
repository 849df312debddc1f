//! Webhook delivery: one tokio task per fake (spawned by
//! [`FakeRaynet::start`](super::FakeRaynet::start), aborted when the fake is
//! dropped, with every delivery in flight) that POSTs each webhook's queued
//! events in order, as JSON with the header `X-RAYNETCRM-Token`, at the pace
//! of [`PushSettings`]. A failed delivery (no 2xx answer) stays at the head of
//! its queue and is retried, so no event is lost; a webhook whose deliveries
//! have failed for [`PushSettings::remove_after`] (7 days, on the fake's
//! clock) is removed with its queue, as RAYNET does.
//!
//! Safety: only loopback URLs are ever registered (`state/hooks.rs`), and the
//! HTTP client follows no redirect and uses no proxy, so no delivery leaves
//! the machine.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::task::{JoinHandle, JoinSet};

use super::push_settings::{Delivery, PushSettings};
use super::state::{Shared, World};
use crate::client::models::WEBHOOK_TOKEN_HEADER;

/// How often the loop looks at the queues without being woken (the fake's
/// clock can jump with `advance_clock`, which wakes no one).
const TICK: Duration = Duration::from_millis(50);

/// One delivery to make.
struct Job {
    instance: String,
    webhook_id: String,
    url: String,
    token: Option<String>,
    event: Value,
    timeout: Duration,
}

/// Starts the delivery loop of a fake.
pub(crate) fn spawn(shared: Arc<Shared>) -> JoinHandle<()> {
    tokio::spawn(run(shared))
}

async fn run(shared: Arc<Shared>) {
    let http = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default();
    // Dropped (and with it every delivery in flight) when the loop is aborted.
    let mut tasks = JoinSet::new();
    loop {
        let (jobs, wait) = due(&mut shared.world(), Instant::now());
        for job in jobs {
            tasks.spawn(deliver(http.clone(), Arc::clone(&shared), job));
        }
        tokio::select! {
            () = shared.push_wake.notified() => {}
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            () = tokio::time::sleep(wait.min(TICK)) => {}
        }
    }
}

/// Removes the webhooks failing for too long, and takes the head event of
/// every idle webhook whose pause is over; also says how long until the next
/// pause ends.
fn due(w: &mut World, at: Instant) -> (Vec<Job>, Duration) {
    let now = w.now();
    let settings = w.push;
    let mut jobs = Vec::new();
    let mut wait = TICK;
    for (name, inst) in &mut w.instances {
        inst.hooks.list.retain(|h| {
            let expired = h
                .failing_since
                .is_some_and(|since| now - since >= settings.remove_after);
            if expired {
                tracing::info!(webhook = %h.id, "fake raynet: webhook removed after failing deliveries");
            }
            !expired
        });
        for hook in &mut inst.hooks.list {
            if hook.busy {
                continue;
            }
            let Some(event) = hook.queue.front() else {
                continue;
            };
            if let Some(next) = hook.next_at.filter(|n| *n > at) {
                wait = wait.min(next - at);
                continue;
            }
            hook.busy = true;
            jobs.push(Job {
                instance: name.clone(),
                webhook_id: hook.id.clone(),
                url: hook.url.clone(),
                token: hook.token.clone(),
                event: event.clone(),
                timeout: settings.timeout,
            });
        }
    }
    (jobs, wait)
}

/// POSTs one event and records the outcome.
async fn deliver(http: reqwest::Client, shared: Arc<Shared>, job: Job) {
    let mut req = http.post(&job.url).json(&job.event).timeout(job.timeout);
    if let Some(token) = &job.token {
        req = req.header(WEBHOOK_TOKEN_HEADER, token);
    }
    let status = req.send().await.ok().map(|r| r.status().as_u16());
    {
        let mut w = shared.world();
        let now = w.now();
        let settings: PushSettings = w.push;
        let delivery = Delivery {
            instance: job.instance.clone(),
            webhook_id: job.webhook_id.clone(),
            url: job.url.clone(),
            event: job.event.clone(),
            status,
            at: now,
        };
        let ok = delivery.succeeded();
        w.deliveries.push(delivery);
        let hook = w
            .instances
            .get_mut(&job.instance)
            .and_then(|i| i.hooks.list.iter_mut().find(|h| h.id == job.webhook_id));
        if let Some(hook) = hook {
            hook.busy = false;
            if ok {
                if hook.queue.front() == Some(&job.event) {
                    hook.queue.pop_front();
                }
                hook.failing_since = None;
                hook.next_at = Some(Instant::now() + settings.interval);
            } else {
                hook.failing_since.get_or_insert(now);
                hook.next_at = Some(Instant::now() + settings.retry_interval);
            }
        }
    }
    shared.push_wake.notify_one();
}
