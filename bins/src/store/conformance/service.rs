//! `ServiceStore`: SQLite and PostgreSQL — status, notes, secrets, subscriptions, leases,
//! freshness, the member-round log, `state copy`.

#[allow(clippy::wildcard_imports)]
use super::*;

pub(super) async fn a_pair_id_of_one_scope_cannot_be_written_in_another<H: ServiceHarness>(h: &H) {
    let store = h.open().await;
    let cal = store.calendar();
    let other = Scope::new("acme", "petr@acme.cz", Collection::Calendar);
    let a = cal.put_pair(&scope(), None, &pair("1", "A")).await.unwrap();
    let err = cal.put_pair(&other, Some(a), &pair("1", "B")).await;
    assert!(err.is_err(), "{err:?}");
    assert_eq!(
        load(&*store, &scope()).await.pairs.get(&a),
        Some(&pair("1", "A"))
    );
    assert!(load(&*store, &other).await.pairs.is_empty());
}

pub(super) async fn status_counts_and_last_rounds<H: ServiceHarness>(h: &H) {
    let store = h.open().await;
    assert!(store.status().await.unwrap().is_empty());
    store
        .calendar()
        .put_pair(&scope(), None, &pair("1", "A"))
        .await
        .unwrap();
    store
        .calendar()
        .add_pending(&scope(), &pending("r-9"))
        .await
        .unwrap();
    put_cursor(&*store, &scope(), Side::Outlook, "o1").await;
    let contacts = Scope::new("acme", "jana@acme.cz", Collection::Contacts);
    for n in 0..60 {
        let mut round = summary(n);
        // The invitation counts of each round: the last one's are the status row's.
        round.invitations = n;
        round.invitations_deferred = 2 * n;
        store.record_round(&scope(), &round).await.unwrap();
    }
    store.record_round(&contacts, &summary(1000)).await.unwrap();
    let st = store.status().await.unwrap();
    assert_eq!(st.len(), 2, "{st:?}");
    assert_eq!(st[0].scope, scope());
    assert_eq!((st[0].pairs, st[0].pending, st[0].cursors), (1, 1, 1));
    let last = st[0].last_round.as_ref().unwrap();
    assert_eq!(last.scope, scope());
    assert_eq!(last.summary["planned_writes"], 59, "the last one recorded");
    assert_eq!(
        (last.invitations, last.invitations_deferred),
        (59, 118),
        "the last round's invitation counts"
    );
    assert_eq!(st[1].scope, contacts);
    assert_eq!((st[1].pairs, st[1].pending, st[1].cursors), (0, 0, 0));
    assert_eq!(
        st[1].last_round.as_ref().unwrap().summary["planned_writes"],
        1000
    );
    assert_eq!(st[1].last_round.as_ref().unwrap().invitations, 0);
    assert_eq!(h.rounds_kept(&store, &scope()).await, ROUNDS_KEPT, "pruned");
    assert_eq!(h.rounds_kept(&store, &contacts).await, 1);
}

pub(super) async fn push_notes_survive_a_reopen_until_their_round_ran<H: ServiceHarness>(h: &H) {
    let store = h.open().await;
    let gone = Noted::Deleted(Side::Raynet, RemoteId::new("m-7").unwrap());
    let first = store
        .add_push_note(
            "acme",
            &note(
                "jana@acme.cz",
                Collection::Calendar,
                Noted::Changed(Side::Outlook),
            ),
        )
        .await
        .unwrap();
    let last = store
        .add_push_note(
            "acme",
            &note("petr@acme.cz", Collection::Calendar, gone.clone()),
        )
        .await
        .unwrap();
    assert!(last > first, "ids grow");
    store
        .add_push_note(
            "other",
            &note("jana@acme.cz", Collection::Calendar, Noted::CatchUp),
        )
        .await
        .unwrap();
    drop(store);
    let store = h.open().await;
    let kept = store.push_notes("acme").await.unwrap();
    assert_eq!(
        kept,
        [
            (
                first,
                note(
                    "jana@acme.cz",
                    Collection::Calendar,
                    Noted::Changed(Side::Outlook)
                )
            ),
            (last, note("petr@acme.cz", Collection::Calendar, gone)),
        ],
        "every field kept, oldest first"
    );
    let jana = (email("jana@acme.cz"), Collection::Calendar);
    store
        .drop_push_notes("acme", last, Some(&[jana]))
        .await
        .unwrap();
    assert_eq!(
        store.push_notes("acme").await.unwrap().len(),
        1,
        "petr's note waits"
    );
    store.drop_push_notes("acme", last, None).await.unwrap();
    assert!(store.push_notes("acme").await.unwrap().is_empty());
    let other = store.push_notes("other").await.unwrap();
    assert_eq!(other.len(), 1, "tenants kept apart");
    assert_eq!(other[0].1.noted, Noted::CatchUp);
}

pub(super) async fn dropping_notes_forgets_only_the_handled_ones<H: ServiceHarness>(h: &H) {
    let store = h.open().await;
    let add = |member: &'static str, collection: Collection| {
        let store = Arc::clone(&store);
        async move {
            store
                .add_push_note(
                    "acme",
                    &note(member, collection, Noted::Changed(Side::Raynet)),
                )
                .await
                .unwrap()
        }
    };
    let jana_cal = add("jana@acme.cz", Collection::Calendar).await;
    let jana_con = add("jana@acme.cz", Collection::Contacts).await;
    let petr_cal = add("petr@acme.cz", Collection::Calendar).await;
    let upto = add("eva@acme.cz", Collection::Calendar).await;
    let later = add("jana@acme.cz", Collection::Calendar).await;
    let ids = |store: Arc<H::Store>| async move {
        store
            .push_notes("acme")
            .await
            .unwrap()
            .into_iter()
            .map(|(id, _)| id)
            .collect::<Vec<_>>()
    };
    store
        .drop_push_notes("acme", upto, Some(&[]))
        .await
        .unwrap();
    assert_eq!(ids(Arc::clone(&store)).await.len(), 5, "nothing handled");
    let handled = [
        (email("jana@acme.cz"), Collection::Calendar),
        (email("petr@acme.cz"), Collection::Calendar),
    ];
    store
        .drop_push_notes("acme", upto, Some(&handled))
        .await
        .unwrap();
    assert_eq!(
        ids(Arc::clone(&store)).await,
        [jana_con, upto, later],
        "jana's contacts, eva's, and the note after `upto` wait"
    );
    assert!(!ids(Arc::clone(&store)).await.contains(&jana_cal));
    assert!(!ids(Arc::clone(&store)).await.contains(&petr_cal));
    store.drop_push_notes("acme", upto, None).await.unwrap();
    assert_eq!(ids(Arc::clone(&store)).await, [later], "all up to `upto`");
}

pub(super) async fn a_generated_secret_is_kept_and_the_same_for_concurrent_callers<
    H: ServiceHarness,
>(
    h: &H,
) {
    let one = h.open().await;
    let two = h.open().await;
    let (a, b) = tokio::join!(
        one.push_secret("acme", "client_state"),
        two.push_secret("acme", "client_state")
    );
    let first = a.unwrap();
    assert_eq!(b.unwrap(), first, "both callers get the one kept");
    assert_eq!(first.expose().len(), 64);
    assert_eq!(
        one.push_secret("acme", "client_state").await.unwrap(),
        first
    );
    assert_ne!(
        one.push_secret("acme", "webhook_token").await.unwrap(),
        first
    );
    assert_ne!(
        one.push_secret("other", "client_state").await.unwrap(),
        first
    );
    drop((one, two));
    let again = h.open().await;
    assert_eq!(
        again.push_secret("acme", "client_state").await.unwrap(),
        first,
        "kept across a reopen"
    );
}

pub(super) async fn subscriptions_are_kept_and_forgotten<H: ServiceHarness>(h: &H) {
    let store = h.open().await;
    let jana = email("jana@acme.cz");
    let petr = email("petr@acme.cz");
    store
        .keep_subscription("acme", &jana, Collection::Calendar, Some("{\"id\":\"a\"}"))
        .await
        .unwrap();
    store
        .keep_subscription("acme", &jana, Collection::Calendar, Some("{\"id\":\"b\"}"))
        .await
        .unwrap();
    store
        .keep_subscription("acme", &petr, Collection::Contacts, Some("{\"id\":\"p\"}"))
        .await
        .unwrap();
    store
        .keep_subscription("other", &jana, Collection::Calendar, Some("{\"id\":\"o\"}"))
        .await
        .unwrap();
    drop(store);
    let store = h.open().await;
    assert_eq!(
        store.kept_subscriptions("acme").await.unwrap(),
        [
            (
                jana.clone(),
                Collection::Calendar,
                "{\"id\":\"b\"}".to_owned()
            ),
            (
                petr.clone(),
                Collection::Contacts,
                "{\"id\":\"p\"}".to_owned()
            ),
        ]
    );
    store
        .keep_subscription("acme", &jana, Collection::Calendar, None)
        .await
        .unwrap();
    assert_eq!(
        store.kept_subscriptions("acme").await.unwrap(),
        [(petr, Collection::Contacts, "{\"id\":\"p\"}".to_owned())]
    );
    assert_eq!(store.kept_subscriptions("other").await.unwrap().len(), 1);
}

pub(super) const HOUR: Duration = Duration::from_secs(3600);

pub(super) fn held(taken: LeaseTaken) -> crate::store::Lease {
    match taken {
        LeaseTaken::Held(lease) => lease,
        LeaseTaken::HeldBy(lease) => panic!("expected to hold it, but {lease:?}"),
    }
}

pub(super) fn held_by(taken: LeaseTaken) -> crate::store::Lease {
    match taken {
        LeaseTaken::HeldBy(lease) => lease,
        LeaseTaken::Held(lease) => panic!("expected to be refused, but got {lease:?}"),
    }
}

pub(super) async fn a_lease_is_taken_and_renewed_with_its_epoch<H: ServiceHarness>(h: &H) {
    let store = h.open().await;
    assert!(store.leases().await.unwrap().is_empty());
    let first = held(
        store
            .take_lease("member:acme:jana", "w1", HOUR)
            .await
            .unwrap(),
    );
    assert_eq!(
        (first.name.as_str(), first.holder.as_str(), first.epoch),
        ("member:acme:jana", "w1", 1)
    );
    let renewed = held(
        store
            .take_lease("member:acme:jana", "w1", HOUR)
            .await
            .unwrap(),
    );
    assert_eq!(renewed.epoch, 1, "a renewal keeps the epoch");
    assert!(
        renewed.expires_at >= first.expires_at,
        "and moves the expiry"
    );
    held(store.take_lease("keeper:acme", "w2", HOUR).await.unwrap());
    drop(store);
    let store = h.open().await;
    let all = store.leases().await.unwrap();
    let names: Vec<_> = all
        .iter()
        .map(|l| (l.name.as_str(), l.holder.as_str()))
        .collect();
    assert_eq!(
        names,
        [("keeper:acme", "w2"), ("member:acme:jana", "w1")],
        "ordered by name, kept across a reopen"
    );
    assert_eq!(all[1], renewed);
}

pub(super) async fn a_live_lease_of_another_holder_is_refused_until_it_lapses<H: ServiceHarness>(
    h: &H,
) {
    let one = h.open().await;
    let two = h.open().await;
    let w1 = held(
        one.take_lease("member:acme:jana", "w1", HOUR)
            .await
            .unwrap(),
    );
    let refused = held_by(
        two.take_lease("member:acme:jana", "w2", HOUR)
            .await
            .unwrap(),
    );
    assert_eq!(refused, w1, "the refusal names the live lease");
    // w1 renews for no time at all: its lease has lapsed when w2 asks next.
    let lapsed = held(
        one.take_lease("member:acme:jana", "w1", Duration::ZERO)
            .await
            .unwrap(),
    );
    assert_eq!(lapsed.epoch, 1, "still w1's own lease");
    let w2 = held(
        two.take_lease("member:acme:jana", "w2", HOUR)
            .await
            .unwrap(),
    );
    assert_eq!(
        (w2.holder.as_str(), w2.epoch),
        ("w2", 2),
        "taken over: one more"
    );
    let back = held_by(
        one.take_lease("member:acme:jana", "w1", HOUR)
            .await
            .unwrap(),
    );
    assert_eq!(back, w2);
    // A lapsed lease taken again by its own holder counts as a new holding too.
    held(
        two.take_lease("member:acme:jana", "w2", Duration::ZERO)
            .await
            .unwrap(),
    );
    let again = held(
        two.take_lease("member:acme:jana", "w2", HOUR)
            .await
            .unwrap(),
    );
    assert_eq!(again.epoch, 3);
}

pub(super) async fn a_released_lease_can_be_taken_at_once<H: ServiceHarness>(h: &H) {
    let store = h.open().await;
    held(store.take_lease("keeper:acme", "w1", HOUR).await.unwrap());
    store.release_lease("keeper:acme", "w2").await.unwrap();
    held_by(store.take_lease("keeper:acme", "w2", HOUR).await.unwrap());
    store.release_lease("keeper:acme", "w1").await.unwrap();
    let kept = store.leases().await.unwrap();
    assert_eq!(kept.len(), 1, "released, not forgotten");
    assert_eq!(kept[0].epoch, 1);
    let w2 = held(store.take_lease("keeper:acme", "w2", HOUR).await.unwrap());
    assert_eq!((w2.holder.as_str(), w2.epoch), ("w2", 2));
    store.release_lease("nothing", "w1").await.unwrap();
    assert_eq!(store.leases().await.unwrap().len(), 1);
}

pub(super) async fn freshness_is_the_last_clean_round_of_each_scope<H: ServiceHarness>(h: &H) {
    let store = h.open().await;
    let petr = Scope::new("acme", "petr@acme.cz", Collection::Calendar);
    let other = Scope::new("other", "jana@acme.cz", Collection::Calendar);
    assert!(store.last_clean_rounds("acme").await.unwrap().is_empty());
    let before = Utc::now() - chrono::Duration::seconds(5);
    store.record_round(&scope(), &summary(1)).await.unwrap();
    let first = store.last_clean_rounds("acme").await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].0, scope());
    assert!(first[0].1 >= before, "{first:?}");
    // A failed round later does not make the scope fresher.
    let mut failed = summary(2);
    failed.clean = false;
    tokio::time::sleep(Duration::from_millis(20)).await;
    store.record_round(&scope(), &failed).await.unwrap();
    // Petr's only round failed: he has no clean round to show.
    store.record_round(&petr, &failed).await.unwrap();
    store.record_round(&other, &summary(1)).await.unwrap();
    let after = store.last_clean_rounds("acme").await.unwrap();
    assert_eq!(after, first, "only clean rounds count, only this tenant's");
    tokio::time::sleep(Duration::from_millis(20)).await;
    store.record_round(&scope(), &summary(3)).await.unwrap();
    let fresher = store.last_clean_rounds("acme").await.unwrap();
    assert!(fresher[0].1 > first[0].1, "{fresher:?} after {first:?}");
}

pub(super) async fn push_secrets_are_listed_and_replaced<H: ServiceHarness>(h: &H) {
    let store = h.open().await;
    assert!(store.push_secrets("acme").await.unwrap().is_empty());
    let generated = store.push_secret("acme", "client_state").await.unwrap();
    store
        .put_push_secret("acme", "webhook_token", &Secret::new("tok-1"))
        .await
        .unwrap();
    store
        .put_push_secret("other", "webhook_token", &Secret::new("tok-x"))
        .await
        .unwrap();
    let listed = store.push_secrets("acme").await.unwrap();
    assert_eq!(
        listed,
        vec![
            ("client_state".to_owned(), generated),
            ("webhook_token".to_owned(), Secret::new("tok-1")),
        ]
    );
    store
        .put_push_secret("acme", "webhook_token", &Secret::new("tok-2"))
        .await
        .unwrap();
    assert_eq!(
        store.push_secret("acme", "webhook_token").await.unwrap(),
        Secret::new("tok-2"),
        "replaced, and the kept one is served"
    );
}

pub(super) async fn member_rounds_are_logged_from_start_to_end<H: ServiceHarness>(h: &H) {
    let store = h.open().await;
    let jana = Email::new("jana@acme.cz").unwrap();
    let petr = Email::new("petr@acme.cz").unwrap();
    let ids = store
        .begin_member_rounds("acme", &[jana.clone(), petr.clone()], "w1")
        .await
        .unwrap();
    assert_eq!(ids.len(), 2);
    let other = store
        .begin_member_rounds("other", std::slice::from_ref(&jana), "w2")
        .await
        .unwrap();
    let running = store.member_rounds("acme").await.unwrap();
    assert_eq!(running.len(), 2);
    assert!(
        running
            .iter()
            .all(|r| r.finished_at.is_none() && r.worker == "w1")
    );
    store.end_member_rounds(&ids[..1]).await.unwrap();
    let logged = store.member_rounds("acme").await.unwrap();
    assert_eq!(logged[0].member, "jana@acme.cz");
    let finished = logged[0].finished_at.expect("ended");
    assert!(finished >= logged[0].started_at);
    assert!(logged[1].finished_at.is_none(), "petr's round still runs");
    assert_eq!(store.member_rounds("other").await.unwrap()[0].id, other[0]);
}

pub(super) async fn a_copy_moves_everything_and_refuses_a_target_holding_the_tenant<
    H: ServiceHarness,
>(
    h: &H,
) {
    let dir = TempDir::new("conformance-copy");
    let source = SqliteStore::open(&dir.path().join("source.db")).expect("open the source");
    let cal = source.calendar();
    let a = cal.put_pair(&scope(), None, &pair("1", "A")).await.unwrap();
    let b = cal.put_pair(&scope(), None, &pair("2", "B")).await.unwrap();
    cal.remove_pair(&scope(), a).await.unwrap();
    let mut re_create = pending("r-9");
    re_create.pair = Some(b);
    cal.add_pending(&scope(), &re_create).await.unwrap();
    cal.put_cursor(
        &scope(),
        Side::Outlook,
        Some(&Cursor::new("delta-1").unwrap()),
    )
    .await
    .unwrap();
    ServiceStore::add_push_note(
        &source,
        &scope().tenant,
        &note("jana@acme.cz", Collection::Calendar, Noted::CatchUp),
    )
    .await
    .unwrap();
    let jana = Email::new("jana@acme.cz").unwrap();
    ServiceStore::keep_subscription(
        &source,
        &scope().tenant,
        &jana,
        Collection::Calendar,
        Some("{\"id\":\"sub-1\"}"),
    )
    .await
    .unwrap();
    let secret = ServiceStore::push_secret(&source, &scope().tenant, "client_state")
        .await
        .unwrap();

    let target = h.open().await;
    let report = crate::store::copy_state(&source, &*target).await.unwrap();
    assert_eq!(
        (report.scopes, report.pairs, report.pending, report.cursors),
        (1, 1, 1, 1)
    );
    assert_eq!(
        (report.notes, report.subscriptions, report.secrets),
        (1, 1, 1)
    );
    let copied = load(&*target, &scope()).await;
    assert_eq!(copied.pairs.len(), 1);
    let (new_b, pair_b) = copied.pairs.iter().next().unwrap();
    assert_eq!(pair_b, &pair("2", "B"));
    assert_eq!(copied.pending.len(), 1);
    assert_eq!(
        copied.pending[0].pair,
        Some(*new_b),
        "the pending create follows its pair"
    );
    assert_eq!(copied.cursors[&Side::Outlook].as_str(), "delta-1");
    assert_eq!(target.push_notes(&scope().tenant).await.unwrap().len(), 1);
    assert_eq!(
        target
            .kept_subscriptions(&scope().tenant)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        target
            .push_secret(&scope().tenant, "client_state")
            .await
            .unwrap(),
        secret,
        "the subscriptions' clientState moves with them"
    );

    // A second copy would merge two histories: refused, nothing written.
    let again = crate::store::copy_state(&source, &*target).await;
    assert!(
        matches!(
            again,
            Err(crate::store::CopyError::TargetHoldsTenant { .. })
        ),
        "{again:?}"
    );
    assert_eq!(load(&*target, &scope()).await.pairs.len(), 1);
}
