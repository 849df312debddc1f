//! The client against the fake server: paging, incremental reads, round trips.

use chrono::{DateTime, Duration, Utc};
use raynet_client::fake::{CompanySeed, DEFAULT_USER, FakeRaynet, PersonSeed};
use raynet_client::models::{
    ActivityStatus, ActivityUpdate, NewActivity, ParticipantChange, ParticipantRole, Priority,
};
use raynet_client::{Client, EntityName, ListQuery, Op, SortDirection};
use std::collections::BTreeSet;

/// Person id of the fake's default API user.
fn robot(fake: &FakeRaynet) -> u64 {
    fake.default_instance().ids("person")[0]
}

#[tokio::test]
async fn paging_walks_every_page() {
    let fake = FakeRaynet::start().await;
    fake.default_instance().add_persons(2_345).unwrap();
    let client = fake.client();

    let all = client.persons().list_all(&ListQuery::new()).await.unwrap();
    assert_eq!(all.len(), 2_346, "2345 seeded + the API user's own person");
    let ids: BTreeSet<u64> = all.iter().map(|p| p.id).collect();
    assert_eq!(ids.len(), all.len(), "no row is repeated across pages");
    assert_eq!(fake.requests("GET /person/"), 3, "1000 + 1000 + 346");

    fake.reset_counters();
    let small = client
        .persons()
        .list_all(&ListQuery::new().limit(100))
        .await
        .unwrap();
    assert_eq!(small.len(), 2_346);
    assert_eq!(fake.requests("GET /person/"), 24);

    let page = client
        .persons()
        .list(&ListQuery::new().offset(2_300).limit(100))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 46);
    assert_eq!(page.total_count, Some(2_346));
    assert!(page.is_last());
}

#[tokio::test]
async fn incremental_read_with_last_modified_filter() {
    let fake = FakeRaynet::start().await;
    let inst = fake.default_instance();
    let ids = inst.add_persons(10).unwrap();
    fake.advance_clock(Duration::minutes(5));
    let watermark: DateTime<Utc> = fake.now();
    fake.advance_clock(Duration::minutes(1));
    inst.edit(
        "person",
        ids[7],
        &serde_json::json!({"firstName": "Changed"}),
    )
    .unwrap();
    fake.advance_clock(Duration::minutes(1));
    inst.edit(
        "person",
        ids[2],
        &serde_json::json!({"notice": "also changed"}),
    )
    .unwrap();
    let new = inst.add_person(PersonSeed::new("Newcomer")).unwrap();

    let client = fake.client();
    let changed = client.persons().modified_since(&watermark).await.unwrap();
    let got: Vec<u64> = changed.iter().map(|p| p.id).collect();
    assert_eq!(got, vec![ids[7], ids[2], new], "oldest change first");
    assert_eq!(changed[0].first_name.as_deref(), Some("Changed"));
    assert_eq!(changed[0].row_info.version, Some(2));
    assert!(
        changed
            .iter()
            .all(|p| p.row_info.last_modified_at.unwrap().to_utc(&Utc).unwrap() >= watermark),
        "every row is at or after the watermark"
    );
    // Nothing changed since the last change: an empty read.
    let last = changed[2]
        .row_info
        .last_modified_at
        .unwrap()
        .to_utc(&Utc)
        .unwrap();
    let again = client
        .persons()
        .list_all(&ListQuery::new().filter("rowInfo.lastModifiedAt", Op::Gt, last))
        .await
        .unwrap();
    assert!(again.is_empty());
}

#[tokio::test]
async fn meeting_create_read_back_update_delete() {
    let fake = FakeRaynet::start().await;
    let inst = fake.default_instance();
    let company = inst.add_company(CompanySeed::new("Acme a.s.")).unwrap();
    let guest = inst
        .add_person(PersonSeed::new("Host").first_name("Karel"))
        .unwrap();
    let owner = robot(&fake);
    let client = fake.client();

    let from = DateTime::parse_from_rfc3339("2026-03-29T10:00:00+02:00").unwrap();
    let till = DateTime::parse_from_rfc3339("2026-03-29T11:30:00+02:00").unwrap();
    let mut body = NewActivity::new("Kick-off", Priority::Critical, owner);
    body.company = Some(company);
    body.scheduled_from = Some(from);
    body.scheduled_till = Some(till);
    body.description = Some(raynet_client::text_to_html("Agenda:\n\"A\" & <B>"));
    body.tags = Some(vec!["sync".into(), "m365".into()]);
    let id = client.meetings().create(&body).await.unwrap();

    let m = client.meetings().get(id).await.unwrap();
    assert_eq!(m.title.as_deref(), Some("Kick-off"));
    assert_eq!(m.priority, Some(Priority::Critical));
    assert_eq!(m.owner_person_id(), Some(owner));
    assert_eq!(
        m.company.as_ref().and_then(|c| c.name.as_deref()),
        Some("Acme a.s.")
    );
    assert_eq!(m.scheduled_from.unwrap().to_utc(&Utc), Some(from.to_utc()));
    assert_eq!(m.scheduled_till.unwrap().to_utc(&Utc), Some(till.to_utc()));
    assert_eq!(
        raynet_client::html_to_text(m.description.as_deref().unwrap()),
        "Agenda:\n\"A\" & <B>"
    );
    assert_eq!(m.tags, Some(vec!["sync".to_owned(), "m365".to_owned()]));
    assert_eq!(m.row_info.version, Some(1));
    assert_eq!(m.row_info.created_by.as_deref(), Some(DEFAULT_USER));

    // Partial update: only what is sent changes.
    let owner_row = m.participants[0].id.unwrap();
    let mut u = ActivityUpdate::default();
    u.meeting_place = Some("Brno".into());
    u.status = Some(ActivityStatus::Completed);
    u.completed = Some(till);
    u.participants = Some(vec![ParticipantChange::add_person(
        guest,
        Some(ParticipantRole::To),
    )]);
    client.meetings().update(id, &u).await.unwrap();
    let m2 = client.meetings().get(id).await.unwrap();
    assert_eq!(m2.meeting_place.as_deref(), Some("Brno"));
    assert_eq!(m2.status, Some(ActivityStatus::Completed));
    assert_eq!(m2.title, m.title, "untouched fields are kept");
    assert_eq!(m2.row_info.version, Some(2));
    assert_eq!(m2.participants.len(), 2);
    assert!(
        m2.participants
            .iter()
            .any(|p| p.person.as_ref().map(|r| r.id) == Some(guest))
    );

    // Remove the guest again; the owner stays.
    let guest_row = m2
        .participants
        .iter()
        .find(|p| p.id != Some(owner_row))
        .unwrap()
        .id
        .unwrap();
    let mut u = ActivityUpdate::default();
    u.participants = Some(vec![ParticipantChange::remove(guest_row)]);
    client.meetings().update(id, &u).await.unwrap();
    assert_eq!(
        client.meetings().get(id).await.unwrap().participants.len(),
        1
    );

    // The list row of the same meeting carries no owner; it is derived.
    let rows = client.meetings().list_all(&ListQuery::new()).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].owner.is_none());
    assert_eq!(rows[0].owner_person_id(), Some(owner));

    client.meetings().delete(id).await.unwrap();
    let err = client.meetings().get(id).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert_eq!(err.api_type(), Some("EntityNotFoundException"));
}

#[tokio::test]
async fn events_and_ext_ids() {
    let fake = FakeRaynet::start().await;
    let owner = robot(&fake);
    let client = fake.client();
    let id = client
        .events()
        .create(&NewActivity::new("Veletrh", Priority::Minor, owner))
        .await
        .unwrap();
    let ext = client.ext_ids(EntityName::Event, id);
    ext.add("m365:AA/b+c=").await.unwrap();
    let e = client.events().by_ext_id("m365:AA/b+c=").await.unwrap();
    assert_eq!(e.id, id);
    assert_eq!(e.ext_ids, Some(vec!["m365:AA/b+c=".to_owned()]));
    assert!(
        client
            .meetings()
            .by_ext_id("m365:AA/b+c=")
            .await
            .unwrap_err()
            .is_not_found(),
        "id spaces are separate"
    );
    ext.remove("m365:AA/b+c=").await.unwrap();
    assert!(
        client
            .events()
            .by_ext_id("m365:AA/b+c=")
            .await
            .unwrap_err()
            .is_not_found()
    );

    for k in 0..10 {
        ext.add(&format!("sys{k}:1")).await.unwrap();
    }
    let err = ext.add("one:too-many").await.unwrap_err();
    assert_eq!(err.status(), Some(400), "at most 10 extIds per record");
}

#[tokio::test]
async fn users_persons_and_companies() {
    let fake = FakeRaynet::start().await;
    let inst = fake.default_instance();
    let eva = inst
        .add_user("Eva.Mala@acme.test", "crm-eva", "Eva", "Malá")
        .unwrap();
    let company = inst
        .add_company(CompanySeed::new("Dodavatel s.r.o."))
        .unwrap();
    let p = inst
        .add_person(
            PersonSeed::new("Svoboda")
                .first_name("Petr")
                .company(company, "ředitel")
                .email("petr@dodavatel.cz"),
        )
        .unwrap();
    let client = fake.client();

    let users = client
        .user_accounts()
        .list_all(&ListQuery::new())
        .await
        .unwrap();
    let matched = users
        .iter()
        .find(|u| {
            u.username
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case("eva.mala@acme.test"))
        })
        .unwrap();
    assert_eq!(matched.person.as_ref().map(|r| r.id), Some(eva.person_id));
    assert_eq!(
        client
            .user_accounts()
            .get(eva.user_account_id)
            .await
            .unwrap()
            .timezone
            .as_deref(),
        Some("EUROPE_PRAGUE")
    );

    // Persons that are users.
    let user_persons = client
        .persons()
        .list_all(&ListQuery::new().filter(
            "userAccount-id",
            Op::Ne,
            raynet_client::FilterValue::empty(),
        ))
        .await
        .unwrap();
    assert_eq!(user_persons.len(), 2);

    let person = client.persons().get(p).await.unwrap();
    let company_id = person
        .primary_relationship
        .as_ref()
        .and_then(|r| r.company.as_ref())
        .unwrap()
        .id;
    assert_eq!(
        client
            .companies()
            .get(company_id)
            .await
            .unwrap()
            .name
            .as_deref(),
        Some("Dodavatel s.r.o.")
    );
    assert_eq!(person.primary_company_name(), Some("Dodavatel s.r.o."));

    let sorted = client
        .persons()
        .list_all(&ListQuery::new().sort("lastName", SortDirection::Desc))
        .await
        .unwrap();
    assert_eq!(sorted[0].last_name.as_deref(), Some("Svoboda"));
}

#[tokio::test]
async fn instances_are_separate() {
    let fake = FakeRaynet::start().await;
    let beta = fake.add_instance("beta", chrono_tz::Europe::Bratislava);
    beta.add_user("api@beta.test", "crm-beta", "Beta", "Bot")
        .unwrap();
    beta.add_persons(3).unwrap();
    let client = Client::builder()
        .base_url(fake.base_url())
        .instance("beta")
        .credentials("api@beta.test", "crm-beta")
        .retry(raynet_client::RetryConfig::fast())
        .build()
        .unwrap();
    assert_eq!(
        client
            .persons()
            .list_all(&ListQuery::new())
            .await
            .unwrap()
            .len(),
        4
    );
    assert_eq!(
        fake.client()
            .persons()
            .list_all(&ListQuery::new())
            .await
            .unwrap()
            .len(),
        1
    );
    // acme's key does not open beta.
    let wrong = fake.client_builder().instance("beta").build().unwrap();
    assert!(wrong.persons().get(1).await.unwrap_err().is_auth());
}
