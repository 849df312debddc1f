//! The wire format of every client method, pinned with wiremock.
//!
//! Each test mounts the token endpoint, the mocks for one endpoint and a catch-all that
//! answers anything unexpected with a loud 418, then checks what was received.

use chrono::TimeZone;
use graph_client::client::models::{
    BatchRequest, Contact, DateTimeTimeZone, EmailAddress, Event, EventType, ShowAs,
    SingleValueExtendedProperty,
};
use graph_client::{Client, Error};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::util::{LINK, fast_retry};

pub(crate) const USER: &str = "cd209b0b-3f83-4c35-82d2-d88a61820480";

pub(crate) fn fixture(name: &str, server: &MockServer) -> Value {
    let text = match name {
        "token" => include_str!("fixtures/token.json"),
        "group-members-page1" => include_str!("fixtures/group-members-page1.json"),
        "group-members-page2" => include_str!("fixtures/group-members-page2.json"),
        "calendarview-delta-page1" => include_str!("fixtures/calendarview-delta-page1.json"),
        "calendarview-delta-last" => include_str!("fixtures/calendarview-delta-last.json"),
        "event-created" => include_str!("fixtures/event-created.json"),
        "contact-created" => include_str!("fixtures/contact-created.json"),
        "batch-response" => include_str!("fixtures/batch-response.json"),
        "error-sync-state-not-found" => include_str!("fixtures/error-sync-state-not-found.json"),
        "error-irresolvable-conflict" => include_str!("fixtures/error-irresolvable-conflict.json"),
        "subscription" => include_str!("fixtures/subscription.json"),
        "subscriptions" => include_str!("fixtures/subscriptions.json"),
        other => panic!("no fixture {other}"),
    };
    let text = text
        .replace("{{BASE}}", &format!("{}/v1.0", server.uri()))
        .replace("{{USER}}", USER);
    serde_json::from_str(&text).expect("fixture is JSON")
}

pub(crate) async fn setup() -> (MockServer, Client) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/contoso.test/oauth2/v2.0/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("token", &server)))
        .mount(&server)
        .await;
    // Anything not mocked by the test is loud (and 418 is never retried).
    Mock::given(wiremock::matchers::any())
        .respond_with(|req: &Request| {
            ResponseTemplate::new(418)
                .set_body_string(format!("{} {} was not expected", req.method, req.url))
        })
        .with_priority(u8::MAX)
        .mount(&server)
        .await;
    let client = Client::builder()
        .graph_base_url(format!("{}/v1.0", server.uri()))
        .authority_base_url(server.uri())
        .credentials("contoso.test", "app-id", "s3cr3t value&more")
        .retry(fast_retry())
        .build()
        .expect("client");
    (server, client)
}

pub(crate) async fn graph_requests(server: &MockServer) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.url.path().starts_with("/v1.0"))
        .collect()
}

fn prefer(req: &Request) -> String {
    req.headers
        .get("prefer")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

pub(crate) fn common_headers(req: &Request) {
    assert_eq!(
        req.headers
            .get("authorization")
            .and_then(|v| v.to_str().ok()),
        Some(format!(
            "Bearer {}",
            "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsIng1dCI6Ik1uQ19WWmNBVGZNNXBP..."
        ))
        .as_deref()
    );
    assert!(
        prefer(req).starts_with(r#"IdType="ImmutableId""#),
        "{}",
        prefer(req)
    );
    assert!(req.headers.get("client-request-id").is_some());
}

#[tokio::test]
async fn token_request_is_a_client_credentials_form() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path(format!("/v1.0/users/{USER}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": USER})))
        .mount(&server)
        .await;
    client.users().get(USER).await.expect("user");
    let token_req = server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .find(|r| r.url.path().ends_with("/token"))
        .expect("token request");
    assert_eq!(
        token_req
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/x-www-form-urlencoded")
    );
    let body = String::from_utf8(token_req.body.clone()).expect("utf8");
    assert_eq!(
        body,
        "client_id=app-id&client_secret=s3cr3t+value%26more&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default&grant_type=client_credentials"
    );
    let user_req = &graph_requests(&server).await[0];
    common_headers(user_req);
    assert_eq!(
        user_req.url.query(),
        Some("$select=id,displayName,mail,userPrincipalName,accountEnabled")
    );
}

#[tokio::test]
async fn transitive_members_follow_next_link_verbatim() {
    let (server, client) = setup().await;
    let group = "02bd9fd6-8f93-4758-87c3-1fb73740a315";
    Mock::given(method("GET"))
        .and(path(format!("/v1.0/groups/{group}/transitiveMembers")))
        .and(query_param("$skiptoken", "RFNwdAIAAQAAAA"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture("group-members-page2", &server)),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v1.0/groups/{group}/transitiveMembers")))
        .and(query_param(
            "$select",
            "id,displayName,mail,userPrincipalName",
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture("group-members-page1", &server)),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    let members = client
        .groups()
        .all_transitive_members(group)
        .await
        .expect("members");
    assert_eq!(members.len(), 4);
    assert_eq!(members.iter().filter(|m| m.is_user()).count(), 2);
    assert_eq!(
        members[2].mail, None,
        "a guest without mailbox has mail null"
    );
    let reqs = graph_requests(&server).await;
    assert_eq!(reqs.len(), 2);
    reqs.iter().for_each(common_headers);
}

#[tokio::test]
async fn group_search_filters_on_the_start_of_the_display_name() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path("/v1.0/groups"))
        .and(query_param("$filter", "startswith(displayName,'O''Bri')"))
        .and(query_param("$top", "25"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"value": [{"id": "g1", "displayName": "O'Brien team"}]})),
        )
        .mount(&server)
        .await;
    let groups = client
        .groups()
        .search_by_display_name("O'Bri", 25)
        .await
        .expect("groups");
    assert_eq!(groups[0].id, "g1");
    let req = &graph_requests(&server).await[0];
    assert!(
        req.headers.get("consistencylevel").is_none(),
        "startswith on displayName is a default query"
    );
}

#[tokio::test]
async fn group_lookup_by_display_name_escapes_quotes() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path("/v1.0/groups"))
        .and(query_param("$filter", "displayName eq 'O''Brien team'"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"value": [{"id": "g1", "displayName": "O'Brien team"}]})),
        )
        .mount(&server)
        .await;
    let groups = client
        .groups()
        .find_by_display_name("O'Brien team")
        .await
        .expect("groups");
    assert_eq!(groups[0].id, "g1");
    let raw = graph_requests(&server).await[0].url.to_string();
    assert!(
        raw.contains("displayName%20eq%20") && !raw.contains('+'),
        "spaces are %20, never +: {raw}"
    );
}

#[tokio::test]
async fn calendar_view_delta_round() {
    let (server, client) = setup().await;
    let base = format!("/v1.0/users/{USER}/calendarView/delta");
    Mock::given(method("GET"))
        .and(path(base.clone()))
        .and(query_param("startDateTime", "2030-01-01T00:00:00Z"))
        .and(query_param("endDateTime", "2030-02-01T00:00:00Z"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture("calendarview-delta-page1", &server)),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(base.clone()))
        .and(query_param("$skiptoken", "R0usmcCM996atia_s"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture("calendarview-delta-last", &server)),
        )
        .mount(&server)
        .await;
    let start = chrono::Utc
        .with_ymd_and_hms(2030, 1, 1, 0, 0, 0)
        .single()
        .expect("t");
    let end = chrono::Utc
        .with_ymd_and_hms(2030, 2, 1, 0, 0, 0)
        .single()
        .expect("t");
    let round = client
        .events(USER)
        .delta_full(start, end)
        .await
        .expect("round");
    assert_eq!(round.pages, 2);
    assert_eq!(
        round.delta_link,
        format!(
            "{}/v1.0/users/{USER}/calendarView/delta?$deltatoken=R0usmci39OQxqJrxK4",
            server.uri()
        )
    );
    assert_eq!(round.items.len(), 4);
    assert_eq!(round.items[1].kind, Some(EventType::Occurrence));
    assert_eq!(round.items[1].id.as_deref(), Some("AAMkADNVxRAAB/+x="));
    assert!(round.items[2].is_removed());
    assert_eq!(round.items[3].is_all_day, Some(true));
    assert_eq!(
        round.items[3].show_as,
        Some(ShowAs::Unknown("workingElsewhere2031".into())),
        "open enums keep new values"
    );
    for req in graph_requests(&server).await {
        common_headers(&req);
        assert_eq!(
            prefer(&req),
            r#"IdType="ImmutableId", outlook.timezone="UTC", odata.maxpagesize=200"#
        );
    }
}

#[tokio::test]
async fn expired_delta_token_is_typed() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path(format!("/v1.0/users/{USER}/calendarView/delta")))
        .respond_with(
            ResponseTemplate::new(410)
                .set_body_json(fixture("error-sync-state-not-found", &server)),
        )
        .mount(&server)
        .await;
    let link = format!(
        "{}/v1.0/users/{USER}/calendarView/delta?$deltatoken=old",
        server.uri()
    );
    let err = client
        .events(USER)
        .delta_resume(&link)
        .await
        .expect_err("expired");
    assert!(
        matches!(err, Error::DeltaExpired { status: 410, .. }),
        "{err:?}"
    );
    // A link to another host is refused before any token is sent.
    let err = client
        .events(USER)
        .delta_page("https://evil.example/v1.0/x")
        .await
        .expect_err("foreign");
    assert!(matches!(err, Error::Shape { .. }));
}

#[tokio::test]
async fn decode_errors_name_the_field_path() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path(format!("/v1.0/users/{USER}/calendarView/delta")))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"value": [{"id": "a", "start": {"dateTime": 5, "timeZone": "UTC"}}]}),
        ))
        .mount(&server)
        .await;
    let link = format!(
        "{}/v1.0/users/{USER}/calendarView/delta?$deltatoken=x",
        server.uri()
    );
    // The item fails alone (the page is still read), naming the field.
    let page = client.events(USER).delta_page(&link).await.expect("page");
    assert!(page.items.is_empty());
    match &page.failed[0].error {
        Error::Decode { path, endpoint, .. } => {
            assert_eq!(path, "value[0].start.dateTime");
            assert!(endpoint.contains("calendarView/delta"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(page.failed[0].id.as_deref(), Some("a"));
}

#[tokio::test]
async fn an_error_inside_value_fails_closed() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path(format!("/v1.0/users/{USER}/calendarView/delta")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"value": [{"error": {"code": "ErrorInvalidIdMalformed"}}]})),
        )
        .mount(&server)
        .await;
    let link = format!(
        "{}/v1.0/users/{USER}/calendarView/delta?$deltatoken=x",
        server.uri()
    );
    assert!(matches!(
        client.events(USER).delta_page(&link).await,
        Err(Error::Decode { ref path, .. }) if path == "value[0].error"
    ));
}

fn lunch() -> Event {
    let mut e = Event::default();
    e.subject = Some("Let's go for lunch".into());
    e.start = Some(DateTimeTimeZone::new("2030-01-15T12:00:00", "UTC"));
    e.end = Some(DateTimeTimeZone::new("2030-01-15T14:00:00", "UTC"));
    e.single_value_extended_properties = Some(vec![SingleValueExtendedProperty::new(LINK, "1234")]);
    e
}

#[tokio::test]
async fn create_event_sends_transaction_id_and_link_in_one_post() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path(format!("/v1.0/users/{USER}/events")))
        .and(body_json(json!({
            "subject": "Let's go for lunch",
            "start": {"dateTime": "2030-01-15T12:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2030-01-15T14:00:00", "timeZone": "UTC"},
            "transactionId": "7E163156-7762-4BEB-A1C6-729EA81755A7",
            "singleValueExtendedProperties": [{"id": LINK, "value": "1234"}]
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(fixture("event-created", &server)))
        .mount(&server)
        .await;
    let created = client
        .events(USER)
        .create(&lunch(), "7E163156-7762-4BEB-A1C6-729EA81755A7")
        .await
        .expect("created");
    assert_eq!(created.id.as_deref(), Some("AAMkAGI1AAAt9AHjAAA="));
    assert_eq!(
        created.etag.as_deref(),
        Some("W/\"ZlnW4RIAV06KYYwlrfNZvQAALfZeRQ==\"")
    );
    let req = &graph_requests(&server).await[0];
    common_headers(req);
    assert_eq!(
        prefer(req),
        r#"IdType="ImmutableId", outlook.timezone="UTC""#
    );
    assert_eq!(
        req.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
}

#[tokio::test]
async fn create_event_is_retried_after_a_decimal_retry_after() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path(format!("/v1.0/users/{USER}/events")))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "0.01")
                .set_body_json(json!({"error": {"code": "TooManyRequests", "message": "x"}})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v1.0/users/{USER}/events")))
        .respond_with(ResponseTemplate::new(201).set_body_json(fixture("event-created", &server)))
        .with_priority(2)
        .mount(&server)
        .await;
    client
        .events(USER)
        .create(&lunch(), "t-1")
        .await
        .expect("created after retry");
    assert_eq!(graph_requests(&server).await.len(), 2);
}

#[tokio::test]
async fn update_and_delete_send_if_match_and_encode_ids() {
    let (server, client) = setup().await;
    let id = "AAMk/a+b=";
    let encoded = format!("/v1.0/users/{USER}/events/AAMk%2Fa%2Bb%3D");
    Mock::given(method("PATCH"))
        .and(path(encoded.clone()))
        .and(body_json(json!({"subject": "Renamed"})))
        .respond_with(
            ResponseTemplate::new(412)
                .set_body_json(fixture("error-irresolvable-conflict", &server)),
        )
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(encoded.clone()))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let mut patch = Event::default();
    patch.subject = Some("Renamed".into());
    let err = client
        .events(USER)
        .update(id, &patch, "W/\"abc\"")
        .await
        .expect_err("conflict");
    assert!(
        matches!(&err, Error::Conflict { code, .. } if code == "ErrorIrresolvableConflict"),
        "{err:?}"
    );
    client
        .events(USER)
        .delete(id, Some("W/\"abc\""))
        .await
        .expect("deleted");
    let reqs = graph_requests(&server).await;
    assert_eq!(reqs.len(), 2, "a 412 is not retried");
    for req in &reqs {
        assert_eq!(req.url.path(), encoded);
        assert_eq!(
            req.headers.get("if-match").and_then(|v| v.to_str().ok()),
            Some("W/\"abc\"")
        );
    }
}

#[tokio::test]
async fn lookup_by_extended_property() {
    let (server, client) = setup().await;
    let filter =
        format!("singleValueExtendedProperties/Any(ep: ep/id eq '{LINK}' and ep/value eq '1234')");
    let expand = format!("singleValueExtendedProperties($filter=id eq '{LINK}')");
    Mock::given(method("GET"))
        .and(path(format!("/v1.0/users/{USER}/events")))
        .and(query_param("$filter", filter.as_str()))
        .and(query_param("$expand", expand.as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"value": [fixture("event-created", &server)]})),
        )
        .mount(&server)
        .await;
    let found = client
        .events(USER)
        .find_by_extended_property(LINK, "1234")
        .await
        .expect("found");
    assert_eq!(found.len(), 1);
    let raw = graph_requests(&server).await[0].url.to_string();
    assert!(!raw.contains('+') && raw.contains("%20"), "{raw}");
}

#[tokio::test]
async fn contact_folder_and_contact_writes() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path(format!("/v1.0/users/{USER}/contactFolders")))
        .and(query_param("$filter", "displayName eq 'Raynet'"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": []})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v1.0/users/{USER}/contactFolders")))
        .and(body_json(json!({"displayName": "Raynet"})))
        .respond_with(ResponseTemplate::new(201).set_body_json(
            json!({"id": "AAMkAGI2TFolder=", "displayName": "Raynet", "parentFolderId": "root"}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v1.0/users/{USER}/contactFolders/AAMkAGI2TFolder%3D/contacts")))
        .and(body_json(json!({
            "givenName": "Pavel", "surname": "Bansky",
            "emailAddresses": [{"name": "Pavel Bansky", "address": "pavelb@contoso.onmicrosoft.com"}],
            "businessPhones": ["+1 732 555 0102"]
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(fixture("contact-created", &server)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v1.0/users/{USER}/contactFolders/AAMkAGI2TFolder%3D/contacts/delta")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [fixture("contact-created", &server)],
            "@odata.deltaLink": format!("{}/v1.0/users/{USER}/contactFolders/AAMkAGI2TFolder%3D/contacts/delta?$deltatoken=abc", server.uri())
        })))
        .mount(&server)
        .await;
    let folder = client
        .contacts(USER)
        .ensure_folder("Raynet")
        .await
        .expect("folder");
    let folder_id = folder.id.expect("id");
    let mut contact = Contact::default();
    contact.given_name = Some("Pavel".into());
    contact.surname = Some("Bansky".into());
    contact.email_addresses = Some(vec![EmailAddress::new(
        "pavelb@contoso.onmicrosoft.com",
        Some("Pavel Bansky".into()),
    )]);
    contact.business_phones = Some(vec!["+1 732 555 0102".into()]);
    let created = client
        .contacts(USER)
        .create(&folder_id, &contact)
        .await
        .expect("created");
    assert_eq!(created.display_name.as_deref(), Some("Pavel Bansky"));
    let round = client
        .contacts(USER)
        .delta_round(&folder_id, None)
        .await
        .expect("delta");
    assert_eq!(round.items.len(), 1);
    let reqs = graph_requests(&server).await;
    assert_eq!(reqs.len(), 4);
    reqs.iter().for_each(common_headers);
}

#[tokio::test]
async fn batch_envelope_and_throttled_sub_request_retry() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path("/v1.0/$batch"))
        .and(body_json(json!({"requests": [
            {"id": "1", "method": "GET", "url": "/users/87d349ed-44d7-43e1-9a83-5f2406dee5bd", "headers": {"Prefer": "IdType=\"ImmutableId\""}},
            {"id": "2", "method": "GET", "url": format!("/users/{USER}/events/AAMk"), "headers": {"Prefer": "IdType=\"ImmutableId\", outlook.timezone=\"UTC\""}}
        ]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("batch-response", &server)))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1.0/$batch"))
        .and(body_json(json!({"requests": [
            {"id": "2", "method": "GET", "url": format!("/users/{USER}/events/AAMk"), "headers": {"Prefer": "IdType=\"ImmutableId\", outlook.timezone=\"UTC\""}}
        ]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"responses": [{"id": "2", "status": 200, "headers": {}, "body": {"id": "AAMk"}}]})))
        .mount(&server)
        .await;
    let answers = client
        .batch(vec![
            BatchRequest::new("1", "GET", "/users/87d349ed-44d7-43e1-9a83-5f2406dee5bd"),
            BatchRequest::new("2", "GET", format!("/users/{USER}/events/AAMk"))
                .with_header("Prefer", r#"outlook.timezone="UTC""#),
        ])
        .await
        .expect("batch");
    assert_eq!(
        answers
            .iter()
            .map(|a| (a.id.as_str(), a.status))
            .collect::<Vec<_>>(),
        vec![("1", 200), ("2", 200)]
    );
    assert_eq!(graph_requests(&server).await.len(), 2);
}

#[tokio::test]
async fn remaining_endpoints_wire_format() {
    let (server, client) = setup().await;
    let group = "02bd9fd6-8f93-4758-87c3-1fb73740a315";
    let empty = json!({"value": []});
    for relation in ["members", "owners"] {
        Mock::given(method("GET"))
            .and(path(format!("/v1.0/groups/{group}/{relation}")))
            .and(query_param(
                "$select",
                "id,displayName,mail,userPrincipalName",
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(empty.clone()))
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path(format!("/v1.0/groups/{group}")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"id": group, "displayName": "Sales", "groupTypes": ["Unified"]}),
            ),
        )
        .mount(&server)
        .await;
    let event_path = format!("/v1.0/users/{USER}/events/AAMkAGI1AAAt9AHjAAA%3D");
    Mock::given(method("GET"))
        .and(path(event_path.clone()))
        .and(query_param("$expand", format!("singleValueExtendedProperties($filter=id eq '{LINK}')").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json({
            let mut e = fixture("event-created", &server);
            e["singleValueExtendedProperties"] = json!([{"id": LINK.to_lowercase().replace("raynetid", "RaynetId"), "value": "r-42"}]);
            e
        }))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(event_path.clone()))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("event-created", &server)))
        .with_priority(2)
        .mount(&server)
        .await;
    let contact_path = format!("/v1.0/users/{USER}/contacts/AAMkAGI2THk0AAA%3D");
    Mock::given(method("PATCH"))
        .and(path(contact_path.clone()))
        .and(body_json(json!({"jobTitle": "CEO"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("contact-created", &server)))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(contact_path.clone()))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"error": {"code": "ErrorItemNotFound", "message": "gone"}})),
        )
        .mount(&server)
        .await;

    assert_eq!(
        client.groups().get(group).await.expect("group").group_types,
        vec!["Unified".to_owned()]
    );
    assert!(
        client
            .groups()
            .members(group)
            .await
            .expect("members")
            .items
            .is_empty()
    );
    assert!(
        client
            .groups()
            .owners(group)
            .await
            .expect("owners")
            .items
            .is_empty()
    );
    let plain = client
        .events(USER)
        .get("AAMkAGI1AAAt9AHjAAA=")
        .await
        .expect("event");
    assert_eq!(plain.extended_property(LINK), None);
    let linked = client
        .events(USER)
        .get_with_property("AAMkAGI1AAAt9AHjAAA=", LINK)
        .await
        .expect("event");
    assert_eq!(
        linked.extended_property(LINK),
        Some("r-42"),
        "GUID case may differ, the name may not"
    );
    let mut patch = Contact::default();
    patch.job_title = Some("CEO".into());
    client
        .contacts(USER)
        .update("AAMkAGI2THk0AAA=", &patch, Some("W/\"x\""))
        .await
        .expect("updated");
    let gone = client
        .contacts(USER)
        .delete("AAMkAGI2THk0AAA=", None)
        .await
        .expect("gone is fine");
    assert_eq!(gone, graph_client::client::DeleteOutcome::AlreadyGone);

    let reqs = graph_requests(&server).await;
    assert_eq!(reqs.len(), 7);
    reqs.iter().for_each(common_headers);
    let patch_req = reqs
        .iter()
        .find(|r| r.method.as_str() == "PATCH")
        .expect("patch");
    assert_eq!(
        patch_req
            .headers
            .get("if-match")
            .and_then(|v| v.to_str().ok()),
        Some("W/\"x\"")
    );
    let event_get = reqs
        .iter()
        .find(|r| r.url.path() == event_path)
        .expect("event get");
    assert_eq!(
        prefer(event_get),
        r#"IdType="ImmutableId", outlook.timezone="UTC""#
    );
    assert!(
        reqs.iter()
            .filter(|r| r.url.path().contains("/contacts/"))
            .all(|r| !prefer(r).contains("outlook.timezone"))
    );
}
