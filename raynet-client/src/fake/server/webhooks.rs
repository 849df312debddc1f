//! Webhooks: `GET /webhook/` (technical contacts and webhooks), `PUT
//! /webhook/` (register; a non-loopback URL answers 400), `DELETE
//! /webhook/{uuid}/` and `POST /webhook/technicalContact/`.

use serde_json::json;

use super::records::{Call, not_allowed, parse_body};
use super::route::Route;
use crate::fake::state::{Instance, Outcome};

/// Serves a webhook endpoint (`route` is `Webhooks`, `Webhook` or
/// `TechnicalContacts`).
pub(super) fn serve(inst: &mut Instance, call: &Call<'_>, route: &Route) -> Outcome {
    match (call.method.as_str(), route) {
        ("GET", Route::Webhooks) => Ok((200, Some(inst.webhooks_json()))),
        ("PUT", Route::Webhooks) => {
            let uuid = inst.add_webhook(&parse_body(call.body)?)?;
            Ok((201, Some(json!({"success": true, "data": {"uuid": uuid}}))))
        }
        ("DELETE", Route::Webhook(id)) => {
            inst.remove_webhook(id)?;
            Ok((200, None))
        }
        ("POST", Route::TechnicalContacts) => {
            inst.set_technical_contacts(&parse_body(call.body)?)?;
            Ok((200, Some(json!({"success": true}))))
        }
        _ => Err(not_allowed(call.method)),
    }
}
