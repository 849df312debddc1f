//! Property tests over random histories of creates, edits, deletes, faults and crashes on both
//! sides (DESIGN §3's invariants). Case counts: `PROPTEST_CASES` (≥ 256 by default here).

use std::collections::BTreeMap;

use proptest::prelude::*;
use sync_core::testing::Faults;
use sync_core::*;

use crate::util::{Calendar, at, common, now};

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
        .max(1)
}

/// A field edit a user can make on one side.
#[derive(Clone, Debug)]
enum Edit {
    Title(u8),
    Description(u8),
    Location(u8),
    Move(i64),
    AllDay(i64),
    Private(bool),
    Attendees(u8),
    Categories(u8),
    Status(u8),
}

impl Edit {
    fn field(&self) -> &'static str {
        match self {
            Self::Title(_) => "title",
            Self::Description(_) => "description",
            Self::Location(_) => "location",
            Self::Move(_) | Self::AllDay(_) => "schedule",
            Self::Private(_) => "sensitivity",
            Self::Attendees(_) => "attendees",
            Self::Categories(_) => "categories",
            Self::Status(_) => "status",
        }
    }

    fn apply(&self, e: &mut Event, side: Side) {
        let tag = e.title.split(' ').next().unwrap_or_default().to_owned();
        match self {
            Self::Title(n) => e.title = format!("{tag} {side}{n}"),
            Self::Description(n) => e.description = format!("line {n}\r\n\r\n\r\n{side} text  "),
            Self::Location(n) => e.location = format!(" room  {n} "),
            Self::Move(h) => e.schedule = at(*h),
            Self::AllDay(d) => {
                let day = (now() + chrono::Duration::days(*d)).date_naive();
                e.schedule = Schedule::AllDay {
                    start: day,
                    end: day.succ_opt().unwrap(),
                };
            }
            Self::Private(p) => {
                e.sensitivity = if *p {
                    Sensitivity::Private
                } else {
                    Sensitivity::Normal
                };
            }
            Self::Attendees(n) => {
                e.attendees = (0..(n % 3))
                    .map(|i| Attendee {
                        email: format!("A{}@Customer.cz", (n + i) % 5).parse().unwrap(),
                        name: format!("Guest {i}"),
                        response: Response::None,
                    })
                    .collect();
            }
            Self::Categories(n) => e.categories = vec![format!("c{n}")],
            Self::Status(n) => {
                e.status = match (side, n % 3) {
                    (Side::Raynet, 0) => EventStatus::Completed,
                    (_, 1) => EventStatus::Cancelled,
                    _ => EventStatus::Scheduled,
                };
            }
        }
    }
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (0u8..4).prop_map(Edit::Title),
        (0u8..4).prop_map(Edit::Description),
        (0u8..4).prop_map(Edit::Location),
        (1i64..2000).prop_map(Edit::Move),
        (0i64..60).prop_map(Edit::AllDay),
        any::<bool>().prop_map(Edit::Private),
        (0u8..6).prop_map(Edit::Attendees),
        (0u8..3).prop_map(Edit::Categories),
        (0u8..3).prop_map(Edit::Status),
    ]
}

/// One step of a history.
#[derive(Clone, Debug)]
enum Op {
    Create(Side, i64),
    Edit(Side, usize, Edit),
    Delete(Side, usize),
    Round(Fault),
}

/// A fault injected into one round.
#[derive(Clone, Debug)]
enum Fault {
    None,
    FailingRead(Side),
    PartialRead(Side),
    FailingWrites(Side, u32),
    InterruptedWrite(Side),
    StoreCrashAfter(u64),
}

fn side() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Raynet), Just(Side::Outlook)]
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        4 => Just(Fault::None),
        1 => side().prop_map(Fault::FailingRead),
        1 => side().prop_map(Fault::PartialRead),
        1 => (side(), 1u32..3).prop_map(|(s, n)| Fault::FailingWrites(s, n)),
        1 => side().prop_map(Fault::InterruptedWrite),
        1 => (0u64..6).prop_map(Fault::StoreCrashAfter),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (side(), 1i64..2000).prop_map(|(s, h)| Op::Create(s, h)),
        4 => (side(), any::<usize>(), edit()).prop_map(|(s, i, e)| Op::Edit(s, i, e)),
        1 => (side(), any::<usize>()).prop_map(|(s, i)| Op::Delete(s, i)),
        3 => fault().prop_map(Op::Round),
    ]
}

fn policy() -> impl Strategy<Value = Policy> {
    (
        prop_oneof![
            Just(ConflictPolicy::Latest),
            Just(ConflictPolicy::Raynet),
            Just(ConflictPolicy::Outlook)
        ],
        prop_oneof![
            Just(DeleteEditPolicy::KeepEdit),
            Just(DeleteEditPolicy::Delete)
        ],
    )
        .prop_map(|(conflict, delete_vs_edit)| Policy {
            conflict,
            delete_vs_edit,
            // Full convergence needs deletions to flow both ways and every item to be synced.
            outlook_deletes: OutlookDeletes::Delete,
            private_events: PrivateEvents::Standard,
            delete_guard: DeleteGuard {
                allow: true,
                ..DeleteGuard::default()
            },
            ..Policy::default()
        })
}

struct World {
    cal: Calendar,
    next_tag: u32,
}

impl World {
    fn new(policy: Policy) -> Self {
        Self {
            cal: Calendar::new(policy),
            next_tag: 0,
        }
    }

    /// The same with a Raynet side that has no deletion feed, only id listings.
    fn raynet_style(policy: Policy) -> Self {
        let mut w = Self::new(policy);
        w.cal.raynet = sync_core::testing::MemorySide::new(EventProfile::raynet())
            .with_prefix("r")
            .with_id_listing();
        w
    }

    fn side(&self, s: Side) -> &sync_core::testing::MemorySide<Event> {
        match s {
            Side::Raynet => &self.cal.raynet,
            Side::Outlook => &self.cal.outlook,
        }
    }

    fn pick(&self, s: Side, i: usize) -> Option<RemoteId> {
        let ids = self.side(s).ids();
        (!ids.is_empty()).then(|| ids[i % ids.len()].clone())
    }

    fn apply(&mut self, op: &Op) {
        match op {
            Op::Create(s, h) => {
                self.next_tag += 1;
                let mut e = Event::new(format!("t{}", self.next_tag), at(*h));
                if *s == Side::Raynet {
                    e.kind = Some(ActivityKind::Meeting);
                }
                self.side(*s).insert(e);
            }
            Op::Edit(s, i, edit) => {
                if let Some(id) = self.pick(*s, *i) {
                    self.side(*s).edit(&id, |e| edit.apply(e, *s));
                }
            }
            Op::Delete(s, i) => {
                if let Some(id) = self.pick(*s, *i) {
                    self.side(*s).remove(&id);
                }
            }
            Op::Round(f) => {
                let faults = |s: Side, f: Faults| self.side(s).set_faults(f);
                match f {
                    Fault::None => {}
                    Fault::FailingRead(s) => faults(
                        *s,
                        Faults {
                            failing_reads: 1,
                            ..Faults::default()
                        },
                    ),
                    Fault::PartialRead(s) => faults(
                        *s,
                        Faults {
                            partial_reads: 1,
                            ..Faults::default()
                        },
                    ),
                    Fault::FailingWrites(s, n) => {
                        faults(
                            *s,
                            Faults {
                                failing_writes: *n,
                                ..Faults::default()
                            },
                        );
                    }
                    Fault::InterruptedWrite(s) => {
                        faults(
                            *s,
                            Faults {
                                interrupted_writes: 1,
                                ..Faults::default()
                            },
                        );
                    }
                    Fault::StoreCrashAfter(n) => self.cal.store.fail_after_writes(Some(*n)),
                }
                let _ = self.cal.try_round();
                self.heal();
            }
        }
    }

    fn heal(&self) {
        self.cal.raynet.set_faults(Faults::default());
        self.cal.outlook.set_faults(Faults::default());
        self.cal.store.fail_after_writes(None);
    }

    /// Clean rounds until one writes nothing (at most 4).
    fn settle(&self) -> Result<(), TestCaseError> {
        for _ in 0..4 {
            let report = self.cal.round();
            prop_assert!(report.failures.is_empty(), "clean rounds fail: {report}");
            if report.writes() == 0 {
                return Ok(());
            }
        }
        Err(TestCaseError::fail("no convergence after 4 clean rounds"))
    }

    /// Every item of side `s` in its common form, minus the items a rule keeps out on purpose
    /// (an Outlook event cancelled before it was ever synced is never written to Raynet).
    fn sorted_common(&self, s: Side) -> Vec<String> {
        let state = self.cal.store.snapshot(&Calendar::scope());
        let mut v: Vec<String> = self
            .side(s)
            .entries()
            .iter()
            .filter(|(id, e)| {
                state.find(s, id).is_some()
                    || e.status != EventStatus::Cancelled
                    || s == Side::Raynet
            })
            .map(|(_, e)| format!("{:?}", common(e)))
            .collect();
        v.sort();
        v
    }

    fn tags(&self, s: Side) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for e in self.side(s).items() {
            let tag = e.title.split(' ').next().unwrap_or_default().to_owned();
            *m.entry(tag).or_default() += 1;
        }
        m
    }
}

fn history() -> impl Strategy<Value = (Policy, Vec<Op>)> {
    (policy(), proptest::collection::vec(op(), 1..40))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// Convergence, idempotence and no duplicates, whatever the history, faults and crashes.
    #[test]
    fn histories_converge_without_duplicates((policy, ops) in history(), id_listing in any::<bool>()) {
        let mut w = if id_listing { World::raynet_style(policy) } else { World::new(policy) };
        for op in &ops {
            w.apply(op);
        }
        w.settle()?;
        prop_assert_eq!(
            w.sorted_common(Side::Raynet),
            w.sorted_common(Side::Outlook),
            "convergence: after a clean round both sides hold the same items"
        );
        for s in [Side::Raynet, Side::Outlook] {
            for (tag, n) in w.tags(s) {
                prop_assert_eq!(n, 1, "no duplicate: {} appears {} times on {}", tag, n, s);
            }
        }
        let again = w.cal.round();
        prop_assert_eq!(again.planned_writes, 0, "idempotence: a second round plans no write");
        prop_assert_eq!(again.recorded, 0, "idempotence: a second round records nothing");
        let state = w.cal.store.snapshot(&Calendar::scope());
        prop_assert_eq!(state.pairs.len(), w.cal.raynet.len(), "store pairs = Raynet items");
        prop_assert!(state.pending.is_empty(), "no pending create left");
    }

    /// Determinism: the same inputs give the same plan, whatever the order of the items read.
    #[test]
    fn planning_is_deterministic((policy, ops) in history(), seed in any::<u64>()) {
        let mut w = World::new(policy.clone());
        for op in &ops {
            w.apply(op);
        }
        let state = w.cal.store.snapshot(&Calendar::scope());
        let req = ReadRequest { window: Some(policy.window(now())), cursor: None };
        let r = futures::executor::block_on(w.cal.raynet.read(&req)).unwrap();
        let o = futures::executor::block_on(w.cal.outlook.read(&req)).unwrap();
        let plan = |r: &SideRead<Event>, o: &SideRead<Event>| plan_calendar(&CalendarInput {
            state: &state,
            raynet: r,
            outlook: o,
            raynet_profile: &EventProfile::raynet(),
            outlook_profile: &EventProfile::outlook(),
            policy: &policy,
            member: &w.cal.member,
            now: now(),
        });
        let first = plan(&r, &o);
        let mut r2 = r.clone();
        let mut o2 = o.clone();
        let n = r2.items.len().max(1);
        r2.items.rotate_left((seed as usize) % n);
        o2.items.reverse();
        prop_assert_eq!(&first, &plan(&r, &o), "determinism: same inputs, same plan");
        prop_assert_eq!(&first, &plan(&r2, &o2), "determinism: read order does not matter");
    }
}

/// A synced calendar of `n` meetings (half made in Raynet, half in Outlook).
fn synced_world(policy: Policy, n: usize) -> World {
    let mut w = World::new(policy);
    for i in 0..n {
        let side = if i % 2 == 0 {
            Side::Raynet
        } else {
            Side::Outlook
        };
        w.apply(&Op::Create(side, 10 + i as i64 * 7));
    }
    w.cal.round();
    w
}

fn paired_ids(w: &World) -> Vec<(RemoteId, RemoteId)> {
    w.cal
        .store
        .snapshot(&Calendar::scope())
        .pairs
        .values()
        .map(|p| (p.raynet.clone().unwrap().id, p.outlook.clone().unwrap().id))
        .collect()
}

fn field_value(e: &Event, field: &str) -> String {
    let c = common(e);
    match field {
        "title" => c.title,
        "description" => c.description,
        "location" => c.location,
        "schedule" => format!("{:?}", c.schedule),
        "sensitivity" => c.sensitivity.to_string(),
        "attendees" => format!("{:?}", c.attendees),
        "status" => c.status.to_string(),
        other => unreachable!("no field {other}"),
    }
}

fn shared_edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (0u8..4).prop_map(Edit::Title),
        (0u8..4).prop_map(Edit::Description),
        (0u8..4).prop_map(Edit::Location),
        (1i64..2000).prop_map(Edit::Move),
        (0i64..60).prop_map(Edit::AllDay),
        (0u8..6).prop_map(Edit::Attendees),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// No lost update, and edits to different fields on both sides both survive.
    #[test]
    fn one_sided_and_disjoint_edits_all_survive(
        n in 1usize..6,
        edits in proptest::collection::vec((any::<usize>(), side(), shared_edit()), 1..12),
    ) {
        let w = synced_world(Policy::default(), n);
        let pairs = paired_ids(&w);
        // Last edit per (item, field) wins on its side; keep only fields edited on one side.
        let mut expected: BTreeMap<(usize, &'static str), (Side, String)> = BTreeMap::new();
        let mut both: std::collections::BTreeSet<(usize, &'static str)> = std::collections::BTreeSet::new();
        for (i, s, e) in &edits {
            let k = i % pairs.len();
            let (rid, oid) = &pairs[k];
            let id = if *s == Side::Raynet { rid } else { oid };
            let side = if *s == Side::Raynet { &w.cal.raynet } else { &w.cal.outlook };
            side.edit(id, |x| e.apply(x, *s));
            let value = field_value(&side.get_item(id).unwrap(), e.field());
            match expected.get(&(k, e.field())) {
                Some((prev, _)) if prev != s => { both.insert((k, e.field())); }
                _ => {}
            }
            expected.insert((k, e.field()), (*s, value));
        }
        let report = w.cal.round();
        prop_assert!(report.failures.is_empty(), "{}", report);
        for ((k, field), (s, value)) in &expected {
            if both.contains(&(*k, *field)) || (*field == "schedule" && (both.contains(&(*k, "schedule")))) {
                continue;
            }
            let (rid, oid) = &pairs[*k];
            let r = w.cal.raynet.get_item(rid).unwrap();
            let o = w.cal.outlook.get_item(oid).unwrap();
            prop_assert_eq!(&field_value(&r, field), value, "no lost update: {} edited on {} survives in raynet", field, s);
            prop_assert_eq!(&field_value(&o, field), value, "no lost update: {} edited on {} survives in outlook", field, s);
        }
        prop_assert_eq!(w.cal.round().planned_writes, 0);
    }

    /// Policy: every conflict is decided as configured and reported.
    #[test]
    fn conflicts_follow_the_policy(
        conflict in prop_oneof![Just(ConflictPolicy::Latest), Just(ConflictPolicy::Raynet), Just(ConflictPolicy::Outlook)],
        outlook_last in any::<bool>(),
        n in 1usize..4,
        a in 0u8..4,
        b in 4u8..8,
    ) {
        let w = synced_world(Policy { conflict, ..Policy::default() }, n);
        let pairs = paired_ids(&w);
        for (rid, oid) in &pairs {
            let set = |side: &sync_core::testing::MemorySide<Event>, id: &RemoteId, s: Side, v: u8| {
                side.edit(id, |x| Edit::Title(v).apply(x, s));
            };
            if outlook_last {
                set(&w.cal.raynet, rid, Side::Raynet, a);
                set(&w.cal.outlook, oid, Side::Outlook, b);
            } else {
                set(&w.cal.outlook, oid, Side::Outlook, b);
                set(&w.cal.raynet, rid, Side::Raynet, a);
            }
        }
        let report = w.cal.round();
        prop_assert_eq!(report.conflicts.len(), pairs.len(), "every conflict is reported");
        let winner = match conflict {
            ConflictPolicy::Raynet => Side::Raynet,
            ConflictPolicy::Outlook => Side::Outlook,
            ConflictPolicy::Latest => if outlook_last { Side::Outlook } else { Side::Raynet },
        };
        for c in &report.conflicts {
            prop_assert_eq!(c.winner, winner, "policy {:?} decides for {}", conflict, winner);
            prop_assert_eq!(c.field, "title");
        }
        for (rid, oid) in &pairs {
            let r = w.cal.raynet.get_item(rid).unwrap();
            let o = w.cal.outlook.get_item(oid).unwrap();
            prop_assert_eq!(&r.title, &o.title);
            let want = if winner == Side::Raynet { format!("raynet{a}") } else { format!("outlook{b}") };
            prop_assert!(r.title.ends_with(&want), "{} should end with {}", r.title, want);
        }
    }

    /// A failed or partial read never deletes anything (nothing was deleted by a user).
    #[test]
    fn failed_or_partial_reads_never_delete(
        n in 1usize..12,
        edits in proptest::collection::vec((any::<usize>(), side(), shared_edit()), 0..8),
        r_fault in 0u8..3,
        o_fault in 0u8..3,
        fresh_store in any::<bool>(),
    ) {
        let mut w = synced_world(Policy::default(), n);
        if fresh_store {
            // A lost state store: everything must be read in full again.
            w.cal.store = MemoryStore::new();
        }
        let pairs = paired_ids(&w);
        for (i, s, e) in &edits {
            if pairs.is_empty() { break; }
            let (rid, oid) = &pairs[i % pairs.len()];
            let (side, id) = if *s == Side::Raynet { (&w.cal.raynet, rid) } else { (&w.cal.outlook, oid) };
            side.edit(id, |x| e.apply(x, *s));
        }
        let fault = |k: u8| match k {
            0 => Faults { failing_reads: 1, ..Faults::default() },
            1 => Faults { partial_reads: 1, ..Faults::default() },
            _ => Faults::default(),
        };
        w.cal.raynet.set_faults(fault(r_fault));
        w.cal.outlook.set_faults(fault(o_fault));
        let before = (w.cal.raynet.ids(), w.cal.outlook.ids());
        let report = w.cal.round();
        prop_assert_eq!(report.deleted, SideCounts::default(), "no deletion: {}", report);
        for id in &before.0 {
            prop_assert!(w.cal.raynet.get_item(id).is_some(), "raynet item {} survives", id);
        }
        for id in &before.1 {
            prop_assert!(w.cal.outlook.get_item(id).is_some(), "outlook item {} survives", id);
        }
        w.heal();
    }
}
