//! The audit entries a round reports (`RoundReport::audit`): one per step sent, with the rule,
//! the item's ids on each side, each field's change from what to what, the conflicts and how
//! they were settled, and whether the writes succeeded.

use sync_core::testing::Faults;
use sync_core::*;

use crate::util::{Calendar, meeting, outlook_event};

/// A calendar with one Raynet meeting already synced.
fn synced(policy: Policy) -> (Calendar, RemoteId, RemoteId) {
    let cal = Calendar::new(policy);
    let r = cal.raynet.insert(meeting("Porada", 5));
    let first = cal.round();
    let o = cal.outlook.ids()[0].clone();
    let [entry] = first.audit.as_slice() else {
        panic!("one entry for one create: {:?}", first.audit);
    };
    assert_eq!(entry.rule, StepRule::NewInRaynet);
    assert_eq!(entry.raynet_id.as_ref(), Some(&r));
    assert_eq!(entry.outlook_id.as_ref(), Some(&o), "the id the create got");
    assert!(entry.pair.is_some(), "the pair recorded");
    assert_eq!(entry.writes[0].action, WriteAction::Create);
    assert!(entry.writes[0].done && entry.succeeded());
    (cal, r, o)
}

#[test]
fn a_one_sided_change_says_which_field_went_from_what_to_what() {
    let (cal, r, o) = synced(Policy::default());
    cal.outlook.edit(&o, |e| e.title = "Porada s Acme".into());
    let report = cal.round();
    let [entry] = report.audit.as_slice() else {
        panic!("{:?}", report.audit);
    };
    assert_eq!(entry.rule, StepRule::ChangedInOutlook);
    assert_eq!(entry.label, "Porada", "labelled after the Raynet item");
    assert_eq!(
        (entry.raynet_id.as_ref(), entry.outlook_id.as_ref()),
        (Some(&r), Some(&o))
    );
    let [write] = entry.writes.as_slice() else {
        panic!("{entry}");
    };
    assert_eq!(
        (write.side, write.action, write.id.as_ref()),
        (Side::Raynet, WriteAction::Update, Some(&r))
    );
    assert_eq!(
        write.changes,
        vec![FieldChange {
            field: "title".into(),
            from: "Porada".into(),
            to: "Porada s Acme".into(),
        }]
    );
    assert!(write.done && entry.conflicts.is_empty());
    assert!(cal.round().audit.is_empty(), "a round that writes nothing");
}

#[test]
fn a_conflict_says_which_side_won_and_by_which_rule() {
    let (cal, r, o) = synced(Policy::default());
    // Outlook first, Raynet later: with `latest`, Raynet's value wins.
    cal.outlook.edit(&o, |e| {
        e.location = "Praha".into();
        e.title = "Porada (Outlook)".into();
    });
    cal.raynet.edit(&r, |e| e.location = "Brno".into());
    let report = cal.round();
    let [entry] = report.audit.as_slice() else {
        panic!("{:?}", report.audit);
    };
    assert_eq!(entry.rule, StepRule::ChangedOnBothSides);
    assert_eq!(
        entry.conflicts,
        vec![AuditConflict {
            field: "location".into(),
            winner: Side::Raynet,
            rule: ConflictRule::Latest,
        }]
    );
    let to_outlook = entry
        .writes
        .iter()
        .find(|w| w.side == Side::Outlook)
        .expect("Raynet's location goes to Outlook");
    assert_eq!(
        to_outlook.changes,
        vec![FieldChange {
            field: "location".into(),
            from: "Praha".into(),
            to: "Brno".into(),
        }]
    );
    let to_raynet = entry
        .writes
        .iter()
        .find(|w| w.side == Side::Raynet)
        .expect("Outlook's title goes to Raynet");
    assert_eq!(to_raynet.changes[0].field, "title");
    assert_eq!(to_raynet.changes[0].to, "Porada (Outlook)");
}

#[test]
fn a_deletion_in_outlook_says_what_the_rule_did_to_the_raynet_record() {
    let (cal, r, o) = synced(Policy::default());
    cal.outlook.remove(&o);
    let report = cal.round();
    let [entry] = report.audit.as_slice() else {
        panic!("{:?}", report.audit);
    };
    assert_eq!(entry.rule, StepRule::DeletedInOutlookCancel);
    assert_eq!(
        entry.outlook_id.as_ref(),
        Some(&o),
        "the deleted item's id is kept, so it can be looked up"
    );
    assert_eq!(entry.raynet_id.as_ref(), Some(&r));
    assert_eq!(entry.writes[0].changes[0].field, "status");
    assert_eq!(
        (
            entry.writes[0].changes[0].from.as_str(),
            entry.writes[0].changes[0].to.as_str()
        ),
        ("scheduled", "cancelled")
    );
}

#[test]
fn a_deletion_answered_without_a_write_is_kept_too() {
    let (cal, _, o) = synced(Policy {
        outlook_deletes: OutlookDeletes::Ignore,
        ..Policy::default()
    });
    cal.outlook.remove(&o);
    let report = cal.round();
    let [entry] = report.audit.as_slice() else {
        panic!("{:?}", report.audit);
    };
    assert_eq!(entry.rule, StepRule::DeletedInOutlookIgnored);
    assert!(entry.writes.is_empty());
    assert_eq!(entry.outlook_id.as_ref(), Some(&o));
}

#[test]
fn a_deletion_in_raynet_deletes_the_outlook_copy_and_says_so() {
    let (cal, r, o) = synced(Policy::default());
    cal.raynet.remove(&r);
    let report = cal.round();
    let [entry] = report.audit.as_slice() else {
        panic!("{:?}", report.audit);
    };
    assert_eq!(entry.rule, StepRule::DeletedInRaynet);
    assert_eq!(
        (entry.writes[0].side, entry.writes[0].action),
        (Side::Outlook, WriteAction::Delete)
    );
    assert_eq!(entry.writes[0].id.as_ref(), Some(&o));
    assert!(entry.writes[0].done);
    assert_eq!(entry.raynet_id.as_ref(), Some(&r));
}

#[test]
fn a_failed_write_is_kept_as_failed_and_not_done() {
    let (cal, r, o) = synced(Policy::default());
    cal.raynet.edit(&r, |e| e.location = "Brno".into());
    cal.outlook.set_faults(Faults {
        failing_writes: 1,
        ..Faults::default()
    });
    let report = cal.round();
    let [entry] = report.audit.as_slice() else {
        panic!("{:?}", report.audit);
    };
    assert!(!entry.succeeded(), "{entry}");
    assert!(!entry.writes[0].done);
    assert_eq!(entry.writes[0].id.as_ref(), Some(&o));
    // Retried next round, and then it succeeds.
    let again = cal.round();
    assert!(again.audit[0].succeeded() && again.audit[0].writes[0].done);
}

#[test]
fn a_dry_run_keeps_nothing() {
    let cal = Calendar::new(Policy::default());
    cal.outlook.insert(outlook_event("Dentist", 3));
    let report = cal.dry_round();
    assert_eq!(report.planned_writes, 1);
    assert!(report.audit.is_empty());
}

#[test]
fn field_texts_are_short_and_never_copy_free_text() {
    let mut e = meeting("Porada", 1);
    e.description = "secret agenda ".repeat(40);
    e.location = "x".repeat(300);
    let description = e.field_text(EventField::Description);
    assert_eq!(description, "560 characters");
    assert!(!description.contains("secret"));
    assert_eq!(e.field_text(EventField::Location).chars().count(), 80);
    assert_eq!(e.field_text(EventField::TimeZone), EMPTY_VALUE);
    assert!(e.field_text(EventField::Schedule).contains("UTC"));
    let mut c = Contact {
        surname: "Novák".into(),
        notes: "private notes".into(),
        ..Contact::default()
    };
    c.phones.push(Phone {
        kind: PhoneKind::Mobile,
        number: "+420 777 123 456".into(),
    });
    assert_eq!(c.field_text(ContactField::Surname), "Novák");
    assert_eq!(c.field_text(ContactField::Phones), "1 number");
    assert_eq!(c.field_text(ContactField::Notes), "13 characters");
}
