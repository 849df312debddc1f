//! A side's batched writes ([`sync_core::WriteSide::create_many`] / `update_many`):
//! [`BatchWrites`] gathers them, [`batch_write`] sends them (through a [`BatchPacker`] or in
//! batches of its own) and reads each answer as the single write's answer would be read;
//! [`batch_results`] puts the results back in the items' order.

use sync_core::{ErrorKind, ProviderError, Written};

use super::batch_send::{BatchFailure, WriteKind, send_chunk};
use super::error::{graph_error, maybe_landed};
use super::mailbox::Mailbox;
use super::packer::BatchPacker;
use crate::client::Error;
use crate::client::models::BatchRequest;

/// One write of a `$batch`: the sub-request (its id is assigned when the batch is cut) and
/// the context its errors are reported under (e.g. `updating event X (mailbox Y)`).
pub(crate) struct BatchWrite {
    pub(crate) request: BatchRequest,
    pub(crate) context: String,
}

/// The items of one `create_many` or `update_many` call, in order: each either a write to
/// send in a `$batch` or already settled (refused before sending, or written another way).
pub(crate) struct BatchWrites<T> {
    writes: Vec<BatchWrite>,
    settled: Vec<Option<Result<Written<T>, ProviderError>>>,
    endpoint: &'static str,
    kind: WriteKind,
}

impl<T> BatchWrites<T> {
    /// Room for `items` writes to `endpoint` (named in decode errors) of `kind`.
    pub(crate) fn new(items: usize, endpoint: &'static str, kind: WriteKind) -> Self {
        Self {
            writes: Vec::with_capacity(items),
            settled: Vec::with_capacity(items),
            endpoint,
            kind,
        }
    }

    /// The next item: sent as `request`, its errors reported under `context`; or, when the
    /// request could not be made, settled with that error.
    pub(crate) fn push(&mut self, request: Result<BatchRequest, ProviderError>, context: String) {
        match request {
            Ok(request) => {
                self.writes.push(BatchWrite { request, context });
                self.settled.push(None);
            }
            Err(e) => self.settled.push(Some(Err(e))),
        }
    }

    /// The next item, already settled with `result`.
    pub(crate) fn settle(&mut self, result: Result<Written<T>, ProviderError>) {
        self.settled.push(Some(result));
    }

    /// Sends the writes with the mailbox's client (through its packer, if any; see
    /// [`batch_write`]) and gives one result per item, in order: each answer read as `M` and
    /// turned into what was written by `written(index of the item, answer)`.
    pub(crate) async fn send<M: serde::de::DeserializeOwned>(
        self,
        mailbox: &Mailbox,
        written: impl FnMut(usize, M) -> Result<Written<T>, ProviderError>,
    ) -> Vec<Result<Written<T>, ProviderError>> {
        let answers = batch_write(
            mailbox.client(),
            mailbox.packer(),
            self.writes,
            self.endpoint,
            self.kind,
        )
        .await;
        batch_results(self.settled, answers, written)
    }
}

/// Sends writes in `$batch` requests of at most 20 (the client retries a throttled
/// sub-request alone) and reads each answer body as `M`. With a `packer` (of this client) the
/// writes go through it, packed with other callers' writes into full batches; without one
/// each call cuts its own batches. One result per write, in order, the same either way:
///
/// - a failed sub-request maps through [`graph_error`] as the direct request's error would
///   (429 and 503 as [`Error::Throttled`], 504 as [`Error::AnswerLost`], like the transport); for a
///   [`WriteKind::Create`], an answer that may hide a landed write is
///   [`ErrorKind::Interrupted`] instead;
/// - an update answered 500, 502, 503 or 504 is sent again (in a further batch, after its
///   `Retry-After` or the backoff) as often as the transport repeats a direct request, so a
///   transient failure fails a batched update no sooner than a direct one;
/// - an unreadable answer body is [`ErrorKind::Invalid`] for an update (as a direct answer
///   that cannot be decoded), [`ErrorKind::Interrupted`] for a create;
/// - a failed batch fails each of its writes with its error: classified through
///   [`classify`](super::error::classify) for updates; for creates a lost or unreadable batch answer is
///   [`ErrorKind::Interrupted`] (the items may exist).
async fn batch_write<M: serde::de::DeserializeOwned>(
    client: &crate::client::Client,
    packer: Option<&BatchPacker>,
    writes: Vec<BatchWrite>,
    endpoint: &str,
    kind: WriteKind,
) -> Vec<Result<M, ProviderError>> {
    let (requests, contexts): (Vec<_>, Vec<String>) =
        writes.into_iter().map(|w| (w.request, w.context)).unzip();
    let outcomes = match packer {
        Some(packer) if packer.serves(client) => packer.send(requests, kind).await,
        other => {
            if other.is_some() {
                tracing::warn!(
                    "the batch packer was made for another client: writes sent without it"
                );
            }
            let mut outcomes = Vec::with_capacity(requests.len());
            let mut requests = requests.into_iter().peekable();
            while requests.peek().is_some() {
                let chunk: Vec<_> = requests
                    .by_ref()
                    .take(crate::client::MAX_BATCH_REQUESTS)
                    .map(|r| (r, kind))
                    .collect();
                outcomes.extend(send_chunk(client, chunk).await);
            }
            outcomes
        }
    };
    outcomes
        .into_iter()
        .zip(&contexts)
        .map(|(outcome, context)| match outcome {
            Ok(answer) => batched_answer(client, answer, endpoint, context, kind),
            Err(BatchFailure { kind, lost, error }) => Err(ProviderError::new(
                kind,
                if lost {
                    format!("{context}: the batch answer was lost, the item may exist ({error})")
                } else {
                    format!("{context}: the batch failed ({error})")
                },
            )),
        })
        .collect()
}

/// One sub-answer of a batch of writes, read as `M` (see [`batch_write`]).
fn batched_answer<M: serde::de::DeserializeOwned>(
    client: &crate::client::Client,
    answer: crate::client::models::BatchResponse,
    endpoint: &str,
    context: &str,
    kind: WriteKind,
) -> Result<M, ProviderError> {
    let status = answer.status;
    if answer.is_success() {
        let body = answer.body.unwrap_or(serde_json::Value::Null);
        return serde_path_to_error::deserialize(body).map_err(|e| {
            let error = Error::Decode {
                endpoint: endpoint.to_owned(),
                path: e.path().to_string(),
                source: e.into_inner(),
            };
            match kind {
                WriteKind::Create => ProviderError::with_source(
                    ErrorKind::Interrupted,
                    format!("{context}: unreadable answer, it may exist"),
                    error,
                ),
                WriteKind::Update => graph_error(context, error),
            }
        });
    }
    let error = if status == 504 {
        // As the transport reports a lost answer: it may have landed.
        Error::AnswerLost {
            status,
            endpoint: endpoint.to_owned(),
        }
    } else if matches!(status, 429 | 503) {
        // As the transport reports a request still throttled after its retries.
        let cap = client.transport().retry.max_retry_after;
        Error::Throttled {
            status,
            retry_after: answer
                .header("Retry-After")
                .and_then(crate::client::parse_retry_after)
                .map(|d| d.min(cap)),
            endpoint: endpoint.to_owned(),
        }
    } else {
        let body = answer
            .body
            .as_ref()
            .map(|b| serde_json::to_vec(b).unwrap_or_default())
            .unwrap_or_default();
        Error::from_status(status, &body, endpoint)
    };
    if kind == WriteKind::Create && maybe_landed(&error) {
        return Err(ProviderError::with_source(
            ErrorKind::Interrupted,
            format!("{context}: answered {status}, the item may exist"),
            error,
        ));
    }
    Err(graph_error(context, error))
}

/// One result per item, in order: an item already `settled` (refused before sending, or
/// written another way) keeps its result; every other item takes the next answer of
/// [`batch_write`], turned into what was written by `written(index of the item, answer)`.
fn batch_results<M, T>(
    settled: Vec<Option<Result<Written<T>, ProviderError>>>,
    answers: Vec<Result<M, ProviderError>>,
    mut written: impl FnMut(usize, M) -> Result<Written<T>, ProviderError>,
) -> Vec<Result<Written<T>, ProviderError>> {
    let mut answers = answers.into_iter();
    settled
        .into_iter()
        .enumerate()
        .map(|(i, s)| match s {
            Some(result) => result,
            None => match answers.next() {
                Some(answer) => answer.and_then(|m| written(i, m)),
                None => Err(ProviderError::new(
                    ErrorKind::Interrupted,
                    "the batch answered fewer results than requests",
                )),
            },
        })
        .collect()
}
