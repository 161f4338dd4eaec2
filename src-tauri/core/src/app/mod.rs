//! The application API: one [`App`] owns the store, the watched accounts with their keychain
//! secrets and the monitor, with one method per user operation — check, watch, overview,
//! history and charts, alerts, settings and secrets, catalog, Conversions API. The desktop
//! shell and the CLI adapt these methods in a few lines each, so the window and the command
//! line behave alike (same validation, same errors). Results reach a window through the
//! [`EventSink`] the caller gives.

mod alerts;
mod capi;
mod catalog;
pub mod diagnose;
mod error;
mod feeds;
mod history;
pub mod holds;
pub mod incidents;
mod settings;
pub mod story;
mod token;
pub mod types;

use std::any::Any;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use time::OffsetDateTime;
use tokio::sync::watch;

pub use capi::{BatchOutcome, BatchSummary};
pub use error::{AppError, ErrorCode};
pub use settings::probe_connection;

use crate::account::Account;
use crate::alert::Policy;
use crate::check::{self, AccountTiles};
use crate::clock::{Clock, SystemClock};
use crate::events::{EventSink, MonitorEvent};
use crate::graph::{Credentials, GraphClient, Timeouts, http_client, proxy};
use crate::monitor::{AccountEntry, CheckOutcome, Monitor, Pauses, RunSummary, Scope, Watched};
use crate::secrets::Keychain;
use crate::store::{Store, StoreError};
use types::Overview;

/// A demo world to watch: an account pointing at a simulator, the simulator's fake
/// credentials (in memory only, never in the keychain) and whatever keeps the simulator
/// running for as long as the demo is watched. The caller starts it: the core knows no
/// simulator.
pub struct Demo {
    pub account: Account,
    pub credentials: Credentials,
    pub keep_alive: Box<dyn Any + Send + Sync>,
}

/// Starts a demo world when one is needed (no account configured, or `--demo`).
pub type DemoStarter = Arc<dyn Fn() -> BoxFuture<'static, Result<Demo, String>> + Send + Sync>;

/// How an [`App`] opens: what it watches and how it calls Meta.
#[derive(Clone)]
pub struct Options {
    /// The demo even when accounts are configured (`--demo`).
    pub forced_demo: bool,
    /// Starts the demo when no account is configured; `None` watches nothing then (the CLI).
    pub demo: Option<DemoStarter>,
    /// Each Graph request's timeouts.
    pub timeouts: Timeouts,
    /// Only this account (a command about one account needs no other's secrets).
    pub only: Option<String>,
    /// Read the accounts' secrets from the keychain. Commands that only read the database
    /// (`status`, `alerts`) never touch it: a locked keychain may prompt.
    pub secrets: bool,
    /// The `env` account (from `META_*` variables): watched in memory only, never written to
    /// the database file.
    pub env: Option<crate::env_account::EnvAccount>,
    /// Decide and send alerts (false: `check --no-notify`, alert states untouched).
    pub notify: bool,
    /// Decide alerts for the `env` account, whose alert states live in memory only: true for
    /// `run`, false for a one-shot `check` (it would announce the same alert every run).
    pub env_alerts: bool,
    /// The monitor's clock (a faster one for `run --speed`).
    pub clock: Arc<dyn Clock>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            forced_demo: false,
            demo: None,
            timeouts: Timeouts::default(),
            only: None,
            secrets: true,
            env: None,
            notify: true,
            env_alerts: true,
            clock: Arc::new(SystemClock),
        }
    }
}

/// What is being watched right now: the configured accounts, or the demo.
struct Watch {
    store: Arc<Mutex<Store>>,
    entries: Vec<AccountEntry>,
    /// The same accounts with their notifiers, as the monitor checks them.
    watched: Arc<Vec<Watched>>,
    /// The check pipeline and its pacing, shared by the scheduler and "Check now".
    monitor: Arc<Monitor>,
    /// Keeps the demo's simulator alive while the demo is watched.
    demo: Option<Box<dyn Any + Send + Sync>>,
    stop: watch::Sender<bool>,
    running: Option<tokio::task::JoinHandle<()>>,
    /// The demo's history was written (once per demo watch).
    seeded: bool,
}

pub struct App {
    db_path: PathBuf,
    options: Options,
    /// Rebuilt when the installation's proxy changes.
    http: Mutex<reqwest::Client>,
    events: Arc<dyn EventSink>,
    runtime: tokio::runtime::Handle,
    current: Mutex<Watch>,
    /// One reload at a time: two interleaved would start two schedulers on one watch.
    reloading: tokio::sync::Mutex<()>,
    /// Catalog syncs running, by account: their cancel flags.
    syncs: Mutex<std::collections::HashMap<String, Arc<std::sync::atomic::AtomicBool>>>,
    /// Wakes the feed schedule when a source is added here.
    feeds_changed: tokio::sync::Notify,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Watch {
    /// The configured accounts with their keychain entries (blocking D-Bus calls), or the demo
    /// when there are none or it is forced.
    async fn load(app: &AppConfig<'_>) -> Result<Self, AppError> {
        let options = app.options;
        if !options.forced_demo {
            let file_store =
                Store::open(app.db_path).map_err(|e| AppError::database(app.db_path, e))?;
            let env_only = options.only.as_deref() == Some(crate::env_account::NAME);
            let stored = match &options.only {
                _ if env_only => Vec::new(),
                Some(name) => vec![file_store.require_account(name)?],
                None => file_store.accounts()?,
            };
            let env = options
                .env
                .clone()
                .filter(|_| options.only.is_none() || env_only);
            if !stored.is_empty() || env.is_some() || options.demo.is_none() {
                let entries = if options.secrets {
                    tokio::task::block_in_place(|| AccountEntry::load_all(stored, &Keychain::new()))
                } else {
                    stored
                        .into_iter()
                        .map(AccountEntry::without_secrets)
                        .collect()
                };
                let file_store = Arc::new(Mutex::new(file_store));
                let notify = options.notify;
                let mut slots: Vec<_> = entries
                    .into_iter()
                    .map(|e| (e, file_store.clone(), notify))
                    .collect();
                if let Some(env) = env {
                    let (memory, mut entry) = AccountEntry::in_memory(
                        env.account,
                        env.credentials,
                        OffsetDateTime::now_utc(),
                    )?;
                    entry.team_webhook = env.team_webhook;
                    entry.token_source = crate::token::TokenSource::Environment;
                    // Its alert states live in memory: a one-shot command would announce the
                    // same alert on every run, so only a long-running one decides alerts.
                    slots.insert(0, (entry, memory, notify && options.env_alerts));
                }
                return Self::new(file_store, slots, None, app);
            }
        }
        let Some(start_demo) = &options.demo else {
            return Err(AppError::invalid("no demo in this program"));
        };
        let demo = start_demo()
            .await
            .map_err(|e| AppError::new(ErrorCode::Internal, format!("the demo: {e}")))?;
        let (store, entry) =
            AccountEntry::in_memory(demo.account, demo.credentials, OffsetDateTime::now_utc())?;
        Self::new(
            store.clone(),
            vec![(entry, store, true)],
            Some(demo.keep_alive),
            app,
        )
    }

    fn new(
        store: Arc<Mutex<Store>>,
        slots: Vec<(AccountEntry, Arc<Mutex<Store>>, bool)>,
        demo: Option<Box<dyn Any + Send + Sync>>,
        app: &AppConfig<'_>,
    ) -> Result<Self, AppError> {
        // The team webhook's blocking HTTP client may not be built on an async worker as is.
        let watched = tokio::task::block_in_place(|| {
            slots
                .iter()
                .map(|(e, store, notify)| e.watched(store.clone(), *notify))
                .collect::<Result<Vec<Watched>, String>>()
        })
        .map_err(|e| AppError::new(ErrorCode::Internal, e))?;
        let monitor = Monitor::new(
            app.options.clock.clone(),
            app.http.clone(),
            Policy::default(),
            app.events.clone(),
        );
        // The stored throttle pauses bind a "Check now" from the first moment, before the
        // scheduler's task starts.
        for w in &watched {
            tokio::task::block_in_place(|| monitor.watch(w))?;
        }
        Ok(Self {
            store,
            entries: slots.into_iter().map(|(e, _, _)| e).collect(),
            watched: Arc::new(watched),
            monitor: Arc::new(monitor),
            demo,
            stop: watch::channel(false).0,
            running: None,
            seeded: false,
        })
    }
}

/// What loading a watch needs from the app.
struct AppConfig<'a> {
    db_path: &'a Path,
    options: &'a Options,
    http: &'a reqwest::Client,
    events: &'a Arc<dyn EventSink>,
}

impl App {
    /// Loads what to watch (see [`Options`]). Call it inside the tokio runtime the app will
    /// run on (its tasks are spawned there).
    pub async fn open(
        db_path: &Path,
        options: Options,
        events: Arc<dyn EventSink>,
    ) -> Result<Self, AppError> {
        // The installation's proxy, before any client is built; the demo's own file-less run
        // neither reads nor creates the database for it.
        if !options.forced_demo && db_path.exists() {
            let stored = Store::open(db_path)
                .and_then(|store| store.setting(proxy::SETTING))
                .map_err(|e| AppError::database(db_path, e))?;
            proxy::set(stored.as_deref().and_then(|text| match proxy::parse(text) {
                Ok(url) => Some(url),
                Err(e) => {
                    tracing::warn!(error = %e, "the stored proxy is ignored");
                    None
                }
            }));
        }
        let http =
            http_client(options.timeouts).map_err(|e| AppError::new(ErrorCode::Internal, e))?;
        let current = Watch::load(&AppConfig {
            db_path,
            options: &options,
            http: &http,
            events: &events,
        })
        .await?;
        Ok(Self {
            db_path: db_path.to_owned(),
            options,
            http: Mutex::new(http),
            events,
            runtime: tokio::runtime::Handle::current(),
            current: Mutex::new(current),
            reloading: tokio::sync::Mutex::new(()),
            syncs: Mutex::default(),
            feeds_changed: tokio::sync::Notify::new(),
        })
    }

    /// The app's HTTP client (its timeouts, the installation's proxy).
    fn http(&self) -> reqwest::Client {
        lock(&self.http).clone()
    }

    /// The installation's HTTPS proxy, if one is set (`None`: the environment's, if any).
    pub fn proxy(&self) -> Result<Option<String>, AppError> {
        Ok(Store::open(&self.db_path)?.setting(proxy::SETTING)?)
    }

    /// Sets (or, with `None` or blank, removes) the installation's HTTPS proxy: stored, applied
    /// to every client from now on, and to the running monitor (reloaded) if there is one.
    pub async fn set_proxy(&self, text: Option<&str>) -> Result<(), AppError> {
        let url = text
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(proxy::parse)
            .transpose()
            .map_err(AppError::invalid)?;
        Store::open(&self.db_path)?
            .set_setting(proxy::SETTING, url.as_ref().map(url::Url::as_str))?;
        tracing::info!(
            proxy = url.as_ref().map(url::Url::as_str),
            "the HTTPS proxy changed"
        );
        proxy::set(url);
        *lock(&self.http) = http_client(self.options.timeouts)
            .map_err(|e| AppError::new(ErrorCode::Internal, e))?;
        let running = lock(&self.current).running.is_some();
        if running {
            self.reload().await?;
        }
        Ok(())
    }

    /// A Graph client for `account` on the app's HTTP client (its timeouts).
    fn client(&self, account: &Account, credentials: Credentials) -> Result<GraphClient, AppError> {
        GraphClient::new(
            self.http(),
            &account.graph_url,
            &account.api_version,
            credentials,
            account.app_id.clone(),
        )
        .map_err(|e| AppError::new(ErrorCode::InvalidInput, e))
    }

    /// Tells the window (and the tray) about an account's stored tiles.
    fn announce(&self, tiles: AccountTiles) {
        self.events.emit(MonitorEvent::TilesChanged(tiles));
    }

    pub fn db_path(&self) -> &Path {
        &self.db_path
    }

    pub fn is_demo(&self) -> bool {
        lock(&self.current).demo.is_some()
    }

    /// Starts the scheduler over what is watched (and, the first time the demo is watched,
    /// writes its past and syncs its shop's products).
    pub fn start(&self) {
        let mut current = lock(&self.current);
        if current.demo.is_some() && !current.seeded {
            current.seeded = true;
            self.seed_demo(&current);
        }
        let mut stopped = current.stop.subscribe();
        let (monitor, watched) = (current.monitor.clone(), current.watched.clone());
        current.running = Some(self.runtime.spawn(async move {
            let shutdown = async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            };
            // Store errors are retried inside and shown in the window; it ends on shutdown.
            monitor.run(&watched, shutdown).await;
        }));
    }

    /// Charts with a past from the first seconds: 30 days of the demo's own history, written
    /// after the window's first tiles, a day per transaction; then the demo shop's products,
    /// synced to the simulated catalog for real.
    fn seed_demo(&self, current: &Watch) {
        let (store, events) = (current.store.clone(), self.events.clone());
        let ids: Vec<i64> = current.entries.iter().map(|e| e.id).collect();
        let catalogs: Vec<_> = current
            .entries
            .iter()
            .filter_map(|e| {
                let catalog = e.account.catalog_id.clone()?;
                let client = self.client(&e.account, e.credentials.clone().ok()?).ok()?;
                Some((e.id, catalog, client))
            })
            .collect();
        self.runtime.spawn(async move {
            let history = {
                let store = store.clone();
                tokio::task::spawn_blocking(move || {
                    let now = OffsetDateTime::now_utc();
                    ids.iter()
                        .try_for_each(|&id| crate::demo::seed_history(&store, id, now).map(drop))
                })
                .await
            };
            if let Ok(Err(e)) = history {
                tracing::error!(error = %e, "the demo's history could not be written");
            }
            for (id, catalog, client) in catalogs {
                if let Err(e) = crate::demo::seed_catalog(&client, &store, id, &catalog).await {
                    tracing::error!(error = %e, "the demo's products could not be synced");
                }
                let _ = check::refresh_catalog_tile(&mut lock(&store), id);
            }
            events.emit(MonitorEvent::Reloaded);
        });
    }

    /// Stops the scheduler after the step in flight is stored (at most 5 s).
    async fn stop(&self) {
        let running = {
            let mut current = lock(&self.current);
            let _ = current.stop.send(true);
            current.running.take()
        };
        if let Some(handle) = running {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), handle).await;
        }
    }

    /// Stops watching at exit.
    pub fn shutdown(&self) {
        self.runtime.block_on(self.stop());
    }

    /// Watches the accounts as they are now configured (after Settings changed them).
    pub async fn reload(&self) -> Result<(), AppError> {
        let _one_at_a_time = self.reloading.lock().await;
        self.stop().await;
        let http = self.http();
        let next = Watch::load(&AppConfig {
            db_path: &self.db_path,
            options: &self.options,
            http: &http,
            events: &self.events,
        })
        .await?;
        *lock(&self.current) = next;
        self.start();
        self.events.emit(MonitorEvent::Reloaded);
        Ok(())
    }

    /// Accounts whose catalog queue still holds items: a sync was interrupted (quit, crash)
    /// and is finished when the app starts.
    pub fn interrupted_syncs(&self) -> Vec<String> {
        let current = lock(&self.current);
        current
            .watched
            .iter()
            .filter(|w| w.account.catalog_id.is_some())
            .filter(|w| lock(&w.store).queue_len(w.id).is_ok_and(|n| n > 0))
            .map(|w| w.account.name.clone())
            .collect()
    }

    /// The entry of `account` and the store it lives in.
    fn entry(&self, account: &str) -> Result<(AccountEntry, Arc<Mutex<Store>>), AppError> {
        let current = lock(&self.current);
        let entry = current.entries.iter().find(|e| e.account.name == account);
        let store = current.watched.iter().find(|w| w.account.name == account);
        match (entry, store) {
            (Some(e), Some(w)) => {
                let mut entry = e.clone();
                // The monitor's credentials are the current ones (a token check may have
                // renewed the token since the entry was read).
                if let Ok(current) = &w.secrets().credentials {
                    entry.credentials = Ok(current.clone());
                }
                Ok((entry, w.store.clone()))
            }
            _ => Err(AppError::from(StoreError::NoSuchAccount(
                account.to_owned(),
            ))),
        }
    }

    /// Every account's stored tiles.
    pub fn overview(&self) -> Result<Overview, AppError> {
        let current = lock(&self.current);
        let accounts = current
            .watched
            .iter()
            .map(|w| {
                Ok(AccountTiles::new(
                    &w.account.name,
                    lock(&w.store).tiles(w.id)?,
                ))
            })
            .collect::<Result<_, AppError>>()?;
        let demo = current.demo.is_some();
        drop(current);
        let now = self.options.clock.now();
        let holds = self
            .holds()?
            .into_iter()
            .filter(|h| h.hold.window.current(now).is_some())
            .collect();
        Ok(Overview {
            demo,
            accounts,
            holds,
        })
    }

    /// Checks `account` now through the scheduler's own pipeline — every service or one; a
    /// throttle pause is honoured unless `pauses` says otherwise — and returns the stored
    /// tiles. The window hears of the tiles and of each alert sent.
    ///
    /// When the keychain refused this account's credentials (locked at login, say), every
    /// refused account's secrets are read again first: unlocking and pressing "Check now"
    /// recovers without a restart. Only here, on the operator's request — retrying on a timer
    /// would raise an unlock prompt every time.
    pub async fn check(
        &self,
        account: &str,
        scope: Scope,
        pauses: Pauses,
    ) -> Result<CheckOutcome, AppError> {
        let (entry, _) = self.entry(account)?;
        let mut scope = scope;
        if entry.credentials.is_err() && !self.is_demo() && self.options.secrets {
            let refused: Vec<String> = lock(&self.current)
                .entries
                .iter()
                .filter(|e| e.credentials.is_err())
                .map(|e| e.account.name.clone())
                .collect();
            for name in refused {
                self.renew_secrets(&name)?;
            }
            if self.entry(account)?.0.credentials.is_ok() {
                // Credentials came back: everything they gate is measured now, not one tile.
                scope = Scope::All;
            }
        }
        let (monitor, watched) = {
            let current = lock(&self.current);
            (current.monitor.clone(), current.watched.clone())
        };
        let watched = watched
            .iter()
            .find(|w| w.account.name == account)
            .ok_or_else(|| AppError::from(StoreError::NoSuchAccount(account.to_owned())))?;
        Ok(monitor.check(watched, scope, pauses).await?)
    }

    /// Reads `name`'s secrets from the keychain again and hands them to the running monitor:
    /// nothing else stops or is re-read, the account's probes are due at once. A no-op for a
    /// program that does not watch with secrets (a CLI command) or does not watch `name`.
    pub(crate) fn renew_secrets(&self, name: &str) -> Result<(), AppError> {
        if !self.options.secrets {
            return Ok(());
        }
        let Ok((entry, _)) = self.entry(name) else {
            return Ok(());
        };
        // Keychain reads block on D-Bus; the team webhook's client may not be built on an
        // async worker as is.
        let (fresh, secrets) = tokio::task::block_in_place(|| {
            let fresh = entry.reread(&Keychain::new());
            let secrets = fresh.secrets();
            (fresh, secrets)
        });
        let secrets = secrets.map_err(|e| AppError::new(ErrorCode::Internal, e))?;
        let (monitor, watched) = {
            let mut current = lock(&self.current);
            if let Some(slot) = current.entries.iter_mut().find(|e| e.account.name == name) {
                *slot = fresh;
            }
            (current.monitor.clone(), current.watched.clone())
        };
        if let Some(w) = watched.iter().find(|w| w.account.name == name) {
            tokio::task::block_in_place(|| monitor.renew(w, secrets))?;
        }
        Ok(())
    }

    /// Checks every watched account at once (`meta-monitor check`), in the order watched.
    pub async fn check_every(&self, pauses: Pauses) -> Result<Vec<CheckOutcome>, AppError> {
        // Planned (with the stored pauses) when the watch was loaded.
        let (monitor, watched) = {
            let current = lock(&self.current);
            (current.monitor.clone(), current.watched.clone())
        };
        Ok(monitor.check_many(&watched, pauses).await?)
    }

    /// Runs the scheduler over what is watched until `shutdown` (`meta-monitor run`); the
    /// desktop uses [`App::start`] instead.
    pub async fn run(&self, shutdown: impl std::future::Future<Output = ()>) -> RunSummary {
        let (monitor, watched) = {
            let current = lock(&self.current);
            (current.monitor.clone(), current.watched.clone())
        };
        monitor.run(&watched, shutdown).await
    }

    /// The names of the watched accounts, in order.
    pub fn account_names(&self) -> Vec<String> {
        lock(&self.current)
            .watched
            .iter()
            .map(|w| w.account.name.clone())
            .collect()
    }

    /// Each store the watched accounts live in, once (the database file, and the `env`
    /// account's memory): what the Prometheus exporter reads.
    pub fn stores(&self) -> Vec<Arc<Mutex<Store>>> {
        let mut stores: Vec<Arc<Mutex<Store>>> = Vec::new();
        for w in lock(&self.current).watched.iter() {
            if !stores.iter().any(|s| Arc::ptr_eq(s, &w.store)) {
                stores.push(w.store.clone());
            }
        }
        stores
    }

    /// "Check now" for every watched account (the tray's menu).
    pub async fn check_all(&self) {
        let names: Vec<String> = lock(&self.current)
            .entries
            .iter()
            .map(|e| e.account.name.clone())
            .collect();
        for name in names {
            // Each result reaches the window and the tray as an event; errors are in its tiles.
            let _ = self.check(&name, Scope::All, Pauses::Respect).await;
        }
    }
}
