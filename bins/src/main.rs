//! The `raynet-sync` binary: parse the command line, start logging, run the command, and turn
//! the outcome into an exit code (see [`raynet_sync::cli::exit`]).

use std::process::ExitCode;

use clap::Parser as _;
use raynet_sync::app;
use raynet_sync::cli::{Cli, exit};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::SUCCESS
            });
        }
    };
    let dialogue = matches!(cli.command, raynet_sync::cli::Command::Init(_));
    app::init_tracing(cli.log_format, cli.verbose, dialogue);
    match app::run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("raynet-sync: error: {e:#}");
            ExitCode::from(app::error_exit_code(&e))
        }
    }
}
