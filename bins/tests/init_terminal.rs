//! `init` on a real terminal: the `raynet-sync` binary in a pseudo-terminal (rexpect),
//! against the sandbox's fakes, answered as a person would, by what the screen shows: the app,
//! waiting for admin consent (Enter checks again), the group picked by typing part of its
//! name, a wrong Raynet key then the right one, the modes with the arrow keys. It ends with a
//! config that `check` accepts, an owner-only secrets file, and no secret on the screen or in
//! the config.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::Utc;
use graph_client::fake::{FakeGraph, GroupSeed};
use raynet_client::fake::{DEFAULT_API_KEY, DEFAULT_USER};
use raynet_sync::demo::{INSTANCE, Sandbox};
use rexpect::process::WaitStatus;
use rexpect::session::PtySession;

use crate::util::TempDir;

const WRONG_KEY: &str = "crm-WRONG-77d3a1";
/// How long one expected text may take to show (a guard against a hang, not a measurement).
const SHOW_WITHIN_MS: u64 = 60_000;

/// The terminal: what was typed, and everything the program showed.
struct Screen {
    session: PtySession,
    master: std::fs::File,
    shown: String,
}

impl Screen {
    /// Waits until `text` shows.
    fn expect(&mut self, text: &str) {
        match self.session.exp_string(text) {
            Ok(before) => {
                self.shown.push_str(&before);
                self.shown.push_str(text);
            }
            Err(e) => panic!(
                "{text:?} did not show: {e}\nthe screen so far:\n{}",
                self.shown
            ),
        }
    }

    /// Types `keys` once the program reads the terminal key by key or without echo (a prompt
    /// is waiting for them): typed earlier, a secret would be echoed by the terminal itself.
    fn keys(&mut self, keys: &str) {
        let until = Instant::now() + Duration::from_millis(SHOW_WITHIN_MS);
        loop {
            let modes = rustix::termios::tcgetattr(&self.master)
                .expect("the terminal's modes")
                .local_modes;
            if !modes.contains(rustix::termios::LocalModes::ECHO) {
                break;
            }
            assert!(
                Instant::now() < until,
                "no prompt reads the terminal\n{}",
                self.shown
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        self.session.send(keys).expect("type");
        self.session.flush().expect("type");
    }

    /// Types a line at a prompt that reads whole lines with echo (the consent wait).
    fn line(&mut self, line: &str) {
        self.session.send(&format!("{line}\r")).expect("type");
        self.session.flush().expect("type");
    }
}

const ENTER: &str = "\r";
const UP: &str = "\x1b[A";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_sets_up_the_sync_on_a_terminal() {
    let dir = TempDir::new("init-tty");
    let sandbox = std::sync::Arc::new(Sandbox::start(Utc::now()).await.unwrap());
    sandbox.graph.add_group(GroupSeed::new("Sales"));
    sandbox.graph.add_group(GroupSeed::new("All Company"));
    // Consent to the contacts permission is still to be given.
    let all = FakeGraph::APPLICATION_PERMISSIONS;
    sandbox.graph.set_application_permissions(&all[..3]);
    let config = dir.path().join("raynet-sync.toml");

    let mut cmd = Command::new(env!("CARGO_BIN_EXE_raynet-sync"));
    cmd.arg("--config")
        .arg(&config)
        .arg("init")
        .env_remove("RUST_LOG")
        .env("TERM", "xterm")
        // Where the services are (the sandbox's fakes): not questions of the dialogue.
        .env(
            "RAYNET_SYNC_GRAPH_BASE_URL",
            format!("{}/", sandbox.graph.base_url()),
        )
        .env(
            "RAYNET_SYNC_AUTHORITY",
            format!("{}/", sandbox.graph.authority_url()),
        )
        .env("RAYNET_SYNC_RAYNET_BASE_URL", sandbox.raynet.base_url())
        // Only Enter checks the consent again.
        .env("RAYNET_SYNC_CONSENT_CHECK_SECONDS", "3600");
    for var in [
        "RAYNET_SYNC_CLIENT_SECRET",
        "RAYNET_SYNC_RAYNET_API_KEY",
        "RAYNET_SYNC_TENANT_ID",
        "RAYNET_SYNC_CLIENT_ID",
        "RAYNET_SYNC_GROUP",
        "RAYNET_SYNC_MODE",
        "RAYNET_SYNC_CONFIG",
    ] {
        cmd.env_remove(var);
    }
    let admin = sandbox.clone();
    let person = tokio::task::spawn_blocking(move || {
        let session = rexpect::session::spawn_command(cmd, Some(SHOW_WITHIN_MS)).unwrap();
        let master = session.process().get_file_handle().unwrap();
        let mut t = Screen {
            session,
            master,
            shown: String::new(),
        };
        // 1. The app.
        t.expect("Microsoft 365 tenant");
        t.keys(&format!("{}{ENTER}", FakeGraph::TENANT));
        t.expect("application (client) id");
        t.keys(&format!("{}{ENTER}", FakeGraph::CLIENT_ID));
        t.expect("How the app signs in");
        t.keys(ENTER);
        t.expect("App's client secret");
        t.keys(&format!("{}{ENTER}", FakeGraph::CLIENT_SECRET));
        t.expect("/adminconsent?client_id=");
        t.expect("still lacks Contacts.ReadWrite");
        t.expect("Enter checks again");
        admin.graph.set_application_permissions(&all);
        t.line("");
        t.expect("ok: the app's token carries the permissions");
        // 2. The group, by typing part of its name.
        t.expect("Microsoft 365 group (type part of its name");
        t.keys("raynet");
        t.keys(ENTER);
        t.expect("group \"Raynet Sync\"");
        t.expect("4 member(s), 2 owner(s)");
        t.expect("warning: ");
        // 3. Raynet: a wrong key first.
        t.expect("Raynet instance");
        t.keys(&format!(
            "https://app.raynet.cz/{INSTANCE}/?view=Helpboard{ENTER}"
        ));
        t.expect("Raynet user's login e-mail");
        t.keys(&format!("{DEFAULT_USER}{ENTER}"));
        t.expect("Raynet API key");
        t.keys(&format!("{WRONG_KEY}{ENTER}"));
        t.expect("problem: Raynet refused the login (401)");
        assert!(
            !t.shown.contains("ERROR") && !t.shown.contains("WARN"),
            "init speaks in its own words, no log lines:\n{}",
            t.shown
        );
        t.expect("Change the answers and try again?");
        t.keys("y");
        t.expect("Raynet instance");
        t.keys(ENTER);
        t.expect("Raynet user's login e-mail");
        t.keys(ENTER);
        t.expect("Raynet API key");
        t.keys(&format!("{DEFAULT_API_KEY}{ENTER}"));
        t.expect("ok: Raynet accepted");
        // 4. The modes: the defaults, but private events one up (time-blocker).
        t.expect("What is synced");
        t.keys(ENTER);
        t.expect("Private Outlook events");
        t.keys(UP);
        t.keys(ENTER);
        t.expect("Meetings completed in Raynet");
        t.keys(ENTER);
        t.expect("An event deleted in Outlook");
        t.keys(ENTER);
        // 5. Written and checked; no dry run now.
        t.expect("configuration ok");
        t.expect("Show the first round's plan now");
        t.keys("n");
        t.expect("Done.");
        let rest = t.session.exp_eof().unwrap_or_default();
        t.shown.push_str(&rest);
        let status = t.session.process().wait().unwrap();
        (status, t.shown)
    });
    let (status, shown) = person.await.unwrap();
    assert!(
        matches!(status, WaitStatus::Exited(_, 0)),
        "{status:?}\n{shown}"
    );
    for secret in [DEFAULT_API_KEY, WRONG_KEY, FakeGraph::CLIENT_SECRET] {
        assert!(
            !shown.contains(secret),
            "the screen showed a secret:\n{shown}"
        );
    }
    for trace in ["panicked", "RUST_BACKTRACE", "stack backtrace"] {
        assert!(!shown.contains(trace), "{shown}");
    }

    let text = std::fs::read_to_string(&config).unwrap();
    for secret in [DEFAULT_API_KEY, FakeGraph::CLIENT_SECRET] {
        assert!(!text.contains(secret), "the config holds a secret:\n{text}");
    }
    assert!(text.contains("private_events = \"time-blocker\""), "{text}");
    let secrets = config.with_file_name("raynet-sync.secrets.env");
    let mode = std::fs::metadata(&secrets).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the secrets file is owner-only");
    let checked = tokio::task::spawn_blocking(move || check_with(&config, &secrets))
        .await
        .unwrap();
    assert_eq!(checked.status.code(), Some(0), "{checked:?}");
    assert!(
        String::from_utf8_lossy(&checked.stdout).contains("configuration ok"),
        "{checked:?}"
    );
}

/// `raynet-sync check` on `config`, its environment the secrets file.
fn check_with(config: &Path, secrets: &Path) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_raynet-sync"));
    cmd.arg("--config")
        .arg(config)
        .arg("check")
        .env_remove("RUST_LOG");
    for line in std::fs::read_to_string(secrets).unwrap().lines() {
        if let Some((name, value)) = line.split_once('=').filter(|_| !line.starts_with('#')) {
            cmd.env(name, value);
        }
    }
    cmd.output().expect("run raynet-sync check")
}
