//! The status page: the admin token (401 without it), and the page in a real headless browser
//! (Debian's `chromium` driven through `chromedriver` over the W3C WebDriver protocol) against
//! the real `serve` and both fakes — every member with the right freshness, a failing member's
//! error and advice. `UPDATE_SCREENSHOT=1` writes the page's screenshot to
//! `docs/status-page.png` (the README shows it).
//!
//! The browser test is skipped with a message where no browser is installed, except under
//! `CI=true`, where that fails (`.ci/run` installs `chromium` and `chromium-driver`).

use std::io::Write as _;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use chrono::Utc;
use raynet_sync::demo::Sandbox;
use raynet_sync::observe::admin::{Admin, serve};
use raynet_sync::store::{ServiceStore, SqliteStore};
use serde_json::{Value, json};
use sync_secret::Secret;

use crate::util::{KillOnDrop, TempDir, free_port, spawn_against_sandbox};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_and_metrics_need_the_token_when_one_is_set() {
    let dir = TempDir::new("page-token");
    let store: Arc<dyn ServiceStore> =
        Arc::new(SqliteStore::open(&dir.path().join("state.db")).unwrap());
    let admin = Arc::new(Admin {
        store,
        tenants: Vec::new(),
        tenant_names: vec!["acme".into()],
        token: Some(Secret::new("admin-token-123")),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, admin, async {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();
    for path in ["/", "/metrics"] {
        let no = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(no.status(), 401, "{path} without the token");
        let body = no.text().await.unwrap();
        assert!(!body.contains("admin-token-123"), "{body}");
        let wrong = http
            .get(format!("{base}{path}"))
            .bearer_auth("admin-token-124")
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 401, "{path} with a wrong token");
        let yes = http
            .get(format!("{base}{path}"))
            .bearer_auth("admin-token-123")
            .send()
            .await
            .unwrap();
        assert_eq!(yes.status(), 200, "{path} with the token");
    }
    let page = http
        .get(format!("{base}/"))
        .bearer_auth("admin-token-123")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("raynet-sync status"), "{page}");
    // Health needs no token (an orchestrator probes it).
    let health = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

/// A minimal W3C WebDriver client: enough to load a page, find elements, read them, and take
/// a screenshot.
struct WebDriver {
    http: reqwest::Client,
    base: String,
    session: String,
}

/// The W3C key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl WebDriver {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut req = self.http.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let answer: Value = req.send().await.unwrap().json().await.unwrap();
        answer["value"].clone()
    }

    async fn open(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    async fn find_all(&self, css: &str) -> Vec<String> {
        let found = self
            .call(
                reqwest::Method::POST,
                "/elements",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        found
            .as_array()
            .unwrap_or(&Vec::new())
            .iter()
            .filter_map(|e| e[ELEMENT].as_str().map(str::to_owned))
            .collect()
    }

    async fn attribute(&self, element: &str, name: &str) -> Option<String> {
        self.call(
            reqwest::Method::GET,
            &format!("/element/{element}/attribute/{name}"),
            None,
        )
        .await
        .as_str()
        .map(str::to_owned)
    }

    async fn text(&self, element: &str) -> String {
        self.call(
            reqwest::Method::GET,
            &format!("/element/{element}/text"),
            None,
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    async fn screenshot(&self) -> Vec<u8> {
        let b64 = self.call(reqwest::Method::GET, "/screenshot", None).await;
        base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap_or_default())
            .unwrap()
    }

    async fn quit(&self) {
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.base, self.session))
            .send()
            .await;
    }
}

/// Whether the page at `url` shows `needle` within `tries` fifths of a second.
async fn page_shows(http: &reqwest::Client, url: &str, needle: &str, tries: u32) -> bool {
    for _ in 0..tries {
        if let Ok(r) = http.get(url).send().await {
            if r.text().await.is_ok_and(|t| t.contains(needle)) {
                return true;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

/// Debian's chromium and its driver, or `None` (after saying so) where they are not installed
/// outside CI.
fn browser() -> Option<(String, String)> {
    let find = |names: &[&str]| {
        names
            .iter()
            .map(std::path::PathBuf::from)
            .find(|p| p.exists())
            .map(|p| p.display().to_string())
    };
    let chromium = find(&["/usr/bin/chromium", "/usr/bin/chromium-browser"]);
    let driver = find(&["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]);
    if let (Some(c), Some(d)) = (chromium, driver) {
        return Some((c, d));
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true and no chromium/chromedriver: install the Debian packages chromium and chromium-driver"
    );
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED the status page's browser test: no /usr/bin/chromium and /usr/bin/chromedriver (apt-get install chromium chromium-driver)"
    );
    None
}

async fn start_driver(chromium: &str, driver: &str) -> (Child, WebDriver) {
    let port = free_port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if let Ok(r) = http.get(format!("{base}/status")).send().await {
            if r.status().is_success() {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let caps = json!({ "capabilities": { "alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1100,1400"]
        }
    }}});
    let answer: Value = http
        .post(format!("{base}/session"))
        .json(&caps)
        .send()
        .await
        .expect("create a WebDriver session")
        .json()
        .await
        .unwrap();
    let session = answer["value"]["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("no session: {answer}"))
        .to_owned();
    (
        child,
        WebDriver {
            http,
            base,
            session,
        },
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_real_browser_the_page_shows_every_member_fresh_and_a_failing_members_advice() {
    let Some((chromium, driver_path)) = browser() else {
        return;
    };
    let dir = TempDir::new("page-browser");
    let sandbox = Sandbox::start(Utc::now()).await.unwrap();
    let d = sandbox.data.clone();
    // Petr's mailbox refuses the app: his rounds fail with "access denied".
    sandbox.graph.inject(
        graph_client::fake::Fault::status(403)
            .for_mailbox(&d.petr)
            .times(100_000),
    );
    let (serve_port, admin_port) = (free_port(), free_port());
    let config = dir.write(
        "raynet-sync.toml",
        &format!(
            "{}{}\n[admin]\nbind = \"127.0.0.1:{admin_port}\"\n",
            sandbox.config_toml(&dir.path().join("state.db"), ""),
            Sandbox::serve_section(serve_port)
        ),
    );
    let serve_child = KillOnDrop(spawn_against_sandbox(
        &config,
        &["serve"],
        "warn",
        Stdio::null(),
    ));
    let page_url = format!("http://127.0.0.1:{admin_port}/");
    // The page answers once serve runs; its first round has run once a row is fresh.
    let http = reqwest::Client::new();
    let ready = page_shows(&http, &page_url, "data-fresh-seconds", 300).await;
    assert!(ready, "the page never showed a fresh member");
    // A change in Raynet crosses through push: the page shows its latency.
    let inst = sandbox.raynet.instance(raynet_sync::demo::INSTANCE);
    inst.edit(
        "meeting",
        d.meetings[0],
        &json!({ "meetingPlace": "Zasedačka 7" }),
    )
    .unwrap();
    let latency = page_shows(&http, &page_url, "p50 / p95 of the last", 150).await;
    assert!(latency, "the page never showed a push latency");
    // Nothing secret on the page: not the API key, the client secret or the push secrets.
    let html = http
        .get(&page_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for secret in [
        raynet_client::fake::DEFAULT_API_KEY,
        graph_client::fake::FakeGraph::CLIENT_SECRET,
    ] {
        assert!(!html.contains(secret), "a secret on the page");
    }
    let state = SqliteStore::open(&dir.path().join("state.db")).unwrap();
    for name in ["client_state", "webhook_token"] {
        let kept = state.push_secret("demo", name).unwrap();
        assert!(!html.contains(kept.expose()), "the {name} on the page");
    }

    let (driver_child, browser) = start_driver(&chromium, &driver_path).await;
    let driver_child = KillOnDrop(driver_child);
    browser.open(&page_url).await;
    let rows = browser.find_all("tr[data-member]").await;
    let mut seen = Vec::new();
    for row in &rows {
        let member = browser
            .attribute(row, "data-member")
            .await
            .unwrap_or_default();
        let collection = browser
            .attribute(row, "data-collection")
            .await
            .unwrap_or_default();
        let state = browser
            .attribute(row, "data-state")
            .await
            .unwrap_or_default();
        let fresh = browser.attribute(row, "data-fresh-seconds").await;
        let text = browser.text(row).await;
        seen.push((member, collection, state, fresh, text));
    }
    let tiles_text = {
        let mut all = String::new();
        for tile in browser.find_all("div.tile").await {
            all.push_str(&browser.text(&tile).await);
            all.push('\n');
        }
        all
    };
    let shot = browser.screenshot().await;
    browser.quit().await;
    drop(driver_child);
    drop(serve_child);

    assert!(shot.starts_with(b"\x89PNG"), "a PNG screenshot");
    if std::env::var("UPDATE_SCREENSHOT").as_deref() == Ok("1") {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/status-page.png");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &shot).unwrap();
    }
    // Every served member, both collections.
    let members: std::collections::BTreeSet<&str> = seen.iter().map(|r| r.0.as_str()).collect();
    assert!(
        members.iter().any(|m| m.starts_with("jana"))
            && members.iter().any(|m| m.starts_with("petr")),
        "members shown: {members:?}"
    );
    assert_eq!(
        seen.len(),
        members.len() * 2,
        "calendar and contacts per member: {seen:?}"
    );
    // Jana synced a moment ago: fresh, with the freshness in words.
    for (member, collection, state, fresh, text) in seen.iter().filter(|r| r.0.starts_with("jana"))
    {
        assert_eq!(state, "ok", "{member} {collection}: {text}");
        let seconds: i64 = fresh.as_deref().unwrap_or("-1").parse().unwrap();
        assert!(
            (0..300).contains(&seconds),
            "{member} {collection}: {seconds} s"
        );
        assert!(text.contains(" ago"), "{text}");
    }
    // The push latency of Jana's change, in seconds.
    let tiles = &tiles_text;
    assert!(
        tiles.contains("p50 / p95 of the last 1,") || tiles.contains("p50 / p95 of the last 1 "),
        "one change's latency: {tiles}"
    );
    // Petr's mailbox refuses the app: failing, the error in words and what to do.
    for (member, collection, state, _, text) in seen.iter().filter(|r| r.0.starts_with("petr")) {
        assert_eq!(state, "failing", "{member} {collection}: {text}");
        assert!(
            text.to_ascii_lowercase().contains("permission"),
            "the advice for an access denied: {text}"
        );
    }
}
