//! A whole tenant's round as library code (`sync_core::tenant`), over an organisation in memory
//! (`testing::MemoryOrg`) and `MemoryTenantStore`: what an embedder runs without our binary.

use std::time::Duration;

use sync_core::tenant::{
    Finding, MemberError, MemoryTenantStore, RoundOptions, Tenant, TenantReport,
};
use sync_core::testing::{Faults, MemoryMember, MemoryOrg};
use sync_core::{Contact, Email, InvitedEvents, Organizer, Policy, Side};

use crate::util::{meeting, now, outlook_event};

fn integration() -> Email {
    "integration@acme.cz".parse().unwrap()
}

fn tenant_of(org: &MemoryOrg) -> Tenant {
    Tenant::new("acme", integration(), org.raynet(), org.outlook())
}

async fn round(tenant: &Tenant, store: &MemoryTenantStore, policy: &Policy) -> TenantReport {
    tenant
        .round(store, policy, &RoundOptions::default(), now())
        .await
        .unwrap()
}

/// The first round of `org`'s tenant under the default policy, with a new store.
async fn first_round(org: &MemoryOrg) -> TenantReport {
    round(
        &tenant_of(org),
        &MemoryTenantStore::new(),
        &Policy::default(),
    )
    .await
}

/// Jana and Petr, each with a Raynet meeting ("Kickoff", "Review") not yet in Outlook.
fn jana_and_petr() -> (MemoryOrg, MemoryMember, MemoryMember) {
    let org = MemoryOrg::new();
    let jana = org.add_member("jana@acme.cz");
    let petr = org.add_member("petr@acme.cz");
    jana.raynet_calendar.insert(meeting("Kickoff", 24));
    petr.raynet_calendar.insert(meeting("Review", 26));
    (org, jana, petr)
}

/// An Outlook event five hours from now organised by `host`, from outside the members.
fn invitation(title: &str, host: &str) -> sync_core::Event {
    let mut e = outlook_event(title, 5);
    e.organizer = Some(Organizer {
        email: Some(host.parse().unwrap()),
        name: String::new(),
    });
    e
}

fn writes(report: &TenantReport) -> usize {
    report
        .reports
        .iter()
        .map(sync_core::RoundReport::writes)
        .sum()
}

#[tokio::test]
async fn every_member_is_synced_each_round_is_recorded_and_the_next_round_writes_nothing() {
    let org = MemoryOrg::new();
    let jana = org.add_member("jana@acme.cz");
    let petr = org.add_member("petr@acme.cz");
    jana.raynet_calendar.insert(meeting("Kickoff", 24));
    petr.outlook_calendar.insert(outlook_event("Warehouse", 30));
    org.persons().insert(Contact {
        given_name: "Karel".into(),
        surname: "Svoboda".into(),
        ..Contact::default()
    });
    let (tenant, store) = (tenant_of(&org), MemoryTenantStore::new());

    let first = round(&tenant, &store, &Policy::default()).await;
    assert!(first.is_clean(), "{:?}", first.member_failures);
    let scopes: Vec<String> = first.reports.iter().map(|r| r.scope.to_string()).collect();
    assert_eq!(
        scopes,
        [
            "acme/jana@acme.cz/calendar",
            "acme/jana@acme.cz/contacts",
            "acme/petr@acme.cz/calendar",
            "acme/petr@acme.cz/contacts"
        ],
        "one report per member and collection, ordered by scope"
    );
    assert_eq!(jana.outlook_calendar.items()[0].title, "Kickoff");
    assert_eq!(petr.raynet_calendar.items()[0].title, "Warehouse");
    assert!(jana.outlook_calendar.len() == 1 && petr.outlook_calendar.len() == 1);
    assert_eq!(
        jana.outlook_contacts.len(),
        1,
        "every member gets the persons"
    );
    assert_eq!(petr.outlook_contacts.len(), 1);
    assert_eq!(store.rounds().len(), 4, "each finished round is recorded");
    assert_eq!(store.rounds()[0].created.outlook, 1);

    let second = round(&tenant, &store, &Policy::default()).await;
    assert!(second.is_clean());
    assert_eq!(
        writes(&second),
        0,
        "idempotent: nothing changed, nothing written"
    );
    assert_eq!(store.rounds().len(), 8);
}

#[tokio::test]
async fn the_report_serialises_with_rounds_findings_and_failures() {
    let org = MemoryOrg::new();
    org.add_member("jana@acme.cz");
    org.add_owner("boss@acme.cz");
    let report = first_round(&org).await;
    let v: serde_json::Value = serde_json::to_value(&report).unwrap();
    assert_eq!(v["tenant"], "acme");
    assert_eq!(v["clean"], true);
    assert_eq!(v["rounds"].as_array().unwrap().len(), 2);
    assert_eq!(v["rounds"][0]["scope"], "acme/jana@acme.cz/calendar");
    assert_eq!(v["findings"][0]["finding"], "owner_not_member");
    assert_eq!(v["member_failures"], serde_json::json!([]));
}

#[tokio::test]
async fn one_outside_meeting_in_two_mailboxes_becomes_one_raynet_record() {
    let org = MemoryOrg::new();
    let jana = org.add_member("jana@acme.cz");
    let petr = org.add_member("petr@acme.cz");
    for m in [&jana, &petr] {
        let mut e = invitation("Roundtable", "host@partner.com");
        e.global_id = Some("uid-roundtable".into());
        m.outlook_calendar.insert(e);
    }
    let policy = Policy {
        invited_events: InvitedEvents::Own,
        ..Policy::default()
    };
    let (tenant, store) = (
        tenant_of(&org).max_parallel_members(8),
        MemoryTenantStore::new(),
    );
    let report = round(&tenant, &store, &policy).await;
    assert!(report.is_clean(), "{:?}", report.member_failures);
    let records = jana.raynet_calendar.len() + petr.raynet_calendar.len();
    assert_eq!(records, 1, "one Raynet record, never one per mailbox");
    assert!(
        report.reports.iter().any(|r| r
            .skipped
            .iter()
            .any(|s| s.reason.contains("already synced from another member"))),
        "the second mailbox's copy is left alone, and the report says why"
    );
    assert_eq!(writes(&round(&tenant, &store, &policy).await), 0);

    // Under the default (`skip`), the outside invitation reaches Raynet from nobody.
    let org = MemoryOrg::new();
    let eva = org.add_member("eva@acme.cz");
    eva.outlook_calendar
        .insert(invitation("Webinar", "events@partner.com"));
    first_round(&org).await;
    assert!(eva.raynet_calendar.is_empty());
}

#[tokio::test]
async fn a_failing_mailbox_never_stops_the_other_members() {
    let (org, jana, petr) = jana_and_petr();
    jana.outlook_calendar.set_faults(Faults {
        failing_reads: 1,
        failing_writes: 5,
        ..Faults::default()
    });
    let report = first_round(&org).await;
    assert!(!report.is_clean());
    let jana_cal = &report.reports[0];
    assert_eq!(jana_cal.scope.member, "jana@acme.cz");
    assert!(!jana_cal.failures.is_empty(), "Jana's calendar failed");
    assert_eq!(
        petr.outlook_calendar.items()[0].title,
        "Review",
        "Petr was synced all the same"
    );
    assert!(jana.outlook_calendar.is_empty(), "nothing landed for Jana");
    assert_eq!(
        jana.raynet_calendar.len(),
        1,
        "a failed read deleted nothing"
    );
}

#[tokio::test]
async fn a_store_that_fails_is_a_typed_member_failure_and_the_round_still_reports() {
    let org = MemoryOrg::new();
    let jana = org.add_member("jana@acme.cz");
    jana.raynet_calendar.insert(meeting("Kickoff", 24));
    let store = MemoryTenantStore::new();
    store.calendar.fail_after_writes(Some(0));
    let report = round(&tenant_of(&org), &store, &Policy::default()).await;
    assert_eq!(report.member_failures.len(), 1);
    let failure = &report.member_failures[0];
    assert_eq!(failure.member.as_str(), "jana@acme.cz");
    assert!(matches!(
        failure.error,
        MemberError::Round {
            collection: sync_core::Collection::Calendar,
            ..
        }
    ));
    assert!(
        failure
            .to_string()
            .starts_with("jana@acme.cz: calendar round aborted: "),
        "{failure}"
    );
    assert_eq!(
        report.reports.len(),
        1,
        "the contacts round ran all the same"
    );
    assert!(!report.is_clean());
}

#[tokio::test]
async fn who_is_not_served_is_reported_not_guessed() {
    let org = MemoryOrg::new();
    org.add_member("jana@acme.cz");
    org.add_member("integration@acme.cz");
    org.add_owner("boss@acme.cz");
    let report = first_round(&org).await;
    assert!(report.findings.contains(&Finding::OwnerNotMember {
        name: "boss@acme.cz".into()
    }));
    assert!(report.findings.contains(&Finding::IntegrationUserSkipped {
        email: "integration@acme.cz".into()
    }));
    let served: Vec<&str> = report
        .reports
        .iter()
        .map(|r| r.scope.member.as_str())
        .collect();
    assert_eq!(served, ["jana@acme.cz", "jana@acme.cz"]);
}

#[tokio::test]
async fn a_dry_run_writes_and_records_nothing() {
    let org = MemoryOrg::new();
    let jana = org.add_member("jana@acme.cz");
    jana.raynet_calendar.insert(meeting("Kickoff", 24));
    let store = MemoryTenantStore::new();
    let options = RoundOptions {
        dry_run: true,
        ..RoundOptions::default()
    };
    let report = tenant_of(&org)
        .round(&store, &Policy::default(), &options, now())
        .await
        .unwrap();
    assert_eq!(report.reports[0].planned_writes, 1);
    assert!(jana.outlook_calendar.is_empty());
    assert!(store.rounds().is_empty());
}

#[tokio::test]
async fn the_membership_is_kept_for_its_age_and_read_anew_when_forgotten() {
    let org = MemoryOrg::new();
    org.add_member("jana@acme.cz");
    let tenant = tenant_of(&org).membership_max_age(Duration::from_secs(3600));
    let store = MemoryTenantStore::new();
    assert_eq!(
        round(&tenant, &store, &Policy::default())
            .await
            .reports
            .len(),
        2
    );
    let petr = org.add_member("petr@acme.cz");
    petr.raynet_calendar.insert(meeting("Review", 26));
    assert_eq!(
        round(&tenant, &store, &Policy::default())
            .await
            .reports
            .len(),
        2,
        "a member who joined is picked up after the membership's age"
    );
    tenant.forget_membership();
    let report = round(&tenant, &store, &Policy::default()).await;
    assert_eq!(report.reports.len(), 4);
    assert_eq!(petr.outlook_calendar.items()[0].title, "Review");
    assert_eq!(
        report.reports[2].created(Side::Outlook),
        1,
        "Petr's first round"
    );
}

#[tokio::test]
async fn a_targeted_round_runs_only_the_members_and_collections_named() {
    use std::collections::BTreeMap;
    use sync_core::tenant::{Collections, Targets};
    let (org, jana, petr) = jana_and_petr();
    let store = MemoryTenantStore::new();
    let mut only = BTreeMap::new();
    only.insert(
        "petr@acme.cz".parse::<Email>().unwrap(),
        Collections::only(sync_core::Collection::Calendar),
    );
    let options = RoundOptions {
        targets: Targets::Only(only),
        ..RoundOptions::default()
    };
    let report = tenant_of(&org)
        .round(&store, &Policy::default(), &options, now())
        .await
        .unwrap();
    let scopes: Vec<String> = report.reports.iter().map(|r| r.scope.to_string()).collect();
    assert_eq!(scopes, ["acme/petr@acme.cz/calendar"]);
    assert_eq!(petr.outlook_calendar.items()[0].title, "Review");
    assert!(jana.outlook_calendar.is_empty(), "Jana's round did not run");
}

#[tokio::test]
async fn the_syncs_own_write_is_known_without_a_read_and_a_users_edit_is_not() {
    use sync_core::tenant::is_own_write;
    use sync_core::{Collection, ReadRequest, ReadSide, Scope};
    let org = MemoryOrg::new();
    let jana = org.add_member("jana@acme.cz");
    jana.raynet_calendar.insert(meeting("Kickoff", 24));
    let store = MemoryTenantStore::new();
    round(&tenant_of(&org), &store, &Policy::default()).await;
    let scope = Scope::new("acme", "jana@acme.cz", Collection::Calendar);
    let request = ReadRequest {
        window: None,
        cursor: None,
    };
    let written = jana
        .outlook_calendar
        .read(&request)
        .await
        .unwrap()
        .items
        .remove(0);
    let reads_before = jana.outlook_calendar.read_calls();
    assert!(
        is_own_write(&store, &scope, Side::Outlook, &written.id, &written.version)
            .await
            .unwrap(),
        "the event the sync created, at the version it recorded"
    );
    assert_eq!(
        jana.outlook_calendar.read_calls(),
        reads_before,
        "no read of the side"
    );
    jana.outlook_calendar
        .edit(&written.id, |e| e.title = "Kickoff (moved)".into());
    let edited = jana
        .outlook_calendar
        .read(&request)
        .await
        .unwrap()
        .items
        .remove(0);
    assert!(
        !is_own_write(&store, &scope, Side::Outlook, &edited.id, &edited.version)
            .await
            .unwrap(),
        "a user's edit is a change to read"
    );
}

mod triggers {
    use std::collections::BTreeMap;

    use chrono::{DateTime, Duration, TimeZone, Utc};
    use proptest::prelude::*;
    use sync_core::tenant::{Collections, Triggers};
    use sync_core::{Collection, Email};

    proptest! {
        /// Every notified member collection gets one round per burst, never later than
        /// `max_wait` after the burst's first notification, and never more rounds than
        /// notifications.
        #[test]
        fn every_burst_becomes_one_timely_round(
            notes in proptest::collection::vec((0usize..3, any::<bool>(), 0i64..30_000), 1..60)
        ) {
            let t0 = Utc.with_ymd_and_hms(2026, 12, 6, 9, 0, 0).unwrap();
            let members: Vec<Email> =
                ["a@x.cz", "b@x.cz", "c@x.cz"].iter().map(|m| m.parse().unwrap()).collect();
            let max_wait = Duration::seconds(10);
            let mut tr = Triggers::new(Duration::seconds(2), max_wait);
            let mut notes: Vec<(Email, Collection, DateTime<Utc>)> = notes
                .into_iter()
                .map(|(m, cal, ms)| {
                    let c = if cal { Collection::Calendar } else { Collection::Contacts };
                    (members[m].clone(), c, t0 + Duration::milliseconds(ms))
                })
                .collect();
            notes.sort_by_key(|n| n.2);
            let mut rounds = 0usize;
            let mut waiting: BTreeMap<(Email, Collection), DateTime<Utc>> = BTreeMap::new();
            // The notifications arrive in time order; due rounds are taken every 100 ms.
            let (mut clock, end, mut i) = (t0, t0 + Duration::seconds(60), 0);
            while clock <= end {
                while i < notes.len() && notes[i].2 <= clock {
                    let (m, c, at) = notes[i].clone();
                    waiting.entry((m.clone(), c)).or_insert(at);
                    tr.notify(m, c, sync_core::Side::Outlook, at);
                    i += 1;
                }
                let due = tr.take_due(clock);
                let (targets, n) = (due.targets, due.rounds);
                rounds += n;
                let taken: Vec<(Email, Collection)> = waiting
                    .keys()
                    .filter(|(m, c)| targets.of(m, Collections::BOTH).is_some_and(|t| t.has(*c)))
                    .cloned()
                    .collect();
                for key in taken {
                    let first = waiting.remove(&key).unwrap();
                    prop_assert!(
                        clock - first <= max_wait + Duration::milliseconds(100),
                        "a round came {} ms after the burst's first notification",
                        (clock - first).num_milliseconds()
                    );
                }
                clock += Duration::milliseconds(100);
            }
            prop_assert!(tr.is_empty(), "every burst was taken");
            prop_assert!(waiting.is_empty());
            prop_assert!(rounds <= notes.len(), "{} rounds for {} notifications", rounds, notes.len());
        }
    }
}

#[tokio::test]
async fn hints_skip_the_quiet_side_and_confirm_notified_deletions() {
    use sync_core::Collection;
    use sync_core::tenant::{Hints, Targets};
    let (org, jana, petr) = jana_and_petr();
    let (tenant, store) = (tenant_of(&org), MemoryTenantStore::new());
    assert!(round(&tenant, &store, &Policy::default()).await.is_clean());
    let jana_email: Email = "jana@acme.cz".parse().unwrap();
    let only_jana = || {
        Targets::Only(
            [(
                jana_email.clone(),
                sync_core::tenant::Collections::only(Collection::Calendar),
            )]
            .into(),
        )
    };
    let run = |hints: Hints| {
        let options = RoundOptions {
            targets: only_jana(),
            hints,
            ..RoundOptions::default()
        };
        let (tenant, store) = (&tenant, &store);
        async move {
            tenant
                .round(store, &Policy::default(), &options, now())
                .await
                .unwrap()
        }
    };

    // Outlook said Jana's calendar changed; Raynet said nothing: Raynet is not read, and a
    // Raynet change nobody notified waits for a round that reads it.
    let (raynet_reads, outlook_reads) = (
        jana.raynet_calendar.read_calls(),
        jana.outlook_calendar.read_calls(),
    );
    let kickoff = jana.raynet_calendar.ids()[0].clone();
    jana.raynet_calendar.insert(meeting("Unnotified", 30));
    let outlook_id = jana.outlook_calendar.ids()[0].clone();
    jana.outlook_calendar
        .edit(&outlook_id, |e| e.location = "Room 4".into());
    let mut hints = Hints::default();
    hints.changed(&jana_email, Collection::Calendar, Side::Outlook);
    let report = run(hints).await;
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(
        jana.raynet_calendar.read_calls(),
        raynet_reads,
        "the quiet side is not read"
    );
    assert_eq!(jana.outlook_calendar.read_calls(), outlook_reads + 1);
    assert_eq!(
        jana.raynet_calendar.get_item(&kickoff).unwrap().location,
        "Room 4"
    );
    assert_eq!(
        jana.outlook_calendar.len(),
        1,
        "Raynet's new meeting was not read yet"
    );
    assert_eq!(report.reports.len(), 1, "only Jana's calendar");

    // A notification about an item is routed to the scopes whose pairs hold it.
    let holders = sync_core::tenant::TenantStore::scopes_holding(
        &store,
        "acme",
        Collection::Calendar,
        Side::Raynet,
        &kickoff,
    )
    .await
    .unwrap();
    let holders: Vec<String> = holders.iter().map(ToString::to_string).collect();
    assert_eq!(holders, ["acme/jana@acme.cz/calendar"]);

    // A forged deletion of an item that exists deletes nothing.
    let mut forged = Hints::default();
    forged.deleted(
        &jana_email,
        Collection::Calendar,
        Side::Raynet,
        kickoff.clone(),
    );
    let report = run(forged).await;
    assert_eq!(writes(&report), 0);
    assert_eq!(jana.outlook_calendar.len(), 1);

    // A notified deletion that did happen reaches Outlook without reading Raynet's changes.
    let raynet_reads = jana.raynet_calendar.read_calls();
    assert!(jana.raynet_calendar.remove(&kickoff));
    assert_eq!(jana.outlook_calendar.len(), 1);
    let mut gone = Hints::default();
    gone.deleted(&jana_email, Collection::Calendar, Side::Raynet, kickoff);
    let report = run(gone).await;
    assert!(report.is_clean(), "{:?}", report.member_failures);
    assert_eq!(
        jana.raynet_calendar.read_calls(),
        raynet_reads,
        "confirmed by a get, not a read"
    );
    let titles: Vec<String> = jana
        .outlook_calendar
        .items()
        .into_iter()
        .map(|e| e.title)
        .collect();
    assert!(
        !titles.contains(&"Kickoff".to_owned()),
        "the deletion crossed: {titles:?}"
    );
    assert_eq!(petr.outlook_calendar.len(), 1, "Petr's round did not run");
}
