//! Both fakes' request counters: a mark, what was asked since (by endpoint), and the classes
//! the idle hour is reckoned in (token, membership, subscription/webhook checks, round reads).
//!
//! Only requests the fakes answered over HTTP count: the bench's own edits and inspections go
//! through the fakes' in-process helpers (`FakeInstance::edit`, `FakeGraph::edit_event`,
//! `FakeGraph::event`, ...), which the fakes do not count as requests.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use graph_client::fake::FakeGraph;
use raynet_client::fake::FakeRaynet;

/// Where both fakes' counters stood.
pub(crate) struct Mark {
    raynet: BTreeMap<String, u64>,
    graph_seen: usize,
}

/// Requests answered since a [`Mark`], by endpoint.
#[derive(Debug, Default, Clone)]
pub(crate) struct Counts {
    /// Raynet requests by endpoint template (`GET /meeting/`, ...).
    pub(crate) raynet: BTreeMap<String, u64>,
    /// Graph HTTP requests by endpoint (a `$batch` counts once, as `batch`).
    pub(crate) graph: BTreeMap<String, u64>,
    /// Requests inside Graph `$batch` envelopes, by endpoint.
    pub(crate) graph_sub: BTreeMap<String, u64>,
}

/// What kind of work a request is, for the idle hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Class {
    /// An access token (Graph): the same for push and polling, once per token lifetime.
    Token,
    /// Reading the group's members and the Raynet users (kept an hour by `run --watch`).
    Membership,
    /// Checking, renewing or re-creating subscriptions and the webhook.
    Upkeep,
    /// Everything else: a round's reads and writes.
    Round,
}

/// The class of a Graph endpoint name.
pub(crate) fn graph_class(endpoint: &str) -> Class {
    if endpoint == "token" {
        Class::Token
    } else if endpoint.starts_with("groups.") || endpoint.starts_with("users.") {
        Class::Membership
    } else if endpoint.starts_with("subscriptions.") {
        Class::Upkeep
    } else {
        Class::Round
    }
}

/// The class of a Raynet endpoint template.
pub(crate) fn raynet_class(template: &str) -> Class {
    if template.contains("/webhook/") {
        Class::Upkeep
    } else if template.contains("/userAccount/") {
        Class::Membership
    } else {
        Class::Round
    }
}

/// Notes where both fakes' counters stand.
pub(crate) fn mark(raynet: &FakeRaynet, graph: &FakeGraph) -> Mark {
    Mark {
        raynet: raynet.request_counts(),
        graph_seen: graph.requests().len(),
    }
}

/// The requests both fakes answered since `mark`.
pub(crate) fn since(raynet: &FakeRaynet, graph: &FakeGraph, mark: &Mark) -> Counts {
    let mut c = Counts::default();
    for (k, v) in raynet.request_counts() {
        let d = v.saturating_sub(mark.raynet.get(&k).copied().unwrap_or(0));
        if d > 0 {
            c.raynet.insert(k, d);
        }
    }
    for r in graph.requests().iter().skip(mark.graph_seen) {
        let map = if r.in_batch {
            &mut c.graph_sub
        } else {
            &mut c.graph
        };
        *map.entry(r.endpoint.clone()).or_default() += 1;
    }
    c
}

impl Counts {
    /// Raynet requests in all.
    pub(crate) fn raynet_total(&self) -> u64 {
        self.raynet.values().sum()
    }

    /// Graph HTTP requests in all (a `$batch` counts once).
    pub(crate) fn graph_total(&self) -> u64 {
        self.graph.values().sum()
    }

    /// Requests over the network to both APIs (a Graph `$batch` counts once).
    pub(crate) fn total(&self) -> u64 {
        self.raynet_total() + self.graph_total()
    }

    /// Raynet requests of one class.
    pub(crate) fn raynet_of(&self, class: Class) -> u64 {
        self.raynet
            .iter()
            .filter(|(k, _)| raynet_class(k) == class)
            .map(|(_, v)| v)
            .sum()
    }

    /// Requests of one class, both APIs (a Graph `$batch` counts once).
    pub(crate) fn of(&self, class: Class) -> u64 {
        let g: u64 = self
            .graph
            .iter()
            .filter(|(k, _)| graph_class(k) == class)
            .map(|(_, v)| v)
            .sum();
        self.raynet_of(class) + g
    }

    /// One line per API: the total and each endpoint's count.
    pub(crate) fn describe(&self) -> String {
        let list = |m: &BTreeMap<String, u64>| {
            m.iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut out = String::new();
        let _ = write!(
            out,
            "Raynet {} ({}); Graph {} HTTP ({})",
            self.raynet_total(),
            list(&self.raynet),
            self.graph_total(),
            list(&self.graph)
        );
        if !self.graph_sub.is_empty() {
            let _ = write!(out, " + inside $batch: {}", list(&self.graph_sub));
        }
        out
    }
}
