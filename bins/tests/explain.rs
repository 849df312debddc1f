//! `raynet-sync explain`: rounds of the real binary against both fakes leave an audit trail;
//! `explain` tells, in plain words and as JSON, which field of a meeting edited on both sides
//! came from where and why, and what happened to a deleted item.

use std::path::{Path, PathBuf};

use chrono::{Duration, Utc};
use raynet_sync::demo::{INSTANCE, Sandbox};
use serde_json::{Value, json};

use crate::util::{Run, TempDir, run_against_sandbox};

/// Jana's address, the member her calendar's entries are kept under.
const JANA: &str = "jana.novakova@acme.test";
/// Petr's address.
const PETR: &str = "petr.dvorak@acme.test";

/// Runs the binary against the sandbox's fakes (`util::run_against_sandbox`), logging warnings.
async fn raynet_sync(config: &Path, args: &[&str]) -> Run {
    run_against_sandbox(config, args, "warn").await
}

/// Both fakes with the sample data, and a config pointing the binary at them.
struct World {
    sandbox: Sandbox,
    config: PathBuf,
    _dir: TempDir,
}

impl World {
    async fn new(extra_sync: &str) -> Self {
        let dir = TempDir::new("explain");
        let sandbox = Sandbox::start(Utc::now()).await.unwrap();
        let state = dir.path().join("state.db");
        let config = dir.write("raynet-sync.toml", &sandbox.config_toml(&state, extra_sync));
        Self {
            sandbox,
            config,
            _dir: dir,
        }
    }

    /// One `run` of the binary, 15 minutes after the last on Raynet's clock; it must succeed.
    async fn run(&self) {
        self.sandbox.raynet.advance_clock(Duration::minutes(15));
        let ran = raynet_sync(&self.config, &["run"]).await;
        assert_eq!(ran.code, 0, "run:\n{}\n{}", ran.stdout, ran.stderr);
    }

    /// `explain <args>`.
    async fn explain(&self, args: &[&str]) -> Run {
        let mut all = vec!["explain"];
        all.extend_from_slice(args);
        let ran = raynet_sync(&self.config, &all).await;
        eprintln!(
            "$ raynet-sync {}\n{}{}",
            all.join(" "),
            ran.stdout,
            ran.stderr
        );
        ran
    }

    /// `explain --json <args>`, parsed; it must succeed.
    async fn explain_json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let ran = self.explain(&all).await;
        assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
        serde_json::from_str(ran.stdout.trim()).expect("explain --json prints one JSON object")
    }

    /// The id of `user`'s Outlook event titled `subject`.
    fn outlook_id(&self, user: &str, subject: &str) -> String {
        self.sandbox
            .graph
            .events(user)
            .iter()
            .find(|e| e["subject"] == subject)
            .and_then(|e| e["id"].as_str())
            .map_or_else(
                || panic!("no Outlook event {subject:?} of {user}"),
                ToOwned::to_owned,
            )
    }
}

/// The lines of the block of `text` (an `explain` answer) whose heading holds `heading`: the
/// heading, then one line per entry.
fn block<'a>(text: &'a str, heading: &str) -> Vec<&'a str> {
    text.split("\n\n")
        .find(|b| b.lines().next().is_some_and(|h| h.contains(heading)))
        .unwrap_or_else(|| panic!("no item {heading:?} in:\n{text}"))
        .lines()
        .collect()
}

/// The entries of `json` (an `explain --json` answer) with the rule `rule`.
fn entries_ruled<'a>(json: &'a Value, rule: &str) -> Vec<&'a Value> {
    json["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["rule"] == rule)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meeting_edited_on_both_sides_says_which_field_came_from_where_and_why() {
    let w = World::new("").await;
    let d = w.sandbox.data.clone();
    w.run().await;
    let title = "Obchodní jednání – Acme";
    let meeting = d.meetings[0];
    let outlook = w.outlook_id(&d.jana, title);
    // Outlook first: a new title and place; then Raynet, later: another place.
    assert!(w.sandbox.graph.edit_event(
        &d.jana,
        &outlook,
        &json!({"subject": "Obchodní jednání – Acme a Beta", "location": {"displayName": "Teams"}}),
    ));
    w.sandbox.raynet.advance_clock(Duration::minutes(5));
    let inst = w.sandbox.raynet.instance(INSTANCE);
    inst.edit("meeting", meeting, &json!({"meetingPlace": "Zasedačka 3"}))
        .unwrap();
    w.run().await;
    // What the sides hold: Raynet's place (later), Outlook's title (changed there only).
    let rec = inst.record("meeting", meeting).unwrap();
    assert_eq!(rec["meetingPlace"], "Zasedačka 3");
    assert_eq!(rec["title"], "Obchodní jednání – Acme a Beta");

    // By (part of) the title, in any case.
    let by_title = w.explain(&["OBCHODNÍ JEDNÁNÍ"]).await;
    assert_eq!(by_title.code, 0, "{}", by_title.stderr);
    let text = &by_title.stdout;
    let conflict = "location: both changed; Raynet's 'Zasedačka 3' kept over Outlook's 'Teams' \
                    and written to the Outlook event (policy latest-wins: Raynet's change was later)";
    let one_sided = format!(
        "the title changed in Outlook ('Obchodní jednání – Acme' → 'Obchodní jednání – Acme a \
         Beta') and was written to the Raynet meeting {meeting}"
    );
    assert!(text.contains(conflict), "{text}");
    assert!(text.contains(&one_sided), "{text}");
    assert!(
        text.contains(&format!("{JANA}: ")),
        "names the member: {text}"
    );
    assert!(
        text.contains("(changed on both sides, merged field by field)"),
        "{text}"
    );
    let created = text
        .find("new in Raynet: created the Outlook event")
        .expect("the first round's create");
    let merged = text.find(conflict).unwrap();
    assert!(created < merged, "newest last: {text}");
    let heading = format!("Raynet meeting {meeting}, Outlook event {outlook}");
    assert!(
        text.contains(&heading),
        "the heading names both ids: {text}"
    );

    // By the Raynet id (bare, or as the engine writes it), and by the Outlook id: the same
    // story.
    let by_id = w.explain(&[&meeting.to_string()]).await;
    assert_eq!(by_id.code, 0, "{}", by_id.stderr);
    let story = block(&by_id.stdout, &heading);
    assert_eq!(story.len(), 3, "two entries for this meeting: {story:#?}");
    assert!(
        story[1].contains("new in Raynet: created the Outlook event"),
        "{story:#?}"
    );
    assert!(story[2].contains(conflict), "{story:#?}");
    assert!(story[2].contains(&one_sided), "{story:#?}");
    let by_engine_id = w.explain(&[&format!("m-{meeting}")]).await;
    assert_eq!(block(&by_engine_id.stdout, &heading), story);
    let by_outlook = w.explain(&[&outlook]).await;
    assert_eq!(by_outlook.code, 0, "{}", by_outlook.stderr);
    assert_eq!(by_outlook.stdout, by_engine_id.stdout, "only this meeting");

    // For tools.
    let json = w.explain_json(&[&format!("m-{meeting}")]).await;
    assert_eq!(json["matched_by"], "id");
    let merged = entries_ruled(&json, "changed-on-both-sides");
    let [merged] = merged.as_slice() else {
        panic!("one merge: {json:#}");
    };
    assert_eq!(merged["member"], JANA);
    assert_eq!(merged["collection"], "calendar");
    assert_eq!(merged["raynet_id"], format!("m-{meeting}"));
    assert_eq!(merged["outlook_id"], outlook.as_str());
    assert_eq!(
        merged["conflicts"],
        json!([{"field": "location", "winner": "raynet", "rule": "latest"}])
    );
    let writes = merged["writes"].as_array().unwrap();
    let to_outlook = writes.iter().find(|w| w["side"] == "outlook").unwrap();
    assert_eq!(to_outlook["action"], "update");
    assert!(
        to_outlook["changes"]
            .as_array()
            .unwrap()
            .contains(&json!({"field": "location", "from": "Teams", "to": "Zasedačka 3"})),
        "{to_outlook:#}"
    );
    let to_raynet = writes.iter().find(|w| w["side"] == "raynet").unwrap();
    assert_eq!(to_raynet["done"], true);
    assert!(
        to_raynet["changes"].as_array().unwrap().contains(&json!({
            "field": "title",
            "from": "Obchodní jednání – Acme",
            "to": "Obchodní jednání – Acme a Beta"
        })),
        "{to_raynet:#}"
    );
    assert!(
        merged["explanation"]
            .as_str()
            .unwrap()
            .contains("policy latest-wins")
    );

    // Nothing known: a clear message and a non-zero exit.
    let nothing = w.explain(&["no such meeting anywhere"]).await;
    assert_eq!(
        nothing.code,
        i32::from(raynet_sync::cli::exit::FAILURE),
        "{}",
        nothing.stdout
    );
    assert!(nothing.stdout.is_empty());
    assert!(
        nothing
            .stderr
            .contains("holds nothing about \"no such meeting anywhere\""),
        "{}",
        nothing.stderr
    );
    let other_tenant = w.explain(&["--tenant", "globex", &outlook]).await;
    assert_ne!(other_tenant.code, 0, "only the tenant asked for");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_item_says_where_it_was_deleted_and_what_the_sync_did() {
    // A deletion scan every round: a Raynet deletion is seen at once.
    let w = World::new("deletion_scan_every = 1").await;
    let d = w.sandbox.data.clone();
    w.run().await;
    // Deleted in Outlook: Petr's copy of his meeting (outlook_deletes = "cancel").
    let petrs = "Logistika – roční plán";
    let petrs_copy = w.outlook_id(&d.petr, petrs);
    assert!(w.sandbox.graph.delete_event(&d.petr, &petrs_copy));
    // Deleted in Raynet: Jana's training.
    let training = "Školení CRM";
    let training_copy = w.outlook_id(&d.jana, training);
    let inst = w.sandbox.raynet.instance(INSTANCE);
    inst.remove("event", d.events[1]).unwrap();
    w.run().await;
    assert_eq!(
        inst.record("meeting", d.meetings[2]).unwrap()["status"],
        "CANCELLED"
    );
    assert!(w.sandbox.graph.event(&d.jana, &training_copy).is_none());

    let cancelled = w.explain(&[&petrs_copy]).await;
    assert_eq!(cancelled.code, 0, "{}", cancelled.stderr);
    assert!(
        cancelled.stdout.contains(&format!(
            "{PETR}: deleted in Outlook, in {PETR}'s mailbox: the sync cancelled the Raynet \
             meeting {} (status 'scheduled' → 'cancelled') and no longer linked to Outlook \
             (outlook_deletes = \"cancel\") (deletion rule)",
            d.meetings[2]
        )),
        "{}",
        cancelled.stdout
    );

    let deleted = w.explain(&["školení crm"]).await;
    assert_eq!(deleted.code, 0, "{}", deleted.stderr);
    assert!(
        deleted.stdout.contains(&format!(
            "{JANA}: deleted in Raynet (by a Raynet user; who is not recorded): the sync \
             deleted the Outlook event (deletion rule)"
        )),
        "{}",
        deleted.stdout
    );
    let json = w.explain_json(&[&format!("e-{}", d.events[1])]).await;
    let deletions = entries_ruled(&json, "deleted-in-raynet");
    let [deletion] = deletions.as_slice() else {
        panic!("one deletion: {json:#}");
    };
    assert_eq!(
        deletion["writes"],
        json!([{"side": "outlook", "action": "delete", "id": training_copy, "done": true}])
    );
    assert_eq!(deletion["error"], Value::Null);
    assert_eq!(deletion["label"], training);
}
