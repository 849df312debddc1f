//! Connecting: [`PostgresStore`] itself, its URL (our `schema=` parameter, the password kept
//! out of every message), the connection pool, and the error context of every call.

use std::fmt;
use std::str::FromStr as _;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use sync_core::{Scope, StoreError};
use tokio_postgres::NoTls;

use super::error::{PostgresStoreError, TxError};
use super::listen::{EVERY_TENANT, Wakeups, listen_application_name};
use super::schema::migrate;

/// How many connections the pool keeps at most: a worker's parallel members, a few each.
const POOL_SIZE: usize = 16;

/// How long a new connection may take when the URL does not say (`connect_timeout=`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest schema name PostgreSQL keeps whole.
const SCHEMA_NAME_MAX: usize = 63;

/// The PostgreSQL store: the [`StateStore`](sync_core::StateStore),
/// [`TenantStore`](sync_core::tenant::TenantStore) and
/// [`ServiceStore`](super::super::ServiceStore) shared by several workers; see the module docs
/// for the layout and the guarantees.
///
/// One value serves every scope and both item types, through a pool of connections; clone-free
/// sharing is by reference (it is `Send + Sync`). Its `Debug` shows the URL without its password.
pub struct PostgresStore {
    /// The URL, its password replaced by `***`.
    location: String,
    /// The schema from the URL's `schema=`, if any.
    schema: Option<String>,
    /// The driver's settings (search path, timeouts), for the connection that listens.
    pub(super) config: tokio_postgres::Config,
    pool: Pool,
    /// The connection listening for notes, once asked for.
    pub(super) wakeups: Wakeups,
    /// Scope row ids seen committed (scope rows are never deleted): a write to a known scope
    /// is then one statement.
    pub(super) scope_ids: std::sync::Mutex<std::collections::HashMap<Scope, i64>>,
    /// Test hook: makes the next `resolve_pending` fail between its two statements.
    #[cfg(test)]
    pub(in crate::store) crash_in_resolve: std::sync::atomic::AtomicBool,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self.pool.status();
        f.debug_struct("PostgresStore")
            .field("location", &self.location)
            .field("schema", &self.schema)
            .field("connections", &status.size)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`), builds
    /// the pool and brings the schema up to date.
    ///
    /// Beside the driver's own query parameters (`connect_timeout=`, `application_name=`, ...)
    /// the URL may hold `schema=<name>`: the store then keeps its tables in that schema
    /// (created when missing), so that several deployments can share one database. The names
    /// accepted are lowercase letters, digits and `_`.
    ///
    /// Connections are not encrypted (`NoTls`): the database is expected on the same machine or
    /// a private network.
    ///
    /// # Errors
    /// A [`PostgresStoreError`]: the URL is invalid, no connection can be made, the migration
    /// failed, or the schema is newer than this build.
    pub async fn connect(url: &str) -> Result<Self, PostgresStoreError> {
        let target = parse_url(url)?;
        let manager = Manager::from_config(
            target.config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|source| PostgresStoreError::Pool {
                location: target.location.clone(),
                source,
            })?;
        let mut client = pool
            .get()
            .await
            .map_err(|source| PostgresStoreError::Connect {
                location: target.location.clone(),
                source,
            })?;
        migrate(&mut client, target.schema.as_deref(), &target.location).await?;
        drop(client);
        Ok(Self {
            location: target.location,
            schema: target.schema,
            config: target.config,
            pool,
            wakeups: Wakeups::default(),
            scope_ids: std::sync::Mutex::default(),
            #[cfg(test)]
            crash_in_resolve: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// The URL of the database, its password replaced by `***`.
    #[must_use]
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The schema the tables are kept in, when the URL named one (`schema=`).
    #[must_use]
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// A connection from the pool.
    pub(super) async fn client(&self) -> Result<Object, TxError> {
        Ok(self.pool.get().await?)
    }

    /// A connection from the pool, for tests that look at the rows themselves.
    #[cfg(test)]
    pub(in crate::store) async fn test_client(&self) -> Object {
        self.pool.get().await.expect("a pooled connection")
    }

    /// "cannot `what` in PostgreSQL at `location`".
    pub(super) fn context(&self, what: &str) -> String {
        format!("cannot {what} in PostgreSQL at {}", self.location)
    }

    /// "cannot `what` for `scope` in PostgreSQL at `location`".
    pub(super) fn scope_context(&self, what: &str, scope: &Scope) -> String {
        format!(
            "cannot {what} for {scope} in PostgreSQL at {}",
            self.location
        )
    }
}

/// Runs `call` and gives its error `context()`.
pub(super) async fn with_context<R>(
    call: impl Future<Output = Result<R, TxError>>,
    context: impl FnOnce() -> String,
) -> Result<R, StoreError> {
    call.await.map_err(|e| e.into_store(context()))
}

/// A URL taken apart: what the driver gets, what messages show, the schema.
#[derive(Debug)]
struct Target {
    /// The driver's settings: the URL without `schema=`, plus the search path and defaults.
    config: tokio_postgres::Config,
    /// The URL, passwords replaced by `***`.
    location: String,
    /// The `schema=` parameter.
    schema: Option<String>,
}

/// Takes `url` apart; see [`PostgresStore::connect`].
fn parse_url(url: &str) -> Result<Target, PostgresStoreError> {
    let location = redact(url)?;
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    // The driver gets the URL as written, less our parameter: re-encoding the rest could
    // change it (`+` and `%20` are not the same to the driver).
    let mut schema = None;
    let mut kept = Vec::new();
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let Some((key, value)) = url::form_urlencoded::parse(part.as_bytes()).next() else {
            continue;
        };
        if key == "schema" {
            if schema.replace(value.into_owned()).is_some() {
                return Err(PostgresStoreError::InvalidUrl {
                    reason: "the schema= parameter is given twice".to_owned(),
                });
            }
        } else {
            kept.push(part);
        }
    }
    if let Some(name) = &schema {
        if !valid_schema_name(name) {
            return Err(PostgresStoreError::InvalidSchema {
                location,
                schema: name.clone(),
            });
        }
    }
    let driver_url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    let mut config = tokio_postgres::Config::from_str(&driver_url).map_err(|e| {
        PostgresStoreError::InvalidUrl {
            reason: e.to_string(),
        }
    })?;
    if let Some(name) = &schema {
        // Every connection (pooled or listening) searches the schema: the SQL names no schema.
        let options = match config.get_options() {
            Some(given) if !given.trim().is_empty() => format!("{given} -c search_path={name}"),
            _ => format!("-c search_path={name}"),
        };
        config.options(options);
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("raynet-sync");
    }
    Ok(Target {
        config,
        location,
        schema,
    })
}

/// `url` with its password (in the user part or as `password=`) replaced by `***`.
pub(in crate::store) fn redact(url: &str) -> Result<String, PostgresStoreError> {
    let mut parsed = url::Url::parse(url).map_err(|e| PostgresStoreError::InvalidUrl {
        reason: e.to_string(),
    })?;
    if !matches!(parsed.scheme(), "postgres" | "postgresql") {
        return Err(PostgresStoreError::InvalidUrl {
            reason: format!(
                "the scheme is {:?}; expected postgres:// or postgresql://",
                parsed.scheme()
            ),
        });
    }
    if parsed.password().is_some() {
        parsed
            .set_password(Some("***"))
            .map_err(|()| PostgresStoreError::InvalidUrl {
                reason: "the URL has a password but no host".to_owned(),
            })?;
    }
    if let Some(query) = parsed.query() {
        let hidden: Vec<String> = query
            .split('&')
            .map(|part| match part.split_once('=') {
                Some(("password", _)) => "password=***".to_owned(),
                _ => part.to_owned(),
            })
            .collect();
        parsed.set_query(Some(&hidden.join("&")));
    }
    Ok(parsed.into())
}

/// Whether `name` is a schema name the store accepts: lowercase ASCII letters, digits and `_`,
/// not starting with a digit, at most 63 (no quoting needed anywhere).
fn valid_schema_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= SCHEMA_NAME_MAX
}

impl PostgresStore {
    /// The wake-up sent after the listening connection was made again: "any tenant may have
    /// new notes" (notes added while nobody listened).
    pub const EVERY_TENANT: &'static str = EVERY_TENANT;

    /// A receiver of the tenants whose notes were added (by any worker), listening first if
    /// nothing listens yet (see `listen.rs`).
    pub(super) async fn subscribe_wakeups(
        &self,
    ) -> Result<tokio::sync::broadcast::Receiver<String>, StoreError> {
        let mut config = self.config.clone();
        config.application_name(listen_application_name(self.schema()));
        self.wakeups
            .subscribe(&config, self.location(), || {
                self.context("listen for notes")
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_never_shows() {
        let t = parse_url("postgres://sync:hunter2@db.local:5433/crm?schema=acme_prod").unwrap();
        assert_eq!(
            t.location,
            "postgres://sync:***@db.local:5433/crm?schema=acme_prod"
        );
        assert_eq!(t.schema.as_deref(), Some("acme_prod"));
        assert_eq!(
            t.config.get_password(),
            Some(&b"hunter2"[..]),
            "the driver has it"
        );
        assert!(!format!("{t:?}").contains("hunter2"), "{t:?}");
        let q = redact("postgresql://sync@db.local/crm?password=hunter2&sslmode=disable").unwrap();
        assert_eq!(
            q,
            "postgresql://sync@db.local/crm?password=***&sslmode=disable"
        );
        let err = parse_url("postgres://sync:hunter2@db.local/crm?schema=Bad-Name").unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("Bad-Name"), "{shown}");
    }

    #[tokio::test]
    async fn a_failed_connection_does_not_show_the_password() {
        // Port 1 on loopback: nothing listens there, the connection is refused at once.
        let err = PostgresStore::connect("postgres://sync:hunter2@127.0.0.1:1/crm?schema=acme")
            .await
            .unwrap_err();
        assert!(matches!(err, PostgresStoreError::Connect { .. }), "{err}");
        let mut shown = format!("{err} {err:?}");
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            shown = format!("{shown} {cause}");
            source = cause.source();
        }
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(
            shown.contains("postgres://sync:***@127.0.0.1:1/crm?schema=acme"),
            "{shown}"
        );
    }

    #[test]
    fn public_types_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<PostgresStore>();
        assert_send_sync::<PostgresStoreError>();
    }

    #[test]
    fn the_schema_parameter_is_ours_and_the_rest_the_drivers() {
        let t = parse_url(
            "postgres://sync@127.0.0.1/crm?application_name=w1&schema=t_1&options=-c%20work_mem%3D8MB",
        )
        .unwrap();
        assert_eq!(t.schema.as_deref(), Some("t_1"));
        assert_eq!(t.config.get_application_name(), Some("w1"));
        assert_eq!(
            t.config.get_options(),
            Some("-c work_mem=8MB -c search_path=t_1"),
            "the driver's options kept, the search path added"
        );
        assert_eq!(t.config.get_dbname(), Some("crm"));
        let plain = parse_url("postgres://sync@127.0.0.1/crm").unwrap();
        assert_eq!(plain.schema, None);
        assert_eq!(plain.config.get_options(), None);
        assert_eq!(plain.config.get_connect_timeout(), Some(&CONNECT_TIMEOUT));
    }

    #[test]
    fn bad_urls_and_schema_names_are_refused() {
        for url in [
            "not a url",
            "mysql://sync@127.0.0.1/crm",
            "postgres://sync@127.0.0.1/crm?schema=a&schema=b",
        ] {
            let err = parse_url(url).unwrap_err();
            assert!(
                matches!(err, PostgresStoreError::InvalidUrl { .. }),
                "{url}: {err}"
            );
        }
        for name in ["", "1abc", "Acme", "a-b", "a b", "a;drop", &"x".repeat(64)] {
            assert!(!valid_schema_name(name), "{name:?}");
        }
        for name in ["acme", "_x", "t_01", &"x".repeat(63)] {
            assert!(valid_schema_name(name), "{name:?}");
        }
    }
}
