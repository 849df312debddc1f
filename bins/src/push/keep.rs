//! Keeping push alive for a tenant: a Graph subscription on each served member's events and
//! contact folder (created when the member is served, renewed at about half of the lifetime
//! Graph granted, re-created when Graph lost it, deleted when the member leaves), and the
//! Raynet webhook (registered, checked, re-registered when Raynet removed it).

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;

use chrono::Utc;
use graph_client::adapter::{
    KeepOutcome, KeptSubscription, SubscriptionKeeper, contact_folder_in_cursor, watched_resource,
};
use raynet_client::adapter::push::WebhookKeeper;
use sync_core::tenant::Membership;
use sync_core::{Collection, Email, Scope, Side};

use super::tenant::TenantPush;
use crate::store::Noted;

impl TenantPush {
    fn keeper(&self) -> SubscriptionKeeper {
        SubscriptionKeeper::new(
            self.clients.graph.clone(),
            self.graph_url(false),
            self.graph_url(true),
            self.client_state.clone(),
        )
    }

    /// Reads the subscriptions an earlier process kept into the routes.
    pub(super) async fn restore_subscriptions(&self) -> anyhow::Result<()> {
        let kept = self.store.kept_subscriptions(self.name()).await?;
        let mut routes = self.routes_mut();
        for (member, collection, record) in kept {
            match serde_json::from_str::<KeptSubscription>(&record) {
                Ok(k) => routes.set_subscription(&member, collection, Some(k)),
                Err(e) => {
                    tracing::warn!(tenant = %self.name(), %member, error = %e, "a kept subscription cannot be read; it is re-created");
                }
            }
        }
        Ok(())
    }

    async fn remember(
        &self,
        member: &Email,
        collection: Collection,
        kept: Option<KeptSubscription>,
    ) {
        let record = kept.as_ref().and_then(|k| serde_json::to_string(k).ok());
        if let Err(e) = self
            .store
            .keep_subscription(self.name(), member, collection, record.as_deref())
            .await
        {
            tracing::warn!(tenant = %self.name(), %member, error = %e, "cannot keep a subscription in the state file");
        }
        self.routes_mut().set_subscription(member, collection, kept);
    }

    /// Takes in a (possibly new) membership: members who left lose their subscriptions,
    /// members who joined get a catch-up round. Returns whether anyone joined or left.
    pub(super) async fn take_membership(&self, membership: &Membership) -> bool {
        let before: BTreeSet<Email> = self.routes().members.keys().cloned().collect();
        self.routes_mut().set_members(&membership.served);
        let after: BTreeSet<Email> = membership.served.iter().map(|m| m.email.clone()).collect();
        let left: Vec<(Email, Collection, KeptSubscription)> = self
            .routes()
            .subscriptions
            .iter()
            .filter(|((m, _), _)| !after.contains(m))
            .map(|((m, c), k)| (m.clone(), *c, k.clone()))
            .collect();
        let keeper = self.keeper();
        for (member, collection, kept) in left {
            tracing::info!(tenant = %self.name(), %member, "no longer served: its subscription is deleted");
            if let Err(e) = keeper.remove(&kept).await {
                tracing::warn!(tenant = %self.name(), %member, error = %e, "cannot delete the subscription (it expires by itself)");
            }
            self.remember(&member, collection, None).await;
        }
        let joined: Vec<&Email> = after.difference(&before).collect();
        if !before.is_empty() {
            for member in &joined {
                tracing::info!(tenant = %self.name(), %member, "newly served: a first round follows");
                for c in [Collection::Calendar, Collection::Contacts] {
                    let _ = self.note(member, c, Noted::CatchUp).await;
                }
            }
        }
        before != after
    }

    /// Creates, renews or re-creates the subscription of every served member's synced
    /// collections (a contact folder only once a round created it). Sends nothing for a
    /// subscription that is young.
    pub(super) async fn keep_subscriptions(&self) {
        let collections = self.config.sync.mode.collections();
        let cursors = self.store.cursors(self.name()).await.unwrap_or_default();
        let members: Vec<(Email, String)> = self
            .routes()
            .members
            .values()
            .map(|m| (m.email.clone(), m.user.id.clone()))
            .collect();
        let keeper = self.keeper();
        for (member, user_id) in members {
            for collection in [Collection::Calendar, Collection::Contacts] {
                if !collections.has(collection) {
                    continue;
                }
                let scope = Scope::new(self.name(), member.as_str(), collection);
                let folder = cursors
                    .iter()
                    .find(|(s, side, _)| *s == scope && *side == Side::Outlook)
                    .and_then(|(_, _, c)| contact_folder_in_cursor(c));
                let Some(resource) = watched_resource(&user_id, collection, folder.as_deref())
                else {
                    continue;
                };
                let kept = self
                    .routes()
                    .subscriptions
                    .get(&(member.clone(), collection))
                    .cloned();
                match keeper.ensure(&resource, kept.as_ref(), Utc::now()).await {
                    Ok(KeepOutcome::Kept(_)) => {}
                    Ok(outcome) => {
                        let k = outcome.subscription().clone();
                        tracing::info!(tenant = %self.name(), %member, ?collection, expires = %k.expires, "subscription {}", outcome_word(&outcome));
                        let recreated = matches!(outcome, KeepOutcome::Recreated(_));
                        self.remember(&member, collection, Some(k)).await;
                        if recreated {
                            // What changed while it was gone is read now.
                            let _ = self.note(&member, collection, Noted::CatchUp).await;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(tenant = %self.name(), %member, ?collection, error = %e, "cannot keep the subscription: this member's Outlook side is polled");
                    }
                }
            }
        }
    }

    /// Forgets the subscriptions Graph no longer has (expired, removed), so that
    /// [`TenantPush::keep_subscriptions`] creates them anew: one request.
    pub(super) async fn drop_lost_subscriptions(&self) {
        let live = match self.keeper().live_ids().await {
            Ok(live) => live,
            Err(e) => {
                tracing::warn!(tenant = %self.name(), error = %e, "cannot list the subscriptions");
                return;
            }
        };
        let lost: Vec<(Email, Collection)> = self
            .routes()
            .subscriptions
            .iter()
            .filter(|(_, k)| !live.contains(&k.id))
            .map(|(key, _)| key.clone())
            .collect();
        for (member, collection) in lost {
            tracing::warn!(tenant = %self.name(), %member, ?collection, "Graph lost the subscription: it is re-created");
            self.remember(&member, collection, None).await;
            let _ = self.note(&member, collection, Noted::CatchUp).await;
        }
    }

    /// Renews (or, when Graph lost it, re-creates) the subscription of `member`'s
    /// `collection` now, as a lifecycle notification asked.
    pub(super) async fn renew_now(&self, member: &Email, collection: Collection, recreate: bool) {
        let kept = self
            .routes()
            .subscriptions
            .get(&(member.clone(), collection))
            .cloned();
        let Some(kept) = kept else {
            return;
        };
        if recreate {
            self.remember(member, collection, None).await;
        } else {
            if let Err(e) = self.keeper().reauthorize(&kept.id).await {
                tracing::warn!(tenant = %self.name(), %member, error = %e, "cannot reauthorize the subscription");
            }
            // Renew too: due at once.
            let due = KeptSubscription {
                renewed_at: kept.expires - chrono::Duration::days(3650),
                ..kept
            };
            self.routes_mut()
                .set_subscription(member, collection, Some(due));
        }
        self.keep_subscriptions().await;
    }

    /// Checks the Raynet webhook and registers it when Raynet has none for our URL.
    pub(super) async fn keep_webhook(&self) {
        let keeper = WebhookKeeper::new(
            self.clients.raynet.clone(),
            self.webhook_url(),
            self.webhook_token.clone(),
        );
        match keeper.ensure().await {
            Ok(state) => {
                if !self.webhook_ok.swap(true, Ordering::SeqCst) {
                    tracing::info!(tenant = %self.name(), "{state}");
                }
            }
            Err(e) => {
                self.webhook_ok.store(false, Ordering::SeqCst);
                tracing::warn!(tenant = %self.name(), error = %e, "cannot register the Raynet webhook: Raynet is polled");
            }
        }
    }

    /// Whether the Outlook side of `member`'s `collection` pushes (a subscription is kept).
    pub(super) fn outlook_pushes(&self, member: &Email, collection: Collection) -> bool {
        self.routes()
            .subscriptions
            .contains_key(&(member.clone(), collection))
    }

    /// Whether every synced side of every served member pushes.
    pub(super) fn push_is_healthy(&self) -> bool {
        if !self.webhook_ok.load(Ordering::SeqCst) {
            return false;
        }
        let collections = self.config.sync.mode.collections();
        let routes = self.routes();
        routes.members.keys().all(|m| {
            [Collection::Calendar, Collection::Contacts]
                .into_iter()
                .filter(|c| collections.has(*c))
                .all(|c| routes.subscriptions.contains_key(&(m.clone(), c)))
        })
    }
}

fn outcome_word(outcome: &KeepOutcome) -> &'static str {
    match outcome {
        KeepOutcome::Created(_) => "created",
        KeepOutcome::Renewed(_) => "renewed",
        KeepOutcome::Recreated(_) => "re-created",
        _ => "kept",
    }
}
