//! The `raynet-sync` binary as a child process: where it is, the config it is given (the
//! sandbox's config pointing at the in-process fakes, plus a `[serve]` table), one `run`
//! round, and the `serve` process (started, asked `/readyz`, its memory read, stopped).

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use raynet_sync::config::{Config, ServeConfig};
use raynet_sync::demo::{API_KEY_VAR, CLIENT_SECRET_VAR, Sandbox};

/// The `raynet-sync` binary cargo built with this bench (`target/release/raynet-sync` under
/// `cargo bench`): next to the bench executable's `deps/` folder.
pub(crate) fn binary() -> anyhow::Result<PathBuf> {
    let built = PathBuf::from(env!("CARGO_BIN_EXE_raynet-sync"));
    if built.is_file() {
        return Ok(built);
    }
    let exe = std::env::current_exe()?;
    let beside = exe
        .parent()
        .and_then(Path::parent)
        .map(|dir| dir.join("raynet-sync"));
    match beside {
        Some(path) if path.is_file() => Ok(path),
        _ => anyhow::bail!(
            "the raynet-sync binary is missing ({}): build it with `cargo build --release -p raynet-sync`",
            built.display()
        ),
    }
}

/// Intervals set in the `[serve]` table instead of serve's defaults.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ServeTimes {
    pub(crate) poll_interval_seconds: u64,
    pub(crate) maintenance_seconds: u64,
}

/// A free loopback port (bound and released at once).
fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// Writes the sandbox's config for `state` (the tenant `demo`, secrets from the environment)
/// with a `[serve]` table on loopback `port` (`None`: a free one), at serve's defaults but
/// for `times`; returns the file and the address.
pub(crate) fn write_config(
    sandbox: &Sandbox,
    dir: &Path,
    name: &str,
    state: &Path,
    times: Option<ServeTimes>,
    port: Option<u16>,
) -> anyhow::Result<(PathBuf, SocketAddr)> {
    let port = match port {
        Some(p) => p,
        None => free_port()?,
    };
    let mut text = config_text(sandbox, state, port);
    if let Some(t) = times {
        let _ = write!(
            text,
            "poll_interval_seconds = {}\nmaintenance_seconds = {}\n",
            t.poll_interval_seconds, t.maintenance_seconds
        );
    }
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok((path, SocketAddr::from(([127, 0, 0, 1], port))))
}

/// The sandbox's config for `state` with a `[serve]` table on loopback `port`, every other
/// serve key left to its default.
fn config_text(sandbox: &Sandbox, state: &Path, port: u16) -> String {
    let mut text = sandbox.config_toml(state, "max_parallel_members = 4\n");
    text.push_str(&Sandbox::serve_section(port));
    text
}

/// serve's defaults, as the config loader resolves a `[serve]` table without the intervals.
pub(crate) fn serve_defaults(sandbox: &Sandbox, state: &Path) -> anyhow::Result<ServeConfig> {
    let text = config_text(sandbox, state, 1);
    let env = |name: &str| match name {
        API_KEY_VAR | CLIENT_SECRET_VAR => Ok("unused".to_owned()),
        _ => Err(std::env::VarError::NotPresent),
    };
    Ok(Config::from_toml(&text, &state.with_extension("toml"), &env)?.serve)
}

/// The binary with `args`, the fakes' secrets in its environment, its output to `log`.
fn command(config: &Path, args: &[&str], log: &Path) -> anyhow::Result<Command> {
    let out = std::fs::File::create(log)?;
    let mut cmd = Command::new(binary()?);
    cmd.arg("--config")
        .arg(config)
        .args(args)
        .env(API_KEY_VAR, raynet_client::fake::DEFAULT_API_KEY)
        .env(
            CLIENT_SECRET_VAR,
            graph_client::fake::FakeGraph::CLIENT_SECRET,
        )
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out);
    Ok(cmd)
}

/// The last lines of a child's log, for an error message.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

/// Runs `raynet-sync run` (one round for the tenant, no push) to its end; its wall time.
pub(crate) async fn run_once(config: &Path, log: &Path) -> anyhow::Result<Duration> {
    let mut cmd = command(config, &["run"], log)?;
    let started = Instant::now();
    let status = tokio::task::spawn_blocking(move || cmd.status()).await??;
    let took = started.elapsed();
    // 2: some items failed; the round still ran (the report says which).
    if !status.success() && status.code() != Some(2) {
        anyhow::bail!(
            "`raynet-sync run` failed ({status}); its log ({}):\n{}",
            log.display(),
            tail(log)
        );
    }
    Ok(took)
}

/// A running `raynet-sync serve`. Stopped (SIGTERM, then killed) when dropped.
pub(crate) struct Serve {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

impl Serve {
    /// Starts `raynet-sync serve` with `config` and waits until `/readyz` answers 200.
    pub(crate) async fn start(config: &Path, addr: SocketAddr, log: &Path) -> anyhow::Result<Self> {
        let child = command(config, &["serve"], log)?
            // serve's debug lines of its push machinery say which notifications were echoes
            // and when a notified round ran; the bench counts them.
            .env("RUST_LOG", "info,raynet_sync::push=debug")
            .spawn()
            .context("cannot start `raynet-sync serve`")?;
        let mut serve = Self {
            child,
            addr,
            log: log.to_owned(),
        };
        let started = Instant::now();
        loop {
            if let Some(status) = serve.child.try_wait()? {
                anyhow::bail!(
                    "`raynet-sync serve` exited ({status}) before it was ready; its log ({}):\n{}",
                    serve.log.display(),
                    tail(&serve.log)
                );
            }
            if serve.get("/readyz").await == Some(200) {
                return Ok(serve);
            }
            if started.elapsed() > Duration::from_secs(1800) {
                anyhow::bail!("`raynet-sync serve` was not ready within 30 minutes");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The status of `GET path` on the service (`None`: no answer).
    pub(crate) async fn get(&self, path: &str) -> Option<u16> {
        let addr = self.addr;
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        tokio::task::spawn_blocking(move || {
            let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
            stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
            stream.write_all(request.as_bytes()).ok()?;
            let mut head = [0_u8; 12];
            stream.read_exact(&mut head).ok()?;
            // "HTTP/1.1 200"
            std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
        })
        .await
        .ok()
        .flatten()
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running.
    pub(crate) fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Where its output goes.
    pub(crate) fn log(&self) -> &Path {
        &self.log
    }

    /// Where its log ends now (a mark for [`Serve::log_since`]).
    pub(crate) fn log_mark(&self) -> u64 {
        std::fs::metadata(&self.log).map_or(0, |m| m.len())
    }

    /// What its log says happened since `mark`.
    pub(crate) fn log_since(&self, mark: u64) -> LogCounts {
        let text = std::fs::read(&self.log).unwrap_or_default();
        let from = usize::try_from(mark).unwrap_or(usize::MAX).min(text.len());
        let mut c = LogCounts::default();
        for line in String::from_utf8_lossy(&text[from..]).lines() {
            if line.contains("a notified round") {
                c.notified_rounds += 1;
            } else if line.contains("Graph notification") {
                c.graph += 1;
                c.graph_echoes += usize::from(line.contains("Echo"));
            } else if line.contains("Raynet webhook") {
                c.raynet += 1;
                c.raynet_echoes += usize::from(line.contains("Echo"));
            } else if line.contains("planned_writes") {
                c.writing_rounds += 1;
            }
        }
        c
    }

    /// Stops it: SIGTERM, then a kill after 10 s.
    pub(crate) fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        if !self.running() {
            return;
        }
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if !self.running() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        self.terminate();
    }
}

/// What `serve`'s log (its debug lines of the push machinery) says happened.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct LogCounts {
    /// Rounds run because of notifications ("a notified round").
    pub(crate) notified_rounds: usize,
    /// Member rounds that wrote (their summary is logged).
    pub(crate) writing_rounds: usize,
    /// Graph change notifications received, and of those the echoes of serve's own writes.
    pub(crate) graph: usize,
    pub(crate) graph_echoes: usize,
    /// Raynet webhook events received, and of those the echoes.
    pub(crate) raynet: usize,
    pub(crate) raynet_echoes: usize,
}

impl LogCounts {
    /// The notifications part: how many of each kind, and how many were echoes.
    pub(crate) fn notifications(&self) -> String {
        format!(
            "Graph notifications {} ({} echoes of its own writes), Raynet webhooks {} ({} echoes)",
            self.graph, self.graph_echoes, self.raynet, self.raynet_echoes
        )
    }
}

impl std::fmt::Display for LogCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} notified rounds ({} member rounds wrote); {}",
            self.notified_rounds,
            self.writing_rounds,
            self.notifications()
        )
    }
}

/// The resident memory (VmRSS) of process `pid` in KiB.
pub(crate) fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
