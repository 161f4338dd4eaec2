//! The monitor: one check pipeline — probe → evaluate → persist → status transitions →
//! decide alerts → notify → publish — used by the scheduler ([`Monitor::run`]), by "Check
//! now" in the window and by `meta-monitor check` ([`Monitor::check`]). Pacing (when each
//! probe is due, which buckets Meta throttles) is shared by both, and pauses are persisted, so a
//! manual check, a reload or a restart never probes what Meta asked us to leave alone.

mod accounts;
pub mod digest;
mod pipeline;

pub use accounts::AccountEntry;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::Semaphore;

use crate::account::Account;
use crate::alert::{Action, Policy};
use crate::check::AccountTiles;
use crate::clock::Clock;
use crate::events::{EventSink, MonitorEvent};
use crate::graph::{CallRecord, Credentials};
use crate::notify::Notifier;
use crate::schedule::{Bucket, Plan};
use crate::store::{Store, StoreError};
use crate::tile::Service;

/// Probes running at once, across accounts.
pub const MAX_CONCURRENT_PROBES: usize = 4;
/// Calls kept for the rate-limit tile.
const RECENT_CALLS: time::Duration = time::Duration::minutes(15);
/// The longest wait between retries after a store error.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// One account the monitor watches, with the store its results go to (the database file, or
/// an in-memory store for the `env` account and the demo, never written to the file).
pub struct Watched {
    pub store: Arc<Mutex<Store>>,
    pub id: i64,
    pub account: Account,
    /// Replaced whole when the operator saves a secret ([`Monitor::renew`]), while the
    /// scheduler runs; each check reads one snapshot.
    secrets: Mutex<Arc<Secrets>>,
    /// Decide alerts (false: `check --no-notify`, which leaves the alert states untouched).
    pub alerts: bool,
    /// Where the access token is kept (the token check renews it there).
    pub token_source: crate::token::TokenSource,
}

/// What the keychain gave for a watched account, and the channels built from it.
pub struct Secrets {
    /// `Err` holds why the keychain could not give the credentials.
    pub credentials: Result<Credentials, String>,
    pub notifiers: Arc<Vec<Box<dyn Notifier>>>,
}

impl Watched {
    pub fn new(
        store: Arc<Mutex<Store>>,
        id: i64,
        account: Account,
        secrets: Secrets,
        alerts: bool,
    ) -> Self {
        Self {
            store,
            id,
            account,
            secrets: Mutex::new(Arc::new(secrets)),
            alerts,
            token_source: crate::token::TokenSource::Keychain,
        }
    }

    /// The secrets as they are now (a check keeps this snapshot from start to end).
    pub fn secrets(&self) -> Arc<Secrets> {
        lock(&self.secrets).clone()
    }

    /// Uses `credentials`' access token from now on (a token check renewed it); the other
    /// secrets stay as they are now (one saved during the check is not undone).
    pub fn use_credentials(&self, credentials: Credentials) {
        let mut slot = lock(&self.secrets);
        let notifiers = slot.notifiers.clone();
        let merged = match &slot.credentials {
            Ok(current) => Credentials {
                access_token: credentials.access_token,
                ..current.clone()
            },
            Err(_) => credentials,
        };
        *slot = Arc::new(Secrets {
            credentials: Ok(merged),
            notifiers,
        });
    }
}

/// Which services a check probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every polled service of the account.
    All,
    /// One service (`rate_limits` is read from the responses of a `graph_api` probe).
    One(Service),
}

/// Whether a check honours the throttle pauses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pauses {
    /// Services whose buckets are paused are not probed (the default everywhere).
    Respect,
    /// The operator's explicit "check anyway".
    Ignore,
}

/// What one check did.
#[derive(Debug, Clone)]
pub struct CheckOutcome {
    /// The account's stored tiles after the check.
    pub tiles: AccountTiles,
    /// The notifications decided (each sent through the account's channels).
    pub alerts: Vec<Action>,
    /// Services not probed because Meta throttles their bucket, and when the pause ends.
    pub paused: Vec<(Service, OffsetDateTime)>,
}

/// What a run did, for the caller's summary.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RunSummary {
    pub probe_runs: u64,
    pub notifications: u64,
}

/// When each probe is due and what the recent calls said: shared by the scheduler and manual
/// checks.
#[derive(Default)]
struct Pacing {
    plan: Plan,
    recent: BTreeMap<String, Vec<(OffsetDateTime, CallRecord)>>,
}

pub struct Monitor {
    clock: Arc<dyn Clock>,
    http: reqwest::Client,
    policy: Policy,
    events: Arc<dyn EventSink>,
    pacing: Mutex<Pacing>,
    limit: Semaphore,
    /// Accounts without credentials whose tiles must say so at the scheduler's next step.
    unmeasured: Mutex<std::collections::BTreeSet<String>>,
    /// Wakes the scheduler early (secrets renewed).
    wake: tokio::sync::Notify,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Monitor {
    pub fn new(
        clock: Arc<dyn Clock>,
        http: reqwest::Client,
        policy: Policy,
        events: Arc<dyn EventSink>,
    ) -> Self {
        Self {
            clock,
            http,
            policy,
            events,
            pacing: Mutex::default(),
            limit: Semaphore::new(MAX_CONCURRENT_PROBES),
            unmeasured: Mutex::default(),
            wake: tokio::sync::Notify::new(),
        }
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn events(&self) -> &Arc<dyn EventSink> {
        &self.events
    }

    /// Plans `watched`'s probes from now at its own intervals, with the throttle pauses the
    /// database remembers.
    pub fn watch(&self, watched: &Watched) -> Result<(), StoreError> {
        let now = self.clock.now();
        let stored = lock(&watched.store).pauses(watched.id, now)?;
        let mut pacing = lock(&self.pacing);
        let name = &watched.account.name;
        if watched.secrets().credentials.is_ok() {
            pacing
                .plan
                .add_account_with(name, &watched.account.monitoring, now);
        }
        for (bucket, until) in stored {
            if let Some(bucket) = Bucket::parse(&bucket) {
                pacing.plan.restore_pause(name, bucket, until, now);
                tracing::info!(account = %name, bucket = bucket.as_str(), until = %until,
                    "throttle pause restored from the database");
            }
        }
        Ok(())
    }

    /// Gives `watched` the secrets the operator just saved, while the scheduler runs: its
    /// probes are planned again from now (every service due at once, the stored throttle
    /// pauses still binding), or, without credentials, its tiles say why at the next step.
    /// Nothing else is stopped or re-read.
    pub fn renew(&self, watched: &Watched, secrets: Secrets) -> Result<(), StoreError> {
        let usable = secrets.credentials.is_ok();
        *lock(&watched.secrets) = Arc::new(secrets);
        lock(&self.pacing)
            .plan
            .remove_account(&watched.account.name);
        self.watch(watched)?;
        if !usable {
            lock(&self.unmeasured).insert(watched.account.name.clone());
        }
        self.wake.notify_one();
        tracing::info!(account = %watched.account.name, usable, "secrets renewed");
        Ok(())
    }

    /// Stops planning `account`'s probes.
    pub fn unwatch(&self, account: &str) {
        let mut pacing = lock(&self.pacing);
        pacing.plan.remove_account(account);
        pacing.recent.remove(account);
    }

    /// One check of `watched` now, through the whole pipeline. Store errors are returned;
    /// every other problem is in the tiles.
    pub async fn check(
        &self,
        watched: &Watched,
        scope: Scope,
        pauses: Pauses,
    ) -> Result<CheckOutcome, StoreError> {
        let now = self.clock.now();
        let services = match scope {
            Scope::All => Service::ALL
                .into_iter()
                .filter(|s| watched.account.monitoring.interval(*s).is_some())
                .collect(),
            Scope::One(Service::RateLimits) => vec![Service::GraphApi],
            Scope::One(service) => vec![service],
        };
        let (services, paused) = match pauses {
            Pauses::Ignore => (services, Vec::new()),
            Pauses::Respect => self.without_paused(&watched.account.name, services, now),
        };
        let mut outcome = self.check_services(watched, &services, now).await?;
        outcome.paused = paused;
        Ok(outcome)
    }

    /// Checks every account of `list` once (`meta-monitor check`): all measured concurrently,
    /// then each recorded, in order.
    pub async fn check_many(
        &self,
        list: &[Watched],
        pauses: Pauses,
    ) -> Result<Vec<CheckOutcome>, StoreError> {
        let now = self.clock.now();
        let plans: Vec<_> = list
            .iter()
            .map(|w| {
                let all: Vec<Service> = Service::ALL
                    .into_iter()
                    .filter(|s| w.account.monitoring.interval(*s).is_some())
                    .collect();
                match pauses {
                    Pauses::Ignore => (all, Vec::new()),
                    Pauses::Respect => self.without_paused(&w.account.name, all, now),
                }
            })
            .collect();
        let measured = futures::future::join_all(
            list.iter()
                .zip(&plans)
                .map(|(w, (services, _))| self.measure(w, services, now)),
        )
        .await;
        let mut outcomes = Vec::with_capacity(list.len());
        for ((w, (_, paused)), reports) in list.iter().zip(plans).zip(&measured) {
            let mut outcome = self.record(w, reports, now)?;
            outcome.paused = paused;
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    /// Splits `services` into those to probe and those whose buckets are paused.
    fn without_paused(
        &self,
        account: &str,
        services: Vec<Service>,
        now: OffsetDateTime,
    ) -> (Vec<Service>, Vec<(Service, OffsetDateTime)>) {
        let pacing = lock(&self.pacing);
        let mut probe = Vec::with_capacity(services.len());
        let mut paused = Vec::new();
        for service in services {
            match pacing.plan.paused_until(account, service, now) {
                Some(until) => paused.push((service, until)),
                None => probe.push(service),
            }
        }
        (probe, paused)
    }

    /// Runs the scheduler over `accounts` until `shutdown` completes. A store error never
    /// ends it: the step is retried with a growing pause, and the window and the log are told.
    pub async fn run(
        &self,
        accounts: &[Watched],
        shutdown: impl Future<Output = ()>,
    ) -> RunSummary {
        tokio::pin!(shutdown);
        let mut summary = RunSummary::default();
        let mut backoff = Duration::ZERO;
        for watched in accounts {
            while let Err(e) = self.watch(watched) {
                backoff = self.report_problem(&e, backoff);
                tokio::select! {
                    () = &mut shutdown => return summary,
                    () = self.sleep(backoff) => {}
                }
            }
        }
        // An account the keychain refused is shown as UNKNOWN once, with the reason.
        lock(&self.unmeasured).extend(
            accounts
                .iter()
                .filter(|w| w.secrets().credentials.is_err())
                .map(|w| w.account.name.clone()),
        );
        loop {
            let now = self.clock.now();
            let due = lock(&self.pacing).plan.due(now);
            let unmeasured = std::mem::take(&mut *lock(&self.unmeasured));
            let mut steps: Vec<(&Watched, Vec<Service>)> = accounts
                .iter()
                .filter(|w| unmeasured.contains(&w.account.name))
                .map(|w| (w, Vec::new()))
                .collect();
            for (name, service) in due {
                let Some(watched) = accounts.iter().find(|w| w.account.name == name) else {
                    continue;
                };
                match steps.iter_mut().find(|(w, _)| w.account.name == name) {
                    Some((_, services)) => services.push(service),
                    None => steps.push((watched, vec![service])),
                }
            }
            if steps.is_empty() {
                let wait = lock(&self.pacing)
                    .plan
                    .next_wake()
                    .map(|t| (t - now).max(time::Duration::ZERO).unsigned_abs())
                    .unwrap_or(Duration::from_secs(60));
                tokio::select! {
                    () = &mut shutdown => break,
                    () = self.sleep(wait) => continue,
                    () = self.wake.notified() => continue,
                }
            }
            // A step in flight finishes even when shutdown arrives: its results are stored.
            // Every account is measured first, concurrently; then each is recorded, so no
            // account's probes wait on another's database write or slow notifier.
            let measured = futures::future::join_all(
                steps
                    .iter()
                    .map(|(w, services)| self.measure(w, services, now)),
            )
            .await;
            let results: Vec<_> = steps
                .iter()
                .zip(&measured)
                .map(|((w, _), reports)| self.record(w, reports, now))
                .collect();
            let mut failed = None;
            for ((watched, services), result) in steps.into_iter().zip(results) {
                match result {
                    Ok(outcome) => {
                        summary.probe_runs += services.len() as u64;
                        summary.notifications += outcome.alerts.len() as u64;
                    }
                    Err(e) => {
                        // Its services run again after the pause; the keychain case is retried.
                        if watched.secrets().credentials.is_err() {
                            lock(&self.unmeasured).insert(watched.account.name.clone());
                        }
                        failed = Some(e);
                    }
                }
            }
            match failed {
                None => {
                    if !backoff.is_zero() {
                        tracing::info!("the monitor writes to its database again");
                        self.events.emit(MonitorEvent::Problem { message: None });
                    }
                    backoff = Duration::ZERO;
                }
                Some(e) => {
                    backoff = self.report_problem(&e, backoff);
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = self.sleep(backoff) => {}
                    }
                }
            }
        }
        summary
    }

    /// Logs a store error and tells the window; returns the next backoff (1 s doubling to
    /// 5 min).
    fn report_problem(&self, e: &StoreError, backoff: Duration) -> Duration {
        let next = (backoff * 2).clamp(Duration::from_secs(1), MAX_BACKOFF);
        tracing::error!(error = %e, retry_in_s = next.as_secs(), "the monitor could not store a check");
        self.events.emit(MonitorEvent::Problem {
            message: Some(format!(
                "The monitor could not store its results ({e}); retrying in {} s.",
                next.as_secs()
            )),
        });
        next
    }

    /// Sleeps `wait` of clock time (shorter under a sped-up clock).
    async fn sleep(&self, wait: Duration) {
        let real = (wait.as_secs_f64() / self.clock.speed()).max(0.005);
        tokio::time::sleep(Duration::from_secs_f64(real)).await;
    }
}
