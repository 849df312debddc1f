//! JSON `$batch` envelopes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One request inside a `$batch`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct BatchRequest {
    /// Unique id within the batch.
    pub id: String,
    /// HTTP method.
    pub method: String,
    /// Relative URL, e.g. `/users/{id}/events`.
    pub url: String,
    /// Headers (a body needs `Content-Type`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// JSON body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
    /// Ids this request waits for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
}

impl BatchRequest {
    /// A request without a body.
    #[must_use]
    pub fn new(id: impl Into<String>, method: &str, url: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            method: method.to_owned(),
            url: url.into(),
            ..Self::default()
        }
    }

    /// Adds a JSON body (and its `Content-Type`).
    #[must_use]
    pub fn with_json(mut self, body: serde_json::Value) -> Self {
        self.headers
            .insert("Content-Type".to_owned(), "application/json".to_owned());
        self.body = Some(body);
        self
    }

    /// Adds a header.
    #[must_use]
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.insert(name.to_owned(), value.to_owned());
        self
    }
}

/// One response inside a `$batch` answer.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct BatchResponse {
    /// The id of the request it answers.
    pub id: String,
    /// HTTP status.
    pub status: u16,
    /// Headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// JSON body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
}

impl BatchResponse {
    /// Whether the status is 2xx.
    #[must_use]
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// A header, looked up case-insensitively.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The `$batch` request envelope.
#[derive(Debug, Serialize)]
pub(crate) struct BatchEnvelope<'a> {
    pub(crate) requests: &'a [BatchRequest],
}

/// The `$batch` response envelope.
#[derive(Debug, Deserialize)]
pub(crate) struct BatchAnswer {
    pub(crate) responses: Vec<BatchResponse>,
}

impl BatchResponse {
    /// Parses the body of a `$batch` answer (`{"responses": [..]}`), naming the failing field
    /// (e.g. `responses[2].status`); each response's `body` stays raw JSON for its reader.
    ///
    /// # Errors
    /// [`Error::Decode`] (endpoint `POST /$batch`) when the body is not a batch answer.
    ///
    /// [`Error::Decode`]: crate::Error::Decode
    pub fn parse_answer(body: &[u8]) -> crate::Result<Vec<BatchResponse>> {
        crate::client::transport::decode::<BatchAnswer>(body, "POST /$batch").map(|a| a.responses)
    }
}
