//! Desktop preferences (close to tray, start at login) in `prefs.json` in the app's config
//! folder — nothing secret, so a plain file. Start-at-login goes through the autostart plugin.

use std::path::PathBuf;
use std::sync::Mutex;

use tauri::{AppHandle, Manager};
use tauri_plugin_autostart::ManagerExt;

use crate::ipc::{DesktopPrefs, ErrorCode, IpcError};

pub struct Prefs {
    path: Option<PathBuf>,
    value: Mutex<DesktopPrefs>,
}

impl Prefs {
    /// Reads the file; a missing or unreadable one gives the defaults.
    pub fn load(app: &AppHandle) -> Self {
        let path = app
            .path()
            .app_config_dir()
            .ok()
            .map(|d| d.join("prefs.json"));
        let value = path
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default();
        Self {
            path,
            value: Mutex::new(value),
        }
    }

    pub fn get(&self) -> DesktopPrefs {
        *self
            .value
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Applies start-at-login, then saves the file.
    pub fn set(&self, app: &AppHandle, value: DesktopPrefs) -> Result<(), IpcError> {
        let fail = |e: &dyn std::fmt::Display| IpcError::new(ErrorCode::Internal, e);
        let launcher = app.autolaunch();
        let applied = if value.start_at_login {
            launcher.enable()
        } else {
            launcher.disable()
        };
        applied.map_err(|e| fail(&format!("cannot change start at login: {e}")))?;
        let path = self
            .path
            .as_ref()
            .ok_or_else(|| fail(&"no config folder for preferences"))?;
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).map_err(|e| fail(&e))?;
        }
        let text = serde_json::to_string_pretty(&value).map_err(|e| fail(&e))?;
        std::fs::write(path, text).map_err(|e| fail(&e))?;
        *self
            .value
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = value;
        Ok(())
    }
}

/// Rewrites an enabled login item, so one written by an older version (which opened the
/// window at login) starts in the tray too.
pub fn refresh_login_item(app: &AppHandle) {
    let launcher = app.autolaunch();
    if launcher.is_enabled().unwrap_or(false)
        && let Err(e) = launcher.enable()
    {
        tracing::warn!(error = %e, "the start-at-login entry could not be refreshed");
    }
}
