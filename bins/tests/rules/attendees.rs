//! Rule 8: attendees and the invitations Exchange sends.

use chrono::Duration;
use graph_client::fake::{EventSeed, InvitationKind};
use serde_json::json;

use super::world::*;

/// Rule 8, `attendees = "invite"` (the default): participants with an e-mail become Outlook
/// attendees and Outlook invites them; an edit that touches neither time, place, title nor
/// attendees sends no new invitation.
///
/// The fake models Graph/Exchange: any PATCH of an organiser's meeting that carries `start`,
/// `end`, `location`, `subject` or `body` mails an *update* to the kept attendees. So a
/// description-only Raynet edit is logged as one `Update` (never a new `Invite`) — that is
/// Outlook's own behaviour for a body change, not a re-invitation.
#[tokio::test]
async fn attendees_invite_invites_once_and_edits_do_not_reinvite() {
    let w = World::new("attendees = \"invite\"\n").await;
    w.round().await;
    let ev = w.outlook_one(&w.jana, "Obchodní jednání – Acme");
    let acme = text(&ev, "/id");
    assert_eq!(attendees(&ev), ["karel.svoboda@acme-stroje.cz"]);
    let log = w.sandbox.graph.invitations();
    let summary = |log: &[graph_client::fake::Invitation]| {
        let mut v: Vec<(InvitationKind, String, Vec<String>)> = log
            .iter()
            .map(|i| {
                (
                    i.kind,
                    i.subject.clone().unwrap_or_default(),
                    i.attendees.clone(),
                )
            })
            .collect();
        v.sort_by(|a, b| a.1.cmp(&b.1));
        v
    };
    let v = |s: &str| vec![s.to_owned()];
    assert_eq!(
        summary(&log),
        vec![
            (
                InvitationKind::Invite,
                "Kontrolní den".to_owned(),
                v("eva.mala@acme-stroje.cz")
            ),
            (
                InvitationKind::Invite,
                "Logistika – roční plán".to_owned(),
                v("tomas.cerny@brlog.cz")
            ),
            (
                InvitationKind::Invite,
                "Obchodní jednání – Acme".to_owned(),
                v("karel.svoboda@acme-stroje.cz")
            ),
        ]
    );
    // An idle round and an edit of a field Outlook does not hold: nothing is mailed.
    w.idle_round().await;
    let meeting = w.sandbox.data.meetings[0];
    w.inst()
        .edit("meeting", meeting, &json!({"priority": "CRITICAL"}))
        .unwrap();
    w.round().await;
    assert_eq!(w.sandbox.graph.invitations().len(), 3);
    // A description-only edit: no new invitation (Outlook mails one body update).
    w.inst()
        .edit(
            "meeting",
            meeting,
            &json!({"description": "<p>Cenová nabídka v2</p>"}),
        )
        .unwrap();
    w.round().await;
    let log = w.sandbox.graph.invitations();
    assert_eq!(log.len(), 4, "{log:?}");
    assert!(
        log.iter()
            .filter(|i| i.kind == InvitationKind::Invite)
            .count()
            == 3
    );
    assert_eq!(log[3].kind, InvitationKind::Update);
    assert_eq!(log[3].event_id, acme);
    assert_eq!(log[3].attendees, v("karel.svoboda@acme-stroje.cz"));
    // A new participant: exactly one invitation, to the new attendee only.
    let eva = w.person_id("Malá");
    w.inst()
        .edit(
            "meeting",
            meeting,
            &json!({"participants": [{"person": eva, "role": "TO"}]}),
        )
        .unwrap();
    w.round().await;
    let log = w.sandbox.graph.invitations();
    let new: Vec<_> = log[4..]
        .iter()
        .map(|i| (i.kind, i.attendees.clone()))
        .collect();
    assert_eq!(
        new,
        vec![(InvitationKind::Invite, v("eva.mala@acme-stroje.cz"))]
    );
    let ev = w.sandbox.graph.event(&w.jana, &acme).unwrap();
    assert_eq!(
        attendees(&ev),
        ["eva.mala@acme-stroje.cz", "karel.svoboda@acme-stroje.cz"]
    );
    w.idle_round().await;
    assert_eq!(w.sandbox.graph.invitations().len(), 5);
    // A time change: one update to both attendees (that edit does concern them).
    w.inst()
        .edit(
            "meeting",
            meeting,
            &json!({"scheduledFrom": "2026-11-26 12:00", "scheduledTill": "2026-11-26 13:30"}),
        )
        .unwrap();
    w.round().await;
    let log = w.sandbox.graph.invitations();
    let new: Vec<_> = log[5..]
        .iter()
        .map(|i| {
            let mut to = i.attendees.clone();
            to.sort();
            (i.kind, to)
        })
        .collect();
    assert_eq!(
        new,
        vec![(
            InvitationKind::Update,
            vec![
                "eva.mala@acme-stroje.cz".to_owned(),
                "karel.svoboda@acme-stroje.cz".to_owned()
            ]
        )]
    );
    let ev = w.sandbox.graph.event(&w.jana, &acme).unwrap();
    assert_eq!(outlook_utc(&ev, "start"), "2026-11-26 11:00");
}

/// Rule 8, `attendees = "list"`: participants are listed in the body, no attendee is added and
/// no invitation is ever logged.
#[tokio::test]
async fn attendees_list_puts_participants_in_the_body_and_sends_nothing() {
    let w = World::new("attendees = \"list\"\n").await;
    w.round().await;
    let ev = w.outlook_one(&w.jana, "Obchodní jednání – Acme");
    let acme = text(&ev, "/id");
    assert!(attendees(&ev).is_empty(), "{ev}");
    let body = text(&ev, "/body/content");
    assert!(body.starts_with("Cenová nabídka"), "{body}");
    assert!(body.contains("-- Raynet participants --"), "{body}");
    assert!(
        body.contains("Karel Svoboda <karel.svoboda@acme-stroje.cz>"),
        "{body}"
    );
    assert!(attendees(&w.outlook_one(&w.petr, "Logistika – roční plán")).is_empty());
    assert!(w.sandbox.graph.invitations().is_empty());
    // A new participant in Raynet: listed, still nothing sent; Raynet keeps both.
    let meeting = w.sandbox.data.meetings[0];
    let eva = w.person_id("Malá");
    w.inst()
        .edit(
            "meeting",
            meeting,
            &json!({"participants": [{"person": eva, "role": "TO"}]}),
        )
        .unwrap();
    w.round().await;
    let ev = w.sandbox.graph.event(&w.jana, &acme).unwrap();
    assert!(attendees(&ev).is_empty());
    let body = text(&ev, "/body/content");
    assert!(
        body.contains("Eva Malá <eva.mala@acme-stroje.cz>"),
        "{body}"
    );
    assert!(w.sandbox.graph.invitations().is_empty());
    let rec = w.inst().record("meeting", meeting).unwrap();
    assert_eq!(participants(&rec), {
        let mut v = vec![w.person_id("Svoboda"), eva];
        v.sort_unstable();
        v
    });
    // The listing never leaks back into the Raynet description.
    assert!(!text(&rec, "/description").contains("Raynet participants"));
    w.idle_round().await;
    assert!(w.sandbox.graph.invitations().is_empty());
}

/// Rule 8: Outlook attendees whose e-mail matches a Raynet person become participants of the
/// Raynet record.
#[tokio::test]
async fn outlook_attendees_link_the_record_to_matching_persons() {
    let w = World::new("").await;
    let t = utc("2026-11-30 09:00");
    w.sandbox.graph.add_event(
        &w.jana,
        EventSeed::new("Follow-up with Eva", t, t + Duration::hours(1))
            .attendee("eva.mala@acme-stroje.cz")
            .attendee("someone@unknown.example"),
    );
    w.round().await;
    let (_, _, rec) = w.raynet_one("Follow-up with Eva");
    assert_eq!(participants(&rec), vec![w.person_id("Malá")]);
    assert_eq!(owner(&rec), w.jana_person());
    w.idle_round().await;
}

/// Rule 8: ... and to that person's company.
#[tokio::test]
async fn outlook_attendees_link_the_record_to_the_persons_company() {
    let w = World::new("").await;
    let t = utc("2026-11-30 09:00");
    w.sandbox.graph.add_event(
        &w.jana,
        EventSeed::new("Follow-up with Eva", t, t + Duration::hours(1))
            .attendee("eva.mala@acme-stroje.cz"),
    );
    w.round().await;
    let (_, _, rec) = w.raynet_one("Follow-up with Eva");
    assert_eq!(participants(&rec), vec![w.person_id("Malá")]);
    assert_eq!(text(&rec, "/company/name"), "Acme Stroje a.s.", "{rec}");
}
