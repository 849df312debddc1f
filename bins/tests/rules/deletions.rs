//! Rule 5: deletions on either side.

use serde_json::json;

use super::world::*;

/// Rule 5, `outlook_deletes = "delete"`: the Raynet record is deleted.
#[tokio::test]
async fn outlook_deletes_delete_removes_the_raynet_record() {
    let w = World::new("outlook_deletes = \"delete\"\n").await;
    w.round().await;
    let (_, _, _) = w.raynet_one("Customer call – Brno");
    w.sandbox
        .graph
        .delete_event(&w.jana, &w.sandbox.data.customer_call);
    w.round().await;
    assert!(w.raynet_titled("Customer call – Brno").is_empty());
    let mut expected = jana_default_titles();
    expected.retain(|t| *t != "Customer call – Brno");
    assert_eq!(w.raynet_titles(w.jana_person()), sorted(expected));
    w.idle_round().await;
}

/// Rule 5, `outlook_deletes = "cancel"` (the default): the Raynet record is kept, CANCELLED.
#[tokio::test]
async fn outlook_deletes_cancel_keeps_the_record_cancelled() {
    let w = World::new("").await;
    w.round().await;
    // An Outlook-made item and a Raynet-made meeting, both deleted in Outlook.
    let acme = text(&w.outlook_one(&w.jana, "Obchodní jednání – Acme"), "/id");
    w.sandbox
        .graph
        .delete_event(&w.jana, &w.sandbox.data.customer_call);
    w.sandbox.graph.delete_event(&w.jana, &acme);
    w.round().await;
    let (_, _, call) = w.raynet_one("Customer call – Brno");
    assert_eq!(call["status"], "CANCELLED");
    assert_eq!(prague(&call, "scheduledFrom"), "2026-11-29 10:00");
    let meeting = w
        .inst()
        .record("meeting", w.sandbox.data.meetings[0])
        .unwrap();
    assert_eq!(meeting["status"], "CANCELLED");
    assert_eq!(meeting["title"], "Obchodní jednání – Acme");
    assert_eq!(
        w.raynet_titles(w.jana_person()),
        sorted(jana_default_titles())
    );
    // Nothing comes back to Outlook.
    assert!(
        !w.outlook_subjects(&w.jana)
            .contains(&"Customer call – Brno".to_owned())
    );
    assert!(
        !w.outlook_subjects(&w.jana)
            .contains(&"Obchodní jednání – Acme".to_owned())
    );
    w.idle_round().await;
}

/// Rule 5, `outlook_deletes = "ignore"`: the Raynet record is kept unchanged and later Raynet
/// edits do not re-create the Outlook event.
#[tokio::test]
async fn outlook_deletes_ignore_only_unlinks() {
    let w = World::new("outlook_deletes = \"ignore\"\n").await;
    w.round().await;
    let (_, id, before) = w.raynet_one("Customer call – Brno");
    w.sandbox
        .graph
        .delete_event(&w.jana, &w.sandbox.data.customer_call);
    w.round().await;
    let after = w.inst().record("event", id).unwrap();
    assert_eq!(after, before, "unchanged");
    assert_eq!(after["status"], "SCHEDULED");
    // A later Raynet edit stays in Raynet.
    w.inst()
        .edit(
            "event",
            id,
            &json!({"title": "Customer call – Brno (notes)"}),
        )
        .unwrap();
    let before_subjects = w.outlook_subjects(&w.jana);
    w.round().await;
    assert_eq!(w.outlook_subjects(&w.jana), before_subjects);
    assert!(
        !before_subjects
            .iter()
            .any(|s| s.starts_with("Customer call"))
    );
    assert_eq!(
        w.inst().record("event", id).unwrap()["title"],
        "Customer call – Brno (notes)"
    );
    w.idle_round().await;
}

/// Rule 5: a Raynet deletion deletes the Outlook event (Raynet-made and Outlook-made alike).
#[tokio::test]
async fn raynet_deletions_delete_the_outlook_event() {
    let w = World::new("").await;
    w.round().await;
    let (_, call_id, _) = w.raynet_one("Customer call – Brno");
    w.inst().remove("event", w.sandbox.data.events[1]).unwrap(); // Školení CRM
    w.inst().remove("event", call_id).unwrap();
    w.round().await;
    let subjects = w.outlook_subjects(&w.jana);
    assert_eq!(
        subjects,
        sorted(vec![
            "Dentist",
            "Kontrolní den",
            "Obchodní jednání – Acme",
            "Partner webinar",
            "Team stand-up",
            "Veletrh MSV Brno",
        ])
    );
    assert!(
        w.sandbox
            .graph
            .event(&w.jana, &w.sandbox.data.customer_call)
            .is_none()
    );
    w.idle_round().await;
}
