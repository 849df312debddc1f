//! Shared test helpers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use raynet_client::{Client, RetryConfig};
use serde_json::Value;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

pub const USER: &str = "api@raynet.cz";
pub const KEY: &str = "crm-9f8e7d6c5b4a-wire-secret";
pub const INSTANCE: &str = "acme";

/// Reads `tests/fixtures/<name>`.
pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

/// A fixture parsed as JSON.
pub fn fixture_json(name: &str) -> serde_json::Value {
    serde_json::from_str(&fixture(name)).unwrap()
}

/// `Basic base64(USER:KEY)`.
pub fn basic() -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{KEY}"))
    )
}

/// A wiremock server whose catch-all (lowest priority) answers anything
/// unexpected loudly.
pub async fn server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(|req: &Request| {
            ResponseTemplate::new(418).set_body_string(format!(
                "unexpected request: {} {} was not mocked",
                req.method, req.url
            ))
        })
        .with_priority(u8::MAX)
        .mount(&server)
        .await;
    server
}

/// A client for a wiremock server (fast retries).
pub fn client_for(server: &MockServer) -> Client {
    Client::builder()
        .base_url(format!("{}/api/v2/", server.uri()))
        .instance(INSTANCE)
        .credentials(USER, KEY)
        .retry(RetryConfig::fast())
        .build()
        .unwrap()
}

/// Matches the exact set of query pairs (order-insensitive, decoded).
pub struct ExactQuery(pub Vec<(String, String)>);

impl ExactQuery {
    pub fn new(pairs: &[(&str, &str)]) -> Self {
        ExactQuery(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }
}

impl wiremock::Match for ExactQuery {
    fn matches(&self, request: &Request) -> bool {
        let mut got: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
        let mut want = self.0.clone();
        got.sort();
        want.sort();
        got == want
    }
}

/// What the receiver saw: the token header and the body of each POST.
pub type Seen = Arc<Mutex<Vec<(Option<String>, Value)>>>;

/// A receiver on 127.0.0.1 that records every POST to `/hook`, or answers
/// 500 while `fail` is set.
pub struct Receiver {
    pub url: String,
    pub seen: Seen,
    pub fail: Arc<AtomicBool>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let seen: Seen = Arc::default();
        let fail = Arc::new(AtomicBool::new(false));
        let (s, f) = (Arc::clone(&seen), Arc::clone(&fail));
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let (s, f) = (Arc::clone(&s), Arc::clone(&f));
                async move {
                    if f.load(Ordering::SeqCst) {
                        return StatusCode::INTERNAL_SERVER_ERROR;
                    }
                    let token = headers
                        .get("x-raynetcrm-token")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    s.lock()
                        .unwrap()
                        .push((token, serde_json::from_slice(&body).unwrap()));
                    StatusCode::OK
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { url, seen, fail }
    }

    pub fn events(&self) -> Vec<Value> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

/// Waits (up to 10 s) until `cond` holds.
pub async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
