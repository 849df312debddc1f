//! `StateStore` and `TenantStore`: every store.

#[allow(clippy::wildcard_imports)]
use super::*;

pub(super) async fn every_method_round_trips_and_survives_reopen<H: Harness>(harness: &H) {
    let store = harness.open().await;
    let cal = store.calendar();
    assert_eq!(load(&*store, &scope()).await, StoredState::default());
    assert!(cal.scopes().await.unwrap().is_empty());

    let a = cal.put_pair(&scope(), None, &pair("1", "A")).await.unwrap();
    let b = cal.put_pair(&scope(), None, &pair("2", "B")).await.unwrap();
    assert_ne!(a, b);
    let mut changed = pair("1", "A");
    changed.outlook = Some(side("A2", "Kickoff moved"));
    assert_eq!(cal.put_pair(&scope(), Some(a), &changed).await.unwrap(), a);
    cal.remove_pair(&scope(), b).await.unwrap();

    let cursor = Cursor::new("delta-token-1").unwrap();
    cal.put_cursor(&scope(), Side::Outlook, Some(&cursor))
        .await
        .unwrap();
    let c2 = Cursor::new("watermark").unwrap();
    cal.put_cursor(&scope(), Side::Raynet, Some(&c2))
        .await
        .unwrap();
    cal.put_cursor(&scope(), Side::Raynet, None).await.unwrap();

    cal.add_pending(&scope(), &pending("r-1")).await.unwrap();
    cal.add_pending(&scope(), &pending("r-2")).await.unwrap();
    cal.add_pending(&scope(), &pending("r-1")).await.unwrap();

    let check = |s: StoredState<Event>| {
        assert_eq!(s.pairs.len(), 1);
        assert_eq!(s.pairs.get(&a), Some(&changed));
        assert_eq!(s.cursors.len(), 1);
        assert_eq!(s.cursors[&Side::Outlook], cursor);
        let keys: Vec<_> = s
            .pending
            .iter()
            .map(|p| p.key.as_str().to_owned())
            .collect();
        assert_eq!(keys, ["r-2", "r-1"], "re-adding a key moves it to the end");
        assert_eq!(s.pending[1], pending("r-1"));
    };
    check(load(&*store, &scope()).await);
    drop(store);

    let store = harness.open().await;
    let cal = store.calendar();
    check(load(&*store, &scope()).await);
    assert_eq!(cal.scopes().await.unwrap(), vec![scope()]);

    let c = resolve(&*store, "r-2", &pair("3", "C"))
        .await
        .unwrap()
        .unwrap();
    assert!(c > b, "pair ids are never reused");
    let none = cal
        .resolve_pending(&scope(), &IdempotencyKey::new("r-1").unwrap(), None, None)
        .await
        .unwrap();
    assert_eq!(none, None);
    let s = load(&*store, &scope()).await;
    assert!(s.pending.is_empty());
    assert_eq!(s.pairs.len(), 2);
    assert_eq!(s.pairs.get(&c), Some(&pair("3", "C")));
    // Resolving into a pair id the store handed out replaces that pair.
    let again = cal
        .resolve_pending(
            &scope(),
            &IdempotencyKey::new("r-gone").unwrap(),
            Some(c),
            Some(&pair("3", "C2")),
        )
        .await
        .unwrap();
    assert_eq!(again, Some(c));
    assert_eq!(
        load(&*store, &scope()).await.pairs.get(&c),
        Some(&pair("3", "C2"))
    );
}

pub(super) async fn contacts_are_kept_beside_events<H: Harness>(h: &H) {
    let store = h.open().await;
    let contacts = Scope::new("acme", "jana@acme.cz", Collection::Contacts);
    let id = store
        .contacts()
        .put_pair(&contacts, None, &contact_pair("c-1", "C-1"))
        .await
        .unwrap();
    store
        .calendar()
        .put_pair(&scope(), None, &pair("1", "A"))
        .await
        .unwrap();
    drop(store);
    let store = h.open().await;
    let kept = store.contacts().load(&contacts).await.unwrap();
    assert_eq!(kept.pairs.len(), 1);
    assert_eq!(kept.pairs.get(&id), Some(&contact_pair("c-1", "C-1")));
    assert_eq!(load(&*store, &scope()).await.pairs.len(), 1, "the events");
    assert_eq!(
        store
            .recorded_version(&contacts, Side::Outlook, &RemoteId::new("C-1").unwrap())
            .await
            .unwrap(),
        Some(Version::new("v-C-1").unwrap())
    );
}

pub(super) async fn scopes_are_kept_apart<H: Harness>(h: &H) {
    let store = h.open().await;
    let cal = store.calendar();
    let other = Scope::new("acme", "petr@acme.cz", Collection::Calendar);
    let a = cal.put_pair(&scope(), None, &pair("1", "A")).await.unwrap();
    cal.add_pending(&scope(), &pending("r-1")).await.unwrap();
    put_cursor(&*store, &scope(), Side::Raynet, "r1").await;
    cal.remove_pair(&other, a).await.unwrap();
    assert_eq!(
        load(&*store, &scope()).await.pairs.len(),
        1,
        "removing an id through another scope removes nothing"
    );
    let o = load(&*store, &other).await;
    assert_eq!(
        o,
        StoredState::default(),
        "nothing of jana's shows in petr's"
    );
}

pub(super) async fn a_crash_inside_resolve_pending_leaves_the_old_state<H: Harness>(h: &H) {
    let store = h.open().await;
    store
        .calendar()
        .add_pending(&scope(), &pending("r-42"))
        .await
        .unwrap();
    h.crash_next_resolve(&store);
    let res = resolve(&*store, "r-42", &pair("42", "X")).await;
    assert!(res.is_err(), "{res:?}");
    h.heal(&store);
    drop(store);

    let store = h.open().await;
    let s = load(&*store, &scope()).await;
    assert_eq!(s.pending.len(), 1, "the pending create is still there");
    assert!(s.pairs.is_empty(), "and no pair was stored");
    resolve(&*store, "r-42", &pair("42", "X")).await.unwrap();
    let s = load(&*store, &scope()).await;
    assert!(s.pending.is_empty());
    assert_eq!(s.pairs.len(), 1, "exactly one pair after the retry");
}

pub(super) async fn tenant_cursors_list_one_tenants_cursors<H: Harness>(h: &H) {
    let store = h.open().await;
    assert!(store.cursors("acme").await.unwrap().is_empty());
    let jana = Scope::new("acme", "jana@acme.test", Collection::Calendar);
    let petr = Scope::new("acme", "petr@acme.test", Collection::Contacts);
    let other = Scope::new("other", "jana@acme.test", Collection::Calendar);
    put_cursor(&*store, &jana, Side::Raynet, "r1").await;
    put_cursor(&*store, &jana, Side::Outlook, "o1").await;
    put_cursor(&*store, &petr, Side::Raynet, "r2").await;
    put_cursor(&*store, &other, Side::Raynet, "x").await;
    let mut got: Vec<(Scope, Side, String)> = store
        .cursors("acme")
        .await
        .unwrap()
        .into_iter()
        .map(|(s, side, c)| (s, side, c.as_str().to_owned()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            (jana.clone(), Side::Raynet, "r1".to_owned()),
            (jana, Side::Outlook, "o1".to_owned()),
            (petr, Side::Raynet, "r2".to_owned()),
        ],
        "acme's three, not the other tenant's"
    );
}

pub(super) async fn pair_counts_count_each_scope_of_a_tenant<H: Harness>(h: &H) {
    let store = h.open().await;
    let jana = scope();
    let petr = Scope::new("acme", "petr@acme.cz", Collection::Contacts);
    let eva = Scope::new("acme", "eva@acme.cz", Collection::Calendar);
    let other = Scope::new("other", "jana@acme.cz", Collection::Calendar);
    let cal = store.calendar();
    cal.put_pair(&jana, None, &pair("1", "A")).await.unwrap();
    cal.put_pair(&jana, None, &pair("2", "B")).await.unwrap();
    store
        .contacts()
        .put_pair(&petr, None, &contact_pair("c-1", "C-1"))
        .await
        .unwrap();
    let gone = cal.put_pair(&eva, None, &pair("3", "C")).await.unwrap();
    cal.remove_pair(&eva, gone).await.unwrap();
    cal.put_pair(&other, None, &pair("9", "Z")).await.unwrap();
    let mut counts = store.pair_counts("acme").await.unwrap();
    counts.sort();
    assert_eq!(counts, [(eva, 0), (jana, 2), (petr, 1)]);
    assert_eq!(store.pair_counts("other").await.unwrap(), [(other, 1)]);
    assert!(store.pair_counts("nobody").await.unwrap().is_empty());
}

pub(super) async fn recorded_version_finds_an_items_pair<H: Harness>(h: &H) {
    let store = h.open().await;
    let id = |s: &str| RemoteId::new(s).unwrap();
    let petr = Scope::new("acme", "petr@acme.cz", Collection::Calendar);
    store
        .calendar()
        .put_pair(&scope(), None, &pair("1", "A"))
        .await
        .unwrap();
    let version = |scope: Scope, side: Side, item: &str| {
        let store = Arc::clone(&store);
        let item = id(item);
        async move { store.recorded_version(&scope, side, &item).await.unwrap() }
    };
    assert_eq!(
        version(scope(), Side::Raynet, "1").await,
        Some(Version::new("v-1").unwrap())
    );
    assert_eq!(
        version(scope(), Side::Outlook, "A").await,
        Some(Version::new("v-A").unwrap())
    );
    assert_eq!(
        version(scope(), Side::Outlook, "1").await,
        None,
        "wrong side"
    );
    assert_eq!(version(scope(), Side::Raynet, "2").await, None, "unknown");
    assert_eq!(
        version(petr, Side::Raynet, "1").await,
        None,
        "another member"
    );
}

pub(super) async fn scopes_holding_lists_the_members_whose_pairs_hold_an_item<H: Harness>(h: &H) {
    let store = h.open().await;
    let cal = store.calendar();
    let member = |m: &str| Scope::new("acme", m, Collection::Calendar);
    // A meeting in three calendars (Raynet id 7), another one elsewhere.
    cal.put_pair(&member("petr@acme.cz"), None, &pair("7", "P7"))
        .await
        .unwrap();
    cal.put_pair(&member("jana@acme.cz"), None, &pair("7", "J7"))
        .await
        .unwrap();
    cal.put_pair(&member("eva@acme.cz"), None, &pair("8", "E8"))
        .await
        .unwrap();
    cal.put_pair(
        &Scope::new("other", "jana@acme.cz", Collection::Calendar),
        None,
        &pair("7", "X7"),
    )
    .await
    .unwrap();
    store
        .contacts()
        .put_pair(
            &Scope::new("acme", "eva@acme.cz", Collection::Contacts),
            None,
            &contact_pair("7", "C7"),
        )
        .await
        .unwrap();
    let holding = |side: Side, item: &str| {
        let store = Arc::clone(&store);
        let item = RemoteId::new(item).unwrap();
        async move {
            store
                .scopes_holding("acme", Collection::Calendar, side, &item)
                .await
                .unwrap()
        }
    };
    assert_eq!(
        holding(Side::Raynet, "7").await,
        [member("jana@acme.cz"), member("petr@acme.cz")],
        "acme's calendars only, ordered by member"
    );
    assert_eq!(holding(Side::Outlook, "J7").await, [member("jana@acme.cz")]);
    assert!(holding(Side::Outlook, "7").await.is_empty(), "wrong side");
}

pub(super) async fn two_instances_share_the_state<H: Harness>(h: &H) {
    let one = h.open().await;
    let two = h.open().await;
    one.calendar()
        .put_pair(&scope(), None, &pair("1", "A"))
        .await
        .unwrap();
    two.calendar()
        .put_pair(&scope(), None, &pair("2", "B"))
        .await
        .unwrap();
    assert_eq!(load(&*one, &scope()).await.pairs.len(), 2);
    assert_eq!(two.pair_counts("acme").await.unwrap(), [(scope(), 2)]);
}
