//! The commands: load the config, open the state store, run, report, choose the exit code.
//!
//! | file | holds |
//! |---|---|
//! | `mod.rs` | [`run`]: the command dispatch; [`error_exit_code`] |
//! | `run.rs` | `run` (`--watch`, `--dry-run`, `--json`): [`RunOptions`], [`policy_for`] |
//! | `serve.rs` | `serve`: the endpoint and one push loop per tenant ([`crate::push`]) until stopped |
//! | `check.rs` | `check`: the config, the credentials, the group and who is served |
//! | `status.rs` | `status`: what the state store knows |
//! | `explain.rs` | `explain`: an item's history from the audit trail, in plain words |
//! | `state.rs` | `state copy`: one store's contents into another |
//! | `report.rs` | the round summaries printed and stored ([`round_summary`]), [`exit_code`] |
//! | `setup.rs` | process concerns: logging ([`init_tracing`]), loading the config, signals |
//! | `init/` | `init`: the step-by-step setup that writes a config ([`init::init`]) |
//!
//! Each file uses only `setup.rs` and `report.rs` (and `check.rs`'s one-line tenant summary
//! in a test; `init/` runs `check.rs`'s checks on the config it wrote); `mod.rs` only
//! dispatches.

mod check;
mod explain;
pub mod init;
mod report;
mod run;
mod serve;
mod setup;
mod state;
mod status;

use std::process::ExitCode;

use crate::cli::{Cli, Command, StateCommand, exit};

pub use report::{exit_code, round_summary};
pub use run::{RunOptions, policy_for};
pub use setup::init_tracing;

/// Runs the command `cli` asks for and says how the process should exit.
///
/// # Errors
/// Anything that kept the command from running at all: a bad config (the message names the
/// file and the key), or an unusable state file. The binary prints the error chain and exits
/// with [`error_exit_code`].
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        #[cfg(feature = "fake")]
        Command::Demo => {
            let dir = std::env::temp_dir().join(format!("raynet-sync-demo-{}", std::process::id()));
            let clean = crate::demo::run_demo(&dir).await?;
            Ok(ExitCode::from(if clean {
                exit::SUCCESS
            } else {
                exit::PARTIAL_FAILURE
            }))
        }
        #[cfg(feature = "fake")]
        Command::Sandbox(args) => crate::demo::serve_sandbox(&args, setup::shutdown_signal()).await,
        Command::Status(args) => status::status(&cli.config, &args).await,
        Command::Explain(args) => explain::explain(&cli.config, &args).await,
        Command::Check(args) => check::check(&cli.config, &args).await,
        Command::Run(args) => run::run_rounds(&cli.config, &args).await,
        Command::Serve(args) => serve::serve(&cli.config, &args).await,
        Command::Init(args) => init::run_init(&cli.config, &args).await,
        Command::State(StateCommand::Copy(args)) => state::copy(&args).await,
    }
}

/// The exit code for an error that kept a command from running: [`exit::CONFIG_ERROR`] when
/// the configuration or the state file is at fault, else [`exit::FAILURE`].
#[must_use]
pub fn error_exit_code(e: &anyhow::Error) -> u8 {
    let config = e
        .chain()
        .any(|c| c.is::<crate::config::ConfigError>() || c.is::<crate::store::StateFileError>());
    if config {
        exit::CONFIG_ERROR
    } else {
        exit::FAILURE
    }
}
