//! `$batch`: sub-requests run 4 at a time, `dependsOn`, each admitted and logged like an HTTP
//! request.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value, json};

use super::admit::{Admitted, Flight, admit, classify, record};
use super::dispatch::process;
use super::odata::str_array;
use super::request::{Req, Resp, path_segments};
use crate::fake::state::State;

pub(super) fn batch(st: &mut State, req: &Req) -> Resp {
    let Ok(Value::Object(envelope)) = serde_json::from_slice::<Value>(&req.body) else {
        return Resp::error(400, "BadRequest", "Invalid batch payload format.");
    };
    let Some(requests) = envelope.get("requests").and_then(Value::as_array) else {
        return Resp::error(400, "BadRequest", "Invalid batch payload format.");
    };
    if requests.len() > 20 {
        return Resp::error(
            400,
            "BadRequest",
            "Number of batch request steps exceeds the maximum of 20.",
        );
    }
    let mut ids = BTreeSet::new();
    for r in requests {
        let Some(id) = r.get("id").and_then(Value::as_str) else {
            return Resp::error(
                400,
                "BadRequest",
                "Invalid batch payload format: a request has no id.",
            );
        };
        if !ids.insert(id.to_owned()) {
            return Resp::error(400, "BadRequest", "Batch request contains duplicate ids.");
        }
    }
    let mut statuses: HashMap<String, u16> = HashMap::new();
    let mut responses = Vec::new();
    // Graph runs the independent sub-requests of a batch 4 at a time: the sub-requests of one
    // wave for the same mailbox are in flight together (and with the mailbox's outer
    // requests). A sub-request with `dependsOn` runs after its dependencies, in a wave of its
    // own.
    let mut wave: HashMap<String, usize> = HashMap::new();
    let mut wave_len = 0;
    for r in requests {
        let id = r
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let depends: Vec<String> = str_array(r, "dependsOn").map(str::to_owned).collect();
        if wave_len == BATCH_PARALLELISM || !depends.is_empty() {
            wave.clear();
            wave_len = 0;
        }
        wave_len += 1;
        let resp = if depends
            .iter()
            .any(|d| statuses.get(d).is_none_or(|s| *s >= 400))
        {
            Resp::error(
                424,
                "FailedDependency",
                "A request this one depends on failed.",
            )
        } else {
            run_sub(st, req, r, &mut wave)
        };
        statuses.insert(id.clone(), resp.status);
        let headers: Map<String, Value> = resp
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        let mut answer = json!({"id": id, "status": resp.status, "headers": headers});
        if let Some(body) = resp.body {
            answer["body"] = body;
            answer["headers"]["Content-Type"] = json!("application/json");
        }
        responses.push(answer);
    }
    // Graph answers in any order.
    responses.reverse();
    Resp::json(200, json!({"responses": responses}))
}

/// Sub-requests of one batch Graph runs at once.
pub(super) const BATCH_PARALLELISM: usize = 4;

/// Runs one sub-request; `wave` counts the sub-requests per mailbox running alongside.
pub(super) fn run_sub(
    st: &mut State,
    outer: &Req,
    r: &Value,
    wave: &mut HashMap<String, usize>,
) -> Resp {
    let method = r
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("GET")
        .to_ascii_uppercase();
    let url = r.get("url").and_then(Value::as_str).unwrap_or("");
    let url = url
        .strip_prefix("https://graph.microsoft.com/v1.0")
        .unwrap_or(url);
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let segs = path_segments(path);
    let query: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let mut headers: Vec<(String, String)> = r
        .get("headers")
        .and_then(Value::as_object)
        .map(|h| {
            h.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.to_ascii_lowercase(), v.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    let body = match r.get("body") {
        Some(b) => {
            if !headers.iter().any(|(k, _)| k == "content-type") {
                return Resp::error(
                    400,
                    "BadRequest",
                    "Content-Type header is required when a body is present.",
                );
            }
            serde_json::to_vec(b).unwrap_or_default()
        }
        None => Vec::new(),
    };
    if let Some(auth) = outer.header("authorization") {
        headers.push(("authorization".into(), auth.to_owned()));
    }
    let sub = Req {
        method,
        segs,
        query,
        headers,
        body,
        in_batch: true,
    };
    let (endpoint, mailbox) = classify(st, &sub);
    if endpoint == "batch" {
        return Resp::error(400, "BadRequest", "Nested batches are not supported.");
    }
    if let Err(resp) = super::roles::check_role(&sub, endpoint) {
        return resp;
    }
    let alongside = mailbox
        .as_deref()
        .and_then(|m| wave.get(m).copied())
        .unwrap_or(0);
    let admitted = admit(
        st,
        &sub,
        endpoint,
        mailbox.as_deref(),
        Flight::Batched { alongside },
    );
    if admitted.is_ok() {
        if let Some(m) = &mailbox {
            *wave.entry(m.clone()).or_default() += 1;
        }
    }
    let resp = match admitted {
        Ok(Admitted {
            lost: Some(status), ..
        }) => {
            let _effect = process(st, &sub, endpoint);
            Resp::error(
                status,
                "gatewayTimeout",
                "Injected fault after the request took effect.",
            )
        }
        Ok(_) => process(st, &sub, endpoint),
        Err(r) => r,
    };
    record(st, &sub, endpoint, mailbox.as_deref(), resp.status);
    resp
}
