//! The API key never appears in `Debug`/`Display` of errors, the client or
//! the credentials (habit: secrets are never logged or printed).

use std::error::Error as _;
use std::fmt::Write as _;

use raynet_client::fake::{DEFAULT_API_KEY, FakeRaynet, Fault, FaultKind};
use raynet_client::{Client, Credentials, Error, ListQuery, Op};

fn all_renderings(err: &Error) -> String {
    let mut out = format!("{err}\n{err:?}\n{err:#?}\n{err:#}");
    let mut source = err.source();
    while let Some(s) = source {
        let _ = write!(out, "\n{s}\n{s:?}");
        source = s.source();
    }
    out
}

fn assert_no_key(text: &str, key: &str) {
    assert!(!text.contains(key), "the API key leaked into: {text}");
}

#[test]
fn credentials_and_client_debug_redact_the_key() {
    let key = "crm-top-secret-123";
    let creds = Credentials::new("api@acme.cz", key);
    let dbg = format!("{creds:?}");
    assert_no_key(&dbg, key);
    assert!(dbg.contains("***"), "{dbg}");
    assert!(dbg.contains("api@acme.cz"));
    let client = Client::builder()
        .base_url("http://127.0.0.1:9/api/v2/")
        .instance("acme")
        .credentials("api@acme.cz", key)
        .build()
        .unwrap();
    let dbg = format!("{client:?} {client:#?}");
    assert_no_key(&dbg, key);
    assert!(dbg.contains("***"));
}

#[tokio::test]
async fn errors_never_carry_the_key() {
    let fake = FakeRaynet::start().await;
    let key = DEFAULT_API_KEY;
    let client = fake.client();
    let mut errors = Vec::new();
    // API error envelope.
    errors.push(
        client
            .meetings()
            .list(&ListQuery::new().filter("nope", Op::Eq, "1"))
            .await
            .unwrap_err(),
    );
    // Not found.
    errors.push(client.meetings().get(42).await.unwrap_err());
    // Decode error.
    fake.inject(Fault::new(FaultKind::Malformed));
    errors.push(
        client
            .persons()
            .list_all(&ListQuery::new())
            .await
            .unwrap_err(),
    );
    // Network error: nothing listens on port 9 of loopback (discard port).
    let offline = Client::builder()
        .base_url("http://127.0.0.1:9/api/v2/")
        .instance("acme")
        .credentials("api@acme.test", key)
        .retry(raynet_client::RetryConfig::fast())
        .max_retries(0)
        .build()
        .unwrap();
    errors.push(offline.persons().get(1).await.unwrap_err());
    // Auth failure and the open breaker (the key used is the real one, the
    // user is wrong).
    let bad = fake
        .client_builder()
        .credentials("wrong@acme.test", key)
        .build()
        .unwrap();
    errors.push(bad.persons().get(1).await.unwrap_err());
    errors.push(bad.persons().get(1).await.unwrap_err());
    assert!(matches!(errors.last(), Some(Error::AuthBreakerOpen { .. })));
    for e in &errors {
        assert_no_key(&all_renderings(e), key);
    }
}
