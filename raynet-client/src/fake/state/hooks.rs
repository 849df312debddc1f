//! [`Hooks`]: one instance's webhooks, each with its queue of events to
//! deliver, and the rule that only loopback URLs are accepted.

use std::collections::VecDeque;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::reject::Reject;

/// One instance's webhook settings.
#[derive(Debug, Default)]
pub(crate) struct Hooks {
    /// `technicalContacts`.
    pub(crate) technical_contacts: Vec<String>,
    /// The registered webhooks, oldest first.
    pub(crate) list: Vec<Hook>,
}

/// One registered webhook and its delivery state.
#[derive(Debug)]
pub(crate) struct Hook {
    /// `webhookId` (32 hex digits).
    pub(crate) id: String,
    pub(crate) url: String,
    pub(crate) token: Option<String>,
    /// `eventsFilter`: `record.created`, …
    pub(crate) events: Vec<String>,
    /// Events not delivered yet, oldest first.
    pub(crate) queue: VecDeque<Value>,
    /// Since when deliveries fail (the fake's clock); `None` while they succeed.
    pub(crate) failing_since: Option<DateTime<Utc>>,
    /// A delivery is in flight.
    pub(crate) busy: bool,
    /// Not before this (real) instant: the rate, or the retry pause.
    pub(crate) next_at: Option<Instant>,
}

impl Hook {
    /// A new webhook.
    pub(crate) fn new(url: String, token: Option<String>, events: Vec<String>) -> Self {
        Hook {
            id: new_id(),
            url,
            token,
            events,
            queue: VecDeque::new(),
            failing_since: None,
            busy: false,
            next_at: None,
        }
    }
}

/// A random id of 32 hex digits (a UUID without dashes, as RAYNET shows them).
pub(crate) fn new_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// Refuses (400) a webhook URL that is not `http(s)` on a loopback host
/// (127.0.0.0/8, `::1`, `localhost`): the fake never sends traffic elsewhere.
pub(crate) fn check_loopback(raw: &str) -> Result<(), Reject> {
    let refuse = |why: &str| {
        Reject::bad_request(format!(
            "Webhook URL [{raw}] refused: {why} (the fake delivers only to 127.0.0.0/8, ::1 or localhost)"
        ))
    };
    let url = url::Url::parse(raw).map_err(|_| refuse("not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(refuse("not http or https"));
    }
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    if loopback {
        Ok(())
    } else {
        Err(refuse("not a loopback host"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_urls_pass() {
        for ok in [
            "http://127.0.0.1:8080/hook",
            "http://127.1.2.3/",
            "https://localhost/x",
            "http://LOCALHOST:1/",
            "http://[::1]:9/",
        ] {
            assert!(check_loopback(ok).is_ok(), "{ok}");
        }
        for bad in [
            "https://example.com/hook",
            "http://10.0.0.1/",
            "http://[::2]/",
            "http://localhost.example.com/",
            "ftp://127.0.0.1/",
            "not a url",
        ] {
            assert_eq!(check_loopback(bad).map_err(|r| r.status), Err(400), "{bad}");
        }
    }

    #[test]
    fn ids_are_32_hex_digits() {
        let id = new_id();
        assert_eq!(id.len(), 32);
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
