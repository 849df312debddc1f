//! The wire format of the subscription endpoints (wiremock) and the notification payloads
//! Graph POSTs to us (the documented examples).

use chrono::{TimeZone, Utc};
use graph_client::Error;
use graph_client::client::DeleteOutcome;
use graph_client::client::models::{
    ALL_CHANGE_TYPES, ChangeNotificationCollection, ChangeType, LifecycleEvent, NewSubscription,
};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, ResponseTemplate};

use crate::wire::{USER, common_headers, fixture, graph_requests, setup};

const SUB: &str = "7f105c7d-2dc5-4530-97cd-4e7ae6534c07";

fn body(req: &wiremock::Request) -> Value {
    serde_json::from_slice(&req.body).expect("JSON body")
}

#[tokio::test]
async fn create_posts_the_documented_body_and_reads_the_expiry_back() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path("/v1.0/subscriptions"))
        .respond_with(ResponseTemplate::new(201).set_body_json(fixture("subscription", &server)))
        .expect(1)
        .mount(&server)
        .await;
    let expiry = Utc.with_ymd_and_hms(2016, 11, 22, 18, 23, 45).unwrap();
    let new = NewSubscription::new(
        format!("/users/{USER}/events"),
        "https://webhook.azurewebsites.net/api/send/myNotifyClient",
        expiry,
    )
    .lifecycle_url("https://webhook.azurewebsites.net/api/send/lifecycleNotifications")
    .client_state("secretClientValue");
    assert!(!format!("{new:?}").contains("secretClientValue"));
    let sub = client.subscriptions().create(&new).await.expect("created");
    assert_eq!(sub.id, SUB);
    assert_eq!(
        sub.expiration_date_time,
        Some(
            Utc.with_ymd_and_hms(2016, 11, 20, 18, 23, 45).unwrap()
                + chrono::Duration::nanoseconds(935_691_300)
        )
    );
    assert_eq!(
        sub.client_state.as_ref().map(sync_secret::Secret::expose),
        Some("secretClientValue")
    );
    assert!(!format!("{sub:?}").contains("secretClientValue"));
    let reqs = graph_requests(&server).await;
    assert_eq!(reqs.len(), 1);
    common_headers(&reqs[0]);
    assert_eq!(
        reqs[0]
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    assert_eq!(
        body(&reqs[0]),
        json!({
            "changeType": "created,updated,deleted",
            "notificationUrl": "https://webhook.azurewebsites.net/api/send/myNotifyClient",
            "lifecycleNotificationUrl": "https://webhook.azurewebsites.net/api/send/lifecycleNotifications",
            "resource": format!("/users/{USER}/events"),
            "expirationDateTime": "2016-11-22T18:23:45Z",
            "clientState": "secretClientValue",
        })
    );
    assert_eq!(ALL_CHANGE_TYPES, "created,updated,deleted");
}

#[tokio::test]
async fn create_is_not_retried_and_a_failed_handshake_is_an_api_error() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path("/v1.0/subscriptions"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
            "code": "ValidationError",
            "message": "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request."
        }})))
        .mount(&server)
        .await;
    let new = NewSubscription::new(
        "/users/x/events",
        "https://example.test/hook",
        Utc::now() + chrono::Duration::days(1),
    );
    let err = client.subscriptions().create(&new).await.expect_err("400");
    assert_eq!(err.status(), Some(400));
    assert!(matches!(err, Error::Api { .. }), "{err:?}");
    assert_eq!(graph_requests(&server).await.len(), 1);
}

#[tokio::test]
async fn get_renew_delete_and_reauthorize_hit_their_endpoints() {
    let (server, client) = setup().await;
    let one = format!("/v1.0/subscriptions/{SUB}");
    Mock::given(method("GET"))
        .and(path(one.clone()))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("subscription", &server)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(one.clone()))
        .and(body_json(
            json!({"expirationDateTime": "2016-11-22T18:23:45Z"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("subscription", &server)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(one.clone()))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{one}/reauthorize")))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let subs = client.subscriptions();
    assert_eq!(subs.get(SUB).await.expect("get").id, SUB);
    let expiry = Utc.with_ymd_and_hms(2016, 11, 22, 18, 23, 45).unwrap();
    assert_eq!(subs.renew(SUB, expiry).await.expect("renew").id, SUB);
    assert_eq!(
        subs.delete(SUB).await.expect("delete"),
        DeleteOutcome::Deleted
    );
    subs.reauthorize(SUB).await.expect("reauthorize");
    let reqs = graph_requests(&server).await;
    let seen: Vec<(String, String)> = reqs
        .iter()
        .map(|r| (r.method.to_string(), r.url.path().to_owned()))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("GET".to_owned(), one.clone()),
            ("PATCH".to_owned(), one.clone()),
            ("DELETE".to_owned(), one.clone()),
            ("POST".to_owned(), format!("{one}/reauthorize")),
        ]
    );
    for r in &reqs {
        common_headers(r);
    }
    assert!(reqs[3].body.is_empty());
}

#[tokio::test]
async fn list_follows_next_links_and_reads_the_documented_page() {
    let (server, client) = setup().await;
    // A first page holding the created subscription and a next link, then the documented
    // listing (no `clientState`: Graph leaves it out).
    let mut first = fixture("subscription", &server);
    first["clientState"] = Value::Null;
    let base = format!("{}/v1.0", server.uri());
    Mock::given(method("GET"))
        .and(path("/v1.0/subscriptions"))
        .and(query_param_is_missing("$skiptoken"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "@odata.context": format!("{base}/$metadata#subscriptions"),
            "value": [first],
            "@odata.nextLink": format!("{base}/subscriptions?$skiptoken=page2"),
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/subscriptions"))
        .and(query_param("$skiptoken", "page2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("subscriptions", &server)))
        .expect(1)
        .mount(&server)
        .await;
    let subs = client.subscriptions().list().await.expect("listed");
    let ids: Vec<&str> = subs.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, [SUB, "0fc0d6db-0073-42e5-a186-853da75fb308"]);
    assert_eq!(subs[1].resource.as_deref(), Some("Users"));
    assert_eq!(subs[1].change_type.as_deref(), Some("updated,deleted"));
    assert_eq!(subs[1].client_state, None);
    assert_eq!(
        subs[1].expiration_date_time,
        Some(Utc.with_ymd_and_hms(2018, 3, 12, 5, 0, 0).unwrap())
    );
    let reqs = graph_requests(&server).await;
    assert_eq!(reqs.len(), 2);
    for r in &reqs {
        assert_eq!(r.method.as_str(), "GET");
        assert!(r.body.is_empty());
        common_headers(r);
    }
    assert_eq!(reqs[0].url.query(), None);
    assert_eq!(reqs[1].url.query(), Some("$skiptoken=page2"));
}

#[tokio::test]
async fn a_list_next_link_to_another_host_is_refused() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path("/v1.0/subscriptions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [],
            "@odata.nextLink": "https://elsewhere.example/v1.0/subscriptions?$skiptoken=x",
        })))
        .mount(&server)
        .await;
    let err = client.subscriptions().list().await.expect_err("refused");
    assert!(matches!(err, Error::Shape { .. }), "{err:?}");
    assert_eq!(graph_requests(&server).await.len(), 1);
}

#[tokio::test]
async fn deleting_a_gone_subscription_is_already_gone() {
    let (server, client) = setup().await;
    Mock::given(method("DELETE"))
        .and(path(format!("/v1.0/subscriptions/{SUB}")))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": {
            "code": "ResourceNotFound", "message": "The object was not found."
        }})))
        .mount(&server)
        .await;
    assert_eq!(
        client.subscriptions().delete(SUB).await.expect("gone"),
        DeleteOutcome::AlreadyGone
    );
}

/// The documented change notification (an Outlook item, basic: no resource content).
const CHANGE_EXAMPLE: &str = r##"{
  "value": [
    {
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
    }
  ]
}"##;

/// The documented lifecycle notification.
const LIFECYCLE_EXAMPLE: &str = r#"{
  "value": [
    {
      "subscriptionId": "<subscription_guid>",
      "subscriptionExpirationDateTime": "2020-03-15T16:55:29.0000000Z",
      "tenantId": "<tenant_guid>",
      "clientState": "<secretClientState>",
      "lifecycleEvent": "reauthorizationRequired"
    }
  ]
}"#;

#[test]
fn the_documented_change_notification_parses() {
    let c = ChangeNotificationCollection::parse(CHANGE_EXAMPLE.as_bytes()).expect("parses");
    assert_eq!(c.value.len(), 1);
    let n = &c.value[0];
    assert_eq!(n.subscription_id, "{subscription_guid}");
    assert_eq!(n.change_type, Some(ChangeType::Created));
    assert!(!n.is_lifecycle());
    assert!(n.client_state_is(&"secretClientValue".into()));
    assert!(!n.client_state_is(&"other".into()));
    assert!(!format!("{n:?}").contains("secretClientValue"));
    assert_eq!(
        n.tenant_id.as_deref(),
        Some("84bd8158-6d4d-4958-8b9f-9d6445542f95")
    );
    assert_eq!(
        n.subscription_expiration_date_time,
        Some(
            Utc.with_ymd_and_hms(2016, 3, 19, 22, 11, 9).unwrap()
                + chrono::Duration::milliseconds(952)
        )
    );
    let data = n.resource_data.as_ref().expect("resourceData");
    assert_eq!(data.odata_type.as_deref(), Some("#Microsoft.Graph.Message"));
    assert_eq!(
        data.odata_id.as_deref(),
        Some("Users/{user_guid}@{tenant_guid}/Messages/{long_id_string}")
    );
    assert_eq!(
        data.odata_etag.as_deref(),
        Some(r#"W/"CQAAABYAAADkrWGo7bouTKlsgTZMr9KwAAAUWRHf""#)
    );
    assert_eq!(data.id.as_deref(), Some("{long_id_string}"));
}

#[test]
fn the_documented_lifecycle_notification_parses() {
    let c = ChangeNotificationCollection::parse(LIFECYCLE_EXAMPLE.as_bytes()).expect("parses");
    let n = &c.value[0];
    assert!(n.is_lifecycle());
    assert_eq!(
        n.lifecycle_event,
        Some(LifecycleEvent::ReauthorizationRequired)
    );
    assert_eq!(n.change_type, None);
    for (wire, event) in [
        ("subscriptionRemoved", LifecycleEvent::SubscriptionRemoved),
        ("missed", LifecycleEvent::Missed),
        (
            "somethingNew",
            LifecycleEvent::Unknown("somethingNew".to_owned()),
        ),
    ] {
        let text = LIFECYCLE_EXAMPLE.replace("reauthorizationRequired", wire);
        let c = ChangeNotificationCollection::parse(text.as_bytes()).expect("parses");
        assert_eq!(c.value[0].lifecycle_event.as_ref(), Some(&event));
        assert_eq!(event.as_str(), wire);
    }
}

#[test]
fn parsing_is_tolerant_and_names_the_failing_field() {
    let unknown = CHANGE_EXAMPLE
        .replace(r#""created""#, r#""weird""#)
        .replace(r#""tenantId""#, r#""newField": [1, 2], "tenantId""#);
    let c = ChangeNotificationCollection::parse(unknown.as_bytes()).expect("tolerant");
    assert_eq!(
        c.value[0].change_type,
        Some(ChangeType::Unknown("weird".to_owned()))
    );
    let minimal = ChangeNotificationCollection::parse(br#"{"value":[{}]}"#).expect("minimal");
    assert_eq!(minimal.value[0].subscription_id, "");
    let bad = CHANGE_EXAMPLE.replace(r#""id": "{long_id_string}""#, r#""id": 7"#);
    match ChangeNotificationCollection::parse(bad.as_bytes()) {
        Err(Error::Decode { endpoint, path, .. }) => {
            assert_eq!(endpoint, "change notification");
            assert_eq!(path, "value[0].resourceData.id");
        }
        other => panic!("{other:?}"),
    }
    assert!(ChangeNotificationCollection::parse(b"{}").is_err());
}
