//! The desktop's log: `tracing` lines (status changes, alerts sent and their outcome, pauses,
//! store problems) in a daily file in the OS log folder, the newest 7 kept; Settings shows
//! where. Level from `RUST_LOG`, else `info`. Nothing secret is logged: the core logs names,
//! statuses and Meta's messages, never credentials.

use std::path::{Path, PathBuf};

use tracing_appender::rolling::{Builder, Rotation};
use tracing_subscriber::EnvFilter;

/// The log file's name before its date suffix.
pub const FILE_PREFIX: &str = "meta-monitor";

/// Starts logging into `folder`; returns the folder, or why logging is off (the app runs on).
pub fn init(folder: &Path) -> Result<PathBuf, String> {
    std::fs::create_dir_all(folder).map_err(|e| format!("{}: {e}", folder.display()))?;
    let appender = Builder::new()
        .rotation(Rotation::DAILY)
        .filename_prefix(FILE_PREFIX)
        .filename_suffix("log")
        .max_log_files(7)
        .build(folder)
        .map_err(|e| format!("{}: {e}", folder.display()))?;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(appender)
        .try_init()
        .map_err(|e| e.to_string())?;
    Ok(folder.to_owned())
}
