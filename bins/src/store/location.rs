//! Opening the store the config names: the SQLite file (the default) or a PostgreSQL database.

use std::sync::Arc;

use anyhow::Context as _;

use super::open::SqliteStore;
use super::service::ServiceStore;
use crate::config::StateLocation;

/// Opens (creating or migrating) the store at `state`.
///
/// # Errors
/// The file cannot be used (see [`super::StateFileError`]), or the database cannot be reached or
/// migrated; the message names where, never a password.
pub async fn open_store(state: &StateLocation) -> anyhow::Result<Arc<dyn ServiceStore>> {
    match state {
        StateLocation::File(path) => Ok(Arc::new(SqliteStore::open(path)?)),
        StateLocation::Postgres(url) => {
            let store = super::PostgresStore::connect(url.expose())
                .await
                .context("state_url: cannot open the PostgreSQL state store")?;
            Ok(Arc::new(store))
        }
    }
}
