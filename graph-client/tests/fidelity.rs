//! The fake Graph's fidelity to Graph's answers: lists paged as Graph pages them
//! (`calendarView` with `$top` and `@odata.nextLink`, directory lists, contact folders), the
//! documented properties of events and users, the contacts delta context, and ids in
//! Exchange's URL-safe base64.

use std::collections::BTreeSet;

use graph_client::fake::{EventSeed, FakeGraph, GroupSeed, UserSeed};
use serde_json::{Value, json};

use crate::delta::token;
use crate::util::{at, client, world};

/// A GET with a fresh token and immutable ids; the JSON body.
async fn get(fake: &FakeGraph, url: &str) -> Value {
    let resp = reqwest::Client::new()
        .get(url)
        .bearer_auth(token(fake).await)
        .header("Prefer", r#"IdType="ImmutableId""#)
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 200, "{url}");
    resp.json().await.expect("json")
}

/// Every page from `url` on: the items of each page, and the pages' sizes.
async fn all_pages(fake: &FakeGraph, url: &str) -> (Vec<Value>, Vec<usize>) {
    let (mut items, mut sizes) = (Vec::new(), Vec::new());
    let mut next = Some(url.to_owned());
    while let Some(url) = next {
        let page = get(fake, &url).await;
        let value = page["value"].as_array().expect("value").clone();
        sizes.push(value.len());
        items.extend(value);
        next = page["@odata.nextLink"].as_str().map(str::to_owned);
        assert!(sizes.len() < 50, "paging never ends");
    }
    (items, sizes)
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn calendar_view_pages_with_top_through_next_links_and_lists_every_event_once() {
    let w = world().await;
    let mut seeded = BTreeSet::new();
    for n in 0..23 {
        let start = at(2030, 1, 1 + n % 28, 8 + n % 5, 0);
        seeded.insert(w.fake.add_event(
            &w.alice,
            EventSeed::new(
                &format!("Event {n}"),
                start,
                start + chrono::Duration::minutes(30),
            ),
        ));
    }
    // One outside the window.
    w.fake.add_event(
        &w.alice,
        EventSeed::new("Later", at(2030, 3, 1, 9, 0), at(2030, 3, 1, 10, 0)),
    );
    let base = format!(
        "{}/users/{}/calendarView?startDateTime=2030-01-01T00:00:00Z&endDateTime=2030-02-01T00:00:00Z",
        w.fake.base_url(),
        w.alice
    );
    let (items, sizes) = all_pages(&w.fake, &format!("{base}&$top=5")).await;
    assert_eq!(sizes, vec![5, 5, 5, 5, 3]);
    let listed = ids(&items);
    assert_eq!(listed.len(), 23);
    assert_eq!(
        listed.iter().cloned().collect::<BTreeSet<_>>(),
        seeded,
        "each event once"
    );
    // In start order across pages.
    let starts: Vec<&str> = items
        .iter()
        .map(|i| i["start"]["dateTime"].as_str().expect("start"))
        .collect();
    assert!(starts.windows(2).all(|p| p[0] <= p[1]), "{starts:?}");
    // Without $top: Graph's default page of 10, the next link keeping the window.
    let first = get(&w.fake, &base).await;
    assert_eq!(first["value"].as_array().expect("value").len(), 10);
    let next = first["@odata.nextLink"].as_str().expect("next link");
    assert!(
        next.contains("startDateTime=")
            && next.contains("endDateTime=")
            && next.contains("$skip=10"),
        "{next}"
    );
    let (items, sizes) = all_pages(&w.fake, &base).await;
    assert_eq!(sizes, vec![10, 10, 3]);
    assert_eq!(ids(&items).into_iter().collect::<BTreeSet<_>>(), seeded);
    // A bad $top is refused.
    let resp = reqwest::Client::new()
        .get(format!("{base}&$top=0"))
        .bearer_auth(token(&w.fake).await)
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn directory_lists_and_contact_folders_are_paged() {
    let fake = FakeGraph::start().await;
    let mut users = BTreeSet::new();
    for n in 0..5 {
        users.insert(fake.add_user(UserSeed::new(&format!("User {n}"))));
    }
    for n in 0..3 {
        fake.add_group(GroupSeed::new(&format!("Team {n}")));
    }
    let base = fake.base_url();
    let (items, sizes) = all_pages(&fake, &format!("{base}/users?$top=2&$select=id,mail")).await;
    assert_eq!(sizes, vec![2, 2, 1]);
    assert_eq!(ids(&items).into_iter().collect::<BTreeSet<_>>(), users);
    assert!(
        items.iter().all(|u| u.get("displayName").is_none()),
        "$select kept on later pages"
    );
    let (items, sizes) = all_pages(&fake, &format!("{base}/groups?$top=2")).await;
    assert_eq!(sizes, vec![2, 1]);
    assert_eq!(items.len(), 3);
    let (items, sizes) = all_pages(
        &fake,
        &format!("{base}/groups?$filter=startswith(displayName,'team')&$top=1"),
    )
    .await;
    assert_eq!((items.len(), sizes), (3, vec![1, 1, 1]));
    // Graph's default directory page is 100.
    let one = get(&fake, &format!("{base}/users")).await;
    assert_eq!(one["value"].as_array().expect("value").len(), 5);
    assert!(one.get("@odata.nextLink").is_none());

    let alice = users.iter().next().expect("a user").clone();
    let mut folders = BTreeSet::new();
    for n in 0..12 {
        folders.insert(fake.add_contact_folder(&alice, &format!("Folder {n}")));
    }
    let (items, sizes) = all_pages(&fake, &format!("{base}/users/{alice}/contactFolders")).await;
    assert_eq!(sizes, vec![10, 2]);
    assert_eq!(ids(&items).into_iter().collect::<BTreeSet<_>>(), folders);
}

#[tokio::test]
async fn events_carry_the_documented_properties() {
    let w = world().await;
    let id = w.fake.add_event(
        &w.alice,
        EventSeed::new("Call", at(2030, 1, 15, 9, 0), at(2030, 1, 15, 10, 0))
            .field("location", json!({"displayName": "Room 1"})),
    );
    let bare = w.fake.add_event(
        &w.alice,
        EventSeed::new("Bare", at(2030, 1, 16, 9, 0), at(2030, 1, 16, 10, 0)),
    );
    let url = |id: &str, query: &str| {
        format!(
            "{}/users/{}/events/{}{query}",
            w.fake.base_url(),
            w.alice,
            percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC)
        )
    };
    let ev = get(&w.fake, &url(&id, "")).await;
    for (key, expected) in [
        ("hideAttendees", json!(false)),
        ("isDraft", json!(false)),
        ("isOnlineMeeting", json!(false)),
        ("onlineMeeting", Value::Null),
        ("onlineMeetingProvider", json!("unknown")),
        ("onlineMeetingUrl", Value::Null),
        ("allowNewTimeProposals", json!(true)),
        ("responseRequested", json!(true)),
        ("isCancelled", json!(false)),
        ("categories", json!([])),
    ] {
        assert_eq!(ev.get(key), Some(&expected), "{key}: {ev}");
    }
    assert_eq!(
        ev["location"],
        json!({"displayName": "Room 1", "locationType": "default", "uniqueId": "Room 1", "uniqueIdType": "private"})
    );
    assert_eq!(ev["locations"], json!([ev["location"].clone()]));
    assert!(
        ev["webLink"]
            .as_str()
            .is_some_and(|l| l.starts_with("https://")),
        "{ev}"
    );
    assert_eq!(
        ev["@odata.etag"],
        json!(format!(
            "W/\"{}\"",
            ev["changeKey"].as_str().expect("changeKey")
        ))
    );
    let bare = get(&w.fake, &url(&bare, "")).await;
    assert_eq!(bare["location"]["uniqueIdType"], "unknown");
    assert_eq!(bare["location"]["locationType"], "default");
    assert_eq!(bare["locations"], json!([]));
    // $select keeps only what is asked (and the id).
    let selected = get(&w.fake, &url(&id, "?$select=subject,hideAttendees")).await;
    let mut keys: Vec<&str> = selected
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .filter(|k| !k.starts_with("@odata"))
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, vec!["hideAttendees", "id", "subject"]);
}

#[tokio::test]
async fn users_carry_the_documented_properties() {
    let fake = FakeGraph::start().await;
    let jana = fake.add_user(UserSeed::new("Jana Nováková").mail("jana@contoso.test"));
    let user = client(&fake).users().get(&jana).await.expect("user");
    assert_eq!(user.id, jana);
    let raw = get(&fake, &format!("{}/users/{jana}", fake.base_url())).await;
    for (key, expected) in [
        ("businessPhones", json!([])),
        ("mobilePhone", Value::Null),
        ("officeLocation", Value::Null),
        ("preferredLanguage", json!("en-US")),
        ("jobTitle", Value::Null),
        ("givenName", json!("Jana")),
        ("surname", json!("Nováková")),
        ("displayName", json!("Jana Nováková")),
        ("mail", json!("jana@contoso.test")),
    ] {
        assert_eq!(raw.get(key), Some(&expected), "{key}: {raw}");
    }
    let selected = get(
        &fake,
        &format!("{}/users/{jana}?$select=businessPhones", fake.base_url()),
    )
    .await;
    assert_eq!(selected.get("businessPhones"), Some(&json!([])));
    assert!(selected.get("preferredLanguage").is_none(), "{selected}");
}

#[tokio::test]
async fn delta_pages_name_their_collection() {
    let w = world().await;
    let folder = w.fake.add_contact_folder(&w.alice, "Raynet");
    w.fake.add_contact(
        &w.alice,
        &folder,
        json!({"givenName": "Eva", "surname": "Malá"}),
    );
    let contacts = get(
        &w.fake,
        &format!(
            "{}/users/{}/contactFolders/{}/contacts/delta",
            w.fake.base_url(),
            w.alice,
            percent_encoding::utf8_percent_encode(&folder, percent_encoding::NON_ALPHANUMERIC)
        ),
    )
    .await;
    assert!(
        contacts["@odata.context"]
            .as_str()
            .is_some_and(|c| c.ends_with("$metadata#Collection(contact)")),
        "{contacts}"
    );
    let events = get(
        &w.fake,
        &format!(
            "{}/users/{}/calendarView/delta?startDateTime=2030-01-01T00:00:00Z&endDateTime=2030-02-01T00:00:00Z",
            w.fake.base_url(),
            w.alice
        ),
    )
    .await;
    assert!(
        events["@odata.context"]
            .as_str()
            .is_some_and(|c| c.ends_with("$metadata#Collection(event)")),
        "{events}"
    );
}

#[tokio::test]
async fn item_ids_use_the_url_safe_base64_alphabet() {
    let w = world().await;
    let folder = w.fake.add_contact_folder(&w.alice, "Raynet");
    let mut all = vec![folder.clone()];
    for n in 0..40 {
        all.push(w.fake.add_event(
            &w.alice,
            EventSeed::new(
                &format!("E{n}"),
                at(2030, 1, 2, 9, 0),
                at(2030, 1, 2, 10, 0),
            ),
        ));
        all.push(
            w.fake
                .add_contact(&w.alice, &folder, json!({"givenName": format!("C{n}")})),
        );
    }
    let url_safe = |id: &str| {
        id.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '='))
    };
    assert!(all.iter().all(|id| url_safe(id)), "{all:?}");
    assert!(all.iter().any(|id| id.contains('-')) && all.iter().any(|id| id.contains('_')));
    // REST ids (without the immutable-id preference) too, and they resolve back.
    let event = &all[1];
    let rest: Value = reqwest::Client::new()
        .get(format!(
            "{}/users/{}/events/{}",
            w.fake.base_url(),
            w.alice,
            percent_encoding::utf8_percent_encode(event, percent_encoding::NON_ALPHANUMERIC)
        ))
        .bearer_auth(token(&w.fake).await)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let rest_id = rest["id"].as_str().expect("id");
    assert!(url_safe(rest_id), "{rest_id}");
    assert_ne!(rest_id, event);
}
