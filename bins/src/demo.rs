//! `demo` and `sandbox`: the fake Raynet and Graph servers with sample data, and a config that
//! points at them. Everything stays on loopback; no account is needed.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use graph_client::fake::{EventSeed, FakeGraph, GroupSeed, SeriesSeed, UserSeed};
use raynet_client::fake::FakeRaynet;

use crate::config::{Config, TenantConfig};

/// The Raynet instance of the sample data.
pub const INSTANCE: &str = "acme";
/// The environment variable names the sample config reads its secrets from (the demo passes
/// them itself; `sandbox` prints them).
pub const API_KEY_VAR: &str = "RAYNET_SYNC_DEMO_API_KEY";
/// See [`API_KEY_VAR`].
pub const CLIENT_SECRET_VAR: &str = "RAYNET_SYNC_DEMO_CLIENT_SECRET";

/// Both fake servers, seeded with the sample data.
pub struct Sandbox {
    /// The fake Raynet server.
    pub raynet: FakeRaynet,
    /// The fake Graph server.
    pub graph: FakeGraph,
    /// The sample data's ids.
    pub data: SampleData,
}

/// Ids of the sample data, so that the demo can make edits between rounds.
#[derive(Clone, Debug)]
pub struct SampleData {
    /// Jana's Graph user id.
    pub jana: String,
    /// Petr's Graph user id.
    pub petr: String,
    /// Jana's Raynet person id.
    pub jana_person: u64,
    /// Petr's Raynet person id.
    pub petr_person: u64,
    /// Raynet meetings (ids) of the sample.
    pub meetings: Vec<u64>,
    /// Raynet events (ids) of the sample.
    pub events: Vec<u64>,
    /// Outlook: Jana's customer call.
    pub customer_call: String,
    /// Outlook: Jana's private appointment.
    pub private_event: String,
    /// Outlook: the weekly series' master.
    pub series: String,
    /// The day the sample is built around.
    pub today: NaiveDate,
}

impl Sandbox {
    /// Starts both fakes on any free loopback ports and seeds them.
    ///
    /// # Errors
    /// When a fake cannot start or the seed data is refused.
    pub async fn start(now: DateTime<Utc>) -> anyhow::Result<Self> {
        Self::start_on(0, 0, now).await
    }

    /// Like [`Sandbox::start`], on fixed loopback ports (`0`: any free port).
    ///
    /// # Errors
    /// When a port cannot be bound or the seed data is refused.
    pub async fn start_on(
        raynet_port: u16,
        graph_port: u16,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Self> {
        let raynet = FakeRaynet::try_start_on(raynet_port)
            .await
            .with_context(|| {
                format!("cannot start the fake Raynet server on 127.0.0.1:{raynet_port}")
            })?;
        let graph = FakeGraph::try_start_on(graph_port).await.with_context(|| {
            format!("cannot start the fake Graph server on 127.0.0.1:{graph_port}")
        })?;
        let data = seed(&raynet, &graph, now)?;
        Ok(Self {
            raynet,
            graph,
            data,
        })
    }

    /// A config file (TOML) pointing `run` at the fakes; the secrets are read from
    /// [`API_KEY_VAR`] and [`CLIENT_SECRET_VAR`].
    #[must_use]
    pub fn config_toml(&self, state_path: &Path, extra_sync: &str) -> String {
        format!(
            r#"# raynet-sync against the built-in fake servers (loopback only).
state_path = {state:?}

[[tenant]]
name = "demo"

[tenant.raynet]
instance = "{INSTANCE}"
user = "{user}"
api_key = {{ env = "{API_KEY_VAR}" }}
base_url = "{raynet}/"
time_zone = "Europe/Prague"

[tenant.microsoft]
tenant_id = "{tenant}"
client_id = "{client}"
client_secret = {{ env = "{CLIENT_SECRET_VAR}" }}
group = "Raynet Sync"
graph_base_url = "{graph}/"
authority = "{authority}/"

[tenant.sync]
mode = "both"
{extra_sync}
"#,
            state = state_path.display().to_string(),
            user = raynet_client::fake::DEFAULT_USER,
            raynet = self.raynet.base_url().trim_end_matches('/'),
            tenant = FakeGraph::TENANT,
            client = FakeGraph::CLIENT_ID,
            graph = self.graph.base_url().trim_end_matches('/'),
            authority = self.graph.authority_url().trim_end_matches('/'),
        )
    }

    /// The tenant of [`Sandbox::config_toml`], resolved (secrets supplied directly).
    ///
    /// # Errors
    /// When the generated config does not load (a bug).
    pub fn tenant(&self, state_path: &Path, extra_sync: &str) -> anyhow::Result<TenantConfig> {
        let text = self.config_toml(state_path, extra_sync);
        let env = |name: &str| match name {
            API_KEY_VAR => Ok(raynet_client::fake::DEFAULT_API_KEY.to_owned()),
            CLIENT_SECRET_VAR => Ok(FakeGraph::CLIENT_SECRET.to_owned()),
            _ => Err(std::env::VarError::NotPresent),
        };
        let config = Config::from_toml(&text, &state_path.with_extension("toml"), &env)?;
        config
            .tenants
            .into_iter()
            .next()
            .context("the sample config has no tenant")
    }
}

/// Seeds both fakes: two members with Raynet accounts (Jana, Petr), the integration user, a
/// member without a Raynet account (Eva), an owner who is not a member (Boss); Raynet
/// meetings and events (one completed, one all-day), persons and companies; Outlook events
/// (a private one, a weekly series, an invitation from outside, a customer call).
fn seed(raynet: &FakeRaynet, graph: &FakeGraph, now: DateTime<Utc>) -> anyhow::Result<SampleData> {
    let today = now.date_naive();
    let inst = raynet.instance(INSTANCE);
    let demo = inst
        .seed_demo(today)
        .map_err(|e| anyhow::anyhow!("seeding the fake Raynet: {e}"))?;
    let domain = format!("{INSTANCE}.test");
    let user = |name: &str, mail: &str| graph.add_user(UserSeed::new(name).mail(mail).upn(mail));
    let jana = user("Jana Nováková", &format!("jana.novakova@{domain}"));
    let petr = user("Petr Dvořák", &format!("petr.dvorak@{domain}"));
    let api = user("API Robot", raynet_client::fake::DEFAULT_USER);
    let eva = user("Eva Svobodová", &format!("eva.svobodova@{domain}"));
    let boss = user("Boss", &format!("boss@{domain}"));
    graph.add_group(
        GroupSeed::new("Raynet Sync")
            .members(&[&jana, &petr, &api, &eva])
            .owners(&[&boss, &jana]),
    );
    let at = |days: i64, hour: i64| {
        today.and_time(chrono::NaiveTime::MIN).and_utc()
            + Duration::days(days)
            + Duration::hours(hour)
    };
    let customer_call = graph.add_event(
        &jana,
        EventSeed::new("Customer call – Brno", at(4, 9), at(4, 10))
            .zone("Central Europe Standard Time"),
    );
    let private_event = graph.add_event(
        &jana,
        EventSeed::new("Dentist", at(1, 7), at(1, 8))
            .field("sensitivity", serde_json::json!("private"))
            .field(
                "body",
                serde_json::json!({"contentType": "text", "content": "Root canal, 2nd visit"}),
            ),
    );
    graph.add_event(
        &jana,
        EventSeed::new("Partner webinar", at(5, 13), at(5, 14))
            .organizer("events@partner.example")
            .attendee(&format!("jana.novakova@{domain}")),
    );
    let series = graph.add_series(
        &jana,
        SeriesSeed::weekly(
            "Team stand-up",
            at(1, 8),
            Duration::minutes(30),
            &[(today + Duration::days(1)).weekday_of()],
            4,
        ),
    );
    graph.add_event(
        &petr,
        EventSeed::new("Warehouse visit", at(2, 12), at(2, 14)),
    );
    Ok(SampleData {
        jana,
        petr,
        jana_person: demo.jana.person_id,
        petr_person: demo.petr.person_id,
        meetings: demo.meetings.clone(),
        events: demo.events.clone(),
        customer_call,
        private_event,
        series,
        today,
    })
}

trait WeekdayOf {
    fn weekday_of(self) -> chrono::Weekday;
}

impl WeekdayOf for NaiveDate {
    fn weekday_of(self) -> chrono::Weekday {
        chrono::Datelike::weekday(&self)
    }
}

/// A short table of one member's two calendars, for the demo's output.
#[must_use]
pub fn describe_calendars(sandbox: &Sandbox, person_id: u64, graph_user: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "  Raynet (owner person {person_id}):");
    let mut rows: Vec<String> = Vec::new();
    for entity in ["meeting", "event"] {
        for id in sandbox.raynet.instance(INSTANCE).ids(entity) {
            let Some(rec) = sandbox.raynet.instance(INSTANCE).record(entity, id) else {
                continue;
            };
            let owner = rec
                .pointer("/owner/id")
                .and_then(serde_json::Value::as_u64)
                .unwrap_or_default();
            if owner != person_id {
                continue;
            }
            rows.push(format!(
                "    {entity:<7} {:<34} {:<16} {:<10} {}",
                text(&rec, "/title"),
                text(&rec, "/scheduledFrom")
                    .chars()
                    .take(16)
                    .collect::<String>(),
                text(&rec, "/status"),
                if rec
                    .pointer("/personal")
                    .and_then(serde_json::Value::as_bool)
                    == Some(true)
                {
                    "private"
                } else {
                    ""
                }
            ));
        }
    }
    rows.sort();
    out.push_str(&rows.join("\n"));
    out.push('\n');
    let _ = writeln!(out, "  Outlook ({graph_user}):");
    let mut rows: Vec<String> = sandbox
        .graph
        .events(graph_user)
        .iter()
        .filter(|e| text(e, "/type") != "seriesMaster")
        .map(|e| {
            format!(
                "    {:<42} {:<16} {:<12} {}",
                text(e, "/subject"),
                text(e, "/start/dateTime")
                    .chars()
                    .take(16)
                    .collect::<String>(),
                text(e, "/sensitivity"),
                if e.pointer("/isCancelled")
                    .and_then(serde_json::Value::as_bool)
                    == Some(true)
                {
                    "cancelled"
                } else {
                    ""
                }
            )
        })
        .collect();
    rows.sort();
    out.push_str(&rows.join("\n"));
    out.push('\n');
    out
}

fn text(v: &serde_json::Value, pointer: &str) -> String {
    match v.pointer(pointer) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

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
    let r1 = round().await?;
    clean &= r1.is_clean();
    show("round 1: first sync (everything new)", &r1);
    println!(
        "Jana's calendars after round 1:\n{}",
        describe_calendars(&sandbox, d.jana_person, &d.jana)
    );

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
    println!(
        "Jana's calendars after round 2:\n{}",
        describe_calendars(&sandbox, d.jana_person, &d.jana)
    );

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
    let inst = sandbox.raynet.instance(INSTANCE);
    let mut records: Vec<(String, serde_json::Value)> = Vec::new();
    for entity in ["meeting", "event"] {
        for id in inst.ids(entity) {
            if let Some(r) = inst.record(entity, id) {
                if r.pointer("/owner/id").and_then(serde_json::Value::as_u64) == Some(d.jana_person)
                {
                    records.push((entity.to_owned(), r));
                }
            }
        }
    }
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
