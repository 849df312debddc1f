//! Process concerns of the commands: logging, loading the config, the stop signals.

use std::path::Path;

use crate::cli::LogFormat;
use crate::config::Config;

/// Starts logging to standard error: `human` or `json` lines, at `info` (`-v` debug, `-vv`
/// trace) unless `RUST_LOG` says otherwise; and counts the API clients' requests for the
/// metrics ([`crate::observe::requests`], whatever the log level). Does nothing when logging
/// was already started.
///
/// A `dialogue` (`init`) says everything it has to say in its own words, so without `-v` or
/// `RUST_LOG` it logs nothing: a client's own log line (say, Raynet refusing a wrong key)
/// would only clutter the question that lets the user fix the answer.
pub fn init_tracing(format: LogFormat, verbose: u8, dialogue: bool) {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let default = match verbose {
        0 if dialogue => "off",
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let log = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let log = match format {
        LogFormat::Human => log.boxed(),
        LogFormat::Json => log.json().boxed(),
    };
    // The filter is the log's own: the request counter sees its spans at any level.
    // An error only means a subscriber is already installed (tests); keep that one.
    let _ = tracing_subscriber::registry()
        .with(log.with_filter(filter))
        .with(crate::observe::requests::layer())
        .try_init();
}

/// Loads the config file, or says which file and key are wrong.
pub(super) fn load_config(path: &Path) -> anyhow::Result<Config> {
    Ok(Config::load(path)?)
}

/// Resolves on Ctrl-C, or on SIGTERM (how service managers stop a service) on Unix.
pub(super) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
