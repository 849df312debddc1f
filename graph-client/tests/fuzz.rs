//! Every parser of remote Microsoft Graph data, fuzzed (issue #19, item 3).
//!
//! Each property starts from the documented example payloads (`tests/fixtures/*.json`,
//! `graph-api.md`) and from real answers of the fake (captured once per test binary), mutates
//! them — a key dropped, a value nulled or replaced by a wrong type, a number out of range, a
//! huge or empty string, an invalid date or time zone, deep nesting, invalid UTF-8, truncation,
//! random bytes — and checks:
//!
//! * nothing panics (the parser, and the adapter's mapping of whatever decoded);
//! * every failure is a typed error naming the endpoint and a field path, and when the
//!   mutation kept the body valid JSON the path leads to (or into) the mutated field;
//! * a mutation inside one item of a page (or of a notification POST) fails that item only:
//!   the page is still read, the other items decode exactly as before, and the item is either
//!   read or set aside with an error naming `value[k]`.
//!
//! `PROPTEST_CASES` sets the cases of each property (CI: 1000).

use std::sync::LazyLock;

use graph_client::adapter::{
    LINK_PROPERTY_ID, contact_to_core, event_remote, notification_item, notification_version,
    schedule_of,
};
use graph_client::client::auth::parse_token_answer;
use graph_client::client::models::{
    BatchResponse, ChangeNotificationCollection, Contact, DirectoryObject, Event, LifecycleEvent,
    NewSubscription, Subscription,
};
use graph_client::fake::{EventSeed, FakeGraph};
use graph_client::{Error, Page};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sync_core::testing::json_fuzz::*;

use crate::push::{Receiver, SECRET};
use crate::util::{at, client, world};

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
    tokens: Vec<Value>,
    event_pages: Vec<Value>,
    delta_pages: Vec<Value>,
    contact_pages: Vec<Value>,
    directory_pages: Vec<Value>,
    subscription_pages: Vec<Value>,
    batches: Vec<Value>,
    errors: Vec<(u16, Value)>,
    notifications: Vec<Value>,
}

static CORPUS: LazyLock<Corpus> = LazyLock::new(|| {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(capture())
});

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

/// The documented change and lifecycle notifications (graph-api.md, subscription_wire.rs).
fn documented_notifications() -> Vec<Value> {
    vec![
        json!({"value": [{
            "id": "lsgTZMr9KwAAA",
            "subscriptionId": "{subscription_guid}",
            "subscriptionExpirationDateTime": "2016-03-19T22:11:09.952Z",
            "clientState": "secretClientValue",
            "changeType": "created",
            "resource": "users/{user_guid}@{tenant_guid}/messages/{long_id_string}",
            "tenantId": "84bd8158-6d4d-4958-8b9f-9d6445542f95",
            "resourceData": {
                "@odata.type": "#Microsoft.Graph.Message",
                "@odata.id": "Users/{user_guid}@{tenant_guid}/Messages/{long_id_string}",
                "@odata.etag": "W/\"CQAAABYAAADkrWGo7bouTKlsgTZMr9KwAAAUWRHf\"",
                "id": "{long_id_string}"
            }
        }]}),
        json!({"value": [{
            "subscriptionId": "<subscription_guid>",
            "subscriptionExpirationDateTime": "2020-03-15T16:55:29.0000000Z",
            "tenantId": "<tenant_guid>",
            "clientState": "<secretClientState>",
            "lifecycleEvent": "reauthorizationRequired"
        }]}),
    ]
}

async fn capture() -> Corpus {
    let w = world().await;
    let fake = &w.fake;
    let http = reqwest::Client::new();
    let token_answer: Value = http
        .post(format!(
            "{}/{}/oauth2/v2.0/token",
            fake.authority_url(),
            FakeGraph::TENANT
        ))
        .form(&[
            ("client_id", FakeGraph::CLIENT_ID),
            ("client_secret", FakeGraph::CLIENT_SECRET),
            ("scope", "https://graph.microsoft.com/.default"),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token json");
    let token = token_answer["access_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let base = fake.base_url();
    let get = |url: String| {
        let (http, token) = (http.clone(), token.clone());
        async move {
            let resp = http
                .get(url)
                .bearer_auth(token)
                .header("Prefer", r#"outlook.timezone="UTC", odata.maxpagesize=2"#)
                .send()
                .await
                .expect("the fake answers");
            let status = resp.status().as_u16();
            (status, resp.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    // Notifications of the changes below.
    let receiver = Receiver::start().await;
    let sub = client(fake)
        .subscriptions()
        .create(
            &NewSubscription::new(
                format!("/users/{}/events", w.alice),
                receiver.url("/hook"),
                chrono::Utc::now() + chrono::Duration::days(2),
            )
            .lifecycle_url(receiver.url("/lifecycle"))
            .client_state(SECRET),
        )
        .await
        .expect("subscribed");
    let alice = w.alice.clone();
    fake.add_event(
        &alice,
        EventSeed::new("Porada", at(2030, 1, 10, 9, 0), at(2030, 1, 10, 10, 0))
            .zone("Central Europe Standard Time")
            .attendee("bob@contoso.test")
            .organizer("alice@contoso.test"),
    );
    fake.add_event(
        &alice,
        EventSeed::all_day(
            "Veletrh",
            chrono::NaiveDate::from_ymd_opt(2030, 1, 12).expect("date"),
            chrono::NaiveDate::from_ymd_opt(2030, 1, 14).expect("date"),
        ),
    );
    fake.add_event(
        &alice,
        EventSeed::new("Oběd", at(2030, 1, 20, 11, 0), at(2030, 1, 20, 12, 0))
            .extended_property(LINK_PROPERTY_ID, "raynet-sync-key-1"),
    );
    let folder = fake.add_contact_folder(&alice, "Raynet");
    fake.add_contact(
        &alice,
        &folder,
        json!({"givenName": "Eva", "surname": "Nováková", "emailAddresses": [{"address": "eva@acme.cz", "name": "Eva"}], "businessPhones": ["+420 777 123 456"], "companyName": "Acme", "birthday": "1980-02-29T00:00:00Z"}),
    );
    fake.add_contact(
        &alice,
        &folder,
        json!({"displayName": "Petr", "surname": "Svoboda"}),
    );
    let mut delta_pages = vec![
        fixture("calendarview-delta-page1.json"),
        fixture("calendarview-delta-last.json"),
    ];
    let mut link = Some(format!(
        "{base}/users/{alice}/calendarView/delta?startDateTime=2030-01-01T00:00:00Z&endDateTime=2030-02-01T00:00:00Z"
    ));
    while let Some(url) = link.take() {
        let (_, page) = get(url).await;
        link = page["@odata.nextLink"].as_str().map(str::to_owned);
        delta_pages.push(page);
    }
    let mut contact_pages = Vec::new();
    let mut link = Some(format!(
        "{base}/users/{alice}/contactFolders/{}/contacts/delta",
        percent_encoding::utf8_percent_encode(&folder, percent_encoding::NON_ALPHANUMERIC)
    ));
    while let Some(url) = link.take() {
        let (_, page) = get(url).await;
        link = page["@odata.nextLink"].as_str().map(str::to_owned);
        contact_pages.push(page);
    }
    let event_pages = vec![get(format!("{base}/users/{alice}/events")).await.1];
    let directory_pages = vec![
        fixture("group-members-page1.json"),
        fixture("group-members-page2.json"),
        get(format!("{base}/groups/{}/transitiveMembers", w.group))
            .await
            .1,
    ];
    let subscription_pages = vec![
        fixture("subscriptions.json"),
        get(format!("{base}/subscriptions")).await.1,
    ];
    let mut errors = vec![
        (410, fixture("error-sync-state-not-found.json")),
        (409, fixture("error-irresolvable-conflict.json")),
        get(format!("{base}/users/{alice}/events/AAMk-nothing-here")).await,
        get(format!("{base}/users/nobody/events")).await,
    ];
    fake.expire_delta_tokens(&alice);
    let last = delta_pages.last().expect("a delta page")["@odata.deltaLink"]
        .as_str()
        .expect("a delta link")
        .to_owned();
    errors.push(get(last).await);
    let batch: Value = http
        .post(format!("{base}/$batch"))
        .bearer_auth(&token)
        .json(&json!({"requests": [
            {"id": "1", "method": "GET", "url": format!("/users/{alice}/events"), "headers": {"Prefer": "outlook.timezone=\"UTC\""}},
            {"id": "2", "method": "GET", "url": "/users/nobody/events"},
            {"id": "3", "method": "POST", "url": format!("/users/{alice}/events"), "headers": {"Content-Type": "application/json"},
             "body": {"subject": "Nová", "start": {"dateTime": "2030-01-11T09:00:00", "timeZone": "UTC"}, "end": {"dateTime": "2030-01-11T10:00:00", "timeZone": "UTC"}, "transactionId": "fuzz-1"}}
        ]}))
        .send()
        .await
        .expect("batch")
        .json()
        .await
        .expect("batch json");
    fake.send_lifecycle_event(&sub.id, &LifecycleEvent::Missed);
    receiver.wait_for("/hook", 1).await;
    receiver.wait_for("/lifecycle", 1).await;
    let mut notifications = documented_notifications();
    notifications.extend(fake.deliveries().into_iter().map(|d| d.body));
    Corpus {
        tokens: vec![fixture("token.json"), token_answer],
        event_pages,
        delta_pages,
        contact_pages,
        directory_pages,
        subscription_pages,
        batches: vec![fixture("batch-response.json"), batch],
        errors,
        notifications,
    }
}

// ---------------------------------------------------------------------------------------------
// Checks per kind.

/// A page of `T` (its items in the array `value`): typed failures, item isolation, and the
/// adapter's mapping of each item. `read` parses the body (a page, or a notification POST).
fn check_items<T: PartialEq + std::fmt::Debug, P>(
    endpoint: &str,
    seed: &Value,
    m: &Mutation,
    read: impl Fn(&[u8]) -> graph_client::Result<P>,
    parts: impl Fn(&P) -> (&[T], &[graph_client::ItemFailure]),
    map: impl Fn(&T),
) -> Result<(), TestCaseError> {
    let base = read(seed.to_string().as_bytes())
        .map_err(|e| TestCaseError::fail(format!("the seed reads: {e}")))?;
    let (base_items, base_failed) = parts(&base);
    prop_assert!(
        base_failed.is_empty(),
        "every seed item reads: {:?}",
        base_failed
    );
    let mutated = mutate(seed, m);
    let page = match read(&mutated.body) {
        Ok(page) => page,
        Err(e) => {
            if let Some(at) = &mutated.path {
                let in_item =
                    matches!(at.as_slice(), [Seg::Key(k), Seg::At(_), ..] if k == "value");
                prop_assert!(
                    !in_item,
                    "a mutation inside one item failed the whole page: {e}"
                );
            }
            return check_failure(&e, endpoint, &mutated);
        }
    };
    let (items, failed) = parts(&page);
    for item in items {
        map(item);
    }
    let count = items.len() + failed.len();
    for f in failed {
        prop_assert!(f.index < count, "failure index in range");
        let item = format!("value[{}]", f.index);
        prop_assert!(
            f.path() == item
                || f.path().starts_with(&format!("{item}."))
                || f.path().starts_with(&format!("{item}[")),
            "the failure `{}` names its item {}",
            f.path(),
            item
        );
        check_failure(&f.error, endpoint, &mutated)?;
    }
    if let Some([Seg::Key(k), Seg::At(at), rest @ ..]) = mutated.path.as_deref() {
        if k == "value" && !(rest.is_empty() && mutated.dropped) {
            let failed_at: std::collections::BTreeSet<usize> =
                failed.iter().map(|f| f.index).collect();
            let mut ok = items.iter();
            let got: Vec<Option<&T>> = (0..count)
                .map(|i| {
                    if failed_at.contains(&i) {
                        None
                    } else {
                        ok.next()
                    }
                })
                .collect();
            prop_assert_eq!(count, base_items.len(), "the items are all there");
            for (i, (now, before)) in got.iter().zip(base_items).enumerate() {
                if i != *at {
                    prop_assert_eq!(
                        *now,
                        Some(before),
                        "item {} is unchanged by a mutation of item {}",
                        i,
                        at
                    );
                }
            }
        }
    }
    Ok(())
}

fn check_page<T: DeserializeOwned + PartialEq + std::fmt::Debug>(
    endpoint: &str,
    seed: &Value,
    m: &Mutation,
    map: impl Fn(&T),
) -> Result<(), TestCaseError> {
    check_items(
        endpoint,
        seed,
        m,
        |body| Page::<T>::parse(body, endpoint),
        |p: &Page<T>| (p.items.as_slice(), p.failed.as_slice()),
        map,
    )
}

fn map_event(ev: &Event) {
    let _ = event_remote(ev, LINK_PROPERTY_ID);
    let _ = schedule_of(ev);
    let _ = ev.is_removed();
    let _ = ev.extended_property(LINK_PROPERTY_ID);
}

fn map_contact(c: &Contact) {
    let _ = contact_to_core(c);
}

fn seeds(list: &[Value]) -> impl Strategy<Value = Value> + use<> {
    proptest::sample::select(list.to_vec())
}

/// Any body: an [`Error::Decode`] naming the endpoint and a path; for a clean mutation the
/// path lies on the mutated field's line.
fn check_decode<T: DeserializeOwned>(
    endpoint: &str,
    body: &[u8],
    m: &Mutated,
) -> Result<Option<T>, TestCaseError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => Ok(Some(v)),
        Err(e) => {
            let e = Error::Decode {
                endpoint: endpoint.to_owned(),
                path: e.path().to_string(),
                source: e.into_inner(),
            };
            check_failure(&e, endpoint, m).map(|()| None)
        }
    }
}

proptest! {
    /// Token answers (`POST /{tenant}/oauth2/v2.0/token`, 2xx): a token and a lifetime of at
    /// most a day, or an `invalid_token_response` naming the field, never the token.
    #[test]
    fn token_answers(seed in seeds(&CORPUS.tokens), m in mutation()) {
        parse_token_answer(seed.to_string().as_bytes(), 200)
            .map_err(|e| TestCaseError::fail(format!("seed: {e}")))?;
        let mutated = mutate(&seed, &m);
        match parse_token_answer(&mutated.body, 200) {
            Ok((token, lifetime)) => {
                prop_assert!(lifetime <= std::time::Duration::from_secs(24 * 3600));
                prop_assert_eq!(format!("{token:?}"), "***".to_owned(), "the token prints as ***");
            }
            Err(Error::Auth { status, code, message }) => {
                prop_assert_eq!(status, Some(200));
                prop_assert_eq!(code, "invalid_token_response");
                let token = seed["access_token"].as_str().unwrap_or_default();
                prop_assert!(!message.contains(token), "the message holds the token: {}", message);
                prop_assert!(message.contains(" at `"), "the message names the field: {}", message);
                if let Some(at) = &mutated.path {
                    let path = message.split('`').nth(1).unwrap_or_default();
                    prop_assert!(related(path, &render(at)), "`{}` vs `{}`", path, render(at));
                }
            }
            Err(other) => prop_assert!(false, "not an auth error: {:?}", other),
        }
    }

    /// Pages of events (`GET /users/{id}/events`, the look-up by extended property).
    #[test]
    fn event_pages(seed in seeds(&CORPUS.event_pages), m in mutation()) {
        check_page::<Event>("GET /users/{id}/events", &seed, &m, map_event)?;
    }

    /// Calendar-view delta pages (`@removed`, next and delta links).
    #[test]
    fn event_delta_pages(seed in seeds(&CORPUS.delta_pages), m in mutation()) {
        check_page::<Event>("GET /users/{id}/calendarView/delta", &seed, &m, map_event)?;
    }

    /// Contacts delta pages.
    #[test]
    fn contact_delta_pages(seed in seeds(&CORPUS.contact_pages), m in mutation()) {
        check_page::<Contact>("GET /users/{id}/contactFolders/{id}/contacts/delta", &seed, &m, map_contact)?;
    }

    /// Group member pages (`transitiveMembers`).
    #[test]
    fn directory_pages(seed in seeds(&CORPUS.directory_pages), m in mutation()) {
        check_page::<DirectoryObject>("GET /groups/{id}/transitiveMembers", &seed, &m, |o| { let _ = o.is_user(); })?;
    }

    /// Subscription listings (`GET /subscriptions`).
    #[test]
    fn subscription_pages(seed in seeds(&CORPUS.subscription_pages), m in mutation()) {
        check_page::<Subscription>("GET /subscriptions", &seed, &m, |_| {})?;
    }

    /// `$batch` answers, and each sub-response's body as its reader reads it (a page, an
    /// event, an error).
    #[test]
    fn batch_answers(seed in seeds(&CORPUS.batches), m in mutation()) {
        BatchResponse::parse_answer(seed.to_string().as_bytes()).map_err(|e| TestCaseError::fail(format!("seed: {e}")))?;
        let mutated = mutate(&seed, &m);
        let responses = match BatchResponse::parse_answer(&mutated.body) {
            Ok(r) => r,
            Err(e) => return check_failure(&e, "POST /$batch", &mutated),
        };
        for r in &responses {
            let _ = r.header("Retry-After");
            let body = r.body.clone().unwrap_or(Value::Null);
            if !r.is_success() {
                let e = Error::from_status(r.status, body.to_string().as_bytes(), "POST /$batch sub-request");
                prop_assert_eq!(e.status(), Some(r.status));
            } else if body.get("value").is_some() {
                if let Ok(page) = Page::<Event>::from_value(body, "POST /$batch delta link") {
                    for f in &page.failed {
                        prop_assert!(matches!(f.error, Error::Decode { .. }), "a decode error");
                        prop_assert!(f.path().starts_with("value["), "{}", f.path());
                    }
                    page.items.iter().for_each(map_event);
                }
            } else if let Ok(ev) = serde_json::from_value::<Event>(body) {
                map_event(&ev);
            }
        }
    }

    /// Error bodies of unsuccessful answers: a typed error with the status, Graph's code when
    /// the body is Graph's envelope, and at most 200 characters of anything else.
    #[test]
    fn error_bodies(seed in seeds(&CORPUS.errors.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>()), status in 300u16..600, m in mutation()) {
        let mutated = mutate(&seed, &m);
        let e = Error::from_status(status, &mutated.body, "GET /users/{id}/events/{id}");
        prop_assert_eq!(e.status(), Some(status));
        let _ = e.to_string();
        let envelope = serde_json::from_slice::<graph_client::client::models::ErrorResponse>(&mutated.body).ok();
        match (&envelope, e.code()) {
            (Some(env), Some(code)) => prop_assert_eq!(code, env.error.code.as_str()),
            (None, Some(code)) => prop_assert_eq!(code, ""),
            (_, None) => prop_assert!(false, "every answer error has a code: {:?}", e),
        }
        if envelope.is_none() {
            if let Error::Api { message, .. } | Error::Conflict { message, .. } | Error::Auth { message, .. } = &e {
                prop_assert!(message.chars().count() <= 200);
            }
        }
    }

    /// Change and lifecycle notification POSTs: read notification by notification (one that
    /// does not decode fails alone), and strictly (`parse`: a typed error naming the field).
    #[test]
    fn change_notifications(seed in seeds(&CORPUS.notifications), m in mutation()) {
        let endpoint = graph_client::client::models::NOTIFICATION_ENDPOINT;
        check_items(
            endpoint,
            &seed,
            &m,
            ChangeNotificationCollection::parse_by_item,
            |(c, failed): &(ChangeNotificationCollection, Vec<graph_client::ItemFailure>)| {
                (c.value.as_slice(), failed.as_slice())
            },
            |n| {
                let _ = notification_item(n);
                if let Some(d) = &n.resource_data {
                    let _ = notification_version(d);
                }
                let _ = n.client_state_is(&SECRET.into());
                let _ = n.is_lifecycle();
            },
        )?;
        let mutated = mutate(&seed, &m);
        if let Err(e) = ChangeNotificationCollection::parse(&mutated.body) {
            check_failure(&e, endpoint, &mutated)?;
        }
        let _ = check_decode::<ChangeNotificationCollection>(endpoint, &mutated.body, &mutated)?;
    }
}

/// Regression (#19, found while building `token_answers`, whose bound on the lifetime now
/// guards it): an `expires_in` of `u64::MAX` seconds overflowed the token's refresh instant
/// and panicked inside the client. The lifetime is now cut to a day.
#[tokio::test]
async fn r19_a_huge_token_lifetime_does_not_panic() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/contoso.test/oauth2/v2.0/token"))
        .respond_with(ResponseTemplate::new(200).set_body_string(format!(
            r#"{{"token_type":"Bearer","expires_in":{},"access_token":"tok"}}"#,
            u64::MAX
        )))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/groups/g"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "g"})))
        .mount(&server)
        .await;
    let client = graph_client::Client::builder()
        .graph_base_url(format!("{}/v1.0", server.uri()))
        .authority_base_url(server.uri())
        .credentials("contoso.test", "app-id", "secret")
        .build()
        .expect("client");
    let group = client.groups().get("g").await.expect("the token works");
    assert_eq!(group.id, "g");
    let (_, lifetime) = parse_token_answer(
        format!(r#"{{"access_token":"t","expires_in":"{}"}}"#, u64::MAX).as_bytes(),
        200,
    )
    .expect("parses");
    assert_eq!(lifetime, std::time::Duration::from_secs(24 * 3600));
}

// ---------------------------------------------------------------------------------------------
// The sides report an item that does not decode as that item's failure and sync the others.

mod sides {
    use graph_client::adapter::GraphCalendar;
    use serde_json::{Value, json};
    use sync_core::{Completeness, Event, ReadRequest, ReadSide, SideRead, Window};
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};

    use crate::util::at;

    /// An event of the mailbox `u` on 2030-01-`day`, with `id`.
    fn event(id: &str, day: u32) -> Value {
        json!({"id": id, "changeKey": format!("ck{day}"), "subject": "S", "type": "singleInstance",
               "start": {"dateTime": format!("2030-01-{day:02}T09:00:00.0000000"), "timeZone": "UTC"},
               "end": {"dateTime": format!("2030-01-{day:02}T10:00:00.0000000"), "timeZone": "UTC"}})
    }

    /// A full read of the calendar of `u` whose one delta page holds `items`.
    async fn read(items: Vec<Value>) -> SideRead<Event> {
        let (server, graph) = crate::util::mock_graph().await;
        Mock::given(method("GET"))
            .and(path("/v1.0/users/u/calendarView/delta"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "@odata.deltaLink": format!("{}/v1.0/users/u/calendarView/delta?$deltatoken=t", server.uri()),
                "value": items
            })))
            .mount(&server)
            .await;
        let request = ReadRequest {
            window: Some(Window {
                start: at(2030, 1, 1, 0, 0),
                end: at(2030, 2, 1, 0, 0),
            }),
            cursor: None,
        };
        GraphCalendar::new(graph, "u")
            .read(&request)
            .await
            .expect("the read goes on past the bad item")
    }

    #[tokio::test]
    async fn an_event_that_does_not_decode_is_that_events_failure_alone() {
        let mut bad = event("b", 11);
        bad["isAllDay"] = json!("maybe");
        let read = read(vec![event("a", 10), bad, event("c", 12)]).await;
        let ids: Vec<&str> = read.items.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["a", "c"], "the other events are synced");
        assert_eq!(read.completeness, Completeness::Complete);
        assert_eq!(read.unreadable.len(), 1);
        let (id, why) = &read.unreadable[0];
        assert_eq!(id.as_str(), "b", "the failure is the event's own");
        assert!(
            why.contains("value[1].isAllDay"),
            "it names the item and the field: {why}"
        );
        assert!(
            read.cursor.is_some(),
            "the round completes with its delta link"
        );
    }

    #[tokio::test]
    async fn an_event_without_a_readable_id_makes_the_read_partial() {
        let mut bad = event("b", 11);
        bad["id"] = json!(7);
        let read = read(vec![event("a", 10), bad]).await;
        let ids: Vec<&str> = read.items.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["a"], "the other event is synced");
        assert_eq!(
            read.completeness,
            Completeness::Partial,
            "an item that cannot be told apart from a deleted one: nothing is inferred deleted"
        );
        let (id, why) = &read.unreadable[0];
        assert_eq!(id.as_str(), "GET /users/{id}/calendarView/delta value[1]");
        assert!(why.contains("value[1].id"), "{why}");
    }
}
