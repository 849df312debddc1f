//! Builders shared by the tests.

#![allow(dead_code)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use sync_core::testing::{MemoryClock, MemorySide};
use sync_core::{
    ActivityKind, Collection, Contact, Event, EventProfile, Member, MemoryStore, Policy, RemoteId,
    RoundReport, Runner, Schedule, Scope, SyncItem,
};

/// The tests' "now".
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
}

/// A timed schedule `h` hours after now, one hour long.
pub fn at(h: i64) -> Schedule {
    let start = now() + Duration::hours(h);
    Schedule::Timed {
        start,
        end: start + Duration::hours(1),
    }
}

/// A Raynet meeting titled `title`, `h` hours from now.
pub fn meeting(title: &str, h: i64) -> Event {
    let mut e = Event::new(title, at(h));
    e.kind = Some(ActivityKind::Meeting);
    e
}

/// An Outlook event titled `title`, `h` hours from now.
pub fn outlook_event(title: &str, h: i64) -> Event {
    Event::new(title, at(h))
}

/// Two in-memory calendar sides, a store, and a runner.
pub struct Calendar {
    pub raynet: MemorySide<Event>,
    pub outlook: MemorySide<Event>,
    pub store: MemoryStore<Event>,
    pub policy: Policy,
    pub member: Member,
}

impl Calendar {
    pub fn new(policy: Policy) -> Self {
        let clock = MemoryClock::new();
        Self {
            raynet: MemorySide::new(EventProfile::raynet())
                .with_prefix("r")
                .with_clock(clock.clone()),
            outlook: MemorySide::new(EventProfile::outlook())
                .with_prefix("o")
                .with_clock(clock),
            store: MemoryStore::new(),
            policy,
            member: Member::single("jana@acme.cz".parse().unwrap()),
        }
    }

    pub fn scope() -> Scope {
        Scope::new("acme", "jana@acme.cz", Collection::Calendar)
    }

    pub fn runner(&self) -> Runner {
        Runner::new(Self::scope(), self.policy.clone())
    }

    /// One round; panics on a store error.
    pub fn round(&self) -> RoundReport {
        self.try_round().expect("round")
    }

    pub fn try_round(&self) -> Result<RoundReport, sync_core::SyncError> {
        futures::executor::block_on(self.runner().sync_calendar(
            &self.raynet,
            &self.outlook,
            &self.store,
            &self.member,
            now(),
        ))
    }

    pub fn dry_round(&self) -> RoundReport {
        futures::executor::block_on(self.runner().dry_run(true).sync_calendar(
            &self.raynet,
            &self.outlook,
            &self.store,
            &self.member,
            now(),
        ))
        .expect("round")
    }

    /// The Outlook item paired with Raynet item `r`, if any.
    pub fn outlook_of(&self, r: &RemoteId) -> Option<Event> {
        let state = self.store.snapshot(&Self::scope());
        let (_, pair) = state.find(sync_core::Side::Raynet, r)?;
        self.outlook.get_item(&pair.outlook.as_ref()?.id)
    }

    /// The Raynet item paired with Outlook item `o`, if any.
    pub fn raynet_of(&self, o: &RemoteId) -> Option<Event> {
        let state = self.store.snapshot(&Self::scope());
        let (_, pair) = state.find(sync_core::Side::Outlook, o)?;
        self.raynet.get_item(&pair.raynet.as_ref()?.id)
    }

    pub fn pairs(&self) -> usize {
        self.store.snapshot(&Self::scope()).pairs.len()
    }
}

/// What both sides hold in common of an event: used to compare the two sides.
pub fn common(e: &Event) -> Event {
    let mut c = e
        .project(&EventProfile::raynet())
        .item
        .project(&EventProfile::outlook())
        .item;
    c.kind = None;
    c
}

/// A contact named `given surname`.
pub fn person(given: &str, surname: &str) -> Contact {
    Contact {
        given_name: given.into(),
        surname: surname.into(),
        ..Contact::default()
    }
}
