//! Every parser of remote RAYNET data, fuzzed (issue #19, item 3).
//!
//! Each property starts from the documented example payloads (`tests/fixtures/*.json`,
//! `raynet-api.md`) and from real answers of the fake (captured once per test binary), mutates
//! them — a key dropped, a value nulled or replaced by a wrong type, a number out of range, a
//! huge or empty string, an invalid date or time zone, deep nesting, invalid UTF-8, truncation,
//! random bytes — and checks:
//!
//! * nothing panics (the parser, and the adapter's mapping of whatever decoded);
//! * every failure is a typed [`Error::Decode`] naming the endpoint and a field path, and when
//!   the mutation kept the body valid JSON the path leads to (or into) the mutated field;
//! * a mutation inside one row of a list page fails that row only: the page is still read, the
//!   other rows decode exactly as before, and the row is either read or set aside with an error
//!   naming `data[k]`.
//!
//! `PROPTEST_CASES` sets the cases of each property (CI: 1000).

use std::sync::LazyLock;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use raynet_client::adapter::{EmailsByPerson, activity_to_core, person_to_contact};
use raynet_client::client::transport::{api_error, decode};
use raynet_client::fake::{
    ActivitySeed, CompanySeed, DEFAULT_API_KEY, DEFAULT_INSTANCE, DEFAULT_USER, FakeRaynet,
    PersonSeed,
};
use raynet_client::models::{
    Created, DetailEnvelope, NewWebhook, RowSummary, WebhookEvent, WebhookList,
};
use raynet_client::{CalendarActivity, Company, Error, Page, Person, UserAccount};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sync_core::ActivityKind;
use sync_core::testing::json_fuzz::*;

use crate::util::{Receiver, fixture_json, wait_until};

// ---------------------------------------------------------------------------------------------
// Mutations: `sync_core::testing::json_fuzz`, shared with the other client's fuzzing.

/// Checks a parse failure: a typed decode error naming `endpoint` and a path; for a clean
/// mutation the path lies on the mutated field's line.
fn check_failure(e: &Error, endpoint: &str, m: &Mutated) -> Result<(), TestCaseError> {
    let Error::Decode {
        endpoint: got,
        path,
        ..
    } = e
    else {
        return Err(TestCaseError::fail(format!("not a decode error: {e:?}")));
    };
    check_decode_failure(got, path, &e.to_string(), endpoint, m)
}

// ---------------------------------------------------------------------------------------------
// Seeds: the documented examples and the fake's answers.

struct Corpus {
    meetings: Vec<Value>,
    events: Vec<Value>,
    persons: Vec<Value>,
    companies: Vec<Value>,
    accounts: Vec<Value>,
    summaries: Vec<Value>,
    /// `(entity, body)` of detail answers.
    details: Vec<(&'static str, Value)>,
    errors: Vec<(u16, Value)>,
    created: Vec<Value>,
    webhook_events: Vec<Value>,
    webhook_lists: Vec<Value>,
}

static CORPUS: LazyLock<Corpus> = LazyLock::new(|| {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(capture())
});

/// A raw request to the fake, answered with its status and JSON body.
async fn raw(
    fake: &FakeRaynet,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .request(method, format!("{}{path}", fake.base_url()))
        .basic_auth(DEFAULT_USER, Some(DEFAULT_API_KEY))
        .header("X-Instance-Name", DEFAULT_INSTANCE);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("the fake answers");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn capture() -> Corpus {
    let fake = FakeRaynet::start().await;
    let rx = Receiver::start().await;
    let client = fake.client();
    client
        .webhooks()
        .create(&NewWebhook::new(&rx.url).secret_token("fuzz-token"))
        .await
        .expect("webhook");
    let inst = fake.default_instance();
    let company = inst
        .add_company(CompanySeed::new("Acme s.r.o.").address(
            "Libušina 4",
            "Ostrava",
            "70200",
            "CZ",
        ))
        .expect("company");
    let person = inst
        .add_person(
            PersonSeed::new("Nováková")
                .email("eva@acme.cz")
                .phone("+420 777 123 456", "mobil")
                .company(company, "Ředitelka")
                .birthday(chrono::NaiveDate::from_ymd_opt(1980, 2, 29).expect("date")),
        )
        .expect("person");
    let owner = inst.ids("person")[0];
    let meeting = inst
        .add_meeting(
            ActivitySeed::new("Porada", owner)
                .scheduled_local("2026-03-29 01:30", "2026-03-29 03:30")
                .company(company)
                .participant(person)
                .tags(&["CRM", "důležité"]),
        )
        .expect("meeting");
    let event = inst
        .add_event(
            ActivitySeed::new("Veletrh", owner)
                .scheduled_local("2026-10-25 00:00", "2026-10-26 00:00"),
        )
        .expect("event");
    let get = |p: String| {
        let fake = &fake;
        async move { raw(fake, reqwest::Method::GET, &p, None).await }
    };
    let list = |entity: &str| format!("{entity}/?dateFormat=ISO8601");
    let meetings = get(list("meeting")).await.1;
    let events = get(list("event")).await.1;
    let persons = get(list("person")).await.1;
    let companies = get(list("company")).await.1;
    let accounts = get(list("userAccount")).await.1;
    let summaries = get("meeting/?view=rowInfo&dateFormat=ISO8601".into())
        .await
        .1;
    let mut details = vec![
        (
            "meeting",
            get(format!("meeting/{meeting}/?dateFormat=ISO8601"))
                .await
                .1,
        ),
        (
            "event",
            get(format!("event/{event}/?dateFormat=ISO8601")).await.1,
        ),
        (
            "person",
            get(format!("person/{person}/?dateFormat=ISO8601")).await.1,
        ),
        (
            "company",
            get(format!("company/{company}/?dateFormat=ISO8601"))
                .await
                .1,
        ),
        (
            "userAccount",
            get("userAccount/1/?dateFormat=ISO8601".into()).await.1,
        ),
    ];
    for (entity, name) in [
        ("meeting", "meeting_detail.json"),
        ("event", "event_detail.json"),
        ("person", "person_detail.json"),
        ("company", "company_detail.json"),
        ("userAccount", "user_account_detail.json"),
    ] {
        details.push((entity, fixture_json(name)));
    }
    let mut errors: Vec<(u16, Value)> = [
        "error_not_found.json",
        "error_request_limit.json",
        "error_unsupported_filter.json",
    ]
    .into_iter()
    .map(|n| (400, fixture_json(n)))
    .collect();
    errors.push(get("meeting/999999/".into()).await);
    errors.push(get("meeting/?nonsense[XX]=1".into()).await);
    let webhook_lists = vec![
        get("webhook/".into()).await.1,
        json!({"data": {"technicalContacts": ["it@acme.cz"], "webhooks": [{"webhookId": "532d339c0a874f68ae8f2cc108c7f7b2", "url": "https://example.com/hook", "secretToken": "s", "eventsFilter": ["record.created", "record.updated", "record.deleted"]}]}}),
    ];
    wait_until("the fake's webhook deliveries", || rx.count() >= 4).await;
    let mut webhook_events = rx.events();
    webhook_events.push(json!({
        "eventId": "8f9e3c1a2b4d4e6f8a0b1c2d3e4f5a6b",
        "createdAt": "2026-03-20T08:15:00.000+01:00",
        "type": "record.updated",
        "author": "jan.novak@raynet.cz",
        "source": {"name": "user", "description": "browser"},
        "data": {"entityName": "Company", "entityId": 3, "extIds": ["erp:42"]}
    }));
    let created = vec![
        fixture_json("create_201.json"),
        fixture_json("create_201_id.json"),
        raw(
            &fake,
            reqwest::Method::PUT,
            "person/",
            Some(json!({"lastName": "Nová"})),
        )
        .await
        .1,
    ];
    Corpus {
        meetings: vec![fixture_json("meeting_list.json"), meetings],
        events: vec![events],
        persons: vec![fixture_json("person_list.json"), persons],
        companies: vec![companies],
        accounts: vec![fixture_json("user_account_list.json"), accounts],
        summaries: vec![summaries],
        details,
        errors,
        created,
        webhook_events,
        webhook_lists,
    }
}

// ---------------------------------------------------------------------------------------------
// Checks per kind.

/// A list page of `T`: typed failures, row isolation, and the adapter's mapping of each row.
fn check_list<T: DeserializeOwned + PartialEq + std::fmt::Debug>(
    endpoint: &str,
    seed: &Value,
    m: &Mutation,
    map: impl Fn(&T),
) -> Result<(), TestCaseError> {
    let base: Page<T> = Page::parse(endpoint, seed.to_string().as_bytes(), 0, 1000)
        .map_err(|e| TestCaseError::fail(format!("the seed reads: {e}")))?;
    prop_assert!(
        base.failed.is_empty(),
        "every seed row reads: {:?}",
        base.failed
    );
    let mutated = mutate(seed, m);
    let page = match Page::<T>::parse(endpoint, &mutated.body, 0, 1000) {
        Ok(page) => page,
        Err(e) => {
            // Only a mutation outside the rows (or of the whole `data`) may fail the page.
            if let Some(at) = &mutated.path {
                let in_row = matches!(at.as_slice(), [Seg::Key(k), Seg::At(_), ..] if k == "data");
                prop_assert!(
                    !in_row,
                    "a mutation inside one row failed the whole page: {e}"
                );
            }
            return check_failure(&e, endpoint, &mutated);
        }
    };
    for item in &page.items {
        map(item);
    }
    let rows = page.items.len() + page.failed.len();
    for f in &page.failed {
        prop_assert!(f.index < rows, "failure index in range");
        let row = format!("data[{}]", f.index);
        prop_assert!(
            f.path() == row
                || f.path().starts_with(&format!("{row}."))
                || f.path().starts_with(&format!("{row}[")),
            "the failure `{}` names its row {}",
            f.path(),
            row
        );
        check_failure(&f.error, endpoint, &mutated)?;
    }
    // A clean mutation inside row k: every other row reads as before.
    if let Some([Seg::Key(k), Seg::At(row), rest @ ..]) = mutated.path.as_deref() {
        if k == "data" && !(rest.is_empty() && mutated.dropped) {
            let mut got: Vec<Option<&T>> = vec![None; rows];
            let mut ok = page.items.iter();
            let failed: std::collections::BTreeSet<usize> =
                page.failed.iter().map(|f| f.index).collect();
            for (i, slot) in got.iter_mut().enumerate() {
                if !failed.contains(&i) {
                    *slot = ok.next();
                }
            }
            prop_assert_eq!(rows, base.items.len(), "the rows are all there");
            for (i, (now, before)) in got.iter().zip(&base.items).enumerate() {
                if i != *row {
                    prop_assert_eq!(
                        *now,
                        Some(before),
                        "row {} is unchanged by a mutation of row {}",
                        i,
                        row
                    );
                }
            }
        }
    }
    Ok(())
}

/// Any decode (`T` from `body`): a typed failure naming the field.
fn check_decode<T: DeserializeOwned>(
    endpoint: &str,
    seed: &Value,
    m: &Mutation,
    map: impl Fn(&T),
) -> Result<(), TestCaseError> {
    let _: T = decode(endpoint, seed.to_string().as_bytes())
        .map_err(|e| TestCaseError::fail(format!("the seed reads: {e}")))?;
    let mutated = mutate(seed, m);
    match decode::<T>(endpoint, &mutated.body) {
        Ok(v) => {
            map(&v);
            Ok(())
        }
        Err(e) => check_failure(&e, endpoint, &mutated),
    }
}

fn map_activity(kind: ActivityKind) -> impl Fn(&CalendarActivity) {
    move |a| {
        for tz in [
            chrono_tz::Europe::Prague,
            chrono_tz::Pacific::Apia,
            chrono_tz::UTC,
        ] {
            let _ = activity_to_core(a, kind, &tz, &EmailsByPerson::new());
            for t in [
                &a.scheduled_from,
                &a.scheduled_till,
                &a.completed,
                &a.row_info.last_modified_at,
            ]
            .into_iter()
            .flatten()
            {
                let _ = t.to_utc(&tz);
                let _ = t.naive_local_in(&tz);
                let _ = t.to_string();
            }
        }
        let _ = a.owner_person_id();
        if let Some(d) = &a.description {
            let _ = raynet_client::html_to_text(d);
        }
    }
}

fn map_person(p: &Person) {
    let _ = person_to_contact(p);
    let _ = p.display_name();
}

fn seeds(list: &[Value]) -> impl Strategy<Value = Value> + use<> {
    proptest::sample::select(list.to_vec())
}

proptest! {
    /// Meeting and event list pages (`GET /meeting/`, `GET /event/`).
    #[test]
    fn activity_list_pages(seed in seeds(&[CORPUS.meetings.clone(), CORPUS.events.clone()].concat()), m in mutation()) {
        check_list::<CalendarActivity>("GET /meeting/", &seed, &m, map_activity(ActivityKind::Meeting))?;
    }

    /// Person list pages (`GET /person/`).
    #[test]
    fn person_list_pages(seed in seeds(&CORPUS.persons), m in mutation()) {
        check_list::<Person>("GET /person/", &seed, &m, map_person)?;
    }

    /// Company list pages (`GET /company/`).
    #[test]
    fn company_list_pages(seed in seeds(&CORPUS.companies), m in mutation()) {
        check_list::<Company>("GET /company/", &seed, &m, |_| {})?;
    }

    /// User account list pages (`GET /userAccount/`).
    #[test]
    fn user_account_list_pages(seed in seeds(&CORPUS.accounts), m in mutation()) {
        check_list::<UserAccount>("GET /userAccount/", &seed, &m, |_| {})?;
    }

    /// Id listings (`view=rowInfo`, the deletion scan).
    #[test]
    fn row_summary_pages(seed in seeds(&CORPUS.summaries), m in mutation()) {
        check_list::<RowSummary>("GET /meeting/", &seed, &m, |_| {})?;
    }

    /// Details (`GET /{entity}/{id}/`) and create answers.
    #[test]
    fn details_and_create_answers(
        pick in any::<Index>(),
        created in proptest::sample::select(CORPUS.created.clone()),
        m in mutation(),
    ) {
        let (entity, seed) = pick.get(&CORPUS.details).clone();
        let endpoint = format!("GET /{entity}/1/");
        match entity {
            "meeting" => check_decode::<DetailEnvelope<CalendarActivity>>(&endpoint, &seed, &m, |d| map_activity(ActivityKind::Meeting)(&d.data))?,
            "event" => check_decode::<DetailEnvelope<CalendarActivity>>(&endpoint, &seed, &m, |d| map_activity(ActivityKind::Event)(&d.data))?,
            "person" => check_decode::<DetailEnvelope<Person>>(&endpoint, &seed, &m, |d| map_person(&d.data))?,
            "company" => check_decode::<DetailEnvelope<Company>>(&endpoint, &seed, &m, |_| {})?,
            _ => check_decode::<DetailEnvelope<UserAccount>>(&endpoint, &seed, &m, |_| {})?,
        }
        check_decode::<Created>("PUT /person/", &created, &m, |_| {})?;
    }

    /// Error bodies of unsuccessful answers: always an `Error::Api` with the status, the
    /// envelope's fields when it is one, else at most 2048 characters of the body.
    #[test]
    fn error_bodies(seed in seeds(&CORPUS.errors.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>()), status in 300u16..600, m in mutation()) {
        let mutated = mutate(&seed, &m);
        let e = api_error("GET /meeting/", status, &mutated.body);
        match &e {
            Error::Api { endpoint, status: s, body, kind, message, .. } => {
                prop_assert_eq!(endpoint, "GET /meeting/");
                prop_assert_eq!(*s, status);
                prop_assert!(body.as_ref().is_none_or(|b| b.chars().count() <= 2048));
                if let Ok(v) = serde_json::from_slice::<Value>(&mutated.body) {
                    if let Some(t) = v.get("type").and_then(Value::as_str) {
                        prop_assert_eq!(kind.as_deref(), Some(t));
                    }
                    if let Some(t) = v.get("message").and_then(Value::as_str) {
                        prop_assert_eq!(message.as_deref(), Some(t));
                    }
                }
            }
            other => prop_assert!(false, "not an API error: {:?}", other),
        }
        let _ = e.to_string();
        prop_assert_eq!(e.status(), Some(status));
    }

    /// Delivered webhook events (`WebhookEvent::from_slice`).
    #[test]
    fn webhook_events(seed in seeds(&CORPUS.webhook_events), m in mutation()) {
        WebhookEvent::from_slice(seed.to_string().as_bytes()).map_err(|e| TestCaseError::fail(format!("seed: {e}")))?;
        let mutated = mutate(&seed, &m);
        match WebhookEvent::from_slice(&mutated.body) {
            Ok(ev) => {
                let _ = raynet_client::adapter::push::classify(&ev, "raynet-sync");
                let _ = ev.data.entity_name.entity_name();
            }
            Err(e) => check_failure(&e, "webhook event", &mutated)?,
        }
    }

    /// Webhook listings (`GET /webhook/`, with or without the `data` envelope).
    #[test]
    fn webhook_lists(seed in seeds(&CORPUS.webhook_lists), m in mutation()) {
        WebhookList::from_slice(seed.to_string().as_bytes()).map_err(|e| TestCaseError::fail(format!("seed: {e}")))?;
        let mutated = mutate(&seed, &m);
        if let Err(e) = WebhookList::from_slice(&mutated.body) {
            // Unwrapping `data` moves the paths up one level: compare without it.
            let unwrapped = Mutated {
                body: Vec::new(),
                path: mutated.path.clone().map(|p| match p.split_first() {
                    Some((Seg::Key(k), rest)) if k == "data" => rest.to_vec(),
                    _ => p,
                }),
                dropped: mutated.dropped,
            };
            check_failure(&e, "GET /webhook/", &unwrapped)?;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The sides report a row that does not decode as that item's failure and sync the others.

mod sides {
    use raynet_client::adapter::{RaynetCalendar, RaynetContacts};
    use serde_json::json;
    use sync_core::{Completeness, ReadRequest, ReadSide};
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};

    use crate::util::{client_for, server};

    const FULL: ReadRequest = ReadRequest {
        window: None,
        cursor: None,
    };

    #[tokio::test]
    async fn a_person_row_that_does_not_decode_is_that_contacts_failure_alone() {
        let server = server().await;
        Mock::given(method("GET"))
            .and(path("/api/v2/person/"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "success": true, "totalCount": 3,
                "data": [
                    {"id": 1, "lastName": "Nováková"},
                    {"id": "2", "lastName": "Svoboda", "birthday": "not a date"},
                    {"id": 3, "lastName": "Dvořák"}
                ]
            })))
            .mount(&server)
            .await;
        let read = RaynetContacts::new(client_for(&server))
            .read(&FULL)
            .await
            .expect("the read goes on past the bad row");
        let ids: Vec<&str> = read.items.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["1", "3"], "the other rows are synced");
        assert_eq!(read.completeness, Completeness::Complete);
        assert_eq!(read.unreadable.len(), 1);
        let (id, why) = &read.unreadable[0];
        assert_eq!(id.as_str(), "2", "the failure is the row's own");
        assert!(
            why.contains("data[1].birthday"),
            "it names the row and the field: {why}"
        );
    }

    #[tokio::test]
    async fn a_row_without_a_readable_id_makes_the_read_partial() {
        let server = server().await;
        Mock::given(method("GET"))
            .and(path("/api/v2/person/"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "success": true, "totalCount": 2,
                "data": [{"id": 1, "lastName": "Nováková"}, {"id": {"x": 1}, "lastName": "?"}]
            })))
            .mount(&server)
            .await;
        let read = RaynetContacts::new(client_for(&server))
            .read(&FULL)
            .await
            .expect("read");
        assert_eq!(read.items.len(), 1);
        assert_eq!(
            read.completeness,
            Completeness::Partial,
            "a row that cannot be told apart from a deleted one: nothing is inferred deleted"
        );
        let (id, why) = &read.unreadable[0];
        assert_eq!(id.as_str(), "GET /person/ data[1]");
        assert!(why.contains("data[1].id"), "{why}");
    }

    #[tokio::test]
    async fn a_meeting_row_that_does_not_decode_is_that_meetings_failure_alone() {
        let server = server().await;
        let row = |id: u64, from: &str| {
            json!({"id": id, "title": "Porada", "owner": {"id": 2},
                   "scheduledFrom": from, "scheduledTill": "2026-03-02T11:00:00+01:00"})
        };
        Mock::given(method("GET"))
            .and(path("/api/v2/meeting/"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "success": true, "totalCount": 3,
                "data": [
                    row(10, "2026-03-02T10:00:00+01:00"),
                    row(11, "2026-02-30T10:00:00+01:00"),
                    row(12, "2026-03-02T09:00:00+01:00")
                ]
            })))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/v2/event/"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"success": true, "totalCount": 0, "data": []})),
            )
            .mount(&server)
            .await;
        let read = RaynetCalendar::new(client_for(&server), 2)
            .read(&FULL)
            .await
            .expect("the read goes on past the bad row");
        let ids: Vec<&str> = read.items.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["m-10", "m-12"]);
        assert_eq!(read.completeness, Completeness::Complete);
        let (id, why) = &read.unreadable[0];
        assert_eq!(id.as_str(), "m-11");
        assert!(
            why.contains("data[1].scheduledFrom"),
            "it names the row and the field: {why}"
        );
    }
}
