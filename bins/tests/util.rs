//! Helpers: temp dirs, config files, running the binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// The exit code of a config error (see `raynet_sync::cli::exit`).
pub const CONFIG_ERROR: i32 = raynet_sync::cli::exit::CONFIG_ERROR as i32;
/// The exit code of success.
pub const SUCCESS: i32 = raynet_sync::cli::exit::SUCCESS as i32;

/// The literal API key the test configs hold; no output may ever contain it.
pub const LITERAL_API_KEY: &str = "rk-LITERAL-4a7e91";
/// The client secret the tests put in the environment; no output may ever contain it.
pub const ENV_SECRET: &str = "cs-ENV-0b93d2";
/// The variable holding [`ENV_SECRET`].
pub const SECRET_VAR: &str = "RAYNET_SYNC_TEST_CLIENT_SECRET";

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new empty directory whose name starts with `label`.
    pub fn new(label: &str) -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("raynet-sync-it-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a temp dir");
        Self(dir)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `text` to `name` in the directory and returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write a test file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A valid config with one tenant `acme`, a literal API key, the client secret from
/// [`SECRET_VAR`], and `sync` holding the lines `sync`.
pub fn config_text(sync: &str) -> String {
    format!(
        r#"state_path = "state.db"

[[tenant]]
name = "acme"

[tenant.raynet]
instance = "acme"
user = "integration@acme.example"
api_key = "{LITERAL_API_KEY}"

[tenant.microsoft]
tenant_id = "acme.onmicrosoft.com"
client_id = "00000000-0000-4000-8000-000000000000"
client_secret = {{ env = "{SECRET_VAR}" }}
group = "Raynet sync"

[tenant.sync]
{sync}
"#
    )
}

/// What a run of the binary printed, and how it exited.
pub struct Run {
    /// The exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Asserts that neither output holds a test secret.
    pub fn assert_no_secret(&self) {
        for secret in [LITERAL_API_KEY, ENV_SECRET] {
            assert!(
                !self.stdout.contains(secret) && !self.stderr.contains(secret),
                "a secret was printed:\n{}\n{}",
                self.stdout,
                self.stderr
            );
        }
    }
}

/// Runs `raynet-sync --config <config> <args>` with [`SECRET_VAR`] set (unless `with_secret`
/// is false) and `RUST_LOG` unset.
pub fn raynet_sync(config: &Path, args: &[&str], with_secret: bool) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_raynet-sync"));
    cmd.arg("--config").arg(config).args(args);
    cmd.env_remove("RUST_LOG").env_remove("RAYNET_SYNC_CONFIG");
    if with_secret {
        cmd.env(SECRET_VAR, ENV_SECRET);
    } else {
        cmd.env_remove(SECRET_VAR);
    }
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("run the raynet-sync binary");
    let run = Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    };
    run.assert_no_secret();
    run
}

/// The PostgreSQL server of the tests (`RAYNET_SYNC_TEST_POSTGRES`, default
/// `postgres://postgres@127.0.0.1:5432/test`), or `None` after saying on standard error that
/// `test` is skipped. Under `CI=true` an unreachable server fails the test instead.
pub async fn test_postgres(test: &str) -> Option<String> {
    use std::io::Write as _;
    let url = std::env::var("RAYNET_SYNC_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    match tokio_postgres::connect(&url, tokio_postgres::NoTls).await {
        Ok(_) => Some(url),
        Err(e) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{test}: PostgreSQL at {url} cannot be reached under CI=true: {e}"
            );
            // Straight to the stream: libtest captures the print macros, not this.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: PostgreSQL at {url} cannot be reached ({e})"
            );
            None
        }
    }
}

/// A fresh schema name for `test` (the store creates it; [`drop_schema`] removes it).
pub fn fresh_schema(test: &str) -> String {
    format!(
        "{test}_{}_{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros()
    )
}

/// `url` with `schema=` set.
pub fn with_schema(url: &str, schema: &str) -> String {
    format!(
        "{url}{}schema={schema}",
        if url.contains('?') { '&' } else { '?' }
    )
}

/// Drops `schema` of the database at `url` (best effort).
pub async fn drop_schema(url: &str, schema: &str) {
    if let Ok((client, conn)) = tokio_postgres::connect(url, tokio_postgres::NoTls).await {
        tokio::spawn(conn);
        let _ = client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .await;
    }
}

/// A loopback port free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the real binary on `config` against the sandbox's fakes (their secrets in the
/// environment), with `args` (e.g. `["serve"]`), `RUST_LOG` at `log`, standard error to
/// `stderr`.
pub fn spawn_against_sandbox(
    config: &Path,
    args: &[&str],
    log: &str,
    stderr: std::process::Stdio,
) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_raynet-sync"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env(
            raynet_sync::demo::API_KEY_VAR,
            raynet_client::fake::DEFAULT_API_KEY,
        )
        .env(
            raynet_sync::demo::CLIENT_SECRET_VAR,
            graph_client::fake::FakeGraph::CLIENT_SECRET,
        )
        .env("RUST_LOG", log)
        .stdout(std::process::Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("start raynet-sync")
}

/// A child process killed when dropped (a failing assertion leaves none behind).
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `raynet-sync --config <config> <args>` against the sandbox's fakes (their secrets in
/// the environment, `RUST_LOG` = `log`), off the runtime's threads (the fakes answer on them).
/// Prints the transcript to standard error, and asserts that neither output holds a fake's
/// secret.
pub async fn run_against_sandbox(config: &Path, args: &[&str], log: &str) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_raynet-sync"));
    cmd.arg("--config")
        .arg(config)
        .args(args)
        .env(
            raynet_sync::demo::API_KEY_VAR,
            raynet_client::fake::DEFAULT_API_KEY,
        )
        .env(
            raynet_sync::demo::CLIENT_SECRET_VAR,
            graph_client::fake::FakeGraph::CLIENT_SECRET,
        )
        .env("RUST_LOG", log)
        .env_remove("RAYNET_SYNC_CONFIG");
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .expect("run the raynet-sync binary");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    eprintln!(
        "$ raynet-sync {} → {}\n{}{}",
        args.join(" "),
        run.code,
        run.stdout,
        run.stderr
    );
    for secret in [
        raynet_client::fake::DEFAULT_API_KEY,
        graph_client::fake::FakeGraph::CLIENT_SECRET,
    ] {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "a secret was printed"
        );
    }
    run
}
