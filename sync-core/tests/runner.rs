//! Runner behaviour: pending creates, crashes, failed and partial reads, the mass-deletion
//! guard, isolated failures.

use sync_core::testing::Faults;
use sync_core::*;

use crate::util::{Calendar, meeting, outlook_event};

#[test]
fn an_interrupted_create_is_found_by_its_key_not_duplicated() {
    let cal = Calendar::new(Policy::default());
    let r = cal.raynet.insert(meeting("Kickoff", 1));
    cal.outlook.set_faults(Faults {
        interrupted_writes: 1,
        ..Faults::default()
    });
    let report = cal.round();
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].kind, Some(ErrorKind::Interrupted));
    assert_eq!(cal.outlook.len(), 1, "the create landed");
    assert_eq!(
        cal.store.snapshot(&Calendar::scope()).pending.len(),
        1,
        "and is still pending"
    );
    let report = cal.round();
    assert_eq!(report.recovered, 1);
    assert_eq!(report.writes(), 0, "{report}");
    assert_eq!(cal.outlook.len(), 1, "no duplicate");
    assert!(cal.outlook_of(&r).is_some());
    assert!(cal.store.snapshot(&Calendar::scope()).pending.is_empty());
}

#[test]
fn a_crash_between_the_remote_write_and_the_record_leaves_no_duplicate() {
    // The store refuses the write after `add_pending`: exactly the moment after the remote
    // create and before the pair is recorded.
    for side in [Side::Raynet, Side::Outlook] {
        let cal = Calendar::new(Policy::default());
        match side {
            Side::Raynet => cal.raynet.insert(meeting("From Raynet", 1)),
            Side::Outlook => cal.outlook.insert(outlook_event("From Outlook", 1)),
        };
        cal.store.fail_after_writes(Some(1));
        assert!(cal.try_round().is_err(), "a store failure aborts the round");
        cal.store.fail_after_writes(None);
        assert_eq!(
            cal.raynet.len() + cal.outlook.len(),
            2,
            "the remote create landed"
        );
        let report = cal.round();
        assert_eq!(report.recovered, 1);
        assert_eq!(cal.round().writes(), 0);
        assert_eq!(
            (cal.raynet.len(), cal.outlook.len()),
            (1, 1),
            "no duplicate"
        );
    }
}

#[test]
fn a_failed_or_partial_read_never_deletes() {
    let cal = Calendar::new(Policy::default());
    for i in 0..6 {
        cal.raynet.insert(meeting(&format!("m{i}"), i));
    }
    cal.round();
    // A fresh store forces full (complete) listings again.
    cal.raynet.set_faults(Faults {
        failing_reads: 1,
        ..Faults::default()
    });
    let report = cal.round();
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.writes(), 0);
    cal.raynet.set_faults(Faults {
        partial_reads: 1,
        ..Faults::default()
    });
    cal.outlook.set_faults(Faults {
        partial_reads: 1,
        ..Faults::default()
    });
    let report = cal.round();
    assert_eq!(report.deleted, SideCounts::default());
    assert_eq!((cal.raynet.len(), cal.outlook.len()), (6, 6));
}

#[test]
fn the_mass_deletion_guard_stops_the_round_before_any_write() {
    let cal = Calendar::new(Policy::default());
    let ids: Vec<_> = (0..10)
        .map(|i| cal.raynet.insert(meeting(&format!("m{i}"), i)))
        .collect();
    cal.round();
    for id in &ids[..3] {
        cal.raynet.remove(id);
    }
    cal.raynet.edit(&ids[5], |e| e.title = "edited".into());
    let report = cal.round();
    let guard = report.guard.clone().expect("guard trips at 3 of 10");
    assert!(
        matches!(
            guard,
            GuardTrip::MassDeletion {
                side: Side::Outlook,
                deletes: 3,
                paired: 10,
                ..
            }
        ),
        "{guard:?}"
    );
    assert_eq!(report.writes(), 0, "nothing written, not even the edit");
    assert_eq!(cal.outlook.len(), 10);
    assert!(
        guard
            .to_string()
            .contains("would delete 3 of 10 paired items on outlook")
    );

    let mut allowed = cal.policy.clone();
    allowed.delete_guard.allow = true;
    let report =
        futures::executor::block_on(Runner::new(Calendar::scope(), allowed).sync_calendar(
            &cal.raynet,
            &cal.outlook,
            &cal.store,
            &cal.member,
            crate::util::now(),
        ))
        .unwrap();
    assert_eq!(report.deleted.outlook, 3);
    assert_eq!(cal.outlook.len(), 7);
}

#[test]
fn one_failing_item_does_not_stop_the_others_and_is_retried() {
    let cal = Calendar::new(Policy::default());
    for i in 0..3 {
        cal.raynet.insert(meeting(&format!("m{i}"), i));
    }
    cal.outlook.set_faults(Faults {
        failing_writes: 1,
        ..Faults::default()
    });
    let report = cal.round();
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.created(Side::Outlook), 2);
    assert!(!report.is_clean());
    let report = cal.round();
    assert_eq!(report.created(Side::Outlook), 1, "retried next round");
    assert!(report.is_clean());
    assert_eq!(cal.round().writes(), 0);
}

#[test]
fn a_stale_version_is_a_reported_failure_and_resolves_next_round() {
    let cal = Calendar::new(Policy::default());
    let r = cal.raynet.insert(meeting("m", 1));
    cal.round();
    cal.raynet.edit(&r, |e| e.title = "from raynet".into());
    // The plan is made, then Outlook changes under it: simulate by a dry run's plan being
    // stale: edit Outlook between two rounds on the same item.
    let o = cal.outlook.ids()[0].clone();
    cal.outlook.edit(&o, |e| e.location = "here".into());
    let report = cal.round();
    assert!(report.is_clean(), "{report}");
    let (ri, oi) = (
        cal.raynet.get_item(&r).unwrap(),
        cal.outlook.get_item(&o).unwrap(),
    );
    assert_eq!(
        (ri.title.as_str(), ri.location.as_str()),
        ("from raynet", "here")
    );
    assert_eq!(
        (oi.title.as_str(), oi.location.as_str()),
        ("from raynet", "here")
    );
}

#[test]
fn an_id_listing_carries_deletions_for_a_side_without_a_deletion_feed() {
    let mut cal = Calendar::new(Policy::default());
    let clock = sync_core::testing::MemoryClock::new();
    cal.raynet = sync_core::testing::MemorySide::new(EventProfile::raynet())
        .with_prefix("r")
        .with_clock(clock)
        .with_id_listing();
    let keep = cal.raynet.insert(meeting("keep", 1));
    let gone = cal.raynet.insert(meeting("gone", 2));
    cal.round();
    cal.raynet.remove(&gone);
    cal.raynet.edit(&keep, |e| e.title = "kept".into());
    let report = cal.round();
    assert_eq!(report.deleted.outlook, 1, "{report}");
    assert_eq!(report.updated.outlook, 1);
    assert_eq!(cal.outlook.items()[0].title, "kept");
    assert_eq!(cal.round().writes(), 0);
}

#[test]
fn a_stop_request_finishes_the_write_under_way_and_leaves_the_rest_for_next_round() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let cal = Calendar::new(Policy::default());
    for i in 0..60 {
        cal.raynet.insert(meeting(&format!("m{i}"), i));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(AtomicUsize::new(0));
    let (stop2, seen2) = (stop.clone(), seen.clone());
    let runner = cal
        .runner()
        .stop_flag(stop.clone())
        .progress(Progress(Arc::new(move |_, done, total| {
            assert_eq!(total, 60);
            seen2.store(done, Ordering::SeqCst);
            if done >= 25 {
                stop2.store(true, Ordering::SeqCst);
            }
        })));
    let report = futures::executor::block_on(runner.sync_calendar(
        &cal.raynet,
        &cal.outlook,
        &cal.store,
        &cal.member,
        crate::util::now(),
    ))
    .unwrap();
    assert_eq!(seen.load(Ordering::SeqCst), 25, "progress is reported");
    assert_eq!(
        report.created(Side::Outlook),
        25,
        "the step under way finished, no more"
    );
    assert!(report.failures[0].action.contains("stopped on request"));
    assert_eq!(
        cal.round().created(Side::Outlook),
        35,
        "the rest next round"
    );
    assert_eq!(cal.outlook.len(), 60);
}

#[test]
fn updates_go_out_in_batches_and_each_is_recorded() {
    let mut cal = Calendar::new(Policy::default());
    cal.outlook = sync_core::testing::MemorySide::new(EventProfile::outlook())
        .with_prefix("o")
        .with_batch(4);
    let ids: Vec<_> = (0..10)
        .map(|i| cal.raynet.insert(meeting(&format!("m{i}"), i)))
        .collect();
    assert_eq!(cal.round().created(Side::Outlook), 10);
    for id in &ids {
        cal.raynet.edit(id, |e| e.location = "Brno".into());
    }
    cal.outlook.set_faults(Faults {
        failing_writes: 1,
        ..Faults::default()
    });
    let report = cal.round();
    assert_eq!(report.updated.outlook, 9, "{report}");
    assert_eq!(
        report.failures.len(),
        1,
        "one update of a batch failed alone"
    );
    let report = cal.round();
    assert_eq!(report.updated.outlook, 1, "retried next round");
    assert!(cal.outlook.items().iter().all(|e| e.location == "Brno"));
    assert_eq!(cal.round().writes(), 0);
}
