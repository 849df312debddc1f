//! What `serve` keeps in the state file beside the pairs: the notifications received and not
//! yet handled by a round ([`PushNote`], so that a restart loses none), the Graph
//! subscriptions it keeps (their ids and granted expiries), and the push secrets it generated
//! (`clientState`, the webhook token) when the config gives none.

use chrono::{DateTime, Utc};
use rusqlite::OptionalExtension as _;
use sync_core::{Collection, Email, RemoteId, Side, StoreError};
use sync_secret::Secret;

use super::error::sql_err;
use super::open::SqliteStore;
use super::rows::{collection_text, parse_collection, parse_side, query_rows, side_text};

/// What a notification said about a member's collection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Noted {
    /// `side` changed: its round reads it.
    Changed(Side),
    /// `side` deleted this item: its round confirms it with one read.
    Deleted(Side, RemoteId),
    /// Notifications may have been missed: its round reads both sides.
    CatchUp,
}

/// A notification received for a member's collection, waiting for its round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushNote {
    /// Whose.
    pub member: Email,
    /// Which collection.
    pub collection: Collection,
    /// What it said.
    pub noted: Noted,
    /// When it was received.
    pub received_at: DateTime<Utc>,
}

impl SqliteStore {
    /// Keeps `note` for `tenant` until a round handled it; returns its row id.
    ///
    /// # Errors
    /// A [`StoreError`] when the file cannot be written.
    pub fn add_push_note(&self, tenant: &str, note: &PushNote) -> Result<i64, StoreError> {
        let (side, deleted) = note_columns(&note.noted);
        let conn = self.lock();
        conn.execute(
            "INSERT INTO push_inbox (tenant, member, collection, side, deleted_id, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            rusqlite::params![
                tenant,
                note.member.as_str(),
                collection_text(note.collection),
                side,
                deleted,
                note.received_at.to_rfc3339(),
            ],
        )
        .map_err(sql_err("keep a notification"))?;
        Ok(conn.last_insert_rowid())
    }

    /// The notes kept for `tenant`, oldest first, with their row ids. A row that cannot be
    /// read is skipped with a warning (it only ever costs a round, never a change).
    ///
    /// # Errors
    /// A [`StoreError`] when the file cannot be read.
    pub fn push_notes(&self, tenant: &str) -> Result<Vec<(i64, PushNote)>, StoreError> {
        #[allow(clippy::type_complexity)]
        let rows: Vec<(i64, String, String, Option<String>, Option<String>, String)> = query_rows(
            &self.lock(),
            "read the notifications",
            "SELECT id, member, collection, side, deleted_id, received_at FROM push_inbox
             WHERE tenant = ?1 ORDER BY id",
            [tenant],
        )?;
        let mut out = Vec::new();
        for (id, member, collection, side, deleted, at) in rows {
            let note = DateTime::parse_from_rfc3339(&at)
                .map_err(|e| format!("received_at: {e}"))
                .and_then(|at| {
                    note_from_columns(
                        &member,
                        &collection,
                        side.as_deref(),
                        deleted,
                        at.with_timezone(&Utc),
                    )
                });
            match note {
                Ok(note) => out.push((id, note)),
                Err(e) => {
                    tracing::warn!(tenant, row = id, error = %e, "a kept notification cannot be read; skipped");
                }
            }
        }
        Ok(out)
    }

    /// Forgets `tenant`'s notes up to row `upto` for the member collections in `handled`
    /// (their round ran), or all of them up to `upto` when `handled` is `None` (a round for
    /// everyone ran).
    ///
    /// # Errors
    /// A [`StoreError`] when the file cannot be written.
    pub fn drop_push_notes(
        &self,
        tenant: &str,
        upto: i64,
        handled: Option<&[(Email, Collection)]>,
    ) -> Result<(), StoreError> {
        let conn = self.lock();
        match handled {
            None => conn
                .execute(
                    "DELETE FROM push_inbox WHERE tenant = ?1 AND id <= ?2",
                    rusqlite::params![tenant, upto],
                )
                .map(drop),
            Some(handled) => handled.iter().try_for_each(|(member, collection)| {
                conn.execute(
                    "DELETE FROM push_inbox
                     WHERE tenant = ?1 AND id <= ?2 AND member = ?3 AND collection = ?4",
                    rusqlite::params![tenant, upto, member.as_str(), collection_text(*collection)],
                )
                .map(drop)
            }),
        }
        .map_err(sql_err("forget handled notifications"))
    }

    /// The subscription kept for `member`'s `collection` of `tenant` (as JSON), if any.
    ///
    /// # Errors
    /// A [`StoreError`] when the file cannot be read.
    pub fn kept_subscriptions(
        &self,
        tenant: &str,
    ) -> Result<Vec<(Email, Collection, String)>, StoreError> {
        let rows: Vec<(String, String, String)> = query_rows(
            &self.lock(),
            "read the subscriptions",
            "SELECT member, collection, record FROM push_subscriptions WHERE tenant = ?1
             ORDER BY member, collection",
            [tenant],
        )?;
        Ok(rows
            .into_iter()
            .filter_map(|(member, collection, record)| {
                Some((
                    Email::new(&member).ok()?,
                    parse_collection(&collection).ok()?,
                    record,
                ))
            })
            .collect())
    }

    /// Keeps (`Some`) or forgets (`None`) the subscription of `member`'s `collection`.
    ///
    /// # Errors
    /// A [`StoreError`] when the file cannot be written.
    pub fn keep_subscription(
        &self,
        tenant: &str,
        member: &Email,
        collection: Collection,
        record: Option<&str>,
    ) -> Result<(), StoreError> {
        let conn = self.lock();
        let key = rusqlite::params![tenant, member.as_str(), collection_text(collection)];
        match record {
            None => conn
                .execute(
                    "DELETE FROM push_subscriptions WHERE tenant = ?1 AND member = ?2 AND collection = ?3",
                    key,
                )
                .map(drop),
            Some(record) => conn
                .execute(
                    "INSERT INTO push_subscriptions (tenant, member, collection, record)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (tenant, member, collection) DO UPDATE SET record = excluded.record",
                    rusqlite::params![tenant, member.as_str(), collection_text(collection), record],
                )
                .map(drop),
        }
        .map_err(sql_err("keep a subscription"))
    }

    /// The push secret `name` of `tenant`: the one kept in the file, else a new random one,
    /// kept (the file is made readable by its owner only).
    ///
    /// # Errors
    /// A [`StoreError`] when the file cannot be read or written.
    pub fn push_secret(&self, tenant: &str, name: &str) -> Result<Secret, StoreError> {
        let conn = self.lock();
        let kept: Option<String> = conn
            .query_row(
                "SELECT value FROM push_secrets WHERE tenant = ?1 AND name = ?2",
                [tenant, name],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql_err("read a push secret"))?;
        if let Some(value) = kept {
            return Ok(Secret::new(value));
        }
        // Another process of the same file may be generating one too: the first kept wins,
        // and both return it.
        conn.execute(
            "INSERT INTO push_secrets (tenant, name, value) VALUES (?1, ?2, ?3)
             ON CONFLICT (tenant, name) DO NOTHING",
            [tenant, name, random_token().as_str()],
        )
        .map_err(sql_err("keep a push secret"))?;
        let value: String = conn
            .query_row(
                "SELECT value FROM push_secrets WHERE tenant = ?1 AND name = ?2",
                [tenant, name],
                |r| r.get(0),
            )
            .map_err(sql_err("read a push secret"))?;
        self.restrict_to_owner();
        Ok(Secret::new(value))
    }

    /// The push secrets kept for `tenant`, by name.
    ///
    /// # Errors
    /// A [`StoreError`] when the file cannot be read.
    pub fn push_secrets(&self, tenant: &str) -> Result<Vec<(String, Secret)>, StoreError> {
        let rows: Vec<(String, String)> = query_rows(
            &self.lock(),
            "read the push secrets",
            "SELECT name, value FROM push_secrets WHERE tenant = ?1 ORDER BY name",
            [tenant],
        )?;
        Ok(rows
            .into_iter()
            .map(|(name, value)| (name, Secret::new(value)))
            .collect())
    }

    /// Keeps `value` as the push secret `name` of `tenant`, replacing the one kept.
    ///
    /// # Errors
    /// A [`StoreError`] when the file cannot be written.
    pub fn put_push_secret(
        &self,
        tenant: &str,
        name: &str,
        value: &Secret,
    ) -> Result<(), StoreError> {
        self.lock()
            .execute(
                "INSERT INTO push_secrets (tenant, name, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (tenant, name) DO UPDATE SET value = excluded.value",
                [tenant, name, value.expose()],
            )
            .map_err(sql_err("keep a push secret"))?;
        self.restrict_to_owner();
        Ok(())
    }

    /// Makes the state file (and its WAL files) readable by its owner only.
    fn restrict_to_owner(&self) {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let base = self.path().as_os_str().to_owned();
            for suffix in ["", "-wal", "-shm"] {
                let mut p = base.clone();
                p.push(suffix);
                let _ = std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600));
            }
        }
    }
}

/// The `side` and `deleted_id` columns of a note (both stores keep notes in these columns).
pub(super) fn note_columns(noted: &Noted) -> (Option<&'static str>, Option<&str>) {
    match noted {
        Noted::Changed(side) => (Some(side_text(*side)), None),
        Noted::Deleted(side, id) => (Some(side_text(*side)), Some(id.as_str())),
        Noted::CatchUp => (None, None),
    }
}

/// A note read back from its columns; the error says which value is damaged.
pub(super) fn note_from_columns(
    member: &str,
    collection: &str,
    side: Option<&str>,
    deleted: Option<String>,
    received_at: DateTime<Utc>,
) -> Result<PushNote, String> {
    let member = Email::new(member).map_err(|e| format!("member: {e}"))?;
    let collection = parse_collection(collection).map_err(|e| format!("collection: {e}"))?;
    let side = side
        .map(parse_side)
        .transpose()
        .map_err(|e| format!("side: {e}"))?;
    let noted = match (side, deleted) {
        (None, _) => Noted::CatchUp,
        (Some(side), None) => Noted::Changed(side),
        (Some(side), Some(id)) => Noted::Deleted(
            side,
            RemoteId::new(id).map_err(|e| format!("deleted_id: {e}"))?,
        ),
    };
    Ok(PushNote {
        member,
        collection,
        noted,
        received_at,
    })
}

/// 32 random bytes as 64 hex digits (well under Graph's 128-character `clientState` limit).
pub(super) fn random_token() -> String {
    use std::fmt::Write as _;
    let bytes: [u8; 32] = rand::random();
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::state_file;

    // The store behaviour of notes, subscriptions and secrets is tested for every store in
    // `conformance.rs`; what is SQLite's own stays here.

    #[test]
    fn a_generated_secret_makes_the_file_private() {
        let (_dir, path) = state_file("push-secret");
        let store = SqliteStore::open(&path).unwrap();
        let first = store.push_secret("acme", "client_state").unwrap();
        assert_eq!(first.expose().len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "no access for group or others");
        }
    }
}
