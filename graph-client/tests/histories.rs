//! sync-core's random histories (creates, edits, deletes, faults, store crashes) replayed with
//! the Outlook side = `GraphCalendar` over the fake Graph and the Raynet side = an in-memory
//! side; and random one-way contact histories into `GraphContacts`. Case count:
//! `PROPTEST_CASES` (32 when unset, to keep CI fast).

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use graph_client::RetryConfig;
use graph_client::adapter::{
    GraphCalendar, GraphContacts, contact_to_core, event_from_core, event_to_core,
};
use graph_client::client::models;
use graph_client::fake::{EventSeed, FakeGraph, Fault, UserSeed};
use proptest::prelude::*;
use serde_json::Value;
use sync_core::testing::MemorySide;
use sync_core::testing::history::{
    EditKinds, HistoryRun, Op, SideFault, UserSide, Violation, strategy,
};
use sync_core::{
    Collection, Contact, ContactProfile, DeleteGuard, Email, Event, EventProfile, Member,
    MemoryStore, Phone, PhoneKind, Policy, RemoteId, Schedule, Scope, SyncItem,
};

/// Attempts per request of the histories' client: a fault must outlast them to fail a call.
const ATTEMPTS: u32 = 3;

const MAIL: &str = "alice@acme.test";

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32)
        .max(1)
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 3, 1, 12, 0, 0)
        .single()
        .expect("valid time")
}

/// What a user does in Outlook, through the fake's user actions and inspection API.
struct OutlookUser<'a> {
    fake: &'a FakeGraph,
    user: String,
}

/// The Graph fields a user edit sets (everything the event holds that Outlook shows).
fn graph_fields(e: &Event) -> serde_json::Map<String, Value> {
    let v = serde_json::to_value(event_from_core(e, true)).expect("event serializes");
    match v {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}

/// An event as the fake's inspection API shows it, through the adapter's mapping.
fn read(v: Value) -> Option<(RemoteId, Event)> {
    let ev: models::Event = serde_json::from_value(v).ok()?;
    let id = RemoteId::new(ev.id.clone()?).ok()?;
    Some((id, event_to_core(&ev).ok()?))
}

impl UserSide for OutlookUser<'_> {
    fn user_create(&self, item: Event) -> RemoteId {
        let Schedule::Timed { start, end } = item.schedule else {
            unreachable!("histories create timed events")
        };
        let mut seed = EventSeed::new(&item.title, start, end);
        for (k, v) in graph_fields(&item) {
            if !matches!(k.as_str(), "start" | "end" | "isAllDay") {
                seed = seed.field(&k, v);
            }
        }
        RemoteId::new(self.fake.add_event(&self.user, seed)).expect("fake ids are valid")
    }

    fn user_edit(&self, id: &RemoteId, edit: &mut dyn FnMut(&mut Event)) -> bool {
        let Some((_, mut e)) = self.fake.event(&self.user, id.as_str()).and_then(read) else {
            return false;
        };
        edit(&mut e);
        let fields = Value::Object(graph_fields(&e));
        self.fake.edit_event(&self.user, id.as_str(), &fields)
    }

    fn user_delete(&self, id: &RemoteId) -> bool {
        self.fake.delete_event(&self.user, id.as_str())
    }

    fn user_list(&self) -> Vec<(RemoteId, Event)> {
        self.fake
            .events(&self.user)
            .into_iter()
            .filter_map(read)
            .collect()
    }

    fn inject(&self, fault: SideFault) -> bool {
        let fault = match fault {
            // Every attempt of the first delta request fails: the read fails.
            SideFault::FailingRead => Fault::status(500).on("calendarView.delta").times(ATTEMPTS),
            // Refused without effect, on every attempt of the next n writes.
            SideFault::FailingWrites(n) => {
                Fault::status(503).on("events.write").times(n * ATTEMPTS)
            }
            // Takes effect, then the answer is lost (the client repeats it).
            SideFault::InterruptedWrite => Fault::lost_response(504).on("events.write"),
            // The adapter never returns a partial read.
            SideFault::PartialRead => return false,
        };
        self.fake.inject(fault.for_mailbox(&self.user));
        true
    }

    fn heal(&self) {
        self.fake.clear_faults();
    }
}

/// What histories may do: everything. (Graph cannot cancel an event with a PATCH; the engine
/// turns a Raynet cancellation into removing the Outlook event, so status edits converge too.)
fn kinds() -> EditKinds {
    EditKinds::all()
}

async fn run_history(policy: Policy, ops: Vec<Op>, small_pages: bool) -> Result<(), Violation> {
    let fake = FakeGraph::start().await;
    let user = fake.add_user(UserSeed::new("Alice").mail(MAIL));
    let client = fake
        .client_builder()
        .retry(RetryConfig::new(
            ATTEMPTS,
            Duration::from_millis(1),
            Duration::from_millis(5),
            Duration::from_millis(20),
        ))
        // Small pages: every round follows next links and meets Graph's replays.
        .page_size(if small_pages { 2 } else { 50 })
        .build()
        .expect("client builds");
    let outlook = GraphCalendar::new(client, user.clone());
    let outlook_user = OutlookUser {
        fake: &fake,
        user: user.clone(),
    };
    let raynet = MemorySide::new(EventProfile::raynet()).with_prefix("r");
    let store = MemoryStore::new();
    let run = HistoryRun {
        raynet: &raynet,
        outlook: &outlook,
        raynet_user: &raynet,
        outlook_user: &outlook_user,
        store: &store,
        policy,
        member: Member::single(MAIL.parse().expect("valid address")),
        scope: Scope::new("acme", MAIL, Collection::Calendar),
        now: now(),
    };
    run.run(&ops).await?;
    if std::env::var_os("HISTORY_DEBUG").is_some() {
        eprintln!(
            "ops {} raynet {} outlook {} requests {} faults {}/{}/{} created {} updated {} deleted {}",
            ops.len(),
            raynet.len(),
            outlook_user.user_list().len(),
            fake.requests().len(),
            fake.status_count(500),
            fake.status_count(503),
            fake.status_count(504),
            fake.request_count("events.create"),
            fake.request_count("events.update"),
            fake.request_count("events.delete")
        );
    }
    Ok(())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// Convergence, idempotence and no duplicates through the Graph adapter and the fake.
    #[test]
    fn histories_converge_through_graph(
        policy in strategy::converging_policy(),
        ops in strategy::ops(kinds(), 30),
        small_pages in any::<bool>(),
    ) {
        let result = runtime().block_on(run_history(policy, ops, small_pages));
        if let Err(v) = result {
            return Err(TestCaseError::fail(v.to_string()));
        }
    }
}

// ---------------------------------------------------------------- contacts

/// One step of a contact history.
#[derive(Clone, Debug)]
enum ContactOp {
    /// A new Raynet person (emails, phones by kind: business, mobile, home).
    Create(u8, (u8, u8, u8)),
    /// A Raynet edit of the n-th person: a new surname, job, e-mail count or notes.
    Edit(usize, u8),
    /// A Raynet person deleted.
    Delete(usize),
    /// A user edit of the n-th contact in Outlook (to be overwritten).
    OutlookEdit(usize),
    /// A user deletion of the n-th contact in Outlook (to be restored).
    OutlookDelete(usize),
    /// A round, with a fault on the Outlook side (0: none, 1: failing read, 2: failing
    /// writes, 3: interrupted write, 4: store crash after two writes).
    Round(u8),
}

fn contact_ops() -> impl Strategy<Value = Vec<ContactOp>> {
    let op = prop_oneof![
        3 => (0u8..6, (0u8..4, 0u8..3, 0u8..4)).prop_map(|(e, p)| ContactOp::Create(e, p)),
        3 => (any::<usize>(), 0u8..8).prop_map(|(i, k)| ContactOp::Edit(i, k)),
        1 => any::<usize>().prop_map(ContactOp::Delete),
        1 => any::<usize>().prop_map(ContactOp::OutlookEdit),
        1 => any::<usize>().prop_map(ContactOp::OutlookDelete),
        3 => (0u8..5).prop_map(ContactOp::Round),
    ];
    proptest::collection::vec(op, 1..30)
}

fn new_person(tag: u32, emails: u8, (business, mobile, home): (u8, u8, u8)) -> Contact {
    let phone = |kind, i: u8| Phone {
        kind,
        number: format!("+420 {tag} {i}"),
    };
    // Grouped by kind, as an Outlook contact holds them (see the report on phone order).
    let phones = (0..business)
        .map(|i| phone(PhoneKind::Business, i))
        .chain((0..mobile).map(|i| phone(PhoneKind::Mobile, 10 + i)))
        .chain((0..home).map(|i| phone(PhoneKind::Home, 20 + i)))
        .collect();
    Contact {
        given_name: format!("p{tag}"),
        surname: "Novák".into(),
        emails: (0..emails)
            .filter_map(|i| Email::new(&format!("p{tag}.{i}@firma.test")).ok())
            .collect(),
        phones,
        company: "Firma".into(),
        ..Contact::default()
    }
}

fn edit_person(c: &mut Contact, k: u8) {
    match k % 4 {
        0 => c.surname = format!("Novák {k}"),
        1 => c.job_title = format!(" job  {k} "),
        2 => {
            c.emails = (0..k)
                .filter_map(|i| Email::new(&format!("{}.{i}@firma.test", c.given_name)).ok())
                .collect();
        }
        _ => c.notes = format!("line {k}\r\n\r\n\r\nmore  "),
    }
}

/// What the folder holds, in comparable form.
fn outlook_contacts(fake: &FakeGraph, user: &str, folder: &str) -> Vec<String> {
    let mut v: Vec<String> = fake
        .contacts(user, folder)
        .into_iter()
        .filter_map(|c| serde_json::from_value::<models::Contact>(c).ok())
        .map(|c| format!("{:?}", contact_to_core(&c)))
        .collect();
    v.sort();
    v
}

async fn contact_round(
    source: &MemorySide<Contact>,
    target: &GraphContacts,
    store: &MemoryStore<Contact>,
) -> Result<sync_core::RoundReport, sync_core::SyncError> {
    let policy = Policy {
        delete_guard: DeleteGuard {
            allow: true,
            ..DeleteGuard::default()
        },
        ..Policy::default()
    };
    sync_core::Runner::new(Scope::new("acme", MAIL, Collection::Contacts), policy)
        .sync_contacts(source, target, store, now())
        .await
}

async fn run_contact_history(ops: Vec<ContactOp>) -> Result<(), String> {
    let fake = FakeGraph::start().await;
    let user = fake.add_user(UserSeed::new("Alice").mail(MAIL));
    let client = fake
        .client_builder()
        .retry(RetryConfig::new(
            ATTEMPTS,
            Duration::from_millis(1),
            Duration::from_millis(5),
            Duration::from_millis(20),
        ))
        .page_size(3)
        .build()
        .expect("client builds");
    let target = GraphContacts::new(client, user.clone(), "Raynet");
    let folder = target.folder_id().await.map_err(|e| e.to_string())?;
    let source = MemorySide::new(ContactProfile::default()).with_prefix("p");
    let store = MemoryStore::new();
    let mut tag = 0;
    let nth = |ids: Vec<String>, n: usize| {
        let mut ids = ids;
        ids.sort();
        (!ids.is_empty()).then(|| ids[n % ids.len()].clone())
    };
    for op in ops {
        match op {
            ContactOp::Create(emails, phones) => {
                tag += 1;
                source.insert(new_person(tag, emails, phones));
            }
            ContactOp::Edit(n, k) => {
                let ids = source.ids().iter().map(|i| i.as_str().to_owned()).collect();
                if let Some(id) = nth(ids, n) {
                    source.edit(&RemoteId::new(id).expect("id"), |c| edit_person(c, k));
                }
            }
            ContactOp::Delete(n) => {
                let ids = source.ids().iter().map(|i| i.as_str().to_owned()).collect();
                if let Some(id) = nth(ids, n) {
                    source.remove(&RemoteId::new(id).expect("id"));
                }
            }
            ContactOp::OutlookEdit(n) | ContactOp::OutlookDelete(n) => {
                let ids = fake
                    .contacts(&user, &folder)
                    .iter()
                    .filter_map(|c| c["id"].as_str().map(str::to_owned))
                    .collect();
                if let Some(id) = nth(ids, n) {
                    if matches!(op, ContactOp::OutlookEdit(_)) {
                        fake.edit_contact(
                            &user,
                            &id,
                            &serde_json::json!({"jobTitle": "edited in Outlook"}),
                        );
                    } else {
                        fake.delete_contact(&user, &id);
                    }
                }
            }
            ContactOp::Round(fault) => {
                match fault {
                    1 => fake.inject(Fault::status(500).on("contacts.delta").times(ATTEMPTS)),
                    2 => fake.inject(Fault::status(503).on("contacts.write").times(2 * ATTEMPTS)),
                    3 => fake.inject(Fault::lost_response(504).on("contacts.write")),
                    4 => store.fail_after_writes(Some(2)),
                    _ => {}
                }
                let _ = contact_round(&source, &target, &store).await;
                fake.clear_faults();
                store.fail_after_writes(None);
            }
        }
    }
    let mut settled = false;
    for _ in 0..4 {
        let report = contact_round(&source, &target, &store)
            .await
            .map_err(|e| format!("a clean round failed: {e}"))?;
        if !report.failures.is_empty() {
            return Err(format!("a clean round had failures: {report}"));
        }
        if report.writes() == 0 {
            settled = true;
            break;
        }
    }
    if !settled {
        return Err("no convergence after 4 clean rounds".into());
    }
    let mut want: Vec<String> = source
        .items()
        .iter()
        .map(|c| format!("{:?}", c.project(&ContactProfile::outlook()).item))
        .collect();
    want.sort();
    let have = outlook_contacts(&fake, &user, &folder);
    if want != have {
        return Err(format!(
            "convergence: the folder differs from Raynet\n raynet:  {want:#?}\n outlook: {have:#?}"
        ));
    }
    let again = contact_round(&source, &target, &store)
        .await
        .map_err(|e| format!("a clean round failed: {e}"))?;
    if again.planned_writes != 0 {
        return Err(format!("idempotence: {again}"));
    }
    if !store
        .snapshot(&Scope::new("acme", MAIL, Collection::Contacts))
        .pending
        .is_empty()
    {
        return Err("a pending create was left behind".into());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// The one-way contact sync converges into the folder, without duplicates, whatever the
    /// edits on both sides, faults and crashes.
    #[test]
    fn contact_histories_converge_through_graph(ops in contact_ops()) {
        if let Err(v) = runtime().block_on(run_contact_history(ops)) {
            return Err(TestCaseError::fail(v));
        }
    }
}

/// A history proptest found (seed in `proptest-regressions/histories.txt`): a store crash
/// after the Outlook creates of a round, a Raynet title edit, an Outlook description edit, a
/// round whose Outlook read fails; the Outlook edit must still reach Raynet.
#[test]
fn an_outlook_edit_after_a_crashed_create_reaches_raynet() {
    use sync_core::testing::history::{RoundFault, UserEdit};
    use sync_core::{
        AttendeeMode, CompletedEvents, ConflictPolicy, DeleteEditPolicy, InvitedEvents,
        OutlookDeletes, OutlookNewAs, PrivateEvents, Side,
    };
    let policy = Policy {
        conflict: ConflictPolicy::Latest,
        delete_vs_edit: DeleteEditPolicy::KeepEdit,
        outlook_deletes: OutlookDeletes::Delete,
        private_events: PrivateEvents::Standard,
        completed_events: CompletedEvents::Sync,
        invited_events: InvitedEvents::Skip,
        outlook_new_as: OutlookNewAs::Event,
        attendees: AttendeeMode::Invite,
        window_days_back: 30,
        window_days_ahead: 365,
        delete_guard: DeleteGuard {
            max_share: 0.2,
            floor: 2,
            allow: true,
        },
        shift_guard: sync_core::ShiftGuard::default(),
        max_invitations: sync_core::DEFAULT_MAX_INVITATIONS,
    };
    let ops = vec![
        Op::Create(Side::Raynet, 1),
        Op::Create(Side::Raynet, 1),
        Op::Create(Side::Raynet, 1),
        Op::Delete(Side::Raynet, 0),
        Op::Round(RoundFault::StoreCrashAfter(2)),
        Op::Edit(Side::Raynet, 3_703_284_585_067_607_617, UserEdit::Title(0)),
        Op::Delete(Side::Outlook, 2_831_464_392_890_160_350),
        Op::Edit(Side::Outlook, 0, UserEdit::Description(0)),
        Op::Round(RoundFault::Side(Side::Outlook, SideFault::FailingRead)),
    ];
    let result = runtime().block_on(run_history(policy, ops, false));
    assert!(result.is_ok(), "{result:?}");
}
