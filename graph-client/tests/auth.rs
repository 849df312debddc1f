//! Token endpoint and token cache.

use std::time::Duration;

use graph_client::fake::FakeGraph;
use graph_client::{Client, Credentials, Error};
use sync_secret::Secret;

use crate::util::{client, mock_graph, world};

#[test]
fn secret_is_never_in_debug() {
    let creds = Credentials::new("tenant", "app", "super-secret-value");
    let printed = format!("{creds:?}");
    assert!(!printed.contains("super-secret-value"), "{printed}");
    assert!(printed.contains("***"));
    assert_eq!(format!("{:?}", Secret::new("x")), "***");
    let builder = Client::builder().credentials("t", "a", "super-secret-value");
    assert!(!format!("{builder:?}").contains("super-secret-value"));
    let client = builder.build().expect("builds");
    assert!(!format!("{client:?}").contains("super-secret-value"));
}

#[tokio::test]
async fn wrong_secret_is_an_auth_error_without_the_secret() {
    let w = world().await;
    let client = w
        .fake
        .client_builder()
        .credentials(FakeGraph::TENANT, FakeGraph::CLIENT_ID, "wrong-secret-123")
        .build()
        .expect("builds");
    let err = client.users().get(&w.alice).await.expect_err("refused");
    assert!(
        matches!(
            err,
            Error::Auth {
                status: Some(401),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.code(), Some("invalid_client"));
    for text in [
        format!("{err}"),
        format!("{err:?}"),
        format!("{:#}", anyhow_like(&err)),
    ] {
        assert!(!text.contains("wrong-secret-123"), "{text}");
    }
}

fn anyhow_like(err: &Error) -> String {
    let mut out = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[tokio::test]
async fn token_is_cached_and_refreshed_before_expiry() {
    let w = world().await;
    w.fake.set_token_lifetime(Duration::from_secs(2));
    let client = client(&w.fake);
    client.users().get(&w.alice).await.expect("first call");
    client.users().get(&w.alice).await.expect("second call");
    assert_eq!(w.fake.request_count("token"), 1, "the token is cached");
    // The fake's token lives 2 s; the client renews at half-life, so after 2.1 s it fetches a
    // new one before calling (no 401 needed).
    tokio::time::sleep(Duration::from_millis(2100)).await;
    client.users().get(&w.alice).await.expect("third call");
    assert_eq!(w.fake.request_count("token"), 2);
    assert_eq!(
        w.fake.status_count(401),
        0,
        "refreshed before expiry, never rejected"
    );
}

#[tokio::test]
async fn a_401_refreshes_the_token_once_and_retries() {
    let w = world().await;
    let client = client(&w.fake);
    client.users().get(&w.alice).await.expect("first call");
    w.fake.expire_access_tokens();
    let user = client
        .users()
        .get(&w.alice)
        .await
        .expect("retried with a fresh token");
    assert_eq!(user.id, w.alice);
    assert_eq!(w.fake.request_count("token"), 2);
    assert_eq!(w.fake.status_count(401), 1);
}

#[tokio::test]
async fn logs_carry_spans_but_never_secrets_or_tokens() {
    let logs = crate::util::capture_logs();
    let w = world().await;
    w.fake
        .inject(graph_client::fake::Fault::throttle("0.01").on("users.get"));
    let good = client(&w.fake);
    good.users().get(&w.alice).await.expect("after one 429");
    let bad = w
        .fake
        .client_builder()
        .credentials(FakeGraph::TENANT, FakeGraph::CLIENT_ID, "wrong-secret-123")
        .build()
        .expect("builds");
    let err = bad.users().get(&w.alice).await.expect_err("refused");
    tracing::error!(error = %err, debug = ?err, "reported");

    let text = logs.text();
    assert!(text.contains("graph.request"), "{text}");
    assert!(text.contains("status=200"), "{text}");
    assert!(text.contains("attempts=2"), "{text}");
    for secret in [FakeGraph::CLIENT_SECRET, "wrong-secret-123", "eyJ0eXAi"] {
        assert!(
            !text.contains(secret),
            "`{secret}` leaked into the logs:\n{text}"
        );
    }
}

#[tokio::test]
async fn token_endpoint_failures_are_retried() {
    let w = world().await;
    w.fake
        .inject(graph_client::fake::Fault::status(503).on("token").times(2));
    let client = client(&w.fake);
    client
        .users()
        .get(&w.alice)
        .await
        .expect("third token request succeeds");
    assert_eq!(w.fake.request_count("token"), 3);
}

#[tokio::test]
async fn a_token_names_the_granted_permissions_and_a_missing_one_is_refused_until_granted() {
    let w = world().await;
    let c = client(&w.fake);
    let mut granted = c.application_permissions().await.expect("roles");
    granted.sort();
    let mut all = FakeGraph::APPLICATION_PERMISSIONS.to_vec();
    all.sort_unstable();
    assert_eq!(granted, all);

    w.fake.set_application_permissions(&["User.Read.All"]);
    assert_eq!(
        c.application_permissions().await.expect("roles"),
        ["User.Read.All"]
    );
    let err = c
        .groups()
        .search_by_display_name("", 1)
        .await
        .expect_err("403");
    assert_eq!(err.status(), Some(403), "{err:?}");
    assert!(
        format!("{err:?}").contains("Authorization_RequestDenied"),
        "{err:?}"
    );
    w.fake.set_application_permissions(&[]);
    assert!(
        c.application_permissions()
            .await
            .expect("no roles")
            .is_empty()
    );

    // Granted: the next fresh token carries it, and replaces the cached one.
    w.fake
        .set_application_permissions(&FakeGraph::APPLICATION_PERMISSIONS);
    assert_eq!(c.application_permissions().await.expect("roles").len(), 4);
    c.groups()
        .search_by_display_name("", 1)
        .await
        .expect("the fresh token may list the groups");
}

#[tokio::test]
async fn a_token_whose_claims_cannot_be_read_is_a_shape_error_after_one_fresh_token() {
    // The mock's token ("….test") is not a JWT with readable claims.
    let (server, c) = mock_graph().await;
    let err = c.application_permissions().await.expect_err("unreadable");
    assert!(matches!(err, Error::Shape { .. }), "{err:?}");
    let token_requests = server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path().ends_with("/oauth2/v2.0/token"))
        .count();
    assert_eq!(token_requests, 1, "one fresh token, no more");
}
