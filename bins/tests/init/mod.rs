//! `init` against the sandbox's fakes: unattended (flags and variables, in process and as the
//! real binary) and interactive (a scripted prompter); wrong answers fixed on the spot; the
//! config it writes loads and holds no secret; the secrets file is owner-only.

use std::path::Path;
use std::process::Command;

use chrono::Utc;
use graph_client::fake::{FakeGraph, Fault, GroupSeed};
use raynet_client::fake::{DEFAULT_API_KEY, DEFAULT_USER};
use raynet_sync::app::error_exit_code;
use raynet_sync::app::init::{self, GivenSecrets, ScriptedPrompter};
use raynet_sync::cli::InitArgs;
use raynet_sync::config::{Config, Secret};
use raynet_sync::demo::{INSTANCE, Sandbox};

use crate::util::TempDir;

mod credentials;

const WRONG_KEY: &str = "crm-WRONG-5f1e0c";

/// Every answer, for the sandbox; the instance as a pasted browser address.
fn answers(sandbox: &Sandbox) -> InitArgs {
    InitArgs {
        tenant_id: Some(FakeGraph::TENANT.into()),
        client_id: Some(FakeGraph::CLIENT_ID.into()),
        group: Some("Raynet Sync".into()),
        raynet_instance: Some(format!("https://app.raynet.cz/{INSTANCE}/?view=Helpboard")),
        raynet_user: Some(DEFAULT_USER.into()),
        graph_base_url: Some(format!("{}/", sandbox.graph.base_url())),
        authority: Some(format!("{}/", sandbox.graph.authority_url())),
        raynet_base_url: Some(sandbox.raynet.base_url().to_owned()),
        ..InitArgs::default()
    }
}

fn both_secrets() -> GivenSecrets {
    GivenSecrets {
        client_secret: Some(Secret::new(FakeGraph::CLIENT_SECRET)),
        raynet_api_key: Some(Secret::new(DEFAULT_API_KEY)),
        pkcs12_password: None,
    }
}

/// Runs `init` (`unattended` or with `prompter`'s answers) on `config`: its outcome, and what
/// it printed.
async fn run_init(
    config: &Path,
    args: &InitArgs,
    secrets: &GivenSecrets,
    prompter: &mut ScriptedPrompter,
    unattended: bool,
) -> (anyhow::Result<std::process::ExitCode>, String) {
    let mut out = Vec::new();
    let outcome = init::init(config, args, secrets, prompter, unattended, &mut out).await;
    (outcome, String::from_utf8(out).unwrap())
}

fn assert_no_secret(what: &str, text: &str) {
    for secret in [DEFAULT_API_KEY, FakeGraph::CLIENT_SECRET, WRONG_KEY] {
        assert!(!text.contains(secret), "{what} holds a secret:\n{text}");
    }
}

/// The written config loads with the written secrets file as its environment, and holds
/// no secret; the secrets file is owner-only.
fn assert_written(config: &Path) -> Config {
    let text = std::fs::read_to_string(config).unwrap();
    assert_no_secret("the config file", &text);
    let secrets = config.with_file_name("raynet-sync.secrets.env");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&secrets).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the secrets file is owner-only");
    }
    let env_text = std::fs::read_to_string(&secrets).unwrap();
    let vars: Vec<(String, String)> = env_text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let env = |name: &str| {
        vars.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .ok_or(std::env::VarError::NotPresent)
    };
    let loaded = Config::from_toml(&text, config, &env).expect("the written config loads");
    let t = &loaded.tenants[0];
    assert_eq!(t.raynet.api_key.expose(), DEFAULT_API_KEY);
    assert_eq!(
        t.microsoft.client_secret().unwrap().expose(),
        FakeGraph::CLIENT_SECRET
    );
    assert_eq!(t.raynet.instance, INSTANCE, "taken from the pasted address");
    loaded
}

#[tokio::test]
async fn unattended_answers_write_a_config_that_loads_and_checks() {
    let dir = TempDir::new("init");
    let sandbox = Sandbox::start(Utc::now()).await.unwrap();
    let config = dir.path().join("raynet-sync.toml");
    let mut args = answers(&sandbox);
    args.private_events = Some("time-blocker".into());
    let mut out = Vec::new();
    let mut prompter = ScriptedPrompter::new(Vec::<String>::new());
    let code = init::init(
        &config,
        &args,
        &both_secrets(),
        &mut prompter,
        true,
        &mut out,
    )
    .await
    .expect("init succeeds");
    let out = String::from_utf8(out).unwrap();
    assert_eq!(code, std::process::ExitCode::SUCCESS, "{out}");
    assert_no_secret("the output", &out);
    assert!(
        out.contains("/contoso.test/adminconsent?client_id=11111111-2222-3333-4444-555555555555"),
        "{out}"
    );
    assert!(
        out.contains("configuration ok") && out.contains("member(s) served"),
        "{out}"
    );
    assert!(out.contains("run --dry-run"), "{out}");
    let loaded = assert_written(&config);
    let sync = &loaded.tenants[0].sync;
    assert_eq!(
        format!("{:?}", sync.policy.private_events),
        "TimeBlocker",
        "the flag's mode"
    );
    // The process environment does not hold the secrets: the file references them.
    assert!(Config::load(&config).is_err());
    assert_eq!(sandbox.raynet.bad_logins(), 0);
}

#[tokio::test]
async fn an_unattended_wrong_key_stops_at_the_first_refusal_with_78() {
    let dir = TempDir::new("init");
    let sandbox = Sandbox::start(Utc::now()).await.unwrap();
    let config = dir.path().join("raynet-sync.toml");
    let secrets = GivenSecrets {
        raynet_api_key: Some(Secret::new(WRONG_KEY)),
        ..both_secrets()
    };
    let mut out = Vec::new();
    let mut prompter = ScriptedPrompter::new(Vec::<String>::new());
    let e = init::init(
        &config,
        &answers(&sandbox),
        &secrets,
        &mut prompter,
        true,
        &mut out,
    )
    .await
    .expect_err("a wrong key stops init");
    let message = format!("{e:#}");
    assert_eq!(error_exit_code(&e), 78, "{message}");
    assert!(
        message.contains("tenant[0].raynet.api_key") && message.contains("401"),
        "{message}"
    );
    assert_no_secret("the error", &message);
    assert_no_secret("the output", &String::from_utf8(out).unwrap());
    assert_eq!(
        sandbox.raynet.bad_logins(),
        1,
        "one refused login, never retried"
    );
    assert!(!config.exists(), "nothing is written");
}

#[tokio::test]
async fn an_unattended_unknown_group_or_missing_answer_exits_78_and_unreachable_exits_1() {
    let dir = TempDir::new("init");
    let sandbox = Sandbox::start(Utc::now()).await.unwrap();
    let config = dir.path().join("raynet-sync.toml");
    let run = |args: InitArgs, secrets: GivenSecrets| {
        let config = config.clone();
        async move {
            let mut out = Vec::new();
            let mut prompter = ScriptedPrompter::new(Vec::<String>::new());
            init::init(&config, &args, &secrets, &mut prompter, true, &mut out)
                .await
                .expect_err("init stops")
        }
    };
    let mut args = answers(&sandbox);
    args.group = Some("Nope".into());
    let e = run(args, both_secrets()).await;
    assert_eq!(error_exit_code(&e), 78);
    assert!(format!("{e:#}").contains("no group of the tenant has a name starting with \"Nope\""));

    let e = run(answers(&sandbox), GivenSecrets::default()).await;
    assert_eq!(error_exit_code(&e), 78);
    assert!(
        format!("{e:#}").contains("set RAYNET_SYNC_CLIENT_SECRET"),
        "{e:#}"
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut args = answers(&sandbox);
    args.raynet_base_url = Some(format!("http://127.0.0.1:{port}/api/v2/"));
    let e = run(args, both_secrets()).await;
    assert_eq!(error_exit_code(&e), 1, "{e:#}");
    assert!(format!("{e:#}").contains("cannot reach Raynet"), "{e:#}");
    assert!(!config.exists());
}

#[tokio::test]
async fn interactive_answers_are_fixed_on_the_spot_and_never_echo_a_secret() {
    let dir = TempDir::new("init");
    let sandbox = Sandbox::start(Utc::now()).await.unwrap();
    let config = dir.path().join("raynet-sync.toml");
    let mut args = answers(&sandbox);
    args.group = None;
    let secrets = GivenSecrets {
        raynet_api_key: None,
        ..both_secrets()
    };
    sandbox.graph.add_group(GroupSeed::new("Sales"));
    let mut prompter = ScriptedPrompter::new([
        // 2. the group: the picker's last entry and an unknown name; then picked from the
        // list by typing part of its name.
        "another group",
        "Nope",
        "y",
        "sync",
        // 3. Raynet: a wrong key; then the instance and user kept, the right key.
        WRONG_KEY,
        "y",
        "",
        "",
        DEFAULT_API_KEY,
        // 4. the modes: the default, time-blocker, the defaults.
        "",
        "time-blocker",
        "",
        "",
        // the dry run
        "y",
    ]);
    let (outcome, out) = run_init(&config, &args, &secrets, &mut prompter, false).await;
    let code = outcome.expect("init succeeds");
    assert_eq!(code, std::process::ExitCode::SUCCESS, "{out}");
    assert_eq!(prompter.remaining(), 0, "{}", prompter.transcript());
    assert_no_secret("the output", &out);
    assert_no_secret("the transcript", prompter.transcript());
    assert!(out.contains("problem: no group of the tenant"), "{out}");
    assert!(
        prompter.transcript().contains(
            "> Raynet Sync — 4 member(s), 2 owner(s), 1 not a member · raynetsync@contoso.test"
        ),
        "the entry picked shows the counts: {}",
        prompter.transcript()
    );
    assert!(out.contains("warning: ") && out.contains("Boss"), "{out}");
    assert!(
        out.contains("problem: Raynet refused the login (401)"),
        "{out}"
    );
    assert!(
        prompter
            .transcript()
            .contains("time-blocker — only the time reaches Raynet"),
        "{}",
        prompter.transcript()
    );
    assert!(out.contains("member(s) served"), "{out}");
    assert_eq!(sandbox.raynet.bad_logins(), 1);
    let loaded = assert_written(&config);
    assert_eq!(
        format!("{:?}", loaded.tenants[0].sync.policy.private_events),
        "TimeBlocker"
    );
}

#[tokio::test]
async fn a_missing_permission_is_named_with_the_consent_link_and_can_be_fixed() {
    let dir = TempDir::new("init");
    let sandbox = Sandbox::start(Utc::now()).await.unwrap();
    let config = dir.path().join("raynet-sync.toml");
    let mut args = answers(&sandbox);
    args.mode = Some("both".into());
    args.private_events = Some("skip".into());
    args.completed_events = Some("sync".into());
    args.outlook_deletes = Some("cancel".into());
    sandbox.graph.inject(Fault::status(403).on("groups.list"));
    // After the 403: try again, keep tenant, client id, the kind of credential and the
    // secret; no dry run.
    let mut prompter = ScriptedPrompter::new(["y", "", "", "", "", "n"]);
    let (outcome, out) = run_init(&config, &args, &both_secrets(), &mut prompter, false).await;
    let code = outcome.expect("init succeeds");
    assert_eq!(code, std::process::ExitCode::SUCCESS, "{out}");
    assert!(
        out.contains(
            "the app may not list the groups: add the application permission GroupMember.Read.All"
        ) && out.contains("adminconsent?client_id="),
        "{out}"
    );
    assert_no_secret("the output", &out);
    assert_written(&config);
}

#[tokio::test]
async fn an_existing_config_is_not_overwritten_without_force() {
    let dir = TempDir::new("init");
    let sandbox = Sandbox::start(Utc::now()).await.unwrap();
    let config = dir.write("raynet-sync.toml", "# mine\n");
    let mut out = Vec::new();
    let mut prompter = ScriptedPrompter::new(Vec::<String>::new());
    let mut args = answers(&sandbox);
    let e = init::init(
        &config,
        &args,
        &both_secrets(),
        &mut prompter,
        true,
        &mut out,
    )
    .await
    .expect_err("refused");
    assert!(format!("{e:#}").contains("--force"));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), "# mine\n");
    args.force = true;
    init::init(
        &config,
        &args,
        &both_secrets(),
        &mut prompter,
        true,
        &mut out,
    )
    .await
    .expect("replaced with --force");
    assert_written(&config);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_runs_unattended_from_flags_and_variables() {
    let dir = TempDir::new("init");
    let sandbox = Sandbox::start(Utc::now()).await.unwrap();
    let config = dir.path().join("raynet-sync.toml");
    let a = answers(&sandbox);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_raynet-sync"));
    cmd.arg("--config")
        .arg(&config)
        .args(["init", "--yes", "--mode", "meetings"])
        .args(["--group", "Raynet Sync"])
        .env_remove("RUST_LOG")
        .env("RAYNET_SYNC_TENANT_ID", a.tenant_id.unwrap())
        .env("RAYNET_SYNC_CLIENT_ID", a.client_id.unwrap())
        .env("RAYNET_SYNC_RAYNET_INSTANCE", a.raynet_instance.unwrap())
        .env("RAYNET_SYNC_RAYNET_USER", a.raynet_user.unwrap())
        .env("RAYNET_SYNC_GRAPH_BASE_URL", a.graph_base_url.unwrap())
        .env("RAYNET_SYNC_AUTHORITY", a.authority.unwrap())
        .env("RAYNET_SYNC_RAYNET_BASE_URL", a.raynet_base_url.unwrap())
        .env("RAYNET_SYNC_CLIENT_SECRET", FakeGraph::CLIENT_SECRET)
        .env("RAYNET_SYNC_RAYNET_API_KEY", DEFAULT_API_KEY);
    let output = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .expect("run raynet-sync init");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_no_secret("stdout", &stdout);
    assert_no_secret("stderr", &stderr);
    assert!(stdout.contains("run --dry-run"), "{stdout}");
    let loaded = assert_written(&config);
    assert_eq!(loaded.tenants[0].sync.mode.to_string(), "meetings");
}

/// The permissions of the fake but `lacking`.
fn all_but(lacking: &[&str]) -> Vec<&'static str> {
    FakeGraph::APPLICATION_PERMISSIONS
        .into_iter()
        .filter(|p| !lacking.contains(p))
        .collect()
}

#[tokio::test]
async fn unattended_init_waits_for_admin_consent_and_goes_on_once_it_is_granted() {
    let dir = TempDir::new("init");
    let sandbox = Sandbox::start(Utc::now()).await.unwrap();
    let config = dir.path().join("raynet-sync.toml");
    sandbox
        .graph
        .set_application_permissions(&all_but(&["Calendars.ReadWrite", "Contacts.ReadWrite"]));
    let mut args = answers(&sandbox);
    args.consent_wait_seconds = Some(600);
    args.consent_check_seconds = Some(1);
    let mut out = Vec::new();
    let mut prompter = ScriptedPrompter::new(Vec::<String>::new());
    let secrets = both_secrets();
    let run = init::init(&config, &args, &secrets, &mut prompter, true, &mut out);
    // The administrator grants consent once init has seen the token without it.
    let grant = async {
        while sandbox.graph.request_count("token") == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        sandbox
            .graph
            .set_application_permissions(&FakeGraph::APPLICATION_PERMISSIONS);
    };
    let (code, ()) = tokio::join!(run, grant);
    let code = code.expect("init succeeds once consent is granted");
    let out = String::from_utf8(out).unwrap();
    assert_eq!(code, std::process::ExitCode::SUCCESS, "{out}");
    assert!(
        out.contains("waiting for admin consent: the app's token still lacks Calendars.ReadWrite, Contacts.ReadWrite"),
        "{out}"
    );
    let waited = out.find("still lacks").unwrap();
    let ok = out
        .find("ok: the app's token carries the permissions")
        .expect("consent seen");
    assert!(waited < ok, "{out}");
    assert_no_secret("the output", &out);
    assert_written(&config);
}

#[tokio::test]
async fn unattended_init_gives_up_on_consent_with_78_naming_what_is_missing() {
    let dir = TempDir::new("init");
    let sandbox = Sandbox::start(Utc::now()).await.unwrap();
    let config = dir.path().join("raynet-sync.toml");
    sandbox
        .graph
        .set_application_permissions(&all_but(&["Contacts.ReadWrite"]));
    let mut args = answers(&sandbox);
    args.consent_wait_seconds = Some(0);
    let mut out = Vec::new();
    let mut prompter = ScriptedPrompter::new(Vec::<String>::new());
    let e = init::init(
        &config,
        &args,
        &both_secrets(),
        &mut prompter,
        true,
        &mut out,
    )
    .await
    .expect_err("no consent");
    let message = format!("{e:#}");
    assert_eq!(error_exit_code(&e), 78, "{message}");
    assert!(
        message.contains("tenant[0].microsoft.client_id")
            && message.contains("lacks the application permission(s) Contacts.ReadWrite")
            && message.contains("adminconsent?client_id=")
            && message.contains("--mode meetings"),
        "{message}"
    );
    assert!(!config.exists());

    // Meetings alone do not need the contacts permission.
    args.mode = Some("meetings".into());
    let mut out = Vec::new();
    let code = init::init(
        &config,
        &args,
        &both_secrets(),
        &mut prompter,
        true,
        &mut out,
    )
    .await
    .expect("meetings need no contacts permission");
    assert_eq!(code, std::process::ExitCode::SUCCESS);
    assert_written(&config);
}

#[tokio::test]
async fn interactive_init_checks_consent_again_on_enter_and_by_itself() {
    let dir = TempDir::new("init");
    let sandbox = std::sync::Arc::new(Sandbox::start(Utc::now()).await.unwrap());
    let config = dir.path().join("raynet-sync.toml");
    sandbox
        .graph
        .set_application_permissions(&all_but(&["GroupMember.Read.All"]));
    let mut args = answers(&sandbox);
    args.mode = Some("both".into());
    args.private_events = Some("skip".into());
    args.completed_events = Some("sync".into());
    args.outlook_deletes = Some("cancel".into());
    let admin = sandbox.clone();
    let mut waits = 0;
    // The time runs out once (no grant yet); at the second wait the administrator has
    // granted consent and the user presses Enter; no dry run.
    let mut prompter = ScriptedPrompter::new(["-", "", "n"]).on_wait(move || {
        waits += 1;
        if waits == 2 {
            admin
                .graph
                .set_application_permissions(&FakeGraph::APPLICATION_PERMISSIONS);
        }
    });
    let (outcome, out) = run_init(&config, &args, &both_secrets(), &mut prompter, false).await;
    let code = outcome.expect("init succeeds");
    assert_eq!(code, std::process::ExitCode::SUCCESS, "{out}");
    assert_eq!(prompter.remaining(), 0, "{}", prompter.transcript());
    assert_eq!(
        out.matches("still lacks GroupMember.Read.All").count(),
        2,
        "named at each check: {out}"
    );
    assert!(out.contains("Enter checks again"), "{out}");
    assert!(out.contains("ok: the app's token carries"), "{out}");
    assert_written(&config);
}

#[tokio::test]
async fn interactive_init_stops_waiting_on_q_and_can_give_up() {
    let dir = TempDir::new("init");
    let sandbox = Sandbox::start(Utc::now()).await.unwrap();
    let config = dir.path().join("raynet-sync.toml");
    sandbox.graph.set_application_permissions(&[]);
    // q: stop waiting; then do not change the answers.
    let mut prompter = ScriptedPrompter::new(["q", "n"]);
    let (outcome, out) = run_init(
        &config,
        &answers(&sandbox),
        &both_secrets(),
        &mut prompter,
        false,
    )
    .await;
    let e = outcome.expect_err("given up");
    assert_eq!(error_exit_code(&e), 78, "{e:#}");
    assert!(
        out.contains("problem: the app still lacks the application permission(s) GroupMember.Read.All, User.Read.All, Calendars.ReadWrite, Contacts.ReadWrite"),
        "{out}"
    );
    assert!(!config.exists());
}

#[tokio::test]
async fn an_unreachable_service_is_said_plainly_and_can_be_tried_again() {
    let dir = TempDir::new("init");
    let sandbox = Sandbox::start(Utc::now()).await.unwrap();
    let config = dir.path().join("raynet-sync.toml");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut args = answers(&sandbox);
    args.raynet_base_url = Some(format!("http://127.0.0.1:{port}/api/v2/"));
    // Try again (instance, user and key kept), then give up.
    let mut prompter = ScriptedPrompter::new(["y", "", "", "", "n"]);
    let (outcome, out) = run_init(&config, &args, &both_secrets(), &mut prompter, false).await;
    let e = outcome.expect_err("Raynet stays unreachable");
    assert_eq!(prompter.remaining(), 0, "{}", prompter.transcript());
    assert_eq!(error_exit_code(&e), 1, "{e:#}");
    assert_eq!(
        out.matches("problem: cannot reach Raynet").count(),
        2,
        "said at each try: {out}"
    );
    assert!(
        prompter
            .transcript()
            .matches("Change the answers and try again?")
            .count()
            == 2,
        "{}",
        prompter.transcript()
    );
    assert_no_secret("the output", &out);
    assert!(!config.exists());
}
