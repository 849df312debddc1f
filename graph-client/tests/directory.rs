//! Groups, members, owners and users against the fake.

use graph_client::fake::{FakeGraph, GroupSeed, UserSeed};

use crate::util::{at, client};

#[tokio::test]
async fn transitive_members_page_through_next_links() {
    let fake = FakeGraph::start().await;
    fake.set_directory_page_size(3);
    let direct: Vec<String> = (0..5)
        .map(|i| fake.add_user(UserSeed::new(&format!("User{i}"))))
        .collect();
    let nested_users: Vec<String> = (0..3)
        .map(|i| fake.add_user(UserSeed::new(&format!("Nested{i}"))))
        .collect();
    let owner = fake.add_user(UserSeed::new("Owner"));
    let nested = fake.add_group(GroupSeed::new("Nested").members(&nested_users));
    let mut members = direct.clone();
    members.push(nested.clone());
    let group = fake.add_group(
        GroupSeed::new("Sales")
            .members(&members)
            .owners(&[owner.as_str()])
            .device("printer"),
    );
    let client = client(&fake);

    let found = client
        .groups()
        .find("Sales")
        .await
        .expect("lookup")
        .expect("found by name");
    assert_eq!(found.id, group);
    assert_eq!(
        client
            .groups()
            .find(&group)
            .await
            .expect("lookup")
            .map(|g| g.id),
        Some(group.clone())
    );
    assert!(
        client
            .groups()
            .find("Nope")
            .await
            .expect("lookup")
            .is_none()
    );

    let first = client
        .groups()
        .transitive_members(&group)
        .await
        .expect("first page");
    assert_eq!(first.items.len(), 3);
    assert!(first.next_link.is_some());

    let all = client
        .groups()
        .all_transitive_members(&group)
        .await
        .expect("all pages");
    // 5 direct users + nested group + 3 nested users + device = 10 objects over 4 pages.
    assert_eq!(all.len(), 10);
    let users: Vec<&str> = all
        .iter()
        .filter(|o| o.is_user())
        .map(|o| o.id.as_str())
        .collect();
    assert_eq!(users.len(), 8);
    for id in direct.iter().chain(&nested_users) {
        assert!(users.contains(&id.as_str()), "{id} missing");
    }
    assert!(!users.contains(&owner.as_str()), "owners are not members");
    assert_eq!(fake.request_count("groups.transitiveMembers"), 1 + 4);

    let owners = client.groups().all_owners(&group).await.expect("owners");
    assert_eq!(
        owners.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(),
        vec![owner.as_str()]
    );

    let direct_page = client
        .groups()
        .members(&group)
        .await
        .expect("direct members");
    assert_eq!(direct_page.items.len(), 3);
}

#[tokio::test]
async fn members_without_mailbox_or_outside_policy_are_typed() {
    let fake = FakeGraph::start().await;
    let guest = fake.add_user(
        UserSeed::new("Guest")
            .mail("guest_ext#EXT#@contoso.test")
            .without_mailbox(),
    );
    let blocked = fake.add_user(UserSeed::new("Blocked").outside_access_policy());
    let client = client(&fake);
    let (start, end) = (at(2030, 1, 1, 0, 0), at(2030, 2, 1, 0, 0));

    let user = client
        .users()
        .get(&guest)
        .await
        .expect("directory still knows the user");
    assert_eq!(user.mail, None);
    let err = client
        .events(&guest)
        .delta_start(start, end)
        .await
        .expect_err("no mailbox");
    assert!(err.is_mailbox_not_enabled(), "{err:?}");
    assert!(
        !err.is_not_found(),
        "a missing mailbox is not a missing item"
    );
    let err = client
        .contacts(&guest)
        .find_folder("Raynet")
        .await
        .expect_err("no mailbox");
    assert!(err.is_mailbox_not_enabled());

    let err = client
        .events(&blocked)
        .delta_start(start, end)
        .await
        .expect_err("outside policy");
    assert!(err.is_access_denied(), "{err:?}");
    assert_eq!(err.status(), Some(403));
}

#[tokio::test]
async fn group_members_via_the_user_cast_need_eventual_consistency() {
    let w = crate::util::world().await;
    let client = client(&w.fake);
    let members = client
        .groups()
        .all_transitive_members(&w.group)
        .await
        .expect("members");
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].id, w.alice);
    assert_eq!(members[0].mail.as_deref(), Some("alice@contoso.test"));
    // The documented cast is an advanced query: without ConsistencyLevel it is a 400.
    let url = format!(
        "{}/groups/{}/members/microsoft.graph.user",
        w.fake.base_url(),
        w.group
    );
    let err = client
        .groups()
        .next_page::<graph_client::client::models::DirectoryObject>(&url)
        .await
        .expect_err("400");
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.code(), Some("Request_UnsupportedQuery"));
}

#[tokio::test]
async fn groups_are_searched_by_the_start_of_their_display_name() {
    let fake = FakeGraph::start().await;
    for name in ["Raynet Sync", "raynet pilots", "Sales", "Rayleigh's team"] {
        fake.add_group(GroupSeed::new(name));
    }
    let client = client(&fake);
    let names = |groups: Vec<graph_client::client::models::Group>| -> Vec<String> {
        groups.into_iter().filter_map(|g| g.display_name).collect()
    };
    let found = client.groups().search_by_display_name("rayn", 25).await;
    assert_eq!(
        names(found.expect("search")),
        ["Raynet Sync", "raynet pilots"],
        "startswith is case-insensitive"
    );
    let quoted = client
        .groups()
        .search_by_display_name("Rayleigh's", 25)
        .await;
    assert_eq!(names(quoted.expect("search")), ["Rayleigh's team"]);
    let none = client.groups().search_by_display_name("Nope", 25).await;
    assert!(none.expect("search").is_empty());
    let first = client.groups().search_by_display_name("", 2).await;
    assert_eq!(first.expect("list").len(), 2, "$top caps the page");
    assert_eq!(fake.request_count("groups.list"), 4);
}

/// The tenant round's group: a display name is looked up once by `$filter` (never as
/// `GET /groups/{name}`, a 400 on Graph), its id remembered for later rounds; a group
/// re-created under the same name is found again.
#[tokio::test]
async fn the_group_is_looked_up_once_by_name_and_then_read_by_its_id() {
    use sync_core::tenant::OutlookService as _;
    let fake = FakeGraph::start().await;
    let alice = fake.add_user(UserSeed::new("Alice"));
    let first = fake.add_group(GroupSeed::new("Raynet sync").members(&[alice.as_str()]));
    let tenant = graph_client::adapter::GraphTenant::new(client(&fake), "Raynet sync", "Raynet");
    for round in 0..3 {
        let group = tenant.group().await.expect("group");
        assert_eq!(group.id, first, "round {round}");
        assert_eq!(group.members.len(), 1);
    }
    assert_eq!(fake.request_count("groups.list"), 1, "one look-up by name");
    assert_eq!(
        fake.request_count("groups.get"),
        0,
        "a name is never sent as an id"
    );
    assert_eq!(fake.request_count("groups.transitiveMembers"), 3);

    fake.remove_group(&first);
    let second = fake.add_group(GroupSeed::new("Raynet sync").members(&[alice.as_str()]));
    let group = tenant.group().await.expect("found again");
    assert_eq!(group.id, second);
    assert_eq!(fake.request_count("groups.list"), 2);
    let group = tenant.group().await.expect("remembered again");
    assert_eq!(group.id, second);
    assert_eq!(fake.request_count("groups.list"), 2);

    // An id is used as it is: no look-up at all.
    let by_id = graph_client::adapter::GraphTenant::new(client(&fake), second.as_str(), "Raynet");
    assert_eq!(by_id.group().await.expect("by id").id, second);
    assert_eq!(fake.request_count("groups.list"), 2);
    assert_eq!(fake.request_count("groups.get"), 0);
}
