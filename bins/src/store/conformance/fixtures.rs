//! The values the tests store: scopes, events, pairs, pending creates, round summaries, notes
//! (also the SQLite-only tests' in `state_store.rs`).

#[allow(clippy::wildcard_imports)]
use super::*;

pub(in crate::store) fn scope() -> Scope {
    Scope::new("acme", "jana@acme.cz", Collection::Calendar)
}

pub(in crate::store) fn event(title: &str) -> Event {
    let start = Utc.with_ymd_and_hms(2026, 3, 29, 0, 30, 0).unwrap();
    Event::new(
        title,
        Schedule::Timed {
            start,
            end: start + chrono::Duration::hours(1),
        },
    )
}

pub(in crate::store) fn side(id: &str, title: &str) -> SideRecord<Event> {
    SideRecord {
        id: RemoteId::new(id).unwrap(),
        version: Version::new(format!("v-{id}")).unwrap(),
        base: event(title),
    }
}

pub(in crate::store) fn pair(r: &str, o: &str) -> PairRecord<Event> {
    PairRecord {
        raynet: Some(side(r, "Kickoff")),
        outlook: Some(side(o, "Kickoff")),
        origin: Side::Raynet,
    }
}

pub(super) fn contact_pair(r: &str, o: &str) -> PairRecord<Contact> {
    let contact = |id: &str| {
        let c = Contact {
            given_name: "Petr".into(),
            surname: "Svoboda".into(),
            emails: vec![Email::new("petr@svoboda.cz").unwrap()],
            ..Contact::default()
        };
        SideRecord {
            id: RemoteId::new(id).unwrap(),
            version: Version::new(format!("v-{id}")).unwrap(),
            base: c,
        }
    };
    PairRecord {
        raynet: Some(contact(r)),
        outlook: Some(contact(o)),
        origin: Side::Outlook,
    }
}

pub(in crate::store) fn pending(key: &str) -> PendingCreate<Event> {
    PendingCreate {
        key: IdempotencyKey::new(key).unwrap(),
        target: Side::Outlook,
        pair: None,
        record: PairRecord {
            raynet: Some(side("42", "Kickoff")),
            outlook: None,
            origin: Side::Raynet,
        },
        item: event("Kickoff"),
    }
}

pub(super) fn summary(planned_writes: usize) -> RoundSummary {
    RoundSummary {
        scope: String::new(),
        dry_run: false,
        clean: true,
        planned_writes,
        created: SideCounts::default(),
        updated: SideCounts::default(),
        deleted: SideCounts::default(),
        recorded: 0,
        recovered: 0,
        conflicts: 0,
        conflict_details: Vec::new(),
        skipped: 0,
        failures: Vec::new(),
        guard: None,
        guard_kind: None,
        invitations: 0,
        invitations_deferred: 0,
    }
}

pub(super) fn note(member: &str, collection: Collection, noted: Noted) -> PushNote {
    PushNote {
        member: member.parse().unwrap(),
        collection,
        noted,
        received_at: Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap(),
    }
}

pub(super) fn email(s: &str) -> Email {
    s.parse().unwrap()
}

pub(super) async fn load<S: TenantStore + ?Sized>(store: &S, scope: &Scope) -> StoredState<Event> {
    store.calendar().load(scope).await.unwrap()
}

/// Resolves the pending create `key` of [`scope`] by storing `pair` as a new pair.
pub(super) async fn resolve<S: TenantStore + ?Sized>(
    store: &S,
    key: &str,
    pair: &PairRecord<Event>,
) -> Result<Option<PairId>, StoreError> {
    let key = IdempotencyKey::new(key).unwrap();
    store
        .calendar()
        .resolve_pending(&scope(), &key, None, Some(pair))
        .await
}

pub(super) async fn put_cursor<S: TenantStore + ?Sized>(
    store: &S,
    scope: &Scope,
    side: Side,
    v: &str,
) {
    let cursor = Cursor::new(v).unwrap();
    match scope.collection {
        Collection::Calendar => {
            store
                .calendar()
                .put_cursor(scope, side, Some(&cursor))
                .await
        }
        Collection::Contacts => {
            store
                .contacts()
                .put_cursor(scope, side, Some(&cursor))
                .await
        }
    }
    .unwrap();
}
