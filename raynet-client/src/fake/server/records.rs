//! The record endpoints every resource shares — `GET /{e}/` (list),
//! `GET /{e}/{id}/` (detail) and, where the resource has them, `PUT /{e}/`
//! (create), `POST /{e}/{id}/` (partial update) and `DELETE /{e}/{id}/` —
//! and the plumbing of a call: ids, bodies, the 405 answer.

use axum::http::Method;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::fake::state::{Entity, Instance, Outcome, Reject};

/// One request, as the router hands it to a resource.
pub(super) struct Call<'a> {
    /// The HTTP method.
    pub(super) method: &'a Method,
    /// The decoded query pairs.
    pub(super) params: &'a [(String, String)],
    /// The request body.
    pub(super) body: &'a [u8],
    /// The API user who sends it (stamped as `rowInfo.updatedBy`).
    pub(super) user: &'a str,
    /// The fake's clock.
    pub(super) now: DateTime<Utc>,
    /// `dateFormat=ISO8601`: datetimes with offsets, else naive local times.
    pub(super) iso: bool,
}

/// The path under a resource's root.
pub(super) enum Target<'a> {
    /// `/{e}/`.
    List,
    /// `/{e}/{id}/`, the id as sent.
    One(&'a str),
}

/// What a `POST /{e}/{id}/` (partial update) answers.
pub(super) enum UpdateAnswer {
    /// 200 without a body.
    Empty,
    /// 200 `{"success": true}`.
    Success,
}

/// Which record endpoints a resource has, and how it answers them.
pub(super) struct Resource {
    /// `PUT /{e}/`, `POST /{e}/{id}/` and `DELETE /{e}/{id}/` exist (else
    /// they answer 405).
    pub(super) writes: bool,
    /// The answer of a partial update.
    pub(super) update_answer: UpdateAnswer,
}

/// Serves a record endpoint of `resource` (entity `e`).
pub(super) fn serve(
    inst: &mut Instance,
    call: &Call<'_>,
    e: Entity,
    target: &Target<'_>,
    resource: &Resource,
) -> Outcome {
    match (call.method.as_str(), target) {
        ("GET", Target::List) => {
            let (total, rows) = inst.list(e, call.params)?;
            Ok((
                200,
                Some(json!({"success": true, "totalCount": total, "data": rows})),
            ))
        }
        ("PUT", Target::List) if resource.writes => {
            let v = parse_body(call.body)?;
            let id = inst.create(e, &v, call.user, call.now)?;
            Ok((201, Some(json!({"success": true, "data": {"id": id}}))))
        }
        ("GET", Target::One(id)) => detail(inst, call, e, parse_id(e, id)?),
        ("POST", Target::One(id)) if resource.writes => {
            let id = parse_id(e, id)?;
            let v = parse_body(call.body)?;
            inst.update(e, id, &v, call.user, call.now)?;
            match resource.update_answer {
                UpdateAnswer::Success => Ok((200, Some(json!({"success": true})))),
                UpdateAnswer::Empty => Ok((200, None)),
            }
        }
        ("DELETE", Target::One(id)) if resource.writes => {
            inst.delete(e, parse_id(e, id)?)?;
            Ok((200, None))
        }
        _ => Err(not_allowed(call.method)),
    }
}

/// `GET /{e}/{id}/`: the record as the detail endpoint shows it.
pub(super) fn detail(inst: &Instance, call: &Call<'_>, e: Entity, id: u64) -> Outcome {
    let row = inst.row(e, id).ok_or_else(|| {
        Reject::new(
            404,
            "EntityNotFoundException",
            format!("Entity {} [{id}] not found", e.name()),
        )
    })?;
    Ok((
        200,
        Some(json!({"success": "true", "data": inst.render(e, row, call.iso, true)})),
    ))
}

/// A record id from the path (not a number: 404, as the API).
pub(super) fn parse_id(e: Entity, raw: &str) -> Result<u64, Reject> {
    raw.parse().map_err(|_| {
        Reject::new(
            404,
            "EntityNotFoundException",
            format!("Entity {} [{raw}] not found", e.name()),
        )
    })
}

/// A JSON request body (malformed: 400).
pub(super) fn parse_body(body: &[u8]) -> Result<Value, Reject> {
    serde_json::from_slice(body).map_err(|e| Reject::bad_request(format!("Malformed JSON: {e}")))
}

/// 405: a method the path does not take.
pub(super) fn not_allowed(method: &Method) -> Reject {
    Reject::new(
        405,
        "MethodNotAllowed",
        format!("Method {method} not allowed here"),
    )
}
