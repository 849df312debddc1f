//! Property tests of DESIGN §7's time-shift guard and invitation cap: ordinary histories of
//! people's edits never trip either guard, a history in which one side shifts every event by
//! one offset always trips the time-shift guard, and under any invitation cap every round
//! stays under it and the history still converges (nothing deferred is lost). Case counts:
//! `PROPTEST_CASES` (≥ 256 by default here).

use proptest::prelude::*;
use sync_core::testing::MemorySide;
use sync_core::testing::history::{EditKinds, HistoryRun, Op, RoundFault, strategy};
use sync_core::*;

use crate::util::{Calendar, now};

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
        .max(1)
}

/// The history's run over `cal` under `policy`.
fn history_run(cal: &Calendar, policy: Policy) -> HistoryRun<'_> {
    HistoryRun {
        raynet: &cal.raynet,
        outlook: &cal.outlook,
        raynet_user: &cal.raynet,
        outlook_user: &cal.outlook,
        store: &cal.store,
        policy,
        member: cal.member.clone(),
        scope: Calendar::scope(),
        now: now(),
    }
}

/// Replays `ops`; every clean round's report goes to `check` (rounds with a fault run as the
/// history says, unchecked). Then clean rounds until one writes nothing (at most 40), each
/// checked too.
fn replay(
    run: &HistoryRun<'_>,
    ops: &[Op],
    mut check: impl FnMut(&RoundReport) -> Result<(), TestCaseError>,
) -> Result<(), TestCaseError> {
    futures::executor::block_on(async {
        let mut tag = 0;
        for op in ops {
            if matches!(op, Op::Round(RoundFault::None)) {
                let report = run
                    .round()
                    .await
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                check(&report)?;
            } else {
                run.apply(op, &mut tag).await;
            }
        }
        for _ in 0..40 {
            let report = run
                .round()
                .await
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            check(&report)?;
            if report.writes() == 0 {
                return run
                    .check()
                    .await
                    .map_err(|v| TestCaseError::fail(v.to_string()));
            }
        }
        Err(TestCaseError::fail("no convergence after 40 clean rounds"))
    })
}

/// A policy under which every item is synced both ways (full convergence is expected), the
/// mass-deletion guard open (random histories delete freely), the time-shift guard as by
/// default and the invitation cap `max_invitations`.
fn converging(max_invitations: usize) -> Policy {
    Policy {
        max_invitations,
        outlook_deletes: OutlookDeletes::Delete,
        private_events: PrivateEvents::Standard,
        delete_guard: DeleteGuard {
            allow: true,
            ..DeleteGuard::default()
        },
        ..Policy::default()
    }
}

/// An offset a time-zone bug shifts by: a whole number of hours, or the difference between two
/// zones' UTC offsets (a multiple of 15 minutes), never zero.
fn bug_offset() -> impl Strategy<Value = chrono::Duration> {
    prop_oneof![
        (1i64..=14, any::<bool>()).prop_map(|(h, neg)| chrono::Duration::hours(if neg {
            -h
        } else {
            h
        })),
        (1i64..=104, any::<bool>())
            .prop_map(|(q, neg)| chrono::Duration::minutes(15 * if neg { -q } else { q })),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// Ordinary histories (people creating, editing, moving, deleting; faults and crashes)
    /// under the default guards never trip the time-shift guard and never reach the
    /// invitation cap.
    #[test]
    fn ordinary_histories_never_trip_the_guards(
        ops in strategy::ops(EditKinds::all(), 40),
    ) {
        let cal = Calendar::new(Policy::default());
        let run = history_run(&cal, converging(DEFAULT_MAX_INVITATIONS));
        replay(&run, &ops, |report| {
            prop_assert!(
                !matches!(report.guard, Some(GuardTrip::TimeShift { .. })),
                "an ordinary history never trips the time-shift guard: {}", report
            );
            prop_assert!(
                report.deferred.is_empty(),
                "an ordinary history never reaches the invitation cap: {}", report
            );
            Ok(())
        })?;
    }

    /// Under any invitation cap, no round mails more attendees than the cap, and the
    /// history still converges: what a round defers, a later round writes.
    #[test]
    fn no_round_exceeds_the_invitation_cap_and_nothing_deferred_is_lost(
        cap in 1usize..4,
        ops in strategy::ops(EditKinds::all(), 40),
        guests in proptest::collection::vec(0u8..6, 0..8),
    ) {
        let cal = Calendar::new(Policy::default());
        let policy = converging(cap);
        let run = history_run(&cal, policy);
        // Meetings with guests from the start, so that creates mail attendees too.
        let mut with_guests = 0;
        for (i, g) in guests.iter().enumerate() {
            let mut e = crate::util::meeting(&format!("g{i}"), 10 + i as i64 * 5);
            sync_core::testing::history::UserEdit::Attendees(*g).apply(&mut e, Side::Raynet, now());
            with_guests += usize::from(!e.attendees.is_empty());
            cal.raynet.insert(e);
        }
        let first = futures::executor::block_on(run.round()).unwrap();
        prop_assert_eq!(
            (first.invitations, first.invitations_deferred()),
            (with_guests.min(cap), with_guests.saturating_sub(cap)),
            "the first round creates up to the cap and defers the rest: {}", first
        );
        replay(&run, &ops, |report| {
            prop_assert!(
                report.invitations <= cap,
                "a round mails at most {} attendees' writes: {}", cap, report
            );
            prop_assert!(report.is_clean(), "deferring is no failure: {}", report);
            Ok(())
        })?;
    }

    /// A side that shifts every event by one offset (a time-zone bug) always trips the
    /// time-shift guard: the round stops, names the side to be written, the count and the
    /// offset, and writes nothing.
    #[test]
    fn a_side_shifting_every_event_always_trips_the_time_shift_guard(
        n in 3usize..25,
        buggy in strategy::side(),
        offset in bug_offset(),
    ) {
        let cal = Calendar::new(Policy::default());
        for i in 0..n {
            let e = Event::new(format!("t{i}"), crate::util::at(10 + i as i64 * 7));
            if i % 2 == 0 { cal.raynet.insert(e); } else { cal.outlook.insert(e); }
        }
        cal.round();
        prop_assert_eq!(cal.round().writes(), 0);
        let side: &MemorySide<Event> = if buggy == Side::Raynet { &cal.raynet } else { &cal.outlook };
        for id in side.ids() {
            side.edit(&id, |e| {
                if let Schedule::Timed { start, end } = &mut e.schedule {
                    *start += offset;
                    *end += offset;
                }
            });
        }
        let before = (cal.raynet.entries(), cal.outlook.entries());
        let report = cal.round();
        prop_assert_eq!(
            report.guard.clone(),
            Some(GuardTrip::TimeShift {
                side: buggy.other(),
                moved: n,
                paired: n,
                offset,
                max_share: 0.2,
            }),
            "the time-shift guard trips: {}", report
        );
        prop_assert_eq!(report.writes(), 0, "nothing written");
        prop_assert_eq!(before, (cal.raynet.entries(), cal.outlook.entries()), "both sides untouched");
    }
}
