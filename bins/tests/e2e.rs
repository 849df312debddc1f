//! End-to-end: the real wiring (and, where it matters, the real binary) against both fake
//! servers over loopback, with the sample data of `raynet-sync demo`.

use chrono::{Duration, Utc};
use raynet_sync::demo::{INSTANCE, Sandbox};
use raynet_sync::store::SqliteStore;
use raynet_sync::wiring::{RoundOptions, TenantClients, TenantReport, sync_tenant};
use serde_json::json;

use crate::util::TempDir;

struct World {
    sandbox: Sandbox,
    store: SqliteStore,
    tenant: raynet_sync::config::TenantConfig,
    clients: TenantClients,
    _dir: TempDir,
}

impl World {
    async fn new(extra_sync: &str) -> Self {
        let dir = TempDir::new("e2e");
        let sandbox = Sandbox::start(Utc::now()).await.unwrap();
        let state = dir.path().join("state.db");
        let tenant = sandbox.tenant(&state, extra_sync).unwrap();
        let store = SqliteStore::open(&state).unwrap();
        let clients = TenantClients::new(&tenant).unwrap();
        Self {
            sandbox,
            store,
            tenant,
            clients,
            _dir: dir,
        }
    }

    async fn round(&self) -> TenantReport {
        let round = sync_tenant(
            &self.clients,
            &self.store,
            &self.tenant.sync.policy,
            RoundOptions::default(),
            Utc::now(),
        )
        .await
        .unwrap();
        for r in &round.reports {
            eprint!("{r}");
        }
        round
    }

    fn writes(round: &TenantReport) -> usize {
        round
            .reports
            .iter()
            .map(sync_core::RoundReport::writes)
            .sum()
    }

    fn outlook_subjects(&self, user: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .sandbox
            .graph
            .events(user)
            .iter()
            .filter(|e| e["type"] != "seriesMaster")
            .map(|e| e["subject"].as_str().unwrap_or_default().to_owned())
            .collect();
        v.sort();
        v
    }

    fn raynet_titles(&self, person: u64) -> Vec<String> {
        let inst = self.sandbox.raynet.instance(INSTANCE);
        let mut v = Vec::new();
        for entity in ["meeting", "event"] {
            for id in inst.ids(entity) {
                let rec = inst.record(entity, id).unwrap();
                if rec.pointer("/owner/id").and_then(serde_json::Value::as_u64) == Some(person) {
                    v.push(rec["title"].as_str().unwrap_or_default().to_owned());
                }
            }
        }
        v.sort();
        v
    }

    fn contacts(&self, user: &str) -> Vec<serde_json::Value> {
        let folders = self.sandbox.graph.contact_folders(user);
        folders
            .iter()
            .filter(|(_, name)| name == "Raynet")
            .flat_map(|(id, _)| self.sandbox.graph.contacts(user, id))
            .collect()
    }
}

#[tokio::test]
async fn first_round_copies_both_ways_and_contacts_one_way_then_goes_idle() {
    let w = World::new("").await;
    let d = w.sandbox.data.clone();
    let r1 = w.round().await;
    assert!(r1.is_clean(), "{:?}", r1.member_failures);
    // Raynet → Outlook: Jana's meetings and events.
    let subjects = w.outlook_subjects(&d.jana);
    assert!(
        subjects.iter().any(|s| s == "Obchodní jednání – Acme"),
        "{subjects:?}"
    );
    assert!(
        subjects.iter().any(|s| s == "Veletrh MSV Brno"),
        "{subjects:?}"
    );
    // Outlook → Raynet: Jana's own appointments become Raynet events.
    let titles = w.raynet_titles(d.jana_person);
    assert!(
        titles.iter().any(|t| t == "Customer call – Brno"),
        "{titles:?}"
    );
    assert!(
        !titles.iter().any(|t| t == "Partner webinar"),
        "invited events are skipped by default"
    );
    assert!(
        !titles.iter().any(|t| t == "Dentist"),
        "private events are skipped by default"
    );
    // Contacts one way into the folder "Raynet".
    let contacts = w.contacts(&d.jana);
    assert!(contacts.len() >= 4, "{contacts:?}");
    // Findings: an owner who is not a member, a member without Raynet, the integration user.
    let notes: Vec<String> = r1.findings.iter().map(ToString::to_string).collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("Boss owns the group but is not a member")),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|n| n.contains("Eva Svobodová")),
        "{notes:?}"
    );
    // A second round with no edits makes zero writes.
    let r2 = w.round().await;
    assert_eq!(World::writes(&r2), 0);
    assert!(r2.is_clean());
}

/// Idle rounds read Raynet once per resource for the whole instance (not once per member), and
/// the deletion scan lists the instance's ids once, on its schedule.
#[tokio::test]
async fn idle_rounds_read_raynet_once_per_resource_for_all_members() {
    let w = World::new("deletion_scan_every = 2").await;
    let quiet = || {
        // Rounds 15 minutes apart: the watermark overlap (2 minutes) no longer re-reads the
        // seeding and the previous round's writes.
        w.sandbox.raynet.advance_clock(Duration::minutes(15));
        w.sandbox.raynet.reset_counters();
    };
    let counts = |pairs: &[(&str, u64)]| -> std::collections::BTreeMap<String, u64> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    };
    quiet();
    let first = w.round().await;
    assert!(first.is_clean());
    let members = first
        .reports
        .iter()
        .map(|r| r.scope.member.clone())
        .collect::<std::collections::BTreeSet<_>>();
    assert!(members.len() >= 2, "{members:?}");
    quiet();
    assert!(w.round().await.is_clean()); // reads back the first round's writes; no scan due
    quiet();
    let scanned = w.round().await;
    assert_eq!(World::writes(&scanned), 0);
    assert_eq!(
        w.sandbox.raynet.request_counts(),
        counts(&[
            ("GET /meeting/", 2),
            ("GET /event/", 2),
            ("GET /person/", 2)
        ]),
        "one changed-rows read and one id scan per resource, for {} members",
        members.len()
    );
    quiet();
    let graph_before = w.sandbox.graph.requests().len();
    let idle = w.round().await;
    assert_eq!(World::writes(&idle), 0);
    assert!(idle.is_clean());
    let graph: Vec<_> = w.sandbox.graph.requests()[graph_before..].to_vec();
    let http: Vec<&str> = graph
        .iter()
        .filter(|r| !r.in_batch)
        .map(|r| r.endpoint.as_str())
        .collect();
    // Graph replays the previous round's last item (the fake always does); when that is an
    // occurrence of the sandbox's series, its master is fetched to complete it: one GET.
    let masters = http.iter().filter(|e| **e == "events.get").count();
    assert!(masters <= 1, "{graph:#?}");
    assert_eq!(
        http.iter()
            .filter(|e| **e != "events.get")
            .collect::<Vec<_>>(),
        vec![&"batch"],
        "the members' calendar and contact delta reads in one $batch; membership kept: {graph:#?}"
    );
    assert_eq!(
        graph.iter().filter(|r| r.in_batch).count(),
        2 * members.len(),
        "one calendar and one contacts delta per member"
    );
    assert_eq!(
        w.sandbox.raynet.request_counts(),
        counts(&[
            ("GET /meeting/", 1),
            ("GET /event/", 1),
            ("GET /person/", 1)
        ]),
        "no scan due: three requests for the instance"
    );
    // A Raynet deletion is seen by the next scan and reaches Outlook.
    let d = w.sandbox.data.clone();
    let inst = w.sandbox.raynet.instance(INSTANCE);
    inst.remove("event", d.events[1]).unwrap();
    quiet();
    w.round().await;
    assert!(
        !w.outlook_subjects(&d.jana)
            .iter()
            .any(|s| s == "Školení CRM"),
        "deleted in Outlook after the shared scan"
    );
}

/// Outlook edits reach Raynet with one partial update each (the version check goes through the
/// round's shared listing, nothing is read back), and the next round, which reads the written
/// records again, has nothing to do: what the engine recorded is what Raynet holds.
#[tokio::test]
async fn outlook_edits_reach_raynet_without_read_backs_and_do_not_echo() {
    let w = World::new("").await;
    let d = w.sandbox.data.clone();
    let quiet = || {
        w.sandbox.raynet.advance_clock(Duration::minutes(15));
        w.sandbox.raynet.reset_counters();
    };
    quiet();
    assert!(w.round().await.is_clean());
    quiet();
    assert!(w.round().await.is_clean());
    quiet();
    w.sandbox.graph.edit_event(
        &d.jana,
        &d.customer_call,
        &json!({
            "subject": "Customer call – Brno (moved)",
            "location": {"displayName": "Teams"},
            "body": {"contentType": "text", "content": "Agenda:\n1. prices\n2. delivery"},
        }),
    );
    let r = w.round().await;
    assert!(r.is_clean(), "{:?}", r.member_failures);
    let inst = w.sandbox.raynet.instance(INSTANCE);
    let call = inst
        .ids("event")
        .into_iter()
        .filter_map(|id| inst.record("event", id))
        .find(|r| r["title"] == "Customer call – Brno (moved)")
        .expect("the Outlook edit reached Raynet");
    assert_eq!(call["meetingPlace"], "Teams");
    let counts = w.sandbox.raynet.request_counts();
    assert_eq!(counts.get("POST /event/{id}/"), Some(&1), "{counts:?}");
    assert_eq!(
        counts.get("GET /event/{id}/"),
        None,
        "no read of the record before or after: {counts:?}"
    );
    for _ in 0..2 {
        quiet();
        let next = w.round().await;
        assert!(next.is_clean());
        assert_eq!(World::writes(&next), 0, "no echo of the written edit");
    }
}

/// A meeting reassigned in Raynet moves from the first owner's Outlook calendar to the new
/// owner's (one Raynet record, one Outlook copy, in the right mailbox).
#[tokio::test]
async fn a_meeting_reassigned_in_raynet_moves_to_the_new_owners_calendar() {
    let w = World::new("").await;
    let d = w.sandbox.data.clone();
    assert!(w.round().await.is_clean());
    let title = "Obchodní jednání – Acme";
    assert!(w.outlook_subjects(&d.jana).iter().any(|s| s == title));
    assert!(!w.outlook_subjects(&d.petr).iter().any(|s| s == title));
    let inst = w.sandbox.raynet.instance(INSTANCE);
    inst.edit("meeting", d.meetings[0], &json!({"owner": d.petr_person}))
        .unwrap();
    let r = w.round().await;
    assert!(r.is_clean(), "{:?}", r.member_failures);
    assert!(
        !w.outlook_subjects(&d.jana).iter().any(|s| s == title),
        "gone from Jana's calendar"
    );
    assert_eq!(
        w.outlook_subjects(&d.petr)
            .iter()
            .filter(|s| *s == title)
            .count(),
        1,
        "in Petr's, once"
    );
    assert!(
        inst.record("meeting", d.meetings[0]).is_some(),
        "kept in Raynet"
    );
    assert_eq!(World::writes(&w.round().await), 0, "then quiet");
}

#[tokio::test]
async fn edits_creates_and_deletes_propagate_both_ways() {
    let w = World::new("").await;
    let d = w.sandbox.data.clone();
    w.round().await;
    let inst = w.sandbox.raynet.instance(INSTANCE);
    // Raynet edits and deletes.
    let meeting = d.meetings[0];
    inst.edit("meeting", meeting, &json!({"meetingPlace": "Zasedačka 3"}))
        .unwrap();
    inst.remove("event", d.events[1]).unwrap();
    // Outlook edits, creates and deletes.
    w.sandbox.graph.edit_event(
        &d.jana,
        &d.customer_call,
        &json!({"location": {"displayName": "Teams"}}),
    );
    let t = Utc::now() + Duration::days(3);
    w.sandbox.graph.add_event(
        &d.jana,
        graph_client::fake::EventSeed::new("New from Outlook", t, t + Duration::hours(1)),
    );
    let r = w.round().await;
    assert!(r.is_clean(), "{:?}", r.member_failures);
    let events = w.sandbox.graph.events(&d.jana);
    let acme = events
        .iter()
        .find(|e| e["subject"] == "Obchodní jednání – Acme")
        .unwrap();
    assert_eq!(acme["location"]["displayName"], "Zasedačka 3");
    assert!(
        !w.outlook_subjects(&d.jana)
            .iter()
            .any(|s| s == "Školení CRM"),
        "Raynet deletion reached Outlook"
    );
    let titles = w.raynet_titles(d.jana_person);
    assert!(titles.iter().any(|t| t == "New from Outlook"), "{titles:?}");
    let call = inst
        .ids("event")
        .into_iter()
        .filter_map(|id| inst.record("event", id))
        .find(|r| r["title"] == "Customer call – Brno")
        .unwrap();
    assert_eq!(call["meetingPlace"], "Teams");
    // Outlook deletion → cancelled in Raynet (the default), kept.
    w.sandbox.graph.delete_event(&d.jana, &d.customer_call);
    let r = w.round().await;
    assert!(r.is_clean());
    let call = inst
        .ids("event")
        .into_iter()
        .filter_map(|id| inst.record("event", id))
        .find(|r| r["title"] == "Customer call – Brno")
        .expect("kept in Raynet");
    assert_eq!(call["status"], "CANCELLED");
    assert_eq!(World::writes(&w.round().await), 0);
}

#[tokio::test]
async fn two_sided_edits_to_different_fields_both_survive_and_conflicts_follow_the_policy() {
    let w = World::new("conflict = \"outlook\"\n").await;
    let d = w.sandbox.data.clone();
    w.round().await;
    let inst = w.sandbox.raynet.instance(INSTANCE);
    let meeting = d.meetings[0];
    let outlook_id = w
        .sandbox
        .graph
        .events(&d.jana)
        .iter()
        .find(|e| e["subject"] == "Obchodní jednání – Acme")
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .unwrap();
    inst.edit(
        "meeting",
        meeting,
        &json!({"meetingPlace": "From Raynet", "title": "Title from Raynet"}),
    )
    .unwrap();
    w.sandbox.graph.edit_event(&d.jana, &outlook_id, &json!({"subject": "Title from Outlook", "body": {"contentType": "text", "content": "Body from Outlook"}}));
    let r = w.round().await;
    assert!(r.is_clean());
    let conflicts: Vec<_> = r.reports.iter().flat_map(|r| r.conflicts.iter()).collect();
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert_eq!(conflicts[0].field, "title");
    let rec = inst.record("meeting", meeting).unwrap();
    assert_eq!(rec["title"], "Title from Outlook", "conflict = outlook");
    assert_eq!(rec["meetingPlace"], "From Raynet");
    assert!(
        rec["description"]
            .as_str()
            .unwrap_or_default()
            .contains("Body from Outlook")
    );
    let ev = w.sandbox.graph.event(&d.jana, &outlook_id).unwrap();
    assert_eq!(ev["location"]["displayName"], "From Raynet");
    assert_eq!(World::writes(&w.round().await), 0);
}

#[tokio::test]
async fn sync_modes_choose_what_is_synced() {
    use raynet_sync::config::SyncMode;
    for (mode, meetings, contacts) in [
        (SyncMode::Meetings, true, false),
        (SyncMode::Contacts, false, true),
        (SyncMode::Both, true, true),
    ] {
        let w = World::new("").await;
        let mut tenant = w.tenant.clone();
        tenant.sync.mode = mode;
        let clients = TenantClients::new(&tenant).unwrap();
        let d = w.sandbox.data.clone();
        let round = sync_tenant(
            &clients,
            &w.store,
            &tenant.sync.policy,
            RoundOptions::default(),
            Utc::now(),
        )
        .await
        .unwrap();
        assert!(round.is_clean());
        let has_meetings = w
            .outlook_subjects(&d.jana)
            .iter()
            .any(|s| s == "Obchodní jednání – Acme");
        assert_eq!(has_meetings, meetings, "mode {mode:?}");
        assert_eq!(!w.contacts(&d.jana).is_empty(), contacts, "mode {mode:?}");
    }
}

#[tokio::test]
async fn a_member_added_to_and_removed_from_the_group() {
    let w = World::new("").await;
    let d = w.sandbox.data.clone();
    w.round().await;
    // Petr leaves the group: his calendar is no longer synced.
    w.sandbox
        .graph
        .set_group_members("Raynet Sync", &[d.jana.as_str()]);
    // Within `membership_refresh_seconds` (an hour by default) the kept membership is used:
    // no directory request, Petr is still served.
    let before = w.sandbox.graph.request_count("groups.transitiveMembers");
    let r = w.round().await;
    assert!(
        r.reports.iter().any(|r| r.scope.member.starts_with("petr")),
        "the membership read in the first round is kept"
    );
    assert_eq!(
        w.sandbox.graph.request_count("groups.transitiveMembers"),
        before
    );
    // Once it is read again, Petr is no longer synced.
    w.clients.tenant.forget_membership();
    let t = Utc::now() + Duration::days(2);
    w.sandbox.graph.add_event(
        &d.petr,
        graph_client::fake::EventSeed::new("Petr after leaving", t, t + Duration::hours(1)),
    );
    let r = w.round().await;
    assert!(
        r.reports
            .iter()
            .all(|r| !r.scope.member.starts_with("petr")),
        "Petr is no longer synced"
    );
    assert!(
        !w.raynet_titles(d.petr_person)
            .iter()
            .any(|t| t == "Petr after leaving")
    );
    // Petr comes back: his new appointment is synced.
    w.sandbox
        .graph
        .set_group_members("Raynet Sync", &[d.jana.as_str(), d.petr.as_str()]);
    w.clients.tenant.forget_membership();
    let r = w.round().await;
    assert!(
        r.reports
            .iter()
            .any(|r| r.scope.member.starts_with("petr") && r.created.raynet == 1),
        "{:?}",
        r.reports
    );
}

/// Which mailboxes' reads of `endpoint` among `requests` resumed from a delta token.
fn delta_reads(
    requests: &[graph_client::fake::RequestRecord],
    endpoint: &str,
) -> (Vec<String>, Vec<String>) {
    let mut resumed = Vec::new();
    let mut complete = Vec::new();
    for r in requests.iter().filter(|r| r.endpoint == endpoint) {
        let mailbox = r.mailbox.clone().unwrap_or_default();
        if r.query_names.iter().any(|q| q == "$deltatoken") {
            resumed.push(mailbox);
        } else if !r.query_names.iter().any(|q| q == "$skiptoken") {
            complete.push(mailbox);
        }
    }
    resumed.sort();
    resumed.dedup();
    complete.sort();
    complete.dedup();
    (resumed, complete)
}

/// Graph moved to another address (`graph_base_url` changed between rounds, the same service
/// behind it): the stored delta links name the old host and are never sent; each mailbox is
/// read completely once, nothing is deleted or written, and the next round resumes from the
/// new links.
#[tokio::test]
async fn a_changed_graph_base_url_costs_one_complete_read_and_deletes_nothing() {
    let mut w = World::new("").await;
    let d = w.sandbox.data.clone();
    assert!(w.round().await.is_clean());
    let settled = w.round().await;
    assert_eq!(World::writes(&settled), 0);
    let (outlook, raynet, contacts) = (
        w.outlook_subjects(&d.jana),
        w.raynet_titles(d.jana_person),
        w.contacts(&d.jana),
    );

    let moved_to = w.sandbox.graph.serve_also_on_new_address().await.unwrap();
    assert_ne!(moved_to, w.tenant.microsoft.graph_base_url.as_str());
    w.tenant.microsoft.graph_base_url = moved_to.parse().unwrap();
    w.clients = TenantClients::new(&w.tenant).unwrap();

    let mark = w.sandbox.graph.requests().len();
    let moved = w.round().await;
    assert!(moved.is_clean(), "{:?}", moved.member_failures);
    for r in &moved.reports {
        assert!(r.failures.is_empty(), "{r}");
        assert_eq!(r.writes(), 0, "a complete re-read writes nothing: {r}");
    }
    assert_eq!(w.outlook_subjects(&d.jana), outlook);
    assert_eq!(w.raynet_titles(d.jana_person), raynet);
    assert_eq!(w.contacts(&d.jana), contacts);
    let requests = w.sandbox.graph.requests()[mark..].to_vec();
    for endpoint in ["calendarView.delta", "contacts.delta"] {
        let (resumed, complete) = delta_reads(&requests, endpoint);
        assert!(resumed.is_empty(), "{endpoint}: no old link is sent");
        assert!(complete.contains(&d.jana), "{endpoint}: {complete:?}");
    }

    let mark = w.sandbox.graph.requests().len();
    let after = w.round().await;
    assert!(after.is_clean());
    assert_eq!(World::writes(&after), 0);
    let requests = w.sandbox.graph.requests()[mark..].to_vec();
    for endpoint in ["calendarView.delta", "contacts.delta"] {
        let (resumed, complete) = delta_reads(&requests, endpoint);
        assert!(complete.is_empty(), "{endpoint}: incremental again");
        assert!(resumed.contains(&d.jana), "{endpoint}: {resumed:?}");
    }
}

/// `check` on a group named by its display name says its id and how to pin it; a config
/// that names the id runs no look-up by name at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_names_the_group_id_and_a_configured_id_needs_no_look_up() {
    let dir = TempDir::new("group-id");
    let sandbox = Sandbox::start(Utc::now()).await.unwrap();
    let by_name = sandbox.config_toml(&dir.path().join("state.db"), "");
    let check = |text: String| {
        let config = dir.write("raynet-sync.toml", &text);
        async move {
            let run = crate::util::run_against_sandbox(&config, &["check"], "warn").await;
            assert_eq!(run.code, 0, "{}", run.stderr);
            run.stdout
        }
    };
    let said = check(by_name.clone()).await;
    let id = said
        .split("has the id ")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .unwrap_or_else(|| panic!("no group id in {said}"))
        .to_owned();
    assert!(graph_client::client::is_object_id(&id), "{id}");
    assert!(said.contains(&format!("group = \"{id}\"")), "{said}");
    assert_eq!(sandbox.graph.request_count("groups.get"), 0);

    let lookups = sandbox.graph.request_count("groups.list");
    let by_id = by_name.replace("group = \"Raynet Sync\"", &format!("group = \"{id}\""));
    let said = check(by_id).await;
    assert!(!said.contains("has the id"), "{said}");
    assert!(said.contains(&format!("group {id} found")), "{said}");
    assert_eq!(
        sandbox.graph.request_count("groups.list"),
        lookups,
        "no look-up by name"
    );
}

/// A re-create is a new attempt with its own `transactionId` (Exchange's duplicate detection
/// could answer a reused one with the deleted item), and a retry of that attempt whose answer
/// was lost still lands once.
#[tokio::test]
async fn a_re_created_event_gets_a_new_transaction_id_and_a_lost_answer_lands_once() {
    let w = World::new(r#"delete_vs_edit = "keep-edit""#).await;
    let d = w.sandbox.data.clone();
    assert!(w.round().await.is_clean());
    let inst = w.sandbox.raynet.instance(INSTANCE);
    let meeting = d
        .meetings
        .iter()
        .copied()
        .find(|id| {
            inst.record("meeting", *id)
                .and_then(|r| r.pointer("/owner/id").and_then(serde_json::Value::as_u64))
                == Some(d.jana_person)
        })
        .expect("a meeting of Jana's");
    let title = inst.record("meeting", meeting).unwrap()["title"]
        .as_str()
        .unwrap()
        .to_owned();
    let copies = |subject: &str| -> Vec<serde_json::Value> {
        w.sandbox
            .graph
            .events(&d.jana)
            .into_iter()
            .filter(|e| e["subject"] == subject)
            .collect()
    };
    let first = copies(&title);
    assert_eq!(first.len(), 1, "{title}");
    let first_txn = first[0]["transactionId"].as_str().unwrap().to_owned();

    // Deleted in Outlook, edited in Raynet: under keep-edit the edit wins and Outlook gets the
    // meeting again; the create's answer is lost once.
    assert!(
        w.sandbox
            .graph
            .delete_event(&d.jana, first[0]["id"].as_str().unwrap())
    );
    inst.edit("meeting", meeting, &json!({"title": "Kickoff, moved"}))
        .unwrap();
    w.sandbox.graph.inject(
        graph_client::fake::Fault::lost_response(504)
            .on("events.create")
            .times(1),
    );
    w.round().await;
    w.round().await;
    let again = copies("Kickoff, moved");
    assert_eq!(again.len(), 1, "the lost answer's create landed once");
    let again_txn = again[0]["transactionId"].as_str().unwrap();
    assert_ne!(again_txn, first_txn, "a new attempt, a new transactionId");
    assert!(
        w.sandbox.graph.status_count(504) >= 1,
        "the answer was lost"
    );
    let settled = w.round().await;
    assert_eq!(World::writes(&settled), 0);
    assert_eq!(copies("Kickoff, moved").len(), 1);
    assert_eq!(
        w.raynet_titles(d.jana_person)
            .iter()
            .filter(|t| *t == "Kickoff, moved")
            .count(),
        1
    );
}
