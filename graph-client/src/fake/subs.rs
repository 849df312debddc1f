//! The fake's change-notification state: subscriptions, the delivery settings and log, and
//! the fake's clock for expiry.
//!
//! The reference gives Outlook resources a maximum lifetime of 4,230 minutes (the stored
//! documentation's table) or 10,080 minutes (current text); the fake uses the longer,
//! [`MAX_LIFETIME_MINUTES`], and caps a longer request to it.
//!
//! Real Graph only delivers to `https` URLs. This fake delivers only to loopback hosts
//! (`127.0.0.0/8`, `::1`, `localhost`), over `http` or `https`, and refuses every other URL.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::AbortHandle;

use super::records::Delivery;
use super::time;

/// The longest lifetime of an Outlook subscription the fake grants (see the module docs).
pub(crate) const MAX_LIFETIME_MINUTES: i64 = 10_080;

/// The tenant id the fake's notifications carry.
pub(crate) const TENANT_ID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

/// What a subscription watches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Watched {
    /// `/users/{id}/events`.
    Events,
    /// `/users/{id}/contacts` (`None`: the root folder) or
    /// `/users/{id}/contactFolders/{id}/contacts`.
    Contacts(Option<String>),
}

/// One notification POST waiting for delivery.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub(crate) subscription: String,
    pub(crate) url: String,
    pub(crate) body: Value,
    /// Lifecycle notifications are delivered even after the subscription is gone.
    pub(crate) lifecycle: bool,
}

/// What a subscription was created with, checked; `expires` moves with every renewal.
#[derive(Debug)]
pub(crate) struct Terms {
    pub(crate) change_types: Vec<String>,
    pub(crate) notification_url: String,
    pub(crate) lifecycle_url: Option<String>,
    pub(crate) client_state: Option<String>,
    pub(crate) resource: String,
    /// The mailbox of `resource`.
    pub(crate) user: String,
    pub(crate) watched: Watched,
    pub(crate) expires: DateTime<Utc>,
    /// Whether notifications carry immutable ids (`Prefer: IdType="ImmutableId"` at creation).
    pub(crate) immutable: bool,
}

/// One subscription.
#[derive(Debug)]
pub(crate) struct FakeSubscription {
    pub(crate) id: String,
    pub(crate) terms: Terms,
    /// The watched items as last seen: immutable id → change key.
    pub(crate) known: BTreeMap<String, String>,
    pub(crate) outbox: UnboundedSender<Outgoing>,
    pub(crate) worker: AbortHandle,
}

impl FakeSubscription {
    /// A notification of this subscription: `fields` plus what every notification carries
    /// (`subscriptionId`, `subscriptionExpirationDateTime`, `tenantId`, `clientState` if set).
    pub(crate) fn notification(&self, mut fields: Value) -> Value {
        fields["subscriptionId"] = json!(self.id);
        fields["subscriptionExpirationDateTime"] = json!(time::fmt_utc(self.terms.expires));
        fields["tenantId"] = json!(TENANT_ID);
        if let Some(state) = &self.terms.client_state {
            fields["clientState"] = json!(state);
        }
        fields
    }

    /// A lifecycle notification of this subscription (`event`: `reauthorizationRequired`,
    /// `subscriptionRemoved`, `missed`...), as Graph POSTs it to the lifecycle URL.
    pub(crate) fn lifecycle(&self, event: &str) -> Value {
        json!({ "value": [self.notification(json!({ "lifecycleEvent": event }))] })
    }
}

/// Subscriptions, delivery settings and the delivery log.
#[derive(Debug)]
pub(crate) struct Push {
    pub(crate) subs: BTreeMap<String, FakeSubscription>,
    /// Every delivery worker ever started (aborted when the fake is dropped).
    pub(crate) workers: Vec<AbortHandle>,
    pub(crate) deliveries: Vec<Delivery>,
    /// Notifications queued or being delivered, by subscription (a removed subscription's
    /// are dropped with it; lifecycle notifications count until delivered).
    pub(crate) pending: HashMap<String, usize>,
    pub(crate) delay: Duration,
    pub(crate) max_attempts: u32,
    pub(crate) first_backoff: Duration,
    pub(crate) attempt_timeout: Duration,
    pub(crate) clock_offset: chrono::Duration,
    pub(crate) reauthorizations: HashMap<String, usize>,
}

impl Default for Push {
    fn default() -> Self {
        Self {
            subs: BTreeMap::new(),
            workers: Vec::new(),
            deliveries: Vec::new(),
            pending: HashMap::new(),
            delay: Duration::ZERO,
            max_attempts: 6,
            first_backoff: Duration::from_millis(20),
            // Graph wants an answer within 3 s.
            attempt_timeout: Duration::from_secs(3),
            clock_offset: chrono::Duration::zero(),
            reauthorizations: HashMap::new(),
        }
    }
}

impl Push {
    /// The fake's clock (the wall clock moved by `FakeGraph::advance_clock`).
    pub(crate) fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.clock_offset
    }

    /// Whether the subscription exists and has not expired.
    pub(crate) fn is_live(&self, id: &str) -> bool {
        let now = self.now();
        self.subs.get(id).is_some_and(|s| s.terms.expires > now)
    }

    /// Removes every expired subscription (Graph deletes them), stopping their deliveries.
    pub(crate) fn drop_expired(&mut self) {
        let now = self.now();
        let expired: Vec<String> = self
            .subs
            .values()
            .filter(|s| s.terms.expires <= now)
            .map(|s| s.id.clone())
            .collect();
        for id in expired {
            self.remove(&id);
        }
    }

    /// Removes a subscription and stops its deliveries at once; whether it existed.
    pub(crate) fn remove(&mut self, id: &str) -> bool {
        match self.subs.remove(id) {
            Some(sub) => {
                sub.worker.abort();
                self.pending.remove(id);
                true
            }
            None => false,
        }
    }

    /// The expiry granted for a requested one: at most [`MAX_LIFETIME_MINUTES`] from now;
    /// `None` when it is not in the future.
    pub(crate) fn grant(&self, requested: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let now = self.now();
        (requested > now)
            .then(|| requested.min(now + chrono::Duration::minutes(MAX_LIFETIME_MINUTES)))
    }

    /// Queues a notification POST on the subscription's worker.
    pub(crate) fn enqueue(&mut self, out: Outgoing) {
        let id = out.subscription.clone();
        let sent = self
            .subs
            .get(&out.subscription)
            .is_some_and(|s| s.outbox.send(out).is_ok());
        if sent {
            *self.pending.entry(id).or_default() += 1;
        }
    }
}

/// Whether the fake may POST to `url`: `http` or `https` to a loopback host only.
pub(crate) fn is_loopback_url(url: &str) -> bool {
    let Ok(url) = url::Url::parse(url) else {
        return false;
    };
    if !matches!(url.scheme(), "http" | "https") {
        return false;
    }
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_urls_are_accepted() {
        for ok in [
            "http://127.0.0.1:8080/hook",
            "http://127.9.9.9/x",
            "https://localhost/x",
            "http://LOCALHOST:1/x",
            "http://[::1]:9/x",
        ] {
            assert!(is_loopback_url(ok), "{ok}");
        }
        for bad in [
            "https://example.com/hook",
            "http://10.0.0.1/x",
            "http://[::2]/x",
            "http://localhost.example.com/x",
            "ftp://127.0.0.1/x",
            "http://0.0.0.0/x",
            "not a url",
            "http://127.0.0.1@example.com/x",
        ] {
            assert!(!is_loopback_url(bad), "{bad}");
        }
    }

    #[test]
    fn a_long_lifetime_is_capped() {
        let push = Push::default();
        let now = push.now();
        let granted = push
            .grant(now + chrono::Duration::days(30))
            .expect("future");
        let max = now + chrono::Duration::minutes(MAX_LIFETIME_MINUTES);
        assert!(granted <= max + chrono::Duration::seconds(1));
        assert!(granted >= max - chrono::Duration::seconds(5));
        assert!(push.grant(now - chrono::Duration::minutes(1)).is_none());
    }
}
