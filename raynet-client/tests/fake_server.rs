//! The fake itself, spoken to with raw HTTP: it accepts every documented
//! request shape, validates like the API and answers in the API's formats.

use raynet_client::fake::{
    ActivitySeed, DEFAULT_API_KEY, DEFAULT_INSTANCE, DEFAULT_USER, FakeRaynet, PersonSeed,
};
use serde_json::{Value, json};

struct Raw {
    http: reqwest::Client,
    base: String,
}

impl Raw {
    fn new(fake: &FakeRaynet) -> Self {
        Raw {
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
            base: fake.base_url().to_owned(),
        }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .basic_auth(DEFAULT_USER, Some(DEFAULT_API_KEY))
            .header("X-Instance-Name", DEFAULT_INSTANCE);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.unwrap();
        let v = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        (status, headers, v)
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let (s, _, v) = self.send(reqwest::Method::GET, path, None).await;
        (s, v)
    }
}

fn ids(v: &Value) -> Vec<u64> {
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn unknown_filter_and_sort_parameters_are_refused() {
    let fake = FakeRaynet::start().await;
    let raw = Raw::new(&fake);
    let (s, v) = raw.get("meeting/?x[EQ]=1").await;
    assert_eq!(s, 400);
    assert_eq!(
        v,
        crate::util::fixture_json("error_unsupported_filter.json"),
        "the documented envelope"
    );
    let (s, _) = raw.get("meeting/?sort=title").await;
    assert_eq!(s, 400, "`sort` is not a parameter (sortColumn is)");
    let (s, _) = raw.get("person/?limit=1001").await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn create_requires_the_documented_fields() {
    let fake = FakeRaynet::start().await;
    let raw = Raw::new(&fake);
    let (s, _, v) = raw
        .send(
            reqwest::Method::PUT,
            "meeting/",
            Some(json!({"title": "No owner", "priority": "DEFAULT"})),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(v["type"], "BadRequest");
    assert!(v["message"].as_str().unwrap().contains("[owner]"));
    let (s, _, v) = raw
        .send(reqwest::Method::PUT, "company/", Some(json!({"name": "X"})))
        .await;
    assert_eq!(s, 400, "companies need state/role/rating: {v}");
    let (s, _, v) = raw
        .send(
            reqwest::Method::PUT,
            "person/",
            Some(json!({"lastName": "Nový"})),
        )
        .await;
    assert_eq!((s, v["success"].clone()), (201, json!(true)));
    assert!(v["data"]["id"].as_u64().is_some());
}

#[tokio::test]
async fn accepts_naive_datetimes_lenient_booleans_and_both_tag_shapes() {
    let fake = FakeRaynet::start().await;
    let raw = Raw::new(&fake);
    let (s, _, v) = raw
        .send(
            reqwest::Method::PUT,
            "meeting/",
            Some(json!({"title": "T", "priority": "MINOR", "owner": "1", "scheduledFrom": "2026-03-28 10:00", "scheduledTill": "2026-03-29 10:00", "tags": ["a", "b"]})),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let id = v["data"]["id"].as_u64().unwrap();
    let (s, _, v) = raw
        .send(reqwest::Method::POST, &format!("meeting/{id}/"), Some(json!({"personal": "yes", "tags": "x, y", "completed": "2026-03-29T12:00:00.000+02:00"})))
        .await;
    assert_eq!((s, v), (200, json!({"success": true})));
    let (_, v) = raw.get(&format!("meeting/{id}/?dateFormat=ISO8601")).await;
    let d = &v["data"];
    assert_eq!(v["success"], "true");
    assert_eq!(d["personal"], true);
    assert_eq!(d["tags"], json!(["x", "y"]));
    // Naive input is Prague local time; output honours DST on each side of 29 March.
    assert_eq!(d["scheduledFrom"], "2026-03-28T10:00:00.000+01:00");
    assert_eq!(d["scheduledTill"], "2026-03-29T10:00:00.000+02:00");
    assert_eq!(d["_version"], 2);
    assert_eq!(d["rowInfo.updatedBy"], DEFAULT_USER);
    // Without dateFormat: naive local time.
    let (_, v) = raw.get(&format!("meeting/{id}/")).await;
    assert_eq!(v["data"]["scheduledTill"], "2026-03-29 10:00");
    assert_eq!(v["data"]["completed"], "2026-03-29 12:00");
    // A bad boolean or date is refused.
    let (s, _, _) = raw
        .send(
            reqwest::Method::POST,
            &format!("meeting/{id}/"),
            Some(json!({"personal": "maybe"})),
        )
        .await;
    assert_eq!(s, 400);
    let (s, _, _) = raw
        .send(
            reqwest::Method::POST,
            &format!("meeting/{id}/"),
            Some(json!({"scheduledFrom": "tomorrow"})),
        )
        .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn person_update_answers_empty_and_delete_answers_empty() {
    let fake = FakeRaynet::start().await;
    let id = fake
        .default_instance()
        .add_person(PersonSeed::new("A"))
        .unwrap();
    let raw = Raw::new(&fake);
    let (s, _, v) = raw
        .send(
            reqwest::Method::POST,
            &format!("person/{id}/"),
            Some(json!({"firstName": "B"})),
        )
        .await;
    assert_eq!((s, v), (200, Value::Null));
    let (s, _, v) = raw
        .send(reqwest::Method::DELETE, &format!("person/{id}/"), None)
        .await;
    assert_eq!((s, v), (200, Value::Null));
    let (s, v) = raw.get(&format!("person/{id}/")).await;
    assert_eq!(
        (s, v["type"].clone()),
        (404, json!("EntityNotFoundException"))
    );
}

#[tokio::test]
async fn filter_operators() {
    let fake = FakeRaynet::start().await;
    let inst = fake.default_instance();
    let a = inst
        .add_person(PersonSeed::new("Novák").first_name("Jan").email("jan@a.cz"))
        .unwrap();
    let b = inst
        .add_person(PersonSeed::new("Nováková").first_name("Jana"))
        .unwrap();
    let c = inst
        .add_person(
            PersonSeed::new("Svoboda")
                .first_name("Petr")
                .email("petr@b.cz"),
        )
        .unwrap();
    let raw = Raw::new(&fake);
    let q = |s: &'static str| {
        let raw = &raw;
        async move { ids(&raw.get(&format!("person/?limit=100&{s}")).await.1) }
    };
    assert_eq!(q("lastName[EQ]=Novák").await, vec![a]);
    assert_eq!(q("lastName=Novák").await, vec![a], "no brackets means EQ");
    assert_eq!(q("lastName[LIKE]=Nov%25").await, vec![a, b]);
    assert_eq!(q("lastName[LIKE]=nov%25").await, Vec::<u64>::new());
    assert_eq!(q("lastName[LIKE_NOCASE]=nov%25").await, vec![a, b]);
    assert_eq!(q(&*format!("id[IN]={a},{c}").leak()).await, vec![a, c]);
    assert_eq!(
        q(&*format!("id[NOT_IN]={a},{c}&id[GT]=1").leak()).await,
        vec![b]
    );
    assert_eq!(q(&*format!("id[GE]={b}&id[LT]={c}").leak()).await, vec![b]);
    assert_eq!(
        q("contactInfo.email[EQ]=").await,
        vec![b],
        "empty EQ selects empty fields"
    );
    assert_eq!(q("contactInfo.email[NE]=&id[GT]=1").await, vec![a, c]);
    assert_eq!(
        q("contactInfo.email[EQ_OR_NULL]=petr@b.cz&id[GT]=1").await,
        vec![b, c]
    );
    assert_eq!(
        q("contactInfo.email[NE_OR_NULL]=petr@b.cz&id[GT]=1").await,
        vec![a, b]
    );
    assert_eq!(
        q("sortColumn=firstName&sortDirection=DESC&id[GT]=1").await,
        vec![c, b, a]
    );
    assert_eq!(q("fulltext=SVOBOD").await, vec![c]);
}

#[tokio::test]
async fn meeting_context_filters_and_row_info_view() {
    let fake = FakeRaynet::start().await;
    let inst = fake.default_instance();
    let owner = inst.ids("person")[0];
    let guest = inst.add_person(PersonSeed::new("Host")).unwrap();
    let m1 = inst
        .add_meeting(
            ActivitySeed::new("A", owner)
                .participant(guest)
                .scheduled_local("2026-05-01 09:00", "2026-05-01 10:00"),
        )
        .unwrap();
    let m2 = inst
        .add_meeting(
            ActivitySeed::new("B", owner)
                .scheduled_local("2026-06-01 09:00", "2026-06-01 10:00")
                .tags(&["x"]),
        )
        .unwrap();
    let raw = Raw::new(&fake);
    assert_eq!(
        ids(&raw.get(&format!("meeting/?personFilter={guest}")).await.1),
        vec![m1]
    );
    assert_eq!(
        ids(&raw.get(&format!("meeting/?owner-id[EQ]={owner}")).await.1),
        vec![m1, m2]
    );
    assert_eq!(
        ids(&raw
            .get("meeting/?scheduledFrom[GE]=2026-05-15 00:00")
            .await
            .1),
        vec![m2]
    );
    assert_eq!(
        ids(&raw
            .get("meeting/?scheduledFrom[LT]=2026-05-15T00:00:00.000%2B02:00")
            .await
            .1),
        vec![m1]
    );
    assert_eq!(ids(&raw.get("meeting/?tags=x,y").await.1), vec![m2]);
    let (_, v) = raw.get("meeting/?view=rowInfo&dateFormat=ISO8601").await;
    let row = v["data"][0].as_object().unwrap();
    assert!(
        row.keys()
            .all(|k| k == "id" || k == "_version" || k.starts_with("rowInfo.")),
        "{row:?}"
    );
    assert!(
        row["rowInfo.lastModifiedAt"]
            .as_str()
            .unwrap()
            .contains('T')
    );
}

#[tokio::test]
async fn rate_limit_headers_on_every_answer() {
    let fake = FakeRaynet::start().await;
    fake.default_instance().set_quota(3);
    let raw = Raw::new(&fake);
    let mut remaining = Vec::new();
    for path in ["person/", "person/999/", "meeting/"] {
        let (_, h, _) = raw.send(reqwest::Method::GET, path, None).await;
        assert_eq!(h["x-ratelimit-limit"], "3");
        assert!(h.contains_key("x-ratelimit-reset"));
        remaining.push(h["x-ratelimit-remaining"].to_str().unwrap().to_owned());
    }
    assert_eq!(remaining, ["2", "1", "0"]);
    let (s, h, v) = raw.send(reqwest::Method::GET, "person/", None).await;
    assert_eq!((s, v["type"].clone()), (429, json!("RequestLimitReached")));
    assert_eq!(h["x-ratelimit-remaining"], "0");
    // The window is per UTC day: a new day resets it.
    fake.advance_clock(chrono::Duration::days(1));
    let (s, _, _) = raw.send(reqwest::Method::GET, "person/", None).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn missing_instance_header_or_auth_is_a_bad_login() {
    let fake = FakeRaynet::start().await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let resp = http
        .get(format!("{}person/", fake.base_url()))
        .basic_auth(DEFAULT_USER, Some(DEFAULT_API_KEY))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = http
        .get(format!("{}person/", fake.base_url()))
        .header("X-Instance-Name", DEFAULT_INSTANCE)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(fake.bad_logins(), 2);
    assert_eq!(fake.requests("GET /person/"), 2);
}

#[tokio::test]
async fn the_fake_stops_when_dropped() {
    let fake = FakeRaynet::start().await;
    let client = fake
        .client_builder()
        .max_retries(0)
        .timeout(std::time::Duration::from_millis(500))
        .build()
        .unwrap();
    assert!(client.persons().get(1).await.is_ok());
    drop(fake);
    // Shutdown is graceful: within a few scheduling rounds nothing answers any more.
    let mut stopped = false;
    for _ in 0..100 {
        if client.persons().get(1).await.is_err() {
            stopped = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(stopped, "the dropped fake still answers");
}

#[tokio::test]
async fn answers_carry_the_fakes_clock_and_writes_can_be_interrupted_after_they_land() {
    use raynet_client::adapter::classify;
    use raynet_client::fake::{Fault, FaultKind};
    use raynet_client::models::{NewActivity, Priority};

    let fake = FakeRaynet::start().await;
    fake.advance_clock(chrono::Duration::hours(5));
    let client = fake.client();
    let page = client
        .meetings()
        .list(&raynet_client::ListQuery::default())
        .await
        .unwrap();
    let server = page.server_time.expect("a Date header");
    assert!(
        (fake.now() - server).num_seconds().abs() <= 2,
        "the fake's clock"
    );

    // Write faults leave reads alone; the interruption lands the write.
    fake.inject(Fault::new(FaultKind::InterruptAfterApply).on_writes());
    client
        .meetings()
        .list(&raynet_client::ListQuery::default())
        .await
        .unwrap();
    let err = client
        .meetings()
        .create(&NewActivity::new("Landed", Priority::Default, 1))
        .await
        .unwrap_err();
    assert_eq!(
        classify(&err),
        sync_core::ErrorKind::Interrupted,
        "a cut connection after a PUT: {err:?}"
    );
    let all = client
        .meetings()
        .list_all(&raynet_client::ListQuery::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 1, "the create landed");
    assert_eq!(all[0].title.as_deref(), Some("Landed"));

    fake.inject(Fault::new(FaultKind::Status(503)).on_writes().times(2));
    for _ in 0..2 {
        let err = client
            .meetings()
            .create(&NewActivity::new("Refused", Priority::Default, 1))
            .await
            .unwrap_err();
        assert_eq!(classify(&err), sync_core::ErrorKind::Unavailable);
    }
    client
        .meetings()
        .create(&NewActivity::new("Third", Priority::Default, 1))
        .await
        .unwrap();
    assert_eq!(fake.default_instance().ids("meeting").len(), 2);
}
