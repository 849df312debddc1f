//! A tenant's loop under `serve`: the notes an earlier process kept, the subscriptions and the
//! webhook, a first round for everyone, then the rounds notifications ask for (coalesced), the
//! safety-net poll (longer while push is healthy), and the maintenance of push.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::Utc;
use raynet_client::adapter::push::activity_owner;
use sync_core::tenant::{
    Due, Hints, RoundOptions, Targets, TenantReport, TenantStore as _, is_own_write,
};
use sync_core::{Collection, Email, Side};

use super::tenant::{Job, PushStats, TenantPush};
use crate::store::Noted;

impl TenantPush {
    /// Runs the tenant until `stop` is set: never returns an error (a failing round or check
    /// is logged and tried again later).
    pub async fn run(
        self: Arc<Self>,
        stop: Arc<AtomicBool>,
        mut stopped: tokio::sync::watch::Receiver<bool>,
    ) {
        // The first round reads everything anyway: the notes an earlier process kept are
        // counted in, and triggered again only if that round cannot handle them.
        match self.restore_notes(false) {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(tenant = %self.name(), n, "notifications kept by an earlier run are handled by the first round");
            }
            Err(e) => {
                tracing::warn!(tenant = %self.name(), error = %e, "cannot read the kept notifications");
            }
        }
        if let Err(e) = self.restore_subscriptions() {
            tracing::warn!(tenant = %self.name(), error = %e, "cannot read the kept subscriptions");
        }
        self.refresh_membership(Duration::ZERO).await;
        self.keep_webhook().await;
        self.keep_subscriptions().await;
        // The first round: everything that changed while nobody listened.
        self.round_for_everyone(&stop).await;
        // Contact folders a first round created get their subscriptions now.
        self.keep_subscriptions().await;
        if let Ok(n @ 1..) = self.restore_notes(true) {
            tracing::info!(tenant = %self.name(), n, "notifications the first round could not handle wait for their own rounds");
        }
        self.ready.store(true, Ordering::SeqCst);
        tracing::info!(tenant = %self.name(), healthy = self.push_is_healthy(), "serving");

        let mut next_poll = tokio::time::Instant::now() + self.poll_interval();
        let mut next_check = tokio::time::Instant::now() + self.serve.maintenance;
        while !stop.load(Ordering::SeqCst) {
            self.do_jobs().await;
            let due = self.triggers().take_due(Utc::now());
            if due.rounds > 0 {
                self.notified_round(due, &stop).await;
                continue;
            }
            let now = tokio::time::Instant::now();
            if now >= next_check {
                self.maintain().await;
                next_check = now + self.serve.maintenance;
                continue;
            }
            if now >= next_poll {
                self.round_for_everyone(&stop).await;
                next_poll = tokio::time::Instant::now() + self.poll_interval();
                continue;
            }
            let next_due = self.triggers().next_due().map(|at| {
                let wait = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
                now + wait
            });
            let wake_at = [Some(next_poll), Some(next_check), next_due]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(next_poll);
            tokio::select! {
                () = tokio::time::sleep_until(wake_at) => {}
                () = self.wake.notified() => {}
                _ = stopped.changed() => {}
            }
        }
        tracing::info!(tenant = %self.name(), "stopped");
    }

    /// The safety-net poll's interval: `serve.poll_interval_seconds` while every side pushes,
    /// the tenant's `sync.interval_seconds` while some do not.
    fn poll_interval(&self) -> Duration {
        if self.push_is_healthy() {
            self.serve.poll_interval
        } else {
            self.config.sync.interval.min(self.serve.poll_interval)
        }
    }

    async fn refresh_membership(&self, max_age: Duration) {
        match self.clients.tenant.membership(max_age).await {
            Ok(m) => {
                if self.take_membership(&m).await {
                    tracing::info!(tenant = %self.name(), served = m.served.len(), "members served");
                }
            }
            Err(e) => {
                tracing::warn!(tenant = %self.name(), error = %e, "cannot read who is served");
            }
        }
    }

    /// The periodic check: the membership (joins and leaves), the subscriptions Graph lost,
    /// renewals due, the webhook.
    async fn maintain(&self) {
        self.refresh_membership(self.config.sync.membership_refresh)
            .await;
        self.drop_lost_subscriptions().await;
        self.keep_subscriptions().await;
        self.keep_webhook().await;
    }

    async fn do_jobs(&self) {
        for job in self.take_jobs() {
            match job {
                Job::Renew(member, collection) => self.renew_now(&member, collection, false).await,
                Job::Recreate(member, collection) => {
                    self.renew_now(&member, collection, true).await;
                }
                Job::FindOwner(id) => match activity_owner(&self.clients.raynet, &id).await {
                    Ok(Some(person)) => match self.member_of_person(person) {
                        Some(member) => {
                            if let Err(e) = self.note(
                                &member,
                                Collection::Calendar,
                                Noted::Changed(Side::Raynet),
                            ) {
                                tracing::warn!(tenant = %self.name(), error = %e, "cannot keep a notification");
                            }
                        }
                        None => {
                            tracing::debug!(tenant = %self.name(), %id, "owned by someone not served");
                        }
                    },
                    Ok(None) => {
                        tracing::debug!(tenant = %self.name(), %id, "gone before it was read");
                    }
                    Err(e) => {
                        tracing::warn!(tenant = %self.name(), %id, error = %e, "cannot read the owner; the next poll picks the change up");
                    }
                },
            }
        }
    }

    /// The round the due notifications ask for: only their member collections, only the sides
    /// they named (a side whose push is not healthy is read all the same).
    async fn notified_round(&self, due: Due, stop: &Arc<AtomicBool>) {
        let Due {
            targets,
            mut hints,
            rounds,
        } = due;
        let upto = self.last_note();
        let mut handled: Vec<(Email, Collection)> = Vec::new();
        if let Targets::Only(members) = &targets {
            for (member, collections) in members {
                for c in [Collection::Calendar, Collection::Contacts] {
                    if collections.has(c) {
                        handled.push((member.clone(), c));
                        if !self.outlook_pushes(member, c) {
                            hints.changed(member, c, Side::Outlook);
                        }
                    }
                }
            }
        }
        if !self.webhook_ok.load(Ordering::SeqCst) {
            hints.read_everywhere(Side::Raynet);
        }
        tracing::debug!(tenant = %self.name(), rounds, "a notified round");
        PushStats::bump(&self.stats.notified_rounds);
        if let Some(report) = self.round(targets, hints, stop).await {
            let done: Vec<(Email, Collection)> = handled
                .into_iter()
                .filter(|(m, c)| {
                    report
                        .reports
                        .iter()
                        .any(|r| r.scope.member == m.as_str() && r.scope.collection == *c)
                })
                .collect();
            if let Err(e) = self.store.drop_push_notes(self.name(), upto, Some(&done)) {
                tracing::warn!(tenant = %self.name(), error = %e, "cannot forget handled notifications");
            }
        }
    }

    /// The Graph notifications that came during the round: the echoes of its writes are
    /// dropped now that they are recorded, the others trigger a round.
    async fn recheck_echoes(&self) {
        for r in self.take_rechecks() {
            let ours = match &r.version {
                Some(v) => is_own_write(&*self.store, &r.scope, Side::Outlook, &r.id, v).await,
                // A deletion: ours when the round removed the pair.
                None => self
                    .store
                    .recorded_version(&r.scope, Side::Outlook, &r.id)
                    .await
                    .map(|v| v.is_none()),
            };
            if let Ok(true) = ours {
                PushStats::bump(&self.stats.echoes);
            } else {
                let noted = Noted::Changed(Side::Outlook);
                if let Err(e) = self.note(&r.member, r.scope.collection, noted) {
                    tracing::warn!(tenant = %self.name(), error = %e, "cannot keep a notification");
                }
            }
        }
    }

    async fn round_for_everyone(&self, stop: &Arc<AtomicBool>) {
        let upto = self.last_note();
        PushStats::bump(&self.stats.poll_rounds);
        if let Some(report) = self.round(Targets::Everyone, Hints::default(), stop).await {
            if report.member_failures.is_empty() {
                if let Err(e) = self.store.drop_push_notes(self.name(), upto, None) {
                    tracing::warn!(tenant = %self.name(), error = %e, "cannot forget handled notifications");
                }
            }
        }
    }

    async fn round(
        &self,
        targets: Targets,
        hints: Hints,
        stop: &Arc<AtomicBool>,
    ) -> Option<TenantReport> {
        let options = RoundOptions {
            stop: Some(stop.clone()),
            targets,
            hints,
            ..RoundOptions::default()
        };
        let policy = self.config.sync.policy.clone();
        self.in_round.store(true, Ordering::SeqCst);
        let result = self
            .clients
            .tenant
            .round(&*self.store, &policy, &options, Utc::now())
            .await;
        self.in_round.store(false, Ordering::SeqCst);
        self.recheck_echoes().await;
        match result {
            Ok(report) => {
                for f in &report.member_failures {
                    tracing::warn!(tenant = %self.name(), "{f}");
                }
                for r in &report.reports {
                    if r.writes() > 0 || !r.is_clean() {
                        tracing::info!(tenant = %self.name(), "{}", crate::app::round_summary(r));
                    }
                }
                Some(report)
            }
            Err(e) => {
                tracing::warn!(tenant = %self.name(), error = %e, "the round could not start");
                None
            }
        }
    }
}
