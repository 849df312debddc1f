//! [`SqliteStore`] as the engine's [`StateStore`]: pairs, cursors and pending creates, each call
//! one transaction. The tests here fill a store through this trait, so they also cover the
//! status queries of `status.rs`.

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

    use chrono::{TimeZone, Utc};
    use sync_core::{Collection, Event, RemoteId, Schedule, SideRecord, Version};

    use super::*;
    use crate::store::error::StateFileError;
    use crate::store::status::{ROUNDS_KEPT, ScopeStatus};
    use crate::testutil::{TempDir, state_file};

    fn scope() -> Scope {
        Scope::new("acme", "jana@acme.cz", Collection::Calendar)
    }

    fn event(title: &str) -> Event {
        let start = Utc.with_ymd_and_hms(2026, 3, 29, 0, 30, 0).unwrap();
        Event::new(
            title,
            Schedule::Timed {
                start,
                end: start + chrono::Duration::hours(1),
            },
        )
    }

    fn side(id: &str, title: &str) -> SideRecord<Event> {
        SideRecord {
            id: RemoteId::new(id).unwrap(),
            version: Version::new(format!("v-{id}")).unwrap(),
            base: event(title),
        }
    }

    fn pair(r: &str, o: &str) -> PairRecord<Event> {
        PairRecord {
            raynet: Some(side(r, "Kickoff")),
            outlook: Some(side(o, "Kickoff")),
            origin: Side::Raynet,
        }
    }

    fn pending(key: &str) -> PendingCreate<Event> {
        PendingCreate {
            key: IdempotencyKey::new(key).unwrap(),
            target: Side::Outlook,
            pair: None,
            record: PairRecord {
                raynet: Some(side("42", "Kickoff")),
                outlook: None,
                origin: Side::Raynet,
            },
            item: event("Kickoff"),
        }
    }

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
    fn every_method_round_trips_and_survives_reopen() {
        block_on(async {
            let (_dir, path, store) = fresh_store("store-roundtrip");
            assert_eq!(load(&store).await, StoredState::default());
            assert!(
                StateStore::<Event>::scopes(&store)
                    .await
                    .unwrap()
                    .is_empty()
            );

            let a = store
                .put_pair(&scope(), None, &pair("1", "A"))
                .await
                .unwrap();
            let b = store
                .put_pair(&scope(), None, &pair("2", "B"))
                .await
                .unwrap();
            assert_ne!(a, b);
            let mut changed = pair("1", "A");
            changed.outlook = Some(side("A2", "Kickoff moved"));
            assert_eq!(
                store.put_pair(&scope(), Some(a), &changed).await.unwrap(),
                a
            );
            StateStore::<Event>::remove_pair(&store, &scope(), b)
                .await
                .unwrap();

            let cursor = Cursor::new("delta-token-1").unwrap();
            StateStore::<Event>::put_cursor(&store, &scope(), Side::Outlook, Some(&cursor))
                .await
                .unwrap();
            let c2 = Cursor::new("watermark").unwrap();
            StateStore::<Event>::put_cursor(&store, &scope(), Side::Raynet, Some(&c2))
                .await
                .unwrap();
            StateStore::<Event>::put_cursor(&store, &scope(), Side::Raynet, None)
                .await
                .unwrap();

            store.add_pending(&scope(), &pending("r-1")).await.unwrap();
            store.add_pending(&scope(), &pending("r-2")).await.unwrap();
            store.add_pending(&scope(), &pending("r-1")).await.unwrap();

            let check = |s: StoredState<Event>| {
                assert_eq!(s.pairs.len(), 1);
                assert_eq!(s.pairs.get(&a), Some(&changed));
                assert_eq!(s.cursors.len(), 1);
                assert_eq!(s.cursors[&Side::Outlook], cursor);
                let keys: Vec<_> = s
                    .pending
                    .iter()
                    .map(|p| p.key.as_str().to_owned())
                    .collect();
                assert_eq!(keys, ["r-2", "r-1"], "re-adding a key moves it to the end");
                assert_eq!(s.pending[1], pending("r-1"));
            };
            check(load(&store).await);
            drop(store);

            let store = SqliteStore::open(&path).unwrap();
            check(load(&store).await);
            assert_eq!(
                StateStore::<Event>::scopes(&store).await.unwrap(),
                vec![scope()]
            );

            let c = resolve(&store, "r-2", &pair("3", "C"))
                .await
                .unwrap()
                .unwrap();
            assert!(c > b, "pair ids are never reused");
            let none = StateStore::<Event>::resolve_pending(
                &store,
                &scope(),
                &IdempotencyKey::new("r-1").unwrap(),
                None,
                None,
            )
            .await
            .unwrap();
            assert_eq!(none, None);
            let s = load(&store).await;
            assert!(s.pending.is_empty());
            assert_eq!(s.pairs.len(), 2);
            assert_eq!(s.pairs.get(&c), Some(&pair("3", "C")));
        });
    }

    #[test]
    fn scopes_are_kept_apart() {
        block_on(async {
            let (_dir, _, store) = fresh_store("store-scopes");
            let other = Scope::new("acme", "petr@acme.cz", Collection::Calendar);
            let a = store
                .put_pair(&scope(), None, &pair("1", "A"))
                .await
                .unwrap();
            let err = store.put_pair(&other, Some(a), &pair("1", "A")).await;
            assert!(
                err.is_err(),
                "a pair id of one scope cannot be written in another"
            );
            StateStore::<Event>::remove_pair(&store, &other, a)
                .await
                .unwrap();
            assert_eq!(load(&store).await.pairs.len(), 1);
            let o: StoredState<Event> = store.load(&other).await.unwrap();
            assert!(o.pairs.is_empty());
        });
    }

    #[test]
    fn a_crash_inside_resolve_pending_leaves_the_old_state() {
        block_on(async {
            let (_dir, path, store) = fresh_store("store-crash");
            store.add_pending(&scope(), &pending("r-42")).await.unwrap();
            store
                .crash_in_resolve
                .store(true, std::sync::atomic::Ordering::SeqCst);
            let res = resolve(&store, "r-42", &pair("42", "X")).await;
            assert!(res.is_err());
            drop(store);

            let store = SqliteStore::open(&path).unwrap();
            let s = load(&store).await;
            assert_eq!(s.pending.len(), 1, "the pending create is still there");
            assert!(s.pairs.is_empty(), "and no pair was stored");
            resolve(&store, "r-42", &pair("42", "X")).await.unwrap();
            let s = load(&store).await;
            assert!(s.pending.is_empty());
            assert_eq!(s.pairs.len(), 1, "exactly one pair after the retry");
        });
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
    fn cursors_of_lists_one_tenants_cursors() {
        block_on(async {
            let (_dir, _, store) = fresh_store("store-cursors");
            assert!(store.cursors_of("acme").unwrap().is_empty());
            let put = |tenant: &str, member: &str, c: Collection, side: Side, v: &str| {
                let scope = Scope::new(tenant, member, c);
                let cursor = Cursor::new(v).unwrap();
                let store = &store;
                async move {
                    StateStore::<Event>::put_cursor(store, &scope, side, Some(&cursor))
                        .await
                        .unwrap();
                }
            };
            put(
                "acme",
                "jana@acme.test",
                Collection::Calendar,
                Side::Raynet,
                "r1",
            )
            .await;
            put(
                "acme",
                "jana@acme.test",
                Collection::Calendar,
                Side::Outlook,
                "o1",
            )
            .await;
            put(
                "acme",
                "petr@acme.test",
                Collection::Contacts,
                Side::Raynet,
                "r2",
            )
            .await;
            put(
                "other",
                "jana@acme.test",
                Collection::Calendar,
                Side::Raynet,
                "x",
            )
            .await;
            let got: Vec<(String, Collection, Side, String)> = store
                .cursors_of("acme")
                .unwrap()
                .into_iter()
                .map(|(s, side, c)| (s.member, s.collection, side, c.as_str().to_owned()))
                .collect();
            assert_eq!(got.len(), 3, "{got:?}");
            assert!(got.contains(&(
                "jana@acme.test".into(),
                Collection::Calendar,
                Side::Outlook,
                "o1".into()
            )));
            assert!(got.contains(&(
                "petr@acme.test".into(),
                Collection::Contacts,
                Side::Raynet,
                "r2".into()
            )));
            assert!(!got.iter().any(|g| g.3 == "x"), "another tenant's");
        });
    }

    #[test]
    fn status_counts_and_last_rounds() {
        block_on(async {
            let (_dir, _, store) = fresh_store("store-status");
            assert!(store.status().unwrap().is_empty());
            store
                .put_pair(&scope(), None, &pair("1", "A"))
                .await
                .unwrap();
            store.add_pending(&scope(), &pending("r-9")).await.unwrap();
            let contacts = Scope::new("acme", "jana@acme.cz", Collection::Contacts);
            let t1 = Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap();
            for n in 0..60 {
                store
                    .record_round(
                        &scope(),
                        &serde_json::json!({ "round": n }),
                        t1 + chrono::Duration::minutes(n),
                    )
                    .unwrap();
            }
            store
                .record_round(&contacts, &serde_json::json!({ "writes": 0 }), t1)
                .unwrap();
            let st = store.status().unwrap();
            assert_eq!(st.len(), 2);
            assert_eq!((st[0].pairs, st[0].pending, st[0].cursors), (1, 1, 0));
            let last = st[0].last_round.as_ref().unwrap();
            assert_eq!(last.summary["round"], 59);
            assert_eq!(last.finished_at, t1 + chrono::Duration::minutes(59));
            assert_eq!(st[1].scope, contacts);
            assert_eq!(store.last_rounds().unwrap().len(), 2);
            let conn = store.lock();
            let kept: i64 = conn
                .query_row("SELECT count(*) FROM rounds", [], |r| r.get(0))
                .unwrap();
            assert_eq!(kept, ROUNDS_KEPT + 1, "old rounds are pruned");
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

    #[test]
    fn two_processes_can_share_the_file() {
        block_on(async {
            let (_dir, path, one) = fresh_store("store-shared");
            let two = SqliteStore::open(&path).unwrap();
            one.put_pair(&scope(), None, &pair("1", "A")).await.unwrap();
            two.put_pair(&scope(), None, &pair("2", "B")).await.unwrap();
            assert_eq!(load(&one).await.pairs.len(), 2);
            assert_eq!(two.status().unwrap()[0].pairs, 2);
        });
    }

    /// Runs a future on a current-thread tokio runtime.
    fn block_on(f: impl std::future::Future<Output = ()>) {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f);
    }
}
