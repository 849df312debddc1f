//! Property tests over random histories of creates, edits, deletes, faults and crashes on both
//! sides (DESIGN §3's invariants). Case counts: `PROPTEST_CASES` (≥ 256 by default here).

use std::collections::BTreeMap;

use proptest::prelude::*;
use sync_core::testing::Faults;
use sync_core::testing::history::{
    EditKinds, HistoryRun, Op, UserEdit, UserSide, Violation, common, strategy,
};
use sync_core::*;

use crate::util::{Calendar, now};

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
        .max(1)
}

fn run_memory_history(policy: Policy, ops: &[Op], id_listing: bool) -> Result<(), Violation> {
    let mut cal = Calendar::new(policy.clone());
    // Half the histories send Outlook creates in batches (as Graph's $batch does).
    cal.outlook = sync_core::testing::MemorySide::new(EventProfile::outlook())
        .with_prefix("o")
        .with_batch(if id_listing { 1 } else { 3 });
    if id_listing {
        cal.raynet = sync_core::testing::MemorySide::new(EventProfile::raynet())
            .with_prefix("r")
            .with_id_listing();
    }
    let run = HistoryRun {
        raynet: &cal.raynet,
        outlook: &cal.outlook,
        raynet_user: &cal.raynet,
        outlook_user: &cal.outlook,
        store: &cal.store,
        policy,
        member: cal.member.clone(),
        scope: Calendar::scope(),
        now: now(),
    };
    futures::executor::block_on(async {
        run.run(ops).await?;
        let state = cal.store.snapshot(&Calendar::scope());
        // Every Raynet item has its pair, but one cancelled before it was ever synced.
        let expected = cal
            .raynet
            .entries()
            .iter()
            .filter(|(id, e)| {
                state.find(Side::Raynet, id).is_some() || e.status != EventStatus::Cancelled
            })
            .count();
        if state.pairs.len() != expected {
            return Err(Violation(format!(
                "store pairs ({}) != synced Raynet items ({expected})",
                state.pairs.len()
            )));
        }
        Ok(())
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// Convergence, idempotence and no duplicates, whatever the history, faults and crashes.
    #[test]
    fn histories_converge_without_duplicates(
        policy in strategy::converging_policy(),
        ops in strategy::ops(EditKinds::all(), 40),
        id_listing in any::<bool>(),
    ) {
        if let Err(v) = run_memory_history(policy, &ops, id_listing) {
            return Err(TestCaseError::fail(v.to_string()));
        }
    }

    /// Determinism: the same inputs give the same plan, whatever the order of the items read.
    #[test]
    fn planning_is_deterministic(
        policy in strategy::converging_policy(),
        ops in strategy::ops(EditKinds::all(), 40),
        seed in any::<u64>(),
    ) {
        let cal = Calendar::new(policy.clone());
        let run = HistoryRun {
            raynet: &cal.raynet,
            outlook: &cal.outlook,
            raynet_user: &cal.raynet,
            outlook_user: &cal.outlook,
            store: &cal.store,
            policy: policy.clone(),
            member: cal.member.clone(),
            scope: Calendar::scope(),
            now: now(),
        };
        let mut tag = 0;
        for op in &ops {
            futures::executor::block_on(run.apply(op, &mut tag));
        }
        let state = cal.store.snapshot(&Calendar::scope());
        let req = ReadRequest { window: Some(policy.window(now())), cursor: None };
        let r = futures::executor::block_on(cal.raynet.read(&req)).unwrap();
        let o = futures::executor::block_on(cal.outlook.read(&req)).unwrap();
        let plan = |r: &SideRead<Event>, o: &SideRead<Event>| plan_calendar(&CalendarInput {
            state: &state,
            raynet: r,
            outlook: o,
            raynet_profile: &EventProfile::raynet(),
            outlook_profile: &EventProfile::outlook(),
            policy: &policy,
            member: &cal.member,
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
fn synced_world(policy: Policy, n: usize) -> Calendar {
    let cal = Calendar::new(policy);
    for i in 0..n {
        let e = Event::new(format!("t{i}"), crate::util::at(10 + i as i64 * 7));
        if i % 2 == 0 {
            cal.raynet.user_create(e);
        } else {
            cal.outlook.user_create(e);
        }
    }
    cal.round();
    cal
}

fn paired_ids(cal: &Calendar) -> Vec<(RemoteId, RemoteId)> {
    cal.store
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

/// Edits of fields both sides hold.
fn shared_edit() -> BoxedStrategy<UserEdit> {
    strategy::edit(EditKinds {
        all_day: true,
        private: false,
        attendees: true,
        categories: false,
        status: false,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// No lost update, and edits to different fields on both sides both survive.
    #[test]
    fn one_sided_and_disjoint_edits_all_survive(
        n in 1usize..6,
        edits in proptest::collection::vec((any::<usize>(), strategy::side(), shared_edit()), 1..12),
    ) {
        let cal = synced_world(Policy::default(), n);
        let pairs = paired_ids(&cal);
        // Last edit per (item, field) wins on its side; keep only fields edited on one side.
        let mut expected: BTreeMap<(usize, &'static str), (Side, String)> = BTreeMap::new();
        let mut both: std::collections::BTreeSet<(usize, &'static str)> = std::collections::BTreeSet::new();
        for (i, s, e) in &edits {
            let k = i % pairs.len();
            let (rid, oid) = &pairs[k];
            let id = if *s == Side::Raynet { rid } else { oid };
            let side = if *s == Side::Raynet { &cal.raynet } else { &cal.outlook };
            side.edit(id, |x| e.apply(x, *s, now()));
            let value = field_value(&side.get_item(id).unwrap(), e.field());
            match expected.get(&(k, e.field())) {
                Some((prev, _)) if prev != s => { both.insert((k, e.field())); }
                _ => {}
            }
            expected.insert((k, e.field()), (*s, value));
        }
        let report = cal.round();
        prop_assert!(report.failures.is_empty(), "{}", report);
        let audited_updates = report
            .audit
            .iter()
            .flat_map(|e| &e.writes)
            .filter(|w| w.done && w.action == WriteAction::Update)
            .count();
        prop_assert_eq!(audited_updates, report.updated.raynet + report.updated.outlook, "audit: every update of the round is in the trail");
        for w in report.audit.iter().flat_map(|e| &e.writes) {
            let side = if w.side == Side::Raynet { &cal.raynet } else { &cal.outlook };
            let now_there = side.get_item(w.id.as_ref().unwrap()).unwrap();
            for c in &w.changes {
                let f = EventField::ALL.iter().find(|f| f.name() == c.field).unwrap();
                prop_assert_eq!(&now_there.field_text(*f), &c.to, "audit: the change of {} on {} says what the side holds now", &c.field, w.side);
            }
        }
        for ((k, field), (s, value)) in &expected {
            if both.contains(&(*k, *field)) || (*field == "schedule" && (both.contains(&(*k, "schedule")))) {
                continue;
            }
            let (rid, oid) = &pairs[*k];
            let r = cal.raynet.get_item(rid).unwrap();
            let o = cal.outlook.get_item(oid).unwrap();
            prop_assert_eq!(&field_value(&r, field), value, "no lost update: {} edited on {} survives in raynet", field, s);
            prop_assert_eq!(&field_value(&o, field), value, "no lost update: {} edited on {} survives in outlook", field, s);
        }
        prop_assert_eq!(cal.round().planned_writes, 0);
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
        let cal = synced_world(Policy { conflict, ..Policy::default() }, n);
        let pairs = paired_ids(&cal);
        for (rid, oid) in &pairs {
            let set = |side: &sync_core::testing::MemorySide<Event>, id: &RemoteId, s: Side, v: u8| {
                side.edit(id, |x| UserEdit::Title(v).apply(x, s, now()));
            };
            if outlook_last {
                set(&cal.raynet, rid, Side::Raynet, a);
                set(&cal.outlook, oid, Side::Outlook, b);
            } else {
                set(&cal.outlook, oid, Side::Outlook, b);
                set(&cal.raynet, rid, Side::Raynet, a);
            }
        }
        let report = cal.round();
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
            let r = cal.raynet.get_item(rid).unwrap();
            let o = cal.outlook.get_item(oid).unwrap();
            prop_assert_eq!(&r.title, &o.title);
            let want = if winner == Side::Raynet { format!("raynet{a}") } else { format!("outlook{b}") };
            prop_assert!(r.title.ends_with(&want), "{} should end with {}", r.title, want);
        }
    }

    /// A failed or partial read never deletes anything (nothing was deleted by a user).
    #[test]
    fn failed_or_partial_reads_never_delete(
        n in 1usize..12,
        edits in proptest::collection::vec((any::<usize>(), strategy::side(), shared_edit()), 0..8),
        r_fault in 0u8..3,
        o_fault in 0u8..3,
        fresh_store in any::<bool>(),
    ) {
        let mut cal = synced_world(Policy::default(), n);
        if fresh_store {
            // A lost state store: everything must be read in full again.
            cal.store = MemoryStore::new();
        }
        let pairs = paired_ids(&cal);
        for (i, s, e) in &edits {
            if pairs.is_empty() { break; }
            let (rid, oid) = &pairs[i % pairs.len()];
            let (side, id) = if *s == Side::Raynet { (&cal.raynet, rid) } else { (&cal.outlook, oid) };
            side.edit(id, |x| e.apply(x, *s, now()));
        }
        let fault = |k: u8| match k {
            0 => Faults { failing_reads: 1, ..Faults::default() },
            1 => Faults { partial_reads: 1, ..Faults::default() },
            _ => Faults::default(),
        };
        cal.raynet.set_faults(fault(r_fault));
        cal.outlook.set_faults(fault(o_fault));
        let before = (cal.raynet.ids(), cal.outlook.ids());
        let report = cal.round();
        prop_assert_eq!(report.deleted, SideCounts::default(), "no deletion: {}", report);
        for id in &before.0 {
            prop_assert!(cal.raynet.get_item(id).is_some(), "raynet item {} survives", id);
        }
        for id in &before.1 {
            prop_assert!(cal.outlook.get_item(id).is_some(), "outlook item {} survives", id);
        }
        cal.raynet.heal();
        cal.outlook.heal();
    }
}
