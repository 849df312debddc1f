//! [`SqliteStore`] as the engine's [`StateStore`]: pairs, cursors and pending creates, each call
//! one transaction. The store behaviour shared with the other stores is tested in
//! `conformance.rs`; what is SQLite's own (a connection killed mid-transaction) is tested here.

use async_trait::async_trait;
use rusqlite::{Connection, Transaction, params};
use sync_core::{
    Cursor, IdempotencyKey, PairId, PairRecord, PendingCreate, Scope, Side, StateStore, StoreError,
    StoredState, SyncItem,
};

use super::error::TxError;
use super::open::SqliteStore;
use super::rows::{decode, find_scope_id, pair_row_id, parse_side, scope_id, side_text, to_json};

/// Inserts (`id` = `None`) or replaces a pair of scope `sid`.
fn store_pair<T: SyncItem>(
    tx: &Transaction<'_>,
    sid: i64,
    id: Option<PairId>,
    pair: &PairRecord<T>,
) -> Result<PairId, TxError> {
    let record = to_json("a pair", pair)?;
    let raynet = pair.raynet.as_ref().map(|r| r.id.as_str());
    let outlook = pair.outlook.as_ref().map(|r| r.id.as_str());
    let Some(id) = id else {
        tx.execute(
            "INSERT INTO pairs (scope_id, record, raynet_id, outlook_id) VALUES (?1, ?2, ?3, ?4)",
            params![sid, record, raynet, outlook],
        )?;
        let row = tx.last_insert_rowid();
        return Ok(PairId::from_store(u64::try_from(row).map_err(|e| {
            StoreError::with_source(format!("unexpected pair row id {row}"), e)
        })?));
    };
    let row = pair_row_id(id)?;
    let changed = tx.execute(
        "INSERT INTO pairs (id, scope_id, record, raynet_id, outlook_id)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET
            record = excluded.record, raynet_id = excluded.raynet_id,
            outlook_id = excluded.outlook_id
         WHERE pairs.scope_id = excluded.scope_id",
        params![row, sid, record, raynet, outlook],
    )?;
    if changed == 0 {
        return Err(StoreError::new(format!("pair {id} belongs to another scope")).into());
    }
    Ok(id)
}

#[async_trait]
impl<T: SyncItem> StateStore<T> for SqliteStore {
    async fn load(&self, scope: &Scope) -> Result<StoredState<T>, StoreError> {
        let mut conn = self.lock();
        let context = || format!("cannot load {scope} from {}", self.path().display());
        let run = |conn: &mut Connection| -> Result<StoredState<T>, TxError> {
            let tx = conn.transaction()?;
            let mut state = StoredState::default();
            let Some(sid) = find_scope_id(&tx, scope)? else {
                return Ok(state);
            };
            // In id order, so that each insert into `Pairs` is an append.
            let mut stmt =
                tx.prepare("SELECT id, record FROM pairs WHERE scope_id = ?1 ORDER BY id")?;
            let rows =
                stmt.query_map([sid], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
            for row in rows {
                let (id, record) = row?;
                let id = u64::try_from(id)
                    .map_err(|e| StoreError::with_source(format!("damaged pair id {id}"), e))?;
                state
                    .pairs
                    .insert(PairId::from_store(id), decode("pair", scope, &record)?);
            }
            state.pairs.shrink_to_fit();
            let mut stmt = tx.prepare("SELECT side, cursor FROM cursors WHERE scope_id = ?1")?;
            let rows = stmt.query_map([sid], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?;
            for row in rows {
                let (side, cursor) = row?;
                let cursor = Cursor::new(cursor).map_err(|e| {
                    StoreError::with_source(format!("damaged cursor in {scope}"), e)
                })?;
                state.cursors.insert(parse_side(&side)?, cursor);
            }
            let mut stmt =
                tx.prepare("SELECT record FROM pending WHERE scope_id = ?1 ORDER BY id")?;
            let rows = stmt.query_map([sid], |r| r.get::<_, String>(0))?;
            for row in rows {
                state
                    .pending
                    .push(decode::<PendingCreate<T>>("pending create", scope, &row?)?);
            }
            Ok(state)
        };
        run(&mut conn).map_err(|e| e.into_store(context()))
    }

    async fn put_pair(
        &self,
        scope: &Scope,
        id: Option<PairId>,
        pair: &PairRecord<T>,
    ) -> Result<PairId, StoreError> {
        self.write("store a pair", scope, |tx| {
            let sid = scope_id(tx, scope)?;
            store_pair(tx, sid, id, pair)
        })
    }

    async fn remove_pair(&self, scope: &Scope, id: PairId) -> Result<(), StoreError> {
        self.write("remove a pair", scope, |tx| {
            if let Some(sid) = find_scope_id(tx, scope)? {
                tx.execute(
                    "DELETE FROM pairs WHERE id = ?1 AND scope_id = ?2",
                    params![pair_row_id(id)?, sid],
                )?;
            }
            Ok(())
        })
    }

    async fn put_cursor(
        &self,
        scope: &Scope,
        side: Side,
        cursor: Option<&Cursor>,
    ) -> Result<(), StoreError> {
        self.write("store a cursor", scope, |tx| {
            let sid = scope_id(tx, scope)?;
            match cursor {
                Some(c) => tx.execute(
                    "INSERT INTO cursors (scope_id, side, cursor) VALUES (?1, ?2, ?3)
                     ON CONFLICT (scope_id, side) DO UPDATE SET cursor = excluded.cursor",
                    params![sid, side_text(side), c.as_str()],
                )?,
                None => tx.execute(
                    "DELETE FROM cursors WHERE scope_id = ?1 AND side = ?2",
                    params![sid, side_text(side)],
                )?,
            };
            Ok(())
        })
    }

    async fn add_pending(
        &self,
        scope: &Scope,
        pending: &PendingCreate<T>,
    ) -> Result<(), StoreError> {
        self.write("record a pending create", scope, |tx| {
            let sid = scope_id(tx, scope)?;
            let record = to_json("a pending create", pending)?;
            // Re-adding a key moves it to the end, as the in-memory store does.
            tx.execute(
                "DELETE FROM pending WHERE scope_id = ?1 AND key = ?2",
                params![sid, pending.key.as_str()],
            )?;
            tx.execute(
                "INSERT INTO pending (scope_id, key, record) VALUES (?1, ?2, ?3)",
                params![sid, pending.key.as_str(), record],
            )?;
            Ok(())
        })
    }

    async fn resolve_pending(
        &self,
        scope: &Scope,
        key: &IdempotencyKey,
        pair_id: Option<PairId>,
        pair: Option<&PairRecord<T>>,
    ) -> Result<Option<PairId>, StoreError> {
        self.write("resolve a pending create", scope, |tx| {
            let sid = scope_id(tx, scope)?;
            tx.execute(
                "DELETE FROM pending WHERE scope_id = ?1 AND key = ?2",
                params![sid, key.as_str()],
            )?;
            #[cfg(test)]
            if self
                .crash_in_resolve
                .swap(false, std::sync::atomic::Ordering::SeqCst)
            {
                return Err(StoreError::new("simulated crash inside resolve_pending").into());
            }
            pair.map(|p| store_pair(tx, sid, pair_id, p)).transpose()
        })
    }

    async fn scopes(&self) -> Result<Vec<Scope>, StoreError> {
        Ok(self.status()?.into_iter().map(|s| s.scope).collect())
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use sync_core::Event;

    use super::*;
    use crate::store::error::StateFileError;
    use crate::store::status::ScopeStatus;
    use crate::testutil::{TempDir, state_file};

    use crate::store::conformance::fixtures::{pair, pending, scope};

    async fn load(store: &SqliteStore) -> StoredState<Event> {
        StateStore::<Event>::load(store, &scope()).await.unwrap()
    }

    /// A store on a fresh state file: the directory (removed on drop), the file, the store.
    fn fresh_store(label: &str) -> (TempDir, PathBuf, SqliteStore) {
        let (dir, path) = state_file(label);
        let store = SqliteStore::open(&path).unwrap();
        (dir, path, store)
    }

    /// Resolves the pending create `key` of [`scope`] by storing `pair` as a new pair.
    async fn resolve(
        store: &SqliteStore,
        key: &str,
        pair: &PairRecord<Event>,
    ) -> Result<Option<PairId>, StoreError> {
        let key = IdempotencyKey::new(key).unwrap();
        store
            .resolve_pending(&scope(), &key, None, Some(pair))
            .await
    }

    #[test]
    fn a_connection_dropped_mid_transaction_leaves_old_or_new_never_both() {
        block_on(async {
            let (_dir, path, store) = fresh_store("store-kill");
            store.add_pending(&scope(), &pending("r-7")).await.unwrap();
            drop(store);

            // Another connection does half of what resolve_pending does, then goes away
            // without committing, as a killed process would.
            {
                let mut raw = Connection::open(&path).unwrap();
                let tx = raw.transaction().unwrap();
                tx.execute("DELETE FROM pending", []).unwrap();
                // No commit and no rollback statement: the connection just closes.
                std::mem::forget(tx);
                drop(raw);
            }

            let store = SqliteStore::open(&path).unwrap();
            let s = load(&store).await;
            assert_eq!((s.pending.len(), s.pairs.len()), (1, 0), "old state");
            resolve(&store, "r-7", &pair("7", "G")).await.unwrap();
            drop(store);
            let store = SqliteStore::open(&path).unwrap();
            let s = load(&store).await;
            assert_eq!((s.pending.len(), s.pairs.len()), (0, 1), "new state");
        });
    }

    #[test]
    fn public_types_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<SqliteStore>();
        assert_send_sync::<StateFileError>();
        assert_send_sync::<ScopeStatus>();
        assert_send_sync::<crate::config::Config>();
        assert_send_sync::<crate::config::ConfigError>();
        let _: &dyn StateStore<Event> = &SqliteStore::open(Path::new(":memory:")).unwrap();
    }

    /// Runs a future on a current-thread tokio runtime.
    fn block_on(f: impl std::future::Future<Output = ()>) {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f);
    }
}
