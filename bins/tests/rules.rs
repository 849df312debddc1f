//! The calendar and contact rules of DESIGN §4–§6, end to end against both fake servers.
//!
//! Every scenario starts its own [`Sandbox`] (the sample data of `raynet-sync demo`, built
//! around a fixed "now"), runs rounds through the real wiring (`sync_tenant`) and then
//! asserts the exact state of both fakes: Raynet records (entity, owner, title, Prague
//! wall-clock times, status, `personal`), Outlook events (subject, UTC times, attendees,
//! type) and, where it matters, the fake Graph's invitation log.
//!
//! The sample data (see `bins/src/demo.rs` and `FakeInstance::seed_demo`), with "today" =
//! 2026-11-25 unless a scenario picks another day:
//! - Raynet, Jana: meetings "Obchodní jednání – Acme" (tomorrow 10:00–11:30, participant
//!   Karel Svoboda), "Kontrolní den" (2 days ago, COMPLETED, participant Eva Malá); events
//!   "Veletrh MSV Brno" (all-day, +7..+9) and "Školení CRM" (+2, 13:00–16:00).
//! - Raynet, Petr: meeting "Logistika – roční plán" (+3, participant Tomáš Černý).
//! - Outlook, Jana: "Customer call – Brno" (+4), "Dentist" (private, +1), "Partner webinar"
//!   (invited by events@partner.example), the weekly series "Team stand-up" (4 Thursdays).
//! - Outlook, Petr: "Warehouse visit" (+2).

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone as _, Utc};
use chrono_tz::Tz;
use graph_client::fake::{EventSeed, InvitationKind, SeriesSeed};
use raynet_client::fake::{ActivitySeed, FakeInstance, PersonSeed};
use raynet_sync::demo::{INSTANCE, Sandbox};
use raynet_sync::store::SqliteStore;
use raynet_sync::wiring::{RoundOptions, TenantClients, TenantReport, sync_tenant};
use serde_json::{Value, json};

use crate::util::TempDir;

const PRAGUE: Tz = chrono_tz::Europe::Prague;
const LOS_ANGELES: Tz = chrono_tz::America::Los_Angeles;
const TOKYO: Tz = chrono_tz::Asia::Tokyo;

/// A fixed "now" (Wednesday 25 November 2026, noon UTC), so that every scenario is
/// deterministic.
fn fixed_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap()
}

/// `yyyy-mm-dd HH:MM` wall-clock time in `tz` → UTC.
fn at(tz: Tz, local: &str) -> DateTime<Utc> {
    let naive = NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M").unwrap();
    tz.from_local_datetime(&naive)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

fn utc(s: &str) -> DateTime<Utc> {
    at(chrono_tz::UTC, s)
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// A string field ("" when missing or null).
fn text(v: &Value, pointer: &str) -> String {
    match v.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// A Raynet record's `scheduledFrom` / `scheduledTill` as Prague wall-clock time
/// (`yyyy-mm-dd HH:MM`).
fn prague(rec: &Value, key: &str) -> String {
    let raw = text(rec, &format!("/{key}"));
    DateTime::parse_from_rfc3339(&raw)
        .unwrap_or_else(|e| panic!("{key} = {raw:?}: {e}"))
        .with_timezone(&PRAGUE)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// An Outlook event's `start` / `end` (read in UTC) as `yyyy-mm-dd HH:MM`.
fn outlook_utc(ev: &Value, key: &str) -> String {
    assert_eq!(text(ev, &format!("/{key}/timeZone")), "UTC", "{ev}");
    text(ev, &format!("/{key}/dateTime"))
        .get(..16)
        .unwrap()
        .replace('T', " ")
}

fn attendees(ev: &Value) -> Vec<String> {
    let mut v: Vec<String> = ev["attendees"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| text(a, "/emailAddress/address"))
        .collect();
    v.sort();
    v
}

/// The person ids of a Raynet record's non-owner participants.
fn participants(rec: &Value) -> Vec<u64> {
    let mut v: Vec<u64> = rec["participants"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["owner"] != json!(true))
        .filter_map(|p| p.pointer("/person/id").and_then(Value::as_u64))
        .collect();
    v.sort_unstable();
    v
}

fn owner(rec: &Value) -> u64 {
    rec.pointer("/owner/id").and_then(Value::as_u64).unwrap()
}

struct World {
    sandbox: Sandbox,
    store: SqliteStore,
    tenant: raynet_sync::config::TenantConfig,
    clients: TenantClients,
    now: DateTime<Utc>,
    jana: String,
    petr: String,
    _dir: TempDir,
}

impl World {
    async fn new(extra_sync: &str) -> Self {
        Self::at(fixed_now(), extra_sync).await
    }

    async fn at(now: DateTime<Utc>, extra_sync: &str) -> Self {
        let dir = TempDir::new("rules");
        let sandbox = Sandbox::start(now).await.unwrap();
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
            now,
            _dir: dir,
        }
    }

    /// One clean round at the world's "now".
    async fn round(&self) -> TenantReport {
        self.round_at(self.now).await
    }

    /// One clean round at `now` (the window follows it).
    async fn round_at(&self, now: DateTime<Utc>) -> TenantReport {
        let round = sync_tenant(
            &self.clients,
            &self.store,
            &self.tenant.sync.policy,
            RoundOptions::default(),
            now,
        )
        .await
        .unwrap();
        for r in &round.reports {
            eprint!("{r}");
        }
        assert!(round.is_clean(), "{:?}", round.member_failures);
        round
    }

    /// A round at `now` that must write nothing (the state is stable).
    async fn idle_round_at(&self, now: DateTime<Utc>) {
        let r = self.round_at(now).await;
        let writes: usize = r.reports.iter().map(sync_core::RoundReport::writes).sum();
        assert_eq!(writes, 0, "an idle round wrote: {:?}", r.reports);
    }

    async fn idle_round(&self) {
        self.idle_round_at(self.now).await;
    }

    fn inst(&self) -> FakeInstance<'_> {
        self.sandbox.raynet.instance(INSTANCE)
    }

    fn jana_person(&self) -> u64 {
        self.sandbox.data.jana_person
    }

    fn petr_person(&self) -> u64 {
        self.sandbox.data.petr_person
    }

    /// Every Raynet calendar record as `(entity, id, record)`.
    fn raynet_all(&self) -> Vec<(&'static str, u64, Value)> {
        let inst = self.inst();
        let mut v = Vec::new();
        for entity in ["meeting", "event"] {
            for id in inst.ids(entity) {
                v.push((entity, id, inst.record(entity, id).unwrap()));
            }
        }
        v
    }

    /// Sorted titles of the Raynet records owned by `person`.
    fn raynet_titles(&self, person: u64) -> Vec<String> {
        let mut v: Vec<String> = self
            .raynet_all()
            .into_iter()
            .filter(|(_, _, r)| owner(r) == person)
            .map(|(_, _, r)| text(&r, "/title"))
            .collect();
        v.sort();
        v
    }

    /// The Raynet records with this title, as `(entity, id, record)`.
    fn raynet_titled(&self, title: &str) -> Vec<(&'static str, u64, Value)> {
        self.raynet_all()
            .into_iter()
            .filter(|(_, _, r)| r["title"] == title)
            .collect()
    }

    /// The one Raynet record with this title.
    fn raynet_one(&self, title: &str) -> (&'static str, u64, Value) {
        let mut v = self.raynet_titled(title);
        assert_eq!(v.len(), 1, "records titled {title:?}: {v:?}");
        v.remove(0)
    }

    /// The non-master events of a mailbox (series occurrences are not listed, only masters).
    fn outlook_singles(&self, user: &str) -> Vec<Value> {
        self.sandbox
            .graph
            .events(user)
            .into_iter()
            .filter(|e| e["type"] != "seriesMaster")
            .collect()
    }

    /// Sorted subjects of a mailbox's events (series masters included once).
    fn outlook_subjects(&self, user: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .sandbox
            .graph
            .events(user)
            .iter()
            .map(|e| text(e, "/subject"))
            .collect();
        v.sort();
        v
    }

    /// The one event of a mailbox with this subject.
    fn outlook_one(&self, user: &str, subject: &str) -> Value {
        let v: Vec<Value> = self
            .outlook_singles(user)
            .into_iter()
            .filter(|e| e["subject"] == subject)
            .collect();
        assert_eq!(v.len(), 1, "events with subject {subject:?}: {v:?}");
        v.into_iter().next().unwrap()
    }

    /// The occurrences (and exceptions) of a series within 60 days of "now".
    fn occurrences(&self, user: &str, master: &str) -> Vec<Value> {
        let g = &self.sandbox.graph;
        g.occurrence_ids(
            user,
            master,
            self.now - Duration::days(60),
            self.now + Duration::days(120),
        )
        .iter()
        .map(|id| g.event(user, id).unwrap())
        .collect()
    }

    /// The id of the Raynet person with this last name.
    fn person_id(&self, last_name: &str) -> u64 {
        let inst = self.inst();
        inst.ids("person")
            .into_iter()
            .find(|id| inst.record("person", *id).unwrap()["lastName"] == last_name)
            .unwrap_or_else(|| panic!("no person {last_name}"))
    }

    fn folder(&self, user: &str, name: &str) -> Option<String> {
        self.sandbox
            .graph
            .contact_folders(user)
            .into_iter()
            .find(|(_, n)| n == name)
            .map(|(id, _)| id)
    }

    /// The contacts of the member's "Raynet" folder.
    fn raynet_contacts(&self, user: &str) -> Vec<Value> {
        self.folder(user, "Raynet")
            .map(|f| self.sandbox.graph.contacts(user, &f))
            .unwrap_or_default()
    }

    /// Sorted surnames of the member's "Raynet" folder.
    fn contact_surnames(&self, user: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .raynet_contacts(user)
            .iter()
            .map(|c| text(c, "/surname"))
            .collect();
        v.sort();
        v
    }

    fn contact(&self, user: &str, surname: &str) -> Value {
        let v: Vec<Value> = self
            .raynet_contacts(user)
            .into_iter()
            .filter(|c| c["surname"] == surname)
            .collect();
        assert_eq!(v.len(), 1, "contacts {surname:?}: {v:?}");
        v.into_iter().next().unwrap()
    }
}

/// The Raynet titles of Jana's records after a first round with the default rules.
fn jana_default_titles() -> Vec<&'static str> {
    let mut v = vec![
        "Customer call – Brno",
        "Kontrolní den",
        "Obchodní jednání – Acme",
        "Team stand-up",
        "Team stand-up",
        "Team stand-up",
        "Team stand-up",
        "Veletrh MSV Brno",
        "Školení CRM",
    ];
    v.sort_unstable();
    v
}

fn sorted(mut v: Vec<&str>) -> Vec<String> {
    v.sort_unstable();
    v.into_iter().map(str::to_owned).collect()
}

// ================================================================ 1. private Outlook events

/// Rule 1, `private_events = "standard"`: a private Outlook event reaches Raynet like any
/// other (title, time, description), with `personal` set.
#[tokio::test]
async fn private_events_standard_sync_everything_and_mark_the_record_personal() {
    let w = World::new("private_events = \"standard\"\n").await;
    w.round().await;
    let mut expected = jana_default_titles();
    expected.push("Dentist");
    assert_eq!(w.raynet_titles(w.jana_person()), sorted(expected));
    let (entity, _, rec) = w.raynet_one("Dentist");
    assert_eq!(entity, "event");
    assert_eq!(owner(&rec), w.jana_person());
    assert_eq!(rec["personal"], true);
    assert_eq!(prague(&rec, "scheduledFrom"), "2026-11-26 08:00");
    assert_eq!(prague(&rec, "scheduledTill"), "2026-11-26 09:00");
    assert_eq!(text(&rec, "/description"), "<p>Root canal, 2nd visit</p>");
    assert_eq!(rec["status"], "SCHEDULED");
    // Outlook keeps its private event as it was.
    let ev = w.outlook_one(&w.jana, "Dentist");
    assert_eq!(ev["sensitivity"], "private");
    assert_eq!(outlook_utc(&ev, "start"), "2026-11-26 07:00");
    w.idle_round().await;
}

/// Rule 1, `private_events = "time-blocker"`: Raynet sees "Time blocker" with the time only;
/// later Outlook edits of title, body and place never leak, time changes follow.
#[tokio::test]
async fn private_events_time_blocker_carry_the_time_only_and_never_leak_later_edits() {
    let w = World::new("private_events = \"time-blocker\"\n").await;
    w.round().await;
    let mut expected = jana_default_titles();
    expected.push("Time blocker");
    assert_eq!(w.raynet_titles(w.jana_person()), sorted(expected));
    let (entity, id, rec) = w.raynet_one("Time blocker");
    assert_eq!(entity, "event");
    assert_eq!(prague(&rec, "scheduledFrom"), "2026-11-26 08:00");
    assert_eq!(prague(&rec, "scheduledTill"), "2026-11-26 09:00");
    assert_eq!(text(&rec, "/description"), "");
    assert_eq!(text(&rec, "/meetingPlace"), "");
    assert_eq!(rec["personal"], true);

    // The user renames, describes, places and moves the appointment in Outlook.
    let dentist = w.sandbox.data.private_event.clone();
    w.sandbox.graph.edit_event(
        &w.jana,
        &dentist,
        &json!({
            "subject": "Dentist – Dr. Novák, implant",
            "body": {"contentType": "text", "content": "Bring the X-ray, pay 12 000 CZK"},
            "location": {"displayName": "Clinic Vinohrady"},
        }),
    );
    w.sandbox.graph.move_event(
        &w.jana,
        &dentist,
        utc("2026-11-26 10:00"),
        utc("2026-11-26 11:30"),
    );
    w.round().await;
    let rec = w.inst().record("event", id).unwrap();
    assert_eq!(rec["title"], "Time blocker");
    assert_eq!(text(&rec, "/description"), "");
    assert_eq!(text(&rec, "/meetingPlace"), "");
    assert_eq!(prague(&rec, "scheduledFrom"), "2026-11-26 11:00");
    assert_eq!(prague(&rec, "scheduledTill"), "2026-11-26 12:30");
    for (_, _, r) in w.raynet_all() {
        let all = r.to_string();
        assert!(
            !all.contains("Dentist") && !all.contains("X-ray") && !all.contains("Vinohrady"),
            "a private detail leaked into Raynet: {r}"
        );
    }
    // Outlook keeps the user's own title, body and place (the blocker never comes back).
    let ev = w.sandbox.graph.event(&w.jana, &dentist).unwrap();
    assert_eq!(ev["subject"], "Dentist – Dr. Novák, implant");
    assert_eq!(ev["location"]["displayName"], "Clinic Vinohrady");
    assert_eq!(outlook_utc(&ev, "start"), "2026-11-26 10:00");
    assert_eq!(outlook_utc(&ev, "end"), "2026-11-26 11:30");
    w.idle_round().await;
}

/// Rule 1, `private_events = "skip"` (the default): a private event never reaches Raynet, not
/// even after it is edited.
#[tokio::test]
async fn private_events_skip_never_reach_raynet() {
    let w = World::new("private_events = \"skip\"\n").await;
    w.round().await;
    assert_eq!(
        w.raynet_titles(w.jana_person()),
        sorted(jana_default_titles())
    );
    w.sandbox.graph.edit_event(
        &w.jana,
        &w.sandbox.data.private_event,
        &json!({"subject": "Dentist (moved)"}),
    );
    w.round().await;
    assert_eq!(
        w.raynet_titles(w.jana_person()),
        sorted(jana_default_titles())
    );
    assert!(
        w.raynet_all()
            .iter()
            .all(|(_, _, r)| prague(r, "scheduledFrom") != "2026-11-26 08:00"),
        "nothing at the dentist's time"
    );
    assert_eq!(
        w.outlook_one(&w.jana, "Dentist (moved)")["sensitivity"],
        "private"
    );
}

// ================================================================ 2. completed meetings

/// Rule 2, `completed_events = "sync"` (the default): a later Raynet change of a completed
/// meeting still reaches Outlook; an Outlook edit never reopens it.
#[tokio::test]
async fn completed_meetings_sync_keep_flowing_to_outlook() {
    let w = World::new("completed_events = \"sync\"\n").await;
    w.round().await;
    let completed = w.sandbox.data.meetings[1];
    let ev = w.outlook_one(&w.jana, "Kontrolní den");
    let outlook_id = text(&ev, "/id");
    w.inst()
        .edit(
            "meeting",
            completed,
            &json!({"title": "Kontrolní den – zápis", "meetingPlace": "Ostrava"}),
        )
        .unwrap();
    w.round().await;
    let ev = w.sandbox.graph.event(&w.jana, &outlook_id).unwrap();
    assert_eq!(ev["subject"], "Kontrolní den – zápis");
    assert_eq!(ev["location"]["displayName"], "Ostrava");
    // An Outlook edit: taken over, the meeting stays completed.
    w.sandbox.graph.edit_event(
        &w.jana,
        &outlook_id,
        &json!({"location": {"displayName": "Teams"}}),
    );
    w.round().await;
    let rec = w.inst().record("meeting", completed).unwrap();
    assert_eq!(rec["status"], "COMPLETED");
    assert_eq!(rec["meetingPlace"], "Teams");
    assert_eq!(rec["title"], "Kontrolní den – zápis");
    w.idle_round().await;
}

/// Rule 2, `completed_events = "stop"`: later Raynet changes of a completed meeting stay in
/// Raynet; an Outlook edit never reopens it (status stays COMPLETED).
#[tokio::test]
async fn completed_meetings_stop_keep_later_raynet_changes_in_raynet() {
    let w = World::new("completed_events = \"stop\"\n").await;
    w.round().await;
    let completed = w.sandbox.data.meetings[1];
    let ev = w.outlook_one(&w.jana, "Kontrolní den");
    let outlook_id = text(&ev, "/id");
    let change_key = text(&ev, "/changeKey");
    // Notes written into the finished meeting.
    w.inst()
        .edit(
            "meeting",
            completed,
            &json!({"title": "Kontrolní den – zápis", "description": "<p>Zápis: vše OK</p>"}),
        )
        .unwrap();
    w.round().await;
    let ev = w.sandbox.graph.event(&w.jana, &outlook_id).unwrap();
    assert_eq!(ev["subject"], "Kontrolní den");
    assert_eq!(text(&ev, "/changeKey"), change_key, "Outlook untouched");
    assert_eq!(outlook_utc(&ev, "start"), "2026-11-23 13:00");
    // An Outlook edit of the completed meeting.
    w.sandbox.graph.edit_event(
        &w.jana,
        &outlook_id,
        &json!({"location": {"displayName": "Teams"}}),
    );
    w.round().await;
    let rec = w.inst().record("meeting", completed).unwrap();
    assert_eq!(rec["status"], "COMPLETED", "never reopened");
    assert_eq!(rec["title"], "Kontrolní den – zápis");
    assert_eq!(text(&rec, "/description"), "<p>Zápis: vše OK</p>");
    let ev = w.sandbox.graph.event(&w.jana, &outlook_id).unwrap();
    assert_eq!(ev["subject"], "Kontrolní den");
    w.idle_round().await;
}

// ================================================================ 3. Raynet type of new items

/// Rule 3, `outlook_new_as = "event"` (the default): a new Outlook item becomes a Raynet event,
/// even with external attendees.
#[tokio::test]
async fn new_outlook_items_become_events_by_default() {
    let w = World::new("").await;
    let t = utc("2026-11-30 09:00");
    w.sandbox.graph.add_event(
        &w.jana,
        EventSeed::new("Supplier visit", t, t + Duration::hours(1))
            .attendee("buyer@customer.example"),
    );
    w.round().await;
    let (entity, _, rec) = w.raynet_one("Supplier visit");
    assert_eq!(entity, "event");
    assert_eq!(owner(&rec), w.jana_person());
    assert_eq!(w.inst().ids("meeting").len(), 3, "only the sample meetings");
}

/// Rule 3, `outlook_new_as = "meeting"`: every new Outlook item becomes a Raynet meeting.
#[tokio::test]
async fn new_outlook_items_become_meetings_with_outlook_new_as_meeting() {
    let w = World::new("outlook_new_as = \"meeting\"\n").await;
    let t = utc("2026-11-30 09:00");
    w.sandbox.graph.add_event(
        &w.jana,
        EventSeed::new("Focus time", t, t + Duration::hours(1)),
    );
    w.round().await;
    assert_eq!(w.raynet_one("Focus time").0, "meeting");
    assert_eq!(w.raynet_one("Customer call – Brno").0, "meeting");
    assert_eq!(
        w.raynet_titled("Team stand-up")
            .iter()
            .map(|(e, _, _)| *e)
            .collect::<Vec<_>>(),
        vec!["meeting"; 4]
    );
    assert_eq!(w.inst().ids("event").len(), 2, "only the sample events");
}

/// Rule 3, `outlook_new_as = "auto"`: a meeting when an attendee is from outside the
/// organisation, else an event; a pair keeps its Raynet type after later edits.
#[tokio::test]
async fn new_outlook_items_auto_type_and_pairs_keep_their_type() {
    let w = World::new("outlook_new_as = \"auto\"\n").await;
    let t = utc("2026-11-30 09:00");
    let external = w.sandbox.graph.add_event(
        &w.jana,
        EventSeed::new("Offer review with buyer", t, t + Duration::hours(1))
            .attendee("buyer@customer.example"),
    );
    let internal = w.sandbox.graph.add_event(
        &w.jana,
        EventSeed::new(
            "Internal sync with Petr",
            t + Duration::hours(2),
            t + Duration::hours(3),
        )
        .attendee("petr.dvorak@acme.test"),
    );
    w.round().await;
    let (e1, m_id, _) = w.raynet_one("Offer review with buyer");
    assert_eq!(e1, "meeting");
    let (e2, e_id, _) = w.raynet_one("Internal sync with Petr");
    assert_eq!(e2, "event");
    assert_eq!(
        w.raynet_one("Customer call – Brno").0,
        "event",
        "no attendees"
    );
    // Later edits: the meeting loses its external attendee, the event gains one.
    w.sandbox
        .graph
        .edit_event(&w.jana, &external, &json!({"attendees": []}));
    w.sandbox.graph.edit_event(
        &w.jana,
        &internal,
        &json!({"attendees": [
            {"type": "required", "emailAddress": {"address": "petr.dvorak@acme.test"}},
            {"type": "required", "emailAddress": {"address": "buyer@customer.example"}},
        ], "subject": "Internal sync with Petr and buyer"}),
    );
    w.round().await;
    let (e1, id1, _) = w.raynet_one("Offer review with buyer");
    assert_eq!((e1, id1), ("meeting", m_id));
    let (e2, id2, _) = w.raynet_one("Internal sync with Petr and buyer");
    assert_eq!((e2, id2), ("event", e_id));
    assert_eq!(w.inst().ids("meeting").len(), 4);
    w.idle_round().await;
}

// ================================================================ 4. owners

/// Rule 4: an event organised by a served member belongs to that member; the copy Exchange
/// delivers to an invited member's mailbox (same iCalUId) does not make a second record.
#[tokio::test]
async fn events_belong_to_the_served_member_who_organised_them() {
    let w = World::new("").await;
    let t = utc("2026-11-30 14:00");
    w.sandbox.graph.add_event(
        &w.petr,
        EventSeed::new("Budget review", t, t + Duration::hours(1))
            .attendee("jana.novakova@acme.test"),
    );
    // The fake delivers Jana her copy, as Exchange does.
    let copy = w.outlook_one(&w.jana, "Budget review");
    assert_eq!(copy["isOrganizer"], false);
    assert_eq!(
        text(&copy, "/organizer/emailAddress/address"),
        "petr.dvorak@acme.test"
    );
    w.round().await;
    let (_, _, rec) = w.raynet_one("Budget review");
    assert_eq!(owner(&rec), w.petr_person());
    assert_eq!(
        w.raynet_titles(w.petr_person()),
        sorted(vec![
            "Budget review",
            "Logistika – roční plán",
            "Warehouse visit"
        ])
    );
    assert_eq!(
        w.raynet_titles(w.jana_person()),
        sorted(jana_default_titles())
    );
    // Petr's own appointment is Petr's, Jana's own is Jana's.
    assert_eq!(owner(&w.raynet_one("Warehouse visit").2), w.petr_person());
    assert_eq!(
        owner(&w.raynet_one("Customer call – Brno").2),
        w.jana_person()
    );
    w.idle_round().await;
}

/// Rule 4, `invited_events = "skip"` (the default): events organised by outsiders never reach
/// Raynet — also when the same invitation sits in two members' mailboxes.
#[tokio::test]
async fn events_organised_by_outsiders_are_skipped_by_default() {
    let w = World::new("").await;
    let t = utc("2026-12-01 15:00");
    for user in [&w.jana, &w.petr] {
        w.sandbox.graph.add_event(
            user,
            EventSeed::new("Industry roundtable", t, t + Duration::hours(2))
                .organizer("host@chamber.example")
                .attendee("jana.novakova@acme.test")
                .attendee("petr.dvorak@acme.test")
                .field("iCalUId", json!("ROUNDTABLE-UID-1")),
        );
    }
    let r = w.round().await;
    assert!(w.raynet_titled("Partner webinar").is_empty());
    assert!(w.raynet_titled("Industry roundtable").is_empty());
    let skipped: Vec<String> = r
        .reports
        .iter()
        .flat_map(|r| r.skipped.iter())
        .map(|s| s.reason.clone())
        .collect();
    assert_eq!(
        skipped
            .iter()
            .filter(|s| s.contains("invited_events = \"skip\""))
            .count(),
        3,
        "{skipped:?}"
    );
    assert_eq!(
        w.raynet_titles(w.jana_person()),
        sorted(jana_default_titles())
    );
}

/// Rule 4, `invited_events = "own"`: an outsider's event is owned by the invited member; the
/// same meeting in two served members' mailboxes (same iCalUId) is ONE Raynet record.
#[tokio::test]
async fn invited_events_own_make_one_record_per_meeting() {
    let w = World::new("invited_events = \"own\"\n").await;
    let t = utc("2026-12-01 15:00");
    for user in [&w.jana, &w.petr] {
        w.sandbox.graph.add_event(
            user,
            EventSeed::new("Industry roundtable", t, t + Duration::hours(2))
                .organizer("host@chamber.example")
                .attendee("jana.novakova@acme.test")
                .attendee("petr.dvorak@acme.test")
                .field("iCalUId", json!("ROUNDTABLE-UID-1")),
        );
    }
    w.round().await;
    let (_, _, webinar) = w.raynet_one("Partner webinar");
    assert_eq!(owner(&webinar), w.jana_person());
    assert_eq!(prague(&webinar, "scheduledFrom"), "2026-11-30 14:00");
    let (_, _, roundtable) = w.raynet_one("Industry roundtable");
    assert_eq!(owner(&roundtable), w.jana_person());
    assert_eq!(prague(&roundtable, "scheduledFrom"), "2026-12-01 16:00");
    assert_eq!(prague(&roundtable, "scheduledTill"), "2026-12-01 18:00");
    let mut expected = jana_default_titles();
    expected.extend(["Partner webinar", "Industry roundtable"]);
    assert_eq!(w.raynet_titles(w.jana_person()), sorted(expected));
    assert_eq!(
        w.raynet_titles(w.petr_person()),
        sorted(vec!["Logistika – roční plán", "Warehouse visit"])
    );
    // Nothing was written into the invitations themselves, and nobody was mailed.
    assert_eq!(
        w.outlook_subjects(&w.petr),
        sorted(vec![
            "Industry roundtable",
            "Logistika – roční plán",
            "Warehouse visit"
        ])
    );
    assert!(
        w.sandbox
            .graph
            .invitations()
            .iter()
            .all(|i| i.subject.as_deref() != Some("Industry roundtable"))
    );
    w.idle_round().await;
    assert_eq!(w.raynet_titled("Industry roundtable").len(), 1);
}

/// Rule 4, `invited_events = "own"`: the same meeting (same iCalUId) reached two served
/// members through a distribution list, so neither copy names them as attendees: it is still
/// ONE Raynet record.
#[tokio::test]
async fn invited_events_own_one_record_per_ical_uid_even_via_a_distribution_list() {
    let w = World::new("invited_events = \"own\"\n").await;
    let t = utc("2026-12-01 15:00");
    for user in [&w.jana, &w.petr] {
        w.sandbox.graph.add_event(
            user,
            EventSeed::new("Industry roundtable", t, t + Duration::hours(2))
                .organizer("host@chamber.example")
                .attendee("sales@acme.test")
                .field("iCalUId", json!("ROUNDTABLE-UID-2")),
        );
    }
    w.round().await;
    let records = w.raynet_titled("Industry roundtable");
    assert_eq!(records.len(), 1, "{records:?}");
}

// ================================================================ 5. Outlook deletions

/// Rule 5, `outlook_deletes = "delete"`: the Raynet record is deleted.
#[tokio::test]
async fn outlook_deletes_delete_removes_the_raynet_record() {
    let w = World::new("outlook_deletes = \"delete\"\n").await;
    w.round().await;
    let (_, _, _) = w.raynet_one("Customer call – Brno");
    w.sandbox
        .graph
        .delete_event(&w.jana, &w.sandbox.data.customer_call);
    w.round().await;
    assert!(w.raynet_titled("Customer call – Brno").is_empty());
    let mut expected = jana_default_titles();
    expected.retain(|t| *t != "Customer call – Brno");
    assert_eq!(w.raynet_titles(w.jana_person()), sorted(expected));
    w.idle_round().await;
}

/// Rule 5, `outlook_deletes = "cancel"` (the default): the Raynet record is kept, CANCELLED.
#[tokio::test]
async fn outlook_deletes_cancel_keeps_the_record_cancelled() {
    let w = World::new("").await;
    w.round().await;
    // An Outlook-made item and a Raynet-made meeting, both deleted in Outlook.
    let acme = text(&w.outlook_one(&w.jana, "Obchodní jednání – Acme"), "/id");
    w.sandbox
        .graph
        .delete_event(&w.jana, &w.sandbox.data.customer_call);
    w.sandbox.graph.delete_event(&w.jana, &acme);
    w.round().await;
    let (_, _, call) = w.raynet_one("Customer call – Brno");
    assert_eq!(call["status"], "CANCELLED");
    assert_eq!(prague(&call, "scheduledFrom"), "2026-11-29 10:00");
    let meeting = w
        .inst()
        .record("meeting", w.sandbox.data.meetings[0])
        .unwrap();
    assert_eq!(meeting["status"], "CANCELLED");
    assert_eq!(meeting["title"], "Obchodní jednání – Acme");
    assert_eq!(
        w.raynet_titles(w.jana_person()),
        sorted(jana_default_titles())
    );
    // Nothing comes back to Outlook.
    assert!(
        !w.outlook_subjects(&w.jana)
            .contains(&"Customer call – Brno".to_owned())
    );
    assert!(
        !w.outlook_subjects(&w.jana)
            .contains(&"Obchodní jednání – Acme".to_owned())
    );
    w.idle_round().await;
}

/// Rule 5, `outlook_deletes = "ignore"`: the Raynet record is kept unchanged and later Raynet
/// edits do not re-create the Outlook event.
#[tokio::test]
async fn outlook_deletes_ignore_only_unlinks() {
    let w = World::new("outlook_deletes = \"ignore\"\n").await;
    w.round().await;
    let (_, id, before) = w.raynet_one("Customer call – Brno");
    w.sandbox
        .graph
        .delete_event(&w.jana, &w.sandbox.data.customer_call);
    w.round().await;
    let after = w.inst().record("event", id).unwrap();
    assert_eq!(after, before, "unchanged");
    assert_eq!(after["status"], "SCHEDULED");
    // A later Raynet edit stays in Raynet.
    w.inst()
        .edit(
            "event",
            id,
            &json!({"title": "Customer call – Brno (notes)"}),
        )
        .unwrap();
    let before_subjects = w.outlook_subjects(&w.jana);
    w.round().await;
    assert_eq!(w.outlook_subjects(&w.jana), before_subjects);
    assert!(
        !before_subjects
            .iter()
            .any(|s| s.starts_with("Customer call"))
    );
    assert_eq!(
        w.inst().record("event", id).unwrap()["title"],
        "Customer call – Brno (notes)"
    );
    w.idle_round().await;
}

/// Rule 5: a Raynet deletion deletes the Outlook event (Raynet-made and Outlook-made alike).
#[tokio::test]
async fn raynet_deletions_delete_the_outlook_event() {
    let w = World::new("").await;
    w.round().await;
    let (_, call_id, _) = w.raynet_one("Customer call – Brno");
    w.inst().remove("event", w.sandbox.data.events[1]).unwrap(); // Školení CRM
    w.inst().remove("event", call_id).unwrap();
    w.round().await;
    let subjects = w.outlook_subjects(&w.jana);
    assert_eq!(
        subjects,
        sorted(vec![
            "Dentist",
            "Kontrolní den",
            "Obchodní jednání – Acme",
            "Partner webinar",
            "Team stand-up",
            "Veletrh MSV Brno",
        ])
    );
    assert!(
        w.sandbox
            .graph
            .event(&w.jana, &w.sandbox.data.customer_call)
            .is_none()
    );
    w.idle_round().await;
}

// ================================================================ 6. recurring series

/// Rule 6: each occurrence in the window is one Raynet record; a Raynet edit of one record
/// becomes an exception of that occurrence only; a cancelled occurrence follows the
/// Outlook-deletion rule (default: cancelled in Raynet).
#[tokio::test]
async fn recurring_series_occurrences_edits_and_cancellations() {
    let w = World::new("").await;
    w.round().await;
    let series = w.sandbox.data.series.clone();
    let mut records = w.raynet_titled("Team stand-up");
    records.sort_by_key(|(_, _, r)| prague(r, "scheduledFrom"));
    let starts: Vec<String> = records
        .iter()
        .map(|(_, _, r)| prague(r, "scheduledFrom"))
        .collect();
    assert_eq!(
        starts,
        [
            "2026-11-26 09:00",
            "2026-12-03 09:00",
            "2026-12-10 09:00",
            "2026-12-17 09:00"
        ]
    );
    assert!(records.iter().all(|(e, _, r)| *e == "event"
        && prague(r, "scheduledTill").ends_with("09:30")
        && r["status"] == "SCHEDULED"));
    // Raynet: the 2nd occurrence is renamed and moved.
    let second = records[1].1;
    w.inst()
        .edit(
            "event",
            second,
            &json!({"title": "Team stand-up – sprint demo",
                "scheduledFrom": "2026-12-03 10:00", "scheduledTill": "2026-12-03 11:00"}),
        )
        .unwrap();
    w.round().await;
    let occ = w.occurrences(&w.jana, &series);
    let shape: Vec<(String, String, String)> = occ
        .iter()
        .map(|e| {
            (
                text(e, "/type"),
                text(e, "/subject"),
                outlook_utc(e, "start"),
            )
        })
        .collect();
    let s = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
    assert_eq!(
        shape,
        vec![
            s("occurrence", "Team stand-up", "2026-11-26 08:00"),
            s(
                "exception",
                "Team stand-up – sprint demo",
                "2026-12-03 09:00"
            ),
            s("occurrence", "Team stand-up", "2026-12-10 08:00"),
            s("occurrence", "Team stand-up", "2026-12-17 08:00"),
        ]
    );
    let master = w.sandbox.graph.event(&w.jana, &series).unwrap();
    assert_eq!(master["subject"], "Team stand-up");
    // Outlook: the 3rd occurrence is cancelled.
    w.sandbox.graph.delete_event(&w.jana, &text(&occ[2], "/id"));
    w.round().await;
    let statuses: Vec<(String, String)> = records
        .iter()
        .map(|(_, id, _)| {
            let r = w.inst().record("event", *id).unwrap();
            (text(&r, "/title"), text(&r, "/status"))
        })
        .collect();
    let s2 = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    assert_eq!(
        statuses,
        vec![
            s2("Team stand-up", "SCHEDULED"),
            s2("Team stand-up – sprint demo", "SCHEDULED"),
            s2("Team stand-up", "CANCELLED"),
            s2("Team stand-up", "SCHEDULED"),
        ]
    );
    assert_eq!(w.occurrences(&w.jana, &series).len(), 3);
    w.idle_round().await;
}

/// Rule 6: a cancelled occurrence follows `outlook_deletes` like any Outlook deletion; the
/// other occurrences' records are untouched.
#[tokio::test]
async fn recurring_series_a_cancelled_occurrence_follows_outlook_deletes() {
    for (policy, expected) in [
        ("delete", None),
        ("cancel", Some("CANCELLED")),
        ("ignore", Some("SCHEDULED")),
    ] {
        let w = World::new(&format!("outlook_deletes = \"{policy}\"\n")).await;
        w.round().await;
        let series = w.sandbox.data.series.clone();
        let occ = w.occurrences(&w.jana, &series);
        assert_eq!(occ.len(), 4);
        w.sandbox.graph.delete_event(&w.jana, &text(&occ[1], "/id"));
        w.round().await;
        let mut records: Vec<(String, String)> = w
            .raynet_titled("Team stand-up")
            .iter()
            .map(|(_, _, r)| (prague(r, "scheduledFrom"), text(r, "/status")))
            .collect();
        records.sort();
        let s = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        let mut want = vec![
            s("2026-11-26 09:00", "SCHEDULED"),
            s("2026-12-10 09:00", "SCHEDULED"),
            s("2026-12-17 09:00", "SCHEDULED"),
        ];
        if let Some(status) = expected {
            want.insert(1, s("2026-12-03 09:00", status));
        }
        assert_eq!(records, want, "outlook_deletes = {policy}");
        assert_eq!(w.occurrences(&w.jana, &series).len(), 3, "{policy}");
        w.idle_round().await;
    }
}

/// Rule 6: moving the window forward adds the occurrences that enter it and never deletes the
/// ones that left it.
#[tokio::test]
async fn recurring_series_a_moving_window_adds_and_never_deletes() {
    let w = World::new("window_days_back = 7\nwindow_days_ahead = 14\n").await;
    w.sandbox.graph.add_series(
        &w.jana,
        SeriesSeed::weekly(
            "Weekly review",
            utc("2026-11-27 10:00"),
            Duration::hours(1),
            &[chrono::Weekday::Fri],
            8,
        ),
    );
    w.round().await;
    let starts = |w: &World| {
        let mut v: Vec<(String, String)> = w
            .raynet_titled("Weekly review")
            .iter()
            .map(|(_, _, r)| (prague(r, "scheduledFrom"), text(r, "/status")))
            .collect();
        v.sort();
        v
    };
    let s = |a: &str| (a.to_owned(), "SCHEDULED".to_owned());
    // Window on 25 Nov: 18 Nov – 10 Dec.
    assert_eq!(
        starts(&w),
        vec![s("2026-11-27 11:00"), s("2026-12-04 11:00")]
    );
    // Three weeks later (window 9 Dec – 31 Dec).
    let later = w.now + Duration::days(21);
    w.round_at(later).await;
    assert_eq!(
        starts(&w),
        vec![
            s("2026-11-27 11:00"),
            s("2026-12-04 11:00"),
            s("2026-12-11 11:00"),
            s("2026-12-18 11:00"),
            s("2026-12-25 11:00"),
        ]
    );
    // Nothing that left the window was deleted on either side.
    assert_eq!(w.inst().ids("meeting").len(), 3);
    assert!(
        w.outlook_subjects(&w.jana)
            .contains(&"Obchodní jednání – Acme".to_owned())
    );
    w.idle_round_at(later).await;
}

// ================================================================ 7. the window

/// Rule 7: items outside the window are not synced; items leaving it are left alone on both
/// sides (never deleted for leaving, their edits and deletions not carried over).
#[tokio::test]
async fn the_window_limits_what_is_synced_and_leaving_it_deletes_nothing() {
    let w = World::new("window_days_back = 7\nwindow_days_ahead = 14\n").await;
    let inst = w.inst();
    inst.add_event(
        ActivitySeed::new("Raynet far ahead", w.jana_person())
            .scheduled_local("2026-12-30 09:00", "2026-12-30 10:00"),
    )
    .unwrap();
    inst.add_event(
        ActivitySeed::new("Raynet long ago", w.jana_person())
            .scheduled_local("2026-11-02 09:00", "2026-11-02 10:00"),
    )
    .unwrap();
    w.sandbox.graph.add_event(
        &w.jana,
        EventSeed::new(
            "Outlook far ahead",
            utc("2026-12-30 12:00"),
            utc("2026-12-30 13:00"),
        ),
    );
    w.sandbox.graph.add_event(
        &w.jana,
        EventSeed::new(
            "Outlook long ago",
            utc("2026-11-02 12:00"),
            utc("2026-11-02 13:00"),
        ),
    );
    w.round().await;
    let outlook = w.outlook_subjects(&w.jana);
    assert!(
        !outlook.contains(&"Raynet far ahead".to_owned()),
        "{outlook:?}"
    );
    assert!(
        !outlook.contains(&"Raynet long ago".to_owned()),
        "{outlook:?}"
    );
    assert!(w.raynet_titled("Outlook far ahead").is_empty());
    assert!(w.raynet_titled("Outlook long ago").is_empty());
    // (Window on 25 Nov: 18 Nov – 10 Dec; two of the four stand-ups are in it.)
    let mut expected = jana_default_titles();
    expected.retain(|t| *t != "Team stand-up");
    expected.extend([
        "Raynet far ahead",
        "Raynet long ago",
        "Team stand-up",
        "Team stand-up",
    ]);
    assert_eq!(w.raynet_titles(w.jana_person()), sorted(expected.clone()));

    // A month later (window 18 Dec – 9 Jan): the sample items of late November have left it.
    let later = w.now + Duration::days(30);
    w.round_at(later).await;
    // The far-ahead items entered the window and were synced.
    let (_, _, far) = w.raynet_one("Outlook far ahead");
    assert_eq!(prague(&far, "scheduledFrom"), "2026-12-30 13:00");
    let ev = w.outlook_one(&w.jana, "Raynet far ahead");
    assert_eq!(outlook_utc(&ev, "start"), "2026-12-30 08:00");
    // Items that left the window stay as they were on both sides.
    assert_eq!(
        w.outlook_one(&w.jana, "Obchodní jednání – Acme")["subject"],
        "Obchodní jednání – Acme"
    );
    assert_eq!(
        w.raynet_one("Customer call – Brno").2["status"],
        "SCHEDULED"
    );
    assert_eq!(
        outlook_utc(&w.outlook_one(&w.jana, "Customer call – Brno"), "start"),
        "2026-11-29 09:00"
    );
    expected.push("Outlook far ahead");
    assert_eq!(w.raynet_titles(w.jana_person()), sorted(expected));
    assert!(w.raynet_titled("Outlook long ago").is_empty());
    assert!(
        !w.outlook_subjects(&w.jana)
            .contains(&"Raynet long ago".to_owned())
    );
    w.idle_round_at(later).await;
}

/// Rule 7: a pair that has left the window is left alone — a later Raynet edit does not reach
/// Outlook and a later Outlook deletion does not cancel the Raynet record, however many rounds
/// run.
#[tokio::test]
async fn changes_outside_the_window_are_not_carried_over() {
    let w = World::new("window_days_back = 7\nwindow_days_ahead = 14\n").await;
    w.round().await;
    let acme = text(&w.outlook_one(&w.jana, "Obchodní jednání – Acme"), "/id");
    // A month later the late-November items are outside the window (18 Dec – 9 Jan).
    let later = w.now + Duration::days(30);
    w.round_at(later).await;
    w.inst()
        .edit(
            "meeting",
            w.sandbox.data.meetings[0],
            &json!({"title": "Obchodní jednání – Acme (archiv)"}),
        )
        .unwrap();
    w.sandbox
        .graph
        .delete_event(&w.jana, &w.sandbox.data.customer_call);
    w.round_at(later).await;
    w.round_at(later).await;
    let ev = w.sandbox.graph.event(&w.jana, &acme).unwrap();
    assert_eq!(
        ev["subject"], "Obchodní jednání – Acme",
        "outside the window"
    );
    assert_eq!(
        w.raynet_one("Customer call – Brno").2["status"],
        "SCHEDULED"
    );
    assert_eq!(
        w.inst()
            .record("meeting", w.sandbox.data.meetings[0])
            .unwrap()["title"],
        "Obchodní jednání – Acme (archiv)"
    );
}

// ================================================================ 8. attendees

/// Rule 8, `attendees = "invite"` (the default): participants with an e-mail become Outlook
/// attendees and Outlook invites them; an edit that touches neither time, place, title nor
/// attendees sends no new invitation.
///
/// The fake models Graph/Exchange: any PATCH of an organiser's meeting that carries `start`,
/// `end`, `location`, `subject` or `body` mails an *update* to the kept attendees. So a
/// description-only Raynet edit is logged as one `Update` (never a new `Invite`) — that is
/// Outlook's own behaviour for a body change, not a re-invitation.
#[tokio::test]
async fn attendees_invite_invites_once_and_edits_do_not_reinvite() {
    let w = World::new("attendees = \"invite\"\n").await;
    w.round().await;
    let ev = w.outlook_one(&w.jana, "Obchodní jednání – Acme");
    let acme = text(&ev, "/id");
    assert_eq!(attendees(&ev), ["karel.svoboda@acme-stroje.cz"]);
    let log = w.sandbox.graph.invitations();
    let summary = |log: &[graph_client::fake::Invitation]| {
        let mut v: Vec<(InvitationKind, String, Vec<String>)> = log
            .iter()
            .map(|i| {
                (
                    i.kind,
                    i.subject.clone().unwrap_or_default(),
                    i.attendees.clone(),
                )
            })
            .collect();
        v.sort_by(|a, b| a.1.cmp(&b.1));
        v
    };
    let v = |s: &str| vec![s.to_owned()];
    assert_eq!(
        summary(&log),
        vec![
            (
                InvitationKind::Invite,
                "Kontrolní den".to_owned(),
                v("eva.mala@acme-stroje.cz")
            ),
            (
                InvitationKind::Invite,
                "Logistika – roční plán".to_owned(),
                v("tomas.cerny@brlog.cz")
            ),
            (
                InvitationKind::Invite,
                "Obchodní jednání – Acme".to_owned(),
                v("karel.svoboda@acme-stroje.cz")
            ),
        ]
    );
    // An idle round and an edit of a field Outlook does not hold: nothing is mailed.
    w.idle_round().await;
    let meeting = w.sandbox.data.meetings[0];
    w.inst()
        .edit("meeting", meeting, &json!({"priority": "CRITICAL"}))
        .unwrap();
    w.round().await;
    assert_eq!(w.sandbox.graph.invitations().len(), 3);
    // A description-only edit: no new invitation (Outlook mails one body update).
    w.inst()
        .edit(
            "meeting",
            meeting,
            &json!({"description": "<p>Cenová nabídka v2</p>"}),
        )
        .unwrap();
    w.round().await;
    let log = w.sandbox.graph.invitations();
    assert_eq!(log.len(), 4, "{log:?}");
    assert!(
        log.iter()
            .filter(|i| i.kind == InvitationKind::Invite)
            .count()
            == 3
    );
    assert_eq!(log[3].kind, InvitationKind::Update);
    assert_eq!(log[3].event_id, acme);
    assert_eq!(log[3].attendees, v("karel.svoboda@acme-stroje.cz"));
    // A new participant: exactly one invitation, to the new attendee only.
    let eva = w.person_id("Malá");
    w.inst()
        .edit(
            "meeting",
            meeting,
            &json!({"participants": [{"person": eva, "role": "TO"}]}),
        )
        .unwrap();
    w.round().await;
    let log = w.sandbox.graph.invitations();
    let new: Vec<_> = log[4..]
        .iter()
        .map(|i| (i.kind, i.attendees.clone()))
        .collect();
    assert_eq!(
        new,
        vec![(InvitationKind::Invite, v("eva.mala@acme-stroje.cz"))]
    );
    let ev = w.sandbox.graph.event(&w.jana, &acme).unwrap();
    assert_eq!(
        attendees(&ev),
        ["eva.mala@acme-stroje.cz", "karel.svoboda@acme-stroje.cz"]
    );
    w.idle_round().await;
    assert_eq!(w.sandbox.graph.invitations().len(), 5);
    // A time change: one update to both attendees (that edit does concern them).
    w.inst()
        .edit(
            "meeting",
            meeting,
            &json!({"scheduledFrom": "2026-11-26 12:00", "scheduledTill": "2026-11-26 13:30"}),
        )
        .unwrap();
    w.round().await;
    let log = w.sandbox.graph.invitations();
    let new: Vec<_> = log[5..]
        .iter()
        .map(|i| {
            let mut to = i.attendees.clone();
            to.sort();
            (i.kind, to)
        })
        .collect();
    assert_eq!(
        new,
        vec![(
            InvitationKind::Update,
            vec![
                "eva.mala@acme-stroje.cz".to_owned(),
                "karel.svoboda@acme-stroje.cz".to_owned()
            ]
        )]
    );
    let ev = w.sandbox.graph.event(&w.jana, &acme).unwrap();
    assert_eq!(outlook_utc(&ev, "start"), "2026-11-26 11:00");
}

/// Rule 8, `attendees = "list"`: participants are listed in the body, no attendee is added and
/// no invitation is ever logged.
#[tokio::test]
async fn attendees_list_puts_participants_in_the_body_and_sends_nothing() {
    let w = World::new("attendees = \"list\"\n").await;
    w.round().await;
    let ev = w.outlook_one(&w.jana, "Obchodní jednání – Acme");
    let acme = text(&ev, "/id");
    assert!(attendees(&ev).is_empty(), "{ev}");
    let body = text(&ev, "/body/content");
    assert!(body.starts_with("Cenová nabídka"), "{body}");
    assert!(body.contains("-- Raynet participants --"), "{body}");
    assert!(
        body.contains("Karel Svoboda <karel.svoboda@acme-stroje.cz>"),
        "{body}"
    );
    assert!(attendees(&w.outlook_one(&w.petr, "Logistika – roční plán")).is_empty());
    assert!(w.sandbox.graph.invitations().is_empty());
    // A new participant in Raynet: listed, still nothing sent; Raynet keeps both.
    let meeting = w.sandbox.data.meetings[0];
    let eva = w.person_id("Malá");
    w.inst()
        .edit(
            "meeting",
            meeting,
            &json!({"participants": [{"person": eva, "role": "TO"}]}),
        )
        .unwrap();
    w.round().await;
    let ev = w.sandbox.graph.event(&w.jana, &acme).unwrap();
    assert!(attendees(&ev).is_empty());
    let body = text(&ev, "/body/content");
    assert!(
        body.contains("Eva Malá <eva.mala@acme-stroje.cz>"),
        "{body}"
    );
    assert!(w.sandbox.graph.invitations().is_empty());
    let rec = w.inst().record("meeting", meeting).unwrap();
    assert_eq!(participants(&rec), {
        let mut v = vec![w.person_id("Svoboda"), eva];
        v.sort_unstable();
        v
    });
    // The listing never leaks back into the Raynet description.
    assert!(!text(&rec, "/description").contains("Raynet participants"));
    w.idle_round().await;
    assert!(w.sandbox.graph.invitations().is_empty());
}

/// Rule 8: Outlook attendees whose e-mail matches a Raynet person become participants of the
/// Raynet record.
#[tokio::test]
async fn outlook_attendees_link_the_record_to_matching_persons() {
    let w = World::new("").await;
    let t = utc("2026-11-30 09:00");
    w.sandbox.graph.add_event(
        &w.jana,
        EventSeed::new("Follow-up with Eva", t, t + Duration::hours(1))
            .attendee("eva.mala@acme-stroje.cz")
            .attendee("someone@unknown.example"),
    );
    w.round().await;
    let (_, _, rec) = w.raynet_one("Follow-up with Eva");
    assert_eq!(participants(&rec), vec![w.person_id("Malá")]);
    assert_eq!(owner(&rec), w.jana_person());
    w.idle_round().await;
}

/// Rule 8: ... and to that person's company.
#[tokio::test]
async fn outlook_attendees_link_the_record_to_the_persons_company() {
    let w = World::new("").await;
    let t = utc("2026-11-30 09:00");
    w.sandbox.graph.add_event(
        &w.jana,
        EventSeed::new("Follow-up with Eva", t, t + Duration::hours(1))
            .attendee("eva.mala@acme-stroje.cz"),
    );
    w.round().await;
    let (_, _, rec) = w.raynet_one("Follow-up with Eva");
    assert_eq!(participants(&rec), vec![w.person_id("Malá")]);
    assert_eq!(text(&rec, "/company/name"), "Acme Stroje a.s.", "{rec}");
}

// ================================================================ 9. time zones

/// Rule 9, around the March switch (29 March 2026, 02:00 CET → 03:00 CEST): Outlook events
/// made in Los Angeles and Tokyo land on the right Prague wall-clock times, all-day items stay
/// on their dates both ways, and a second round moves nothing.
#[tokio::test]
async fn time_zones_across_the_march_dst_switch() {
    let now = utc("2026-03-20 12:00");
    let w = World::at(now, "").await;
    let g = &w.sandbox.graph;
    let add = |subject: &str, tz: Tz, zone: &str, local: &str| {
        let start = at(tz, local);
        g.add_event(
            &w.jana,
            EventSeed::new(subject, start, start + Duration::hours(1)).zone(zone),
        )
    };
    // Los Angeles is already on PDT (8 March); Prague switches on 29 March.
    add(
        "LA before",
        LOS_ANGELES,
        "Pacific Standard Time",
        "2026-03-28 09:00",
    );
    add(
        "LA after",
        LOS_ANGELES,
        "Pacific Standard Time",
        "2026-03-30 09:00",
    );
    add(
        "Tokyo at 00 UTC",
        TOKYO,
        "Tokyo Standard Time",
        "2026-03-29 09:00",
    );
    add(
        "Tokyo at 02 UTC",
        TOKYO,
        "Tokyo Standard Time",
        "2026-03-29 11:00",
    );
    g.add_event(
        &w.jana,
        EventSeed::all_day("LA all day", date("2026-03-29"), date("2026-03-30"))
            .zone("Pacific Standard Time"),
    );
    g.add_event(
        &w.jana,
        EventSeed::all_day("Tokyo all day", date("2026-03-28"), date("2026-03-30"))
            .zone("Tokyo Standard Time"),
    );
    let inst = w.inst();
    inst.add_event(
        ActivitySeed::new("Raynet all day", w.jana_person())
            .scheduled_local("2026-03-29 00:00", "2026-03-30 00:00"),
    )
    .unwrap();
    inst.add_event(
        ActivitySeed::new("Raynet after switch", w.jana_person())
            .scheduled_local("2026-03-29 03:30", "2026-03-29 04:30"),
    )
    .unwrap();
    inst.add_event(
        ActivitySeed::new("Raynet before switch", w.jana_person())
            .scheduled_local("2026-03-29 01:30", "2026-03-29 01:45"),
    )
    .unwrap();
    w.round().await;

    for (title, from, till) in [
        ("LA before", "2026-03-28 17:00", "2026-03-28 18:00"),
        ("LA after", "2026-03-30 18:00", "2026-03-30 19:00"),
        ("Tokyo at 00 UTC", "2026-03-29 01:00", "2026-03-29 03:00"),
        ("Tokyo at 02 UTC", "2026-03-29 04:00", "2026-03-29 05:00"),
        ("LA all day", "2026-03-29 00:00", "2026-03-30 00:00"),
        ("Tokyo all day", "2026-03-28 00:00", "2026-03-30 00:00"),
    ] {
        let (_, _, rec) = w.raynet_one(title);
        assert_eq!(
            (prague(&rec, "scheduledFrom"), prague(&rec, "scheduledTill")),
            (from.to_owned(), till.to_owned()),
            "{title}: {rec}"
        );
    }
    for (subject, start, end, all_day) in [
        (
            "Raynet all day",
            "2026-03-29 00:00",
            "2026-03-30 00:00",
            true,
        ),
        (
            "Raynet after switch",
            "2026-03-29 01:30",
            "2026-03-29 02:30",
            false,
        ),
        (
            "Raynet before switch",
            "2026-03-29 00:30",
            "2026-03-29 00:45",
            false,
        ),
    ] {
        let ev = w.outlook_one(&w.jana, subject);
        assert_eq!(
            (
                outlook_utc(&ev, "start"),
                outlook_utc(&ev, "end"),
                ev["isAllDay"] == true
            ),
            (start.to_owned(), end.to_owned(), all_day),
            "{subject}: {ev}"
        );
    }
    // The Outlook events themselves did not move.
    let ev = w.outlook_one(&w.jana, "LA all day");
    assert_eq!(ev["isAllDay"], true);
    assert_eq!(outlook_utc(&ev, "start"), "2026-03-29 00:00");
    assert_eq!(outlook_utc(&ev, "end"), "2026-03-30 00:00");
    w.idle_round().await;
}

/// Rule 9, around the October switch (25 October 2026, 03:00 CEST → 02:00 CET, so 02:00–03:00
/// happens twice in Prague): the right wall-clock time and the right offset.
#[tokio::test]
async fn time_zones_across_the_october_dst_switch() {
    let now = utc("2026-10-20 12:00");
    let w = World::at(now, "").await;
    let g = &w.sandbox.graph;
    let add = |subject: &str, tz: Tz, zone: &str, local: &str| {
        let start = at(tz, local);
        g.add_event(
            &w.jana,
            EventSeed::new(subject, start, start + Duration::minutes(30)).zone(zone),
        )
    };
    // Los Angeles switches only on 1 November.
    add(
        "LA before",
        LOS_ANGELES,
        "Pacific Standard Time",
        "2026-10-24 09:00",
    );
    add(
        "LA after",
        LOS_ANGELES,
        "Pacific Standard Time",
        "2026-10-26 09:00",
    );
    // 00:00 UTC = 02:00 CEST (the first 02:00); 01:00 UTC = 02:00 CET (the second).
    add(
        "Tokyo first 2am",
        TOKYO,
        "Tokyo Standard Time",
        "2026-10-25 09:00",
    );
    add(
        "Tokyo second 2am",
        TOKYO,
        "Tokyo Standard Time",
        "2026-10-25 10:00",
    );
    g.add_event(
        &w.jana,
        EventSeed::all_day("LA all day", date("2026-10-25"), date("2026-10-26"))
            .zone("Pacific Standard Time"),
    );
    w.inst()
        .add_event(
            ActivitySeed::new("Raynet all day", w.jana_person())
                .scheduled_local("2026-10-25 00:00", "2026-10-26 00:00"),
        )
        .unwrap();
    w.round().await;
    for (title, from, till) in [
        (
            "LA before",
            "2026-10-24T18:00:00.000+02:00",
            "2026-10-24T18:30:00.000+02:00",
        ),
        (
            "LA after",
            "2026-10-26T17:00:00.000+01:00",
            "2026-10-26T17:30:00.000+01:00",
        ),
        (
            "Tokyo first 2am",
            "2026-10-25T02:00:00.000+02:00",
            "2026-10-25T02:30:00.000+02:00",
        ),
        (
            "Tokyo second 2am",
            "2026-10-25T02:00:00.000+01:00",
            "2026-10-25T02:30:00.000+01:00",
        ),
        (
            "LA all day",
            "2026-10-25T00:00:00.000+02:00",
            "2026-10-26T00:00:00.000+01:00",
        ),
    ] {
        let (_, _, rec) = w.raynet_one(title);
        assert_eq!(
            (text(&rec, "/scheduledFrom"), text(&rec, "/scheduledTill")),
            (from.to_owned(), till.to_owned()),
            "{title}"
        );
    }
    let ev = w.outlook_one(&w.jana, "Raynet all day");
    assert_eq!(ev["isAllDay"], true);
    assert_eq!(outlook_utc(&ev, "start"), "2026-10-25 00:00");
    assert_eq!(outlook_utc(&ev, "end"), "2026-10-26 00:00");
    let ev = w.outlook_one(&w.jana, "Tokyo second 2am");
    assert_eq!(outlook_utc(&ev, "start"), "2026-10-25 01:00");
    w.idle_round().await;
}

// ================================================================ 10. contacts

/// Rule 10: contacts flow one way into the dedicated folder; an Outlook edit or deletion of a
/// synced contact is restored from Raynet; contacts outside the folder are never touched.
#[tokio::test]
async fn contacts_flow_one_way_and_outlook_changes_are_restored() {
    let w = World::new("").await;
    let g = &w.sandbox.graph;
    let personal = g.add_contact_folder(&w.jana, "Personal");
    g.add_contact(
        &w.jana,
        &personal,
        json!({"givenName": "Mom", "surname": "Nováková"}),
    );
    w.round().await;
    let all = sorted(vec![
        "Dvořák",
        "Horáková",
        "Malá",
        "Nováková",
        "Robot",
        "Svoboda",
        "Černý",
    ]);
    assert_eq!(w.contact_surnames(&w.jana), all);
    assert_eq!(w.contact_surnames(&w.petr), all);
    let karel = w.contact(&w.jana, "Svoboda");
    assert_eq!(karel["givenName"], "Karel");
    assert_eq!(karel["companyName"], "Acme Stroje a.s.");
    assert_eq!(karel["jobTitle"], "obchodní ředitel");
    // Outlook edits and deletes synced contacts, and adds one of its own into the folder.
    let folder = w.folder(&w.jana, "Raynet").unwrap();
    g.edit_contact(
        &w.jana,
        &text(&karel, "/id"),
        &json!({"jobTitle": "CEO", "givenName": "Karlík"}),
    );
    g.delete_contact(&w.jana, &text(&w.contact(&w.jana, "Malá"), "/id"));
    g.add_contact(
        &w.jana,
        &folder,
        json!({"givenName": "Own", "surname": "Zeman"}),
    );
    w.round().await;
    let karel = w.contact(&w.jana, "Svoboda");
    assert_eq!(karel["givenName"], "Karel");
    assert_eq!(karel["jobTitle"], "obchodní ředitel");
    let mut with_own = all.clone();
    with_own.push("Zeman".to_owned());
    with_own.sort();
    assert_eq!(w.contact_surnames(&w.jana), with_own);
    // Nothing flows back to Raynet.
    let karel_rec = w.inst().record("person", w.person_id("Svoboda")).unwrap();
    assert_eq!(karel_rec["firstName"], "Karel");
    assert!(
        w.inst()
            .ids("person")
            .iter()
            .all(|id| { w.inst().record("person", *id).unwrap()["lastName"] != "Zeman" })
    );
    // The contact outside the folder is untouched.
    let mine = g.contacts(&w.jana, &personal);
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["givenName"], "Mom");
    // A Raynet edit flows to every member.
    w.inst()
        .edit(
            "person",
            w.person_id("Černý"),
            &json!({"firstName": "Tomáš Jan"}),
        )
        .unwrap();
    w.round().await;
    assert_eq!(w.contact(&w.jana, "Černý")["givenName"], "Tomáš Jan");
    assert_eq!(w.contact(&w.petr, "Černý")["givenName"], "Tomáš Jan");
    w.idle_round().await;
}

/// Rule 10, `contacts_filter = "owned"`: each member gets the persons they own.
#[tokio::test]
async fn contacts_filter_owned() {
    let w = World::new("contacts_filter = \"owned\"\n").await;
    w.round().await;
    assert_eq!(w.contact_surnames(&w.jana), sorted(vec!["Malá", "Svoboda"]));
    assert_eq!(w.contact_surnames(&w.petr), sorted(vec!["Černý"]));
    w.idle_round().await;
}

/// Rule 10, `contacts_filter = "tag:<name>"`: only persons with the tag; a person losing the
/// tag leaves the folder, one gaining it joins.
#[tokio::test]
async fn contacts_filter_tag() {
    let w = World::new("contacts_filter = \"tag:vip\"\n").await;
    w.inst()
        .edit("person", w.person_id("Horáková"), &json!({"tags": ["vip"]}))
        .unwrap();
    w.inst()
        .add_person(
            PersonSeed::new("Veselý")
                .first_name("Jan")
                .email("jan.vesely@example.cz")
                .tags(&["vip", "partner"]),
        )
        .unwrap();
    w.round().await;
    assert_eq!(
        w.contact_surnames(&w.jana),
        sorted(vec!["Horáková", "Veselý"])
    );
    assert_eq!(
        w.contact_surnames(&w.petr),
        sorted(vec!["Horáková", "Veselý"])
    );
    // A person gaining the tag joins.
    w.inst()
        .edit("person", w.person_id("Svoboda"), &json!({"tags": ["vip"]}))
        .unwrap();
    w.round().await;
    assert_eq!(
        w.contact_surnames(&w.jana),
        sorted(vec!["Horáková", "Svoboda", "Veselý"])
    );
    w.idle_round().await;
}

/// Rule 10: a person who no longer passes the filter (the tag removed) leaves the folder —
/// the folder holds exactly the persons the filter selects.
#[tokio::test]
async fn contacts_leaving_the_filter_leave_the_folder() {
    let w = World::new("contacts_filter = \"tag:vip\"\n").await;
    for last in ["Horáková", "Svoboda"] {
        w.inst()
            .edit("person", w.person_id(last), &json!({"tags": ["vip"]}))
            .unwrap();
    }
    w.round().await;
    assert_eq!(
        w.contact_surnames(&w.jana),
        sorted(vec!["Horáková", "Svoboda"])
    );
    w.inst()
        .edit("person", w.person_id("Horáková"), &json!({"tags": []}))
        .unwrap();
    w.round().await;
    w.round().await;
    assert_eq!(w.contact_surnames(&w.jana), sorted(vec!["Svoboda"]));
    assert_eq!(w.contact_surnames(&w.petr), sorted(vec!["Svoboda"]));
}
