//! A whole tenant's round as library code (`sync_core::tenant`), over an organisation in memory
//! (`testing::MemoryOrg`) and `MemoryTenantStore`: what an embedder runs without our binary.

use std::time::Duration;

use sync_core::tenant::{
    Finding, MemberError, MemoryTenantStore, RoundOptions, Tenant, TenantReport,
};
use sync_core::testing::{Faults, MemoryOrg};
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
    let report = round(
        &tenant_of(&org),
        &MemoryTenantStore::new(),
        &Policy::default(),
    )
    .await;
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
        let mut e = outlook_event("Roundtable", 5);
        e.organizer = Some(Organizer {
            email: Some("host@partner.com".parse().unwrap()),
            name: String::new(),
        });
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
    let mut e = outlook_event("Webinar", 5);
    e.organizer = Some(Organizer {
        email: Some("events@partner.com".parse().unwrap()),
        name: String::new(),
    });
    eva.outlook_calendar.insert(e);
    round(
        &tenant_of(&org),
        &MemoryTenantStore::new(),
        &Policy::default(),
    )
    .await;
    assert!(eva.raynet_calendar.is_empty());
}

#[tokio::test]
async fn a_failing_mailbox_never_stops_the_other_members() {
    let org = MemoryOrg::new();
    let jana = org.add_member("jana@acme.cz");
    let petr = org.add_member("petr@acme.cz");
    jana.raynet_calendar.insert(meeting("Kickoff", 24));
    petr.raynet_calendar.insert(meeting("Review", 26));
    jana.outlook_calendar.set_faults(Faults {
        failing_reads: 1,
        failing_writes: 5,
        ..Faults::default()
    });
    let report = round(
        &tenant_of(&org),
        &MemoryTenantStore::new(),
        &Policy::default(),
    )
    .await;
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
    let report = round(
        &tenant_of(&org),
        &MemoryTenantStore::new(),
        &Policy::default(),
    )
    .await;
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
