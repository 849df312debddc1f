//! Shared test helpers.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use graph_client::fake::{FakeGraph, GroupSeed, UserSeed};
use graph_client::{Client, RetryConfig};

/// A fixed point in time for seeded data.
pub fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("valid time")
}

/// A window around January 2030.
/// An hour-long "Meeting `n`" on day `n` (mod 28) of January 2030.
pub fn meeting(n: u32) -> sync_core::Event {
    let start = at(2030, 1, 1 + n % 28, 9, 0);
    sync_core::Event::new(
        format!("Meeting {n}"),
        sync_core::Schedule::Timed {
            start,
            end: start + chrono::Duration::hours(1),
        },
    )
}

pub fn window() -> (DateTime<Utc>, DateTime<Utc>) {
    (at(2030, 1, 1, 0, 0), at(2030, 2, 1, 0, 0))
}

/// A client for the fake with fast retries.
pub fn client(fake: &FakeGraph) -> Client {
    fake.client_builder().build().expect("client builds")
}

/// A client with a small delta page size.
pub fn client_with_pages(fake: &FakeGraph, page_size: u32) -> Client {
    fake.client_builder()
        .page_size(page_size)
        .build()
        .expect("client builds")
}

/// Fast retries for wiremock tests.
pub fn fast_retry() -> RetryConfig {
    RetryConfig::new(
        4,
        Duration::from_millis(1),
        Duration::from_millis(5),
        Duration::from_millis(50),
    )
}

/// A fake with one user (Alice) in a group "Sales".
pub struct World {
    pub fake: FakeGraph,
    pub alice: String,
    pub group: String,
}

pub async fn world() -> World {
    let fake = FakeGraph::start().await;
    let alice = fake.add_user(UserSeed::new("Alice"));
    let group = fake.add_group(GroupSeed::new("Sales").members(&[alice.as_str()]));
    World { fake, alice, group }
}

/// The Raynet link property id used by the tests.
pub const LINK: &str = "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name RaynetId";

/// Log lines written by this thread (the test's current-thread runtime runs the client and
/// the fake on it).
pub struct LogCapture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl LogCapture {
    /// Everything captured so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }
}

thread_local! {
    static CAPTURE: std::cell::RefCell<Option<std::sync::Arc<std::sync::Mutex<Vec<u8>>>>> =
        const { std::cell::RefCell::new(None) };
}

struct ThreadWriter;

impl std::io::Write for ThreadWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURE.with(|c| {
            if let Some(buffer) = c.borrow().as_ref() {
                buffer.lock().expect("log buffer").extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures this thread's logs at TRACE for `graph_client` and the tests. One global
/// subscriber serves the whole binary (scoped subscribers race with other test threads over
/// callsite interest); it writes only for threads that asked.
pub fn capture_logs() -> LogCapture {
    static INSTALLED: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    INSTALLED.get_or_init(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "graph_client=trace,integration=trace",
            ))
            .with_writer(|| ThreadWriter)
            .with_ansi(false)
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("first global subscriber");
    });
    let buffer = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    CAPTURE.with(|c| *c.borrow_mut() = Some(std::sync::Arc::clone(&buffer)));
    LogCapture(buffer)
}

/// A wiremock Graph with a token endpoint and a loud catch-all (418, never retried), and a
/// client for it (app `app-id` in tenant `contoso.test`, fast retries). `wire.rs` has its own,
/// answering the documented token example.
pub async fn mock_graph() -> (wiremock::MockServer, Client) {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, Request, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/contoso.test/oauth2/v2.0/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
            "access_token": "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.test"
        })))
        .mount(&server)
        .await;
    Mock::given(wiremock::matchers::any())
        .respond_with(|req: &Request| {
            ResponseTemplate::new(418)
                .set_body_string(format!("{} {} was not expected", req.method, req.url))
        })
        .with_priority(u8::MAX)
        .mount(&server)
        .await;
    let client = Client::builder()
        .graph_base_url(format!("{}/v1.0", server.uri()))
        .authority_base_url(server.uri())
        .credentials("contoso.test", "app-id", "secret")
        .retry(fast_retry())
        .build()
        .expect("client");
    (server, client)
}
