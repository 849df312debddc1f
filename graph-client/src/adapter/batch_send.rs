//! One `$batch` of writes on the wire: [`send_chunk`] sends at most 20 writes (of any kinds
//! and mailboxes) and sends the updates that failed transiently again; each write's outcome is
//! its sub-answer or the [`BatchFailure`] of its whole batch.

use sync_core::ErrorKind;

use super::error::{classify, maybe_landed};
use crate::client::Error;

/// What a batched write is, for classifying what went wrong with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteKind {
    /// A create: an answer that may hide a landed write (none at all, a gateway error, an
    /// unreadable body) is [`ErrorKind::Interrupted`], and the engine then looks the item up
    /// by its key.
    Create,
    /// An update (a `PATCH` with `If-Match`, harmless to repeat): every failure is classified
    /// as the same request sent alone would be, so a batched update fails exactly as
    /// [`sync_core::WriteSide::update`] does.
    Update,
}

/// What became of one write sent in a batch: its sub-answer, or why the whole batch failed.
pub(crate) type BatchOutcome = Result<crate::client::models::BatchResponse, BatchFailure>;

/// Why a whole batch failed, for each of its writes.
#[derive(Debug)]
pub(crate) struct BatchFailure {
    /// The kind each write of the batch fails with.
    pub(super) kind: ErrorKind,
    /// A create's batch whose answer was lost: the items may exist.
    pub(super) lost: bool,
    /// What went wrong with the batch.
    pub(super) error: String,
}

impl BatchFailure {
    /// The write's batch was abandoned while it was being sent (its sender was dropped): the
    /// write may or may not have landed, so it is [`ErrorKind::Interrupted`] either way (a
    /// create "may exist").
    pub(crate) fn abandoned(kind: WriteKind) -> Self {
        Self {
            kind: ErrorKind::Interrupted,
            lost: kind == WriteKind::Create,
            error: "the batch was abandoned while it was being sent".into(),
        }
    }
}

/// Sends one batch (at most 20 requests, of any kinds; ids are assigned here) and sends the
/// updates answered 500, 502, 503 or 504 again until the transport's attempts are used up.
/// One outcome per request, in order.
pub(crate) async fn send_chunk(
    client: &crate::client::Client,
    requests: Vec<(crate::client::models::BatchRequest, WriteKind)>,
) -> Vec<BatchOutcome> {
    let retry = client.transport().retry.clone();
    let mut outcomes: Vec<Option<BatchOutcome>> = std::iter::repeat_with(|| None)
        .take(requests.len())
        .collect();
    let mut pending: Vec<(usize, crate::client::models::BatchRequest, WriteKind)> = requests
        .into_iter()
        .enumerate()
        .map(|(slot, (request, kind))| (slot, request, kind))
        .collect();
    let mut attempt: u32 = 0;
    while !pending.is_empty() {
        attempt += 1;
        let sent: Vec<_> = pending
            .iter()
            .enumerate()
            .map(|(i, (_, r, _))| {
                let mut r = r.clone();
                r.id = (i + 1).to_string();
                r
            })
            .collect();
        let answers = match client.batch(sent).await {
            Ok(answers) => answers,
            Err(e) => {
                let may_have_landed =
                    maybe_landed(&e) || matches!(e, Error::Shape { .. } | Error::Decode { .. });
                for (slot, _, kind) in pending {
                    let lost = kind == WriteKind::Create && may_have_landed;
                    outcomes[slot] = Some(Err(BatchFailure {
                        kind: if lost {
                            ErrorKind::Interrupted
                        } else {
                            classify(&e)
                        },
                        lost,
                        error: e.to_string(),
                    }));
                }
                break;
            }
        };
        let mut again = Vec::new();
        let mut wait = std::time::Duration::ZERO;
        for ((slot, request, kind), answer) in pending.into_iter().zip(answers) {
            let transient = matches!(answer.status, 500 | 502 | 503 | 504);
            if kind == WriteKind::Update && transient && attempt < retry.max_attempts {
                let after = matches!(answer.status, 503 | 504)
                    .then(|| answer.header("Retry-After"))
                    .flatten()
                    .and_then(crate::client::parse_retry_after)
                    .map(|d| d.min(retry.max_retry_after));
                wait = wait.max(after.unwrap_or_else(|| retry.backoff(attempt - 1)));
                again.push((slot, request, kind));
            } else {
                outcomes[slot] = Some(Ok(answer));
            }
        }
        if !again.is_empty() {
            tracing::info!(
                count = again.len(),
                wait_ms = wait.as_millis() as u64,
                "sending failed batch updates again"
            );
            tokio::time::sleep(wait).await;
        }
        pending = again;
    }
    outcomes
        .into_iter()
        .map(|o| {
            o.unwrap_or_else(|| {
                Err(BatchFailure {
                    kind: ErrorKind::Interrupted,
                    lost: false,
                    error: "no answer".into(),
                })
            })
        })
        .collect()
}
