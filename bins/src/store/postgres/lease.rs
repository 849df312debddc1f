//! Leases: which worker runs a member's rounds (or a tenant's subscriptions). Expiries come
//! from the database's clock (`now()`), so workers with skewed clocks still agree.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sync_core::{Email, StoreError};
use tokio_postgres::Row;

use super::super::service::{Lease, LeaseTaken, MEMBER_ROUNDS_KEPT, MemberRound};
use super::connect::{PostgresStore, with_context};
use super::error::TxError;

/// The longest lease: a century, in milliseconds (a longer one would overflow an interval).
const TTL_MAX_MS: i64 = 100 * 366 * 24 * 3600 * 1000;

impl PostgresStore {
    /// Takes or renews lease `name` for `holder`; see
    /// [`ServiceStore::take_lease`](super::super::ServiceStore::take_lease).
    pub(super) async fn take_lease_now(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<LeaseTaken, StoreError> {
        let ttl_ms = i64::try_from(ttl.as_millis()).map_or(TTL_MAX_MS, |ms| ms.min(TTL_MAX_MS));
        let call = async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            // Free (no row), lapsed, or the holder's own: taken. A renewal keeps the epoch; a
            // lease taken over (or taken again after it lapsed) counts one more. When another
            // holder's live lease stops it, the row stays locked until the commit, so the read
            // below sees that very lease.
            let taken = tx
                .query_opt(
                    "INSERT INTO leases AS l (name, holder, expires_at, epoch)
                     VALUES ($1, $2, now() + $3::bigint * interval '1 millisecond', 1)
                     ON CONFLICT (name) DO UPDATE SET
                        holder = excluded.holder,
                        expires_at = excluded.expires_at,
                        epoch = CASE WHEN l.holder = excluded.holder AND l.expires_at > now()
                                     THEN l.epoch ELSE l.epoch + 1 END
                     WHERE l.holder = excluded.holder OR l.expires_at <= now()
                     RETURNING name, holder, expires_at, epoch",
                    &[&name, &holder, &ttl_ms],
                )
                .await?;
            let answer = if let Some(row) = taken {
                LeaseTaken::Held(lease(&row)?)
            } else {
                let row = tx
                    .query_one(
                        "SELECT name, holder, expires_at, epoch FROM leases WHERE name = $1",
                        &[&name],
                    )
                    .await?;
                LeaseTaken::HeldBy(lease(&row)?)
            };
            tx.commit().await?;
            Ok(answer)
        };
        with_context(call, || {
            self.context(&format!("take lease {name} for {holder}"))
        })
        .await
    }

    /// Gives lease `name` up if `holder` holds it: released, not forgotten (the row keeps its
    /// epoch, so the next holder's is one more), and lapsed a millisecond ago.
    pub(super) async fn release_lease_now(
        &self,
        name: &str,
        holder: &str,
    ) -> Result<(), StoreError> {
        let call = async {
            let client = self.client().await?;
            client
                .execute(
                    "UPDATE leases SET expires_at = now() - interval '1 millisecond'
                     WHERE name = $1 AND holder = $2",
                    &[&name, &holder],
                )
                .await?;
            Ok(())
        };
        with_context(call, || {
            self.context(&format!("give lease {name} of {holder} up"))
        })
        .await
    }

    /// Every lease recorded, ordered by name.
    pub(super) async fn all_leases(&self) -> Result<Vec<Lease>, StoreError> {
        let call = async {
            let client = self.client().await?;
            let rows = client
                .query(
                    "SELECT name, holder, expires_at, epoch FROM leases
                     ORDER BY name COLLATE \"C\"",
                    &[],
                )
                .await?;
            rows.iter().map(lease).collect()
        };
        with_context(call, || self.context("read the leases")).await
    }
}

impl PostgresStore {
    /// Logs the start of rounds; see
    /// [`ServiceStore::begin_member_rounds`](super::super::ServiceStore::begin_member_rounds).
    pub(super) async fn begin_rounds(
        &self,
        tenant: &str,
        members: &[Email],
        worker: &str,
    ) -> Result<Vec<i64>, StoreError> {
        let call = async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let mut ids = Vec::with_capacity(members.len());
            for m in members {
                let row = tx
                    .query_one(
                        "INSERT INTO member_rounds (tenant, member, worker, started_at)
                         VALUES ($1, $2, $3, clock_timestamp()) RETURNING id",
                        &[&tenant, &m.as_str(), &worker],
                    )
                    .await?;
                ids.push(row.try_get(0)?);
            }
            tx.execute(
                "DELETE FROM member_rounds WHERE tenant = $1 AND id <=
                    (SELECT max(id) FROM member_rounds WHERE tenant = $1) - $2",
                &[&tenant, &MEMBER_ROUNDS_KEPT],
            )
            .await?;
            tx.commit().await?;
            Ok(ids)
        };
        with_context(call, || {
            self.context(&format!(
                "log the start of member rounds of tenant {tenant}"
            ))
        })
        .await
    }

    /// Logs the end of rounds `ids`.
    pub(super) async fn end_rounds(&self, ids: &[i64]) -> Result<(), StoreError> {
        let call = async {
            let client = self.client().await?;
            client
                .execute(
                    "UPDATE member_rounds SET finished_at = clock_timestamp() WHERE id = ANY($1)",
                    &[&ids],
                )
                .await?;
            Ok(())
        };
        with_context(call, || self.context("log the end of member rounds")).await
    }

    /// The member rounds logged for `tenant`, oldest first.
    pub(super) async fn rounds_of(&self, tenant: &str) -> Result<Vec<MemberRound>, StoreError> {
        let call = async {
            let client = self.client().await?;
            let rows = client
                .query(
                    "SELECT id, member, worker, started_at, finished_at FROM member_rounds
                     WHERE tenant = $1 ORDER BY id",
                    &[&tenant],
                )
                .await?;
            rows.iter()
                .map(|r| {
                    Ok(MemberRound {
                        id: r.try_get(0)?,
                        tenant: tenant.to_owned(),
                        member: r.try_get(1)?,
                        worker: r.try_get(2)?,
                        started_at: r.try_get(3)?,
                        finished_at: r.try_get(4)?,
                    })
                })
                .collect()
        };
        with_context(call, || {
            self.context(&format!("read the member rounds of tenant {tenant}"))
        })
        .await
    }
}

/// A lease row (`name, holder, expires_at, epoch`).
fn lease(row: &Row) -> Result<Lease, TxError> {
    let expires_at: DateTime<Utc> = row.try_get(2)?;
    Ok(Lease {
        name: row.try_get(0)?,
        holder: row.try_get(1)?,
        expires_at,
        epoch: row.try_get(3)?,
    })
}
