//! The PostgreSQL store's errors: [`PostgresStoreError`] (the store cannot be set up), and the
//! plumbing that turns the driver's and the pool's errors into [`StoreError`]s naming what was
//! being done and where. No message ever holds the URL's password: they name the database by
//! [`PostgresStore::location`](super::PostgresStore::location).

use sync_core::StoreError;

/// A PostgreSQL store that cannot be set up. Nothing was written to the database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PostgresStoreError {
    /// The URL cannot be used. The URL itself is not repeated (it may hold a password).
    #[error("invalid PostgreSQL URL: {reason}")]
    InvalidUrl {
        /// What is wrong with it.
        reason: String,
    },
    /// The URL's `schema=` parameter is not a name the store accepts.
    #[error(
        "invalid schema {schema:?} in the PostgreSQL URL {location}: use lowercase letters, \
         digits and `_`, at most 63, not starting with a digit"
    )]
    InvalidSchema {
        /// The URL, its password replaced by `***`.
        location: String,
        /// The schema asked for.
        schema: String,
    },
    /// The connection pool cannot be built.
    #[error("cannot set up the connection pool for PostgreSQL at {location}")]
    Pool {
        /// The URL, its password replaced by `***`.
        location: String,
        /// What the pool said.
        #[source]
        source: deadpool_postgres::BuildError,
    },
    /// No connection could be made.
    #[error("cannot connect to PostgreSQL at {location}")]
    Connect {
        /// The URL, its password replaced by `***`.
        location: String,
        /// What the pool or the server said.
        #[source]
        source: deadpool_postgres::PoolError,
    },
    /// Reading or migrating the schema failed (the migration was rolled back).
    #[error("cannot migrate the raynet-sync schema of PostgreSQL at {location}")]
    Migrate {
        /// The URL, its password replaced by `***`.
        location: String,
        /// What the server said.
        #[source]
        source: tokio_postgres::Error,
    },
    /// The schema was written by a newer raynet-sync.
    #[error(
        "the raynet-sync schema of PostgreSQL at {location} has version {found}, newer than \
         this build knows ({supported}); it was left untouched: upgrade raynet-sync"
    )]
    TooNew {
        /// The URL, its password replaced by `***`.
        location: String,
        /// The version found in the database.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
}

/// An error inside one call: the pool's, the server's, or a row the engine cannot use.
#[derive(Debug)]
pub(super) enum TxError {
    /// No connection from the pool.
    Pool(deadpool_postgres::PoolError),
    /// The server (or the connection) failed.
    Sql(tokio_postgres::Error),
    /// A row cannot be encoded or decoded.
    Store(StoreError),
}

impl From<deadpool_postgres::PoolError> for TxError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        Self::Pool(e)
    }
}

impl From<tokio_postgres::Error> for TxError {
    fn from(e: tokio_postgres::Error) -> Self {
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
            Self::Pool(e) => StoreError::with_source(context, e),
            Self::Sql(e) => StoreError::with_source(context, e),
            Self::Store(e) => StoreError::with_source(context, e),
        }
    }
}
