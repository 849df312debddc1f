//! Injected faults: [`Fault`] (which requests, how many) and [`FaultKind`]
//! (what happens to them), and the choice of the fault a request meets.

use std::time::Duration;

/// What an injected fault does to a matching request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultKind {
    /// Answer this status (e.g. 500, 503) with an error envelope.
    Status(u16),
    /// Answer 429 as for too many concurrent connections.
    TooManyRequests,
    /// Wait this long, then answer normally.
    Delay(Duration),
    /// Answer normally but cut the body in half (valid length, broken JSON).
    Truncated,
    /// Answer 200 with a well-formed JSON body of the wrong shape.
    Malformed,
    /// Apply the request, then cut the connection instead of answering: the
    /// client sees a network error although the write landed (an interrupted
    /// write; use it on writes, since the client retries GETs).
    InterruptAfterApply,
}

/// Which requests a [`Fault`] may hit.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Scope {
    Any,
    Endpoint(String),
    Writes,
}

impl Scope {
    fn matches(&self, template: &str) -> bool {
        match self {
            Scope::Any => true,
            Scope::Endpoint(e) => e == template,
            Scope::Writes => ["PUT ", "POST ", "DELETE "]
                .iter()
                .any(|m| template.starts_with(m)),
        }
    }
}

/// A fault to inject: which requests it hits and what it does.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Fault {
    scope: Scope,
    nth: u64,
    times: u64,
    kind: FaultKind,
}

impl Fault {
    /// A fault hitting the next request (any endpoint), once.
    pub fn new(kind: FaultKind) -> Self {
        Fault {
            scope: Scope::Any,
            nth: 1,
            times: 1,
            kind,
        }
    }

    /// Only requests to this endpoint template, e.g. `"GET /meeting/"`.
    pub fn on(mut self, endpoint: &str) -> Self {
        self.scope = Scope::Endpoint(endpoint.to_owned());
        self
    }

    /// Only writes (`PUT`, `POST` and `DELETE` requests, any endpoint).
    pub fn on_writes(mut self) -> Self {
        self.scope = Scope::Writes;
        self
    }

    /// Starts at the `n`-th matching request after injection (1-based):
    /// `.nth(3)` on `"GET /meeting/"` fails the third page request.
    pub fn nth(mut self, n: u64) -> Self {
        self.nth = n.max(1);
        self
    }

    /// Hits this many consecutive matching requests (default 1).
    pub fn times(mut self, n: u64) -> Self {
        self.times = n;
        self
    }
}

/// An injected fault and how many matching requests it has seen and hit.
#[derive(Debug)]
pub(crate) struct ActiveFault {
    fault: Fault,
    seen: u64,
    applied: u64,
}

impl ActiveFault {
    /// A fault just injected.
    pub(crate) fn new(fault: Fault) -> Self {
        ActiveFault {
            fault,
            seen: 0,
            applied: 0,
        }
    }
}

/// The fault the request to `template` meets, if any: the first pending fault
/// whose scope matches and whose turn has come. Spent faults are dropped.
pub(crate) fn take(faults: &mut Vec<ActiveFault>, template: &str) -> Option<FaultKind> {
    let mut fault = None;
    for f in faults.iter_mut() {
        if !f.fault.scope.matches(template) {
            continue;
        }
        f.seen += 1;
        if f.seen >= f.fault.nth && f.applied < f.fault.times {
            f.applied += 1;
            fault = Some(f.fault.kind.clone());
            break;
        }
    }
    faults.retain(|f| f.applied < f.fault.times);
    fault
}
