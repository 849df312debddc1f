//! [`Reject`]: an error answer of the fake, as the API shapes it.

use serde_json::{Value, json};

use super::entity::Entity;

/// An error answer: status and the API's error body.
#[derive(Debug, Clone)]
pub(crate) struct Reject {
    pub(crate) status: u16,
    pub(crate) body: Value,
}

impl Reject {
    pub(crate) fn new(status: u16, kind: &str, message: impl Into<String>) -> Self {
        Reject {
            status,
            body: json!({ "type": kind, "message": message.into() }),
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Reject::new(400, "BadRequest", message)
    }

    /// 404 `EntityNotFoundException` for `what` (an id or an extId) of `entity`.
    pub(crate) fn not_found(entity: Entity, what: &str) -> Self {
        Reject::new(
            404,
            "EntityNotFoundException",
            format!("Entity {} [{what}] not found", entity.name()),
        )
    }
}

/// What a request comes to: a status and a body, or an error answer.
pub(crate) type Outcome = Result<(u16, Option<Value>), Reject>;
