//! One readable example per row of the decision table (DESIGN §3) and per calendar rule the
//! engine owns (DESIGN §4).

use sync_core::*;

use crate::util::{Calendar, at, meeting, now, outlook_event};

/// A calendar with one meeting created in Raynet and already synced.
fn synced(policy: Policy) -> (Calendar, RemoteId, RemoteId) {
    let cal = Calendar::new(policy);
    let r = cal.raynet.insert(meeting("Review", 5));
    let report = cal.round();
    assert_eq!(report.created(Side::Outlook), 1);
    let o = cal.outlook.ids()[0].clone();
    (cal, r, o)
}

#[test]
fn new_in_raynet_is_created_in_outlook() {
    let (cal, r, _) = synced(Policy::default());
    assert_eq!(cal.outlook_of(&r).unwrap().title, "Review");
    assert_eq!(
        cal.round().writes(),
        0,
        "echo: a second round writes nothing"
    );
}

#[test]
fn new_in_outlook_becomes_a_raynet_event() {
    let cal = Calendar::new(Policy::default());
    let o = cal.outlook.insert(outlook_event("Dentist", 3));
    assert_eq!(cal.round().created(Side::Raynet), 1);
    let r = cal.raynet_of(&o).unwrap();
    assert_eq!(r.title, "Dentist");
    assert_eq!(
        r.kind,
        Some(ActivityKind::Event),
        "outlook_new_as defaults to event"
    );
    assert!(cal.round().is_clean());
    assert_eq!(cal.round().writes(), 0);
}

#[test]
fn changed_in_raynet_only_updates_outlook() {
    let (cal, r, o) = synced(Policy::default());
    cal.raynet.edit(&r, |e| e.location = "Brno".into());
    let report = cal.round();
    assert_eq!(report.updated.outlook, 1);
    assert_eq!(report.updated.raynet, 0);
    assert_eq!(cal.outlook.get_item(&o).unwrap().location, "Brno");
}

#[test]
fn changed_in_outlook_only_updates_raynet() {
    let (cal, r, o) = synced(Policy::default());
    cal.outlook.edit(&o, |e| e.schedule = at(7));
    let report = cal.round();
    assert_eq!((report.updated.raynet, report.updated.outlook), (1, 0));
    assert_eq!(cal.raynet.get_item(&r).unwrap().schedule, at(7));
}

#[test]
fn edits_to_different_fields_on_both_sides_both_survive() {
    let (cal, r, o) = synced(Policy::default());
    cal.raynet.edit(&r, |e| e.description = "agenda".into());
    cal.outlook.edit(&o, |e| e.location = "Praha".into());
    let report = cal.round();
    assert!(report.conflicts.is_empty());
    for e in [
        cal.raynet.get_item(&r).unwrap(),
        cal.outlook.get_item(&o).unwrap(),
    ] {
        assert_eq!(e.description, "agenda");
        assert_eq!(e.location, "Praha");
    }
}

#[test]
fn the_same_edit_on_both_sides_is_no_conflict() {
    let (cal, r, o) = synced(Policy::default());
    cal.raynet.edit(&r, |e| e.title = "Review 2".into());
    cal.outlook.edit(&o, |e| e.title = "Review 2".into());
    let report = cal.round();
    assert!(report.conflicts.is_empty());
    assert_eq!(report.writes(), 0);
    assert_eq!(cal.round().writes(), 0);
}

fn conflicting(policy: ConflictPolicy, outlook_later: bool) -> (RoundReport, String, String) {
    let (cal, r, o) = synced(Policy {
        conflict: policy,
        ..Policy::default()
    });
    if outlook_later {
        cal.raynet.edit(&r, |e| e.title = "Raynet title".into());
        cal.outlook.edit(&o, |e| e.title = "Outlook title".into());
    } else {
        cal.outlook.edit(&o, |e| e.title = "Outlook title".into());
        cal.raynet.edit(&r, |e| e.title = "Raynet title".into());
    }
    let report = cal.round();
    let rt = cal.raynet.get_item(&r).unwrap().title;
    let ot = cal.outlook.get_item(&o).unwrap().title;
    assert_eq!(rt, ot, "both sides agree after a conflict");
    (report, rt, ot)
}

#[test]
fn conflict_latest_takes_the_later_edit_and_reports_it() {
    let (report, title, _) = conflicting(ConflictPolicy::Latest, true);
    assert_eq!(title, "Outlook title");
    assert_eq!(report.conflicts.len(), 1);
    assert_eq!(report.conflicts[0].field, "title");
    assert_eq!(report.conflicts[0].winner, Side::Outlook);
    let (report, title, _) = conflicting(ConflictPolicy::Latest, false);
    assert_eq!(title, "Raynet title");
    assert_eq!(report.conflicts[0].winner, Side::Raynet);
}

#[test]
fn conflict_policies_raynet_and_outlook_always_win() {
    for later in [true, false] {
        let (report, title, _) = conflicting(ConflictPolicy::Raynet, later);
        assert_eq!(title, "Raynet title");
        assert_eq!(report.conflicts[0].rule, ConflictRule::Raynet);
        let (report, title, _) = conflicting(ConflictPolicy::Outlook, later);
        assert_eq!(title, "Outlook title");
        assert_eq!(report.conflicts[0].rule, ConflictRule::Outlook);
    }
}

#[test]
fn conflict_latest_tie_goes_to_raynet() {
    let plan_with = |r_mod, o_mod| {
        let base = meeting("Base", 1);
        let rid = RemoteId::new("r1").unwrap();
        let oid = RemoteId::new("o1").unwrap();
        let v = Version::new("v1").unwrap();
        let mut state = StoredState::default();
        let ob = base.project(&EventProfile::outlook()).item;
        state.pairs.insert(
            PairId::from_store(1),
            PairRecord {
                raynet: Some(SideRecord {
                    id: rid.clone(),
                    version: v.clone(),
                    base: base.clone(),
                }),
                outlook: Some(SideRecord {
                    id: oid.clone(),
                    version: v.clone(),
                    base: ob.clone(),
                }),
                origin: Side::Raynet,
            },
        );
        let mut r = base.clone();
        r.title = "R".into();
        let mut o = ob.clone();
        o.title = "O".into();
        let v2 = Version::new("v2").unwrap();
        let rr = SideRead::complete(vec![Remote {
            id: rid,
            version: v2.clone(),
            modified: r_mod,
            item: r,
            key: None,
        }]);
        let or = SideRead::complete(vec![Remote {
            id: oid,
            version: v2,
            modified: o_mod,
            item: o,
            key: None,
        }]);
        plan_calendar(&CalendarInput {
            state: &state,
            raynet: &rr,
            outlook: &or,
            raynet_profile: &EventProfile::raynet(),
            outlook_profile: &EventProfile::outlook(),
            policy: &Policy::default(),
            member: &Member::default(),
            now: now(),
        })
    };
    let t = now();
    let plan = plan_with(Some(t), Some(t));
    assert_eq!(plan.conflicts[0].winner, Side::Raynet);
    assert_eq!(plan.conflicts[0].rule, ConflictRule::LatestTie);
    let plan = plan_with(None, None);
    assert_eq!(plan.conflicts[0].winner, Side::Raynet);
    assert!(
        plan.to_string()
            .contains("conflict on #1 \"R\", field title: raynet wins")
    );
}

#[test]
fn deleted_in_raynet_deletes_the_outlook_event() {
    let (cal, r, _) = synced(Policy::default());
    cal.raynet.remove(&r);
    let report = cal.round();
    assert_eq!(report.deleted.outlook, 1);
    assert!(cal.outlook.is_empty());
    assert_eq!(cal.pairs(), 0);
}

#[test]
fn deleted_in_outlook_cancels_in_raynet_by_default() {
    let (cal, r, o) = synced(Policy::default());
    cal.outlook.remove(&o);
    let report = cal.round();
    assert_eq!(report.updated.raynet, 1);
    let kept = cal.raynet.get_item(&r).unwrap();
    assert_eq!(
        kept.status,
        EventStatus::Cancelled,
        "history kept, marked cancelled"
    );
    assert_eq!(
        cal.round().writes(),
        0,
        "the detached record is not re-created in Outlook"
    );
    assert!(cal.outlook.is_empty());
}

#[test]
fn deleted_in_outlook_with_delete_or_ignore() {
    let (cal, _, o) = synced(Policy {
        outlook_deletes: OutlookDeletes::Delete,
        ..Policy::default()
    });
    cal.outlook.remove(&o);
    assert_eq!(cal.round().deleted.raynet, 1);
    assert!(cal.raynet.is_empty());

    let (cal, r, o) = synced(Policy {
        outlook_deletes: OutlookDeletes::Ignore,
        ..Policy::default()
    });
    cal.outlook.remove(&o);
    assert_eq!(cal.round().writes(), 0);
    assert_eq!(
        cal.raynet.get_item(&r).unwrap().status,
        EventStatus::Scheduled
    );
    cal.raynet.edit(&r, |e| e.title = "later edit".into());
    assert_eq!(cal.round().writes(), 0, "an unlinked record stays unlinked");
}

#[test]
fn deleted_in_raynet_but_edited_in_outlook_is_recreated_in_raynet() {
    let (cal, r, o) = synced(Policy::default());
    cal.raynet.remove(&r);
    cal.outlook.edit(&o, |e| e.title = "Still on".into());
    let report = cal.round();
    assert_eq!(report.created(Side::Raynet), 1);
    assert_eq!(cal.raynet_of(&o).unwrap().title, "Still on");
    assert_eq!(
        cal.raynet_of(&o).unwrap().kind,
        Some(ActivityKind::Meeting),
        "keeps its type"
    );
    assert_eq!(cal.round().writes(), 0);

    let (cal, r, o) = synced(Policy {
        delete_vs_edit: DeleteEditPolicy::Delete,
        ..Policy::default()
    });
    cal.raynet.remove(&r);
    cal.outlook.edit(&o, |e| e.title = "Still on".into());
    assert_eq!(cal.round().deleted.outlook, 1);
}

#[test]
fn deleted_in_outlook_but_edited_in_raynet_is_recreated_in_outlook() {
    let (cal, r, o) = synced(Policy::default());
    cal.outlook.remove(&o);
    cal.raynet.edit(&r, |e| e.title = "Moved".into());
    let report = cal.round();
    assert_eq!(report.created(Side::Outlook), 1);
    assert_eq!(cal.outlook_of(&r).unwrap().title, "Moved");
}

#[test]
fn deleted_on_both_sides_is_forgotten() {
    let (cal, r, o) = synced(Policy::default());
    cal.raynet.remove(&r);
    cal.outlook.remove(&o);
    assert_eq!(cal.round().writes(), 0);
    assert_eq!(cal.pairs(), 0);
}

#[test]
fn a_field_one_side_cannot_hold_is_not_a_change() {
    let (cal, r, o) = synced(Policy::default());
    cal.outlook.edit(&o, |e| e.categories = vec!["Red".into()]);
    let report = cal.round();
    assert_eq!(
        report.writes(),
        0,
        "Raynet has no categories: nothing to write"
    );
    assert!(cal.raynet.get_item(&r).unwrap().categories.is_empty());
    cal.raynet.edit(&r, |e| e.title = "New".into());
    cal.round();
    assert_eq!(
        cal.outlook.get_item(&o).unwrap().categories,
        vec!["Red".to_owned()],
        "kept"
    );
    assert_eq!(cal.round().writes(), 0);
}

#[test]
fn private_events_skip_by_default() {
    let cal = Calendar::new(Policy::default());
    let mut e = outlook_event("Doctor", 2);
    e.sensitivity = Sensitivity::Private;
    cal.outlook.insert(e);
    let report = cal.round();
    assert_eq!(report.writes(), 0);
    assert!(report.skipped[0].reason.contains("private"));
    assert!(cal.raynet.is_empty());
}

#[test]
fn private_events_as_time_blockers_never_leak() {
    let cal = Calendar::new(Policy {
        private_events: PrivateEvents::TimeBlocker,
        ..Policy::default()
    });
    let mut e = outlook_event("Doctor", 2);
    e.sensitivity = Sensitivity::Private;
    e.description = "diagnosis".into();
    e.location = "Clinic".into();
    let o = cal.outlook.insert(e);
    cal.round();
    let r = cal.raynet_of(&o).unwrap();
    assert_eq!(r.title, TIME_BLOCKER_TITLE);
    assert_eq!((r.description.as_str(), r.location.as_str()), ("", ""));
    assert_eq!(r.schedule, at(2));
    cal.outlook.edit(&o, |e| {
        e.title = "Doctor again".into();
        e.description = "more diagnosis".into();
        e.schedule = at(4);
    });
    cal.round();
    let r = cal.raynet_of(&o).unwrap();
    assert_eq!(
        r.title, TIME_BLOCKER_TITLE,
        "no detail leaks on later updates"
    );
    assert_eq!(r.description, "");
    assert_eq!(r.schedule, at(4), "the time still follows");
    assert_eq!(
        cal.outlook.get_item(&o).unwrap().title,
        "Doctor again",
        "Outlook keeps its title"
    );
    assert_eq!(cal.round().writes(), 0);
}

#[test]
fn private_events_standard_sync_everything() {
    let cal = Calendar::new(Policy {
        private_events: PrivateEvents::Standard,
        ..Policy::default()
    });
    let mut e = outlook_event("Doctor", 2);
    e.sensitivity = Sensitivity::Private;
    let o = cal.outlook.insert(e);
    cal.round();
    let r = cal.raynet_of(&o).unwrap();
    assert_eq!(r.title, "Doctor");
    assert_eq!(r.sensitivity, Sensitivity::Private);
}

#[test]
fn completed_meetings_keep_flowing_with_sync() {
    let (cal, r, o) = synced(Policy::default());
    cal.raynet.edit(&r, |e| e.status = EventStatus::Completed);
    cal.round();
    cal.raynet.edit(&r, |e| e.description = "minutes".into());
    cal.round();
    assert_eq!(cal.outlook.get_item(&o).unwrap().description, "minutes");
}

#[test]
fn completed_meetings_stop_flowing_with_stop_and_are_never_reopened() {
    let (cal, r, o) = synced(Policy {
        completed_events: CompletedEvents::Stop,
        ..Policy::default()
    });
    cal.raynet.edit(&r, |e| {
        e.status = EventStatus::Completed;
        e.description = "final agenda".into();
    });
    cal.round();
    assert_eq!(
        cal.outlook.get_item(&o).unwrap().description,
        "final agenda",
        "the completing edit flows"
    );
    cal.raynet.edit(&r, |e| e.description = "my notes".into());
    assert_eq!(
        cal.round().writes(),
        0,
        "later Raynet changes stay in Raynet"
    );
    assert_eq!(
        cal.outlook.get_item(&o).unwrap().description,
        "final agenda"
    );
    cal.outlook.edit(&o, |e| {
        e.location = "Room 2".into();
        e.description = "outlook text".into();
    });
    let report = cal.round();
    let r_now = cal.raynet.get_item(&r).unwrap();
    assert_eq!(r_now.status, EventStatus::Completed, "never reopened");
    assert_eq!(
        r_now.description, "my notes",
        "Raynet notes are never overwritten"
    );
    assert_eq!(r_now.location, "Room 2");
    assert_eq!(report.conflicts[0].rule, ConflictRule::Completed);
    assert_eq!(cal.round().writes(), 0);
}

#[test]
fn invited_events_are_skipped_or_owned() {
    let invite = |org: &str| {
        let mut e = outlook_event("Partner call", 2);
        e.organizer = Some(Organizer {
            email: Some(org.parse().unwrap()),
            name: String::new(),
        });
        e
    };
    let cal = Calendar::new(Policy::default());
    cal.outlook.insert(invite("boss@partner.com"));
    let report = cal.round();
    assert_eq!(report.writes(), 0);
    assert!(report.skipped[0].reason.contains("invited_events"));

    let mut cal = Calendar::new(Policy {
        invited_events: InvitedEvents::Own,
        ..Policy::default()
    });
    cal.member.served.insert("petr@acme.cz".parse().unwrap());
    cal.outlook.insert(invite("boss@partner.com"));
    cal.outlook.insert(invite("petr@acme.cz"));
    cal.outlook.insert(invite("jana@acme.cz"));
    let report = cal.round();
    assert_eq!(
        report.created(Side::Raynet),
        2,
        "own + outsider's; the colleague's is theirs"
    );
    assert!(
        report
            .skipped
            .iter()
            .any(|s| s.reason.contains("petr@acme.cz, who is served"))
    );
}

#[test]
fn outlook_new_as_auto_makes_meetings_of_external_invitations() {
    let cal = Calendar::new(Policy {
        outlook_new_as: OutlookNewAs::Auto,
        ..Policy::default()
    });
    let mut external = outlook_event("Client", 2);
    external.attendees.push(Attendee {
        email: "client@customer.cz".parse().unwrap(),
        name: "Client".into(),
        response: Response::None,
    });
    let mut internal = outlook_event("Team", 3);
    internal.attendees.push(Attendee {
        email: "petr@acme.cz".parse().unwrap(),
        name: String::new(),
        response: Response::None,
    });
    let oe = cal.outlook.insert(external);
    let oi = cal.outlook.insert(internal);
    cal.round();
    assert_eq!(
        cal.raynet_of(&oe).unwrap().kind,
        Some(ActivityKind::Meeting)
    );
    assert_eq!(cal.raynet_of(&oi).unwrap().kind, Some(ActivityKind::Event));
}

#[test]
fn items_outside_the_window_are_left_alone() {
    let cal = Calendar::new(Policy::default());
    cal.raynet.insert(meeting("Long ago", -24 * 100));
    cal.raynet.insert(meeting("Far ahead", 24 * 400));
    assert_eq!(cal.round().writes(), 0);
}

#[test]
fn an_item_moved_out_of_the_window_is_moved_not_deleted() {
    let (cal, r, o) = synced(Policy::default());
    cal.round();
    cal.raynet.edit(&r, |e| e.schedule = at(24 * 500));
    let report = cal.round();
    assert_eq!(report.deleted, SideCounts::default(), "{report}");
    assert_eq!(cal.outlook.get_item(&o).unwrap().schedule, at(24 * 500));
}

#[test]
fn attendees_listed_in_the_body_never_become_outlook_attendees() {
    let cal = Calendar::new(Policy {
        attendees: AttendeeMode::List,
        ..Policy::default()
    });
    let mut m = meeting("Visit", 2);
    m.description = "Bring samples".into();
    m.attendees.push(Attendee {
        email: "client@customer.cz".parse().unwrap(),
        name: "Client".into(),
        response: Response::None,
    });
    let r = cal.raynet.insert(m);
    cal.round();
    let o = cal.outlook_of(&r).unwrap();
    assert!(o.attendees.is_empty());
    assert!(o.description.starts_with("Bring samples\n\n"));
    assert!(o.description.contains(PARTICIPANTS_MARKER));
    assert!(o.description.contains("Client <client@customer.cz>"));
    assert_eq!(cal.round().writes(), 0);
    let oid = cal.outlook.ids()[0].clone();
    cal.outlook.edit(&oid, |e| {
        e.description = e.description.replace("Bring samples", "Bring more");
    });
    cal.round();
    assert_eq!(
        cal.raynet.get_item(&r).unwrap().description,
        "Bring more",
        "the list never flows back"
    );
    assert_eq!(cal.round().writes(), 0);
}

#[test]
fn the_plan_prints_for_a_dry_run_and_changes_nothing() {
    let cal = Calendar::new(Policy::default());
    cal.raynet.insert(meeting("Kickoff", 1));
    let report = cal.dry_round();
    assert_eq!(report.planned_writes, 1);
    assert_eq!(report.writes(), 0);
    let plan = report.plan.unwrap();
    assert!(
        plan.contains("create on outlook: \"Kickoff\" (key r-r1-k"),
        "an Outlook copy's key is the attempt's: {plan}"
    );
    assert!(cal.outlook.is_empty());
    assert_eq!(cal.pairs(), 0);
}

#[test]
fn the_same_invitation_in_two_mailboxes_becomes_one_raynet_record() {
    let invite = || {
        let mut e = outlook_event("Partner call", 2);
        e.organizer = Some(Organizer {
            email: Some("boss@partner.com".parse().unwrap()),
            name: String::new(),
        });
        for a in ["petr@acme.cz", "jana@acme.cz"] {
            e.attendees.push(Attendee {
                email: a.parse().unwrap(),
                name: String::new(),
                response: Response::None,
            });
        }
        e
    };
    let policy = Policy {
        invited_events: InvitedEvents::Own,
        ..Policy::default()
    };
    let mut created = 0;
    for me in ["jana@acme.cz", "petr@acme.cz"] {
        let mut cal = Calendar::new(policy.clone());
        cal.member = Member::single(me.parse().unwrap());
        cal.member.served.insert("jana@acme.cz".parse().unwrap());
        cal.member.served.insert("petr@acme.cz".parse().unwrap());
        cal.outlook.insert(invite());
        let report = cal.round();
        created += report.created(Side::Raynet);
        if me == "petr@acme.cz" {
            assert!(
                report.skipped[0]
                    .reason
                    .contains("jana@acme.cz: synced from their calendar")
            );
        }
    }
    assert_eq!(
        created, 1,
        "one Raynet record, from the first served attendee's calendar"
    );
}

#[test]
fn cancelled_in_raynet_removes_the_outlook_event_and_reopening_brings_it_back() {
    let (cal, r, _) = synced(Policy::default());
    cal.raynet.edit(&r, |e| e.status = EventStatus::Cancelled);
    let report = cal.round();
    assert_eq!(report.deleted.outlook, 1, "{report}");
    assert!(cal.outlook.is_empty());
    assert_eq!(
        cal.raynet.get_item(&r).unwrap().status,
        EventStatus::Cancelled,
        "kept in Raynet"
    );
    assert_eq!(cal.round().writes(), 0);
    cal.raynet.edit(&r, |e| e.status = EventStatus::Scheduled);
    assert_eq!(cal.round().created(Side::Outlook), 1);
    assert_eq!(cal.outlook_of(&r).unwrap().title, "Review");
    assert_eq!(cal.round().writes(), 0);
}

#[test]
fn a_meeting_already_synced_from_another_members_calendar_is_not_written_again() {
    let mut cal = Calendar::new(Policy {
        invited_events: InvitedEvents::Own,
        ..Policy::default()
    });
    cal.member.claimed_elsewhere.insert("uid-123".into());
    let mut e = outlook_event("Roundtable", 2);
    e.organizer = Some(Organizer {
        email: Some("host@partner.com".parse().unwrap()),
        name: String::new(),
    });
    e.global_id = Some("uid-123".into());
    cal.outlook.insert(e);
    let report = cal.round();
    assert_eq!(report.writes(), 0);
    assert!(
        report.skipped[0]
            .reason
            .contains("already synced from another member")
    );
}

// ---- DESIGN §7: the mass time-shift guard and the invitation cap ----

/// A guest with an e-mail (an Outlook attendee Exchange would mail).
fn guest(n: usize) -> Attendee {
    Attendee {
        email: format!("guest{n}@customer.example").parse().unwrap(),
        name: format!("Guest {n}"),
        response: Response::None,
    }
}

/// `n` Raynet meetings, a day apart, synced to Outlook; `with_guests`: each has a guest.
fn synced_meetings(policy: Policy, n: usize, with_guests: bool) -> (Calendar, Vec<RemoteId>) {
    let cal = Calendar::new(policy);
    let ids: Vec<RemoteId> = (0..n)
        .map(|i| {
            let mut m = meeting(&format!("m{i}"), 24 * (i as i64 + 1));
            if with_guests {
                m.attendees.push(guest(i));
            }
            cal.raynet.insert(m)
        })
        .collect();
    // Rounds until nothing is left (an invitation cap may spread the creates).
    for _ in 0..=n {
        if cal.round().writes() == 0 {
            break;
        }
    }
    assert_eq!(cal.outlook.len(), n);
    (cal, ids)
}

/// The schedule `s` moved by `by`.
fn shifted(s: Schedule, by: chrono::Duration) -> Schedule {
    match s {
        Schedule::Timed { start, end } => Schedule::Timed {
            start: start + by,
            end: end + by,
        },
        Schedule::AllDay { start, end } => Schedule::AllDay {
            start: start + by,
            end: end + by,
        },
    }
}

#[test]
fn every_event_shifted_by_an_hour_on_one_side_stops_the_round_before_any_write() {
    let (cal, ids) = synced_meetings(Policy::default(), 10, false);
    let before: Vec<Schedule> = ids
        .iter()
        .map(|r| cal.raynet.get_item(r).unwrap().schedule)
        .collect();
    // A time-zone bug on the Outlook side: every event reads an hour later.
    for o in cal.outlook.ids() {
        cal.outlook.edit(&o, |e| {
            e.schedule = shifted(e.schedule, chrono::Duration::hours(1));
        });
    }
    let report = cal.round();
    let guard = report.guard.clone().expect("the time-shift guard trips");
    assert_eq!(
        guard,
        GuardTrip::TimeShift {
            side: Side::Raynet,
            moved: 10,
            paired: 10,
            offset: chrono::Duration::hours(1),
            max_share: 0.2,
        }
    );
    assert_eq!(report.writes(), 0, "nothing written: {report}");
    assert!(!report.is_clean(), "a stopped round is not clean");
    let text = guard.to_string();
    assert!(
        text.contains("would move 10 of 10 paired events on raynet by the same offset, +1 h")
            && text.contains("a whole number of hours")
            && text.contains("--allow-mass-change"),
        "{text}"
    );
    let after: Vec<Schedule> = ids
        .iter()
        .map(|r| cal.raynet.get_item(r).unwrap().schedule)
        .collect();
    assert_eq!(before, after, "Raynet keeps its times");
    assert!(cal.round().guard.is_some(), "it stops again next round");

    // Allowed once: the shift goes through, and the round after writes nothing.
    let mut allowed = cal.policy.clone();
    allowed.shift_guard.allow = true;
    let report =
        futures::executor::block_on(Runner::new(Calendar::scope(), allowed).sync_calendar(
            &cal.raynet,
            &cal.outlook,
            &cal.store,
            &cal.member,
            now(),
        ))
        .unwrap();
    assert!(report.guard.is_none());
    assert_eq!(report.updated.raynet, 10);
    assert_eq!(cal.round().writes(), 0);
}

#[test]
fn a_shift_by_the_difference_of_two_zones_trips_the_guard_on_the_other_side() {
    let (cal, ids) = synced_meetings(Policy::default(), 6, false);
    // Raynet read as if Prague were India: 4 h 30 min off.
    let by = chrono::Duration::minutes(-270);
    for r in &ids {
        cal.raynet.edit(r, |e| e.schedule = shifted(e.schedule, by));
    }
    let report = cal.round();
    match report.guard.clone() {
        Some(g @ GuardTrip::TimeShift { .. }) => {
            assert_eq!(g.side(), Side::Outlook);
            let text = g.to_string();
            assert!(
                text.contains("-4 h 30 min") && text.contains("two zones' UTC offsets"),
                "{text}"
            );
        }
        other => panic!("expected the time-shift guard, got {other:?}"),
    }
    assert_eq!(report.writes(), 0);
}

#[test]
fn people_moving_a_few_meetings_never_trip_the_time_shift_guard() {
    let (cal, ids) = synced_meetings(Policy::default(), 10, false);
    // Two meetings an hour later (the floor), three others by three different offsets.
    for r in &ids[..2] {
        cal.raynet.edit(r, |e| {
            e.schedule = shifted(e.schedule, chrono::Duration::hours(1));
        });
    }
    for (i, r) in ids[2..5].iter().enumerate() {
        let by = chrono::Duration::minutes(20 * (i as i64 + 1) - 90);
        cal.raynet.edit(r, |e| e.schedule = shifted(e.schedule, by));
    }
    // A meeting made longer is no shift at all.
    cal.raynet.edit(&ids[5], |e| {
        if let Schedule::Timed { end, .. } = &mut e.schedule {
            *end += chrono::Duration::hours(1);
        }
    });
    let report = cal.round();
    assert!(report.guard.is_none(), "{report}");
    assert_eq!(report.updated.outlook, 6);
}

#[test]
fn moving_a_recurring_series_is_one_edit_for_the_time_shift_guard() {
    let cal = Calendar::new(Policy::default());
    for i in 0..6 {
        let mut e = outlook_event("Stand-up", 24 * 7 * (i + 1));
        e.series = Some(SeriesRef {
            series_id: "S1".into(),
            original_start: now() + chrono::Duration::hours(24 * 7 * (i + 1)),
        });
        cal.outlook.insert(e);
    }
    for i in 0..4 {
        cal.outlook
            .insert(outlook_event(&format!("one-off {i}"), 30 + i));
    }
    assert_eq!(cal.round().created(Side::Raynet), 10);
    // The organiser moves the whole series an hour later: six occurrences, one edit.
    for (o, e) in cal.outlook.entries() {
        if e.series.is_some() {
            cal.outlook.edit(&o, |e| {
                e.schedule = shifted(e.schedule, chrono::Duration::hours(1));
            });
        }
    }
    let report = cal.round();
    assert!(report.guard.is_none(), "{report}");
    assert_eq!(report.updated.raynet, 6);
}

#[test]
fn the_mass_deletion_verdict_stands_when_both_guards_would_trip() {
    let (cal, ids) = synced_meetings(Policy::default(), 10, false);
    for r in &ids[..5] {
        cal.raynet.remove(r);
    }
    for r in &ids[5..] {
        cal.raynet.edit(r, |e| {
            e.schedule = shifted(e.schedule, chrono::Duration::hours(2));
        });
    }
    let report = cal.round();
    assert!(
        matches!(
            report.guard,
            Some(GuardTrip::MassDeletion { deletes: 5, .. })
        ),
        "{:?}",
        report.guard
    );
    assert_eq!(report.writes(), 0);
}

#[test]
fn invitations_over_the_cap_wait_for_the_next_round_and_nothing_is_lost() {
    let cal = Calendar::new(Policy {
        max_invitations: 3,
        ..Policy::default()
    });
    for i in 0..5 {
        let mut m = meeting(&format!("m{i}"), 24 * (i + 1));
        m.attendees.push(guest(i as usize));
        cal.raynet.insert(m);
    }
    // Meetings without guests mail nobody: never held back.
    for i in 0..4 {
        cal.raynet.insert(meeting(&format!("solo{i}"), 200 + i));
    }
    let first = cal.round();
    assert_eq!(first.invitations, 3, "{first}");
    assert_eq!(first.invitations_deferred(), 2);
    assert_eq!(first.deferred.len(), 2);
    assert_eq!(first.created(Side::Outlook), 7, "3 with guests, 4 without");
    assert!(first.is_clean(), "deferred is no failure: {first}");
    assert!(first.failures.is_empty());
    assert!(first.to_string().contains("deferred to the next round"));

    let second = cal.round();
    assert_eq!(
        (second.invitations, second.invitations_deferred()),
        (2, 0),
        "{second}"
    );
    assert_eq!(second.created(Side::Outlook), 2);
    assert_eq!(cal.outlook.len(), 9);
    assert_eq!(cal.round().writes(), 0);
}

#[test]
fn reschedules_and_cancellations_of_events_with_attendees_count_against_the_cap() {
    let (cal, ids) = synced_meetings(
        Policy {
            max_invitations: 2,
            // Cancelling all three is intended here.
            delete_guard: DeleteGuard {
                allow: true,
                ..DeleteGuard::default()
            },
            ..Policy::default()
        },
        // Created over two rounds: the cap holds back the third create.
        3,
        true,
    );
    // Each meeting moved by its own offset (no time-zone bug): three meeting updates.
    for (i, r) in ids.iter().enumerate() {
        let by = chrono::Duration::minutes(15 * (i as i64 + 1));
        cal.raynet.edit(r, |e| e.schedule = shifted(e.schedule, by));
    }
    let report = cal.round();
    assert_eq!(
        (report.invitations, report.invitations_deferred()),
        (2, 1),
        "{report}"
    );
    assert_eq!(report.updated.outlook, 2);
    // The deferred move goes next round, with a new agenda (a meeting update too).
    cal.raynet
        .edit(&ids[0], |e| e.description = "agenda".into());
    let report = cal.round();
    assert_eq!((report.invitations, report.invitations_deferred()), (2, 0));
    assert_eq!(
        report.updated.outlook, 2,
        "the deferred move and the new text"
    );
    // A privacy flag mails nobody: never held back, whatever the cap.
    for r in &ids {
        cal.raynet.edit(r, |e| e.sensitivity = Sensitivity::Private);
    }
    let report = cal.round();
    assert_eq!((report.invitations, report.invitations_deferred()), (0, 0));
    assert_eq!(report.updated.outlook, 3, "{report}");
    // A cancellation mails every attendee: counted too.
    for r in &ids {
        cal.raynet.edit(r, |e| e.status = EventStatus::Cancelled);
    }
    let report = cal.round();
    assert_eq!(
        (report.deleted.outlook, report.invitations_deferred()),
        (2, 1),
        "{report}"
    );
    assert_eq!(cal.round().deleted.outlook, 1);
    assert!(cal.outlook.is_empty());
}
