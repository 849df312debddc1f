//! The demo itself: sync rounds against the seeded fakes, with edits on both sides in between,
//! printing what happened and what the rules did.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use chrono::{Duration, Utc};
use graph_client::fake::EventSeed;

use super::sample::INSTANCE;
use super::sandbox::{Sandbox, describe_calendars, owned_activities, text};

/// Runs the demo: sync rounds against the seeded fakes, with edits on both sides in between,
/// printing what happened. Returns whether every round was clean.
///
/// # Errors
/// When the fakes cannot start or a round cannot run at all.
pub async fn run_demo(state_dir: &Path) -> anyhow::Result<bool> {
    use crate::wiring::{RoundOptions, TenantClients, sync_tenant};

    let now = Utc::now();
    let sandbox = Sandbox::start(now).await?;
    std::fs::create_dir_all(state_dir)
        .with_context(|| format!("cannot create {}", state_dir.display()))?;
    let state_path = state_dir.join("demo.db");
    let _ = std::fs::remove_file(&state_path);
    // The demo shows the time-blocker mode for private events (the default is "skip").
    let tenant = sandbox.tenant(&state_path, "private_events = \"time-blocker\"\n")?;
    let store = crate::store::SqliteStore::open(&state_path)?;
    let clients = TenantClients::new(&tenant)?;
    let policy = tenant.sync.policy.clone();
    let d = sandbox.data.clone();
    let mut clean = true;

    println!(
        "raynet-sync demo: fake Raynet at {} and fake Microsoft Graph at {} (loopback only)",
        sandbox.raynet.base_url(),
        sandbox.graph.base_url()
    );
    println!("state file: {}", state_path.display());
    println!(
        "rules: private_events = time-blocker, completed_events = sync, outlook_deletes = cancel, invited_events = skip\n"
    );

    let show = |title: &str, round: &crate::wiring::TenantReport| {
        println!("== {title}");
        for f in &round.findings {
            println!("  note: {f}");
        }
        for e in &round.member_failures {
            println!("  error: {e}");
        }
        for r in &round.reports {
            for line in r.to_string().lines() {
                println!("  {line}");
            }
        }
        println!();
    };

    let round = || sync_tenant(&clients, &store, &policy, RoundOptions::default(), now);
    let calendars_after = |round: u32| {
        println!(
            "Jana's calendars after round {round}:\n{}",
            describe_calendars(&sandbox, d.jana_person, &d.jana)
        );
    };
    let r1 = round().await?;
    clean &= r1.is_clean();
    show("round 1: first sync (everything new)", &r1);
    calendars_after(1);

    println!("== edits between rounds");
    let inst = sandbox.raynet.instance(INSTANCE);
    if let Some(&m) = d.meetings.first() {
        inst.edit(
            "meeting",
            m,
            &serde_json::json!({"meetingPlace": "Ostrava, zasedačka 3"}),
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        println!("  Raynet: the place of meeting {m} changed");
    }
    if let Some(&e) = d.events.get(1) {
        inst.remove("event", e)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        println!("  Raynet: event {e} deleted (its Outlook copy goes too)");
    }
    sandbox.graph.edit_event(
        &d.jana,
        &d.customer_call,
        &serde_json::json!({"location": {"displayName": "Teams"}}),
    );
    println!("  Outlook: the customer call moved to Teams");
    sandbox.graph.edit_event(&d.jana, &d.private_event, &serde_json::json!({"subject": "Dentist (moved)", "start": {"dateTime": format!("{}T09:00:00", d.today + Duration::days(1)), "timeZone": "UTC"}, "end": {"dateTime": format!("{}T10:00:00", d.today + Duration::days(1)), "timeZone": "UTC"}}));
    println!(
        "  Outlook: the private appointment moved and got a new title (Raynet must still see only a time blocker)"
    );
    let window_end = now + Duration::days(60);
    if let Some(occ) = sandbox
        .graph
        .occurrence_ids(&d.jana, &d.series, now - Duration::days(1), window_end)
        .get(1)
    {
        sandbox.graph.delete_event(&d.jana, occ);
        println!("  Outlook: the 2nd occurrence of the weekly stand-up was cancelled");
    }
    let lunch = now.date_naive().and_time(chrono::NaiveTime::MIN).and_utc()
        + Duration::days(3)
        + Duration::hours(11);
    sandbox.graph.add_event(
        &d.jana,
        EventSeed::new(
            "Lunch with Karel Svoboda",
            lunch,
            lunch + Duration::hours(1),
        ),
    );
    println!("  Outlook: a new appointment \"Lunch with Karel Svoboda\"\n");

    let r2 = round().await?;
    clean &= r2.is_clean();
    show("round 2: the edits cross over", &r2);
    calendars_after(2);

    println!("{}", rules_at_work(&sandbox));

    let r3 = round().await?;
    clean &= r3.is_clean();
    let writes: usize = r3.reports.iter().map(sync_core::RoundReport::writes).sum();
    show(&format!("round 3: nothing changed ({writes} writes)"), &r3);
    println!(
        "requests: Raynet {} in all; Graph {} in all. Invitations Outlook would have sent: {}",
        sandbox.raynet.total_requests(),
        sandbox.graph.requests().len(),
        sandbox.graph.invitations().len()
    );
    Ok(clean)
}

/// What the rules did, read back from both fakes (so the demo reports what really happened).
fn rules_at_work(sandbox: &Sandbox) -> String {
    let d = &sandbox.data;
    let records = owned_activities(sandbox, d.jana_person);
    let outlook = sandbox.graph.events(&d.jana);
    let in_outlook = |subject: &str| outlook.iter().any(|e| text(e, "/subject") == subject);
    let mut out = String::from("== the rules at work (read back from both servers)\n");
    // Private: the Outlook appointment reached Raynet as a time blocker only.
    let blocker = records
        .iter()
        .find(|(_, r)| text(r, "/title") == sync_core::TIME_BLOCKER_TITLE);
    let leaked = records.iter().any(|(_, r)| {
        text(r, "/title").contains("Dentist") || text(r, "/description").contains("Root canal")
    });
    let _ = writeln!(
        out,
        "  private (time-blocker): Outlook \"Dentist (moved)\" is in Raynet as {} at {}; its title or body leaked: {}",
        blocker.map_or("nothing".into(), |(_, r)| format!(
            "{:?}",
            text(r, "/title")
        )),
        blocker.map_or(String::new(), |(_, r)| text(r, "/scheduledFrom")),
        if leaked { "YES" } else { "no" }
    );
    // Completed: the completed Raynet meeting is still in Outlook (completed_events = sync).
    let completed = records
        .iter()
        .find(|(_, r)| text(r, "/status") == "COMPLETED");
    let _ = writeln!(
        out,
        "  completed (sync): Raynet meeting {} is COMPLETED and in Outlook: {}",
        completed.map_or("-".into(), |(_, r)| format!("{:?}", text(r, "/title"))),
        completed.is_some_and(|(_, r)| in_outlook(&text(r, "/title")))
    );
    // Recurring: one Raynet record per occurrence; the cancelled one is kept as CANCELLED.
    let standups: Vec<&serde_json::Value> = records
        .iter()
        .filter(|(_, r)| text(r, "/title") == "Team stand-up")
        .map(|(_, r)| r)
        .collect();
    let cancelled = standups
        .iter()
        .filter(|r| text(r, "/status") == "CANCELLED")
        .count();
    let _ = writeln!(
        out,
        "  recurring: the weekly stand-up is {} Raynet records (one per occurrence); the occurrence cancelled in Outlook is {} CANCELLED record(s) (outlook_deletes = cancel)",
        standups.len(),
        cancelled
    );
    // Deletion: the event deleted in Raynet is gone from Outlook.
    let _ = writeln!(
        out,
        "  deletion: the Raynet event \"Školení CRM\" was deleted; still in Outlook: {}",
        in_outlook("Školení CRM")
    );
    // Invited: the outside invitation stayed out of Raynet.
    let _ = writeln!(
        out,
        "  invited (skip): \"Partner webinar\" (organised outside) in Raynet: {}",
        records
            .iter()
            .any(|(_, r)| text(r, "/title") == "Partner webinar")
    );
    out
}
