//! [`Route`]: what a request's path names, and the endpoint template it is
//! counted (and faulted) under, e.g. `GET /meeting/{id}/`.

use axum::http::Method;

use crate::fake::state::Entity;

/// The endpoint a path names.
#[derive(Debug)]
pub(super) enum Route {
    List(Entity),
    One(Entity, String),
    Ext(Entity, String),
    ExtIds(Entity, String),
    ExtIdOne(Entity, String, String),
    /// `/webhook/`.
    Webhooks,
    /// `/webhook/{uuid}/`.
    Webhook(String),
    /// `/webhook/technicalContact/`.
    TechnicalContacts,
    Unknown,
}

impl Route {
    /// Parses a request path (`/api/v2/...`, segments percent-decoded).
    pub(super) fn parse(path: &str) -> Route {
        let Some(rest) = path.strip_prefix("/api/v2/") else {
            return Route::Unknown;
        };
        let segs: Vec<String> = rest
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .collect();
        if segs.first().is_some_and(|s| s == "webhook") {
            return match segs.as_slice() {
                [_] => Route::Webhooks,
                [_, t] if t == "technicalContact" => Route::TechnicalContacts,
                [_, id] => Route::Webhook(id.clone()),
                _ => Route::Unknown,
            };
        }
        let Some(e) = segs.first().and_then(|s| Entity::parse(s)) else {
            return Route::Unknown;
        };
        match segs.as_slice() {
            [_] => Route::List(e),
            [_, ext, id] if ext == "ext" => Route::Ext(e, id.clone()),
            [_, id] => Route::One(e, id.clone()),
            [_, id, x] if x == "extId" => Route::ExtIds(e, id.clone()),
            [_, id, x, ext] if x == "extId" => Route::ExtIdOne(e, id.clone(), ext.clone()),
            _ => Route::Unknown,
        }
    }

    /// The endpoint template of a request, e.g. `GET /meeting/{id}/`.
    pub(super) fn template(&self, method: &Method, path: &str) -> String {
        match self {
            Route::List(e) => format!("{method} /{}/", e.name()),
            Route::One(e, _) => format!("{method} /{}/{{id}}/", e.name()),
            Route::Ext(e, _) => format!("{method} /{}/ext/{{extId}}/", e.name()),
            Route::ExtIds(e, _) => format!("{method} /{}/{{id}}/extId/", e.name()),
            Route::ExtIdOne(e, _, _) => format!("{method} /{}/{{id}}/extId/{{extId}}", e.name()),
            Route::Webhooks => format!("{method} /webhook/"),
            Route::Webhook(_) => format!("{method} /webhook/{{uuid}}/"),
            Route::TechnicalContacts => format!("{method} /webhook/technicalContact/"),
            Route::Unknown => format!("{method} {path}"),
        }
    }
}
