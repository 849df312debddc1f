//! The fake's view of a request ([`Req`], its `Prefer` header as [`Prefs`]) and of an answer
//! ([`Resp`]), with the answers several endpoints share.

use chrono::Utc;
use serde_json::{Map, Value, json};

use crate::fake::time;

/// A request as the handlers see it: an HTTP request, or a `$batch` sub-request.
#[derive(Debug, Clone)]
pub(super) struct Req {
    pub(super) method: String,
    pub(super) segs: Vec<String>,
    pub(super) query: Vec<(String, String)>,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Vec<u8>,
    pub(super) in_batch: bool,
}

impl Req {
    pub(super) fn q(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn prefer(&self) -> Prefs {
        let mut prefs = Prefs::default();
        for (k, v) in &self.headers {
            if !k.eq_ignore_ascii_case("prefer") {
                continue;
            }
            for part in v.split(',') {
                let Some((key, value)) = part.split_once('=') else {
                    continue;
                };
                let value = value.trim().trim_matches('"').to_owned();
                match key.trim().to_ascii_lowercase().as_str() {
                    "outlook.timezone" => prefs.timezone = Some(value),
                    "odata.maxpagesize" => prefs.max_page_size = value.parse().ok(),
                    "idtype" => prefs.id_type = Some(value),
                    "outlook.body-content-type" => {
                        prefs.body_text = value.eq_ignore_ascii_case("text");
                    }
                    _ => {}
                }
            }
        }
        prefs
    }

    pub(super) fn json_body(&self) -> Result<Map<String, Value>, Resp> {
        match serde_json::from_slice::<Value>(&self.body) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(Resp::error(
                400,
                "RequestBodyRead",
                "The request body is not a valid JSON object.",
            )),
        }
    }

    pub(super) fn select(&self) -> Option<Vec<String>> {
        self.q("$select").map(|s| {
            s.split(',')
                .map(|f| f.trim().to_owned())
                .filter(|f| !f.is_empty())
                .collect()
        })
    }
}

/// What a request's `Prefer` header asks for.
#[derive(Debug, Default)]
pub(super) struct Prefs {
    pub(super) timezone: Option<String>,
    pub(super) max_page_size: Option<usize>,
    pub(super) id_type: Option<String>,
    pub(super) body_text: bool,
}

/// An answer: status, headers and a JSON body.
#[derive(Debug, Clone)]
pub(crate) struct Resp {
    pub(super) status: u16,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Option<Value>,
}

impl Resp {
    pub(super) fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Some(body),
        }
    }

    pub(super) fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: None,
        }
    }

    pub(super) fn error(status: u16, code: &str, message: &str) -> Self {
        Self::json(
            status,
            json!({"error": {"code": code, "message": message, "innerError": {
                "date": time::fmt_utc(Utc::now()), "request-id": "00000000-0000-4000-8000-000000000000"
            }}}),
        )
    }

    pub(super) fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

impl Resp {
    pub(super) fn with_status(mut self, status: u16) -> Self {
        if self.status == 200 {
            self.status = status;
        }
        self
    }
}

/// What a handler answers: `Err` is an answer that ends the request early (a refused body,
/// an unknown id, a failed `If-Match`...), so that a handler's checks read as `?`.
pub(super) type Answer = Result<Resp, Resp>;

/// The percent-decoded, non-empty segments of a path.
pub(super) fn path_segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect()
}

pub(super) fn looks_like_outlook_id(id: &str) -> bool {
    id.starts_with("AAMk") && id.len() > 12
}

pub(super) fn not_found_or_malformed(id: &str) -> Resp {
    if looks_like_outlook_id(id) {
        Resp::error(
            404,
            "ErrorItemNotFound",
            "The specified object was not found in the store.",
        )
    } else {
        Resp::error(400, "ErrorInvalidIdMalformed", "Id is malformed.")
    }
}

pub(super) fn check_if_match(req: &Req, etag: &str) -> Result<(), Resp> {
    match req.header("if-match") {
        Some(v) if v.trim() != "*" && v.trim() != etag => Err(Resp::error(
            412,
            "ErrorIrresolvableConflict",
            "The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.",
        )),
        _ => Ok(()),
    }
}
