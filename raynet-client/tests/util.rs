//! Shared test helpers.

use raynet_client::{Client, RetryConfig};
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
