//! The `[tenant.sync]` table, checked: [`SyncConfig`], and the values only the config file has
//! ([`SyncMode`], [`ContactsFilter`], [`ScanSchedule`]). The engine's own rules are a
//! [`sync_core::Policy`], mapped from the same table by `policy.rs`.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde::de;
use sync_core::Policy;

/// What a tenant syncs (`sync.mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SyncMode {
    /// Meetings and events only (two-way).
    Meetings,
    /// Contacts only (one-way, Raynet → Outlook).
    Contacts,
    /// Both.
    #[default]
    Both,
}

impl SyncMode {
    /// Whether meetings are synced.
    #[must_use]
    pub fn meetings(self) -> bool {
        matches!(self, Self::Meetings | Self::Both)
    }

    /// Whether contacts are synced.
    #[must_use]
    pub fn contacts(self) -> bool {
        matches!(self, Self::Contacts | Self::Both)
    }

    /// The value as written in the config file.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Meetings => "meetings",
            Self::Contacts => "contacts",
            Self::Both => "both",
        }
    }
}

impl fmt::Display for SyncMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SyncMode {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        match raw.trim().to_ascii_lowercase().as_str() {
            "meetings" => Ok(Self::Meetings),
            "contacts" => Ok(Self::Contacts),
            "both" => Ok(Self::Both),
            _ => Err(de::Error::custom(format!(
                "unknown value {:?} (allowed: meetings, contacts, both)",
                raw.chars().take(80).collect::<String>()
            ))),
        }
    }
}

/// Which Raynet persons reach a member's Outlook contact folder (`sync.contacts_filter`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum ContactsFilter {
    /// Every person the integration user can see (`"all"`, the default).
    #[default]
    All,
    /// Only persons owned by the member (`"owned"`).
    Owned,
    /// Only persons with this tag (`"tag:<name>"`).
    Tag(String),
}

impl fmt::Display for ContactsFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::All => f.write_str("all"),
            Self::Owned => f.write_str("owned"),
            Self::Tag(t) => write!(f, "tag:{t}"),
        }
    }
}

impl<'de> Deserialize<'de> for ContactsFilter {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
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
        Err(de::Error::custom(format!(
            "unknown value {:?} (allowed: \"all\", \"owned\", \"tag:<name>\")",
            raw.chars().take(80).collect::<String>()
        )))
    }
}

/// The `[tenant.sync]` table.
#[derive(Clone, Debug)]
pub struct SyncConfig {
    /// What is synced.
    pub mode: SyncMode,
    /// The engine's rules (conflicts, deletions, private and completed events, window, guard).
    pub policy: Policy,
    /// The Outlook contact folder contacts go to.
    pub contacts_folder: String,
    /// Which persons become contacts.
    pub contacts_filter: ContactsFilter,
    /// The pause between two rounds of `run --watch`.
    pub interval: Duration,
    /// How many members are synced at the same time.
    pub max_parallel_members: usize,
    /// How often Raynet's deletion scan (a listing of every id) runs.
    pub deletion_scan_every: ScanSchedule,
    /// How long the group's membership (and the Raynet users it is matched with) is kept
    /// between rounds of one process; zero reads it every round.
    pub membership_refresh: Duration,
}

/// How often Raynet's deletion scan runs (`sync.deletion_scan_every`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ScanSchedule {
    /// `"auto"`: every round while one scan a round costs under 5 % of the instance's daily
    /// quota, less often beyond (every `n`-th round, the smallest `n` that stays under).
    #[default]
    Auto,
    /// Every this many rounds (1 to 1000).
    Every(u32),
}

/// The share of the daily Raynet quota the deletion scans may take under
/// [`ScanSchedule::Auto`].
pub const SCAN_QUOTA_SHARE: f64 = 0.05;

impl ScanSchedule {
    /// The rounds between two scans: fixed, or for [`ScanSchedule::Auto`] the fewest that keep
    /// `scan_requests` per scan under 5 % of `daily_quota` at one round per `interval`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use raynet_sync::config::ScanSchedule;
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

#[cfg(test)]
mod tests {
    use super::*;

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
