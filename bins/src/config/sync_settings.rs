//! The `[tenant.sync]` table, checked: [`SyncConfig`], and the value only the config file has
//! ([`SyncMode`]). The engine's own rules are a [`sync_core::Policy`], mapped from the same
//! table by `policy.rs`; the Raynet adapter's settings ([`PersonFilter`], [`ScanSchedule`]) are
//! the adapter's own types.

use std::fmt;
use std::time::Duration;

use raynet_client::adapter::{PersonFilter, ScanSchedule};
use serde::Deserialize;
use serde::de;
use sync_core::Policy;
use sync_core::tenant::Collections;

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
    /// The collections synced.
    #[must_use]
    pub fn collections(self) -> Collections {
        Collections {
            calendar: self.meetings(),
            contacts: self.contacts(),
        }
    }

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
    pub contacts_filter: PersonFilter,
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
