//! The request span, in a test binary of its own: `tracing` caches each callsite's interest
//! process-wide, and tests running in parallel threads without a subscriber can race this
//! test's thread-local subscriber out of it (seen as a flaky failure under load).
#![allow(missing_docs, clippy::unwrap_used)]

use raynet_client::fake::{DEFAULT_API_KEY, FakeRaynet, Fault, FaultKind};

fn assert_no_key(text: &str, key: &str) {
    assert!(!text.contains(key), "the API key leaked: {text}");
}

/// A shared in-memory log sink.
#[derive(Clone, Default)]
struct Sink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn each_request_gets_one_span_with_method_path_status_and_no_secret() {
    let fake = FakeRaynet::start().await;
    fake.inject(Fault::new(FaultKind::Status(503)).on("GET /person/{id}/"));
    let sink = Sink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_ansi(false)
        .with_max_level(tracing::Level::TRACE)
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    // Other tests run in parallel threads without a subscriber; make sure the
    // callsites' cached interest includes this one.
    tracing::callsite::rebuild_interest_cache();
    fake.client().persons().get(1).await.unwrap();
    drop(guard);
    let log = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    let closes: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("raynet.request") && l.contains("close"))
        .collect();
    assert_eq!(
        closes.len(),
        1,
        "one span per logical request (retries included): {log}"
    );
    let line = closes[0];
    assert!(line.contains("method=GET"), "{line}");
    assert!(line.contains("path=person/1/"), "{line}");
    assert!(line.contains("status=200"), "{line}");
    assert!(line.contains("attempts=2"), "{line}");
    assert_no_key(&log, DEFAULT_API_KEY);
    assert!(
        !log.contains("Basic "),
        "no authorization header in the log"
    );
}
