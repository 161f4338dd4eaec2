//! The core's events, forwarded to the window as Tauri events on their namespaced channels.

use meta_monitor_core::events::{EventSink, MonitorEvent};
use tauri::{AppHandle, Emitter};

pub struct TauriEvents(pub AppHandle);

impl EventSink for TauriEvents {
    fn emit(&self, event: MonitorEvent) {
        // A window that is gone or not yet loaded misses the event; the next one catches up.
        let _ = self.0.emit(event.channel(), &event);
    }
}
