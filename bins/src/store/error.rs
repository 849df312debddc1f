//! The store's errors: [`StateFileError`] (a file that cannot be used, refused untouched), and
//! the plumbing that turns SQLite's errors into [`StoreError`]s naming what was being done.

use std::path::PathBuf;

use sync_core::StoreError;

/// A state file that cannot be used. The file is left exactly as it was.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateFileError {
    /// Not an SQLite database, or a damaged one.
    #[error(
        "state file {} is not a valid raynet-sync database (corrupt or not SQLite); it was left \
         untouched: move it away to start afresh, or restore a backup",
        path.display()
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What SQLite said, when it said something.
        #[source]
        source: Option<rusqlite::Error>,
    },
    /// An SQLite database of another program.
    #[error(
        "state file {} is an SQLite database of another program (it has no schema_version \
         table); it was left untouched",
        path.display()
    )]
    Foreign {
        /// The file.
        path: PathBuf,
    },
    /// Written by a newer raynet-sync.
    #[error(
        "state file {} has schema version {found}, newer than this build knows ({supported}); \
         it was left untouched: upgrade raynet-sync",
        path.display()
    )]
    TooNew {
        /// The file.
        path: PathBuf,
        /// The version found in the file.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// Opening, setting up or migrating the file failed.
    #[error("cannot open state file {}", path.display())]
    Sqlite {
        /// The file.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
}

/// An error inside a transaction: SQLite's, or a row the engine cannot use.
#[derive(Debug)]
pub(super) enum TxError {
    /// SQLite failed.
    Sql(rusqlite::Error),
    /// A row cannot be encoded or decoded.
    Store(StoreError),
}

impl From<rusqlite::Error> for TxError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Sql(e)
    }
}

impl From<StoreError> for TxError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl TxError {
    /// The error as a [`StoreError`] with `context` (what was being done, where).
    pub(super) fn into_store(self, context: String) -> StoreError {
        match self {
            Self::Sql(e) => StoreError::with_source(context, e),
            Self::Store(e) => StoreError::with_source(context, e),
        }
    }
}

/// Maps SQLite's error to a [`StoreError`] saying that `what` failed.
pub(super) fn sql_err(what: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
    move |e| StoreError::with_source(format!("cannot {what}"), e)
}
