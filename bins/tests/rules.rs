//! The calendar and contact rules of DESIGN §4–§6, end to end against both fake servers.

use chrono::{DateTime, Duration, TimeZone as _, Utc};
use raynet_sync::demo::{INSTANCE, Sandbox};
use raynet_sync::store::SqliteStore;
use raynet_sync::wiring::{RoundOptions, TenantClients, TenantRound, sync_tenant};
use serde_json::{Value, json};

use crate::util::TempDir;

/// A fixed "now" (a Wednesday), so that every scenario is deterministic.
fn fixed_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap()
}

struct World {
    sandbox: Sandbox,
    store: SqliteStore,
    tenant: raynet_sync::config::TenantConfig,
    clients: TenantClients,
    now: DateTime<Utc>,
    _dir: TempDir,
}

impl World {
    async fn new(extra_sync: &str) -> Self {
        Self::at(fixed_now(), extra_sync).await
    }

    async fn at(now: DateTime<Utc>, extra_sync: &str) -> Self {
        let dir = TempDir::new("rules");
        let sandbox = Sandbox::start(now).await.unwrap();
        let state = dir.path().join("state.db");
        let tenant = sandbox.tenant(&state, extra_sync).unwrap();
        let store = SqliteStore::open(&state).unwrap();
        let clients = TenantClients::new(&tenant).unwrap();
        Self {
            sandbox,
            store,
            tenant,
            clients,
            now,
            _dir: dir,
        }
    }

    async fn round(&self) -> TenantRound {
        self.round_at(self.now).await
    }

    async fn round_at(&self, now: DateTime<Utc>) -> TenantRound {
        let round = sync_tenant(
            &self.tenant,
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
        assert!(round.is_clean(), "{:?}", round.member_errors);
        round
    }
}

#[tokio::test]
async fn probe() {
    let w = World::new("private_events = \"standard\"\n").await;
    w.round().await;
    let inst = w.sandbox.raynet.instance(INSTANCE);
    for entity in ["meeting", "event"] {
        for id in inst.ids(entity) {
            eprintln!("{entity} {id}: {}", inst.record(entity, id).unwrap());
        }
    }
    for e in w.sandbox.graph.events(&w.sandbox.data.jana) {
        eprintln!("outlook: {e}");
    }
    eprintln!("{:?}", w.sandbox.graph.invitations());
    let _ = (Duration::days(1), json!({}), Value::Null);
    panic!("probe");
}
