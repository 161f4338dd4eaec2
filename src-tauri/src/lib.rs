//! The Tauri shell: the in-process monitor, commands that delegate to it in a line or two,
//! and the core's events forwarded to the window.

mod events;
pub mod ipc;
mod monitor;

use std::sync::Arc;

use anyhow::Context;
use meta_monitor_core::check::AccountTiles;
use meta_monitor_core::store::alerts::Notification;
use meta_monitor_core::{Service, store};
use tauri::Manager;

use crate::ipc::{ChartRequest, ChartView, IpcError, Overview, ServiceHistory};
use crate::monitor::Monitor;

/// Every watched account's tiles, and whether this is the demo.
#[tauri::command]
async fn overview(monitor: tauri::State<'_, Monitor>) -> Result<Overview, IpcError> {
    tokio::task::block_in_place(|| monitor.overview())
}

/// Runs every probe of `account` now; the window also hears it as `monitor://tiles-changed`.
#[tauri::command]
async fn check_now(
    monitor: tauri::State<'_, Monitor>,
    account: String,
) -> Result<AccountTiles, IpcError> {
    monitor.check_now(&account).await
}

/// One stored series as an SVG chart sized to the view.
#[tauri::command]
async fn chart(
    monitor: tauri::State<'_, Monitor>,
    request: ChartRequest,
) -> Result<ChartView, IpcError> {
    tokio::task::block_in_place(|| monitor.chart(&request))
}

/// A service's recent failures (code, subcode, fbtrace_id) and its 24 h error rate.
#[tauri::command]
async fn service_history(
    monitor: tauri::State<'_, Monitor>,
    account: String,
    service: Service,
) -> Result<ServiceHistory, IpcError> {
    tokio::task::block_in_place(|| monitor.service_history(&account, service))
}

/// The account's notification history, newest first.
#[tauri::command]
async fn alerts(
    monitor: tauri::State<'_, Monitor>,
    account: String,
) -> Result<Vec<Notification>, IpcError> {
    tokio::task::block_in_place(|| monitor.alerts(&account))
}

/// Starts the window; `--demo` watches the built-in simulator even when accounts exist.
pub fn run() -> anyhow::Result<()> {
    let demo = std::env::args().any(|a| a == "--demo");
    let app = tauri::Builder::default()
        .setup(move |app| {
            let events = Arc::new(events::TauriEvents(app.handle().clone()));
            let monitor = Monitor::open(&store::default_path(), demo, events)?;
            monitor.start()?;
            app.manage(monitor);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            overview,
            check_now,
            chart,
            service_history,
            alerts
        ])
        .build(tauri::generate_context!())
        .context("building the Meta Monitor window")?;
    app.run(|handle, event| {
        if let (tauri::RunEvent::Exit, Some(monitor)) = (event, handle.try_state::<Monitor>()) {
            monitor.shutdown();
        }
    });
    Ok(())
}
