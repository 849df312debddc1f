//! Rule 10: contacts, one way.

use raynet_client::fake::PersonSeed;
use serde_json::json;

use super::world::*;

/// Rule 10: contacts flow one way into the dedicated folder; an Outlook edit or deletion of a
/// synced contact is restored from Raynet; contacts outside the folder are never touched.
#[tokio::test]
async fn contacts_flow_one_way_and_outlook_changes_are_restored() {
    let w = World::new("").await;
    let g = &w.sandbox.graph;
    let personal = g.add_contact_folder(&w.jana, "Personal");
    g.add_contact(
        &w.jana,
        &personal,
        json!({"givenName": "Mom", "surname": "Nováková"}),
    );
    w.round().await;
    let all = sorted(vec![
        "Dvořák",
        "Horáková",
        "Malá",
        "Nováková",
        "Robot",
        "Svoboda",
        "Černý",
    ]);
    assert_eq!(w.contact_surnames(&w.jana), all);
    assert_eq!(w.contact_surnames(&w.petr), all);
    let karel = w.contact(&w.jana, "Svoboda");
    assert_eq!(karel["givenName"], "Karel");
    assert_eq!(karel["companyName"], "Acme Stroje a.s.");
    assert_eq!(karel["jobTitle"], "obchodní ředitel");
    // Outlook edits and deletes synced contacts, and adds one of its own into the folder.
    let folder = w.folder(&w.jana, "Raynet").unwrap();
    g.edit_contact(
        &w.jana,
        &text(&karel, "/id"),
        &json!({"jobTitle": "CEO", "givenName": "Karlík"}),
    );
    g.delete_contact(&w.jana, &text(&w.contact(&w.jana, "Malá"), "/id"));
    g.add_contact(
        &w.jana,
        &folder,
        json!({"givenName": "Own", "surname": "Zeman"}),
    );
    w.round().await;
    let karel = w.contact(&w.jana, "Svoboda");
    assert_eq!(karel["givenName"], "Karel");
    assert_eq!(karel["jobTitle"], "obchodní ředitel");
    let mut with_own = all.clone();
    with_own.push("Zeman".to_owned());
    with_own.sort();
    assert_eq!(w.contact_surnames(&w.jana), with_own);
    // Nothing flows back to Raynet.
    let karel_rec = w.inst().record("person", w.person_id("Svoboda")).unwrap();
    assert_eq!(karel_rec["firstName"], "Karel");
    assert!(
        w.inst()
            .ids("person")
            .iter()
            .all(|id| { w.inst().record("person", *id).unwrap()["lastName"] != "Zeman" })
    );
    // The contact outside the folder is untouched.
    let mine = g.contacts(&w.jana, &personal);
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["givenName"], "Mom");
    // A Raynet edit flows to every member.
    w.inst()
        .edit(
            "person",
            w.person_id("Černý"),
            &json!({"firstName": "Tomáš Jan"}),
        )
        .unwrap();
    w.round().await;
    assert_eq!(w.contact(&w.jana, "Černý")["givenName"], "Tomáš Jan");
    assert_eq!(w.contact(&w.petr, "Černý")["givenName"], "Tomáš Jan");
    w.idle_round().await;
}

/// Rule 10, `contacts_filter = "owned"`: each member gets the persons they own.
#[tokio::test]
async fn contacts_filter_owned() {
    let w = World::new("contacts_filter = \"owned\"\n").await;
    w.round().await;
    assert_eq!(w.contact_surnames(&w.jana), sorted(vec!["Malá", "Svoboda"]));
    assert_eq!(w.contact_surnames(&w.petr), sorted(vec!["Černý"]));
    w.idle_round().await;
}

/// Rule 10, `contacts_filter = "tag:<name>"`: only persons with the tag; a person losing the
/// tag leaves the folder, one gaining it joins.
#[tokio::test]
async fn contacts_filter_tag() {
    let w = World::new("contacts_filter = \"tag:vip\"\n").await;
    w.inst()
        .edit("person", w.person_id("Horáková"), &json!({"tags": ["vip"]}))
        .unwrap();
    w.inst()
        .add_person(
            PersonSeed::new("Veselý")
                .first_name("Jan")
                .email("jan.vesely@example.cz")
                .tags(&["vip", "partner"]),
        )
        .unwrap();
    w.round().await;
    assert_eq!(
        w.contact_surnames(&w.jana),
        sorted(vec!["Horáková", "Veselý"])
    );
    assert_eq!(
        w.contact_surnames(&w.petr),
        sorted(vec!["Horáková", "Veselý"])
    );
    // A person gaining the tag joins.
    w.inst()
        .edit("person", w.person_id("Svoboda"), &json!({"tags": ["vip"]}))
        .unwrap();
    w.round().await;
    assert_eq!(
        w.contact_surnames(&w.jana),
        sorted(vec!["Horáková", "Svoboda", "Veselý"])
    );
    w.idle_round().await;
}

/// Rule 10: a person who no longer passes the filter (the tag removed) leaves the folder —
/// the folder holds exactly the persons the filter selects.
#[tokio::test]
async fn contacts_leaving_the_filter_leave_the_folder() {
    let w = World::new("contacts_filter = \"tag:vip\"\n").await;
    for last in ["Horáková", "Svoboda"] {
        w.inst()
            .edit("person", w.person_id(last), &json!({"tags": ["vip"]}))
            .unwrap();
    }
    w.round().await;
    assert_eq!(
        w.contact_surnames(&w.jana),
        sorted(vec!["Horáková", "Svoboda"])
    );
    w.inst()
        .edit("person", w.person_id("Horáková"), &json!({"tags": []}))
        .unwrap();
    w.round().await;
    w.round().await;
    assert_eq!(w.contact_surnames(&w.jana), sorted(vec!["Svoboda"]));
    assert_eq!(w.contact_surnames(&w.petr), sorted(vec!["Svoboda"]));
}
