//! `state copy`: one store's contents into another (see [`crate::store::copy_state`]).

use std::process::ExitCode;

use sync_secret::Secret;

use crate::cli::{StateCopyArgs, exit};
use crate::config::StateLocation;
use crate::store::{copy_state, open_store};

/// A store named on the command line: a `postgres://` URL, else an SQLite file's path.
fn location(arg: &str) -> StateLocation {
    if arg.starts_with("postgres://") || arg.starts_with("postgresql://") {
        StateLocation::Postgres(Secret::new(arg))
    } else {
        StateLocation::File(arg.into())
    }
}

/// Copies `--from` into `--to` and prints what moved.
pub(super) async fn copy(args: &StateCopyArgs) -> anyhow::Result<ExitCode> {
    let from = location(&args.from);
    if let Some(path) = from.file() {
        // Never create an empty source file by opening it.
        anyhow::ensure!(
            path.exists(),
            "--from: the state file {} does not exist",
            path.display()
        );
    }
    let from = open_store(&from).await?;
    let to = open_store(&location(&args.to)).await?;
    let report = copy_state(&*from, &*to).await?;
    println!("{report}");
    println!("from {} to {}", from.location(), to.location());
    Ok(ExitCode::from(exit::SUCCESS))
}
