//! Secrets, end to end: the real binary through a first, a change and an idle round against
//! both fakes, at the most verbose log level (`-vv` and `RUST_LOG=trace`), in human and JSON
//! log formats, with `--json` reports, `check` and `status`: nothing it prints holds the
//! Raynet API key, the client secret, the Basic header's value, or an access token (and so no
//! `Authorization` header's value).

use base64::Engine as _;
use chrono::Utc;
use graph_client::fake::FakeGraph;
use raynet_sync::demo::{INSTANCE, Sandbox};
use serde_json::json;

use crate::util::{TempDir, run_against_sandbox};

/// Runs the binary against the sandbox's fakes, everything logged (`-vv`, `RUST_LOG=trace`, in
/// `format`): its exit code, standard output, and both outputs as one text.
async fn run(config: &std::path::Path, format: &str, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["--log-format", format, "-vv"];
    all.extend_from_slice(args);
    let run = run_against_sandbox(config, &all, "trace").await;
    let text = format!("$ raynet-sync {args:?}\n{}{}", run.stdout, run.stderr);
    (run.code, run.stdout, text)
}

/// Everything a run through first, change and idle rounds printed in one log format.
async fn everything_printed(format: &str) -> (String, Vec<String>) {
    let dir = TempDir::new("secrets");
    let sandbox = Sandbox::start(Utc::now()).await.unwrap();
    let config = dir.write(
        "raynet-sync.toml",
        &sandbox.config_toml(&dir.path().join("state.db"), ""),
    );
    let mut printed = String::new();
    let mut step = |(code, stdout, text): (i32, String, String), what: &str| {
        assert!(matches!(code, 0 | 2), "{what} exited {code}:\n{text}");
        printed.push_str(&text);
        stdout
    };
    step(run(&config, format, &["check"]).await, "check");
    step(
        run(&config, format, &["run", "--json"]).await,
        "first round",
    );
    // A change on each side.
    let data = &sandbox.data;
    assert!(sandbox.graph.edit_event(
        &data.jana,
        &data.customer_call,
        &json!({"subject": "Renamed in Outlook"})
    ));
    let meeting = data.meetings[0];
    sandbox
        .raynet
        .instance(INSTANCE)
        .edit("meeting", meeting, &json!({"title": "Renamed in Raynet"}))
        .unwrap();
    let change = step(
        run(&config, format, &["run", "--json"]).await,
        "change round",
    );
    // The change round wrote each change across: the runs did real work.
    let updated = |side: &str| -> u64 {
        change
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|r| r["updated"][side].as_u64())
            .sum()
    };
    assert!(
        updated("outlook") >= 1 && updated("raynet") >= 1,
        "{change}"
    );
    step(run(&config, format, &["run", "--json"]).await, "idle round");
    step(run(&config, format, &["run"]).await, "human report");
    step(run(&config, format, &["status", "--json"]).await, "status");
    (printed, sandbox.graph.issued_tokens())
}

fn assert_holds_no_secret(format: &str, printed: &str, tokens: &[String]) {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        raynet_client::fake::DEFAULT_USER,
        raynet_client::fake::DEFAULT_API_KEY
    ));
    assert!(!tokens.is_empty(), "the runs were given access tokens");
    let mut secrets = vec![
        (
            "the Raynet API key",
            raynet_client::fake::DEFAULT_API_KEY.to_owned(),
        ),
        ("the client secret", FakeGraph::CLIENT_SECRET.to_owned()),
        ("the Basic header's value", basic),
    ];
    secrets.extend(tokens.iter().map(|t| ("an access token", t.clone())));
    for (what, value) in &secrets {
        if let Some(at) = printed.find(value.as_str()) {
            let from = printed[..at].rfind('\n').unwrap_or(0);
            panic!(
                "{format}: {what} was printed: {}",
                &printed[from..(at + value.len()).min(printed.len())]
            );
        }
    }
    for header in ["Bearer ey", "Basic "] {
        assert!(
            !printed.contains(header),
            "{format}: {header:?} was printed"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_printed_at_the_most_verbose_level_holds_a_secret() {
    for format in ["human", "json"] {
        let (printed, tokens) = everything_printed(format).await;
        // The runs logged in earnest: requests to both services, and the rounds' reports.
        assert!(
            printed.contains("TRACE") || printed.contains("\"TRACE\""),
            "{format}"
        );
        assert!(
            printed.contains("DEBUG") || printed.contains("\"DEBUG\""),
            "{format}"
        );
        assert_holds_no_secret(format, &printed, &tokens);
    }
}
