//! What a member's two sides ([`GraphCalendar`](super::GraphCalendar) and
//! [`GraphContacts`](super::GraphContacts)) share: [`Mailbox`] (the client, the mailbox, the
//! link property, the prefetch and the packer, and the plumbing over them) and
//! [`mailbox_side_methods!`] (the builder methods both sides have).

use std::collections::HashMap;
use std::future::Future;

use sync_core::{Completeness, ErrorKind, IdempotencyKey, ProviderError, RemoteId, SideRead};

use super::error::{graph_error, maybe_landed};
use super::keys::{LINK_PROPERTY_ID, link_property};
use super::packer::BatchPacker;
use super::prefetch::DeltaPrefetch;
use crate::client::models::SingleValueExtendedProperty;
use crate::client::{
    Client, Contacts, DeleteOutcome, DeltaRound, Error, Events, ItemFailure, Page,
};

/// One member's mailbox as a side reaches it: the client, the user, the extended property
/// holding the idempotency key, and the optional [`DeltaPrefetch`] and [`BatchPacker`].
#[derive(Debug, Clone)]
pub(crate) struct Mailbox {
    client: Client,
    user: String,
    property_id: String,
    prefetch: Option<DeltaPrefetch>,
    packer: Option<BatchPacker>,
}

impl Mailbox {
    /// The mailbox of `user`, with the default link property and neither prefetch nor packer.
    pub(crate) fn new(client: Client, user: String) -> Self {
        Self {
            client,
            user,
            property_id: LINK_PROPERTY_ID.to_owned(),
            prefetch: None,
            packer: None,
        }
    }

    /// Reads resume from the pages `prefetch` holds (see [`Mailbox::resume`]).
    pub(crate) fn set_prefetch(&mut self, prefetch: DeltaPrefetch) {
        self.prefetch = Some(prefetch);
    }

    /// Batched writes go through `packer` (see [`super::batch_write::BatchWrites::send`]).
    pub(crate) fn set_packer(&mut self, packer: BatchPacker) {
        self.packer = Some(packer);
    }

    /// The idempotency key goes in the extended property `property_id`.
    pub(crate) fn set_property_id(&mut self, property_id: String) {
        self.property_id = property_id;
    }

    /// The client.
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// The user id.
    pub(crate) fn user(&self) -> &str {
        &self.user
    }

    /// The extended property holding the idempotency key.
    pub(crate) fn property_id(&self) -> &str {
        &self.property_id
    }

    /// The packer batched writes go through, if any.
    pub(crate) fn packer(&self) -> Option<&BatchPacker> {
        self.packer.as_ref()
    }

    /// The mailbox's event endpoints.
    pub(crate) fn events(&self) -> Events<'_> {
        self.client.events(&self.user)
    }

    /// The mailbox's contact endpoints.
    pub(crate) fn contacts(&self) -> Contacts<'_> {
        self.client.contacts(&self.user)
    }

    /// A client error as the engine's, its context naming the mailbox.
    pub(crate) fn error(&self, context: &str, e: Error) -> ProviderError {
        graph_error(&format!("{context} (mailbox {})", self.user), e)
    }

    /// A failed create of `what` (`an event`, `a contact`): [`ErrorKind::Interrupted`] when it
    /// may have landed (the engine then looks the item up by its key).
    pub(crate) fn create_error(&self, what: &str, e: Error) -> ProviderError {
        if maybe_landed(&e) {
            return ProviderError::with_source(
                ErrorKind::Interrupted,
                format!(
                    "creating {what} (mailbox {}): no answer, it may exist",
                    self.user
                ),
                e,
            );
        }
        self.error(&format!("creating {what}"), e)
    }

    /// What a delete of the `what` (`event`, `contact`) `id` answered, for the engine: an item
    /// already gone is deleted.
    pub(crate) fn deleted(
        &self,
        what: &str,
        id: &RemoteId,
        answer: Result<DeleteOutcome, Error>,
    ) -> Result<(), ProviderError> {
        match answer {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(self.error(&format!("deleting {what} {id}"), e)),
        }
    }

    /// The extended properties of a create's body: the one holding the idempotency key.
    pub(crate) fn link(&self, key: &IdempotencyKey) -> Vec<SingleValueExtendedProperty> {
        vec![link_property(&self.property_id, key)]
    }

    /// The delta round resumed from the stored `link`: from its prefetched first page when
    /// the prefetch holds it (taken once, parsed as strictly as a direct answer; `endpoint`
    /// names it), else by `from_link`; `from_page` follows a first page's next links.
    /// `Ok(None)` when the cursor is unusable (an expired token, a refused link): the caller
    /// reads in full. `what` (`calendar changes`, `contact changes`) names the round in the log.
    pub(crate) async fn resume<T, P, PF, L, LF>(
        &self,
        link: &str,
        endpoint: &str,
        what: &str,
        from_page: P,
        from_link: L,
    ) -> Result<Option<DeltaRound<T>>, Error>
    where
        T: serde::de::DeserializeOwned,
        P: FnOnce(Page<T>) -> PF,
        PF: Future<Output = Result<DeltaRound<T>, Error>>,
        L: FnOnce() -> LF,
        LF: Future<Output = Result<DeltaRound<T>, Error>>,
    {
        if let Err(e) = self.client.check_link(link) {
            // Stored under another graph_base_url (or another cloud): never sent, and never
            // a failure that repeats every round. A complete read, reconciled against the
            // state (absent means gone only after the engine's confirmation), stores a cursor
            // on the configured host, so this happens once.
            tracing::warn!(mailbox = %self.user, error = %e, "{what}: the stored link is not on the configured Graph host (graph_base_url changed?); reading the mailbox completely once");
            return Ok(None);
        }
        let round = match self.prefetch.as_ref().and_then(|p| p.take(link)) {
            Some(body) => {
                tracing::debug!(mailbox = %self.user, "{what}: the prefetched first page");
                match Page::from_value(body, endpoint) {
                    Ok(first) => from_page(first).await,
                    Err(e) => Err(e),
                }
            }
            None => from_link().await,
        };
        match round {
            Ok(round) => Ok(Some(round)),
            Err(e) if e.is_delta_expired() || matches!(e, Error::InvalidRequest(_)) => {
                tracing::info!(mailbox = %self.user, error = %e, "{what}: delta cursor unusable, full re-read");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Sets aside the items of a delta round that did not decode: each is one of the read's
    /// [`unreadable`](SideRead::unreadable) items, under its id, with the error naming the
    /// item and the field, so the engine reports it and leaves its pair alone. An item without
    /// a readable id cannot be told apart from a deleted one: it is reported under its
    /// position (`GET /users/{id}/calendarView/delta value[3]`) and the read becomes
    /// [`Completeness::Partial`], so nothing is inferred deleted from it.
    pub(crate) fn set_aside<T>(&self, read: &mut SideRead<T>, failed: Vec<ItemFailure>) {
        for f in failed {
            let why = f.to_string();
            let id = f.id.as_deref().and_then(|id| RemoteId::new(id).ok());
            let id = if let Some(id) = id {
                id
            } else {
                read.completeness = Completeness::Partial;
                let at = match &f.error {
                    Error::Decode { endpoint, .. } => endpoint.as_str(),
                    _ => "graph page",
                };
                let item = f.path().split('.').next().unwrap_or_default();
                tracing::warn!(mailbox = %self.user, error = %why, "an item without a readable id did not decode; nothing is inferred deleted this round");
                let Ok(id) = RemoteId::new(format!("{at} {item}")) else {
                    continue;
                };
                id
            };
            read.unreadable.push((id, why));
        }
    }

    /// The items of a delta round, each id once in the order it first came, with its last
    /// copy (Graph replays items within a round: the last copy wins). An item without an id
    /// (`what`: `a delta item`, `a contact`) is left out with a warning.
    pub(crate) fn last_copies<T>(
        &self,
        items: Vec<T>,
        id_of: impl Fn(&T) -> Option<&String>,
        what: &str,
    ) -> Vec<(String, T)> {
        let mut order: Vec<String> = Vec::new();
        let mut latest: HashMap<String, T> = HashMap::new();
        for item in items {
            let Some(id) = id_of(&item).cloned() else {
                tracing::warn!(mailbox = %self.user, "{what} without an id was ignored");
                continue;
            };
            if !latest.contains_key(&id) {
                order.push(id.clone());
            }
            latest.insert(id, item);
        }
        order
            .into_iter()
            .filter_map(|id| latest.remove(&id).map(|item| (id, item)))
            .collect()
    }
}

/// The builder methods and accessor both sides have, over their `mailbox` field
/// ([`Mailbox`]): `with_prefetch`, `with_packer`, `with_link_property` and `user_id`.
macro_rules! mailbox_side_methods {
    ($side:ident) => {
        impl $side {
            /// Reads resume from a page of `prefetch` when it holds the stored delta link's
            /// first page (taken once), instead of requesting it: the page is parsed as
            /// strictly as a direct answer (a malformed one fails the read) and the round goes
            /// on with its next links. A link the prefetch does not hold is requested as usual
            /// (an expired token, a folder gone: handled as without a prefetch).
            #[must_use]
            pub fn with_prefetch(
                mut self,
                prefetch: $crate::adapter::prefetch::DeltaPrefetch,
            ) -> Self {
                self.mailbox.set_prefetch(prefetch);
                self
            }

            /// Sends the writes of [`WriteSide::create_many`](sync_core::WriteSide::create_many)
            /// and [`WriteSide::update_many`](sync_core::WriteSide::update_many) through
            /// `packer`, packed with the batched writes of the tenant's other sides (any
            /// mailbox) into full `$batch` requests of 20, instead of cutting this call's own
            /// batches. Each write gets the result it would get without the packer; a partly
            /// filled batch waits at most the packer's linger for others' writes. Creates
            /// without a `transactionId` (contacts) are packed only with other such creates.
            /// The packer must send with this side's client (a clone of it); a packer of
            /// another client is not used.
            #[must_use]
            pub fn with_packer(mut self, packer: $crate::adapter::packer::BatchPacker) -> Self {
                self.mailbox.set_packer(packer);
                self
            }

            /// Uses another single-value extended property for the idempotency key (default
            /// [`LINK_PROPERTY_ID`](crate::adapter::keys::LINK_PROPERTY_ID)).
            #[must_use]
            pub fn with_link_property(mut self, property_id: impl Into<String>) -> Self {
                self.mailbox.set_property_id(property_id.into());
                self
            }

            /// The mailbox's user id.
            #[must_use]
            pub fn user_id(&self) -> &str {
                self.mailbox.user()
            }
        }
    };
}
pub(crate) use mailbox_side_methods;
