//! Leases in the state file: who runs a member's rounds. One process usually serves a file, but
//! two pointed at the same file (a second `serve` by mistake, a `run` beside it) share the work
//! through these rows as PostgreSQL's workers do. Expiries come from this machine's clock (every
//! process of one file runs on one machine).

use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension as _, params};
use sync_core::{Email, StoreError};

use super::error::sql_err;
use super::open::SqliteStore;
use super::rows::query_rows;
use super::service::{Lease, LeaseTaken, MEMBER_ROUNDS_KEPT, MemberRound};

impl SqliteStore {
    /// Takes or renews lease `name` for `holder`; see [`super::ServiceStore::take_lease`].
    pub(super) fn take_lease_now(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<LeaseTaken, StoreError> {
        let now = Utc::now();
        let expires = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::TimeDelta::MAX);
        let fail = sql_err("take a lease");
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(&fail)?;
        let taken = (|| -> Result<LeaseTaken, rusqlite::Error> {
            let found: Option<(String, i64, i64)> = tx
                .query_row(
                    "SELECT holder, expires_at, epoch FROM leases WHERE name = ?1",
                    [name],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let lease = |holder: String, expires_at: i64, epoch: i64| Lease {
                name: name.to_owned(),
                holder,
                expires_at: millis_to_time(expires_at),
                epoch,
            };
            let epoch = match found {
                Some((h, exp, epoch)) if h != holder && exp > now.timestamp_millis() => {
                    return Ok(LeaseTaken::HeldBy(lease(h, exp, epoch)));
                }
                Some((h, exp, epoch)) if h == holder && exp > now.timestamp_millis() => epoch,
                Some((_, _, epoch)) => epoch + 1,
                None => 1,
            };
            tx.execute(
                "INSERT INTO leases (name, holder, expires_at, epoch) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,
                    expires_at = excluded.expires_at, epoch = excluded.epoch",
                params![name, holder, expires.timestamp_millis(), epoch],
            )?;
            Ok(LeaseTaken::Held(lease(
                holder.to_owned(),
                expires.timestamp_millis(),
                epoch,
            )))
        })()
        .map_err(&fail)?;
        tx.commit().map_err(&fail)?;
        Ok(taken)
    }

    /// Gives lease `name` up if `holder` holds it.
    pub(super) fn release_lease_now(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        // Released, not forgotten: the row keeps its epoch (the next holder's is one more), and
        // it lapsed a millisecond ago.
        let lapsed = Utc::now().timestamp_millis() - 1;
        self.lock()
            .execute(
                "UPDATE leases SET expires_at = ?3 WHERE name = ?1 AND holder = ?2",
                params![name, holder, lapsed],
            )
            .map(drop)
            .map_err(sql_err("give a lease up"))
    }

    /// Every lease recorded, ordered by name.
    pub(super) fn all_leases(&self) -> Result<Vec<Lease>, StoreError> {
        let rows: Vec<(String, String, i64, i64)> = query_rows(
            &self.lock(),
            "read the leases",
            "SELECT name, holder, expires_at, epoch FROM leases ORDER BY name",
            [],
        )?;
        Ok(rows
            .into_iter()
            .map(|(name, holder, expires_at, epoch)| Lease {
                name,
                holder,
                expires_at: millis_to_time(expires_at),
                epoch,
            })
            .collect())
    }
}

impl SqliteStore {
    /// Logs the start of rounds; see [`super::ServiceStore::begin_member_rounds`].
    pub(super) fn begin_member_rounds_now(
        &self,
        tenant: &str,
        members: &[Email],
        worker: &str,
    ) -> Result<Vec<i64>, StoreError> {
        let fail = sql_err("log the start of member rounds");
        let now = Utc::now().timestamp_millis();
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(&fail)?;
        let mut ids = Vec::with_capacity(members.len());
        for m in members {
            tx.execute(
                "INSERT INTO member_rounds (tenant, member, worker, started_at) VALUES (?1, ?2, ?3, ?4)",
                params![tenant, m.as_str(), worker, now],
            )
            .map_err(&fail)?;
            ids.push(tx.last_insert_rowid());
        }
        tx.execute(
            "DELETE FROM member_rounds WHERE tenant = ?1 AND id <= \
             (SELECT max(id) FROM member_rounds WHERE tenant = ?1) - ?2",
            params![tenant, MEMBER_ROUNDS_KEPT],
        )
        .map_err(&fail)?;
        tx.commit().map_err(&fail)?;
        Ok(ids)
    }

    /// Logs the end of rounds; see [`super::ServiceStore::end_member_rounds`].
    pub(super) fn end_member_rounds_now(&self, ids: &[i64]) -> Result<(), StoreError> {
        let fail = sql_err("log the end of member rounds");
        let now = Utc::now().timestamp_millis();
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(&fail)?;
        for id in ids {
            tx.execute(
                "UPDATE member_rounds SET finished_at = ?2 WHERE id = ?1",
                params![id, now],
            )
            .map_err(&fail)?;
        }
        tx.commit().map_err(&fail)
    }

    /// The member rounds logged for `tenant`, oldest first.
    pub(super) fn member_rounds_of(&self, tenant: &str) -> Result<Vec<MemberRound>, StoreError> {
        let rows: Vec<(i64, String, String, i64, Option<i64>)> = query_rows(
            &self.lock(),
            "read the member rounds",
            "SELECT id, member, worker, started_at, finished_at FROM member_rounds
             WHERE tenant = ?1 ORDER BY id",
            [tenant],
        )?;
        Ok(rows
            .into_iter()
            .map(|(id, member, worker, started, finished)| MemberRound {
                id,
                tenant: tenant.to_owned(),
                member,
                worker,
                started_at: millis_to_time(started),
                finished_at: finished.map(millis_to_time),
            })
            .collect())
    }
}

fn millis_to_time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::MAX_UTC)
}
