//! The in-process monitor: the core's scheduler over the configured accounts — or, with none
//! configured (or `--demo`), over a demo account against the built-in simulator — plus the
//! manual "Check now". Results reach the window through the core's [`EventSink`].

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use meta_graph_sim::{Scenario, SimConfig, Simulator};
use meta_monitor_core::alert::Policy;
use meta_monitor_core::check::{self, AccountTiles};
use meta_monitor_core::clock::SystemClock;
use meta_monitor_core::events::{EventSink, MonitorEvent};
use meta_monitor_core::graph::{Credentials, Timeouts, http_client};
use meta_monitor_core::monitor::{AccountEntry, Pauses, Scope, Watched};
use meta_monitor_core::secrets::Keychain;
use meta_monitor_core::store::Store;
use meta_monitor_core::store::alerts::Notification;
use meta_monitor_core::{Account, Secret, Service, chart};
use time::OffsetDateTime;
use tokio::sync::watch;

use crate::ipc::{
    ChartRequest, ChartView, ErrorCode, ExportFormat, IpcError, Overview, ServiceHistory,
};
use meta_monitor_core::store::rollups::ChartPoint;

/// One watched account with its keychain secrets, loaded by the core.
pub(crate) type Entry = AccountEntry;

/// What is being watched right now: the configured accounts, or the demo.
struct Watch {
    store: Arc<Mutex<Store>>,
    entries: Vec<Entry>,
    /// The same accounts with their notifiers, as the core's monitor checks them.
    watched: Arc<Vec<Watched>>,
    /// The check pipeline and its pacing, shared by the scheduler and "Check now".
    monitor: Arc<meta_monitor_core::monitor::Monitor>,
    /// The demo's simulator, alive for as long as the demo is watched.
    demo: Option<Simulator>,
    stop: watch::Sender<bool>,
    running: Option<tauri::async_runtime::JoinHandle<()>>,
    /// The demo's history was written (once per demo watch).
    seeded: bool,
}

pub struct Monitor {
    db_path: PathBuf,
    /// `--demo`: the demo even when accounts are configured.
    forced_demo: bool,
    http: reqwest::Client,
    events: Arc<dyn EventSink>,
    current: Mutex<Watch>,
    /// One reload at a time: two interleaved would start two schedulers on one watch.
    reloading: tokio::sync::Mutex<()>,
    /// Catalog syncs running, by account: their cancel flags.
    pub(crate) syncs: Mutex<std::collections::HashMap<String, Arc<std::sync::atomic::AtomicBool>>>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The demo account, pointing at the in-process simulator.
fn demo_account(base_url: &str) -> anyhow::Result<Account> {
    let mut a = Account::new("demo");
    a.graph_url = base_url.to_owned();
    a.app_id = Some(meta_graph_sim::APP_ID.to_owned());
    a.ad_account_id = Some(meta_graph_sim::AD_ACCOUNT.to_owned());
    a.pixel_id = Some(meta_graph_sim::PIXEL_ID.to_owned());
    a.catalog_id = Some(meta_graph_sim::CATALOG_ID.to_owned());
    a.business_id = Some(meta_graph_sim::BUSINESS_ID.to_owned());
    a.test_event_code = Some("TEST-DEMO".to_owned());
    Ok(a.validate()?)
}

impl Watch {
    /// The configured accounts with their keychain entries (blocking D-Bus calls), or the demo
    /// when there are none or it is forced.
    async fn load(
        db_path: &Path,
        forced_demo: bool,
        http: &reqwest::Client,
        events: Arc<dyn EventSink>,
    ) -> anyhow::Result<Self> {
        if !forced_demo {
            let file_store = Store::open(db_path)?;
            let stored = file_store.accounts()?;
            if !stored.is_empty() {
                let entries = tokio::task::block_in_place(|| {
                    AccountEntry::load_all(stored, &Keychain::new())
                });
                let file_store = Arc::new(Mutex::new(file_store));
                return Self::new(file_store, entries, None, http, events);
            }
        }
        Self::demo(http, events).await
    }

    /// The demo: the simulator in this process (answering with internet-like latency), an
    /// in-memory store (the database file is never touched; [`Monitor::start`] seeds its
    /// history) and the simulator's fake token held in memory, never in the keychain.
    async fn demo(http: &reqwest::Client, events: Arc<dyn EventSink>) -> anyhow::Result<Self> {
        let sim = Simulator::start_local(SimConfig {
            scenario: Scenario::Demo,
            network_delay: Some((Duration::from_millis(60), Duration::from_millis(240))),
            ..SimConfig::default()
        })
        .await?;
        let account = demo_account(&sim.base_url())?;
        let credentials = Credentials {
            access_token: Secret::new(meta_graph_sim::DEMO_TOKEN),
            app_secret: Some(Secret::new(meta_graph_sim::APP_SECRET)),
            verify_token: None,
        };
        let (store, entry) =
            AccountEntry::in_memory(account, credentials, OffsetDateTime::now_utc())?;
        Self::new(store, vec![entry], Some(sim), http, events)
    }

    fn new(
        store: Arc<Mutex<Store>>,
        entries: Vec<Entry>,
        demo: Option<Simulator>,
        http: &reqwest::Client,
        events: Arc<dyn EventSink>,
    ) -> anyhow::Result<Self> {
        let watched = entries
            .iter()
            .map(|e| e.watched(store.clone(), true).map_err(anyhow::Error::msg))
            .collect::<anyhow::Result<Vec<Watched>>>()?;
        let monitor = meta_monitor_core::monitor::Monitor::new(
            Arc::new(SystemClock),
            http.clone(),
            Policy::default(),
            events,
        );
        Ok(Self {
            store,
            entries,
            watched: Arc::new(watched),
            monitor: Arc::new(monitor),
            demo,
            stop: watch::channel(false).0,
            running: None,
            seeded: false,
        })
    }
}

impl Monitor {
    /// Loads what to watch (blocking: call it before the window shows). With no account, or
    /// `forced_demo`, watches the demo.
    pub fn open(
        db_path: &Path,
        forced_demo: bool,
        events: Arc<dyn EventSink>,
    ) -> anyhow::Result<Self> {
        let http = http_client(Timeouts::default())?;
        let current = tauri::async_runtime::block_on(async {
            Watch::load(db_path, forced_demo, &http, events.clone()).await
        })?;
        Ok(Self {
            db_path: db_path.to_owned(),
            forced_demo,
            http,
            events,
            current: Mutex::new(current),
            reloading: tokio::sync::Mutex::new(()),
            syncs: Mutex::default(),
        })
    }

    /// A Graph client for `account` on the app's HTTP client (its timeouts).
    pub(crate) fn client(
        &self,
        account: &Account,
        credentials: Credentials,
    ) -> Result<meta_monitor_core::graph::GraphClient, IpcError> {
        meta_monitor_core::graph::GraphClient::new(
            self.http.clone(),
            &account.graph_url,
            &account.api_version,
            credentials,
            account.app_id.clone(),
        )
        .map_err(|e| IpcError::new(ErrorCode::Validation, e))
    }

    /// Tells the window (and the tray) about an account's stored tiles.
    pub(crate) fn announce(&self, tiles: AccountTiles) {
        self.events.emit(MonitorEvent::TilesChanged(tiles));
    }

    pub fn db_path(&self) -> &Path {
        &self.db_path
    }

    pub fn is_demo(&self) -> bool {
        lock(&self.current).demo.is_some()
    }

    /// Starts the scheduler over what is watched, on Tauri's runtime.
    pub fn start(&self) -> anyhow::Result<()> {
        let mut current = lock(&self.current);
        if current.demo.is_some() && !current.seeded {
            // Charts with a past from the first seconds: 30 days of the demo's own history,
            // written after the window's first tiles, a day per transaction.
            current.seeded = true;
            // Then the demo shop's products, synced to the simulated catalog for real.
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
            tauri::async_runtime::spawn(async move {
                let history = {
                    let store = store.clone();
                    tauri::async_runtime::spawn_blocking(move || {
                        let now = OffsetDateTime::now_utc();
                        ids.iter().try_for_each(|&id| {
                            meta_monitor_core::demo::seed_history(&store, id, now).map(drop)
                        })
                    })
                    .await
                };
                if let Ok(Err(e)) = history {
                    tracing::error!(error = %e, "the demo's history could not be written");
                }
                for (id, catalog, client) in catalogs {
                    if let Err(e) =
                        meta_monitor_core::demo::seed_catalog(&client, &store, id, &catalog).await
                    {
                        tracing::error!(error = %e, "the demo's products could not be synced");
                    }
                    let _ = check::refresh_catalog_tile(&mut lock(&store), id);
                }
                events.emit(MonitorEvent::Reloaded);
            });
        }
        let mut stopped = current.stop.subscribe();
        let (monitor, watched) = (current.monitor.clone(), current.watched.clone());
        current.running = Some(tauri::async_runtime::spawn(async move {
            let shutdown = async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            };
            // Store errors are retried inside and shown in the window; it ends on shutdown.
            monitor.run(&watched, shutdown).await;
        }));
        Ok(())
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
        tauri::async_runtime::block_on(self.stop());
    }

    /// Watches the accounts as they are now configured (after Settings changed them).
    pub async fn reload(&self) -> Result<(), IpcError> {
        let _one_at_a_time = self.reloading.lock().await;
        self.stop().await;
        let next = Watch::load(
            &self.db_path,
            self.forced_demo,
            &self.http,
            self.events.clone(),
        )
        .await
        .map_err(|e| IpcError::new(ErrorCode::Internal, format!("{e:#}")))?;
        *lock(&self.current) = next;
        self.start()
            .map_err(|e| IpcError::new(ErrorCode::Internal, format!("{e:#}")))?;
        self.events.emit(MonitorEvent::Reloaded);
        Ok(())
    }

    /// Accounts whose catalog queue still holds items: a sync was interrupted (quit, crash)
    /// and is finished when the app starts.
    pub fn interrupted_syncs(&self) -> Vec<String> {
        let current = lock(&self.current);
        let store = lock(&current.store);
        current
            .entries
            .iter()
            .filter(|e| e.account.catalog_id.is_some())
            .filter(|e| store.queue_len(e.id).is_ok_and(|n| n > 0))
            .map(|e| e.account.name.clone())
            .collect()
    }

    /// The entry of `account` and the store it lives in.
    pub(crate) fn entry(&self, account: &str) -> Result<(Entry, Arc<Mutex<Store>>), IpcError> {
        let current = lock(&self.current);
        current
            .entries
            .iter()
            .find(|e| e.account.name == account)
            .map(|e| (e.clone(), current.store.clone()))
            .ok_or_else(|| IpcError::new(ErrorCode::NoSuchAccount, account))
    }

    /// Every account's stored tiles.
    pub fn overview(&self) -> Result<Overview, IpcError> {
        let current = lock(&self.current);
        let store = lock(&current.store);
        let accounts = current
            .entries
            .iter()
            .map(|e| {
                let tiles = store.tiles(e.id).map_err(IpcError::store)?;
                Ok(AccountTiles::new(&e.account.name, tiles))
            })
            .collect::<Result<_, IpcError>>()?;
        Ok(Overview {
            demo: current.demo.is_some(),
            accounts,
        })
    }

    /// Runs every probe of `account` now, stores the results, decides alerts and tells the
    /// window; returns the stored tiles.
    ///
    /// When the keychain refused this account's credentials (locked at login, say), they are
    /// read again first, and the watch reloads once they come: unlocking and pressing "Check
    /// now" recovers without a restart. Only here, on the operator's request — retrying on a
    /// timer would raise an unlock prompt every time.
    pub async fn check_now(
        &self,
        account: &str,
        scope: Scope,
        pauses: Pauses,
    ) -> Result<AccountTiles, IpcError> {
        let (entry, _) = self.entry(account)?;
        if entry.credentials.is_err() && !self.is_demo() {
            let keychain = Keychain::new();
            if tokio::task::block_in_place(|| keychain.credentials(account)).is_ok() {
                self.reload().await?;
            }
        }
        let (monitor, watched) = {
            let current = lock(&self.current);
            (current.monitor.clone(), current.watched.clone())
        };
        let watched = watched
            .iter()
            .find(|w| w.account.name == account)
            .ok_or_else(|| IpcError::new(ErrorCode::NoSuchAccount, account))?;
        let outcome = monitor
            .check(watched, scope, pauses)
            .await
            .map_err(IpcError::store)?;
        Ok(outcome.tiles)
    }

    /// A chart of one stored series over a window, rendered to SVG for the view's size.
    pub fn chart(&self, request: &ChartRequest) -> Result<ChartView, IpcError> {
        let (lines, style, points, summary) = self.chart_lines(request)?;
        let svg = chart::svg(&lines, &style).map_err(|e| IpcError::new(ErrorCode::Internal, e))?;
        Ok(ChartView {
            svg,
            points,
            summary,
        })
    }

    /// Writes the chart of `request` to `path` as PNG or SVG (chart export).
    pub fn export_chart(
        &self,
        request: &ChartRequest,
        format: ExportFormat,
        path: &Path,
    ) -> Result<(), IpcError> {
        let (lines, style, _, _) = self.chart_lines(request)?;
        let internal = |e: chart::ChartError| IpcError::new(ErrorCode::Internal, e);
        match format {
            ExportFormat::Png => chart::write_png(&lines, &style, path).map_err(internal),
            ExportFormat::Svg => {
                let svg = chart::svg(&lines, &style).map_err(internal)?;
                std::fs::write(path, svg).map_err(|e| {
                    let why = format!("could not write {}: {e}", path.display());
                    IpcError::new(ErrorCode::Internal, why)
                })
            }
        }
    }

    /// The lines of a chart, its style, how many points it has and the window's summary.
    fn chart_lines(
        &self,
        request: &ChartRequest,
    ) -> Result<(Vec<chart::Line>, chart::Style, u32, Option<ChartPoint>), IpcError> {
        let (entry, store) = self.entry(&request.account)?;
        let to = OffsetDateTime::now_utc();
        let from = to - request.window.duration();
        let width = request.width.clamp(200, 2400);
        let (points, summary) = {
            let store = lock(&store);
            let points = store
                .chart(
                    entry.id,
                    &request.metric,
                    from,
                    to,
                    (width / 4) as usize,
                    to,
                )
                .map_err(IpcError::store)?;
            let summary = store
                .chart(entry.id, &request.metric, from, to, 1, to)
                .map_err(IpcError::store)?
                .pop();
            (points, summary)
        };
        let lines = if request.percentiles {
            chart::percentile_lines(&points)
        } else {
            vec![chart::mean_line(&request.metric, &points)]
        };
        let style = chart::Style {
            width,
            height: request.height.clamp(120, 1600),
            dark: request.dark,
            unit: request.unit.clone(),
            window: Some((from, to)),
        };
        let count = u32::try_from(points.len()).unwrap_or(u32::MAX);
        Ok((lines, style, count, summary))
    }

    /// A service's newest failures and its error rate over the last 24 h.
    pub fn service_history(
        &self,
        account: &str,
        service: Service,
    ) -> Result<ServiceHistory, IpcError> {
        let (entry, store) = self.entry(account)?;
        let store = lock(&store);
        let since = OffsetDateTime::now_utc() - time::Duration::days(1);
        let failures = store
            .recent_failures(entry.id, service, 20)
            .map_err(IpcError::store)?;
        let (runs, failed) = store
            .run_counts(entry.id, service, since)
            .map_err(IpcError::store)?;
        Ok(ServiceHistory {
            failures,
            runs_24h: u32::try_from(runs).unwrap_or(u32::MAX),
            failed_24h: u32::try_from(failed).unwrap_or(u32::MAX),
        })
    }

    /// The newest notifications of `account`, every channel's outcome included.
    pub fn alerts(&self, account: &str) -> Result<Vec<Notification>, IpcError> {
        let (entry, store) = self.entry(account)?;
        lock(&store)
            .notifications(entry.id, 200)
            .map_err(IpcError::store)
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
            let _ = self.check_now(&name, Scope::All, Pauses::Respect).await;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used, reason = "a failed step must fail the test")]

    use super::*;
    use crate::ipc::Window;

    #[test]
    fn a_chart_exports_to_png_and_svg_files_of_the_requested_size() {
        let dir = tempfile::tempdir().expect("tempdir");
        let events = Arc::new(meta_monitor_core::events::NoEvents);
        let monitor = Monitor::open(&dir.path().join("unused.db"), true, events).expect("demo");
        tauri::async_runtime::block_on(async {
            for _ in 0..3 {
                monitor
                    .check_now("demo", Scope::All, Pauses::Ignore)
                    .await
                    .expect("checked");
            }
        });
        let request = ChartRequest {
            account: "demo".into(),
            metric: "meta.api.latency_ms".into(),
            window: Window::Day,
            percentiles: true,
            unit: "ms".into(),
            width: 1200,
            height: 400,
            dark: false,
        };
        let png = dir.path().join("latency.png");
        monitor
            .export_chart(&request, ExportFormat::Png, &png)
            .expect("png written");
        let bytes = std::fs::read(&png).expect("png file");
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "a PNG file");
        let width = u32::from_be_bytes(bytes[16..20].try_into().expect("IHDR width"));
        let height = u32::from_be_bytes(bytes[20..24].try_into().expect("IHDR height"));
        assert_eq!((width, height), (1200, 400));

        let svg = dir.path().join("latency.svg");
        monitor
            .export_chart(&request, ExportFormat::Svg, &svg)
            .expect("svg written");
        let text = std::fs::read_to_string(&svg).expect("svg file");
        assert!(text.starts_with("<svg") && text.contains(r#"width="1200""#));
        assert!(text.contains("<polyline"), "the measured points are drawn");

        let nowhere = dir.path().join("missing-folder").join("x.svg");
        let err = monitor
            .export_chart(&request, ExportFormat::Svg, &nowhere)
            .expect_err("no such folder");
        assert!(err.message.contains("could not write"), "{}", err.message);
        monitor.shutdown();
        assert!(
            !dir.path().join("unused.db").exists(),
            "the demo never writes the file"
        );
    }
}
