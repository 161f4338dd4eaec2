//! The Tauri shell: the core's application API ([`App`]) in Tauri's state, commands that
//! adapt it in a line or two, and the core's events forwarded to the window and the tray.

mod demo;
mod events;
pub mod ipc;
mod logging;
mod prefs;
mod tray;
#[cfg(target_os = "linux")]
mod webkit;

use std::sync::Arc;

use anyhow::Context;
use meta_monitor_core::capi::event::EventInput;
use meta_monitor_core::check::AccountTiles;
use meta_monitor_core::monitor::{Pauses, Scope};
use meta_monitor_core::store::alerts::Notification;
use meta_monitor_core::{Account, Service, Tile, store};
use tauri::Manager;

use meta_monitor_core::catalog::product::{FieldProblem, Product};
use meta_monitor_core::catalog::sync::{SyncProgress, SyncSummary};

use crate::ipc::{
    CatalogView, ChartRequest, ChartView, ConnectionTest, DesktopPrefs, EventPreview, ExportFormat,
    ImportResult, IpcError, Overview, SecretName, SentEventsView, ServiceHistory, SettingsView,
    SyncSelection, TestEventResult,
};
use meta_monitor_core::alert::operator;
use meta_monitor_core::app::holds::{FiringAlert, NewHold};
use meta_monitor_core::app::incidents::IncidentQuery;
use meta_monitor_core::app::story::TileStory;
use meta_monitor_core::app::{App, Options};
use meta_monitor_core::incident::{Incident, ServiceUptime};
use meta_monitor_core::store::feeds::{FeedRun, FeedSource};
use meta_monitor_core::store::holds::StoredHold;

/// Every watched account's tiles, and whether this is the demo.
#[tauri::command]
async fn overview(monitor: tauri::State<'_, App>) -> Result<Overview, IpcError> {
    tokio::task::block_in_place(|| monitor.overview())
}

/// Checks `account` now — every service, or only `service` — through the scheduler's own
/// pipeline; a throttle pause is honoured unless `anyway`. The window also hears it as
/// `monitor://tiles-changed`.
#[tauri::command]
async fn check_now(
    monitor: tauri::State<'_, App>,
    account: String,
    service: Option<Service>,
    anyway: Option<bool>,
) -> Result<AccountTiles, IpcError> {
    let scope = service.map_or(Scope::All, Scope::One);
    let pauses = if anyway == Some(true) {
        Pauses::Ignore
    } else {
        Pauses::Respect
    };
    Ok(monitor.check(&account, scope, pauses).await?.tiles)
}

/// One stored series as an SVG chart sized to the view.
#[tauri::command]
async fn chart(
    monitor: tauri::State<'_, App>,
    request: ChartRequest,
) -> Result<ChartView, IpcError> {
    tokio::task::block_in_place(|| monitor.chart(&request))
}

/// Asks where to save the chart (the system's save dialog), then writes it as PNG, SVG or
/// its points as CSV;
/// `None` when the operator cancels.
#[tauri::command]
async fn export_chart(
    app: tauri::AppHandle,
    monitor: tauri::State<'_, App>,
    request: ChartRequest,
    format: ExportFormat,
) -> Result<Option<String>, IpcError> {
    let ext = format.extension();
    let suggested = format!(
        "{}-{}-{}.{ext}",
        request.account,
        request.metric,
        request.window.as_str()
    );
    let Some(path) = save_dialog(&app, ext, suggested) else {
        return Ok(None);
    };
    tokio::task::block_in_place(|| monitor.export_chart(&request, format, &path))?;
    Ok(Some(path.display().to_string()))
}

/// A service's recent failures (code, subcode, fbtrace_id) and its 24 h error rate.
#[tauri::command]
async fn service_history(
    monitor: tauri::State<'_, App>,
    account: String,
    service: Service,
) -> Result<ServiceHistory, IpcError> {
    tokio::task::block_in_place(|| monitor.service_history(&account, service))
}

/// The account's notification history, newest first.
#[tauri::command]
async fn alerts(
    monitor: tauri::State<'_, App>,
    account: String,
) -> Result<Vec<Notification>, IpcError> {
    tokio::task::block_in_place(|| monitor.alerts(&account))
}

/// Incidents of one account or all, newest first.
#[tauri::command]
async fn incidents(
    monitor: tauri::State<'_, App>,
    query: IncidentQuery,
) -> Result<Vec<Incident>, IpcError> {
    tokio::task::block_in_place(|| monitor.incidents(&query))
}

/// What each tile's history says: sparkline, trend, error split, endpoint health.
#[tauri::command]
async fn tile_stories(
    monitor: tauri::State<'_, App>,
    account: String,
) -> Result<Vec<TileStory>, IpcError> {
    tokio::task::block_in_place(|| monitor.tile_stories(&account))
}

/// The account's diagnostics: rule-based findings with evidence, fix and Meta's docs.
#[tauri::command]
async fn diagnose(
    monitor: tauri::State<'_, App>,
    account: String,
) -> Result<meta_monitor_core::app::diagnose::Diagnosis, IpcError> {
    tokio::task::block_in_place(|| monitor.diagnose(&account))
}

/// Each service's uptime, incidents, MTTR and 90-day strip.
#[tauri::command]
async fn uptime(
    monitor: tauri::State<'_, App>,
    account: String,
) -> Result<Vec<ServiceUptime>, IpcError> {
    tokio::task::block_in_place(|| monitor.uptime(&account))
}

/// Asks where to save, then writes the incidents matching `query` as CSV; `None` when the
/// operator cancels.
#[tauri::command]
async fn export_incidents(
    app: tauri::AppHandle,
    monitor: tauri::State<'_, App>,
    query: IncidentQuery,
) -> Result<Option<String>, IpcError> {
    let name = format!(
        "incidents-{}.csv",
        query.account.as_deref().unwrap_or("all")
    );
    let Some(path) = save_dialog(&app, "csv", name) else {
        return Ok(None);
    };
    tokio::task::block_in_place(|| monitor.export_incidents(&query, &path))?;
    Ok(Some(path.display().to_string()))
}

/// The system's save dialog for one file type; `None` when cancelled.
fn save_dialog(app: &tauri::AppHandle, ext: &str, name: String) -> Option<std::path::PathBuf> {
    use tauri_plugin_dialog::DialogExt;
    let picked = tokio::task::block_in_place(|| {
        app.dialog()
            .file()
            .add_filter(ext.to_uppercase(), &[ext])
            .set_file_name(name)
            .blocking_save_file()
    });
    picked.and_then(|p| p.into_path().ok())
}

/// The alerts firing now (one account or all), with who acknowledged them.
#[tauri::command]
async fn firing_alerts(
    monitor: tauri::State<'_, App>,
    account: Option<String>,
) -> Result<Vec<FiringAlert>, IpcError> {
    tokio::task::block_in_place(|| monitor.firing_alerts(account.as_deref()))
}

/// Acknowledges a firing alert as this OS user: no reminders until it resolves.
#[tauri::command]
async fn acknowledge(
    monitor: tauri::State<'_, App>,
    account: String,
    key: String,
) -> Result<(), IpcError> {
    tokio::task::block_in_place(|| monitor.acknowledge(&account, &key, &operator()))
}

/// Every silence and maintenance window not yet over.
#[tauri::command]
async fn holds(monitor: tauri::State<'_, App>) -> Result<Vec<StoredHold>, IpcError> {
    tokio::task::block_in_place(|| monitor.holds())
}

/// Adds a silence or maintenance window as this OS user.
#[tauri::command]
async fn add_hold(monitor: tauri::State<'_, App>, hold: NewHold) -> Result<StoredHold, IpcError> {
    tokio::task::block_in_place(|| monitor.add_hold(hold, &operator()))
}

/// Removes a silence or maintenance window (ends it now).
#[tauri::command]
async fn remove_hold(monitor: tauri::State<'_, App>, id: i64) -> Result<(), IpcError> {
    tokio::task::block_in_place(|| monitor.remove_hold(id))
}

/// The configured accounts, which secrets are stored (never their values), the keychain state.
#[tauri::command]
async fn settings(
    monitor: tauri::State<'_, App>,
    logs: tauri::State<'_, LogFolder>,
) -> Result<SettingsView, IpcError> {
    let mut view = tokio::task::block_in_place(|| monitor.settings())?;
    view.log_folder = logs.0.as_ref().map(|f| f.display().to_string());
    Ok(view)
}

/// Adds or updates an account, then watches it.
#[tauri::command]
async fn save_account(
    monitor: tauri::State<'_, App>,
    account: Account,
    is_new: bool,
) -> Result<Option<String>, IpcError> {
    let note = tokio::task::block_in_place(|| monitor.save_account(account, is_new))?;
    monitor.reload().await?;
    Ok(note)
}

/// Removes an account with its history and keychain entries.
#[tauri::command]
async fn remove_account(monitor: tauri::State<'_, App>, name: String) -> Result<(), IpcError> {
    tokio::task::block_in_place(|| monitor.remove_account(&name))?;
    monitor.reload().await
}

/// Stores a secret in the OS keychain; only its account is watched anew.
#[tauri::command]
async fn set_secret(
    monitor: tauri::State<'_, App>,
    account: String,
    name: SecretName,
    value: String,
) -> Result<(), IpcError> {
    tokio::task::block_in_place(|| monitor.set_secret(&account, name, &value))?;
    Ok(())
}

/// Deletes a secret from the OS keychain.
#[tauri::command]
async fn delete_secret(
    monitor: tauri::State<'_, App>,
    account: String,
    name: SecretName,
) -> Result<(), IpcError> {
    tokio::task::block_in_place(|| monitor.delete_secret(&account, name))?;
    Ok(())
}

/// Runs the token and graph_api probes of an account and explains the outcome.
#[tauri::command]
async fn test_connection(
    monitor: tauri::State<'_, App>,
    account: String,
) -> Result<ConnectionTest, IpcError> {
    monitor.test_connection(&account).await
}

/// Renews the account's access token now; the token tile after it.
#[tauri::command]
async fn renew_token(monitor: tauri::State<'_, App>, account: String) -> Result<Tile, IpcError> {
    monitor.renew_token(&account).await
}

/// Exchanges a pasted short-lived user token for a long-lived one, kept in the keychain.
#[tauri::command]
async fn exchange_token(
    monitor: tauri::State<'_, App>,
    account: String,
    token: String,
) -> Result<Tile, IpcError> {
    monitor.exchange_token(&account, &token).await
}

/// The installation's HTTPS proxy, shared with the command line (`None`: the environment's).
#[tauri::command]
fn proxy(monitor: tauri::State<'_, App>) -> Result<Option<String>, IpcError> {
    monitor.proxy()
}

/// Sets or (with nothing) clears the installation's HTTPS proxy; the monitor reloads with it.
#[tauri::command]
async fn set_proxy(monitor: tauri::State<'_, App>, url: Option<String>) -> Result<(), IpcError> {
    monitor.set_proxy(url.as_deref()).await
}

/// What a test event would send: each customer value normalized and hashed, the problems,
/// the payload.
#[tauri::command]
async fn preview_event(
    monitor: tauri::State<'_, App>,
    account: String,
    input: EventInput,
) -> Result<EventPreview, IpcError> {
    monitor.preview_event(&account, input)
}

/// Sends one Conversions API event (the test code unless `live`) and logs it.
#[tauri::command]
async fn send_test_event(
    monitor: tauri::State<'_, App>,
    account: String,
    input: EventInput,
    test_code: Option<String>,
    live: bool,
) -> Result<TestEventResult, IpcError> {
    monitor
        .send_test_event(&account, input, test_code, live)
        .await
}

/// The events the app sent: 24 h counts by name and outcome, and the newest.
#[tauri::command]
async fn sent_events(
    monitor: tauri::State<'_, App>,
    account: String,
) -> Result<SentEventsView, IpcError> {
    tokio::task::block_in_place(|| monitor.sent_events(&account))
}

/// The desktop preferences (close to tray, start at login).
#[tauri::command]
async fn catalog(monitor: tauri::State<'_, App>, account: String) -> Result<CatalogView, IpcError> {
    tokio::task::block_in_place(|| monitor.catalog_view(&account))
}

#[tauri::command]
async fn import_feed(
    monitor: tauri::State<'_, App>,
    account: String,
    file_name: String,
    text: String,
) -> Result<ImportResult, IpcError> {
    tokio::task::block_in_place(|| monitor.import_feed(&account, &file_name, text.as_bytes(), None))
}

#[tauri::command]
async fn feeds(
    monitor: tauri::State<'_, App>,
    account: String,
) -> Result<Vec<FeedSource>, IpcError> {
    tokio::task::block_in_place(|| monitor.feeds(&account))
}

#[tauri::command]
async fn add_feed(
    monitor: tauri::State<'_, App>,
    account: String,
    location: String,
    every_minutes: Option<u32>,
) -> Result<FeedSource, IpcError> {
    tokio::task::block_in_place(|| monitor.add_feed(&account, &location, None, every_minutes))
}

#[tauri::command]
async fn remove_feed(
    monitor: tauri::State<'_, App>,
    account: String,
    id: i64,
) -> Result<(), IpcError> {
    tokio::task::block_in_place(|| monitor.remove_feed(&account, id))
}

#[tauri::command]
async fn run_feed(
    monitor: tauri::State<'_, App>,
    account: String,
    id: i64,
) -> Result<FeedRun, IpcError> {
    monitor
        .run_feed(&account, id, "manual", |_: &SyncProgress| {})
        .await
}

#[tauri::command]
async fn confirm_feed_deletes(
    monitor: tauri::State<'_, App>,
    account: String,
    id: i64,
    expected: u32,
) -> Result<FeedRun, IpcError> {
    monitor
        .confirm_feed_deletes(&account, id, Some(expected), |_: &SyncProgress| {})
        .await
}

#[tauri::command]
async fn save_product(
    monitor: tauri::State<'_, App>,
    account: String,
    product: std::collections::BTreeMap<String, String>,
    previous_id: Option<String>,
) -> Result<Vec<FieldProblem>, IpcError> {
    tokio::task::block_in_place(|| monitor.save_product(&account, Product(product), previous_id))
}

#[tauri::command]
async fn sync_products(
    monitor: tauri::State<'_, App>,
    account: String,
    selection: SyncSelection,
    progress: tauri::ipc::Channel<SyncProgress>,
) -> Result<SyncSummary, IpcError> {
    monitor
        .sync_products(&account, selection, |p: &SyncProgress| {
            let _ = progress.send(p.clone());
        })
        .await
}

#[tauri::command]
fn cancel_sync(monitor: tauri::State<'_, App>, account: String) -> bool {
    monitor.cancel_sync(&account)
}

#[tauri::command]
fn preferences(prefs: tauri::State<'_, prefs::Prefs>) -> DesktopPrefs {
    prefs.get()
}

/// Saves the desktop preferences and applies start-at-login.
#[tauri::command]
fn set_preferences(
    app: tauri::AppHandle,
    prefs: tauri::State<'_, prefs::Prefs>,
    value: DesktopPrefs,
) -> Result<(), IpcError> {
    prefs.set(&app, value)
}

/// Why the app could not start (its database cannot be opened), for the window to explain.
pub struct StartupProblem(pub Option<IpcError>);

/// Why the app could not start, if it could not: the window shows it instead of the views.
#[tauri::command]
fn startup_problem(problem: tauri::State<'_, StartupProblem>) -> Option<IpcError> {
    problem.0.clone()
}

/// Quits the app (the explanation window's button).
#[tauri::command]
fn quit(app: tauri::AppHandle) {
    app.exit(0);
}

/// Where the log files are (None: logging could not start).
pub struct LogFolder(pub Option<std::path::PathBuf>);

/// The argument start-at-login launches the app with: straight into the tray, no window.
pub const HIDDEN_ARG: &str = "--hidden";

/// Starts the window; `--demo` watches the built-in simulator even when accounts exist;
/// `--hidden` starts in the tray. A second launch shows the running app's window and exits.
pub fn run() -> anyhow::Result<()> {
    #[cfg(target_os = "linux")]
    webkit::reexec_without_jit();
    let demo = std::env::args().any(|a| a == "--demo");
    let hidden = std::env::args().any(|a| a == HIDDEN_ARG);
    let app = tauri::Builder::default()
        // First, so that a second copy exits before it opens anything: two copies would poll
        // Meta twice and alert twice.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            tracing::info!("launched again: showing the running window");
            tray::open_window(app);
        }))
        // Visibility is ours (`--hidden`), not the last session's.
        .plugin(
            tauri_plugin_window_state::Builder::default()
                .with_state_flags(
                    tauri_plugin_window_state::StateFlags::all()
                        - tauri_plugin_window_state::StateFlags::VISIBLE,
                )
                .build(),
        )
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec![HIDDEN_ARG]),
        ))
        .setup(move |app| {
            let handle = app.handle().clone();
            // A login start goes straight to the tray. (Creating the window invisible and
            // showing it here would avoid its first frame, but WebKitWebDriver then loses the
            // page, and the tests drive the real window.)
            if hidden && let Some(window) = handle.get_webview_window("main") {
                let _ = window.hide();
            }
            let log_folder = match handle.path().app_log_dir() {
                Ok(folder) => logging::init(&folder),
                Err(e) => Err(e.to_string()),
            };
            match &log_folder {
                Ok(folder) => tracing::info!(folder = %folder.display(), "desktop app started"),
                Err(why) => eprintln!("meta-monitor-desktop: logging is off: {why}"),
            }
            app.manage(LogFolder(log_folder.ok()));
            #[cfg(target_os = "linux")]
            if let Some(window) = handle.get_webview_window("main") {
                webkit::prefer_software_rendering(&window);
            }
            tray::create(&handle)?;
            app.manage(prefs::Prefs::load(&handle));
            prefs::refresh_login_item(&handle);
            let events = Arc::new(events::TauriEvents {
                app: handle,
                tray: tray::TrayStatus::default(),
            });
            let db = store::default_path();
            let options = Options {
                forced_demo: demo,
                demo: Some(demo::starter()),
                ..Options::default()
            };
            let opened = tauri::async_runtime::block_on(App::open(&db, options, events));
            let monitor = match opened {
                Ok(monitor) => monitor,
                Err(e) => {
                    // The window explains it (path, what to do) instead of a crash; the file
                    // is left as it is.
                    tracing::error!(error = %e.message, "the app cannot start");
                    app.manage(StartupProblem(Some(e)));
                    return Ok(());
                }
            };
            app.manage(StartupProblem(None));
            monitor.start();
            app.manage(monitor);
            // Feed sources on their schedule, for as long as the app runs.
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                let monitor = handle.state::<App>();
                monitor.run_feeds(std::future::pending()).await;
            });
            // A catalog sync stopped by a quit or a crash carries on where its queue is.
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                let monitor = handle.state::<App>();
                for account in monitor.interrupted_syncs() {
                    let resumed = monitor
                        .sync_products(&account, SyncSelection::Queued, |_: &SyncProgress| {})
                        .await;
                    if let Err(e) = resumed {
                        tracing::error!(%account, error = %e.message,
                            "an interrupted catalog sync could not be resumed");
                    }
                }
            });
            Ok(())
        })
        .on_window_event(|window, event| {
            // Closing the window keeps monitoring in the tray, unless the setting says quit.
            if let tauri::WindowEvent::CloseRequested { api, .. } = event {
                let keep = window.try_state::<App>().is_some()
                    && window
                        .try_state::<prefs::Prefs>()
                        .is_some_and(|p| p.get().close_to_tray);
                if keep {
                    api.prevent_close();
                    let _ = window.hide();
                }
            }
        })
        .invoke_handler(tauri::generate_handler![
            startup_problem,
            quit,
            overview,
            check_now,
            chart,
            export_chart,
            service_history,
            alerts,
            incidents,
            uptime,
            diagnose,
            tile_stories,
            export_incidents,
            firing_alerts,
            acknowledge,
            holds,
            add_hold,
            remove_hold,
            settings,
            save_account,
            remove_account,
            set_secret,
            delete_secret,
            test_connection,
            renew_token,
            exchange_token,
            preview_event,
            send_test_event,
            sent_events,
            catalog,
            import_feed,
            feeds,
            add_feed,
            remove_feed,
            run_feed,
            confirm_feed_deletes,
            save_product,
            sync_products,
            cancel_sync,
            preferences,
            set_preferences,
            proxy,
            set_proxy
        ])
        .build(tauri::generate_context!())
        .context("building the Meta Monitor window")?;
    app.run(|handle, event| {
        if let (tauri::RunEvent::Exit, Some(monitor)) = (event, handle.try_state::<App>()) {
            monitor.shutdown();
        }
    });
    Ok(())
}
