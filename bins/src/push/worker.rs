//! A tenant's loop under `serve`: the notes an earlier process kept, the subscriptions and the
//! webhook, a first round for everyone, then the rounds notifications ask for (coalesced), the
//! safety-net poll (longer while push is healthy), and the maintenance of push.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::Utc;
use raynet_client::adapter::push::activity_owner;
use sync_core::tenant::{Due, Hints, RoundOptions, Targets, TenantReport, is_own_write};
use sync_core::{Collection, Email, Side};

use super::tenant::{Job, PushStats, Receipts, TenantPush};

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
        match self.restore_notes(false).await {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(tenant = %self.name(), n, "notifications kept by an earlier run are handled by the first round");
            }
            Err(e) => {
                tracing::warn!(tenant = %self.name(), error = %e, "cannot read the kept notifications");
            }
        }
        if let Err(e) = self.restore_subscriptions().await {
            tracing::warn!(tenant = %self.name(), error = %e, "cannot read the kept subscriptions");
        }
        self.refresh_membership(Duration::ZERO).await;
        // This worker's share of the members (all of them when it works alone); the first
        // round covers the ones it takes now.
        let _ = self.balance().await;
        self.keep_push().await;
        // The first round: everything that changed while nobody listened.
        self.round_for_everyone(&stop).await;
        // Contact folders a first round created get their subscriptions now.
        if self.share.is_keeper() {
            self.keep_subscriptions().await;
        }
        if let Ok(n @ 1..) = self.restore_notes(true).await {
            tracing::info!(tenant = %self.name(), n, "notifications the first round could not handle wait for their own rounds");
        }
        self.ready.store(true, Ordering::SeqCst);
        tracing::info!(tenant = %self.name(), healthy = self.push_is_healthy(), worker = %self.share.worker, members = self.share.held().len(), keeper = self.share.is_keeper(), "serving");
        tokio::spawn(self.clone().renew_until(stop.clone()));
        self.listen_for_notes();

        let mut next_poll = tokio::time::Instant::now() + self.poll_interval();
        let mut next_check = tokio::time::Instant::now() + self.serve.maintenance;
        while !stop.load(Ordering::SeqCst) {
            self.do_jobs().await;
            let (due, receipts) = self.take_due(Utc::now());
            if due.rounds > 0 {
                self.notified_round(due, &receipts, &stop).await;
                continue;
            }
            let now = tokio::time::Instant::now();
            if now >= self.share.next_balance() {
                let was_keeper = self.share.is_keeper();
                let newly = self.balance().await;
                if !was_keeper && self.share.is_keeper() {
                    // The keeper died or stopped: this worker keeps push alive from now on.
                    self.keep_push().await;
                }
                self.take_over(&newly).await;
                continue;
            }
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
            let balance_at = self.share.next_balance();
            let wake_at = [
                Some(next_poll),
                Some(next_check),
                next_due,
                Some(balance_at),
            ]
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
        self.share.release_all(&*self.store, self.name()).await;
        tracing::info!(tenant = %self.name(), "stopped");
    }

    /// This worker's fair share of the members (see `share.rs`); returns the ones it newly
    /// holds.
    async fn balance(&self) -> Vec<Email> {
        let served: Vec<Email> = self.routes().members.keys().cloned().collect();
        self.share.balance(&*self.store, self.name(), &served).await
    }

    /// The keeper keeps the subscriptions and the webhook; another worker reads the
    /// subscriptions the keeper keeps (to know the notifications it may receive) and trusts
    /// the webhook to it.
    async fn keep_push(&self) {
        if self.share.is_keeper() {
            self.keep_webhook().await;
            self.keep_subscriptions().await;
        } else {
            if let Err(e) = self.restore_subscriptions().await {
                tracing::warn!(tenant = %self.name(), error = %e, "cannot read the kept subscriptions");
            }
            self.webhook_ok.store(true, Ordering::SeqCst);
        }
    }

    /// Renews the leases every third of their time-to-live until `stop`, on a task of its
    /// own (a long round keeps its leases).
    async fn renew_until(self: Arc<Self>, stop: Arc<AtomicBool>) {
        let every = self.share.ttl / 3;
        while !stop.load(Ordering::SeqCst) {
            tokio::time::sleep(every).await;
            if stop.load(Ordering::SeqCst) {
                break;
            }
            self.share.renew(&*self.store, self.name()).await;
        }
    }

    /// Listens for notes other workers keep (when the store can say so): a note for a member
    /// held here triggers its round.
    fn listen_for_notes(self: &Arc<Self>) {
        let me = self.clone();
        tokio::spawn(async move {
            let mut rx = match me.store.note_wakeups().await {
                Ok(Some(rx)) => rx,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(tenant = %me.name(), error = %e, "cannot listen for other workers' notifications; the safety-net poll covers them");
                    return;
                }
            };
            loop {
                match rx.recv().await {
                    Ok(tenant) if tenant != me.name() && tenant != "*" => {}
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        me.pick_up_notes().await;
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        });
    }

    /// Hands the notes other workers kept for the members held here to the triggers.
    async fn pick_up_notes(&self) {
        let notes = match self.store.push_notes(self.name()).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(tenant = %self.name(), error = %e, "cannot read the kept notifications");
                return;
            }
        };
        let seen = self.share.seen_note.load(Ordering::SeqCst);
        let now = Utc::now();
        let mut picked = 0;
        for (id, note) in &notes {
            self.share.seen_note.fetch_max(*id, Ordering::SeqCst);
            if *id > seen && self.share.holds(&note.member) {
                self.saw_note(*id);
                self.trigger(note, now);
                picked += 1;
            }
        }
        if picked > 0 {
            self.wake.notify_one();
        }
    }

    /// Catch-up rounds for members newly held: their notes kept by anyone, and a read of both
    /// sides (from the cursors) for whatever came while nobody held them.
    async fn take_over(&self, members: &[Email]) {
        if members.is_empty() {
            return;
        }
        let now = Utc::now();
        let collections = self.config.sync.mode.collections();
        {
            let mut triggers = self.triggers();
            for m in members {
                for c in [Collection::Calendar, Collection::Contacts] {
                    if collections.has(c) {
                        triggers.catch_up(m.clone(), c, now);
                    }
                }
            }
        }
        if let Ok(notes) = self.store.push_notes(self.name()).await {
            for (id, note) in &notes {
                self.share.seen_note.fetch_max(*id, Ordering::SeqCst);
                if members.contains(&note.member) {
                    self.saw_note(*id);
                    self.trigger(note, now);
                }
            }
        }
        self.wake.notify_one();
    }

    /// The members held, each with the tenant's collections.
    fn held_targets(&self) -> Targets {
        let collections = self.config.sync.mode.collections();
        Targets::Only(
            self.share
                .held()
                .into_iter()
                .map(|m| (m, collections))
                .collect(),
        )
    }

    /// Whether this worker holds every served member (it works alone).
    fn holds_everyone(&self) -> bool {
        self.routes().members.keys().all(|m| self.share.holds(m))
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
                self.services_ok.store(true, Ordering::SeqCst);
                *self
                    .findings
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) =
                    m.findings.iter().map(ToString::to_string).collect();
                if self.take_membership(&m).await {
                    tracing::info!(tenant = %self.name(), served = m.served.len(), "members served");
                }
            }
            Err(e) => {
                self.services_ok.store(false, Ordering::SeqCst);
                tracing::warn!(tenant = %self.name(), error = %e, "cannot read who is served");
            }
        }
    }

    /// The periodic check: the membership (joins and leaves), the subscriptions Graph lost,
    /// renewals due, the webhook.
    async fn maintain(&self) {
        self.refresh_membership(self.config.sync.membership_refresh)
            .await;
        if self.share.is_keeper() {
            self.drop_lost_subscriptions().await;
        }
        self.keep_push().await;
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
                            if let Err(e) = self
                                .note(&member, Collection::Calendar, Noted::Changed(Side::Raynet))
                                .await
                            {
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
    async fn notified_round(&self, due: Due, receipts: &Receipts, stop: &Arc<AtomicBool>) {
        let Due {
            mut targets,
            mut hints,
            rounds,
        } = due;
        if let Targets::Only(members) = &mut targets {
            // A member given up since its note came is its new holder's.
            members.retain(|m, _| self.share.holds(m));
            if members.is_empty() {
                return;
            }
        }
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
            self.observe_receipts(&handled, receipts, &report);
            let done: Vec<(Email, Collection)> = handled
                .into_iter()
                .filter(|(m, c)| {
                    report
                        .reports
                        .iter()
                        .any(|r| r.scope.member == m.as_str() && r.scope.collection == *c)
                })
                .collect();
            if let Err(e) = self
                .store
                .drop_push_notes(self.name(), upto, Some(&done))
                .await
            {
                tracing::warn!(tenant = %self.name(), error = %e, "cannot forget handled notifications");
            }
        }
    }

    /// The metrics of the notifications behind a notified round: all but one of each member
    /// collection's were coalesced; where the round wrote, each one's lag from its receipt.
    fn observe_receipts(
        &self,
        handled: &[(Email, Collection)],
        receipts: &Receipts,
        report: &TenantReport,
    ) {
        let now = Utc::now();
        let metrics = crate::observe::metrics::global();
        for key @ (member, collection) in handled {
            let Some(times) = receipts.get(key) else {
                continue;
            };
            let coalesced = times.len().saturating_sub(1) as u64;
            self.stats.coalesced.fetch_add(coalesced, Ordering::Relaxed);
            let wrote = report.reports.iter().any(|r| {
                r.scope.member == member.as_str()
                    && r.scope.collection == *collection
                    && r.writes() > 0
            });
            if wrote {
                for at in times {
                    let lag = (now - *at).num_milliseconds() as f64 / 1000.0;
                    metrics.observe_lag(self.name(), lag);
                    self.note_lag(lag);
                }
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
                if let Err(e) = self.note(&r.member, r.scope.collection, noted).await {
                    tracing::warn!(tenant = %self.name(), error = %e, "cannot keep a notification");
                }
            }
        }
    }

    /// A round for every member this worker holds (everyone, when it works alone).
    async fn round_for_everyone(&self, stop: &Arc<AtomicBool>) {
        let upto = self.last_note();
        PushStats::bump(&self.stats.poll_rounds);
        let alone = self.holds_everyone();
        let targets = if alone {
            Targets::Everyone
        } else {
            self.held_targets()
        };
        let handled: Vec<(Email, Collection)> = self
            .share
            .held()
            .into_iter()
            .flat_map(|m| [Collection::Calendar, Collection::Contacts].map(|c| (m.clone(), c)))
            .collect();
        if let Some(report) = self.round(targets, Hints::default(), stop).await {
            if report.member_failures.is_empty() {
                let handled = (!alone).then_some(handled.as_slice());
                if let Err(e) = self.store.drop_push_notes(self.name(), upto, handled).await {
                    tracing::warn!(tenant = %self.name(), error = %e, "cannot forget handled notifications");
                }
            }
        }
    }

    /// Schedules, `invitation_pause_seconds` from now, a round for each member collection
    /// whose round deferred writes (the invitation cap): it reads both sides from the cursors
    /// the deferring round left unmoved, so it plans the deferred writes again. (Without it
    /// they would wait for the safety-net poll.)
    fn carry_on_deferred(&self, report: &TenantReport) {
        let pause = chrono::Duration::from_std(self.serve.invitation_pause)
            .unwrap_or(chrono::Duration::MAX);
        let later = Utc::now() + pause;
        let mut scheduled = 0;
        {
            let mut triggers = self.triggers();
            for r in report.reports.iter().filter(|r| !r.deferred.is_empty()) {
                if let Ok(member) = r.scope.member.parse::<Email>() {
                    triggers.catch_up(member, r.scope.collection, later);
                    scheduled += 1;
                }
            }
        }
        if scheduled > 0 {
            tracing::info!(tenant = %self.name(), members = scheduled, ?self.serve.invitation_pause, "writes deferred by the invitation cap carry on after a pause");
            self.wake.notify_one();
        }
    }

    async fn round(
        &self,
        targets: Targets,
        hints: Hints,
        stop: &Arc<AtomicBool>,
    ) -> Option<TenantReport> {
        // The round stops after the write under way when the service stops or a lease of
        // this round's members is lost (another worker may run them now).
        let round_stop = Arc::new(AtomicBool::new(stop.load(Ordering::SeqCst)));
        let _ = self.share.take_lost();
        let watcher = {
            let (stop, round_stop, me) = (stop.clone(), round_stop.clone(), self.share.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::SeqCst) && !me.lost() {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                round_stop.store(true, Ordering::SeqCst);
            })
        };
        let members: Vec<Email> = match &targets {
            Targets::Everyone => self.routes().members.keys().cloned().collect(),
            Targets::Only(m) => m.keys().cloned().collect(),
        };
        let logged = self
            .store
            .begin_member_rounds(self.name(), &members, &self.share.worker)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(tenant = %self.name(), error = %e, "cannot log the member rounds");
                Vec::new()
            });
        let options = RoundOptions {
            stop: Some(round_stop),
            targets,
            hints,
            ..RoundOptions::default()
        };
        let policy = self.config.sync.policy.clone();
        self.in_round.store(true, Ordering::SeqCst);
        let result = self
            .clients
            .tenant
            .round(&self.tenant_store(), &policy, &options, Utc::now())
            .await;
        self.in_round.store(false, Ordering::SeqCst);
        watcher.abort();
        if let Err(e) = self.store.end_member_rounds(&logged).await {
            tracing::warn!(tenant = %self.name(), error = %e, "cannot log the end of member rounds");
        }
        self.recheck_echoes().await;
        match result {
            Ok(report) => {
                crate::observe::after_round(
                    &*self.store,
                    self.name(),
                    &report,
                    self.admin.audit_days,
                )
                .await;
                {
                    let mut failures = self
                        .failures
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    for r in &report.reports {
                        if let Ok(m) = r.scope.member.parse::<Email>() {
                            if r.failures.is_empty() {
                                failures.remove(&m);
                            }
                        }
                    }
                    for r in &report.reports {
                        if let (Ok(m), Some(f)) =
                            (r.scope.member.parse::<Email>(), r.failures.first())
                        {
                            failures.insert(m, f.to_string());
                        }
                    }
                    for f in &report.member_failures {
                        failures.insert(f.member.clone(), f.to_string());
                    }
                }
                for f in &report.member_failures {
                    tracing::warn!(tenant = %self.name(), "{f}");
                }
                self.carry_on_deferred(&report);
                for r in &report.reports {
                    if r.writes() > 0 || !r.is_clean() {
                        tracing::info!(tenant = %self.name(), "{}", crate::app::round_summary(r));
                    }
                }
                Some(report)
            }
            Err(e) => {
                crate::observe::metrics::global().observe_round_error(self.name());
                tracing::warn!(tenant = %self.name(), error = %e, "the round could not start");
                None
            }
        }
    }
}
