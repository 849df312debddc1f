//! Webhooks on the wire (`client.webhooks()`, pinned with wiremock: method,
//! path, headers, query, body) and the delivered event's model, read from the
//! documented example payloads (the generated SDK's examples for the
//! registrations; reference §12 for the event's fields).

use raynet_client::Error;
use raynet_client::models::{
    NewWebhook, WebhookEntity, WebhookEvent, WebhookEventType, WebhookSourceName,
};
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::util::{ExactQuery, INSTANCE, basic, client_for, server};

/// The documented `GET /webhook/` example (SDK docs; a webhook with a token).
fn documented_list() -> serde_json::Value {
    json!({
        "technicalContacts": ["technical@contact.cz"],
        "webhooks": [{
            "webhookId": "cb83cfc88bee4c90ab3111f3dc2b7dfb",
            "url": "https://webhook.site",
            "secretToken": "tajne-heslo",
            "eventsFilter": ["record.created", "record.updated", "record.deleted"]
        }]
    })
}

fn authed(m: &str, p: &str) -> wiremock::MockBuilder {
    Mock::given(method(m))
        .and(path(p))
        .and(header("authorization", basic().as_str()))
        .and(header("x-instance-name", INSTANCE))
}

async fn mount(server: &MockServer, mock: Mock) {
    mock.expect(1).mount(server).await;
}

#[tokio::test]
async fn list_is_a_get_with_date_format_and_reads_the_documented_example() {
    let server = server().await;
    mount(
        &server,
        authed("GET", "/api/v2/webhook/")
            .and(ExactQuery::new(&[("dateFormat", "ISO8601")]))
            .respond_with(ResponseTemplate::new(200).set_body_json(documented_list())),
    )
    .await;
    let list = client_for(&server).webhooks().list().await.unwrap();
    assert_eq!(list.technical_contacts, vec!["technical@contact.cz"]);
    let hook = &list.webhooks[0];
    assert_eq!(hook.webhook_id, "cb83cfc88bee4c90ab3111f3dc2b7dfb");
    assert_eq!(hook.url, "https://webhook.site");
    assert_eq!(
        hook.secret_token.as_ref().map(sync_secret::Secret::expose),
        Some("tajne-heslo")
    );
    assert_eq!(hook.events_filter, WebhookEventType::ALL.to_vec());
    // The token is a `Secret`: never printed.
    assert!(!format!("{list:?}").contains("tajne-heslo"));
}

#[tokio::test]
async fn list_also_reads_a_data_envelope_unverified() {
    // The vendor text shows no envelope; an instance that wraps it in `data`
    // (as every other endpoint does) is read the same.
    let server = server().await;
    mount(
        &server,
        authed("GET", "/api/v2/webhook/").respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"success": true, "data": documented_list()})),
        ),
    )
    .await;
    let list = client_for(&server).webhooks().list().await.unwrap();
    assert_eq!(list.webhooks.len(), 1);
    assert_eq!(list.technical_contacts.len(), 1);
}

#[tokio::test]
async fn list_decode_errors_name_the_field() {
    let server = server().await;
    mount(
        &server,
        authed("GET", "/api/v2/webhook/")
            .respond_with(ResponseTemplate::new(200).set_body_json(
                json!({"technicalContacts": [], "webhooks": [{"eventsFilter": 7}]}),
            )),
    )
    .await;
    let err = client_for(&server).webhooks().list().await.unwrap_err();
    assert!(
        matches!(&err, Error::Decode { path, .. } if path == "webhooks[0].eventsFilter"),
        "{err:?}"
    );
}

#[tokio::test]
async fn create_is_a_put_with_url_token_and_events_and_answers_the_uuid() {
    let server = server().await;
    mount(
        &server,
        authed("PUT", "/api/v2/webhook/")
            .and(header("content-type", "application/json; charset=UTF-8"))
            .and(ExactQuery::new(&[]))
            .and(body_json(json!({
                "url": "https://webhook.site",
                "secretToken": "tajne-heslo",
                "events": ["record.created", "record.updated", "record.deleted"]
            })))
            .respond_with(ResponseTemplate::new(201).set_body_json(
                json!({"success": true, "data": {"uuid": "532d339c0a874f68ae8f2cc108c7f7b2"}}),
            )),
    )
    .await;
    let body = NewWebhook::new("https://webhook.site").secret_token("tajne-heslo");
    assert!(!format!("{body:?}").contains("tajne-heslo"));
    let uuid = client_for(&server).webhooks().create(&body).await.unwrap();
    assert_eq!(uuid, "532d339c0a874f68ae8f2cc108c7f7b2");
}

#[tokio::test]
async fn create_without_token_sends_no_token_key() {
    let server = server().await;
    mount(
        &server,
        authed("PUT", "/api/v2/webhook/")
            .and(body_json(json!({
                "url": "http://127.0.0.1:9/hook",
                "events": ["record.deleted"]
            })))
            .respond_with(
                ResponseTemplate::new(201).set_body_json(json!({"data": {"uuid": "abc"}})),
            ),
    )
    .await;
    let body = NewWebhook::new("http://127.0.0.1:9/hook").events([WebhookEventType::Deleted]);
    let uuid = client_for(&server).webhooks().create(&body).await.unwrap();
    assert_eq!(uuid, "abc");
}

#[tokio::test]
async fn delete_is_a_delete_of_the_uuid_with_a_trailing_slash() {
    let server = server().await;
    mount(
        &server,
        authed(
            "DELETE",
            "/api/v2/webhook/532d339c0a874f68ae8f2cc108c7f7b2/",
        )
        .and(ExactQuery::new(&[]))
        .respond_with(ResponseTemplate::new(200)),
    )
    .await;
    client_for(&server)
        .webhooks()
        .delete("532d339c0a874f68ae8f2cc108c7f7b2")
        .await
        .unwrap();
}

#[tokio::test]
async fn technical_contacts_are_a_post_of_the_emails() {
    let server = server().await;
    mount(
        &server,
        authed("POST", "/api/v2/webhook/technicalContact/")
            .and(header("content-type", "application/json; charset=UTF-8"))
            .and(ExactQuery::new(&[]))
            .and(body_json(
                json!({"technicalContacts": ["technical@contact.cz"]}),
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true}))),
    )
    .await;
    client_for(&server)
        .webhooks()
        .set_technical_contacts(&["technical@contact.cz".to_owned()])
        .await
        .unwrap();
}

/// An event with every documented field (reference §12: `eventId`,
/// `createdAt` with offset, `type`, `author`, `source {name, description}`,
/// `data {entityName, entityId, extIds}`).
fn documented_event() -> serde_json::Value {
    json!({
        "eventId": "7f1c2a9e4b3d4e5f8a6b7c8d9e0f1a2b",
        "createdAt": "2024-03-12T10:15:30.000+01:00",
        "type": "record.updated",
        "author": "novak@firma.cz",
        "source": {"name": "api", "description": "raynet-sync"},
        "data": {"entityName": "Company", "entityId": 42, "extIds": ["erp:42"]}
    })
}

#[test]
fn event_reads_every_documented_field() {
    let ev = WebhookEvent::from_slice(documented_event().to_string().as_bytes()).unwrap();
    assert_eq!(
        ev.event_id.as_deref(),
        Some("7f1c2a9e4b3d4e5f8a6b7c8d9e0f1a2b")
    );
    assert_eq!(
        ev.created_at.map(|t| t.to_rfc3339()).as_deref(),
        Some("2024-03-12T10:15:30+01:00")
    );
    assert_eq!(ev.kind, WebhookEventType::Updated);
    assert_eq!(ev.author.as_deref(), Some("novak@firma.cz"));
    assert_eq!(ev.source.name, Some(WebhookSourceName::Api));
    assert_eq!(ev.source.description.as_deref(), Some("raynet-sync"));
    assert_eq!(ev.data.entity_name, WebhookEntity::Company);
    assert_eq!(
        ev.data.entity_name.entity_name(),
        Some(raynet_client::EntityName::Company)
    );
    assert_eq!(ev.data.entity_id, 42);
    assert_eq!(ev.data.ext_ids, vec!["erp:42"]);
    assert!(ev.is_from_api_key("raynet-sync"));
    assert!(!ev.is_from_api_key("other-key"));
}

#[test]
fn event_from_a_browser_user_is_not_an_api_echo() {
    let mut v = documented_event();
    v["source"] = json!({"name": "user", "description": "browser"});
    let ev = WebhookEvent::from_slice(v.to_string().as_bytes()).unwrap();
    assert_eq!(ev.source.name, Some(WebhookSourceName::User));
    assert!(!ev.is_from_api_key("raynet-sync"));
}

#[test]
fn event_meeting_entity_name_is_unverified_so_unknown_names_are_kept() {
    // `Meeting` is our guess at the PascalCase name (not shown in vendor
    // text); anything else RAYNET sends is kept verbatim.
    for (name, want) in [
        ("Meeting", WebhookEntity::Meeting),
        ("Person", WebhookEntity::Person),
        ("Event", WebhookEntity::Event),
        ("SalesOrder", WebhookEntity::Unknown("SalesOrder".into())),
    ] {
        let mut v = documented_event();
        v["data"]["entityName"] = json!(name);
        let ev = WebhookEvent::from_slice(v.to_string().as_bytes()).unwrap();
        assert_eq!(ev.data.entity_name, want);
    }
    assert_eq!(
        WebhookEntity::Unknown("SalesOrder".into()).entity_name(),
        None
    );
}

#[test]
fn event_is_read_tolerantly() {
    // Unknown type and source, string id, null extIds, `Z` offset, extra keys,
    // no author.
    let body = json!({
        "eventId": 17,
        "createdAt": "2024-03-12T09:15:30Z",
        "type": "record.merged",
        "source": {"name": "workflow"},
        "data": {"entityName": "Person", "entityId": "7", "extIds": null, "more": 1},
        "extra": true
    });
    let ev = WebhookEvent::from_slice(body.to_string().as_bytes()).unwrap();
    assert_eq!(ev.event_id.as_deref(), Some("17"));
    assert_eq!(ev.kind, WebhookEventType::Unknown("record.merged".into()));
    assert_eq!(
        ev.source.name,
        Some(WebhookSourceName::Unknown("workflow".into()))
    );
    assert_eq!(ev.author, None);
    assert_eq!(ev.data.entity_id, 7);
    assert!(ev.data.ext_ids.is_empty());
    // An offset without a colon is read too.
    let body = json!({"type": "record.created", "createdAt": "2024-03-12T10:15:30.000+0100",
        "data": {"entityName": "Company", "entityId": 1}});
    let ev = WebhookEvent::from_slice(body.to_string().as_bytes()).unwrap();
    assert_eq!(
        ev.created_at.map(|t| t.to_rfc3339()).as_deref(),
        Some("2024-03-12T10:15:30+01:00")
    );
}

#[test]
fn event_errors_name_the_field() {
    for (mut v, want) in [
        (documented_event(), "data.entityId"),
        (documented_event(), "createdAt"),
    ] {
        if want == "data.entityId" {
            v["data"]["entityId"] = json!("forty-two");
        } else {
            v["createdAt"] = json!("yesterday");
        }
        let err = WebhookEvent::from_slice(v.to_string().as_bytes()).unwrap_err();
        assert!(
            matches!(&err, Error::Decode { path, endpoint, .. } if path == want && endpoint == "webhook event"),
            "{err:?}"
        );
    }
}
