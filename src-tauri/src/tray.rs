//! The tray icon: a dot whose colour follows the worst status of every watched account, with
//! "Open", "Check now" and "Quit". Closing the window keeps monitoring here.

use std::collections::BTreeMap;
use std::sync::Mutex;

use meta_monitor_core::Status;
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager};

use meta_monitor_core::app::App;

const TRAY_ID: &str = "status";
const SIZE: u32 = 32;

/// A filled circle in the status colour on a transparent square (RGBA).
pub fn status_icon(status: Status) -> Image<'static> {
    let (r, g, b) = match status {
        Status::Up => (26, 127, 55),
        Status::Degraded => (212, 160, 23),
        Status::Down => (207, 34, 46),
        Status::Unknown => (110, 119, 129),
    };
    let centre = (SIZE as f32 - 1.0) / 2.0;
    let radius = SIZE as f32 / 2.0 - 2.0;
    let mut rgba = Vec::with_capacity((SIZE * SIZE * 4) as usize);
    for y in 0..SIZE {
        for x in 0..SIZE {
            let d = ((x as f32 - centre).powi(2) + (y as f32 - centre).powi(2)).sqrt();
            // One pixel of anti-aliased edge.
            let alpha = ((radius + 0.5 - d).clamp(0.0, 1.0) * 255.0) as u8;
            rgba.extend_from_slice(&[r, g, b, alpha]);
        }
    }
    Image::new_owned(rgba, SIZE, SIZE)
}

/// The worst status per account, so the tray shows the worst of all of them.
#[derive(Default)]
pub struct TrayStatus(Mutex<BTreeMap<String, Status>>);

impl TrayStatus {
    /// Records an account's overall status; returns the new worst of all accounts.
    pub fn update(&self, account: &str, overall: Status) -> Status {
        let mut all = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        all.insert(account.to_owned(), overall);
        all.values().copied().fold(Status::Unknown, Status::worst)
    }

    pub fn clear(&self) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

/// Paints the tray in `status`'s colour, with the status in the tooltip (not colour alone).
pub fn show(app: &AppHandle, status: Status) {
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        let _ = tray.set_icon(Some(status_icon(status)));
        let _ = tray.set_tooltip(Some(format!("Meta Monitor — {status}")));
    }
}

/// Shows, restores and focuses the window (the tray's "Open", a second launch).
pub fn open_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.show();
        let _ = window.unminimize();
        let _ = window.set_focus();
    }
}

/// Creates the tray with its menu.
pub fn create(app: &AppHandle) -> tauri::Result<()> {
    let open = MenuItem::with_id(app, "open", "Open", true, None::<&str>)?;
    let check = MenuItem::with_id(app, "check", "Check now", true, None::<&str>)?;
    let mute = MenuItem::with_id(
        app,
        "mute",
        "Mute all alerts for 1 hour",
        true,
        None::<&str>,
    )?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&open, &check, &mute, &quit])?;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(status_icon(Status::Unknown))
        .tooltip("Meta Monitor — starting")
        .menu(&menu)
        .on_menu_event(|app, event| match event.id.as_ref() {
            "open" => open_window(app),
            "check" => {
                let app = app.clone();
                tauri::async_runtime::spawn(async move {
                    if let Some(monitor) = app.try_state::<App>() {
                        monitor.check_all().await;
                    }
                });
            }
            "mute" => {
                if let Some(monitor) = app.try_state::<App>() {
                    let by = meta_monitor_core::alert::operator();
                    let hour = time::Duration::HOUR;
                    match monitor.silence(None, None, hour, "muted from the tray", &by) {
                        Ok(_) => tracing::info!(%by, "all alerts muted for 1 hour"),
                        Err(e) => tracing::warn!(error = %e.message, "could not mute alerts"),
                    }
                }
            }
            "quit" => app.exit(0),
            _ => {}
        })
        .build(app)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_icon_is_a_dot_in_the_status_colour() {
        let icon = status_icon(Status::Down);
        assert_eq!((icon.width(), icon.height()), (SIZE, SIZE));
        let px = |x: u32, y: u32| {
            let i = ((y * SIZE + x) * 4) as usize;
            icon.rgba()[i..i + 4].to_vec()
        };
        assert_eq!(px(16, 16), vec![207, 34, 46, 255], "red in the middle");
        assert_eq!(px(0, 0)[3], 0, "transparent corners");
        assert_ne!(
            status_icon(Status::Up).rgba(),
            icon.rgba(),
            "colours differ"
        );
    }

    #[test]
    fn the_tray_follows_the_worst_account() {
        let tray = TrayStatus::default();
        assert_eq!(tray.update("a", Status::Up), Status::Up);
        assert_eq!(tray.update("b", Status::Degraded), Status::Degraded);
        assert_eq!(tray.update("a", Status::Down), Status::Down);
        assert_eq!(
            tray.update("a", Status::Up),
            Status::Degraded,
            "b is still degraded"
        );
        tray.clear();
        assert_eq!(tray.update("c", Status::Unknown), Status::Unknown);
    }
}
