//! Note wake-ups across workers: one dedicated connection (not from the pool) runs
//! `LISTEN raynet_sync_notes` and forwards each notification's payload — the tenant a note was
//! added for — into a [`broadcast`] channel that every
//! [`ServiceStore::note_wakeups`](super::super::ServiceStore::note_wakeups) receiver shares.
//!
//! When that connection drops, it is made again (waiting [`FIRST_RETRY`], doubling up to
//! [`LAST_RETRY`] between attempts), and once it listens again
//! [`EVERY_TENANT`] (`"*"`, also `PostgresStore::EVERY_TENANT`) is sent: notes
//! added while nobody listened are then found by a round for every tenant, so none is missed.

use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use futures::{Stream, StreamExt as _};
use sync_core::StoreError;
use tokio::sync::{OnceCell, broadcast};
use tokio::task::AbortHandle;
use tokio_postgres::{AsyncMessage, Client, NoTls};

/// The channel notes are announced on (shared by every schema of one database: a deployment
/// may be woken for another's tenant of the same name, which only costs a round).
pub(super) const NOTES_CHANNEL: &str = "raynet_sync_notes";

/// How many wake-ups a receiver may fall behind before it sees `Lagged` (then it should treat
/// every tenant as woken).
const CHANNEL_CAPACITY: usize = 1024;

/// The first wait before making a dropped listening connection again.
const FIRST_RETRY: Duration = Duration::from_millis(200);

/// The longest wait between two attempts.
const LAST_RETRY: Duration = Duration::from_secs(30);

/// The messages of the listening connection (driving it).
type Messages =
    Pin<Box<dyn Stream<Item = Result<AsyncMessage, tokio_postgres::Error>> + Send + 'static>>;

/// The listening side of a PostgreSQL store: made on the first [`Wakeups::subscribe`],
/// stopped when the store (which owns it) is dropped.
#[derive(Debug, Default)]
pub(super) struct Wakeups {
    sender: OnceCell<broadcast::Sender<String>>,
    /// The receiver made with the channel, for the first caller: it misses nothing sent after
    /// the connection listened.
    first: Mutex<Option<broadcast::Receiver<String>>>,
    task: Mutex<Option<AbortHandle>>,
}

impl Drop for Wakeups {
    fn drop(&mut self) {
        if let Some(task) = self
            .task
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            task.abort();
        }
    }
}

/// The wake-up sent after the listening connection was made again: "any tenant may have new
/// notes" (notes added while nobody listened).
pub(super) const EVERY_TENANT: &str = "*";

impl Wakeups {
    /// A receiver of the tenants whose notes were added (by any worker), listening on a
    /// connection made with `config` first if nothing listens yet (`context` names what failed).
    /// Returns once the connection listens: a note committed after this returns is never
    /// missed.
    pub(super) async fn subscribe(
        &self,
        config: &tokio_postgres::Config,
        location: &str,
        context: impl FnOnce() -> String,
    ) -> Result<broadcast::Receiver<String>, StoreError> {
        let sender = self
            .sender
            .get_or_try_init(|| async {
                let (sender, first) = broadcast::channel(CHANNEL_CAPACITY);
                let (client, messages) = listen(config, &sender)
                    .await
                    .map_err(|e| StoreError::with_source(context(), e))?;
                let task = tokio::spawn(keep_listening(
                    config.clone(),
                    location.to_owned(),
                    client,
                    messages,
                    sender.clone(),
                ));
                *self.task.lock().unwrap_or_else(PoisonError::into_inner) =
                    Some(task.abort_handle());
                *self.first.lock().unwrap_or_else(PoisonError::into_inner) = Some(first);
                Ok::<_, StoreError>(sender)
            })
            .await?;
        let first = self
            .first
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        Ok(first.unwrap_or_else(|| sender.subscribe()))
    }
}

/// The `application_name` of the listening connection of a store on `schema`.
pub(in crate::store) fn listen_application_name(schema: Option<&str>) -> String {
    match schema {
        Some(schema) => format!("raynet-sync notes {schema}"),
        None => "raynet-sync notes".to_owned(),
    }
}

/// Connects and listens; notifications that arrive meanwhile go to `sender`.
async fn listen(
    config: &tokio_postgres::Config,
    sender: &broadcast::Sender<String>,
) -> Result<(Client, Messages), tokio_postgres::Error> {
    let (client, mut connection) = config.connect(NoTls).await?;
    let mut messages: Messages = Box::pin(futures::stream::poll_fn(move |cx| {
        connection.poll_message(cx)
    }));
    {
        // The connection only moves while its messages are polled: poll both.
        let sql = format!("LISTEN {NOTES_CHANNEL}");
        let listening = client.batch_execute(&sql);
        tokio::pin!(listening);
        loop {
            tokio::select! {
                done = &mut listening => {
                    done?;
                    break;
                }
                message = messages.next() => match message {
                    Some(Ok(message)) => forward(message, sender),
                    Some(Err(e)) => return Err(e),
                    // Closed: the LISTEN fails too; its error says why.
                    None => {
                        (&mut listening).await?;
                        break;
                    }
                },
            }
        }
    }
    Ok((client, messages))
}

/// Sends a notification's payload on; other messages (notices) are only logged.
fn forward(message: AsyncMessage, sender: &broadcast::Sender<String>) {
    match message {
        AsyncMessage::Notification(n) => {
            // No receiver now is fine: the next subscriber waits for later notes.
            let _ = sender.send(n.payload().to_owned());
        }
        AsyncMessage::Notice(notice) => {
            tracing::debug!(notice = %notice, "PostgreSQL notice on the listening connection");
        }
        _ => {}
    }
}

/// Forwards notifications until the store is dropped (which aborts this task), making the
/// connection again whenever it drops.
async fn keep_listening(
    config: tokio_postgres::Config,
    location: String,
    client: Client,
    messages: Messages,
    sender: broadcast::Sender<String>,
) {
    let mut listening = (client, messages);
    loop {
        let ended = loop {
            match listening.1.next().await {
                Some(Ok(message)) => forward(message, &sender),
                Some(Err(e)) => break Some(e),
                None => break None,
            }
        };
        tracing::warn!(
            location,
            error = ended.as_ref().map(tracing::field::display),
            "the connection listening for notes dropped; making it again"
        );
        let mut wait = FIRST_RETRY;
        listening = loop {
            tokio::time::sleep(wait).await;
            match listen(&config, &sender).await {
                Ok(again) => break again,
                Err(e) => {
                    wait = (wait * 2).min(LAST_RETRY);
                    tracing::warn!(location, error = %e, retry_in = ?wait, "cannot listen for notes");
                }
            }
        };
        tracing::info!(location, "listening for notes again; waking every tenant");
        let _ = sender.send(EVERY_TENANT.to_owned());
    }
}
