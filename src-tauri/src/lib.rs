//! The Tauri shell: state, commands that delegate to the core in a line or two, and nothing
//! else. This first window lists the stored tiles; the full UI arrives with the desktop issue.

use std::path::PathBuf;

use anyhow::Context;
use meta_monitor_core::check::AccountTiles;
use meta_monitor_core::store::{self, Store};
use serde::Serialize;

/// The one error shape that crosses IPC: the UI branches on `code`, never on `message`.
#[derive(Debug, Serialize)]
pub struct IpcError {
    code: &'static str,
    message: String,
}

impl IpcError {
    fn store(e: impl std::fmt::Display) -> Self {
        Self {
            code: "Store",
            message: e.to_string(),
        }
    }
}

struct AppState {
    db_path: PathBuf,
}

/// Reads every account's stored tiles, off the async workers (rusqlite blocks).
#[tauri::command]
async fn list_tiles(state: tauri::State<'_, AppState>) -> Result<Vec<AccountTiles>, IpcError> {
    let path = state.db_path.clone();
    tauri::async_runtime::spawn_blocking(move || load_tiles(&path))
        .await
        .map_err(IpcError::store)?
}

fn load_tiles(path: &std::path::Path) -> Result<Vec<AccountTiles>, IpcError> {
    let store = Store::open(path).map_err(IpcError::store)?;
    let accounts = store.accounts().map_err(IpcError::store)?;
    accounts
        .into_iter()
        .map(|a| {
            Ok(AccountTiles::new(
                &a.account.name,
                store.tiles(a.id).map_err(IpcError::store)?,
            ))
        })
        .collect()
}

pub fn run() -> anyhow::Result<()> {
    let db_path = store::default_path();
    tauri::Builder::default()
        .manage(AppState { db_path })
        .invoke_handler(tauri::generate_handler![list_tiles])
        .run(tauri::generate_context!())
        .context("running the Meta Monitor window")
}
