//! The core's events, forwarded to the window as small Tauri events on their namespaced
//! channels (which account changed), and to the tray, whose colour follows the worst status.

use meta_monitor_core::events::{EventSink, MonitorEvent};
use tauri::{AppHandle, Emitter};

use crate::ipc::WindowEvent;
use crate::tray::{self, TrayStatus};

pub struct TauriEvents {
    pub app: AppHandle,
    pub tray: TrayStatus,
}

impl EventSink for TauriEvents {
    fn emit(&self, event: MonitorEvent) {
        match &event {
            MonitorEvent::TilesChanged(tiles) => {
                tray::show(&self.app, self.tray.update(&tiles.account, tiles.overall));
            }
            MonitorEvent::Reloaded => self.tray.clear(),
            MonitorEvent::AlertSent { .. } | MonitorEvent::Problem { .. } => {}
        }
        // A window that is gone or not yet loaded misses the event; the next one catches up.
        // Only which account changed crosses (see `WindowEvent`); the window pulls the rest.
        let _ = self.app.emit(event.channel(), WindowEvent::from(&event));
    }
}
