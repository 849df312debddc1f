//! `DeltaPrefetch`: the first pages of many mailboxes' stored delta links read 20 to a
//! `$batch`, and the sides' reads using them instead of a request of their own (wiremock for
//! the wire format, the fake end to end with expiry and throttling).

use std::collections::BTreeSet;
use std::time::Duration;

use graph_client::Client;
use graph_client::adapter::{DeltaPrefetch, GraphCalendar, GraphContacts, PrefetchStats};
use graph_client::fake::{EventSeed, FakeGraph, UserSeed};
use serde_json::{Value, json};
use sync_core::{Completeness, Contact, Cursor, Event, ReadRequest, ReadSide, SideRead, Window};
use wiremock::matchers::{body_json, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::util::at;

fn window() -> Window {
    let (start, end) = crate::util::window();
    Window { start, end }
}

fn calendar_request(cursor: Option<Cursor>) -> ReadRequest {
    ReadRequest {
        window: Some(window()),
        cursor,
    }
}

fn contacts_request(cursor: Option<Cursor>) -> ReadRequest {
    ReadRequest {
        window: None,
        cursor,
    }
}

// ---------------------------------------------------------------- wiremock

const A: &str = "7a1c2b3d-0000-4000-8000-00000000000a";
const B: &str = "7a1c2b3d-0000-4000-8000-00000000000b";
const C: &str = "7a1c2b3d-0000-4000-8000-00000000000c";
const D: &str = "7a1c2b3d-0000-4000-8000-00000000000d";

fn fixture(text: &str, server: &MockServer, user: &str) -> Value {
    let text = text
        .replace("{{BASE}}", &format!("{}/v1.0", server.uri()))
        .replace("{{USER}}", user);
    serde_json::from_str(&text).expect("fixture is JSON")
}

fn calendar_link(server: &MockServer, user: &str, token: &str) -> String {
    format!(
        "{}/v1.0/users/{user}/calendarView/delta?$deltatoken={token}",
        server.uri()
    )
}

fn contacts_link(server: &MockServer, user: &str, folder: &str, token: &str) -> String {
    format!(
        "{}/v1.0/users/{user}/contactFolders/{folder}/contacts/delta?$deltatoken={token}",
        server.uri()
    )
}

/// A cursor as `GraphCalendar` stores it (`gc1;<window>;<deltaLink>`), checked against
/// `resume_link` so the test follows the real format.
fn calendar_cursor(link: &str) -> Cursor {
    let cursor = Cursor::new(format!(
        "gc1;2030-01-01T00:00:00Z;2030-02-01T00:00:00Z;{link}"
    ))
    .expect("cursor");
    assert_eq!(
        GraphCalendar::resume_link(&cursor, &window()).as_deref(),
        Some(link)
    );
    cursor
}

/// A cursor as `GraphContacts` stores it (`gc1c;<folder>;<deltaLink>`).
fn contacts_cursor(folder: &str, link: &str) -> Cursor {
    let cursor = Cursor::new(format!("gc1c;{folder};{link}")).expect("cursor");
    assert_eq!(GraphContacts::resume_link(&cursor).as_deref(), Some(link));
    cursor
}

fn contact_json(id: &str, surname: &str) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.contact", "@odata.etag": "W/\"ck-1\"",
        "id": id, "changeKey": "ck-1", "givenName": "Petr", "surname": surname,
        "parentFolderId": "FB"
    })
}

/// A direct request that must never be sent: the prefetch answered it.
async fn never(server: &MockServer, user_path: &str, token: &str, name: &str) {
    Mock::given(method("GET"))
        .and(path(user_path.to_owned()))
        .and(query_param("$deltatoken", token))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .named(name)
        .mount(server)
        .await;
}

#[tokio::test]
async fn prefetched_pages_replace_the_direct_reads_and_failed_ones_fall_back() {
    let logs = crate::util::capture_logs();
    let (server, client) = crate::util::mock_graph().await;
    let cal_a = calendar_link(&server, A, "tA");
    let con_b = contacts_link(&server, B, "FB", "tB");
    let cal_c = calendar_link(&server, C, "tC");
    let con_d = contacts_link(&server, D, "FD", "tD");
    let events_prefer = r#"IdType="ImmutableId", outlook.timezone="UTC", odata.maxpagesize=200"#;
    let contacts_prefer = r#"IdType="ImmutableId", odata.maxpagesize=200"#;
    // One batch, relative URLs with the tokens verbatim, the direct requests' preferences.
    Mock::given(method("POST"))
        .and(path("/v1.0/$batch"))
        .and(body_json(json!({"requests": [
            {"id": "1", "method": "GET", "url": format!("/users/{A}/calendarView/delta?$deltatoken=tA"), "headers": {"Prefer": events_prefer}},
            {"id": "2", "method": "GET", "url": format!("/users/{B}/contactFolders/FB/contacts/delta?$deltatoken=tB"), "headers": {"Prefer": contacts_prefer}},
            {"id": "3", "method": "GET", "url": format!("/users/{C}/calendarView/delta?$deltatoken=tC"), "headers": {"Prefer": events_prefer}},
            {"id": "4", "method": "GET", "url": format!("/users/{D}/contactFolders/FD/contacts/delta?$deltatoken=tD"), "headers": {"Prefer": contacts_prefer}}
        ]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"responses": [
            // Any order.
            {"id": "4", "status": 500, "headers": {"Content-Type": "application/json"},
             "body": {"error": {"code": "generalException", "message": "General exception."}}},
            {"id": "2", "status": 200, "headers": {"Content-Type": "application/json"}, "body": {
                "value": [contact_json("CB1", "Novák")],
                "@odata.deltaLink": contacts_link(&server, B, "FB", "tB2")
            }},
            {"id": "3", "status": 410, "headers": {"Content-Type": "application/json"},
             "body": fixture(include_str!("fixtures/error-sync-state-not-found.json"), &server, C)},
            {"id": "1", "status": 200, "headers": {"Content-Type": "application/json"}, "body": {
                "value": [{
                    "@odata.etag": "W/\"ck-a1\"", "id": "AAMkA1=", "changeKey": "ck-a1",
                    "subject": "Budget review", "type": "singleInstance", "isAllDay": false,
                    "start": {"dateTime": "2030-01-09T09:00:00.0000000", "timeZone": "UTC"},
                    "end": {"dateTime": "2030-01-09T10:00:00.0000000", "timeZone": "UTC"}
                }],
                "@odata.nextLink": format!("{}/v1.0/users/{A}/calendarView/delta?$skiptoken=sA", server.uri())
            }}
        ]})))
        .expect(1)
        .named("the one $batch")
        .mount(&server)
        .await;
    // A and B were prefetched: never requested directly.
    never(
        &server,
        &format!("/v1.0/users/{A}/calendarView/delta"),
        "tA",
        "direct A",
    )
    .await;
    never(
        &server,
        &format!("/v1.0/users/{B}/contactFolders/FB/contacts/delta"),
        "tB",
        "direct B",
    )
    .await;
    // A's prefetched page has a next link: the round goes on from it.
    Mock::given(method("GET"))
        .and(path(format!("/v1.0/users/{A}/calendarView/delta")))
        .and(query_param("$skiptoken", "sA"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture(
            include_str!("fixtures/calendarview-delta-last.json"),
            &server,
            A,
        )))
        .expect(1)
        .named("A's next page")
        .mount(&server)
        .await;
    // C answered 410 inside the batch: its own request (410 again), then a full round.
    Mock::given(method("GET"))
        .and(path(format!("/v1.0/users/{C}/calendarView/delta")))
        .and(query_param("$deltatoken", "tC"))
        .respond_with(ResponseTemplate::new(410).set_body_json(fixture(
            include_str!("fixtures/error-sync-state-not-found.json"),
            &server,
            C,
        )))
        .expect(1)
        .named("C's own request")
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v1.0/users/{C}/calendarView/delta")))
        .and(query_param("startDateTime", "2029-12-31T00:00:00Z"))
        .and(query_param("endDateTime", "2030-02-02T00:00:00Z"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [], "@odata.deltaLink": calendar_link(&server, C, "tC-full")
        })))
        .expect(1)
        .named("C's full round")
        .mount(&server)
        .await;
    // D answered 500 inside the batch: its own request.
    Mock::given(method("GET"))
        .and(path(format!(
            "/v1.0/users/{D}/contactFolders/FD/contacts/delta"
        )))
        .and(query_param("$deltatoken", "tD"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [contact_json("CD1", "Dvořák")],
            "@odata.deltaLink": contacts_link(&server, D, "FD", "tD2")
        })))
        .expect(1)
        .named("D's own request")
        .mount(&server)
        .await;

    let prefetch = DeltaPrefetch::new();
    let stats = prefetch
        .load(
            &client,
            vec![
                cal_a.clone(),
                con_b.clone(),
                cal_c.clone(),
                con_d.clone(),
                cal_a.clone(),
            ],
        )
        .await;
    let mut expected = PrefetchStats::default();
    expected.links = 4;
    expected.kept = 2;
    expected.batches = 1;
    assert_eq!(
        stats, expected,
        "duplicates asked once; 410 and 500 not kept"
    );
    assert_eq!(prefetch.len(), 2);

    let a = GraphCalendar::new(client.clone(), A).with_prefetch(prefetch.clone());
    let read = a
        .read(&calendar_request(Some(calendar_cursor(&cal_a))))
        .await
        .expect("A reads");
    assert_eq!(read.completeness, Completeness::Delta);
    let titles: BTreeSet<String> = read.items.iter().map(|r| r.item.title.clone()).collect();
    assert_eq!(
        titles,
        BTreeSet::from([
            "Budget review".to_owned(),
            "New hire orientation".to_owned()
        ]),
        "both pages"
    );
    assert_eq!(read.deleted.len(), 1, "the fixture's removal");
    assert!(
        read.cursor
            .as_ref()
            .is_some_and(|c| c.as_str().ends_with("$deltatoken=R0usmci39OQxqJrxK4")),
        "the next round starts from the last page's delta link"
    );

    let b = GraphContacts::new(client.clone(), B, "Raynet").with_prefetch(prefetch.clone());
    let read = b
        .read(&contacts_request(Some(contacts_cursor("FB", &con_b))))
        .await
        .expect("B reads");
    assert_eq!(read.completeness, Completeness::Delta);
    assert_eq!(read.items.len(), 1);
    assert_eq!(read.items[0].item.surname, "Novák");
    assert!(prefetch.is_empty(), "each page taken once");

    let c = GraphCalendar::new(client.clone(), C).with_prefetch(prefetch.clone());
    let read = c
        .read(&calendar_request(Some(calendar_cursor(&cal_c))))
        .await
        .expect("C reads");
    assert_eq!(
        read.completeness,
        Completeness::Complete,
        "expired: a full round"
    );

    let d = GraphContacts::new(client.clone(), D, "Raynet").with_prefetch(prefetch.clone());
    let read = d
        .read(&contacts_request(Some(contacts_cursor("FD", &con_d))))
        .await
        .expect("D reads");
    assert_eq!(read.completeness, Completeness::Delta);
    assert_eq!(read.items[0].item.surname, "Dvořák");

    server.verify().await;
    let text = logs.text();
    assert!(text.contains("was not kept"), "{text}");
    assert!(
        !text.contains("deltatoken"),
        "links are logged without their tokens"
    );
}

#[tokio::test]
async fn a_malformed_item_of_a_prefetched_page_is_that_items_failure_not_no_changes() {
    let (server, client) = crate::util::mock_graph().await;
    let link = calendar_link(&server, A, "tA");
    Mock::given(method("POST"))
        .and(path("/v1.0/$batch"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"responses": [
                {"id": "1", "status": 200, "headers": {}, "body": {
                    "value": [{"id": "AAMkA1=", "isAllDay": "yes"}],
                    "@odata.deltaLink": calendar_link(&server, A, "tA2")
                }}
            ]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    never(
        &server,
        &format!("/v1.0/users/{A}/calendarView/delta"),
        "tA",
        "direct A",
    )
    .await;
    let prefetch = DeltaPrefetch::new();
    let stats = prefetch.load(&client, vec![link.clone()]).await;
    assert_eq!(stats.kept, 1);
    let a = GraphCalendar::new(client, A).with_prefetch(prefetch);
    // The item fails alone (#19): listed as unreadable, so it is left alone (never read as
    // "no changes" nor as a deletion); the page is read as strictly as a direct answer.
    let read = a
        .read(&calendar_request(Some(calendar_cursor(&link))))
        .await
        .expect("the read goes on past the malformed item");
    assert!(read.items.is_empty());
    assert_eq!(read.unreadable.len(), 1);
    assert_eq!(read.unreadable[0].0.as_str(), "AAMkA1=");
    assert!(
        read.unreadable[0].1.contains("value[0].isAllDay"),
        "{}",
        read.unreadable[0].1
    );
    server.verify().await;
}

#[tokio::test]
async fn foreign_links_are_never_sent_and_a_failed_batch_keeps_nothing() {
    let logs = crate::util::capture_logs();
    let (server, client) = crate::util::mock_graph().await;
    // The batch itself fails every attempt (502 is retried, then given up).
    Mock::given(method("POST"))
        .and(path("/v1.0/$batch"))
        .respond_with(ResponseTemplate::new(502))
        .mount(&server)
        .await;
    let prefetch = DeltaPrefetch::new();
    let stats = prefetch
        .load(
            &client,
            vec![
                "https://evil.example/v1.0/users/x/calendarView/delta?$deltatoken=s3cr3tE"
                    .to_owned(),
                format!("{}/v1.0/users/{A}/events?$skiptoken=s3cr3tS", server.uri()),
                calendar_link(&server, A, "s3cr3tA"),
            ],
        )
        .await;
    assert_eq!(stats.links, 3);
    assert_eq!(stats.batches, 1, "only the usable link was sent");
    assert_eq!(stats.kept, 0);
    assert!(prefetch.is_empty());
    let batches: Vec<Request> = server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.url.path() == "/v1.0/$batch")
        .collect();
    assert!(!batches.is_empty());
    for b in &batches {
        let body = String::from_utf8_lossy(&b.body);
        assert!(!body.contains("evil.example") && !body.contains("/events"));
    }
    let text = logs.text();
    assert!(
        text.contains("cannot be prefetched") && text.contains("batch failed"),
        "{text}"
    );
    assert!(!text.contains("s3cr3t"), "no token in the logs: {text}");
}

// ---------------------------------------------------------------- the fake, end to end

/// Members of the fake, each with a calendar and a contact folder read once (their cursors
/// stored), on a client with a small page size.
struct Members {
    fake: FakeGraph,
    client: Client,
    users: Vec<String>,
    folders: Vec<String>,
    events: Vec<Vec<String>>,
    contacts: Vec<Vec<String>>,
    calendar_reads: Vec<SideRead<Event>>,
    contact_reads: Vec<SideRead<Contact>>,
}

const PAGE: u32 = 3;

async fn members(n: usize) -> Members {
    let fake = FakeGraph::start().await;
    let client = fake
        .client_builder()
        .page_size(PAGE)
        .build()
        .expect("client");
    let mut m = Members {
        fake,
        client,
        users: Vec::new(),
        folders: Vec::new(),
        events: Vec::new(),
        contacts: Vec::new(),
        calendar_reads: Vec::new(),
        contact_reads: Vec::new(),
    };
    for i in 0..n {
        let user = m.fake.add_user(UserSeed::new(&format!("Member {i}")));
        let events = (0..2u32)
            .map(|k| {
                let start = at(2030, 1, 3 + k, 9, 0);
                m.fake.add_event(
                    &user,
                    EventSeed::new(
                        &format!("m{i}-e{k}"),
                        start,
                        start + chrono::Duration::hours(1),
                    ),
                )
            })
            .collect();
        let folder = m.fake.add_contact_folder(&user, "Raynet");
        let contacts = (0..2)
            .map(|k| {
                m.fake.add_contact(
                    &user,
                    &folder,
                    json!({"givenName": "Jana", "surname": format!("m{i}-c{k}")}),
                )
            })
            .collect();
        let calendar = GraphCalendar::new(m.client.clone(), user.clone());
        let read = calendar
            .read(&calendar_request(None))
            .await
            .expect("first calendar read");
        assert_eq!(read.items.len(), 2);
        m.calendar_reads.push(read);
        let target = GraphContacts::new(m.client.clone(), user.clone(), "Raynet");
        let read = target
            .read(&contacts_request(None))
            .await
            .expect("first contacts read");
        assert_eq!(read.items.len(), 2);
        m.contact_reads.push(read);
        m.users.push(user);
        m.folders.push(folder);
        m.events.push(events);
        m.contacts.push(contacts);
    }
    m
}

impl Members {
    /// Each member's two stored links, calendar then contacts (a member's links side by
    /// side, as a wiring collecting them member by member sends them).
    fn links(&self) -> Vec<String> {
        let mut links = Vec::new();
        for (cal, con) in self.calendar_reads.iter().zip(&self.contact_reads) {
            let cal = cal.cursor.as_ref().expect("calendar cursor");
            let con = con.cursor.as_ref().expect("contacts cursor");
            links.push(GraphCalendar::resume_link(cal, &window()).expect("calendar link"));
            links.push(GraphContacts::resume_link(con).expect("contacts link"));
        }
        links
    }

    /// The edits: member 0 renames an event and adds a contact, member 1 deletes an event
    /// and edits a contact, member 2 adds more events than a page holds, member 3 deletes a
    /// contact; the others change nothing.
    fn edit(&self) {
        let f = &self.fake;
        assert!(f.edit_event(
            &self.users[0],
            &self.events[0][0],
            &json!({"subject": "m0-renamed"})
        ));
        f.add_contact(
            &self.users[0],
            &self.folders[0],
            json!({"givenName": "Nový", "surname": "m0-new"}),
        );
        assert!(f.delete_event(&self.users[1], &self.events[1][1]));
        assert!(f.edit_contact(
            &self.users[1],
            &self.contacts[1][0],
            &json!({"surname": "m1-edited"})
        ));
        for k in 0..(PAGE + 2) {
            let start = at(2030, 1, 10 + k, 14, 0);
            f.add_event(
                &self.users[2],
                EventSeed::new(
                    &format!("m2-new{k}"),
                    start,
                    start + chrono::Duration::hours(1),
                ),
            );
        }
        assert!(f.delete_contact(&self.users[3], &self.contacts[3][1]));
    }

    /// Reads every member with the prefetch and checks that each sees exactly its edits
    /// (besides Graph's replays of unchanged items, which carry their known version).
    /// `expired`: members whose reads must come back as full rounds.
    async fn read_all_and_check(&self, prefetch: &DeltaPrefetch, expired: &[usize]) {
        for (i, user) in self.users.iter().enumerate() {
            let calendar = GraphCalendar::new(self.client.clone(), user.clone())
                .with_prefetch(prefetch.clone());
            let cal = calendar
                .read(&calendar_request(self.calendar_reads[i].cursor.clone()))
                .await
                .expect("calendar read");
            let target = GraphContacts::new(self.client.clone(), user.clone(), "Raynet")
                .with_prefetch(prefetch.clone());
            let con = target
                .read(&contacts_request(self.contact_reads[i].cursor.clone()))
                .await
                .expect("contacts read");
            if expired.contains(&i) {
                assert_eq!(cal.completeness, Completeness::Complete, "member {i}");
                assert_eq!(con.completeness, Completeness::Complete, "member {i}");
                assert_eq!(cal.items.len(), self.calendar_reads[i].items.len());
                assert_eq!(con.items.len(), self.contact_reads[i].items.len());
                continue;
            }
            assert_eq!(cal.completeness, Completeness::Delta, "member {i}");
            assert_eq!(con.completeness, Completeness::Delta, "member {i}");
            let changed_events = changed(&self.calendar_reads[i], &cal, |e| e.title.clone());
            let changed_contacts = changed(&self.contact_reads[i], &con, |c| c.surname.clone());
            let (events, contacts): (Vec<String>, Vec<String>) = match i {
                0 => (vec!["m0-renamed".into()], vec!["m0-new".into()]),
                1 => (vec![], vec!["m1-edited".into()]),
                2 => (
                    (0..PAGE + 2).map(|k| format!("m2-new{k}")).collect(),
                    vec![],
                ),
                _ => (vec![], vec![]),
            };
            assert_eq!(
                changed_events,
                events.into_iter().collect::<BTreeSet<_>>(),
                "member {i}"
            );
            assert_eq!(
                changed_contacts,
                contacts.into_iter().collect::<BTreeSet<_>>(),
                "member {i}"
            );
            let deleted_events: Vec<String> =
                cal.deleted.iter().map(|d| d.as_str().to_owned()).collect();
            let deleted_contacts: Vec<String> =
                con.deleted.iter().map(|d| d.as_str().to_owned()).collect();
            match i {
                1 => assert_eq!(deleted_events, [self.events[1][1].clone()]),
                _ => assert!(deleted_events.is_empty(), "member {i}: {deleted_events:?}"),
            }
            match i {
                3 => assert_eq!(deleted_contacts, [self.contacts[3][1].clone()]),
                _ => assert!(
                    deleted_contacts.is_empty(),
                    "member {i}: {deleted_contacts:?}"
                ),
            }
        }
    }
}

/// Labels of the items of `now` that `before` did not hold in that version.
fn changed<T: sync_core::SyncItem>(
    before: &SideRead<T>,
    now: &SideRead<T>,
    label: impl Fn(&T) -> String,
) -> BTreeSet<String> {
    now.items
        .iter()
        .filter(|r| {
            !before
                .items
                .iter()
                .any(|b| b.id == r.id && b.version == r.version)
        })
        .map(|r| label(&r.item))
        .collect()
}

/// HTTP requests on the delta endpoints (not `$batch` sub-requests).
fn direct_deltas(fake: &FakeGraph) -> (usize, usize) {
    (
        fake.http_request_count("calendarView.delta"),
        fake.http_request_count("contacts.delta"),
    )
}

#[tokio::test]
async fn fifty_links_take_three_batches_and_the_reads_send_nothing_of_their_own() {
    let m = members(25).await;
    m.edit();
    let links = m.links();
    assert_eq!(links.len(), 50);
    let batches = m.fake.http_request_count("batch");
    let (cal_before, con_before) = direct_deltas(&m.fake);
    let sub_cal = m.fake.batched_request_count("calendarView.delta");
    let sub_con = m.fake.batched_request_count("contacts.delta");
    let prefetch = DeltaPrefetch::new();
    let stats = prefetch.load(&m.client, links).await;
    assert_eq!((stats.links, stats.kept, stats.batches), (50, 50, 3));
    assert_eq!(
        m.fake.http_request_count("batch") - batches,
        3,
        "20 + 20 + 10"
    );
    assert_eq!(
        m.fake.batched_request_count("calendarView.delta") - sub_cal,
        25
    );
    assert_eq!(m.fake.batched_request_count("contacts.delta") - sub_con, 25);
    assert_eq!(
        direct_deltas(&m.fake),
        (cal_before, con_before),
        "all in batches"
    );
    // The sub-requests carried the direct requests' preferences.
    let prefers: Vec<String> = m
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.in_batch && r.endpoint == "calendarView.delta")
        .filter_map(|r| r.prefer)
        .collect();
    assert!(
        prefers.iter().all(|p| p
            == &format!(
                r#"IdType="ImmutableId", outlook.timezone="UTC", odata.maxpagesize={PAGE}"#
            )),
        "{prefers:?}"
    );

    let before = m.fake.requests().len();
    m.read_all_and_check(&prefetch, &[]).await;
    assert!(prefetch.is_empty(), "every page was used");
    // The only requests of the 50 reads: member 2's further pages (its changes exceed a
    // page, the prefetched one carried a next link).
    let sent = sent_since(&m.fake, before);
    assert!(
        !sent.is_empty(),
        "member 2's round went on past the prefetched page"
    );
    assert!(
        sent.iter()
            .all(|s| *s == ("calendarView.delta".to_owned(), Some(m.users[2].clone()))),
        "no read sent its own first request: {sent:?}"
    );
}

/// (endpoint, mailbox) of the HTTP requests since `before` (tokens left out).
fn sent_since(fake: &FakeGraph, before: usize) -> Vec<(String, Option<String>)> {
    fake.requests()[before..]
        .iter()
        .filter(|r| r.endpoint != "token" && !r.in_batch)
        .map(|r| (r.endpoint.clone(), r.mailbox.clone()))
        .collect()
}

#[tokio::test]
async fn an_expired_token_in_the_batch_falls_back_to_a_full_round() {
    let m = members(25).await;
    m.edit();
    // Member 7's tokens expire: both of its sub-requests answer 410.
    m.fake.expire_delta_tokens(&m.users[7]);
    let prefetch = DeltaPrefetch::new();
    let statuses_410 = m.fake.status_count(410);
    let stats = prefetch.load(&m.client, m.links()).await;
    assert_eq!((stats.links, stats.kept, stats.batches), (50, 48, 3));
    assert_eq!(
        m.fake.status_count(410) - statuses_410,
        2,
        "one per sub-request"
    );
    let before = m.fake.requests().len();
    m.read_all_and_check(&prefetch, &[7]).await;
    // Member 7: its own request (410) and a full round of one page (2 items, page of 3),
    // for each collection; member 2: its further pages; nobody else anything.
    let sent = sent_since(&m.fake, before);
    let of = |user: &str, endpoint: &str| {
        sent.iter()
            .filter(|(e, u)| e == endpoint && u.as_deref() == Some(user))
            .count()
    };
    assert_eq!(of(&m.users[7], "calendarView.delta"), 2);
    assert_eq!(of(&m.users[7], "contacts.delta"), 2);
    assert!(of(&m.users[2], "calendarView.delta") >= 1);
    assert_eq!(
        sent.len(),
        4 + of(&m.users[2], "calendarView.delta"),
        "{sent:?}"
    );
    assert_eq!(
        m.fake.request_count_for("calendarView.delta", &m.users[7]),
        // first read, the sub-request, its own request, the full round
        4
    );
}

#[tokio::test]
async fn throttled_sub_requests_are_retried_and_nothing_is_lost() {
    let m = members(25).await;
    m.edit();
    // One request at a time per mailbox: a member's two sub-requests run alongside each
    // other in a batch, so the second is refused (429 + Retry-After) and sent again.
    m.fake.set_concurrency_limit(1);
    m.fake.set_retry_after("0.01");
    let before = m.fake.requests().len();
    let prefetch = DeltaPrefetch::new();
    let stats = prefetch.load(&m.client, m.links()).await;
    assert_eq!((stats.links, stats.kept, stats.batches), (50, 50, 3));
    let records = m.fake.requests();
    let throttled = records[before..]
        .iter()
        .filter(|r| r.in_batch && r.status == 429)
        .count();
    assert_eq!(throttled, 25, "each member's second sub-request");
    assert_eq!(
        m.fake.http_request_count("batch")
            - records[..before]
                .iter()
                .filter(|r| r.endpoint == "batch")
                .count(),
        6,
        "3 batches and one retry batch each"
    );
    for user in &m.users {
        assert_eq!(m.fake.max_in_flight(user), 1, "the limit held");
    }
    // A rate limit now (one request per 100 ms per mailbox): the second page of member 2
    // waits for it; every read still sees its changes.
    m.fake.set_rate_limit(1, Duration::from_millis(100));
    m.read_all_and_check(&prefetch, &[]).await;
    assert!(prefetch.is_empty());
}

#[tokio::test]
async fn rate_limited_sub_requests_are_retried_after_their_retry_after() {
    let m = members(12).await;
    m.edit();
    // The rate window counts sub-requests like requests: a member's second sub-request in
    // the same batch is over the limit and answered 429 with the time capacity frees up.
    tokio::time::sleep(Duration::from_millis(150)).await;
    m.fake.set_rate_limit(1, Duration::from_millis(100));
    let before = m.fake.requests().len();
    let prefetch = DeltaPrefetch::new();
    let stats = prefetch.load(&m.client, m.links()).await;
    assert_eq!((stats.links, stats.kept, stats.batches), (24, 24, 2));
    let throttled = m.fake.requests()[before..]
        .iter()
        .filter(|r| r.in_batch && r.status == 429)
        .count();
    assert!(throttled >= 12, "{throttled}");
    let before = m.fake.requests().len();
    m.read_all_and_check(&prefetch, &[]).await;
    let sent = sent_since(&m.fake, before);
    assert!(
        sent.iter()
            .all(|s| *s == ("calendarView.delta".to_owned(), Some(m.users[2].clone()))),
        "only member 2's further pages: {sent:?}"
    );
}

#[tokio::test]
async fn the_fake_answers_paging_links_inside_a_batch_like_direct_requests() {
    let fake = FakeGraph::start().await;
    let user = fake.add_user(UserSeed::new("Pager"));
    for k in 0..5u32 {
        let start = at(2030, 1, 3 + k, 9, 0);
        fake.add_event(
            &user,
            EventSeed::new(&format!("p{k}"), start, start + chrono::Duration::hours(1)),
        );
    }
    let client = fake.client_builder().page_size(2).build().expect("client");
    let (start, end) = crate::util::window();
    let first = client
        .events(&user)
        .delta_start(start, end)
        .await
        .expect("first page");
    let next = first.next_link.clone().expect("a next link ($skiptoken)");
    let prefetch = DeltaPrefetch::new();
    assert_eq!(prefetch.load(&client, vec![next.clone()]).await.kept, 1);
    let batched: graph_client::Page<graph_client::client::models::Event> =
        graph_client::Page::from_value(prefetch.take(&next).expect("kept"), "batched")
            .expect("a page");
    let direct = client
        .events(&user)
        .delta_page(&next)
        .await
        .expect("direct");
    let ids = |p: &graph_client::Page<graph_client::client::models::Event>| -> Vec<String> {
        p.items.iter().filter_map(|e| e.id.clone()).collect()
    };
    assert_eq!(
        batched.items.len(),
        2,
        "odata.maxpagesize applied inside the batch"
    );
    assert_eq!(ids(&batched), ids(&direct));
    assert_eq!(batched.next_link, direct.next_link);
    let sub = fake
        .requests()
        .into_iter()
        .find(|r| r.in_batch)
        .expect("a sub-request");
    assert_eq!(
        (sub.endpoint.as_str(), sub.mailbox.as_deref(), sub.status),
        ("calendarView.delta", Some(user.as_str()), 200)
    );
}
