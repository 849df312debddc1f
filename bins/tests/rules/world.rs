//! The scenarios' world: both fakes with the sample data, rounds through the real wiring, and
//! readers of what each fake holds.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone as _, Utc};
use chrono_tz::Tz;
use raynet_client::fake::FakeInstance;
use raynet_sync::demo::{INSTANCE, Sandbox};
use raynet_sync::store::SqliteStore;
use raynet_sync::wiring::{RoundOptions, TenantClients, TenantReport, sync_tenant};
use serde_json::{Value, json};

use crate::util::TempDir;

pub(super) const PRAGUE: Tz = chrono_tz::Europe::Prague;
pub(super) const LOS_ANGELES: Tz = chrono_tz::America::Los_Angeles;
pub(super) const TOKYO: Tz = chrono_tz::Asia::Tokyo;

/// A fixed "now" (Wednesday 25 November 2026, noon UTC), so that every scenario is
/// deterministic.
pub(super) fn fixed_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap()
}

/// `yyyy-mm-dd HH:MM` wall-clock time in `tz` → UTC.
pub(super) fn at(tz: Tz, local: &str) -> DateTime<Utc> {
    let naive = NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M").unwrap();
    tz.from_local_datetime(&naive)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

pub(super) fn utc(s: &str) -> DateTime<Utc> {
    at(chrono_tz::UTC, s)
}

pub(super) fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// A string field ("" when missing or null).
pub(super) fn text(v: &Value, pointer: &str) -> String {
    match v.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// A Raynet record's `scheduledFrom` / `scheduledTill` as Prague wall-clock time
/// (`yyyy-mm-dd HH:MM`).
pub(super) fn prague(rec: &Value, key: &str) -> String {
    let raw = text(rec, &format!("/{key}"));
    DateTime::parse_from_rfc3339(&raw)
        .unwrap_or_else(|e| panic!("{key} = {raw:?}: {e}"))
        .with_timezone(&PRAGUE)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// An Outlook event's `start` / `end` (read in UTC) as `yyyy-mm-dd HH:MM`.
pub(super) fn outlook_utc(ev: &Value, key: &str) -> String {
    assert_eq!(text(ev, &format!("/{key}/timeZone")), "UTC", "{ev}");
    text(ev, &format!("/{key}/dateTime"))
        .get(..16)
        .unwrap()
        .replace('T', " ")
}

pub(super) fn attendees(ev: &Value) -> Vec<String> {
    let mut v: Vec<String> = ev["attendees"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| text(a, "/emailAddress/address"))
        .collect();
    v.sort();
    v
}

/// The person ids of a Raynet record's non-owner participants.
pub(super) fn participants(rec: &Value) -> Vec<u64> {
    let mut v: Vec<u64> = rec["participants"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["owner"] != json!(true))
        .filter_map(|p| p.pointer("/person/id").and_then(Value::as_u64))
        .collect();
    v.sort_unstable();
    v
}

pub(super) fn owner(rec: &Value) -> u64 {
    rec.pointer("/owner/id").and_then(Value::as_u64).unwrap()
}

pub(super) struct World {
    pub(super) sandbox: Sandbox,
    pub(super) store: SqliteStore,
    pub(super) tenant: raynet_sync::config::TenantConfig,
    pub(super) clients: TenantClients,
    pub(super) now: DateTime<Utc>,
    pub(super) jana: String,
    pub(super) petr: String,
    pub(super) _dir: TempDir,
}

impl World {
    pub(super) async fn new(extra_sync: &str) -> Self {
        Self::at(fixed_now(), extra_sync).await
    }

    pub(super) async fn at(now: DateTime<Utc>, extra_sync: &str) -> Self {
        let dir = TempDir::new("rules");
        let sandbox = Sandbox::start(now).await.unwrap();
        let state = dir.path().join("state.db");
        let tenant = sandbox.tenant(&state, extra_sync).unwrap();
        let store = SqliteStore::open(&state).unwrap();
        let clients = TenantClients::new(&tenant).unwrap();
        Self {
            jana: sandbox.data.jana.clone(),
            petr: sandbox.data.petr.clone(),
            sandbox,
            store,
            tenant,
            clients,
            now,
            _dir: dir,
        }
    }

    /// One clean round at the world's "now".
    pub(super) async fn round(&self) -> TenantReport {
        self.round_at(self.now).await
    }

    /// One clean round at `now` (the window follows it).
    pub(super) async fn round_at(&self, now: DateTime<Utc>) -> TenantReport {
        let round = sync_tenant(
            &self.clients,
            &self.store,
            &self.tenant.sync.policy,
            RoundOptions::default(),
            now,
        )
        .await
        .unwrap();
        for r in &round.reports {
            eprint!("{r}");
        }
        assert!(round.is_clean(), "{:?}", round.member_failures);
        round
    }

    /// A round at `now` that must write nothing (the state is stable).
    pub(super) async fn idle_round_at(&self, now: DateTime<Utc>) {
        let r = self.round_at(now).await;
        let writes: usize = r.reports.iter().map(sync_core::RoundReport::writes).sum();
        assert_eq!(writes, 0, "an idle round wrote: {:?}", r.reports);
    }

    pub(super) async fn idle_round(&self) {
        self.idle_round_at(self.now).await;
    }

    pub(super) fn inst(&self) -> FakeInstance<'_> {
        self.sandbox.raynet.instance(INSTANCE)
    }

    pub(super) fn jana_person(&self) -> u64 {
        self.sandbox.data.jana_person
    }

    pub(super) fn petr_person(&self) -> u64 {
        self.sandbox.data.petr_person
    }

    /// Every Raynet calendar record as `(entity, id, record)`.
    pub(super) fn raynet_all(&self) -> Vec<(&'static str, u64, Value)> {
        let inst = self.inst();
        let mut v = Vec::new();
        for entity in ["meeting", "event"] {
            for id in inst.ids(entity) {
                v.push((entity, id, inst.record(entity, id).unwrap()));
            }
        }
        v
    }

    /// Sorted titles of the Raynet records owned by `person`.
    pub(super) fn raynet_titles(&self, person: u64) -> Vec<String> {
        let mut v: Vec<String> = self
            .raynet_all()
            .into_iter()
            .filter(|(_, _, r)| owner(r) == person)
            .map(|(_, _, r)| text(&r, "/title"))
            .collect();
        v.sort();
        v
    }

    /// The Raynet records with this title, as `(entity, id, record)`.
    pub(super) fn raynet_titled(&self, title: &str) -> Vec<(&'static str, u64, Value)> {
        self.raynet_all()
            .into_iter()
            .filter(|(_, _, r)| r["title"] == title)
            .collect()
    }

    /// The one Raynet record with this title.
    pub(super) fn raynet_one(&self, title: &str) -> (&'static str, u64, Value) {
        let mut v = self.raynet_titled(title);
        assert_eq!(v.len(), 1, "records titled {title:?}: {v:?}");
        v.remove(0)
    }

    /// The non-master events of a mailbox (series occurrences are not listed, only masters).
    pub(super) fn outlook_singles(&self, user: &str) -> Vec<Value> {
        self.sandbox
            .graph
            .events(user)
            .into_iter()
            .filter(|e| e["type"] != "seriesMaster")
            .collect()
    }

    /// Sorted subjects of a mailbox's events (series masters included once).
    pub(super) fn outlook_subjects(&self, user: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .sandbox
            .graph
            .events(user)
            .iter()
            .map(|e| text(e, "/subject"))
            .collect();
        v.sort();
        v
    }

    /// The one event of a mailbox with this subject.
    pub(super) fn outlook_one(&self, user: &str, subject: &str) -> Value {
        let v: Vec<Value> = self
            .outlook_singles(user)
            .into_iter()
            .filter(|e| e["subject"] == subject)
            .collect();
        assert_eq!(v.len(), 1, "events with subject {subject:?}: {v:?}");
        v.into_iter().next().unwrap()
    }

    /// The occurrences (and exceptions) of a series within 60 days of "now".
    pub(super) fn occurrences(&self, user: &str, master: &str) -> Vec<Value> {
        let g = &self.sandbox.graph;
        g.occurrence_ids(
            user,
            master,
            self.now - Duration::days(60),
            self.now + Duration::days(120),
        )
        .iter()
        .map(|id| g.event(user, id).unwrap())
        .collect()
    }

    /// The id of the Raynet person with this last name.
    pub(super) fn person_id(&self, last_name: &str) -> u64 {
        let inst = self.inst();
        inst.ids("person")
            .into_iter()
            .find(|id| inst.record("person", *id).unwrap()["lastName"] == last_name)
            .unwrap_or_else(|| panic!("no person {last_name}"))
    }

    pub(super) fn folder(&self, user: &str, name: &str) -> Option<String> {
        self.sandbox
            .graph
            .contact_folders(user)
            .into_iter()
            .find(|(_, n)| n == name)
            .map(|(id, _)| id)
    }

    /// The contacts of the member's "Raynet" folder.
    pub(super) fn raynet_contacts(&self, user: &str) -> Vec<Value> {
        self.folder(user, "Raynet")
            .map(|f| self.sandbox.graph.contacts(user, &f))
            .unwrap_or_default()
    }

    /// Sorted surnames of the member's "Raynet" folder.
    pub(super) fn contact_surnames(&self, user: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .raynet_contacts(user)
            .iter()
            .map(|c| text(c, "/surname"))
            .collect();
        v.sort();
        v
    }

    pub(super) fn contact(&self, user: &str, surname: &str) -> Value {
        let v: Vec<Value> = self
            .raynet_contacts(user)
            .into_iter()
            .filter(|c| c["surname"] == surname)
            .collect();
        assert_eq!(v.len(), 1, "contacts {surname:?}: {v:?}");
        v.into_iter().next().unwrap()
    }
}

/// The Raynet titles of Jana's records after a first round with the default rules.
pub(super) fn jana_default_titles() -> Vec<&'static str> {
    let mut v = vec![
        "Customer call – Brno",
        "Kontrolní den",
        "Obchodní jednání – Acme",
        "Team stand-up",
        "Team stand-up",
        "Team stand-up",
        "Team stand-up",
        "Veletrh MSV Brno",
        "Školení CRM",
    ];
    v.sort_unstable();
    v
}

pub(super) fn sorted(mut v: Vec<&str>) -> Vec<String> {
    v.sort_unstable();
    v.into_iter().map(str::to_owned).collect()
}
