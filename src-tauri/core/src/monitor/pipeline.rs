//! The steps of one check, each a method of one readable job: probe → evaluate → persist (with
//! the status transitions) → decide alerts → notify → publish.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use super::{CheckOutcome, Monitor, RECENT_CALLS, Watched, lock};
use crate::alert::{Action, decide, rules};
use crate::check::{self, AccountTiles};
use crate::events::{MonitorEvent, Observation};
use crate::graph::{CallRecord, Credentials, GraphClient};
use crate::notify::{Notifier, build_message};
use crate::probe::{self, ProbeContext, ProbeReport};
use crate::store::StoreError;
use crate::tile::{Detail, Service, Tile};

impl Monitor {
    /// The whole pipeline for `services` of one account (none when only the keychain problem
    /// is to be recorded).
    pub(super) async fn check_services(
        &self,
        watched: &Watched,
        services: &[Service],
        now: OffsetDateTime,
    ) -> Result<CheckOutcome, StoreError> {
        let reports = self.measure(watched, services, now).await;
        self.record(watched, &reports, now)
    }

    /// The network half — probe, evaluate — with no store and nothing blocking, so many
    /// accounts measure concurrently and none waits for another's notifications.
    pub(super) async fn measure(
        &self,
        watched: &Watched,
        services: &[Service],
        now: OffsetDateTime,
    ) -> Vec<ProbeReport> {
        match &watched.secrets().credentials {
            Ok(credentials) => {
                let probed = self.probe(watched, credentials, services, now).await;
                self.evaluate(watched, probed, now)
            }
            Err(why) => check::unmeasured(now, why),
        }
    }

    /// The blocking half — persist, decide alerts, notify, publish — off the async workers.
    pub(super) fn record(
        &self,
        watched: &Watched,
        reports: &[ProbeReport],
        now: OffsetDateTime,
    ) -> Result<CheckOutcome, StoreError> {
        let secrets = watched.secrets();
        let keychain_problem = secrets.credentials.as_ref().err().map(String::as_str);
        let tiles = tokio::task::block_in_place(|| self.persist(watched, reports, now))?;
        self.events.emit(MonitorEvent::TilesChanged(tiles.clone()));
        let mut alerts = tokio::task::block_in_place(|| {
            self.alert(watched, &secrets.notifiers, reports, keychain_problem, now)
        })?;
        // After the tiles of this check are stored, so the digest reads them. Its failure is
        // its own: the check and its alerts are stored and sent already.
        match tokio::task::block_in_place(|| self.digest(watched, &secrets.notifiers, now)) {
            Ok(Some(digest)) => alerts.push(digest),
            Ok(None) => {}
            Err(e) => tracing::warn!(account = %watched.account.name, error = %e,
                "the findings digest could not be sent; tried again at the next check"),
        }
        Ok(CheckOutcome {
            tiles,
            alerts,
            paused: Vec::new(),
        })
    }

    /// Probe: each service on its own client, so its calls and usage headers are its own,
    /// at most [`super::MAX_CONCURRENT_PROBES`] at once across accounts.
    async fn probe(
        &self,
        watched: &Watched,
        credentials: &Credentials,
        services: &[Service],
        now: OffsetDateTime,
    ) -> Vec<(Service, Option<ProbeReport>, Vec<CallRecord>)> {
        let account = &watched.account;
        let thresholds = account.monitoring.thresholds();
        let runs = services.iter().map(|&service| {
            let thresholds = &thresholds;
            async move {
                let _permit = self.limit.acquire().await.ok();
                let client = GraphClient::new(
                    self.http.clone(),
                    &account.graph_url,
                    &account.api_version,
                    credentials.clone(),
                    account.app_id.clone(),
                );
                match client {
                    Ok(client) => {
                        let ctx = ProbeContext {
                            account,
                            client: &client,
                            now,
                            thresholds,
                            token_source: Some(watched.token_source),
                        };
                        let report = probe::run(service, &ctx).await;
                        if let Some(fresh) = report.as_ref().and_then(|r| r.renewed.clone()) {
                            // The renewed token is in the keychain already; every later call
                            // of this monitor uses it.
                            watched.use_credentials(fresh);
                        }
                        let calls = client.take_calls();
                        for call in &calls {
                            self.events.observe(Observation::GraphRequest(call));
                        }
                        (service, report, calls)
                    }
                    Err(e) => (service, Some(probe::failed(service, e, now)), Vec::new()),
                }
            }
        });
        futures::future::join_all(runs).await
    }

    /// Evaluate: the calls pace the schedule (stretch, pause), and the rate-limit tile is
    /// rebuilt from the last 15 minutes of calls, with the pauses and the calls per hour.
    fn evaluate(
        &self,
        watched: &Watched,
        probed: Vec<(Service, Option<ProbeReport>, Vec<CallRecord>)>,
        now: OffsetDateTime,
    ) -> Vec<ProbeReport> {
        let name = &watched.account.name;
        let mut pacing = lock(&self.pacing);
        let mut reports = Vec::with_capacity(probed.len() + 1);
        let mut step_calls = Vec::new();
        for (service, report, calls) in probed {
            let before = pacing.plan.paused_until(name, service, now);
            pacing.plan.finished(name, service, &calls, now);
            if let (None, Some(until)) = (before, pacing.plan.paused_until(name, service, now)) {
                tracing::warn!(account = %name, service = service.as_str(), until = %until,
                    "Meta's usage headers or a throttle error pause this probe");
            }
            if let Some(report) = &report {
                self.events.observe(Observation::ProbeRun {
                    service,
                    status: report.tile.status,
                });
            }
            reports.extend(report);
            step_calls.extend(calls);
        }
        let kept = pacing.recent.entry(name.clone()).or_default();
        kept.extend(step_calls.iter().map(|c| (now, c.clone())));
        kept.retain(|(t, _)| now - *t <= RECENT_CALLS);
        let window = kept.iter().map(|(_, c)| c);
        let mut limits = probe::rate_limits::for_step(
            window,
            &step_calls,
            now,
            f64::from(watched.account.monitoring.usage_warning_pct),
        );
        limits.tile = with_pacing(limits.tile, &pacing.plan, name, now);
        reports.push(limits);
        reports
    }

    /// Persist: runs, points, tiles and their status transitions in one transaction, with the
    /// account's throttle pauses; the status changes go to the log.
    fn persist(
        &self,
        watched: &Watched,
        reports: &[ProbeReport],
        now: OffsetDateTime,
    ) -> Result<AccountTiles, StoreError> {
        let name = &watched.account.name;
        let pauses: Vec<_> = lock(&self.pacing).plan.pauses(name, now);
        let pauses: Vec<(&str, OffsetDateTime)> = pauses
            .iter()
            .map(|(b, until)| (b.as_str(), *until))
            .collect();
        let mut store = lock(&watched.store);
        let before = store.tiles(watched.id)?;
        check::persist(&mut store, watched.id, reports)?;
        store.save_pauses(watched.id, &pauses, now)?;
        let after = store.tiles(watched.id)?;
        for tile in &after {
            let previous = before.iter().find(|t| t.service == tile.service);
            if previous.is_none_or(|p| p.status != tile.status) {
                tracing::info!(
                    account = %name,
                    service = tile.service.as_str(),
                    from = previous.map(|p| p.status.as_str()),
                    to = tile.status.as_str(),
                    reason = %tile.message,
                    "status changed"
                );
            }
        }
        // The roll-up job runs here when due, so every way of checking keeps history bounded.
        if let Some(job) = store.maintain_if_due(now)? {
            tracing::debug!(?job, "history rolled up and pruned");
        }
        Ok(AccountTiles::new(name, after))
    }

    /// Decide → notify → record: the decision is claimed in the database (see
    /// [`crate::store::Store::claim_alerts`]) so two processes never send the same alert,
    /// sent without holding the store, and its outcome recorded. The window hears of each.
    fn alert(
        &self,
        watched: &Watched,
        notifiers: &[Box<dyn Notifier>],
        reports: &[ProbeReport],
        keychain_problem: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Vec<Action>, StoreError> {
        if !watched.alerts {
            return Ok(Vec::new());
        }
        let conditions = rules::conditions(reports, keychain_problem, now);
        self.decide_and_send(watched, notifiers, &conditions, now)
    }

    /// Conditions observed outside a check (a feed run holding deletes) through the same
    /// state machine, claim and channels as a check's.
    pub fn raise(
        &self,
        watched: &Watched,
        conditions: &[crate::alert::Condition],
        now: OffsetDateTime,
    ) -> Result<Vec<Action>, StoreError> {
        if !watched.alerts {
            return Ok(Vec::new());
        }
        let secrets = watched.secrets();
        self.decide_and_send(watched, &secrets.notifiers, conditions, now)
    }

    /// How many passing evaluations resolve a firing alert.
    pub fn resolve_after(&self) -> u32 {
        self.policy.resolve_after.max(1)
    }

    fn decide_and_send(
        &self,
        watched: &Watched,
        notifiers: &[Box<dyn Notifier>],
        conditions: &[crate::alert::Condition],
        now: OffsetDateTime,
    ) -> Result<Vec<Action>, StoreError> {
        let channels: Vec<&str> = notifiers.iter().map(|n| n.channel()).collect();
        let claimed =
            lock(&watched.store).claim_alerts(watched.id, &channels, now, |states, holds| {
                decide(states, conditions, now, &self.policy, holds)
            })?;
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        let notifiers: Vec<&dyn Notifier> = notifiers.iter().map(AsRef::as_ref).collect();
        let mut actions = Vec::with_capacity(claimed.len());
        for (action, rows) in claimed {
            self.deliver(watched, &notifiers, &action, rows)?;
            actions.push(action);
        }
        Ok(actions)
    }

    /// Sends one claimed notification through `notifiers` (each row is one channel's, in the
    /// same order) and records each outcome; the log and the window hear of it.
    pub(super) fn deliver(
        &self,
        watched: &Watched,
        notifiers: &[&dyn Notifier],
        action: &Action,
        rows: Vec<(i64, String)>,
    ) -> Result<(), StoreError> {
        let account = watched.account.name.as_str();
        let message = build_message(account, action);
        let mut outcomes = Vec::with_capacity(rows.len());
        for ((id, _), notifier) in rows.into_iter().zip(notifiers) {
            let channel = notifier.channel();
            let outcome = notifier.send(&message);
            self.events.observe(Observation::Notification {
                channel,
                delivered: outcome.is_ok(),
            });
            match &outcome {
                Ok(()) => tracing::info!(account, channel, kind = ?action.kind,
                    key = %action.key, title = %action.title, "alert sent"),
                Err(e) => tracing::warn!(account, channel, kind = ?action.kind,
                    key = %action.key, title = %action.title, error = %e, "alert not delivered"),
            }
            outcomes.push((id, outcome));
        }
        if notifiers.is_empty() {
            tracing::info!(account, kind = ?action.kind, key = %action.key,
                title = %action.title, "alert decided; no channel is configured");
        }
        lock(&watched.store).record_deliveries(&outcomes)?;
        self.events.emit(MonitorEvent::AlertSent {
            account: account.to_owned(),
            title: action.title.clone(),
        });
        Ok(())
    }
}

/// The rate-limit tile with what the schedule knows: "paused ads until 00:37 UTC" (grouped by
/// the time the pause ends) and the calls the monitor itself made in the last hour.
fn with_pacing(
    mut tile: Tile,
    plan: &crate::schedule::Plan,
    account: &str,
    now: OffsetDateTime,
) -> Tile {
    let mut pauses: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for service in Service::ALL
        .into_iter()
        .filter(|s| crate::schedule::default_interval(*s).is_some())
    {
        if let Some(until) = plan.paused_until(account, service, now) {
            let at = format!("{:02}:{:02} UTC", until.hour(), until.minute());
            pauses.entry(at).or_default().push(service.as_str());
        }
    }
    let paused: Vec<String> = pauses
        .into_iter()
        .map(|(at, services)| format!("{} until {at}", services.join(", ")))
        .collect();
    if !paused.is_empty() {
        tile.message = format!("{}; paused {}", tile.message, paused.join(", "));
    }
    if let Detail::RateLimits(detail) = &mut tile.detail {
        detail.paused = paused;
        detail.calls_per_hour = Some(plan.calls_per_hour(account));
    }
    tile
}
