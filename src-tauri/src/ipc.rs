//! The types that cross IPC, generated into `ui/src/lib/bindings/` (see `bindings_are_current`):
//! the application API's own types from the core, and the two only the desktop has (its
//! window events and preferences).

pub use meta_monitor_core::app::types::*;
pub use meta_monitor_core::app::{AppError as IpcError, ErrorCode};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What the window hears from the monitor: which account changed, never the data itself —
/// the window pulls that with a command. Tauri delivers an event to WebKitGTK by evaluating a
/// script that carries its payload, and WebKit keeps memory in proportion to the script bytes
/// it was handed, so full tiles pushed every minute would grow the web process for as long as
/// the app runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WindowEvent {
    TilesChanged {
        account: String,
    },
    AlertSent {
        account: String,
    },
    Reloaded,
    /// The monitor cannot store its results and retries (`None`: it can again). Small, and
    /// rare: a banner's text.
    Problem {
        message: Option<String>,
    },
}

impl From<&meta_monitor_core::events::MonitorEvent> for WindowEvent {
    fn from(event: &meta_monitor_core::events::MonitorEvent) -> Self {
        use meta_monitor_core::events::MonitorEvent;
        match event {
            MonitorEvent::TilesChanged(tiles) => Self::TilesChanged {
                account: tiles.account.clone(),
            },
            MonitorEvent::AlertSent { account, .. } => Self::AlertSent {
                account: account.clone(),
            },
            MonitorEvent::Reloaded => Self::Reloaded,
            MonitorEvent::Problem { message } => Self::Problem {
                message: message.clone(),
            },
        }
    }
}

/// How the desktop app behaves, kept in the app's config folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, TS)]
#[serde(default)]
pub struct DesktopPrefs {
    /// Closing the window keeps monitoring in the tray (else it quits).
    pub close_to_tray: bool,
    /// Start Meta Monitor when the user logs in.
    pub start_at_login: bool,
}

impl Default for DesktopPrefs {
    fn default() -> Self {
        Self {
            close_to_tray: true,
            start_at_login: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use ts_rs::{Config, TS};

    use super::*;

    /// Every file under `dir` as (relative path, text), sorted.
    fn files(dir: &Path) -> Vec<(PathBuf, String)> {
        let mut out = Vec::new();
        let mut pending = vec![dir.to_path_buf()];
        while let Some(folder) = pending.pop() {
            for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    pending.push(path);
                } else if let Ok(relative) = path.strip_prefix(dir) {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    out.push((relative.to_path_buf(), text));
                }
            }
        }
        out.sort();
        out
    }

    /// The checked-in TypeScript types match the Rust ones; `UPDATE_BINDINGS=1` rewrites them.
    #[test]
    fn bindings_are_current() {
        let fresh = tempfile::tempdir().expect("temp dir");
        let cfg = Config::new()
            .with_out_dir(fresh.path())
            .with_large_int("number");
        Overview::export_all(&cfg).expect("Overview");
        IpcError::export_all(&cfg).expect("IpcError");
        ChartRequest::export_all(&cfg).expect("ChartRequest");
        ChartView::export_all(&cfg).expect("ChartView");
        ExportFormat::export_all(&cfg).expect("ExportFormat");
        WindowEvent::export_all(&cfg).expect("WindowEvent");
        EventPreview::export_all(&cfg).expect("EventPreview");
        TestEventResult::export_all(&cfg).expect("TestEventResult");
        SentEventsView::export_all(&cfg).expect("SentEventsView");
        meta_monitor_core::capi::event::EventInput::export_all(&cfg).expect("EventInput");
        ServiceHistory::export_all(&cfg).expect("ServiceHistory");
        SettingsView::export_all(&cfg).expect("SettingsView");
        ConnectionTest::export_all(&cfg).expect("ConnectionTest");
        SecretName::export_all(&cfg).expect("SecretName");
        DesktopPrefs::export_all(&cfg).expect("DesktopPrefs");
        CatalogView::export_all(&cfg).expect("CatalogView");
        ImportResult::export_all(&cfg).expect("ImportResult");
        meta_monitor_core::store::feeds::FeedSource::export_all(&cfg).expect("FeedSource");
        SyncSelection::export_all(&cfg).expect("SyncSelection");
        meta_monitor_core::catalog::sync::SyncProgress::export_all(&cfg).expect("SyncProgress");
        meta_monitor_core::catalog::sync::SyncSummary::export_all(&cfg).expect("SyncSummary");
        meta_monitor_core::catalog::product::FieldProblem::export_all(&cfg).expect("FieldProblem");
        meta_monitor_core::store::alerts::Notification::export_all(&cfg).expect("Notification");
        meta_monitor_core::incident::Incident::export_all(&cfg).expect("Incident");
        meta_monitor_core::incident::ServiceUptime::export_all(&cfg).expect("ServiceUptime");
        meta_monitor_core::app::diagnose::Diagnosis::export_all(&cfg).expect("Diagnosis");
        meta_monitor_core::app::incidents::IncidentQuery::export_all(&cfg).expect("IncidentQuery");
        meta_monitor_core::app::holds::FiringAlert::export_all(&cfg).expect("FiringAlert");
        meta_monitor_core::app::holds::NewHold::export_all(&cfg).expect("NewHold");
        meta_monitor_core::app::story::TileStory::export_all(&cfg).expect("TileStory");
        let checked_in = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("ui/src/lib/bindings");
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            for (name, text) in files(fresh.path()) {
                let target = checked_in.join(name);
                if let Some(folder) = target.parent() {
                    std::fs::create_dir_all(folder).expect("bindings folder");
                }
                std::fs::write(target, text).expect("write binding");
            }
        }
        assert_eq!(
            files(&checked_in),
            files(fresh.path()),
            "ui/src/lib/bindings is stale: run UPDATE_BINDINGS=1 cargo test -p meta-monitor-desktop bindings"
        );
    }
}
