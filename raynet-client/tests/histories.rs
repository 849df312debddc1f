//! sync-core's random histories (creates, edits, deletes, faults, crashes)
//! through the adapter against the fake: the RAYNET side is a
//! [`RaynetCalendar`] over [`FakeRaynet`], the Outlook side sync-core's
//! in-memory side. Every history must converge (DESIGN §3's invariants).
//!
//! Cases: `PROPTEST_CASES`, at least 32 (32 when unset, to keep CI short).

use std::time::Instant;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;
use raynet_client::adapter::{
    DEFAULT_TIME_ZONE, EmailsByPerson, RaynetCalendar, activity_to_core, event_to_new_activity,
    event_to_update,
};
use raynet_client::client::models::CalendarActivity;
use raynet_client::fake::{ActivitySeed, FakeRaynet, Fault, FaultKind};
use sync_core::testing::MemorySide;
use sync_core::testing::history::{
    EditKinds, HistoryRun, Op, SideFault, UserSide, Violation, strategy,
};
use sync_core::{
    ActivityKind, Collection, Email, Event, EventField, EventProfile, Field, FieldSet, Member,
    MemoryStore, Policy, RemoteId, Scope, SyncItem,
};

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        .map_or(32, |n| n.max(32))
}

/// The rounds' clock: histories reach ~83 days ahead, across the October
/// DST switch.
fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-09-01T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// What a user does directly in RAYNET: the fake's own state API, with the
/// adapter's pure mappings translating core events to records and back.
struct RaynetUser<'a> {
    fake: &'a FakeRaynet,
    member: u64,
    tz: Tz,
}

fn entity(kind: ActivityKind) -> &'static str {
    match kind {
        ActivityKind::Meeting => "meeting",
        ActivityKind::Event => "event",
    }
}

fn parse_id(id: &RemoteId) -> Option<(ActivityKind, u64)> {
    match id.as_str().split_once('-')? {
        ("m", n) => Some((ActivityKind::Meeting, n.parse().ok()?)),
        ("e", n) => Some((ActivityKind::Event, n.parse().ok()?)),
        _ => None,
    }
}

impl RaynetUser<'_> {
    fn emails(&self) -> EmailsByPerson {
        let inst = self.fake.default_instance();
        inst.ids("person")
            .into_iter()
            .filter_map(|id| {
                let r = inst.record("person", id)?;
                let email = Email::new(r["contactInfo"]["email"].as_str()?).ok()?;
                Some((id, email))
            })
            .collect()
    }

    /// The record, if it is the member's, as a core event.
    fn event(&self, kind: ActivityKind, id: u64, emails: &EmailsByPerson) -> Option<Event> {
        let raw = self.fake.default_instance().record(entity(kind), id)?;
        let a: CalendarActivity = serde_json::from_value(raw).expect("a fake record decodes");
        if a.owner.as_ref().map(|o| o.id) != Some(self.member) {
            return None;
        }
        Some(activity_to_core(&a, kind, &self.tz, emails).expect("a fake record maps"))
    }

    fn write(&self, kind: ActivityKind, id: u64, item: &Event, changed: FieldSet<EventField>) {
        let body = serde_json::to_value(event_to_update(item, changed, &self.tz)).unwrap();
        if body.as_object().is_some_and(|o| !o.is_empty()) {
            self.fake
                .default_instance()
                .edit(entity(kind), id, &body)
                .expect("the fake takes the edit");
        }
    }
}

impl UserSide for RaynetUser<'_> {
    fn user_create(&self, item: Event) -> RemoteId {
        let kind = item.kind.unwrap_or(ActivityKind::Meeting);
        let body = serde_json::to_value(event_to_new_activity(&item, self.member, &self.tz))
            .expect("a create body");
        let mut seed = ActivitySeed::new(&item.title, self.member);
        for (k, v) in body.as_object().into_iter().flatten() {
            seed = seed.field(k, v.clone());
        }
        let inst = self.fake.default_instance();
        let id = match kind {
            ActivityKind::Meeting => inst.add_meeting(seed),
            ActivityKind::Event => inst.add_event(seed),
        }
        .expect("the fake takes the create");
        let rest = FieldSet::of(&[
            EventField::Location,
            EventField::Sensitivity,
            EventField::Status,
        ]);
        self.write(kind, id, &item, rest);
        RemoteId::new(format!("{}-{id}", &entity(kind)[..1])).unwrap()
    }

    fn user_edit(&self, id: &RemoteId, edit: &mut dyn FnMut(&mut Event)) -> bool {
        let Some((kind, n)) = parse_id(id) else {
            return false;
        };
        let Some(before) = self.event(kind, n, &self.emails()) else {
            return false;
        };
        let mut after = before.clone();
        edit(&mut after);
        let mut changed = FieldSet::default();
        for f in EventField::ALL {
            if !before.field_eq(&after, *f) {
                changed.insert(*f);
            }
        }
        self.write(kind, n, &after, changed);
        true
    }

    fn user_delete(&self, id: &RemoteId) -> bool {
        parse_id(id)
            .is_some_and(|(kind, n)| self.fake.default_instance().remove(entity(kind), n).is_ok())
    }

    fn user_list(&self) -> Vec<(RemoteId, Event)> {
        let inst = self.fake.default_instance();
        let emails = self.emails();
        let mut out = Vec::new();
        for kind in [ActivityKind::Meeting, ActivityKind::Event] {
            for n in inst.ids(entity(kind)) {
                if let Some(e) = self.event(kind, n, &emails) {
                    let id = RemoteId::new(format!("{}-{n}", &entity(kind)[..1])).unwrap();
                    out.push((id, e));
                }
            }
        }
        out
    }

    fn inject(&self, fault: SideFault) -> bool {
        let fault = match fault {
            // The client retries GETs: fail every attempt of the first listing.
            SideFault::FailingRead => Fault::new(FaultKind::Status(503))
                .on("GET /meeting/")
                .times(100),
            // The adapter fails a read rather than return part of it.
            SideFault::PartialRead => return false,
            // Writes are never retried.
            SideFault::FailingWrites(n) => Fault::new(FaultKind::Status(503))
                .on_writes()
                .times(u64::from(n)),
            SideFault::InterruptedWrite => Fault::new(FaultKind::InterruptAfterApply).on_writes(),
        };
        self.fake.inject(fault);
        true
    }

    fn heal(&self) {
        self.fake.clear_faults();
    }
}

/// What round-trips exactly through RAYNET: no attendees (participants are
/// persons, so names and unknown addresses do not survive); categories are
/// Outlook-only and left out of the comparison anyway.
fn kinds() -> EditKinds {
    EditKinds {
        all_day: true,
        private: true,
        attendees: false,
        categories: true,
        status: true,
    }
}

fn run_history(policy: Policy, ops: &[Op]) -> Result<(), Violation> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let fake = FakeRaynet::start().await;
        // RAYNET's stamps near the in-memory side's clock (2026-01-01, one
        // second per write), so that the `latest` policy really compares.
        let memory_epoch = DateTime::parse_from_rfc3339("2026-01-01T00:00:05Z")
            .unwrap()
            .with_timezone(&Utc);
        fake.advance_clock(memory_epoch - fake.now());
        let member = fake
            .default_instance()
            .add_user("jana@acme.test", "crm-jana", "Jana", "Nováková")
            .unwrap()
            .person_id;
        let raynet = RaynetCalendar::new(fake.client(), member);
        let user = RaynetUser {
            fake: &fake,
            member,
            tz: DEFAULT_TIME_ZONE,
        };
        let outlook = MemorySide::new(EventProfile::outlook()).with_prefix("o");
        let store = MemoryStore::new();
        let scope = Scope::new("acme", "jana@acme.test", Collection::Calendar);
        let run = HistoryRun {
            raynet: &raynet,
            outlook: &outlook,
            raynet_user: &user,
            outlook_user: &outlook,
            store: &store,
            policy,
            member: Member::single("jana@acme.test".parse().unwrap()),
            scope: scope.clone(),
            now: now(),
        };
        run.run(ops).await?;
        let state = store.snapshot(&scope);
        let pairs = state.pairs.len();
        // Every Raynet item has its pair, but one cancelled before it was ever synced.
        let items = user
            .user_list()
            .iter()
            .filter(|(id, e)| {
                state.find(sync_core::Side::Raynet, id).is_some()
                    || e.status != sync_core::EventStatus::Cancelled
            })
            .count();
        if pairs != items {
            return Err(Violation(format!(
                "store pairs ({pairs}) != RAYNET items ({items})"
            )));
        }
        Ok(())
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// Convergence, idempotence and no duplicates through the adapter, whatever
    /// the history, faults and crashes.
    #[test]
    fn histories_converge_through_the_adapter(
        policy in strategy::converging_policy(),
        ops in strategy::ops(kinds(), 30),
    ) {
        let started = Instant::now();
        let result = run_history(policy, &ops);
        eprintln!("history of {} ops: {:?}", ops.len(), started.elapsed());
        if let Err(v) = result {
            return Err(TestCaseError::fail(v.to_string()));
        }
    }
}
