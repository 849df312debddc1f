//! The audit trail: both `ServiceStore`s.

#[allow(clippy::wildcard_imports)]
use super::*;

/// An audit entry of the item `raynet`/`outlook` titled `label`, ruled by `rule`.
pub(super) fn audit_entry(
    rule: StepRule,
    label: &str,
    raynet: &str,
    outlook: Option<&str>,
) -> AuditEntry {
    let outlook = outlook.map(|o| RemoteId::new(o).unwrap());
    AuditEntry {
        rule,
        reason: rule.phrase().into(),
        pair: Some(PairId::from_store(5)),
        label: label.to_owned(),
        raynet_id: Some(RemoteId::new(raynet).unwrap()),
        outlook_id: outlook.clone(),
        writes: vec![AuditWrite {
            side: Side::Outlook,
            action: WriteAction::Update,
            id: outlook,
            changes: vec![FieldChange {
                field: "location".into(),
                from: "Praha".into(),
                to: "Brno".into(),
            }],
            done: true,
        }],
        conflicts: vec![AuditConflict {
            field: "location".into(),
            winner: Side::Raynet,
            rule: ConflictRule::Latest,
        }],
        error: None,
    }
}

/// A round report of `scope` holding `entries`.
pub(super) fn audited(scope: &Scope, entries: Vec<AuditEntry>) -> RoundReport {
    let mut r = RoundReport::new(scope.clone(), false);
    r.audit = entries;
    r
}

pub(super) async fn the_audit_trail_finds_an_items_entries_by_id_and_title<H: ServiceHarness>(
    h: &H,
) {
    let store = h.open().await;
    let t0 = Utc.with_ymd_and_hms(2026, 12, 6, 14, 3, 0).unwrap();
    let t1 = t0 + chrono::Duration::minutes(15);
    let petr = Scope::new("acme", "petr@acme.cz", Collection::Contacts);
    let first = [
        audited(
            &scope(),
            vec![
                audit_entry(
                    StepRule::NewInRaynet,
                    "Porada s Acme",
                    "42",
                    Some("AAMk-42"),
                ),
                audit_entry(
                    StepRule::NewInRaynet,
                    "Žluťoučký kůň",
                    "43",
                    Some("AAMk-43"),
                ),
            ],
        ),
        audited(
            &petr,
            vec![audit_entry(
                StepRule::NewInSource,
                "Petr Svoboda",
                "7",
                None,
            )],
        ),
    ];
    assert_eq!(store.record_audit("acme", t0, &first).await.unwrap(), 3);
    let edited = audit_entry(
        StepRule::ChangedOnBothSides,
        "Porada s Acme",
        "42",
        Some("AAMk-42"),
    );
    store
        .record_audit("acme", t1, &[audited(&scope(), vec![edited.clone()])])
        .await
        .unwrap();
    let other = Scope::new("other", "jana@acme.cz", Collection::Calendar);
    store
        .record_audit(
            "other",
            t1,
            &[audited(
                &other,
                vec![audit_entry(
                    StepRule::NewInOutlook,
                    "Porada",
                    "42",
                    Some("AAMk-x"),
                )],
            )],
        )
        .await
        .unwrap();
    // Reopened: the trail is kept.
    drop(store);
    let store = h.open().await;

    let by_id = store
        .find_audit(Some("acme"), AuditMatch::RaynetId("42"), 100)
        .await
        .unwrap();
    assert_eq!(by_id.len(), 2, "{by_id:?}");
    assert_eq!(by_id[0].entry.rule, StepRule::NewInRaynet, "oldest first");
    assert_eq!(by_id[1].entry, edited, "the entry as recorded");
    assert_eq!((by_id[0].at, by_id[1].at), (t0, t1));
    assert!(by_id[0].id < by_id[1].id);
    assert_eq!(
        (
            by_id[1].tenant.as_str(),
            by_id[1].member.as_str(),
            by_id[1].collection
        ),
        ("acme", "jana@acme.cz", Collection::Calendar)
    );
    let every_tenant = store
        .find_audit(None, AuditMatch::RaynetId("42"), 100)
        .await
        .unwrap();
    assert_eq!(every_tenant.len(), 3, "without a tenant: every tenant's");
    let by_outlook = store
        .find_audit(None, AuditMatch::OutlookId("AAMk-43"), 100)
        .await
        .unwrap();
    assert_eq!(by_outlook.len(), 1);
    assert_eq!(by_outlook[0].entry.label, "Žluťoučký kůň");
    assert!(
        store
            .find_audit(None, AuditMatch::RaynetId("4"), 100)
            .await
            .unwrap()
            .is_empty(),
        "ids match exactly"
    );
    let contacts = store
        .find_audit(Some("acme"), AuditMatch::RaynetId("7"), 100)
        .await
        .unwrap();
    assert_eq!(
        (
            contacts[0].member.as_str(),
            contacts[0].collection,
            contacts[0].entry.outlook_id.clone()
        ),
        ("petr@acme.cz", Collection::Contacts, None)
    );

    let by_title = store
        .find_audit(Some("acme"), AuditMatch::Title("PORADA"), 100)
        .await
        .unwrap();
    assert_eq!(
        by_title.len(),
        2,
        "case-insensitive, one tenant: {by_title:?}"
    );
    let accented = store
        .find_audit(None, AuditMatch::Title("ŽLUŤOUČKÝ"), 100)
        .await
        .unwrap();
    assert_eq!(accented.len(), 1, "non-ASCII letters fold too");
    let newest = store
        .find_audit(None, AuditMatch::Title("porada"), 2)
        .await
        .unwrap();
    assert_eq!(newest.len(), 2, "limited");
    assert!(
        newest.iter().all(|r| r.at == t1) && newest[0].id < newest[1].id,
        "the newest, oldest first: {newest:?}"
    );
    assert!(
        store
            .find_audit(None, AuditMatch::Title("100%"), 100)
            .await
            .unwrap()
            .is_empty(),
        "no wildcards"
    );
}

pub(super) async fn the_audit_trail_is_pruned_by_age_and_keeps_a_large_round<H: ServiceHarness>(
    h: &H,
) {
    let store = h.open().await;
    let old = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let new = old + chrono::Duration::days(40);
    store
        .record_audit(
            "acme",
            old,
            &[audited(
                &scope(),
                vec![audit_entry(
                    StepRule::DeletedInRaynet,
                    "Old",
                    "1",
                    Some("A"),
                )],
            )],
        )
        .await
        .unwrap();
    // A first round's worth of entries, in one call (PostgreSQL sends them in chunks).
    let many: Vec<AuditEntry> = (0..4_500)
        .map(|i| {
            audit_entry(
                StepRule::NewInSource,
                &format!("Person {i}"),
                &format!("p{i}"),
                Some(&format!("c{i}")),
            )
        })
        .collect();
    assert_eq!(
        store
            .record_audit(
                "acme",
                new,
                &[audited(&scope(), many), audited(&scope(), vec![])]
            )
            .await
            .unwrap(),
        4_500
    );
    assert_eq!(
        store.record_audit("acme", new, &[]).await.unwrap(),
        0,
        "nothing to keep"
    );
    let last = store
        .find_audit(None, AuditMatch::OutlookId("c4499"), 10)
        .await
        .unwrap();
    assert_eq!(last[0].entry.label, "Person 4499");
    let gone = store
        .prune_audit(old + chrono::Duration::days(30))
        .await
        .unwrap();
    assert_eq!(gone, 1, "only the entry older than the limit");
    assert!(
        store
            .find_audit(None, AuditMatch::RaynetId("1"), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .find_audit(None, AuditMatch::Title("person 1"), 10_000)
            .await
            .unwrap()
            .len(),
        1_111,
        "Person 1, 10-19, 100-199, 1000-1999 are kept"
    );
    assert_eq!(store.prune_audit(old).await.unwrap(), 0);
}
