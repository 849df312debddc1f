//! The one-way contacts plan (DESIGN §5): Raynet persons → Outlook contacts.

use sync_core::testing::MemorySide;
use sync_core::*;

use crate::util::{now, person};

struct Contacts {
    source: MemorySide<Contact>,
    target: MemorySide<Contact>,
    store: MemoryStore<Contact>,
}

impl Contacts {
    fn new() -> Self {
        Self {
            source: MemorySide::new(ContactProfile::default()).with_prefix("p"),
            target: MemorySide::new(ContactProfile::outlook()).with_prefix("c"),
            store: MemoryStore::new(),
        }
    }

    fn round(&self) -> RoundReport {
        futures::executor::block_on(
            Runner::new(
                Scope::new("acme", "jana@acme.cz", Collection::Contacts),
                Policy::default(),
            )
            .sync_contacts(&self.source, &self.target, &self.store, now()),
        )
        .unwrap()
    }
}

#[test]
fn persons_flow_one_way_and_outlook_edits_are_restored() {
    let c = Contacts::new();
    let p = c.source.insert(person("Jana", "Nováková"));
    c.source.insert(person("Petr", "Svoboda"));
    assert_eq!(c.round().created(Side::Outlook), 2);
    assert_eq!(c.round().writes(), 0, "idempotent");

    let cid = c.target.ids()[0].clone();
    c.target
        .edit(&cid, |x| x.surname = "Edited in Outlook".into());
    let report = c.round();
    assert_eq!(report.updated.outlook, 1);
    assert_eq!(
        c.target.get_item(&cid).unwrap().surname,
        "Nováková",
        "restored from Raynet"
    );
    assert_eq!(
        c.source.get_item(&p).unwrap().surname,
        "Nováková",
        "Raynet untouched"
    );

    c.target.remove(&cid);
    assert_eq!(
        c.round().created(Side::Outlook),
        1,
        "a deleted contact is restored"
    );
    assert_eq!(c.target.len(), 2);

    c.source.edit(&p, |x| x.job_title = "CEO".into());
    c.round();
    assert!(c.target.items().iter().any(|x| x.job_title == "CEO"));

    c.source.remove(&p);
    assert_eq!(c.round().deleted.outlook, 1);
    assert_eq!(c.target.len(), 1);
}

#[test]
fn contacts_not_made_by_the_sync_are_left_alone() {
    let c = Contacts::new();
    c.target.insert(person("Own", "Contact"));
    c.source.insert(person("Jana", "Nováková"));
    c.round();
    assert_eq!(c.target.len(), 2);
    assert_eq!(c.round().writes(), 0);
}

#[test]
fn extra_emails_are_dropped_and_reported() {
    let c = Contacts::new();
    let mut p = person("Many", "Mails");
    p.emails = (0..5)
        .map(|i| format!("m{i}@x.cz").parse().unwrap())
        .collect();
    c.source.insert(p);
    let report = c.round();
    assert_eq!(c.target.items()[0].emails.len(), 3);
    assert_eq!(report.skipped.len(), 2, "{report}");
    assert!(report.skipped[0].reason.contains("m3@x.cz"));
    assert_eq!(
        c.round().writes(),
        0,
        "the cap does not look like a change every round"
    );
}
