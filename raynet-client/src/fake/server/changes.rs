//! The webhook events of a request: which change an answered write made
//! (create, partial update, delete, extId add or remove of a meeting, event,
//! person or company), queued as made through the API by the caller's key.

use axum::http::Method;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::route::Route;
use crate::fake::state::{ChangeKind, Entity, Instance, Origin};

/// The extIds a `DELETE /{e}/{id}/` removes with its record (read before it).
pub(super) fn before(inst: &Instance, method: &Method, route: &Route) -> Option<Value> {
    match (method.as_str(), route) {
        ("DELETE", Route::One(e, id)) => id.parse().ok().map(|id| inst.ext_ids_of(*e, id)),
        _ => None,
    }
}

/// Queues the event of a successful write; returns how many were queued.
pub(super) fn after(
    inst: &mut Instance,
    method: &Method,
    route: &Route,
    answer: Option<&Value>,
    deleted_ext_ids: Option<Value>,
    user: &str,
    now: DateTime<Utc>,
) -> usize {
    let change: Option<(ChangeKind, Entity, u64)> = match (method.as_str(), route) {
        ("PUT", Route::List(e)) => answer
            .and_then(|v| v.pointer("/data/id"))
            .and_then(Value::as_u64)
            .map(|id| (ChangeKind::Created, *e, id)),
        ("POST", Route::One(e, id)) | ("PUT", Route::ExtIds(e, id)) => {
            id.parse().ok().map(|id| (ChangeKind::Updated, *e, id))
        }
        ("DELETE", Route::ExtIdOne(e, id, _)) => {
            id.parse().ok().map(|id| (ChangeKind::Updated, *e, id))
        }
        ("DELETE", Route::One(e, id)) => id.parse().ok().map(|id| (ChangeKind::Deleted, *e, id)),
        _ => None,
    };
    let Some((kind, e, id)) = change else {
        return 0;
    };
    let ext = match kind {
        ChangeKind::Deleted => deleted_ext_ids.unwrap_or_else(|| Value::Array(Vec::new())),
        _ => inst.ext_ids_of(e, id),
    };
    let origin = Origin::api(inst, user);
    inst.notify(kind, e, id, &ext, &origin, now)
}
