//! Throttling, per-mailbox concurrency, $batch and injected faults.

use std::time::Duration;

use futures::future::join_all;
use graph_client::Error;
use graph_client::client::models::{BatchRequest, Contact, DateTimeTimeZone, Event};
use graph_client::fake::{EventSeed, Fault};

use crate::util::{at, client, window, world};

fn event(i: u32) -> Event {
    let mut e = Event::default();
    e.subject = Some(format!("Meeting {i}"));
    e.start = Some(DateTimeTimeZone::utc(
        at(2030, 1, 10, 9, 0) + chrono::Duration::hours(i64::from(i)),
    ));
    e.end = Some(DateTimeTimeZone::utc(
        at(2030, 1, 10, 10, 0) + chrono::Duration::hours(i64::from(i)),
    ));
    e
}

#[tokio::test]
async fn throttling_is_obeyed_and_no_request_is_lost() {
    let w = world().await;
    w.fake.set_rate_limit(5, Duration::from_millis(150));
    w.fake.set_retry_after("0.05");
    let client = client(&w.fake);
    let events = client.events(&w.alice);
    let results = join_all((0..15).map(|i| {
        let e = event(i);
        async move { events.create(&e, &format!("txn-{i}")).await }
    }))
    .await;
    for r in &results {
        assert!(r.is_ok(), "{r:?}");
    }
    assert!(w.fake.status_count(429) > 0, "the rate limit was hit");
    assert_eq!(
        w.fake.events(&w.alice).len(),
        15,
        "every create landed exactly once"
    );
}

#[tokio::test]
async fn at_most_four_requests_in_flight_per_mailbox() {
    let w = world().await;
    let id = w.fake.add_event(
        &w.alice,
        EventSeed::new("Slow", at(2030, 1, 10, 9, 0), at(2030, 1, 10, 10, 0)),
    );
    w.fake.inject(
        Fault::delay(Duration::from_millis(40))
            .on("events.get")
            .times(12),
    );
    let client = client(&w.fake);
    let events = client.events(&w.alice);
    let results = join_all((0..12).map(|_| events.get(&id))).await;
    assert!(results.iter().all(Result::is_ok));
    assert!(
        w.fake.max_in_flight(&w.alice) <= 4,
        "max in flight {}",
        w.fake.max_in_flight(&w.alice)
    );
    assert_eq!(
        w.fake.status_count(429),
        0,
        "the client never trips MailboxConcurrency"
    );
}

#[tokio::test]
async fn server_concurrency_limit_answers_429_which_the_client_obeys() {
    let w = world().await;
    let id = w.fake.add_event(
        &w.alice,
        EventSeed::new("Slow", at(2030, 1, 10, 9, 0), at(2030, 1, 10, 10, 0)),
    );
    w.fake.set_concurrency_limit(2);
    w.fake.inject(
        Fault::delay(Duration::from_millis(100))
            .on("events.get")
            .times(8),
    );
    let client = client(&w.fake);
    let events = client.events(&w.alice);
    let results = join_all((0..8).map(|_| events.get(&id))).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert!(w.fake.status_count(429) > 0);
}

#[tokio::test]
async fn batch_of_twenty_retries_only_the_throttled_request() {
    let w = world().await;
    w.fake.inject(
        Fault::throttle("0.02")
            .on("events.create")
            .for_mailbox(&w.alice),
    );
    let client = client(&w.fake);
    let requests: Vec<BatchRequest> = (0..20)
        .map(|i| {
            let mut body = serde_json::to_value(event(i)).expect("json");
            body["transactionId"] = serde_json::json!(format!("b-{i}"));
            BatchRequest::new(i.to_string(), "POST", format!("/users/{}/events", w.alice))
                .with_json(body)
        })
        .collect();
    let answers = client.batch(requests).await.expect("batch");
    assert_eq!(answers.len(), 20);
    for (i, a) in answers.iter().enumerate() {
        assert_eq!(a.id, i.to_string(), "answers come back in request order");
        assert_eq!(a.status, 201, "{a:?}");
    }
    assert_eq!(w.fake.request_count("batch"), 2, "one retry batch");
    assert_eq!(
        w.fake.request_count("events.create"),
        21,
        "only the throttled one was sent again"
    );
    assert_eq!(w.fake.events(&w.alice).len(), 20);
    assert!(w.fake.requests().iter().filter(|r| r.in_batch).all(|r| {
        r.prefer
            .as_deref()
            .is_some_and(|p| p.contains("ImmutableId"))
    }));
}

#[tokio::test]
async fn batch_limits_are_checked_before_sending() {
    let w = world().await;
    let client = client(&w.fake);
    let too_many: Vec<BatchRequest> = (0..21)
        .map(|i| BatchRequest::new(i.to_string(), "GET", "/users/x"))
        .collect();
    assert!(matches!(
        client.batch(too_many).await,
        Err(Error::InvalidRequest(_))
    ));
    let dup = vec![
        BatchRequest::new("1", "GET", "/users/x"),
        BatchRequest::new("1", "GET", "/users/y"),
    ];
    assert!(matches!(
        client.batch(dup).await,
        Err(Error::InvalidRequest(_))
    ));
    assert_eq!(w.fake.request_count("batch"), 0);
}

#[tokio::test]
async fn server_errors_on_reads_are_retried() {
    let w = world().await;
    let id = w.fake.add_event(
        &w.alice,
        EventSeed::new("x", at(2030, 1, 10, 9, 0), at(2030, 1, 10, 10, 0)),
    );
    w.fake.inject(Fault::status(503).on("events.get").times(2));
    let client = client(&w.fake);
    client
        .events(&w.alice)
        .get(&id)
        .await
        .expect("third attempt succeeds");
    assert_eq!(w.fake.request_count("events.get"), 3);
}

#[tokio::test]
async fn unsafe_posts_are_not_repeated_after_a_5xx() {
    let w = world().await;
    let folder = w.fake.add_contact_folder(&w.alice, "Raynet");
    w.fake.inject(Fault::status(503).on("contacts.create"));
    let client = client(&w.fake);
    let mut c = Contact::default();
    c.given_name = Some("Jan".into());
    let err = client
        .contacts(&w.alice)
        .create(&folder, &c)
        .await
        .expect_err("not retried");
    assert_eq!(err.status(), Some(503));
    assert_eq!(w.fake.request_count("contacts.create"), 1);
}

#[tokio::test]
async fn truncated_json_is_a_decode_error_naming_the_endpoint() {
    let w = world().await;
    w.fake.inject(Fault::truncated_json().on("users.get"));
    let client = client(&w.fake);
    let err = client.users().get(&w.alice).await.expect_err("truncated");
    match err {
        Error::Decode { endpoint, .. } => assert_eq!(endpoint, "GET /users/{id}"),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn a_failing_page_fails_the_round_instead_of_shortening_it() {
    let w = world().await;
    for i in 0..6 {
        w.fake.add_event(
            &w.alice,
            EventSeed::new("x", at(2030, 1, 2 + i, 9, 0), at(2030, 1, 2 + i, 10, 0)),
        );
    }
    let client = w
        .fake
        .client_builder()
        .page_size(2)
        .build()
        .expect("client");
    let (start, end) = window();
    // One failure on a next page is retried transparently.
    w.fake
        .inject(Fault::failing_page(500).on("calendarView.delta"));
    let round = client
        .events(&w.alice)
        .delta_full(start, end)
        .await
        .expect("retried");
    assert!(round.items.len() >= 6);
    // A page that keeps failing fails the whole round: never a short listing.
    w.fake
        .inject(Fault::failing_page(500).on("calendarView.delta").times(100));
    let err = client
        .events(&w.alice)
        .delta_full(start, end)
        .await
        .expect_err("fails");
    assert_eq!(err.status(), Some(500));
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_is_retried_without_a_duplicate() {
    let w = world().await;
    w.fake.inject(Fault::lost_response(504).on("events.create"));
    let client = client(&w.fake);
    let created = client
        .events(&w.alice)
        .create(&event(1), "txn-lost")
        .await
        .expect("retried");
    assert_eq!(
        w.fake.request_count("events.create"),
        2,
        "the first attempt took effect, its answer was lost"
    );
    assert_eq!(
        w.fake.events(&w.alice).len(),
        1,
        "transactionId made the repeat harmless"
    );
    assert_eq!(created.transaction_id.as_deref(), Some("txn-lost"));
}

#[tokio::test]
async fn batch_dependents_of_a_failed_request_get_424() {
    let w = world().await;
    let client = client(&w.fake);
    let mut second = BatchRequest::new("2", "GET", format!("/users/{}/events", w.alice));
    second.depends_on = vec!["1".into()];
    let answers = client
        .batch(vec![
            BatchRequest::new("1", "GET", format!("/users/{}/events/junk-id", w.alice)),
            second,
        ])
        .await
        .expect("batch");
    assert_eq!(answers[0].status, 400, "junk ids are malformed");
    assert_eq!(
        answers[0]
            .body
            .as_ref()
            .and_then(|b| b["error"]["code"].as_str()),
        Some("ErrorInvalidIdMalformed")
    );
    assert_eq!(answers[1].status, 424);
}

#[tokio::test]
async fn a_gateway_timeout_is_reported_as_a_lost_answer_not_as_throttling() {
    let w = world().await;
    let id = w.fake.add_event(
        &w.alice,
        EventSeed::new("Far", at(2030, 1, 10, 9, 0), at(2030, 1, 10, 10, 0)),
    );
    w.fake
        .inject(Fault::status(504).on("events.get").times(100));
    let client = client(&w.fake);
    let err = client
        .events(&w.alice)
        .get(&id)
        .await
        .expect_err("every attempt timed out at the gateway");
    assert!(
        matches!(err, Error::AnswerLost { status: 504, .. }),
        "{err:?}"
    );
    assert!(err.retry_after().is_none());
    let text = err.to_string();
    assert!(!text.contains("throttled"), "{text}");
    assert!(text.contains("gateway timeout"), "{text}");
    assert_eq!(
        graph_client::adapter::classify(&err),
        sync_core::ErrorKind::Unavailable,
        "a read that got no answer is unavailable, not throttled"
    );
    assert!(
        w.fake.request_count("events.get") > 1,
        "a read is repeated before the answer is given up"
    );
}
