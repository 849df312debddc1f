//! Meetings between people of one tenant, end to end, with the fake Graph delivering
//! invitations as Exchange does (on by default): a meeting organised in one mailbox lands in
//! every internal attendee's calendar as their own copy (same `iCalUId`, `isOrganizer:
//! false`), follows the organiser's changes and is marked cancelled when the organiser
//! deletes it. The sync must still make exactly one Raynet record per meeting, owned by the
//! organiser, and carry each organiser change to Raynet once (DESIGN §4, "Owner").
//!
//! The sample data (see `rules.rs`): served members Jana and Petr (`…@acme.test`); Boss
//! (`boss@acme.test`) has a mailbox in the tenant but is only an owner of the group, so not
//! served. "Now" is fixed at Wednesday 25 November 2026, noon UTC.

use chrono::{DateTime, Duration, TimeZone as _, Utc};
use graph_client::fake::EventSeed;
use raynet_client::fake::{ActivitySeed, FakeInstance};
use raynet_sync::demo::{INSTANCE, Sandbox};
use raynet_sync::store::SqliteStore;
use raynet_sync::wiring::{RoundOptions, TenantClients, TenantReport, sync_tenant};
use serde_json::{Value, json};

use crate::util::TempDir;

const JANA: &str = "jana.novakova@acme.test";
const PETR: &str = "petr.dvorak@acme.test";
const BOSS: &str = "boss@acme.test";

fn fixed_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap()
}

fn utc(s: &str) -> DateTime<Utc> {
    Utc.from_utc_datetime(&chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap())
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_owned()
}

fn attendees(ev: &Value) -> Vec<String> {
    let mut v: Vec<String> = ev["attendees"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            a["emailAddress"]["address"]
                .as_str()
                .unwrap()
                .to_ascii_lowercase()
        })
        .collect();
    v.sort();
    v
}

/// A Raynet record's time as Prague wall-clock time (`yyyy-mm-dd HH:MM`).
fn prague(rec: &Value, key: &str) -> String {
    let raw = text(rec, key);
    DateTime::parse_from_rfc3339(&raw)
        .unwrap_or_else(|e| panic!("{key} = {raw:?}: {e}"))
        .with_timezone(&chrono_tz::Europe::Prague)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

struct World {
    sandbox: Sandbox,
    store: SqliteStore,
    tenant: raynet_sync::config::TenantConfig,
    clients: TenantClients,
    jana: String,
    petr: String,
    _dir: TempDir,
}

impl World {
    async fn new(extra_sync: &str) -> Self {
        let dir = TempDir::new("invitations");
        let sandbox = Sandbox::start(fixed_now()).await.unwrap();
        let state = dir.path().join("state.db");
        let tenant = sandbox.tenant(&state, extra_sync).unwrap();
        let store = SqliteStore::open(&state).unwrap();
        let clients = TenantClients::new(&tenant).unwrap();
        Self {
            jana: sandbox.data.jana.clone(),
            petr: sandbox.data.petr.clone(),
            sandbox,
            store,
            tenant,
            clients,
            _dir: dir,
        }
    }

    /// One clean round.
    async fn round(&self) -> TenantReport {
        let round = sync_tenant(
            &self.clients,
            &self.store,
            &self.tenant.sync.policy,
            RoundOptions::default(),
            fixed_now(),
        )
        .await
        .unwrap();
        for r in &round.reports {
            eprint!("{r}");
        }
        assert!(round.is_clean(), "{:?}", round.member_failures);
        round
    }

    fn inst(&self) -> FakeInstance<'_> {
        self.sandbox.raynet.instance(INSTANCE)
    }

    /// The Raynet calendar records (meetings and events) with this title, as (entity, id,
    /// record).
    fn raynet_titled(&self, title: &str) -> Vec<(&'static str, u64, Value)> {
        let inst = self.inst();
        let mut v = Vec::new();
        for entity in ["meeting", "event"] {
            for id in inst.ids(entity) {
                let rec = inst.record(entity, id).unwrap();
                if rec["title"] == title {
                    v.push((entity, id, rec));
                }
            }
        }
        v
    }

    fn raynet_one(&self, title: &str) -> (&'static str, u64, Value) {
        let mut v = self.raynet_titled(title);
        assert_eq!(v.len(), 1, "records titled {title:?}: {v:?}");
        v.remove(0)
    }

    /// The events of a mailbox whose subject is `subject` (or `Canceled: {subject}`).
    fn outlook_titled(&self, user: &str, subject: &str) -> Vec<Value> {
        let cancelled = format!("Canceled: {subject}");
        self.sandbox
            .graph
            .events(user)
            .into_iter()
            .filter(|e| e["subject"] == subject || e["subject"] == cancelled.as_str())
            .collect()
    }

    fn outlook_one(&self, user: &str, subject: &str) -> Value {
        let mut v = self.outlook_titled(user, subject);
        assert_eq!(v.len(), 1, "events titled {subject:?}: {v:?}");
        v.remove(0)
    }

    /// The Graph user id of an address (through the fake's `GET /users/{upn}`).
    async fn user_id(&self, address: &str) -> String {
        let client = self.sandbox.graph.client_builder().build().unwrap();
        client.users().get(address).await.unwrap().id
    }
}

/// Raynet writes of a round (creates, updates, deletes on the Raynet side).
fn raynet_writes(r: &TenantReport) -> usize {
    r.reports
        .iter()
        .map(|r| r.created.raynet + r.updated.raynet + r.deleted.raynet)
        .sum()
}

/// Writes of a round on both sides.
fn writes(r: &TenantReport) -> usize {
    r.reports.iter().map(sync_core::RoundReport::writes).sum()
}

/// The reasons items were skipped in a round.
fn skip_reasons(r: &TenantReport) -> Vec<String> {
    r.reports
        .iter()
        .flat_map(|r| r.skipped.iter())
        .map(|s| s.reason.clone())
        .collect()
}

/// A Raynet meeting of Jana with Petr (a served member) as participant becomes one Outlook
/// event in Jana's calendar, and Exchange delivers Petr his copy; Petr's copy never makes a
/// second Raynet record, however many rounds run.
#[tokio::test]
async fn a_raynet_meeting_with_a_served_participant_is_one_event_plus_exchanges_copy() {
    let w = World::new("").await;
    let meeting = w
        .inst()
        .add_meeting(
            ActivitySeed::new("Quarterly planning", w.sandbox.data.jana_person)
                .scheduled_local("2026-11-27 10:00", "2026-11-27 11:00")
                .participant(w.sandbox.data.petr_person),
        )
        .unwrap();
    let first = w.round().await;

    // Jana's calendar: the event the sync wrote, organised by Jana, Petr invited.
    let organised = w.outlook_one(&w.jana, "Quarterly planning");
    assert_eq!(organised["isOrganizer"], true);
    assert_eq!(attendees(&organised), vec![PETR.to_owned()]);
    // Petr's calendar: Exchange's copy, not the sync's.
    let copy = w.outlook_one(&w.petr, "Quarterly planning");
    assert_eq!(copy["isOrganizer"], false);
    assert_eq!(copy["iCalUId"], organised["iCalUId"]);
    assert_ne!(copy["id"], organised["id"]);
    assert_eq!(copy["organizer"]["emailAddress"]["address"], JANA);
    assert_eq!(copy["start"], organised["start"]);

    // Petr's round sees the copy (in the first round or the next, as the members' rounds
    // run side by side) and leaves it to Jana's calendar.
    let mut reasons = skip_reasons(&first);
    for _ in 0..3 {
        let r = w.round().await;
        assert_eq!(writes(&r), 0, "an idle round wrote: {:?}", r.reports);
        reasons.extend(skip_reasons(&r));
    }
    assert_eq!(
        reasons
            .iter()
            .filter(|s| s.contains(&format!("organised by {JANA}, who is served")))
            .count(),
        1,
        "{reasons:?}"
    );
    let (entity, id, rec) = w.raynet_one("Quarterly planning");
    assert_eq!((entity, id), ("meeting", meeting));
    assert_eq!(
        rec.pointer("/owner/id").and_then(Value::as_u64),
        Some(w.sandbox.data.jana_person)
    );
    assert_eq!(w.outlook_titled(&w.jana, "Quarterly planning").len(), 1);
    assert_eq!(w.outlook_titled(&w.petr, "Quarterly planning").len(), 1);

    // A Raynet edit reaches Jana's event, and Exchange carries it to Petr's copy; still one
    // record.
    w.inst()
        .edit(
            "meeting",
            meeting,
            &json!({"title": "Quarterly planning (Q1)"}),
        )
        .unwrap();
    w.round().await;
    let copy = w.outlook_one(&w.petr, "Quarterly planning (Q1)");
    assert_eq!(copy["isOrganizer"], false);
    let r = w.round().await;
    assert_eq!(writes(&r), 0, "{:?}", r.reports);
    w.raynet_one("Quarterly planning (Q1)");
    assert!(w.raynet_titled("Quarterly planning").is_empty());
}

/// An Outlook meeting Petr organises with Jana invited: Exchange puts a copy in Jana's
/// calendar; the sync makes one Raynet record owned by Petr. Petr's later edit reaches Raynet
/// once, and so does his deletion (which Exchange turns into a cancelled copy in Jana's
/// calendar): the record is marked cancelled (`outlook_deletes = "cancel"`, the default).
#[tokio::test]
async fn an_outlook_meeting_between_served_members_is_one_record_owned_by_the_organiser() {
    let w = World::new("").await;
    let t = utc("2026-11-30 14:00");
    let event = w.sandbox.graph.add_event(
        &w.petr,
        EventSeed::new("Budget review", t, t + Duration::hours(1)).attendee(JANA),
    );
    let copy = w.outlook_one(&w.jana, "Budget review");
    assert_eq!(copy["isOrganizer"], false);

    let first = w.round().await;
    let (_, record, rec) = w.raynet_one("Budget review");
    assert_eq!(
        rec.pointer("/owner/id").and_then(Value::as_u64),
        Some(w.sandbox.data.petr_person)
    );
    assert!(
        skip_reasons(&first)
            .iter()
            .any(|s| s.contains(&format!("organised by {PETR}, who is served"))),
        "{:?}",
        skip_reasons(&first)
    );
    let r = w.round().await;
    assert_eq!(writes(&r), 0, "{:?}", r.reports);

    // Petr moves it and renames it: one Raynet update; Jana's copy follows, and adds nothing.
    assert!(w.sandbox.graph.edit_event(
        &w.petr,
        &event,
        &json!({
            "subject": "Budget review (final)",
            "start": {"dateTime": "2026-11-30T15:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-11-30T16:00:00", "timeZone": "UTC"},
        }),
    ));
    assert_eq!(
        text(&w.outlook_one(&w.jana, "Budget review (final)"), "subject"),
        "Budget review (final)"
    );
    let r = w.round().await;
    assert_eq!(raynet_writes(&r), 1, "{:?}", r.reports);
    assert_eq!(writes(&r), 1, "{:?}", r.reports);
    let (_, same, rec) = w.raynet_one("Budget review (final)");
    assert_eq!(same, record);
    assert_eq!(prague(&rec, "scheduledFrom"), "2026-11-30 16:00");
    let r = w.round().await;
    assert_eq!(writes(&r), 0, "{:?}", r.reports);

    // Petr deletes the meeting: Jana's copy says cancelled; Raynet gets one cancellation.
    assert!(w.sandbox.graph.delete_event(&w.petr, &event));
    let copy = w.outlook_one(&w.jana, "Budget review (final)");
    assert_eq!(copy["isCancelled"], true);
    assert_eq!(text(&copy, "subject"), "Canceled: Budget review (final)");
    let r = w.round().await;
    assert_eq!(raynet_writes(&r), 1, "{:?}", r.reports);
    assert_eq!(writes(&r), 1, "{:?}", r.reports);
    let (_, same, rec) = w.raynet_one("Budget review (final)");
    assert_eq!(same, record);
    assert_eq!(rec["status"], "CANCELLED");
    for _ in 0..2 {
        let r = w.round().await;
        assert_eq!(writes(&r), 0, "{:?}", r.reports);
    }
    assert!(
        w.raynet_titled("Canceled: Budget review (final)")
            .is_empty()
    );
}

/// An invitation from a colleague who is in the tenant but not served (Boss), delivered by
/// Exchange to Jana and Petr, never reaches Raynet under `invited_events = "skip"` (the
/// default) — neither when it arrives, nor when Boss changes or cancels it.
#[tokio::test]
async fn a_colleagues_invitation_never_reaches_raynet_under_skip() {
    let w = World::new("invited_events = \"skip\"\n").await;
    let boss = w.user_id(BOSS).await;
    let t = utc("2026-12-02 09:00");
    let event = w.sandbox.graph.add_event(
        &boss,
        EventSeed::new("Strategy offsite", t, t + Duration::hours(3))
            .attendee(JANA)
            .attendee(PETR),
    );
    for user in [&w.jana, &w.petr] {
        let copy = w.outlook_one(user, "Strategy offsite");
        assert_eq!(copy["organizer"]["emailAddress"]["address"], BOSS);
        assert_eq!(copy["isOrganizer"], false);
    }
    let r = w.round().await;
    let reasons = skip_reasons(&r);
    assert_eq!(
        reasons
            .iter()
            .filter(|s| s.contains(&format!("organised by {BOSS}, not a served member")))
            .count(),
        2,
        "{reasons:?}"
    );
    assert!(w.raynet_titled("Strategy offsite").is_empty());

    assert!(w.sandbox.graph.edit_event(
        &boss,
        &event,
        &json!({"subject": "Strategy offsite (moved)"})
    ));
    let r = w.round().await;
    assert_eq!(writes(&r), 0, "{:?}", r.reports);
    assert!(w.sandbox.graph.delete_event(&boss, &event));
    assert_eq!(
        w.outlook_one(&w.jana, "Strategy offsite (moved)")["isCancelled"],
        true
    );
    let r = w.round().await;
    assert_eq!(writes(&r), 0, "{:?}", r.reports);
    for title in [
        "Strategy offsite",
        "Strategy offsite (moved)",
        "Canceled: Strategy offsite (moved)",
    ] {
        assert!(w.raynet_titled(title).is_empty(), "{title}");
    }
    // The sync mailed nothing about it.
    assert!(
        w.sandbox.graph.invitations().iter().all(|i| !i
            .subject
            .as_deref()
            .unwrap_or_default()
            .contains("Strategy")),
        "{:?}",
        w.sandbox.graph.invitations()
    );
}

/// Under `invited_events = "own"`, the same colleague's invitation delivered to Jana and
/// Petr (one `iCalUId`) is ONE Raynet record, owned by the first served attendee (Jana); the
/// colleague's edit reaches it once, and the cancellation too.
#[tokio::test]
async fn a_colleagues_invitation_is_one_record_under_own() {
    let w = World::new("invited_events = \"own\"\n").await;
    let boss = w.user_id(BOSS).await;
    let t = utc("2026-12-02 09:00");
    let event = w.sandbox.graph.add_event(
        &boss,
        EventSeed::new("Strategy offsite", t, t + Duration::hours(3))
            .attendee(PETR)
            .attendee(JANA),
    );
    w.round().await;
    let (_, record, rec) = w.raynet_one("Strategy offsite");
    assert_eq!(
        rec.pointer("/owner/id").and_then(Value::as_u64),
        Some(w.sandbox.data.jana_person)
    );
    let r = w.round().await;
    assert_eq!(writes(&r), 0, "{:?}", r.reports);

    assert!(w.sandbox.graph.edit_event(
        &boss,
        &event,
        &json!({"subject": "Strategy offsite (moved)"})
    ));
    let r = w.round().await;
    assert_eq!(raynet_writes(&r), 1, "{:?}", r.reports);
    assert_eq!(writes(&r), 1, "{:?}", r.reports);
    let (_, same, _) = w.raynet_one("Strategy offsite (moved)");
    assert_eq!(same, record);

    assert!(w.sandbox.graph.delete_event(&boss, &event));
    let r = w.round().await;
    assert_eq!(raynet_writes(&r), 1, "{:?}", r.reports);
    let (_, same, rec) = w.raynet_one("Strategy offsite (moved)");
    assert_eq!(same, record);
    assert_eq!(rec["status"], "CANCELLED");
    let r = w.round().await;
    assert_eq!(writes(&r), 0, "{:?}", r.reports);
    assert!(
        w.raynet_titled("Canceled: Strategy offsite (moved)")
            .is_empty()
    );
}
