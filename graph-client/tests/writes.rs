//! Event and contact writes against the fake.

use graph_client::Error;
use graph_client::client::DeleteOutcome;
use graph_client::client::models::{
    Attendee, Contact, DateTimeTimeZone, EmailAddress, Event, ItemBody, SingleValueExtendedProperty,
};
use graph_client::fake::InvitationKind;

use crate::util::{LINK, at, client, world};

fn new_event(subject: &str) -> Event {
    let mut e = Event::default();
    e.subject = Some(subject.to_owned());
    e.body = Some(ItemBody::text("From Raynet"));
    e.start = Some(DateTimeTimeZone::utc(at(2030, 1, 10, 9, 0)));
    e.end = Some(DateTimeTimeZone::utc(at(2030, 1, 10, 10, 0)));
    e.single_value_extended_properties =
        Some(vec![SingleValueExtendedProperty::new(LINK, "meeting-42")]);
    e
}

#[tokio::test]
async fn create_is_idempotent_by_transaction_id_and_links_the_raynet_id() {
    let w = world().await;
    let client = client(&w.fake);
    let events = client.events(&w.alice);
    let first = events
        .create(&new_event("Demo"), "txn-0001")
        .await
        .expect("created");
    let again = events
        .create(&new_event("Demo"), "txn-0001")
        .await
        .expect("deduplicated");
    assert_eq!(first.id, again.id);
    assert_eq!(first.transaction_id.as_deref(), Some("txn-0001"));
    assert_eq!(
        w.fake.events(&w.alice).len(),
        1,
        "one event after a repeated POST"
    );
    // The response does not echo extended properties; the filter finds the event.
    assert_eq!(first.single_value_extended_properties, None);
    let found = events
        .find_by_extended_property(LINK, "MEETING-42")
        .await
        .expect("lookup");
    assert_eq!(found.len(), 1, "value matching is case-insensitive");
    assert_eq!(found[0].id, first.id);
    assert_eq!(found[0].extended_property(LINK), Some("meeting-42"));
    assert!(
        events
            .find_by_extended_property(LINK, "meeting-43")
            .await
            .expect("lookup")
            .is_empty()
    );
    // The name part of the id is case-sensitive.
    let other_case = LINK.replace("RaynetId", "raynetid");
    assert!(
        events
            .find_by_extended_property(&other_case, "meeting-42")
            .await
            .expect("lookup")
            .is_empty()
    );
    // An id in Exchange's URL-safe base64 ('-', '_', '=', never '+' or '/') travels
    // URL-encoded and comes back byte for byte.
    let id = first.id.expect("id");
    assert!(
        id.contains('-') && id.contains('_') && id.contains('='),
        "{id}"
    );
    assert!(!id.contains('+') && !id.contains('/'), "{id}");
    let read = events.get_with_property(&id, LINK).await.expect("get");
    assert_eq!(read.id.as_deref(), Some(id.as_str()));
    assert_eq!(read.extended_property(LINK), Some("meeting-42"));
}

#[tokio::test]
async fn stale_etag_is_a_typed_conflict() {
    let w = world().await;
    let client = client(&w.fake);
    let events = client.events(&w.alice);
    let created = events
        .create(&new_event("Demo"), "txn-1")
        .await
        .expect("created");
    let id = created.id.clone().expect("id");
    let etag = created.etag.clone().expect("etag");
    assert_eq!(
        etag,
        format!("W/\"{}\"", created.change_key.clone().expect("change key"))
    );

    // Someone edits it in Outlook.
    assert!(w.fake.edit_event(
        &w.alice,
        &id,
        &serde_json::json!({"subject": "Edited in Outlook"})
    ));
    let mut patch = Event::default();
    patch.subject = Some("From Raynet".into());
    let err = events.update(&id, &patch, &etag).await.expect_err("stale");
    assert!(
        matches!(err, Error::Conflict { status: 412, .. }),
        "{err:?}"
    );
    assert!(err.is_conflict());

    // Re-read, retry with the fresh ETag.
    let fresh = events.get(&id).await.expect("re-read");
    let updated = events
        .update(&id, &patch, fresh.etag.as_deref().expect("etag"))
        .await
        .expect("updated");
    assert_ne!(updated.etag, fresh.etag, "every write changes the ETag");
    assert_eq!(updated.subject.as_deref(), Some("From Raynet"));

    let err = events
        .delete(&id, Some(&etag))
        .await
        .expect_err("stale delete");
    assert!(err.is_conflict());
    assert_eq!(
        events
            .delete(&id, updated.etag.as_deref())
            .await
            .expect("deleted"),
        DeleteOutcome::Deleted
    );
    assert_eq!(
        events.delete(&id, None).await.expect("gone"),
        DeleteOutcome::AlreadyGone
    );
}

#[tokio::test]
async fn invitations_are_recorded_only_for_attendees() {
    let w = world().await;
    let client = client(&w.fake);
    let events = client.events(&w.alice);
    events
        .create(&new_event("Alone"), "txn-a")
        .await
        .expect("created");
    assert!(w.fake.invitations().is_empty(), "no attendees, no mail");

    let mut meeting = new_event("With Bob");
    meeting.attendees = Some(vec![Attendee::required(
        "bob@example.test",
        Some("Bob".into()),
    )]);
    let created = events.create(&meeting, "txn-b").await.expect("created");
    let log = w.fake.invitations();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].kind, InvitationKind::Invite);
    assert_eq!(log[0].attendees, vec!["bob@example.test".to_owned()]);

    let mut patch = Event::default();
    patch.start = Some(DateTimeTimeZone::utc(at(2030, 1, 11, 9, 0)));
    patch.end = Some(DateTimeTimeZone::utc(at(2030, 1, 11, 10, 0)));
    let id = created.id.expect("id");
    events
        .update(&id, &patch, created.etag.as_deref().expect("etag"))
        .await
        .expect("moved");
    let log = w.fake.invitations();
    assert_eq!(log.len(), 2);
    assert_eq!(log[1].kind, InvitationKind::Update);

    events.delete(&id, None).await.expect("deleted");
    assert_eq!(w.fake.invitations()[2].kind, InvitationKind::Cancel);
}

#[tokio::test]
async fn writes_accept_windows_and_iana_zones_and_refuse_prague() {
    let w = world().await;
    let client = client(&w.fake);
    let events = client.events(&w.alice);
    let mut e = new_event("Zoned");
    e.start = Some(DateTimeTimeZone::new(
        "2030-07-01T09:00:00",
        "W. Europe Standard Time",
    ));
    e.end = Some(DateTimeTimeZone::new(
        "2030-07-01T10:00:00",
        "Europe/Berlin",
    ));
    let created = events.create(&e, "txn-z").await.expect("created");
    assert_eq!(
        created.start.expect("start").date_time,
        "2030-07-01T07:00:00.0000000",
        "CEST is UTC+2"
    );

    e.start = Some(DateTimeTimeZone::new(
        "2030-07-01T09:00:00",
        "Europe/Prague",
    ));
    let err = events
        .create(&e, "txn-p")
        .await
        .expect_err("not on Graph's list");
    assert_eq!(err.status(), Some(400));

    let mut all_day = new_event("Bad all-day");
    all_day.is_all_day = Some(true);
    let err = events
        .create(&all_day, "txn-ad")
        .await
        .expect_err("not midnight");
    assert_eq!(err.status(), Some(400));
    all_day.start = Some(DateTimeTimeZone::new("2030-07-01T00:00:00", "UTC"));
    all_day.end = Some(DateTimeTimeZone::new("2030-07-02T00:00:00", "UTC"));
    let ok = events
        .create(&all_day, "txn-ad2")
        .await
        .expect("midnight is fine");
    assert_eq!(ok.is_all_day, Some(true));
}

fn person(n: usize, emails: usize, phones: usize) -> Contact {
    let mut c = Contact::default();
    c.given_name = Some(format!("Person{n}"));
    c.surname = Some("Novák".into());
    c.email_addresses = Some(
        (0..emails)
            .map(|i| EmailAddress::new(format!("p{n}.{i}@example.test"), None))
            .collect(),
    );
    c.business_phones = Some((0..phones).map(|i| format!("+420 600 000 00{i}")).collect());
    c
}

#[tokio::test]
async fn contact_folder_contacts_and_delta() {
    let w = world().await;
    let client = client(&w.fake);
    let contacts = client.contacts(&w.alice);
    assert!(
        contacts
            .find_folder("Raynet")
            .await
            .expect("lookup")
            .is_none()
    );
    let folder = contacts.ensure_folder("Raynet").await.expect("created");
    let again = contacts.ensure_folder("Raynet").await.expect("found");
    assert_eq!(folder.id, again.id);
    assert_eq!(w.fake.request_count("contactFolders.create"), 1);
    let folder_id = folder.id.expect("id");

    let a = contacts
        .create(&folder_id, &person(1, 3, 2))
        .await
        .expect("a");
    let b = contacts
        .create(&folder_id, &person(2, 1, 0))
        .await
        .expect("b");
    assert_eq!(a.display_name.as_deref(), Some("Person1 Novák"));

    // The client refuses what Graph would refuse...
    let err = contacts
        .create(&folder_id, &person(3, 4, 0))
        .await
        .expect_err("4 e-mails");
    assert!(matches!(err, Error::InvalidRequest(_)));
    let err = contacts
        .create(&folder_id, &person(3, 0, 3))
        .await
        .expect_err("3 phones");
    assert!(matches!(err, Error::InvalidRequest(_)));

    let round = contacts.delta_round(&folder_id, None).await.expect("round");
    assert_eq!(round.items.len(), 2);

    let mut patch = Contact::default();
    patch.job_title = Some("CEO".into());
    contacts
        .update(a.id.as_deref().expect("id"), &patch, a.etag.as_deref())
        .await
        .expect("updated");
    w.fake
        .delete_contact(&w.alice, b.id.as_deref().expect("id"));
    let round2 = contacts
        .delta_round(&folder_id, Some(&round.delta_link))
        .await
        .expect("round 2");
    let changed: Vec<&Contact> = round2.items.iter().filter(|c| !c.is_removed()).collect();
    let removed: Vec<&Contact> = round2.items.iter().filter(|c| c.is_removed()).collect();
    assert!(
        changed
            .iter()
            .any(|c| c.job_title.as_deref() == Some("CEO"))
    );
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0].id, b.id);
}

#[tokio::test]
async fn fake_refuses_contact_over_caps_as_graph_does() {
    let w = world().await;
    let folder = w.fake.add_contact_folder(&w.alice, "Raynet");
    let client = client(&w.fake);
    let mut too_many = person(9, 3, 2);
    too_many
        .email_addresses
        .as_mut()
        .expect("emails")
        .push(EmailAddress::new("x@example.test", None));
    let body = serde_json::to_value(&too_many).expect("json");
    let resp = client
        .batch(vec![
            graph_client::client::models::BatchRequest::new(
                "1",
                "POST",
                format!(
                    "/users/{}/contactFolders/{}/contacts",
                    w.alice,
                    urlenc(&folder)
                ),
            )
            .with_json(body),
        ])
        .await
        .expect("batch");
    assert_eq!(resp[0].status, 400);
    let message = resp[0]
        .body
        .as_ref()
        .and_then(|b| b["error"]["message"].as_str())
        .unwrap_or_default()
        .to_owned();
    assert!(message.contains("max allowed value of 3"), "{message}");
}

pub fn urlenc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn ids_without_immutable_id_change_when_an_item_moves() {
    let w = world().await;
    let client = client(&w.fake);
    let created = client
        .events(&w.alice)
        .create(&new_event("Moves"), "txn-m")
        .await
        .expect("created");
    let immutable = created.id.clone().expect("id");
    let token = crate::delta::token(&w.fake).await;
    let get = |id: String, immutable_ids: bool| {
        let url = format!(
            "{}/users/{}/events/{}",
            w.fake.base_url(),
            w.alice,
            urlenc(&id)
        );
        let mut req = reqwest::Client::new().get(url).bearer_auth(token.clone());
        if immutable_ids {
            req = req.header("Prefer", r#"IdType="ImmutableId""#);
        }
        req.send()
    };
    let rest: serde_json::Value = get(immutable.clone(), false)
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let rest_id = rest["id"].as_str().expect("rest id").to_owned();
    assert_ne!(
        rest_id, immutable,
        "without the preference Graph answers REST ids"
    );
    assert_eq!(
        get(rest_id.clone(), false).await.expect("sent").status(),
        200
    );

    w.fake.move_between_folders(&w.alice, &immutable);
    assert_eq!(
        get(rest_id, false).await.expect("sent").status(),
        404,
        "the old REST id is gone after a move"
    );
    assert_eq!(
        get(immutable.clone(), true).await.expect("sent").status(),
        200,
        "the immutable id survives"
    );
    let again = client
        .events(&w.alice)
        .get(&immutable)
        .await
        .expect("our client always asks for immutable ids");
    assert_eq!(again.id.as_deref(), Some(immutable.as_str()));
}
