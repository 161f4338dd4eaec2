//! The types that cross IPC, generated into `ui/src/lib/bindings/` (see `bindings_are_current`).

use meta_monitor_core::check::AccountTiles;
use meta_monitor_core::store::probe_runs::FailedRun;
use meta_monitor_core::store::rollups::ChartPoint;
use meta_monitor_core::{Account, Tile};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The one error shape that crosses IPC: the UI branches on `code`, never on `message`.
#[derive(Debug, Serialize, TS)]
pub struct IpcError {
    pub code: ErrorCode,
    pub message: String,
}

/// The error codes the UI branches on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
pub enum ErrorCode {
    /// The local database could not be read or written.
    Store,
    /// No account of that name.
    NoSuchAccount,
    /// The OS keychain is missing, locked or refused.
    KeychainUnavailable,
    /// A form value was refused; the message names the field and the reason.
    Validation,
    /// Something the app itself failed at (a task died).
    Internal,
}

impl IpcError {
    pub fn new(code: ErrorCode, message: impl std::fmt::Display) -> Self {
        Self {
            code,
            message: message.to_string(),
        }
    }

    pub fn store(e: impl std::fmt::Display) -> Self {
        Self::new(ErrorCode::Store, e)
    }
}

/// What the overview shows: every watched account's tiles, and whether this is the demo.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Overview {
    /// True when the app watches the built-in simulator (no account configured, or `--demo`).
    pub demo: bool,
    pub accounts: Vec<AccountTiles>,
}

/// How far back a chart looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, TS)]
pub enum Window {
    #[serde(rename = "24h")]
    Day,
    #[serde(rename = "7d")]
    Week,
    #[serde(rename = "30d")]
    Month,
    #[serde(rename = "1y")]
    Year,
}

impl Window {
    /// As the window names it (`24h`, `7d`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "24h",
            Self::Week => "7d",
            Self::Month => "30d",
            Self::Year => "1y",
        }
    }

    pub fn duration(self) -> time::Duration {
        time::Duration::days(match self {
            Self::Day => 1,
            Self::Week => 7,
            Self::Month => 30,
            Self::Year => 365,
        })
    }
}

/// A chart the window asks for, sized to its view.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct ChartRequest {
    pub account: String,
    /// A stored series, e.g. `meta.api.latency_ms`.
    pub metric: String,
    pub window: Window,
    /// p50/p95/p99 lines (latencies) instead of the mean.
    pub percentiles: bool,
    pub unit: String,
    pub width: u32,
    pub height: u32,
    pub dark: bool,
}

/// One customer value as it would be sent: normalized and hashed, or why it cannot be.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PreviewField {
    pub key: String,
    pub normalized: Option<String>,
    pub sent: Option<String>,
    pub problem: Option<String>,
}

/// The live preview of a test event.
#[derive(Debug, Clone, Serialize, TS)]
pub struct EventPreview {
    /// The id the event will be sent with.
    pub event_id: String,
    pub fields: Vec<PreviewField>,
    /// Why Meta would refuse it; empty when it can be sent.
    pub problems: Vec<meta_monitor_core::capi::event::EventProblem>,
    /// The request body's `data`, pretty-printed, when it can be sent.
    pub payload: Option<String>,
}

/// What sending a test event did.
#[derive(Debug, Clone, Serialize, TS)]
pub struct TestEventResult {
    pub event_id: String,
    pub test_event_code: Option<String>,
    /// Meta's answer when it accepted the request.
    pub received: Option<meta_monitor_core::capi::send::Received>,
    /// Meta's refusal (or the failure) in words.
    pub error: Option<String>,
    /// The exact request sent (hashed values only).
    pub payload: String,
}

/// The Pixel view's event log.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SentEventsView {
    pub counts_24h: Vec<meta_monitor_core::store::sent_events::SentCount>,
    pub recent: Vec<meta_monitor_core::store::sent_events::SentEvent>,
}

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

/// The file format of an exported chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Png,
    Svg,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Svg => "svg",
        }
    }
}

/// A rendered chart: the SVG and the numbers behind it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ChartView {
    pub svg: String,
    /// How many points the chart holds (never more than 500).
    pub points: u32,
    /// The whole window in one bucket (count, mean, min, max, percentiles).
    pub summary: Option<ChartPoint>,
}

/// A service's recent failures and its error rate over 24 h.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ServiceHistory {
    pub failures: Vec<FailedRun>,
    pub runs_24h: u32,
    pub failed_24h: u32,
}

/// The secrets an account can have in the keychain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum SecretName {
    AccessToken,
    AppSecret,
    TeamWebhook,
    VerifyToken,
}

/// Whether a secret is stored; its value never crosses IPC towards the window.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SecretState {
    pub name: SecretName,
    /// `null` when the keychain could not be asked.
    pub stored: Option<bool>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct StoredAccountView {
    pub account: Account,
    pub secrets: Vec<SecretState>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct KeychainStatus {
    pub available: bool,
    /// What is wrong and how to fix it, in words.
    pub problem: Option<String>,
}

/// The Settings view's data.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SettingsView {
    pub demo: bool,
    pub accounts: Vec<StoredAccountView>,
    pub keychain: KeychainStatus,
    /// A new account with Meta's and Meta Monitor's defaults (intervals, thresholds), so the
    /// form never repeats them.
    pub new_account: Account,
    /// The folder of the app's log files (`None`: logging could not start).
    pub log_folder: Option<String>,
}

/// "Test connection": the token and graph_api tiles and what they mean.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ConnectionTest {
    pub ok: bool,
    pub tiles: Vec<Tile>,
    pub explanation: String,
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

/// The Catalog view: the products with their Meta state and counts per sync status.
#[derive(Debug, Serialize, TS)]
pub struct CatalogView {
    pub catalog_id: Option<String>,
    pub counts: meta_monitor_core::store::products::StatusCounts,
    pub products: Vec<meta_monitor_core::store::products::StoredProduct>,
    /// A sync of this account is running (started from this window or another).
    pub syncing: bool,
}

/// What an import kept and refused.
#[derive(Debug, Serialize, TS)]
pub struct ImportResult {
    pub counts: meta_monitor_core::store::products::ImportCounts,
    pub rejected: Vec<meta_monitor_core::catalog::import::RejectedRow>,
}

/// Which products a sync sends.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SyncSelection {
    /// These retailer ids (create or update).
    Ids { ids: Vec<String> },
    /// Every product that differs from what Meta last accepted.
    Changed,
    /// Delete these retailer ids from the catalog.
    Delete { ids: Vec<String> },
    /// Nothing new: finish what is queued (a sync interrupted by a quit or a crash).
    Queued,
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
        SyncSelection::export_all(&cfg).expect("SyncSelection");
        meta_monitor_core::catalog::sync::SyncProgress::export_all(&cfg).expect("SyncProgress");
        meta_monitor_core::catalog::sync::SyncSummary::export_all(&cfg).expect("SyncSummary");
        meta_monitor_core::catalog::product::FieldProblem::export_all(&cfg).expect("FieldProblem");
        meta_monitor_core::store::alerts::Notification::export_all(&cfg).expect("Notification");
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
