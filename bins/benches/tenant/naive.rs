//! The naive strategy the figures are compared with: every item of both sides re-listed each
//! round (the cursors dropped), every write sent alone (no `$batch`), each member's calendar
//! and contacts run by sync-core's `Runner` against the same clients, store and data.

use async_trait::async_trait;
use chrono::Utc;
use futures::StreamExt as _;
use raynet_sync::wiring::discover_members;
use sync_core::{
    Collection, Contact, Event, IdempotencyKey, Member, ProviderError, ReadRequest, ReadSide,
    Remote, RemoteId, RoundReport, Scope, SideRead, StateStore, SyncItem, Version, WriteSide,
    Written,
};

use crate::measure::RoundDone;
use crate::world::World;

/// A side as a naive integration uses it: every read lists everything (the cursor is
/// dropped), every create is sent alone (no `$batch`).
struct Naive<'a, S>(&'a S);

#[async_trait]
impl<T: SyncItem, S: ReadSide<T>> ReadSide<T> for Naive<'_, S> {
    fn profile(&self) -> T::Profile {
        self.0.profile()
    }
    async fn read(&self, request: &ReadRequest) -> Result<SideRead<T>, ProviderError> {
        let full = ReadRequest {
            window: request.window,
            cursor: None,
        };
        self.0.read(&full).await
    }
    async fn get(&self, id: &RemoteId) -> Result<Option<Remote<T>>, ProviderError> {
        self.0.get(id).await
    }
}

#[async_trait]
impl<T: SyncItem, S: WriteSide<T>> WriteSide<T> for Naive<'_, S> {
    async fn create(&self, item: &T, key: &IdempotencyKey) -> Result<Written<T>, ProviderError> {
        self.0.create(item, key).await
    }
    async fn update(
        &self,
        id: &RemoteId,
        item: &T,
        changed: sync_core::FieldSet<T::Field>,
        expected: Option<&Version>,
    ) -> Result<Written<T>, ProviderError> {
        self.0.update(id, item, changed, expected).await
    }
    async fn delete(&self, id: &RemoteId, expected: Option<&Version>) -> Result<(), ProviderError> {
        self.0.delete(id, expected).await
    }
    async fn find_by_key(&self, key: &IdempotencyKey) -> Result<Option<Remote<T>>, ProviderError> {
        self.0.find_by_key(key).await
    }
}

/// One round of the naive strategy: per member, the whole Raynet calendar and every person,
/// the whole Outlook calendar view and contact folder, compared with the last round's state;
/// then one request per write.
pub(crate) async fn naive_round(world: &World) -> anyhow::Result<RoundDone> {
    let tenant = &world.tenant;
    let clients = &world.clients;
    let membership = discover_members(clients).await?;
    let served: std::collections::BTreeSet<sync_core::Email> = membership
        .served
        .iter()
        .flat_map(|m| m.emails.iter().cloned())
        .collect();
    let domains: std::collections::BTreeSet<String> =
        served.iter().map(|e| e.domain().to_owned()).collect();
    let tz: chrono_tz::Tz = tenant
        .raynet
        .time_zone
        .parse()
        .map_err(|_| anyhow::anyhow!("bad time zone"))?;
    let now = Utc::now();
    let results: Vec<(Vec<RoundReport>, usize)> = futures::stream::iter(membership.served.iter())
        .map(|m| {
            let member = Member {
                emails: m.emails.clone(),
                served: served.clone(),
                internal_domains: domains.clone(),
                claimed_elsewhere: std::collections::BTreeSet::new(),
            };
            async move {
                let mut reports = Vec::new();
                let mut errors = 0;
                let scope = |c| Scope::new(&tenant.name, m.email.as_str(), c);
                let raynet = raynet_client::adapter::RaynetCalendar::new(
                    clients.raynet.clone(),
                    m.person_id,
                )
                .with_time_zone(tz);
                let outlook = graph_client::adapter::GraphCalendar::new(
                    clients.graph.clone(),
                    m.user.id.clone(),
                );
                let runner =
                    sync_core::Runner::new(scope(Collection::Calendar), tenant.sync.policy.clone());
                let store: &dyn StateStore<Event> = world.store.calendar();
                match runner
                    .sync_calendar(&Naive(&raynet), &Naive(&outlook), store, &member, now)
                    .await
                {
                    Ok(r) => reports.push(r),
                    Err(e) => {
                        eprintln!("  naive calendar round of {}: {e}", m.email);
                        errors += 1;
                    }
                }
                let source = raynet_client::adapter::RaynetContacts::new(clients.raynet.clone());
                let target = graph_client::adapter::GraphContacts::new(
                    clients.graph.clone(),
                    m.user.id.clone(),
                    tenant.sync.contacts_folder.clone(),
                );
                let runner =
                    sync_core::Runner::new(scope(Collection::Contacts), tenant.sync.policy.clone());
                let store: &dyn StateStore<Contact> = world.store.contacts();
                match runner
                    .sync_contacts(&Naive(&source), &Naive(&target), store, now)
                    .await
                {
                    Ok(r) => reports.push(r),
                    Err(e) => {
                        eprintln!("  naive contacts round of {}: {e}", m.email);
                        errors += 1;
                    }
                }
                (reports, errors)
            }
        })
        .buffer_unordered(tenant.sync.max_parallel_members.max(1))
        .collect()
        .await;
    let mut done = RoundDone::default();
    for (r, e) in results {
        done.reports.extend(r);
        done.errors += e;
    }
    Ok(done)
}
