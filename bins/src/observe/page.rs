//! The status page: per tenant, each member's freshness for calendar and contacts, the last
//! error in plain words with what to do, pending creates, the last rounds, the subscriptions'
//! expiry, the quota used today and the push figures — server-rendered HTML from one template
//! (`bins/templates/status.html`, embedded at build time), no JavaScript, readable on a phone.
//!
//! [`StatusPage`] is the page's model: what the workers' views ([`TenantView`], from
//! `crate::push::TenantPush::view`) and the store say; [`StatusPage::render`] makes the HTML.
//! Nothing secret is on it: names, addresses, counts and times only.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sync_core::Collection;

use crate::store::{MemberRound, ScopeStatus, ServiceStore};

/// A tenant as one `serve` worker sees it.
#[derive(Clone, Debug, Serialize)]
pub struct TenantView {
    /// The tenant's name.
    pub name: String,
    /// This worker's id.
    pub worker: String,
    /// Whether this worker keeps the subscriptions and the webhook.
    pub keeper: bool,
    /// Whether the first round ran and push is set up.
    pub ready: bool,
    /// Whether the Raynet webhook is registered.
    pub webhook_ok: bool,
    /// The members served.
    pub members: Vec<MemberView>,
    /// The Graph subscriptions kept.
    pub subscriptions: Vec<SubscriptionView>,
    /// What the last membership read found (people not served, and why).
    pub findings: Vec<String>,
    /// What the endpoint received.
    pub counts: PushCounts,
    /// Raynet's daily quota: (remaining, limit), when Raynet said.
    pub quota: Option<(u64, u64)>,
    /// The collections the tenant syncs.
    pub collections: Vec<Collection>,
    /// From a notification to its change written on the other side, over the last changes.
    pub lag: Option<LagFigures>,
}

/// Latency figures: p50, p95 and max of some lags, in seconds.
#[derive(Clone, Debug, Serialize)]
pub struct LagFigures {
    /// How many lags.
    pub count: usize,
    /// The median.
    pub p50: f64,
    /// The 95th percentile.
    pub p95: f64,
    /// The longest.
    pub max: f64,
}

impl LagFigures {
    /// The figures of `lags` (`None` for none).
    ///
    /// ```
    /// use raynet_sync::observe::page::LagFigures;
    /// let f = LagFigures::of([1.0, 3.0, 2.0]).unwrap();
    /// assert_eq!((f.p50, f.max), (2.0, 3.0));
    /// assert!(LagFigures::of([]).is_none());
    /// ```
    pub fn of(lags: impl IntoIterator<Item = f64>) -> Option<Self> {
        let mut v: Vec<f64> = lags.into_iter().filter(|l| l.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
        Some(Self {
            count: v.len(),
            p50: at(0.5),
            p95: at(0.95),
            max: v[v.len() - 1],
        })
    }
}

/// A member served.
#[derive(Clone, Debug, Serialize)]
pub struct MemberView {
    /// The address their scopes are kept under.
    pub email: String,
    /// Whether this worker runs their rounds.
    pub held_here: bool,
    /// Their last failure (what failed), until a round of theirs succeeds.
    pub error: Option<String>,
}

/// A Graph subscription kept.
#[derive(Clone, Debug, Serialize)]
pub struct SubscriptionView {
    /// Whose.
    pub member: String,
    /// Which collection.
    pub collection: Collection,
    /// When Graph ends it unless renewed.
    pub expires: DateTime<Utc>,
}

/// What the endpoint received.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PushCounts {
    /// Notifications and webhook events received (after the token check).
    pub received: u64,
    /// Of those, the echoes of the sync's own writes.
    pub echoes: u64,
    /// Refused.
    pub rejected: u64,
    /// About nothing the sync keeps.
    pub ignored: u64,
    /// Rounds run because of notifications.
    pub notified_rounds: u64,
    /// Safety-net rounds.
    pub poll_rounds: u64,
}

/// One row of the page: a member's collection.
#[derive(Clone, Debug, Serialize)]
pub struct MemberRow {
    /// The member's address.
    pub email: String,
    /// The collection (`calendar`, `contacts`).
    pub collection: &'static str,
    /// Seconds since the last clean round (`None`: none kept).
    pub fresh_seconds: Option<i64>,
    /// The same in words ("2 min", "3 h", "never").
    pub freshness: String,
    /// `ok`, `stale` (older than an hour) or `failing`.
    pub state: &'static str,
    /// Pairs kept.
    pub pairs: u64,
    /// Creates sent but not confirmed yet.
    pub pending: u64,
    /// The last error, in plain words.
    pub error: Option<String>,
    /// What to do about it.
    pub advice: Option<&'static str>,
    /// The worker whose round of this member ran last.
    pub worker: Option<String>,
}

/// The page's model.
#[derive(Clone, Debug, Serialize)]
pub struct StatusPage {
    /// When the page was made (`YYYY-MM-DD HH:MM:SS UTC`).
    pub now: String,
    /// Per tenant.
    pub tenants: Vec<TenantSection>,
}

/// One tenant's part of the page.
#[derive(Clone, Debug, Serialize)]
pub struct TenantSection {
    /// What the worker serving the page sees.
    pub view: TenantView,
    /// Raynet's quota used today, in words.
    pub quota: Option<String>,
    /// One row per member collection.
    pub rows: Vec<MemberRow>,
    /// The subscriptions, soonest expiry first, with the time left in words.
    pub subscriptions: Vec<(String, &'static str, String)>,
    /// The last member rounds: member, worker, started, took.
    pub rounds: Vec<(String, String, String, String)>,
    /// The workers seen in the last rounds.
    pub workers: Vec<String>,
    /// Notifications waiting for their round.
    pub waiting: usize,
}

/// A duration in words: "45 s", "12 min", "3 h", "2 d".
#[must_use]
pub fn in_words(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..120 => format!("{s} s"),
        120..7200 => format!("{} min", s / 60),
        7200..172_800 => format!("{} h", s / 3600),
        _ => format!("{} d", s / 86_400),
    }
}

/// What to do about a failure, by what it says (the `check` findings' advice).
#[must_use]
pub fn advice(error: &str) -> Option<&'static str> {
    let e = error.to_ascii_lowercase();
    let rules: [(&[&str], &'static str); 6] = [
        (
            &[
                "access denied",
                "accessdenied",
                "403",
                "forbidden",
                "insufficient privileges",
            ],
            "The app lacks a permission or admin consent for this mailbox: grant Calendars.ReadWrite and Contacts.ReadWrite (application) with admin consent, or widen the application access policy.",
        ),
        (
            &[
                "mailbox",
                "mailboxnotenabled",
                "not found for user",
                "resourcenotfound",
            ],
            "This member has no Exchange Online mailbox: assign a licence with Exchange, or take them out of the group.",
        ),
        (
            &["no raynet user", "has no person record"],
            "Create a Raynet user with the same e-mail address (or correct the address), then wait for the next membership refresh.",
        ),
        (
            &["owns the group but is not a member"],
            "Add the owner to the group as a member, or leave them unsynced.",
        ),
        (
            &["401", "unauthorized", "invalid_client", "credentials"],
            "The credentials were refused: check the API key and the client secret (`raynet-sync check`).",
        ),
        (
            &["429", "throttl", "quota"],
            "Throttled: it is retried by itself; if it persists, lower max_parallel_members or raise the interval.",
        ),
    ];
    rules
        .iter()
        .find(|(needles, _)| needles.iter().any(|n| e.contains(n)))
        .map(|(_, a)| *a)
}

fn collection_name(c: Collection) -> &'static str {
    match c {
        Collection::Calendar => "calendar",
        Collection::Contacts => "contacts",
    }
}

impl StatusPage {
    /// The page for `views` (one per tenant this worker serves), with what `store` knows.
    /// A store that cannot be read leaves the store's parts empty (the page says so through
    /// the tenants' errors, not by failing).
    pub async fn build(views: Vec<TenantView>, store: &dyn ServiceStore) -> Self {
        let now = Utc::now();
        let status: Vec<ScopeStatus> = store.status().await.unwrap_or_default();
        let mut tenants = Vec::new();
        for view in views {
            let clean: BTreeMap<(String, Collection), DateTime<Utc>> = store
                .last_clean_rounds(&view.name)
                .await
                .unwrap_or_default()
                .into_iter()
                .map(|(s, at)| ((s.member, s.collection), at))
                .collect();
            let rounds: Vec<MemberRound> =
                store.member_rounds(&view.name).await.unwrap_or_default();
            let last_worker: BTreeMap<&str, &str> = rounds
                .iter()
                .map(|r| (r.member.as_str(), r.worker.as_str()))
                .collect();
            let waiting = store.push_notes(&view.name).await.map_or(0, |n| n.len());
            let mut rows = Vec::new();
            for m in &view.members {
                for &collection in &view.collections {
                    // A member whose rounds never got far enough to keep anything has no
                    // scope yet: shown as never synced (with the error that stops it).
                    let s = status
                        .iter()
                        .find(|s| {
                            s.scope.tenant == view.name
                                && s.scope.member == m.email
                                && s.scope.collection == collection
                        })
                        .cloned()
                        .unwrap_or_else(|| ScopeStatus {
                            scope: sync_core::Scope::new(&view.name, &m.email, collection),
                            pairs: 0,
                            pending: 0,
                            cursors: 0,
                            last_round: None,
                        });
                    let s = &s;
                    let last = clean.get(&(m.email.clone(), s.scope.collection));
                    let fresh = last.map(|at| (now - *at).num_seconds());
                    let state = if m.error.is_some() {
                        "failing"
                    } else if fresh.is_none_or(|f| f > 3600) {
                        "stale"
                    } else {
                        "ok"
                    };
                    rows.push(MemberRow {
                        email: m.email.clone(),
                        collection: collection_name(s.scope.collection),
                        fresh_seconds: fresh,
                        freshness: fresh
                            .map_or_else(|| "never".to_owned(), |f| format!("{} ago", in_words(f))),
                        state,
                        pairs: s.pairs,
                        pending: s.pending,
                        error: m.error.clone(),
                        advice: m.error.as_deref().and_then(advice),
                        worker: last_worker.get(m.email.as_str()).map(|w| (*w).to_owned()),
                    });
                }
            }
            let mut subscriptions: Vec<(String, &'static str, String)> = view
                .subscriptions
                .iter()
                .map(|s| {
                    (
                        s.member.clone(),
                        collection_name(s.collection),
                        format!(
                            "{} ({})",
                            s.expires.format("%Y-%m-%d %H:%M UTC"),
                            in_words((s.expires - now).num_seconds())
                        ),
                    )
                })
                .collect();
            subscriptions.sort_by(|a, b| a.2.cmp(&b.2));
            let mut workers: Vec<String> = rounds.iter().map(|r| r.worker.clone()).collect();
            workers.sort();
            workers.dedup();
            let recent = rounds
                .iter()
                .rev()
                .take(20)
                .map(|r| {
                    (
                        r.member.clone(),
                        r.worker.clone(),
                        r.started_at.format("%H:%M:%S").to_string(),
                        r.finished_at.map_or_else(
                            || "running".to_owned(),
                            |f| {
                                format!(
                                    "{:.1} s",
                                    (f - r.started_at).num_milliseconds() as f64 / 1000.0
                                )
                            },
                        ),
                    )
                })
                .collect();
            let quota = view.quota.map(|(remaining, limit)| {
                format!(
                    "{} of {limit} requests used today",
                    limit.saturating_sub(remaining)
                )
            });
            tenants.push(TenantSection {
                view,
                quota,
                rows,
                subscriptions,
                rounds: recent,
                workers,
                waiting,
            });
        }
        Self {
            now: now.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            tenants,
        }
    }
}

/// The page's template, embedded at build time.
const TEMPLATE: &str = include_str!("../../templates/status.html");

impl StatusPage {
    /// The page as HTML (every value escaped by the template engine).
    ///
    /// # Errors
    /// When the template does not render (a bug: it is checked by the tests).
    pub fn render(&self) -> Result<String, minijinja::Error> {
        let mut env = minijinja::Environment::new();
        env.add_template("status.html", TEMPLATE)?;
        env.get_template("status.html")?
            .render(minijinja::context! { page => self })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(lag: Option<LagFigures>) -> TenantView {
        TenantView {
            name: "acme".into(),
            worker: "w1".into(),
            keeper: true,
            ready: true,
            webhook_ok: true,
            members: vec![MemberView {
                email: "jana@acme.cz".into(),
                held_here: true,
                error: Some("graph returned 403 <script>alert(1)</script>".into()),
            }],
            subscriptions: Vec::new(),
            findings: vec!["member Eva has no Raynet user".into()],
            counts: PushCounts::default(),
            quota: Some((23_000, 24_000)),
            collections: vec![Collection::Calendar],
            lag,
        }
    }

    fn page(lag: Option<LagFigures>) -> String {
        let v = view(lag);
        StatusPage {
            now: "2026-12-06 12:00:00 UTC".into(),
            tenants: vec![TenantSection {
                rows: vec![MemberRow {
                    email: "jana@acme.cz".into(),
                    collection: "calendar",
                    fresh_seconds: Some(75),
                    freshness: "75 s ago".into(),
                    state: "failing",
                    pairs: 3,
                    pending: 0,
                    error: v.members[0].error.clone(),
                    advice: v.members[0].error.as_deref().and_then(advice),
                    worker: Some("w1".into()),
                }],
                quota: Some("1000 of 24000 requests used today".into()),
                subscriptions: Vec::new(),
                rounds: Vec::new(),
                workers: vec!["w1".into()],
                waiting: 0,
                view: v,
            }],
        }
        .render()
        .unwrap()
    }

    #[test]
    fn the_page_shows_the_figures_and_escapes_what_it_is_given() {
        let html = page(LagFigures::of([1.24, 1.5, 0.9]));
        assert!(html.contains("1.2 s / 1.5 s"), "latency p50 / p95: {html}");
        assert!(html.contains("1000 of 24000 requests used today"));
        assert!(html.contains("data-fresh-seconds=\"75\""));
        assert!(html.contains("member Eva has no Raynet user"));
        assert!(html.contains("lacks a permission"), "the advice for a 403");
        assert!(!html.contains("<script>alert"), "remote text is escaped");
        assert!(html.contains("&lt;script&gt;"));
        assert!(page(None).contains("no change yet"));
    }

    #[test]
    fn durations_and_advice_in_words() {
        assert_eq!(in_words(45), "45 s");
        assert_eq!(in_words(600), "10 min");
        assert_eq!(in_words(4 * 3600), "4 h");
        assert_eq!(in_words(3 * 86_400), "3 d");
        assert!(advice("ErrorAccessDenied: Access is denied").is_some());
        assert!(
            advice("mailbox is not enabled for REST API (MailboxNotEnabledForRESTAPI)")
                .unwrap()
                .contains("Exchange")
        );
        assert!(advice("everything is fine").is_none());
    }
}
