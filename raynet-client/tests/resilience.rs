//! Resilience against the fake: 429s obeyed, 5xx retried (GET only), daily
//! quota, the authentication breaker, the in-flight cap, timeouts and bad bodies.

use std::time::Duration;

use futures::future::join_all;
use raynet_client::fake::{FakeRaynet, Fault, FaultKind, PersonSeed};
use raynet_client::models::{ActivityUpdate, NewActivity, Priority};
use raynet_client::{Error, ListQuery};

fn robot(fake: &FakeRaynet) -> u64 {
    fake.default_instance().ids("person")[0]
}

#[tokio::test]
async fn a_429_is_waited_out_and_retried() {
    let fake = FakeRaynet::start().await;
    fake.inject(
        Fault::new(FaultKind::TooManyRequests)
            .on("GET /person/")
            .times(2),
    );
    let persons = fake
        .client()
        .persons()
        .list_all(&ListQuery::new())
        .await
        .unwrap();
    assert_eq!(persons.len(), 1);
    assert_eq!(
        fake.requests("GET /person/"),
        3,
        "two 429s, then the answer"
    );
}

#[tokio::test]
async fn a_429_on_a_write_is_retried_without_duplicates() {
    let fake = FakeRaynet::start().await;
    fake.inject(Fault::new(FaultKind::TooManyRequests).on("PUT /meeting/"));
    let owner = robot(&fake);
    let id = fake
        .client()
        .meetings()
        .create(&NewActivity::new("M", Priority::Default, owner))
        .await
        .unwrap();
    assert_eq!(fake.requests("PUT /meeting/"), 2);
    assert_eq!(
        fake.default_instance().ids("meeting"),
        vec![id],
        "exactly one record"
    );
}

#[tokio::test]
async fn persistent_429_gives_a_typed_error() {
    let fake = FakeRaynet::start().await;
    fake.inject(
        Fault::new(FaultKind::TooManyRequests)
            .on("GET /person/")
            .times(100),
    );
    let client = fake
        .client_builder()
        .max_rate_limit_retries(2)
        .build()
        .unwrap();
    let err = client.persons().list(&ListQuery::new()).await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    assert_eq!(fake.requests("GET /person/"), 3);
}

#[tokio::test]
async fn a_5xx_is_retried_for_gets() {
    let fake = FakeRaynet::start().await;
    fake.inject(
        Fault::new(FaultKind::Status(503))
            .on("GET /person/{id}/")
            .times(2),
    );
    let p = fake.client().persons().get(1).await.unwrap();
    assert_eq!(p.id, 1);
    assert_eq!(fake.requests("GET /person/{id}/"), 3);
}

#[tokio::test]
async fn a_5xx_is_not_retried_for_writes() {
    let fake = FakeRaynet::start().await;
    let owner = robot(&fake);
    let client = fake.client();
    let id = client
        .meetings()
        .create(&NewActivity::new("M", Priority::Default, owner))
        .await
        .unwrap();
    fake.inject(Fault::new(FaultKind::Status(500)).on("POST /meeting/{id}/"));
    let mut u = ActivityUpdate::default();
    u.title = Some("x".into());
    let err = client.meetings().update(id, &u).await.unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert!(err.is_transient());
    assert_eq!(fake.requests("POST /meeting/{id}/"), 1);
}

#[tokio::test]
async fn retries_are_bounded() {
    let fake = FakeRaynet::start().await;
    fake.inject(
        Fault::new(FaultKind::Status(502))
            .on("GET /person/{id}/")
            .times(100),
    );
    let client = fake.client_builder().max_retries(2).build().unwrap();
    let err = client.persons().get(1).await.unwrap_err();
    assert_eq!(err.status(), Some(502));
    assert_eq!(
        fake.requests("GET /person/{id}/"),
        3,
        "first try + 2 retries"
    );
}

#[tokio::test]
async fn a_list_page_failing_midway_is_retried() {
    let fake = FakeRaynet::start().await;
    fake.default_instance().add_persons(250).unwrap();
    fake.inject(Fault::new(FaultKind::Status(500)).on("GET /person/").nth(3));
    let all = fake
        .client()
        .persons()
        .list_all(&ListQuery::new().limit(100))
        .await
        .unwrap();
    assert_eq!(all.len(), 251);
    assert_eq!(
        fake.requests("GET /person/"),
        4,
        "3 pages + 1 retry of the third"
    );
}

#[tokio::test]
async fn a_malformed_page_fails_the_whole_listing_naming_endpoint_and_field() {
    let fake = FakeRaynet::start().await;
    fake.default_instance().add_persons(250).unwrap();
    fake.inject(Fault::new(FaultKind::Malformed).on("GET /person/").nth(2));
    let err = fake
        .client()
        .persons()
        .list_all(&ListQuery::new().limit(100))
        .await
        .unwrap_err();
    match &err {
        Error::Decode { endpoint, path, .. } => {
            assert_eq!(endpoint, "GET /person/");
            assert_eq!(path, "data[0].id");
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    assert!(err.to_string().contains("GET /person/"), "{err}");
    assert_eq!(
        fake.requests("GET /person/"),
        2,
        "decode errors are not retried"
    );
}

#[tokio::test]
async fn a_truncated_body_is_a_decode_error() {
    let fake = FakeRaynet::start().await;
    fake.inject(Fault::new(FaultKind::Truncated).on("GET /person/{id}/"));
    let err = fake.client().persons().get(1).await.unwrap_err();
    assert!(
        matches!(err, Error::Decode { ref endpoint, .. } if endpoint == "GET /person/1/"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_slow_answer_times_out_and_is_retried() {
    let fake = FakeRaynet::start().await;
    fake.inject(Fault::new(FaultKind::Delay(Duration::from_secs(5))).on("GET /person/{id}/"));
    let client = fake
        .client_builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    assert_eq!(client.persons().get(1).await.unwrap().id, 1);
    assert_eq!(fake.requests("GET /person/{id}/"), 2);

    fake.inject(
        Fault::new(FaultKind::Delay(Duration::from_secs(5)))
            .on("GET /person/{id}/")
            .times(10),
    );
    let client = fake
        .client_builder()
        .timeout(Duration::from_millis(200))
        .max_retries(1)
        .build()
        .unwrap();
    let err = client.persons().get(1).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(err.is_transient());
}

#[tokio::test]
async fn a_bad_api_key_stops_after_exactly_one_request() {
    let fake = FakeRaynet::start().await;
    let client = fake
        .client_builder()
        .credentials(raynet_client::fake::DEFAULT_USER, "crm-wrong")
        .build()
        .unwrap();
    let err = client.persons().list(&ListQuery::new()).await.unwrap_err();
    assert!(
        matches!(err, Error::Unauthorized { status: 401, .. }),
        "{err:?}"
    );
    assert!(client.is_stopped());
    for _ in 0..30 {
        let err = client.persons().get(1).await.unwrap_err();
        assert!(matches!(err, Error::AuthBreakerOpen { .. }), "{err:?}");
    }
    // Clones share the breaker.
    assert!(
        client
            .clone()
            .meetings()
            .get(1)
            .await
            .unwrap_err()
            .is_auth()
    );
    assert_eq!(
        fake.bad_logins(),
        1,
        "only one bad login reached the server"
    );
    assert_eq!(fake.total_requests(), 1);
    assert!(!fake.is_ip_blocked());
}

#[tokio::test]
async fn the_fake_blocks_the_ip_after_twenty_bad_logins() {
    let fake = FakeRaynet::start().await;
    for k in 0..21 {
        let c = fake
            .client_builder()
            .credentials("nobody@acme.test", format!("crm-bad-{k}"))
            .build()
            .unwrap();
        assert!(c.persons().get(1).await.unwrap_err().is_auth());
    }
    assert_eq!(fake.bad_logins(), 21);
    assert!(fake.is_ip_blocked());
    let good = fake.client();
    let err = good.persons().get(1).await.unwrap_err();
    assert!(
        matches!(err, Error::Unauthorized { status: 403, .. }),
        "even good credentials are refused: {err:?}"
    );
    fake.unblock();
    assert!(fake.client().persons().get(1).await.is_ok());
}

#[tokio::test]
async fn the_daily_quota_fails_with_a_typed_error_once_spent() {
    let fake = FakeRaynet::start().await;
    fake.default_instance().set_quota(5);
    let client = fake.client();
    for _ in 0..5 {
        client.persons().get(1).await.unwrap();
    }
    let rl = client.rate_limit().unwrap();
    assert_eq!((rl.limit, rl.remaining), (Some(5), Some(0)));
    let err = client.persons().get(1).await.unwrap_err();
    let Error::QuotaExhausted { until, .. } = err else {
        panic!("{err:?}")
    };
    assert_eq!(Some(until), rl.reset, "fails until the window resets");
    assert_eq!(
        until.time(),
        chrono::NaiveTime::MIN,
        "the window resets at 00:00 UTC"
    );
    assert_eq!(
        fake.requests("GET /person/{id}/"),
        5,
        "no request sent once the quota is known to be spent"
    );
}

#[tokio::test]
async fn a_request_limit_429_is_recognised_as_the_daily_quota() {
    let fake = FakeRaynet::start().await;
    let inst = fake.default_instance();
    inst.set_quota(100);
    inst.set_quota_used(100);
    let client = fake.client();
    let err = client.persons().get(1).await.unwrap_err();
    assert!(matches!(err, Error::QuotaExhausted { .. }), "{err:?}");
    assert_eq!(err.status(), Some(429));
    assert_eq!(fake.requests("GET /person/{id}/"), 1);
}

#[tokio::test]
async fn the_in_flight_cap_is_never_exceeded() {
    let fake = FakeRaynet::start().await;
    fake.default_instance().add_persons(30).unwrap();
    fake.set_latency(Duration::from_millis(25));
    let client = fake.client();
    let calls = (1..=30u64).map(|id| {
        let c = client.clone();
        async move { c.persons().get(id).await }
    });
    let results = join_all(calls).await;
    assert!(results.iter().all(Result::is_ok));
    assert!(
        fake.max_in_flight() <= 3,
        "max in flight was {}",
        fake.max_in_flight()
    );
    assert!(fake.max_in_flight() >= 2, "the load was concurrent");
    assert_eq!(fake.concurrency_rejections(), 0);
}

#[tokio::test]
async fn the_fake_refuses_more_than_four_in_flight() {
    let fake = FakeRaynet::start().await;
    fake.set_latency(Duration::from_millis(50));
    let client = fake.client_builder().max_in_flight(8).build().unwrap();
    let calls = (0..8).map(|_| {
        let c = client.clone();
        async move { c.persons().get(1).await }
    });
    let _ = join_all(calls).await;
    assert!(
        fake.concurrency_rejections() > 0,
        "a client over the cap gets 429s"
    );
}

#[tokio::test]
async fn seeded_data_survives_faults() {
    let fake = FakeRaynet::start().await;
    let id = fake
        .default_instance()
        .add_person(PersonSeed::new("Stable"))
        .unwrap();
    fake.inject(Fault::new(FaultKind::Status(500)));
    assert_eq!(
        fake.client()
            .persons()
            .get(id)
            .await
            .unwrap()
            .last_name
            .as_deref(),
        Some("Stable")
    );
}

#[tokio::test]
async fn separate_clients_of_one_instance_share_the_cap() {
    let fake = FakeRaynet::start().await;
    fake.set_latency(Duration::from_millis(25));
    let clients: Vec<_> = (0..4).map(|_| fake.client()).collect();
    let calls = (0..24).map(|k| {
        let c = clients[k % 4].clone();
        async move { c.persons().get(1).await }
    });
    assert!(join_all(calls).await.iter().all(Result::is_ok));
    assert!(
        fake.max_in_flight() <= 3,
        "max in flight was {}",
        fake.max_in_flight()
    );
    assert_eq!(fake.concurrency_rejections(), 0);
}
