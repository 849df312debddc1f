//! Raynet's part of a tenant round ([`sync_core::tenant::RaynetService`]): the instance's user
//! accounts, the instance feed a round's members share (one incremental read per resource from
//! the oldest watermark), the deletion scan's schedule, and each member's sides.

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use chrono_tz::Tz;
use serde::Deserialize;
use sync_core::tenant::{
    RaynetRound, RaynetService, RaynetUser, RoundStart, ServedMember, ServiceRound, SharedCosts,
    TenantError,
};
use sync_core::{Collection, Contact, Event, ProviderError, ReadSide, Side, WriteSide};

use super::{
    CursorInfo, FeedPlan, InstanceFacts, InstanceFeed, PersonRoute, RaynetCalendar, RaynetContacts,
};
use crate::client::Client;
use crate::client::query::{ListQuery, Op};

/// Raynet's daily request quota per instance when the API has not said otherwise
/// (`X-Ratelimit-Limit`).
pub const RAYNET_DAILY_QUOTA: u64 = 24_000;

/// The share of the daily Raynet quota the deletion scans may take under
/// [`ScanSchedule::Auto`].
pub const SCAN_QUOTA_SHARE: f64 = 0.05;

/// How often the deletion scan (a listing of every id of the instance) runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ScanSchedule {
    /// Every round while one scan a round costs under 5 % of the instance's daily quota, less
    /// often beyond (every `n`-th round, the smallest `n` that stays under).
    #[default]
    Auto,
    /// Every this many rounds (1 to 1000).
    Every(u32),
}

impl ScanSchedule {
    /// The rounds between two scans: fixed, or for [`ScanSchedule::Auto`] the fewest that keep
    /// `scan_requests` per scan under 5 % of `daily_quota` at one round per `interval`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use raynet_client::adapter::ScanSchedule;
    /// let quarter = Duration::from_secs(900); // 96 rounds a day
    /// // 5 requests a scan: 480 a day, 2 % of 24,000: every round.
    /// assert_eq!(ScanSchedule::Auto.every(5, quarter, 24_000), 1);
    /// // 25 requests a scan: every round would be 10 %: every other round (5 %).
    /// assert_eq!(ScanSchedule::Auto.every(25, quarter, 24_000), 2);
    /// assert_eq!(ScanSchedule::Every(4).every(25, quarter, 24_000), 4);
    /// ```
    #[must_use]
    pub fn every(self, scan_requests: u64, interval: Duration, daily_quota: u64) -> u32 {
        match self {
            ScanSchedule::Every(n) => n.max(1),
            ScanSchedule::Auto => {
                let rounds_per_day = 86_400.0 / interval.as_secs_f64().max(1.0);
                let budget = SCAN_QUOTA_SHARE * daily_quota.max(1) as f64;
                let n = (scan_requests as f64 * rounds_per_day / budget).ceil();
                if n.is_finite() && n >= 1.0 {
                    n.min(1000.0) as u32
                } else {
                    1
                }
            }
        }
    }
}

/// Which Raynet persons become a member's contacts. Written `"all"`, `"owned"` or
/// `"tag:<name>"` (its `Display`, `FromStr` and serde form).
///
/// ```
/// use raynet_client::adapter::PersonFilter;
/// assert_eq!("tag:vip".parse::<PersonFilter>().unwrap(), PersonFilter::Tag("vip".into()));
/// assert_eq!(PersonFilter::Owned.to_string(), "owned");
/// assert!("mine".parse::<PersonFilter>().is_err());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum PersonFilter {
    /// Every person the integration user can see (`"all"`, the default).
    #[default]
    All,
    /// Only the persons owned by the member (`"owned"`).
    Owned,
    /// Only the persons with this tag (`"tag:<name>"`).
    Tag(String),
}

impl fmt::Display for PersonFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::All => f.write_str("all"),
            Self::Owned => f.write_str("owned"),
            Self::Tag(t) => write!(f, "tag:{t}"),
        }
    }
}

impl FromStr for PersonFilter {
    type Err = String;

    /// Case-insensitive `all` / `owned`, or `tag:` and a name without control characters.
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let v = raw.trim();
        if v.eq_ignore_ascii_case("all") {
            return Ok(Self::All);
        }
        if v.eq_ignore_ascii_case("owned") {
            return Ok(Self::Owned);
        }
        if let Some(tag) = v.strip_prefix("tag:") {
            let tag = tag.trim();
            if !tag.is_empty() && !tag.chars().any(char::is_control) {
                return Ok(Self::Tag(tag.to_owned()));
            }
        }
        Err(format!(
            "unknown value {:?} (allowed: \"all\", \"owned\", \"tag:<name>\")",
            raw.chars().take(80).collect::<String>()
        ))
    }
}

impl<'de> Deserialize<'de> for PersonFilter {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl PersonFilter {
    /// The persons a member's folder holds (the filter its own reads use) and how the instance
    /// feed's persons are routed to it.
    #[must_use]
    pub fn for_member(&self, person_id: u64) -> (ListQuery, PersonRoute) {
        match self {
            Self::All => (ListQuery::new(), PersonRoute::Everyone),
            Self::Owned => (
                ListQuery::new().filter("owner", Op::Eq, person_id.to_string()),
                PersonRoute::OwnedBy(person_id),
            ),
            Self::Tag(tag) => (
                ListQuery::new().param("tags", tag.as_str()),
                PersonRoute::Everyone,
            ),
        }
    }

    /// What the instance feed reads of the persons: the members' own filter when it is the
    /// same for all; everybody's persons when it depends on the member (routed by owner).
    #[must_use]
    pub fn for_feed(&self) -> ListQuery {
        match self.for_member(0) {
            (filter, PersonRoute::Everyone) => filter,
            (_, PersonRoute::OwnedBy(_)) => ListQuery::new(),
        }
    }
}

/// Raynet's part of one tenant: the client of the integration user, the instance's time zone,
/// which persons become contacts, and the deletion scan's schedule. Keep one per tenant for the
/// life of the process: clones share what the rounds learn (the scan's cost, [`InstanceFacts`]).
#[derive(Clone, Debug)]
pub struct RaynetTenant {
    client: Client,
    time_zone: Tz,
    persons: PersonFilter,
    scan: ScanSchedule,
    interval: Duration,
    facts: InstanceFacts,
    /// Requests the last deletion scan took, once one has run in this process.
    scan_requests: Arc<Mutex<Option<u64>>>,
}

impl RaynetTenant {
    /// Raynet's part of a tenant served through `client`, with the defaults: Europe/Prague,
    /// every person, the `auto` scan schedule at 15-minute rounds.
    #[must_use]
    pub fn new(client: Client) -> Self {
        Self {
            client,
            time_zone: chrono_tz::Europe::Prague,
            persons: PersonFilter::All,
            scan: ScanSchedule::Auto,
            interval: Duration::from_secs(900),
            facts: InstanceFacts::new(),
            scan_requests: Arc::default(),
        }
    }

    /// The instance's time zone (Raynet times are local times of it).
    #[must_use]
    pub fn with_time_zone(mut self, tz: Tz) -> Self {
        self.time_zone = tz;
        self
    }

    /// Which persons become contacts.
    #[must_use]
    pub fn with_persons(mut self, filter: PersonFilter) -> Self {
        self.persons = filter;
        self
    }

    /// The deletion scan's schedule, and the pause between rounds it is reckoned at.
    #[must_use]
    pub fn with_scan_schedule(mut self, schedule: ScanSchedule, interval: Duration) -> Self {
        self.scan = schedule;
        self.interval = interval;
        self
    }

    /// What the tenant learned of the instance, shared by its rounds (the
    /// participants' addresses kept between rounds, say).
    #[must_use]
    pub fn facts(&self) -> &InstanceFacts {
        &self.facts
    }

    /// The client.
    #[must_use]
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Warms the participants' addresses (at the first round, then once an hour) from the
    /// persons the state store keeps as contacts: a round that meets a participant then needs
    /// no person listing for them, with no request at all. One served member's contact scope
    /// (every member's holds the same persons unless the contacts are per owner; then each).
    async fn warm_person_emails(&self, start: &RoundStart<'_>) {
        let cache = self.facts.person_emails();
        if !cache.warm_due() {
            return;
        }
        let per_owner = matches!(self.persons, PersonFilter::Owned);
        let mut persons: Vec<(u64, Option<sync_core::Email>)> = Vec::new();
        for member in start.served {
            let scope =
                sync_core::Scope::new(start.tenant, member.email.as_str(), Collection::Contacts);
            match start.store.contacts().load(&scope).await {
                Ok(state) => persons.extend(state.pairs.values().filter_map(|p| {
                    let side = p.raynet.as_ref()?;
                    let id = side.id.as_str().parse::<u64>().ok()?;
                    Some((id, side.base.emails.first().cloned()))
                })),
                Err(e) => {
                    tracing::debug!(tenant = %start.tenant, error = %e, "cannot read the contacts kept; participants are looked up");
                    return;
                }
            }
            if !per_owner && !persons.is_empty() {
                break;
            }
        }
        tracing::debug!(tenant = %start.tenant, persons = persons.len(), "participants' addresses warmed from the contacts kept");
        cache.warm(persons);
    }

    /// What one deletion scan costs: the last one's requests, or before one has run in this
    /// process, an estimate from the pairs stored: one request per 1,000 records synced
    /// (meetings and events of every member, and the persons of the largest contact folder),
    /// one more for each entity. The store is asked only before the first scan.
    async fn scan_cost(&self, start: &RoundStart<'_>) -> u64 {
        if let Some(n) = *self
            .scan_requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
        {
            return n;
        }
        let counts = start
            .store
            .pair_counts(start.tenant)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(tenant = %start.tenant, error = %e, "cannot read the pair counts");
                Vec::new()
            });
        let mut activities = 0;
        let mut persons = 0;
        for (scope, n) in &counts {
            match scope.collection {
                Collection::Calendar => activities += *n as u64,
                Collection::Contacts => persons = persons.max(*n as u64),
            }
        }
        activities.div_ceil(1000) + 2 + persons.div_ceil(1000) + 1
    }
}

#[async_trait]
impl RaynetService for RaynetTenant {
    async fn accounts(&self) -> Result<Vec<RaynetUser>, TenantError> {
        let accounts = self
            .client
            .user_accounts()
            .list_all(&ListQuery::new().limit(1000))
            .await
            .map_err(|e| {
                TenantError::directory("list the Raynet user accounts", ProviderError::from(e))
            })?;
        Ok(accounts
            .into_iter()
            .filter_map(|a| {
                Some(RaynetUser {
                    account_id: a.id,
                    person_id: a.person.as_ref().map(|p| p.id),
                    login: a.username.clone()?,
                    email2: a.email2.clone(),
                })
            })
            .collect())
    }

    async fn begin_round(&self, start: &RoundStart<'_>) -> Box<RaynetRound> {
        self.warm_person_emails(start).await;
        let scan_requests = self.scan_cost(start).await;
        let quota = self
            .client
            .rate_limit()
            .and_then(|r| r.limit)
            .unwrap_or(RAYNET_DAILY_QUOTA);
        let scan_every = self.scan.every(scan_requests, self.interval, quota);
        let plan_of = |collection: Collection| -> Option<FeedPlan> {
            let infos: Vec<CursorInfo> = start
                .served_cursors(Side::Raynet)
                .filter(|(scope, _)| scope.collection == collection)
                .filter_map(|(_, c)| CursorInfo::parse(c))
                .collect();
            Some(FeedPlan {
                watermark: infos.iter().map(|i| i.watermark).min()?,
                // A round notifications asked for learns of deletions from them: the
                // scan is left to the rounds for everyone (the safety-net poll).
                scan: start.hints.is_empty()
                    && infos
                        .iter()
                        .any(|i| i.reads_since_scan.saturating_add(1) >= scan_every),
            })
        };
        let mut feed = InstanceFeed::new(self.client.clone())
            .with_time_zone(self.time_zone)
            .with_person_emails(self.facts.person_emails().clone())
            .for_owners(start.served.iter().map(|m| m.person_id));
        if start.collections.calendar {
            if let Some(plan) = plan_of(Collection::Calendar) {
                feed = feed.calendar(plan);
            }
        }
        if start.collections.contacts {
            if let Some(plan) = plan_of(Collection::Contacts) {
                feed = feed.persons(plan, self.persons.for_feed());
            }
        }
        tracing::debug!(tenant = %start.tenant, ?feed, scan_every, scan_requests, "Raynet's shared reads of this round");
        Box::new(RaynetTenantRound {
            tenant: self.clone(),
            feed,
            scan_every,
        })
    }
}

/// One round of a [`RaynetTenant`]: the feed its members share.
#[derive(Debug)]
struct RaynetTenantRound {
    tenant: RaynetTenant,
    feed: InstanceFeed,
    /// Rounds between two deletion scans.
    scan_every: u32,
}

impl ServiceRound<dyn ReadSide<Contact>> for RaynetTenantRound {
    fn calendar(&self, member: &ServedMember) -> Arc<dyn WriteSide<Event>> {
        Arc::new(
            RaynetCalendar::new(self.tenant.client.clone(), member.person_id)
                .with_time_zone(self.tenant.time_zone)
                .with_deletion_scan_every(self.scan_every)
                .with_feed(self.feed.clone())
                .with_facts(self.tenant.facts.clone()),
        )
    }

    fn contacts(&self, member: &ServedMember) -> Arc<dyn ReadSide<Contact>> {
        let (filter, route) = self.tenant.persons.for_member(member.person_id);
        Arc::new(
            RaynetContacts::new(self.tenant.client.clone())
                .with_filter(filter)
                .with_deletion_scan_every(self.scan_every)
                .with_feed(self.feed.clone(), route)
                .with_person_emails(self.tenant.facts.person_emails().clone()),
        )
    }

    /// Keeps the scan's cost for the next rounds' schedule.
    fn finish(&self) -> SharedCosts {
        let scanned = self.feed.scan_requests();
        if scanned > 0 {
            *self
                .tenant
                .scan_requests
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(scanned);
        }
        SharedCosts {
            deletion_scan_requests: scanned,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_filters_route_the_feed() {
        assert_eq!(PersonFilter::Owned.for_member(7).1, PersonRoute::OwnedBy(7));
        assert_eq!(PersonFilter::All.for_member(7).1, PersonRoute::Everyone);
        assert_eq!(
            PersonFilter::Tag("vip".into()).for_member(7).1,
            PersonRoute::Everyone
        );
    }

    /// The README's table of how long a Raynet deletion takes to reach Outlook.
    #[test]
    fn readme_deletion_latency_table() {
        let quarter = Duration::from_secs(900);
        let five = Duration::from_secs(300);
        // (meetings, events, persons) → scan requests → rounds between scans.
        let scan = |m: u64, e: u64, p: u64| m.div_ceil(1000) + e.div_ceil(1000) + p.div_ceil(1000);
        let rows = [
            (scan(250, 250, 200), quarter, 3, 1),
            (scan(2_500, 2_500, 2_000), quarter, 8, 1),
            (scan(12_500, 12_500, 5_050), quarter, 32, 3),
            (scan(12_500, 12_500, 5_050), five, 32, 8),
            (scan(50_000, 50_000, 20_000), quarter, 120, 10),
        ];
        for (requests, interval, want_requests, want_every) in rows {
            assert_eq!(requests, want_requests);
            assert_eq!(
                ScanSchedule::Auto.every(requests, interval, 24_000),
                want_every,
                "{requests} requests at {interval:?}"
            );
        }
    }

    #[test]
    fn auto_scan_schedule_keeps_scans_under_five_percent_of_the_quota() {
        let quarter = Duration::from_secs(900);
        for requests in [1_u64, 5, 12, 13, 25, 400, 12_000] {
            let every = ScanSchedule::Auto.every(requests, quarter, 24_000);
            let daily = requests as f64 * 96.0 / f64::from(every);
            assert!(
                daily <= 1_200.0 + 1e-9,
                "{requests}: every {every} → {daily}/day"
            );
            if every > 1 && every < 1000 {
                let one_more_often = requests as f64 * 96.0 / f64::from(every - 1);
                assert!(
                    one_more_often > 1_200.0,
                    "{requests}: every {every} is not the fewest"
                );
            }
        }
        assert_eq!(ScanSchedule::Auto.every(12, quarter, 24_000), 1);
        assert_eq!(ScanSchedule::Auto.every(13, quarter, 24_000), 2);
        assert_eq!(
            ScanSchedule::Auto.every(100_000, quarter, 24_000),
            1000,
            "capped"
        );
        assert_eq!(ScanSchedule::Auto.every(0, quarter, 24_000), 1);
        assert_eq!(
            ScanSchedule::Auto.every(5, quarter, 0),
            1000,
            "no quota known: rarely"
        );
    }
}
