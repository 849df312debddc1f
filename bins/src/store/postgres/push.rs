//! What `serve` keeps beside the pairs, as the SQLite file keeps it: the notifications waiting
//! for their round (each one also announced on the [`NOTES_CHANNEL`] in the same transaction),
//! the Graph subscriptions kept, and the push secrets generated.

use chrono::{DateTime, Utc};
use sync_core::{Collection, Email, StoreError};
use sync_secret::Secret;

use super::super::push::{PushNote, note_columns, note_from_columns, random_token};
use super::super::rows::{collection_text, parse_collection};
use super::connect::{PostgresStore, with_context};
use super::listen::NOTES_CHANNEL;

impl PostgresStore {
    /// Keeps `note` and announces `tenant` on [`NOTES_CHANNEL`], in one transaction: the
    /// listeners are woken exactly when the note can be read.
    pub(super) async fn add_note(&self, tenant: &str, note: &PushNote) -> Result<i64, StoreError> {
        let (side, deleted) = note_columns(&note.noted);
        let call = async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let id: i64 = tx
                .query_one(
                    "INSERT INTO push_inbox
                        (tenant, member, collection, side, deleted_id, received_at)
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                    &[
                        &tenant,
                        &note.member.as_str(),
                        &collection_text(note.collection),
                        &side,
                        &deleted,
                        &note.received_at,
                    ],
                )
                .await?
                .try_get(0)?;
            // `NOTIFY raynet_sync_notes, '<tenant>'`, with the tenant as a parameter.
            tx.execute("SELECT pg_notify($1, $2)", &[&NOTES_CHANNEL, &tenant])
                .await?;
            tx.commit().await?;
            Ok(id)
        };
        with_context(call, || {
            self.context(&format!("keep a notification of tenant {tenant}"))
        })
        .await
    }

    /// The notes kept for `tenant`, oldest first; a row that cannot be read is skipped with a
    /// warning.
    pub(super) async fn notes(&self, tenant: &str) -> Result<Vec<(i64, PushNote)>, StoreError> {
        let call = async {
            let client = self.client().await?;
            let rows = client
                .query(
                    "SELECT id, member, collection, side, deleted_id, received_at
                     FROM push_inbox WHERE tenant = $1 ORDER BY id",
                    &[&tenant],
                )
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let id: i64 = row.try_get(0)?;
                let note = (|| -> Result<PushNote, String> {
                    let text = |i: usize| row.try_get::<_, &str>(i).map_err(|e| e.to_string());
                    let maybe =
                        |i: usize| row.try_get::<_, Option<&str>>(i).map_err(|e| e.to_string());
                    let received_at: DateTime<Utc> =
                        row.try_get(5).map_err(|e| format!("received_at: {e}"))?;
                    note_from_columns(
                        text(1)?,
                        text(2)?,
                        maybe(3)?,
                        maybe(4)?.map(str::to_owned),
                        received_at,
                    )
                })();
                match note {
                    Ok(note) => out.push((id, note)),
                    Err(e) => tracing::warn!(
                        tenant,
                        row = id,
                        error = %e,
                        "a kept notification cannot be read; skipped"
                    ),
                }
            }
            Ok(out)
        };
        with_context(call, || {
            self.context(&format!("read the notifications of tenant {tenant}"))
        })
        .await
    }

    /// Forgets `tenant`'s notes up to `upto`, of the member collections `handled` or of all.
    pub(super) async fn drop_notes(
        &self,
        tenant: &str,
        upto: i64,
        handled: Option<&[(Email, Collection)]>,
    ) -> Result<(), StoreError> {
        let call = async {
            let client = self.client().await?;
            match handled {
                None => {
                    client
                        .execute(
                            "DELETE FROM push_inbox WHERE tenant = $1 AND id <= $2",
                            &[&tenant, &upto],
                        )
                        .await?;
                }
                Some([]) => {}
                Some(handled) => {
                    let members: Vec<&str> = handled.iter().map(|(m, _)| m.as_str()).collect();
                    let collections: Vec<&str> =
                        handled.iter().map(|(_, c)| collection_text(*c)).collect();
                    // One statement for every member collection: all or nothing.
                    client
                        .execute(
                            "DELETE FROM push_inbox
                             WHERE tenant = $1 AND id <= $2 AND (member, collection) IN
                                (SELECT * FROM unnest($3::text[], $4::text[]))",
                            &[&tenant, &upto, &members, &collections],
                        )
                        .await?;
                }
            }
            Ok(())
        };
        with_context(call, || {
            self.context(&format!("forget handled notifications of tenant {tenant}"))
        })
        .await
    }

    /// The subscriptions kept for `tenant`, by member and collection (rows that cannot be read
    /// are left out: their subscription is made anew).
    pub(super) async fn subscriptions(
        &self,
        tenant: &str,
    ) -> Result<Vec<(Email, Collection, String)>, StoreError> {
        let call = async {
            let client = self.client().await?;
            let rows = client
                .query(
                    "SELECT member, collection, record FROM push_subscriptions
                     WHERE tenant = $1 ORDER BY member COLLATE \"C\", collection COLLATE \"C\"",
                    &[&tenant],
                )
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let member = Email::new(row.try_get::<_, &str>(0)?).ok();
                let collection = parse_collection(row.try_get(1)?).ok();
                if let (Some(member), Some(collection)) = (member, collection) {
                    out.push((member, collection, row.try_get::<_, String>(2)?));
                }
            }
            Ok(out)
        };
        with_context(call, || {
            self.context(&format!("read the subscriptions of tenant {tenant}"))
        })
        .await
    }

    /// Keeps (`Some`) or forgets (`None`) the subscription of `member`'s `collection`.
    pub(super) async fn keep_subscription_row(
        &self,
        tenant: &str,
        member: &Email,
        collection: Collection,
        record: Option<&str>,
    ) -> Result<(), StoreError> {
        let call =
            async {
                let client = self.client().await?;
                let c = collection_text(collection);
                match record {
                    None => {
                        client
                            .execute(
                                "DELETE FROM push_subscriptions
                             WHERE tenant = $1 AND member = $2 AND collection = $3",
                                &[&tenant, &member.as_str(), &c],
                            )
                            .await?
                    }
                    Some(record) => client
                        .execute(
                            "INSERT INTO push_subscriptions (tenant, member, collection, record)
                             VALUES ($1, $2, $3, $4)
                             ON CONFLICT (tenant, member, collection)
                             DO UPDATE SET record = excluded.record",
                            &[&tenant, &member.as_str(), &c, &record],
                        )
                        .await?,
                };
                Ok(())
            };
        with_context(call, || {
            self.context(&format!(
                "keep the {} subscription of {member} in tenant {tenant}",
                collection_text(collection)
            ))
        })
        .await
    }

    /// The push secret `name` of `tenant`, generated and kept on first use. Workers asking at
    /// once each offer a new one; the first kept wins and all of them return it.
    /// The push secrets kept for `tenant`, by name.
    pub(super) async fn secrets(&self, tenant: &str) -> Result<Vec<(String, Secret)>, StoreError> {
        let call = async {
            let client = self.client().await?;
            let rows = client
                .query(
                    "SELECT name, value FROM push_secrets WHERE tenant = $1
                     ORDER BY name COLLATE \"C\"",
                    &[&tenant],
                )
                .await?;
            rows.iter()
                .map(|r| Ok((r.try_get(0)?, Secret::new(r.try_get::<_, String>(1)?))))
                .collect()
        };
        with_context(call, || {
            self.context(&format!("read the push secrets of tenant {tenant}"))
        })
        .await
    }

    /// Keeps `value` as the push secret `name` of `tenant`, replacing the one kept.
    pub(super) async fn put_secret(
        &self,
        tenant: &str,
        name: &str,
        value: &Secret,
    ) -> Result<(), StoreError> {
        let call = async {
            let client = self.client().await?;
            client
                .execute(
                    "INSERT INTO push_secrets (tenant, name, value) VALUES ($1, $2, $3)
                     ON CONFLICT (tenant, name) DO UPDATE SET value = excluded.value",
                    &[&tenant, &name, &value.expose()],
                )
                .await?;
            Ok(())
        };
        with_context(call, || {
            self.context(&format!("keep push secret {name} of tenant {tenant}"))
        })
        .await
    }

    pub(super) async fn secret(&self, tenant: &str, name: &str) -> Result<Secret, StoreError> {
        let call = async {
            let client = self.client().await?;
            let select = "SELECT value FROM push_secrets WHERE tenant = $1 AND name = $2";
            if let Some(row) = client.query_opt(select, &[&tenant, &name]).await? {
                return Ok(Secret::new(row.try_get::<_, String>(0)?));
            }
            client
                .execute(
                    "INSERT INTO push_secrets (tenant, name, value) VALUES ($1, $2, $3)
                     ON CONFLICT (tenant, name) DO NOTHING",
                    &[&tenant, &name, &random_token()],
                )
                .await?;
            let value: String = client
                .query_one(select, &[&tenant, &name])
                .await?
                .try_get(0)?;
            Ok(Secret::new(value))
        };
        with_context(call, || {
            self.context(&format!("keep push secret {name} of tenant {tenant}"))
        })
        .await
    }
}
