//! What the providers and the feed read off RAYNET rows: the engine's ids,
//! versions and modification times, the owner, the idempotency key, a
//! person's e-mail, the window filter of activity listings, and the handler
//! of an activity kind.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sync_core::{
    ActivityKind, Completeness, IdempotencyKey, ProviderError, RemoteId, SideRead, Version, Window,
};

use super::error::invalid;
use crate::client::Client;
use crate::client::error::Error;
use crate::client::models::{CalendarActivity, Person, RowInfo, RowSummary};
use crate::client::page::{ItemFailure, Listing};
use crate::client::query::{ListQuery, Op};
use crate::client::resources::Activities;

/// Prefix of the external ids this crate leaves on RAYNET records it creates
/// (`raynet-sync:<idempotency key>`), following the documented `system:value`
/// convention.
pub const EXT_ID_PREFIX: &str = "raynet-sync:";

/// The version token of a record: `_version`, else `rowInfo.lastModifiedAt`.
#[must_use]
pub fn version_of(row: &RowInfo) -> Option<Version> {
    let raw = match (row.version, &row.last_modified_at) {
        (Some(v), _) => format!("v{v}"),
        (None, Some(t)) => format!("t{t}"),
        (None, None) => return None,
    };
    Version::new(raw).ok()
}

/// [`version_of`], or `v0` for a row that says neither.
pub(super) fn version_or_default(row: &RowInfo) -> Result<Version, ProviderError> {
    match version_of(row) {
        Some(v) => Ok(v),
        None => Version::new("v0").map_err(|e| invalid("raynet version".into(), e)),
    }
}

/// The row's `rowInfo.lastModifiedAt` in UTC.
pub(super) fn modified(row: &RowInfo, tz: Tz) -> Option<DateTime<Utc>> {
    row.last_modified_at.as_ref().and_then(|t| t.to_utc(&tz))
}

/// The newest `rowInfo.lastModifiedAt` among `rows`.
pub(super) fn newest<'a>(
    rows: impl IntoIterator<Item = &'a RowInfo>,
    tz: Tz,
) -> Option<DateTime<Utc>> {
    rows.into_iter().filter_map(|r| modified(r, tz)).max()
}

/// The idempotency key a create left in the record's extIds (`raynet-sync:<key>`).
pub(super) fn key_of(ext_ids: Option<&Vec<String>>) -> Option<IdempotencyKey> {
    ext_ids?
        .iter()
        .find_map(|x| x.strip_prefix(EXT_ID_PREFIX))
        .and_then(|k| IdempotencyKey::new(k).ok())
}

/// The handler of `kind`'s records: `client.meetings()` or `client.events()`.
pub(super) fn activities(client: &Client, kind: ActivityKind) -> Activities<'_> {
    match kind {
        ActivityKind::Meeting => client.meetings(),
        ActivityKind::Event => client.events(),
    }
}

/// One meeting or event; `None` when RAYNET answers 404 (deleted or never there).
pub(super) async fn fetch_activity(
    client: &Client,
    kind: ActivityKind,
    id: u64,
) -> Result<Option<CalendarActivity>, Error> {
    match activities(client, kind).get(id).await {
        Ok(a) => Ok(Some(a)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// The engine's id of a meeting (`m-<id>`) or an event (`e-<id>`).
pub(super) fn activity_id(kind: ActivityKind, id: u64) -> Result<RemoteId, ProviderError> {
    let prefix = match kind {
        ActivityKind::Meeting => "m",
        ActivityKind::Event => "e",
    };
    RemoteId::new(format!("{prefix}-{id}")).map_err(|e| invalid("raynet id".into(), e))
}

/// The engine's id of a person (its id in decimal).
pub(super) fn person_id(id: u64) -> Result<RemoteId, ProviderError> {
    RemoteId::new(id.to_string()).map_err(|e| invalid("raynet id".into(), e))
}

/// The person id of a meeting's or event's owner: `owner` where the row has
/// it (detail answers), else the participant flagged `owner: true` (list rows
/// show the owner only that way, raynet-api.md §4).
pub(super) fn owner_of(a: &CalendarActivity) -> Option<u64> {
    a.owner.as_ref().map(|o| o.id).or_else(|| {
        a.participants
            .iter()
            .find(|p| p.owner == Some(true))
            .and_then(|p| p.person.as_ref())
            .map(|p| p.id)
    })
}

/// A person's first valid e-mail address (`email`, else `email2`).
pub(super) fn person_email(p: &Person) -> Option<sync_core::Email> {
    let ci = p.contact_info.as_ref()?;
    [&ci.email, &ci.email2]
        .into_iter()
        .find_map(|m| m.as_deref().and_then(|m| sync_core::Email::new(m).ok()))
}

/// `base` narrowed to the activities that overlap `window` (start before its
/// end, end at or after its start; an unbounded side adds no filter).
pub(super) fn window_query(base: ListQuery, window: Option<&Window>) -> ListQuery {
    let Some(w) = window else { return base };
    let mut q = base;
    if w.end < DateTime::<Utc>::MAX_UTC {
        q = q.filter("scheduledFrom", Op::Lt, w.end);
    }
    if w.start > DateTime::<Utc>::MIN_UTC {
        q = q.filter("scheduledTill", Op::Ge, w.start);
    }
    q
}

/// Sets aside the rows of a listing that did not decode: each is one of the
/// read's [`unreadable`](SideRead::unreadable) items, under its id (`id_of`)
/// with the error naming the row and the field, so the engine reports it and
/// leaves its pair alone. A row whose id cannot be read cannot be told apart
/// from a deleted record: it is reported under its position
/// (`GET /meeting/ data[3]`) and the read becomes
/// [`Completeness::Partial`], so that nothing is inferred deleted from it.
pub(super) fn set_aside<T>(
    read: &mut SideRead<T>,
    failed: &[ItemFailure],
    id_of: impl Fn(u64) -> Result<RemoteId, ProviderError>,
) -> Result<(), ProviderError> {
    for f in failed {
        let id = if let Some(id) = f.id {
            id_of(id)?
        } else {
            read.completeness = Completeness::Partial;
            let at = f.error.endpoint().unwrap_or("raynet listing");
            let row = f.path().split('.').next().unwrap_or_default();
            RemoteId::new(format!("{at} {row}")).map_err(|e| invalid("raynet row".into(), e))?
        };
        read.unreadable.push((id, f.to_string()));
    }
    Ok(())
}

/// The ids of an id listing (`view=rowInfo`): its rows', and those of the
/// rows whose audit block did not decode (they exist all the same). `None`
/// when a row's id cannot be read: such a listing cannot prove an absence.
pub(super) fn listed_ids(
    listing: &Listing<RowSummary>,
    id_of: impl Fn(u64) -> Result<RemoteId, ProviderError>,
) -> Result<Option<Vec<RemoteId>>, ProviderError> {
    if listing.failed.iter().any(|f| f.id.is_none()) {
        tracing::warn!(
            "a raynet id listing has a row without a readable id; no deletion is inferred from it"
        );
        return Ok(None);
    }
    listing
        .items
        .iter()
        .map(|r| r.id)
        .chain(listing.failed.iter().filter_map(|f| f.id))
        .map(id_of)
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}
