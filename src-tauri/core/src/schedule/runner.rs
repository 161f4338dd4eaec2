//! The runner: executes the [`Plan`] until shut down — due probes run concurrently (capped),
//! each on its own client so its calls and headers are its own; results are persisted, the
//! rate-limit tile is rebuilt from the last 15 minutes of calls, alerts are decided and sent,
//! and the roll-up job runs when due. Shutdown waits for the step in flight, so nothing
//! measured is lost.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::Semaphore;

use super::Plan;
use crate::account::Account;
use crate::alert::Policy;
use crate::check::{self, AccountTiles};
use crate::clock::Clock;
use crate::events::{EventSink, MonitorEvent};
use crate::graph::{CallRecord, Credentials, GraphClient};
use crate::notify::Notifier;
use crate::probe::{self, ProbeContext, ProbeReport};
use crate::store::{Store, StoreError};
use crate::tile::Service;

/// Calls kept for the rate-limit tile.
const RECENT_CALLS: time::Duration = time::Duration::minutes(15);
/// Probes running at once, across accounts.
pub const MAX_CONCURRENT_PROBES: usize = 4;

/// One account the runner watches, with the store its results go to (the database file, or
/// an in-memory store for the `env` account, which is never written to the file).
pub struct Watched {
    pub store: Arc<Mutex<Store>>,
    pub id: i64,
    pub account: Account,
    /// `Err` holds why the keychain could not give the credentials.
    pub credentials: Result<Credentials, String>,
    pub notifiers: Vec<Box<dyn Notifier>>,
}

/// One account's share of a scheduler step.
struct Step<'a> {
    watched: &'a Watched,
    reports: Vec<ProbeReport>,
    calls: Vec<CallRecord>,
}

pub struct Runner {
    pub clock: Arc<dyn Clock>,
    pub http: reqwest::Client,
    pub policy: Policy,
    /// Told about new tiles and alerts as they are stored.
    pub events: Arc<dyn EventSink>,
}

/// What a run did, for the caller's summary.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RunSummary {
    pub probe_runs: u64,
    pub notifications: u64,
}

fn lock(store: &Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    store
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Runner {
    /// Runs until `shutdown` completes.
    pub async fn run(
        &self,
        accounts: Vec<Watched>,
        shutdown: impl Future<Output = ()>,
    ) -> Result<RunSummary, StoreError> {
        tokio::pin!(shutdown);
        let mut plan = Plan::default();
        let mut summary = RunSummary::default();
        let mut recent: BTreeMap<String, Vec<(OffsetDateTime, CallRecord)>> = BTreeMap::new();
        let start = self.clock.now();
        let accounts = Arc::new(accounts);
        for watched in accounts.iter() {
            match &watched.credentials {
                Ok(_) => {
                    plan.add_account_with(&watched.account.name, &watched.account.monitoring, start)
                }
                Err(why) => {
                    let reports = check::unmeasured(start, why);
                    summary.notifications += self
                        .persist(watched, reports, Some(why.clone()), start)
                        .await?;
                }
            }
        }
        let limit = Arc::new(Semaphore::new(MAX_CONCURRENT_PROBES));
        loop {
            let now = self.clock.now();
            let due = plan.due(now);
            if due.is_empty() {
                let wait = plan
                    .next_wake()
                    .map(|t| (t - now).max(time::Duration::ZERO).unsigned_abs())
                    .unwrap_or(Duration::from_secs(60));
                let wait =
                    Duration::from_secs_f64((wait.as_secs_f64() / self.clock.speed()).max(0.005));
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(wait) => continue,
                }
            }
            let runs = due.into_iter().filter_map(|(name, service)| {
                let watched = accounts.iter().find(|w| w.account.name == name)?;
                let credentials = watched.credentials.as_ref().ok()?.clone();
                let (limit, http) = (limit.clone(), self.http.clone());
                let thresholds = watched.account.monitoring.thresholds();
                Some(async move {
                    let _permit = limit.acquire().await.ok();
                    let account = &watched.account;
                    let client = GraphClient::new(
                        http,
                        &account.graph_url,
                        &account.api_version,
                        credentials,
                        account.app_id.clone(),
                    );
                    let (report, calls) = match client {
                        Ok(client) => {
                            let ctx = ProbeContext {
                                account,
                                client: &client,
                                now,
                                thresholds: &thresholds,
                            };
                            (probe::run(service, &ctx).await, client.take_calls())
                        }
                        Err(e) => (Some(probe::failed(service, e, now)), Vec::new()),
                    };
                    (watched, service, report, calls)
                })
            });
            // A step in flight finishes even when shutdown arrives: its results are stored.
            let results = futures::future::join_all(runs).await;
            let mut by_account: BTreeMap<String, Step<'_>> = BTreeMap::new();
            for (watched, service, report, calls) in results {
                let name = watched.account.name.clone();
                plan.finished(&name, service, &calls, now);
                let kept = recent.entry(name.clone()).or_default();
                kept.extend(calls.iter().map(|c| (now, c.clone())));
                kept.retain(|(t, _)| now - *t <= RECENT_CALLS);
                let entry = by_account.entry(name).or_insert(Step {
                    watched,
                    reports: Vec::new(),
                    calls: Vec::new(),
                });
                entry.reports.extend(report);
                entry.calls.extend(calls);
            }
            for (name, step) in by_account {
                let Step {
                    watched,
                    mut reports,
                    calls: step_calls,
                } = step;
                let window = recent.get(&name).into_iter().flatten().map(|(_, c)| c);
                let mut limits = probe::rate_limits::for_step(
                    window,
                    &step_calls,
                    now,
                    f64::from(watched.account.monitoring.usage_warning_pct),
                );
                // "paused ads until 00:37 UTC" — grouped by the time the pause ends.
                let mut pauses: BTreeMap<String, Vec<&str>> = BTreeMap::new();
                for service in Service::ALL
                    .into_iter()
                    .filter(|s| super::default_interval(*s).is_some())
                {
                    if let Some(until) = plan.paused_until(&name, service, now) {
                        let at = format!("{:02}:{:02} UTC", until.hour(), until.minute());
                        pauses.entry(at).or_default().push(service.as_str());
                    }
                }
                let paused: Vec<String> = pauses
                    .into_iter()
                    .map(|(at, services)| format!("{} until {at}", services.join(", ")))
                    .collect();
                if !paused.is_empty() {
                    limits.tile.message =
                        format!("{}; paused {}", limits.tile.message, paused.join(", "));
                    limits.tile = limits.tile.with_metric("paused", paused);
                }
                limits.tile = limits
                    .tile
                    .with_metric("calls_per_hour", plan.calls_per_hour(&name));
                summary.probe_runs += reports.len() as u64;
                reports.push(limits);
                summary.notifications += self.persist(watched, reports, None, now).await?;
            }
        }
        Ok(summary)
    }

    /// Stores the reports, decides and sends alerts, runs the roll-up job when due — off the
    /// async workers (SQLite and the notifiers block).
    async fn persist(
        &self,
        watched: &Watched,
        reports: Vec<ProbeReport>,
        keychain_problem: Option<String>,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let store = watched.store.clone();
        let policy = self.policy.clone();
        let (id, name) = (watched.id, watched.account.name.clone());
        // The notifiers are borrowed by a blocking task: run it in place on this worker.
        let notifiers = &watched.notifiers;
        let events = self.events.clone();
        tokio::task::block_in_place(move || {
            {
                let mut store = lock(&store);
                check::persist(&mut store, id, &reports)?;
                // The window hears of new tiles before any notifier gets a chance to be slow.
                let tiles = store.tiles(id)?;
                events.emit(MonitorEvent::TilesChanged(AccountTiles::new(&name, tiles)));
            }
            let sent = check::alert_shared(
                &store,
                id,
                &name,
                &reports,
                keychain_problem.as_deref(),
                notifiers,
                now,
                &policy,
            )?;
            lock(&store).maintain_if_due(now)?;
            for action in &sent {
                events.emit(MonitorEvent::AlertSent {
                    account: name.clone(),
                    title: action.title.clone(),
                });
            }
            Ok(sent.len() as u64)
        })
    }
}
