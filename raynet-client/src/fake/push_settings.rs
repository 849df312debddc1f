//! [`PushSettings`]: how fast the fake delivers webhook events, and
//! [`Delivery`]: one delivery attempt, as the observation helpers show it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

/// How the fake delivers webhook events (one queue per webhook, in order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PushSettings {
    /// Pause after a successful delivery before the next one to the same
    /// webhook (the documented rate is 1–2 events/s: 500 ms–1 s).
    pub interval: Duration,
    /// Pause after a failed delivery before it is retried.
    pub retry_interval: Duration,
    /// How long a receiver may take to answer (the documented socket timeout
    /// is 60 s; SPEC-CZ says 10 s).
    pub timeout: Duration,
    /// How long deliveries may fail before the webhook is removed, on the
    /// fake's clock (documented: 7 days).
    pub remove_after: chrono::Duration,
}

impl PushSettings {
    /// For tests: no pause between deliveries, a retry every 20 ms, 5 s to
    /// answer, removal after 7 days of failures on the fake's clock.
    pub fn fast() -> Self {
        PushSettings {
            interval: Duration::ZERO,
            retry_interval: Duration::from_millis(20),
            timeout: Duration::from_secs(5),
            remove_after: chrono::Duration::days(7),
        }
    }

    /// The documented pace (SPEC-EN): 2 events/s per webhook, retries every
    /// 5 s, 60 s to answer, removal after 7 days of failures.
    pub fn documented() -> Self {
        PushSettings {
            interval: Duration::from_millis(500),
            retry_interval: Duration::from_secs(5),
            timeout: Duration::from_secs(60),
            remove_after: chrono::Duration::days(7),
        }
    }
}

impl Default for PushSettings {
    /// [`PushSettings::fast`].
    fn default() -> Self {
        PushSettings::fast()
    }
}

/// One delivery attempt of a webhook event.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Delivery {
    /// The instance whose webhook it was.
    pub instance: String,
    /// The webhook's id.
    pub webhook_id: String,
    /// Where it was POSTed.
    pub url: String,
    /// The event (the JSON body).
    pub event: Value,
    /// The receiver's status; `None` when no answer came (refused, timeout).
    pub status: Option<u16>,
    /// When (the fake's clock).
    pub at: DateTime<Utc>,
}

impl Delivery {
    /// True when the receiver answered 2xx.
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}
