//! [`PostgresStore`] as the engine's [`StateStore`]: pairs, cursors and pending creates, each
//! call one transaction. Records are kept as the same JSON as the SQLite file's.

use async_trait::async_trait;
use sync_core::{
    Cursor, IdempotencyKey, PairId, PairRecord, PendingCreate, Scope, Side, StateStore, StoreError,
    StoredState, SyncItem,
};
use tokio_postgres::{IsolationLevel, Transaction};

use super::super::rows::{
    collection_text, decode, pair_row_id, parse_collection, parse_side, side_text, to_json,
};
use super::connect::{PostgresStore, with_context};
use super::error::TxError;

/// The scope's row id, creating the row (a worker creating it at the same time is waited for).
pub(super) async fn scope_id(
    tx: &Transaction<'_>,
    scope: &Scope,
) -> Result<i64, tokio_postgres::Error> {
    if let Some(id) = find_scope_id(tx, scope).await? {
        return Ok(id);
    }
    let c = collection_text(scope.collection);
    let inserted = tx
        .query_opt(
            "INSERT INTO scopes (tenant, member, collection) VALUES ($1, $2, $3)
             ON CONFLICT (tenant, member, collection) DO NOTHING RETURNING id",
            &[&scope.tenant, &scope.member, &c],
        )
        .await?;
    match inserted {
        Some(row) => row.try_get(0),
        // Another worker created it meanwhile (and committed: the insert waited for it).
        None => tx
            .query_one(
                "SELECT id FROM scopes WHERE tenant = $1 AND member = $2 AND collection = $3",
                &[&scope.tenant, &scope.member, &c],
            )
            .await?
            .try_get(0),
    }
}

/// The scope's row id, if it has one.
async fn find_scope_id(
    tx: &Transaction<'_>,
    scope: &Scope,
) -> Result<Option<i64>, tokio_postgres::Error> {
    tx.query_opt(
        "SELECT id FROM scopes WHERE tenant = $1 AND member = $2 AND collection = $3",
        &[
            &scope.tenant,
            &scope.member,
            &collection_text(scope.collection),
        ],
    )
    .await?
    .map(|r| r.try_get(0))
    .transpose()
}

impl PostgresStore {
    /// The row id of `scope` when it is known to be committed (seen before).
    fn known_scope(&self, scope: &Scope) -> Option<i64> {
        self.scope_ids
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(scope)
            .copied()
    }

    /// The row id of `scope` in `tx`, creating the row; remembered once it is known to be
    /// committed (found by a read, not made by this transaction, which may still roll back).
    async fn scope_in(&self, tx: &Transaction<'_>, scope: &Scope) -> Result<i64, TxError> {
        if let Some(id) = self.known_scope(scope) {
            return Ok(id);
        }
        if let Some(id) = find_scope_id(tx, scope).await? {
            self.scope_ids
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(scope.clone(), id);
            return Ok(id);
        }
        Ok(scope_id(tx, scope).await?)
    }
}

/// A pair id read from the database.
fn pair_id(row: i64) -> Result<PairId, StoreError> {
    u64::try_from(row)
        .map(PairId::from_store)
        .map_err(|e| StoreError::with_source(format!("damaged pair id {row}"), e))
}

/// Inserts (`id` = `None`, with a new id from the sequence) or replaces a pair of scope `sid`.
/// A new pair (its id from the sequence).
const INSERT_PAIR: &str = "INSERT INTO pairs (scope_id, record, raynet_id, outlook_id)
     VALUES ($1, $2, $3, $4) RETURNING id";
/// A pair stored under its id (replaced when it is the scope's).
const UPSERT_PAIR: &str = "INSERT INTO pairs (id, scope_id, record, raynet_id, outlook_id)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (id) DO UPDATE SET
        record = excluded.record, raynet_id = excluded.raynet_id,
        outlook_id = excluded.outlook_id
     WHERE pairs.scope_id = excluded.scope_id";
/// A pending create forgotten.
const DELETE_PENDING: &str = "DELETE FROM pending WHERE scope_id = $1 AND key = $2";
/// A pending create recorded.
const INSERT_PENDING: &str = "INSERT INTO pending (scope_id, key, record) VALUES ($1, $2, $3)";

/// The statements a pair's write uses, prepared once per pooled connection (the pool keeps
/// them): a write is then one round trip per statement instead of two.
struct PairStatements {
    insert: tokio_postgres::Statement,
    upsert: tokio_postgres::Statement,
}

impl PairStatements {
    async fn prepare(client: &deadpool_postgres::Object) -> Result<Self, TxError> {
        Ok(Self {
            insert: client.prepare_cached(INSERT_PAIR).await?,
            upsert: client.prepare_cached(UPSERT_PAIR).await?,
        })
    }
}

async fn store_pair<T: SyncItem, C: tokio_postgres::GenericClient + Sync>(
    tx: &C,
    statements: &PairStatements,
    sid: i64,
    id: Option<PairId>,
    pair: &PairRecord<T>,
) -> Result<PairId, TxError> {
    let record = to_json("a pair", pair)?;
    let raynet = pair.raynet.as_ref().map(|r| r.id.as_str());
    let outlook = pair.outlook.as_ref().map(|r| r.id.as_str());
    let Some(id) = id else {
        let row = tx
            .query_one(&statements.insert, &[&sid, &record, &raynet, &outlook])
            .await?;
        return Ok(pair_id(row.try_get(0)?)?);
    };
    let row = pair_row_id(id)?;
    let changed = tx
        .execute(
            &statements.upsert,
            &[&row, &sid, &record, &raynet, &outlook],
        )
        .await?;
    if changed == 0 {
        return Err(StoreError::new(format!("pair {id} belongs to another scope")).into());
    }
    Ok(id)
}

#[async_trait]
impl<T: SyncItem> StateStore<T> for PostgresStore {
    async fn load(&self, scope: &Scope) -> Result<StoredState<T>, StoreError> {
        let call = async {
            let mut client = self.client().await?;
            // One snapshot for the three reads, as SQLite's read transaction gives.
            let tx = client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await?;
            let mut state = StoredState::default();
            let Some(sid) = find_scope_id(&tx, scope).await? else {
                return Ok(state);
            };
            // In id order, so that each insert into `Pairs` is an append.
            let rows = tx
                .query(
                    "SELECT id, record FROM pairs WHERE scope_id = $1 ORDER BY id",
                    &[&sid],
                )
                .await?;
            for row in rows {
                let id = pair_id(row.try_get(0)?)?;
                let record: &str = row.try_get(1)?;
                state.pairs.insert(id, decode("pair", scope, record)?);
            }
            state.pairs.shrink_to_fit();
            let rows = tx
                .query(
                    "SELECT side, cursor FROM cursors WHERE scope_id = $1",
                    &[&sid],
                )
                .await?;
            for row in rows {
                let side = parse_side(row.try_get(0)?)?;
                let cursor = Cursor::new(row.try_get::<_, String>(1)?).map_err(|e| {
                    StoreError::with_source(format!("damaged cursor in {scope}"), e)
                })?;
                state.cursors.insert(side, cursor);
            }
            let rows = tx
                .query(
                    "SELECT record FROM pending WHERE scope_id = $1 ORDER BY id",
                    &[&sid],
                )
                .await?;
            for row in rows {
                state.pending.push(decode::<PendingCreate<T>>(
                    "pending create",
                    scope,
                    row.try_get(0)?,
                )?);
            }
            tx.commit().await?;
            Ok(state)
        };
        with_context(call, || self.scope_context("load the state", scope)).await
    }

    async fn put_pair(
        &self,
        scope: &Scope,
        id: Option<PairId>,
        pair: &PairRecord<T>,
    ) -> Result<PairId, StoreError> {
        let call = async {
            let mut client = self.client().await?;
            let statements = PairStatements::prepare(&client).await?;
            if let Some(sid) = self.known_scope(scope) {
                // One statement: atomic without a transaction of its own.
                return store_pair(&**client, &statements, sid, id, pair).await;
            }
            // A scope seen for the first time may need its row made first: one transaction.
            let tx = client.transaction().await?;
            let sid = self.scope_in(&tx, scope).await?;
            let id = store_pair(&*tx, &statements, sid, id, pair).await?;
            tx.commit().await?;
            Ok(id)
        };
        with_context(call, || self.scope_context("store a pair", scope)).await
    }

    async fn remove_pair(&self, scope: &Scope, id: PairId) -> Result<(), StoreError> {
        let call = async {
            let client = self.client().await?;
            // One statement: atomic without a transaction of its own.
            client
                .execute(
                    "DELETE FROM pairs p USING scopes s
                     WHERE p.id = $1 AND p.scope_id = s.id
                       AND s.tenant = $2 AND s.member = $3 AND s.collection = $4",
                    &[
                        &pair_row_id(id)?,
                        &scope.tenant,
                        &scope.member,
                        &collection_text(scope.collection),
                    ],
                )
                .await?;
            Ok(())
        };
        with_context(call, || self.scope_context("remove a pair", scope)).await
    }

    async fn put_cursor(
        &self,
        scope: &Scope,
        side: Side,
        cursor: Option<&Cursor>,
    ) -> Result<(), StoreError> {
        let call = async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let sid = self.scope_in(&tx, scope).await?;
            let side = side_text(side);
            match cursor {
                Some(c) => {
                    tx.execute(
                        "INSERT INTO cursors (scope_id, side, cursor) VALUES ($1, $2, $3)
                         ON CONFLICT (scope_id, side) DO UPDATE SET cursor = excluded.cursor",
                        &[&sid, &side, &c.as_str()],
                    )
                    .await?
                }
                None => {
                    tx.execute(
                        "DELETE FROM cursors WHERE scope_id = $1 AND side = $2",
                        &[&sid, &side],
                    )
                    .await?
                }
            };
            tx.commit().await?;
            Ok(())
        };
        with_context(call, || self.scope_context("store a cursor", scope)).await
    }

    async fn add_pending(
        &self,
        scope: &Scope,
        pending: &PendingCreate<T>,
    ) -> Result<(), StoreError> {
        let call = async {
            let record = to_json("a pending create", pending)?;
            let mut client = self.client().await?;
            let delete = client.prepare_cached(DELETE_PENDING).await?;
            let insert = client.prepare_cached(INSERT_PENDING).await?;
            let tx = client.transaction().await?;
            let sid = self.scope_in(&tx, scope).await?;
            // Re-adding a key moves it to the end (a new id), as the in-memory store does.
            tx.execute(&delete, &[&sid, &pending.key.as_str()]).await?;
            tx.execute(&insert, &[&sid, &pending.key.as_str(), &record])
                .await?;
            tx.commit().await?;
            Ok(())
        };
        with_context(call, || {
            self.scope_context("record a pending create", scope)
        })
        .await
    }

    async fn resolve_pending(
        &self,
        scope: &Scope,
        key: &IdempotencyKey,
        pair_id: Option<PairId>,
        pair: Option<&PairRecord<T>>,
    ) -> Result<Option<PairId>, StoreError> {
        let call = async {
            let mut client = self.client().await?;
            let delete = client.prepare_cached(DELETE_PENDING).await?;
            let statements = PairStatements::prepare(&client).await?;
            let tx = client.transaction().await?;
            let sid = self.scope_in(&tx, scope).await?;
            tx.execute(&delete, &[&sid, &key.as_str()]).await?;
            #[cfg(test)]
            if self
                .crash_in_resolve
                .swap(false, std::sync::atomic::Ordering::SeqCst)
            {
                // Returning drops the transaction uncommitted: it is rolled back.
                return Err(StoreError::new("simulated crash inside resolve_pending").into());
            }
            let stored = match pair {
                Some(p) => Some(store_pair(&*tx, &statements, sid, pair_id, p).await?),
                None => None,
            };
            tx.commit().await?;
            Ok(stored)
        };
        with_context(call, || {
            self.scope_context("resolve a pending create", scope)
        })
        .await
    }

    async fn scopes(&self) -> Result<Vec<Scope>, StoreError> {
        let call = async {
            let client = self.client().await?;
            let rows = client
                .query(
                    "SELECT tenant, member, collection FROM scopes
                     ORDER BY tenant COLLATE \"C\", member COLLATE \"C\", collection COLLATE \"C\"",
                    &[],
                )
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let collection = parse_collection(row.try_get(2)?)?;
                out.push(Scope::new(
                    row.try_get::<_, String>(0)?,
                    row.try_get::<_, String>(1)?,
                    collection,
                ));
            }
            Ok(out)
        };
        with_context(call, || self.context("list the scopes")).await
    }
}
