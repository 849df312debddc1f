//! Wire format of every client method, pinned against the documented shapes:
//! method, path (trailing slash), exact query (`dateFormat=ISO8601` on every
//! GET, operators as `field[OP]`), Basic auth, `X-Instance-Name`, JSON body.

use chrono::DateTime;
use raynet_client::models::{
    ActivityUpdate, NewActivity, ParticipantChange, ParticipantRole, Priority,
};
use raynet_client::{EntityName, Error, ListQuery, Op, SortDirection};
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::util::{ExactQuery, INSTANCE, basic, client_for, fixture, server};

fn authed(m: &str, p: &str) -> wiremock::MockBuilder {
    Mock::given(method(m))
        .and(path(p))
        .and(header("authorization", basic().as_str()))
        .and(header("x-instance-name", INSTANCE))
}

fn json_ok(status: u16, name: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(fixture(name), "application/json")
}

async fn mount(server: &MockServer, mock: Mock) {
    mock.expect(1).mount(server).await;
}

#[tokio::test]
async fn meetings_list_sends_filters_sort_paging_and_date_format() {
    let server = server().await;
    mount(
        &server,
        authed("GET", "/api/v2/meeting/")
            .and(ExactQuery::new(&[
                ("owner-id[EQ]", "2"),
                ("scheduledFrom[GE]", "2026-03-01T00:00:00.000+01:00"),
                ("scheduledFrom[LT]", "2026-04-01T00:00:00.000+02:00"),
                ("sortColumn", "scheduledFrom"),
                ("sortDirection", "ASC"),
                ("offset", "0"),
                ("limit", "1000"),
                ("dateFormat", "ISO8601"),
            ]))
            .respond_with(json_ok(200, "meeting_list.json")),
    )
    .await;
    let client = client_for(&server);
    let q = ListQuery::new()
        .filter("owner-id", Op::Eq, 2u64)
        .filter(
            "scheduledFrom",
            Op::Ge,
            DateTime::parse_from_rfc3339("2026-03-01T00:00:00+01:00").unwrap(),
        )
        .filter(
            "scheduledFrom",
            Op::Lt,
            DateTime::parse_from_rfc3339("2026-04-01T00:00:00+02:00").unwrap(),
        )
        .sort("scheduledFrom", SortDirection::Asc);
    let page = client.meetings().list(&q).await.unwrap();
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.total_count, Some(2));
    assert!(page.is_last());
}

#[tokio::test]
async fn meetings_get_by_id_and_ext_id() {
    let server = server().await;
    mount(
        &server,
        authed("GET", "/api/v2/meeting/123/")
            .and(ExactQuery::new(&[("dateFormat", "ISO8601")]))
            .respond_with(json_ok(200, "meeting_detail.json")),
    )
    .await;
    // A Graph-like id with reserved characters is escaped as one segment.
    mount(
        &server,
        authed("GET", "/api/v2/meeting/ext/m365:AA%2Fb%2Bc%3D/")
            .and(ExactQuery::new(&[("dateFormat", "ISO8601")]))
            .respond_with(json_ok(200, "meeting_detail.json")),
    )
    .await;
    let client = client_for(&server);
    assert_eq!(client.meetings().get(123).await.unwrap().id, 123);
    assert_eq!(
        client
            .meetings()
            .by_ext_id("m365:AA/b+c=")
            .await
            .unwrap()
            .id,
        123
    );
}

#[tokio::test]
async fn meetings_create_is_put_with_iso_offsets() {
    let server = server().await;
    mount(
        &server,
        authed("PUT", "/api/v2/meeting/")
            .and(header("content-type", "application/json; charset=UTF-8"))
            .and(ExactQuery::new(&[]))
            .and(body_json(json!({
                "title": "Schůzka",
                "priority": "DEFAULT",
                "owner": 2,
                "company": 3,
                "scheduledFrom": "2026-03-29T10:00:00.000+02:00",
                "scheduledTill": "2026-03-29T11:00:00.000+02:00",
                "description": "<p>Poznámka</p>",
                "tags": ["a", "b"]
            })))
            .respond_with(json_ok(201, "create_201.json")),
    )
    .await;
    let client = client_for(&server);
    let mut body = NewActivity::new("Schůzka", Priority::Default, 2);
    body.company = Some(3);
    body.scheduled_from = Some(DateTime::parse_from_rfc3339("2026-03-29T10:00:00+02:00").unwrap());
    body.scheduled_till = Some(DateTime::parse_from_rfc3339("2026-03-29T11:00:00+02:00").unwrap());
    body.description = Some(raynet_client::text_to_html("Poznámka"));
    body.tags = Some(vec!["a".into(), "b".into()]);
    assert_eq!(client.meetings().create(&body).await.unwrap(), 5);
}

#[tokio::test]
async fn meetings_update_is_partial_post() {
    let server = server().await;
    mount(
        &server,
        authed("POST", "/api/v2/meeting/123/")
            .and(header("content-type", "application/json; charset=UTF-8"))
            .and(ExactQuery::new(&[]))
            .and(body_json(json!({
                "title": "Nový název",
                "status": "COMPLETED",
                "completed": "2026-10-25T02:30:00.000+01:00",
                "company": null,
                "meetingPlace": "Brno",
                "tags": "a,b",
                "participants": [{"person": 7, "role": "TO"}, {"id": -31}]
            })))
            .respond_with(json_ok(200, "update_200.json")),
    )
    .await;
    let client = client_for(&server);
    let mut u = ActivityUpdate::default();
    u.title = Some("Nový název".into());
    u.status = Some(raynet_client::models::ActivityStatus::Completed);
    u.completed = Some(DateTime::parse_from_rfc3339("2026-10-25T02:30:00+01:00").unwrap());
    u.company = Some(None);
    u.meeting_place = Some("Brno".into());
    u.tags = Some(vec!["a".into(), "b".into()]);
    u.participants = Some(vec![
        ParticipantChange::add_person(7, Some(ParticipantRole::To)),
        ParticipantChange::remove(31),
    ]);
    client.meetings().update(123, &u).await.unwrap();
}

#[tokio::test]
async fn meetings_delete() {
    let server = server().await;
    mount(
        &server,
        authed("DELETE", "/api/v2/meeting/123/")
            .and(ExactQuery::new(&[]))
            .respond_with(ResponseTemplate::new(200)),
    )
    .await;
    client_for(&server).meetings().delete(123).await.unwrap();
}

#[tokio::test]
async fn events_use_the_event_paths() {
    let server = server().await;
    mount(
        &server,
        authed("GET", "/api/v2/event/").respond_with(json_ok(200, "meeting_list.json")),
    )
    .await;
    mount(
        &server,
        authed("GET", "/api/v2/event/55/").respond_with(json_ok(200, "event_detail.json")),
    )
    .await;
    mount(
        &server,
        authed("GET", "/api/v2/event/ext/m365:x/").respond_with(json_ok(200, "event_detail.json")),
    )
    .await;
    mount(
        &server,
        authed("PUT", "/api/v2/event/")
            .and(body_json(
                json!({"title": "Veletrh", "priority": "MINOR", "owner": 2}),
            ))
            .respond_with(json_ok(201, "create_201_id.json")),
    )
    .await;
    mount(
        &server,
        authed("POST", "/api/v2/event/55/")
            .and(body_json(json!({"description": ""})))
            .respond_with(json_ok(200, "update_200.json")),
    )
    .await;
    mount(
        &server,
        authed("DELETE", "/api/v2/event/55/").respond_with(ResponseTemplate::new(200)),
    )
    .await;
    let client = client_for(&server);
    let events = client.events();
    assert_eq!(events.list(&ListQuery::new()).await.unwrap().items.len(), 2);
    assert_eq!(events.get(55).await.unwrap().id, 55);
    assert_eq!(events.by_ext_id("m365:x").await.unwrap().id, 55);
    assert_eq!(
        events
            .create(&NewActivity::new("Veletrh", Priority::Minor, 2))
            .await
            .unwrap(),
        3
    );
    let mut u = ActivityUpdate::default();
    u.description = Some(String::new());
    events.update(55, &u).await.unwrap();
    events.delete(55).await.unwrap();
}

#[tokio::test]
async fn persons_incremental_list_get_and_ext() {
    let server = server().await;
    mount(
        &server,
        authed("GET", "/api/v2/person/")
            .and(ExactQuery::new(&[
                (
                    "rowInfo.lastModifiedAt[GE]",
                    "2026-03-21T08:00:00.000+00:00",
                ),
                ("sortColumn", "rowInfo.lastModifiedAt"),
                ("sortDirection", "ASC"),
                ("offset", "0"),
                ("limit", "1000"),
                ("dateFormat", "ISO8601"),
            ]))
            .respond_with(json_ok(200, "person_list.json")),
    )
    .await;
    mount(
        &server,
        authed("GET", "/api/v2/person/7/").respond_with(json_ok(200, "person_detail.json")),
    )
    .await;
    mount(
        &server,
        authed("GET", "/api/v2/person/ext/erp:123455/")
            .respond_with(json_ok(200, "person_detail.json")),
    )
    .await;
    let client = client_for(&server);
    let since = DateTime::parse_from_rfc3339("2026-03-21T08:00:00Z").unwrap();
    let changed = client.persons().modified_since(&since).await.unwrap();
    assert_eq!(changed.len(), 1);
    assert_eq!(client.persons().get(7).await.unwrap().id, 7);
    assert_eq!(
        client.persons().by_ext_id("erp:123455").await.unwrap().id,
        7
    );
}

#[tokio::test]
async fn companies_and_user_accounts() {
    let server = server().await;
    mount(
        &server,
        authed("GET", "/api/v2/company/3/").respond_with(json_ok(200, "company_detail.json")),
    )
    .await;
    mount(
        &server,
        authed("GET", "/api/v2/userAccount/")
            .and(ExactQuery::new(&[
                ("username[LIKE_NOCASE]", "%@raynet.cz"),
                ("offset", "0"),
                ("limit", "1000"),
                ("dateFormat", "ISO8601"),
            ]))
            .respond_with(json_ok(200, "user_account_list.json")),
    )
    .await;
    mount(
        &server,
        authed("GET", "/api/v2/userAccount/1/")
            .respond_with(json_ok(200, "user_account_detail.json")),
    )
    .await;
    let client = client_for(&server);
    assert_eq!(
        client.companies().get(3).await.unwrap().name.as_deref(),
        Some("RAYNET s.r.o.")
    );
    let users = client
        .user_accounts()
        .list_all(&ListQuery::new().filter("username", Op::LikeNocase, "%@raynet.cz"))
        .await
        .unwrap();
    assert_eq!(users.len(), 2);
    assert_eq!(
        client
            .user_accounts()
            .get(1)
            .await
            .unwrap()
            .timezone
            .as_deref(),
        Some("EUROPE_PRAGUE")
    );
}

#[tokio::test]
async fn ext_ids_add_and_remove() {
    let server = server().await;
    mount(
        &server,
        authed("PUT", "/api/v2/meeting/5/extId/")
            .and(body_json(json!({"extId": "m365:abc"})))
            .respond_with(json_ok(200, "ext_id_add_200.json")),
    )
    .await;
    mount(
        &server,
        authed("DELETE", "/api/v2/meeting/5/extId/m365:abc")
            .and(ExactQuery::new(&[]))
            .respond_with(ResponseTemplate::new(200)),
    )
    .await;
    let client = client_for(&server);
    client
        .ext_ids(EntityName::Meeting, 5)
        .add("m365:abc")
        .await
        .unwrap();
    client
        .ext_ids(EntityName::Meeting, 5)
        .remove("m365:abc")
        .await
        .unwrap();
}

#[tokio::test]
async fn list_all_walks_pages_with_offset_and_limit() {
    let server = server().await;
    let rows = |from: u64, n: u64| {
        json!({
            "success": true,
            "totalCount": 5,
            "data": (from..from + n).map(|id| json!({"id": id, "lastName": format!("P{id}")})).collect::<Vec<_>>()
        })
    };
    for (offset, n) in [(0u64, 2u64), (2, 2), (4, 1)] {
        mount(
            &server,
            authed("GET", "/api/v2/person/")
                .and(ExactQuery::new(&[
                    ("offset", &offset.to_string()),
                    ("limit", "2"),
                    ("dateFormat", "ISO8601"),
                ]))
                .respond_with(ResponseTemplate::new(200).set_body_json(rows(offset + 1, n))),
        )
        .await;
    }
    let client = client_for(&server);
    let all = client
        .persons()
        .list_all(&ListQuery::new().limit(2))
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5]
    );
}

#[tokio::test]
async fn api_error_envelope_is_reported_with_endpoint() {
    let server = server().await;
    mount(
        &server,
        authed("GET", "/api/v2/meeting/")
            .respond_with(json_ok(400, "error_unsupported_filter.json")),
    )
    .await;
    mount(
        &server,
        authed("GET", "/api/v2/meeting/999/").respond_with(json_ok(404, "error_not_found.json")),
    )
    .await;
    let client = client_for(&server);
    let err = client
        .meetings()
        .list(&ListQuery::new().filter("x", Op::Eq, "1"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.api_type(), Some("BadRequest"));
    assert_eq!(err.endpoint(), Some("GET /meeting/"));
    assert!(
        err.to_string().contains("Unsupported filter column [x]"),
        "{err}"
    );
    let err = client.meetings().get(999).await.unwrap_err();
    assert!(err.is_not_found());
    assert!(
        matches!(err, Error::Api { translated_message: Some(ref t), .. } if t == "Záznam nebyl nalezen")
    );
}

#[tokio::test]
async fn unexpected_requests_are_loud() {
    let server = server().await;
    let err = client_for(&server).companies().get(1).await.unwrap_err();
    assert!(
        matches!(err, Error::Api { status: 418, body: Some(ref b), .. } if b.contains("was not mocked")),
        "{err:?}"
    );
}

#[tokio::test]
async fn rate_limit_headers_are_exposed() {
    let server = server().await;
    mount(
        &server,
        authed("GET", "/api/v2/company/3/").respond_with(
            json_ok(200, "company_detail.json")
                .insert_header("X-Ratelimit-Limit", "24000")
                .insert_header("X-Ratelimit-Remaining", "23983")
                .insert_header("X-Ratelimit-Reset", "1769126400"),
        ),
    )
    .await;
    let client = client_for(&server);
    assert_eq!(client.rate_limit(), None);
    client.companies().get(3).await.unwrap();
    let rl = client.rate_limit().unwrap();
    assert_eq!((rl.limit, rl.remaining), (Some(24_000), Some(23_983)));
    assert_eq!(rl.reset.unwrap().timestamp(), 1_769_126_400);
}

#[tokio::test]
async fn request_limit_reached_is_the_daily_quota() {
    let server = server().await;
    mount(
        &server,
        authed("GET", "/api/v2/person/1/").respond_with(
            json_ok(429, "error_request_limit.json")
                .insert_header("X-Ratelimit-Limit", "24000")
                .insert_header("X-Ratelimit-Remaining", "0")
                .insert_header("X-Ratelimit-Reset", "4102444800"),
        ),
    )
    .await;
    let client = client_for(&server);
    let err = client.persons().get(1).await.unwrap_err();
    let Error::QuotaExhausted {
        until,
        ref endpoint,
    } = err
    else {
        panic!("{err:?}")
    };
    assert_eq!(until.timestamp(), 4_102_444_800);
    assert_eq!(endpoint, "GET /person/1/");
    assert!(
        err.to_string()
            .starts_with("daily raynet quota spent until 2100-01-01"),
        "{err}"
    );
    // Known to be spent: the next call is refused without a request (expect(1) above).
    assert!(matches!(
        client.persons().get(1).await.unwrap_err(),
        Error::QuotaExhausted { .. }
    ));
}

#[tokio::test]
async fn a_spent_quota_resetting_soon_is_waited_for() {
    let server = server().await;
    let reset = chrono::Utc::now().timestamp() + 1;
    Mock::given(method("GET"))
        .and(path("/api/v2/person/1/"))
        .respond_with(
            json_ok(429, "error_request_limit.json")
                .insert_header("X-Ratelimit-Limit", "24000")
                .insert_header("X-Ratelimit-Remaining", "0")
                .insert_header("X-Ratelimit-Reset", reset.to_string().as_str()),
        )
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount(
        &server,
        authed("GET", "/api/v2/person/1/").respond_with(
            json_ok(200, "person_detail.json")
                .insert_header("X-Ratelimit-Limit", "24000")
                .insert_header("X-Ratelimit-Remaining", "23999")
                .insert_header("X-Ratelimit-Reset", (reset + 86_400).to_string().as_str()),
        ),
    )
    .await;
    let client = raynet_client::Client::builder()
        .base_url(format!("{}/api/v2/", server.uri()))
        .instance(INSTANCE)
        .credentials(crate::util::USER, crate::util::KEY)
        .retry(raynet_client::RetryConfig::fast())
        .max_quota_wait(std::time::Duration::from_secs(10))
        .build()
        .unwrap();
    assert_eq!(client.persons().get(1).await.unwrap().id, 7);
    assert_eq!(client.rate_limit().unwrap().remaining, Some(23_999));
}

/// Public types can cross threads, and the client's futures can be spawned.
#[test]
fn public_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>(_: &T) {}
    send_sync::<raynet_client::Client>();
    send_sync::<Error>();
    send_sync::<raynet_client::CalendarActivity>();
    send_sync::<raynet_client::Person>();
    send_sync::<raynet_client::Page<raynet_client::UserAccount>>();
    send_sync::<raynet_client::fake::FakeRaynet>();
    let client = raynet_client::Client::builder()
        .base_url("http://127.0.0.1:9/api/v2/")
        .instance("acme")
        .credentials("u", "k")
        .build()
        .unwrap();
    let q = ListQuery::new();
    send(&client.meetings().list_all(&q));
    send(&client.persons().modified_since(&chrono::Utc::now()));
    send(&client.ext_ids(EntityName::Meeting, 1).add("x"));
}
