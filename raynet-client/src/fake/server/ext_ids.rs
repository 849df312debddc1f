//! External ids: `GET /{e}/ext/{extId}/` (the record holding it),
//! `PUT /{e}/{id}/extId/` (add) and `DELETE /{e}/{id}/extId/{extId}` (remove).

use serde_json::json;

use super::records::{Call, detail, not_allowed, parse_body, parse_id};
use super::route::Route;
use crate::fake::state::{Instance, Outcome, Reject};

/// Serves an extId endpoint (`route` is `Ext`, `ExtIds` or `ExtIdOne`).
pub(super) fn serve(inst: &mut Instance, call: &Call<'_>, route: &Route) -> Outcome {
    match (call.method.as_str(), route) {
        ("GET", Route::Ext(e, ext)) => {
            let id = inst.find_ext(*e, ext).ok_or_else(|| {
                Reject::new(
                    404,
                    "EntityNotFoundException",
                    format!("Entity {} with extId [{ext}] not found", e.name()),
                )
            })?;
            detail(inst, call, *e, id)
        }
        ("PUT", Route::ExtIds(e, id)) => {
            let id = parse_id(*e, id)?;
            let v = parse_body(call.body)?;
            inst.add_ext(*e, id, &v, call.user, call.now)?;
            Ok((200, Some(json!({"success": "true"}))))
        }
        ("DELETE", Route::ExtIdOne(e, id, ext)) => {
            inst.remove_ext(*e, parse_id(*e, id)?, ext, call.user, call.now)?;
            Ok((200, None))
        }
        _ => Err(not_allowed(call.method)),
    }
}
