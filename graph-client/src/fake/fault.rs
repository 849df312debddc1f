//! Injected faults: what a fault does and which requests it hits.

use std::time::Duration;

/// What a fault does.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FaultKind {
    /// Answer this status with a Graph error body (the request has no effect).
    Status(u16),
    /// Wait this long before handling the request.
    Delay(Duration),
    /// Handle the request, then cut the JSON body in half.
    TruncatedJson,
    /// Answer `429` with this `Retry-After` (the request has no effect).
    Throttle(String),
    /// Handle the request (it takes effect), then answer this status as if the answer was lost
    /// on the way (e.g. 504): a client that repeats a create must not make a duplicate.
    LostResponse(u16),
}

/// A fault to inject into matching requests.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct Fault {
    pub(crate) kind: FaultKind,
    pub(crate) endpoint: Option<String>,
    pub(crate) mailbox: Option<String>,
    pub(crate) times: u32,
    pub(crate) next_pages_only: bool,
}

impl Fault {
    fn new(kind: FaultKind) -> Self {
        Self {
            kind,
            endpoint: None,
            mailbox: None,
            times: 1,
            next_pages_only: false,
        }
    }

    /// Answer `status` (e.g. 500, 503).
    pub fn status(status: u16) -> Self {
        Self::new(FaultKind::Status(status))
    }

    /// Delay the answer.
    pub fn delay(delay: Duration) -> Self {
        Self::new(FaultKind::Delay(delay))
    }

    /// Truncate the JSON answer.
    pub fn truncated_json() -> Self {
        Self::new(FaultKind::TruncatedJson)
    }

    /// Take effect, then answer `status` (a lost answer).
    pub fn lost_response(status: u16) -> Self {
        Self::new(FaultKind::LostResponse(status))
    }

    /// Throttle with a `Retry-After` (e.g. `"0.05"`).
    pub fn throttle(retry_after: &str) -> Self {
        Self::new(FaultKind::Throttle(retry_after.to_owned()))
    }

    /// A failing page: `status` on a request that follows an `@odata.nextLink`.
    pub fn failing_page(status: u16) -> Self {
        let mut fault = Self::new(FaultKind::Status(status));
        fault.next_pages_only = true;
        fault
    }

    /// Only on this endpoint (see [`FakeGraph::request_count`](super::FakeGraph::request_count) for the names); `events.write`
    /// and `contacts.write` stand for every create, update and delete of the resource.
    pub fn on(mut self, endpoint: &str) -> Self {
        self.endpoint = Some(endpoint.to_owned());
        self
    }

    /// Only for this mailbox (user id).
    pub fn for_mailbox(mut self, user_id: &str) -> Self {
        self.mailbox = Some(user_id.to_owned());
        self
    }

    /// How many matching requests it hits (default 1).
    pub fn times(mut self, times: u32) -> Self {
        self.times = times;
        self
    }
}
