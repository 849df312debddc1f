//! [`FakeError`]: a seeding or inspection call the fake refused.

use serde_json::Value;

use super::state::Reject;

/// An error from a seeding or inspection call on the fake.
#[derive(Debug, Clone, thiserror::Error)]
#[error("fake raynet refused: {status} {body}")]
pub struct FakeError {
    /// The status the API would have answered.
    pub status: u16,
    /// The error body.
    pub body: Value,
}

impl From<Reject> for FakeError {
    fn from(r: Reject) -> Self {
        FakeError {
            status: r.status,
            body: r.body,
        }
    }
}
