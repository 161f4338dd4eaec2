//! WebKitGTK's rendering mode. Accelerated compositing costs the web process about 95 MB more
//! (measured under Xvfb at start: 279 MB against 187 MB; `scripts/bench-desktop.sh`); the
//! overview is text, tiles and SVG charts, which software rendering draws just as well.
//! `META_MONITOR_GPU=1` keeps WebKit's default for those who want it.
use tauri::WebviewWindow;

/// Turns accelerated compositing off for `window` unless `META_MONITOR_GPU` asks to keep it.
pub fn prefer_software_rendering(window: &WebviewWindow) {
    if std::env::var_os("META_MONITOR_GPU").is_some_and(|v| v == "1") {
        return;
    }
    let applied = window.with_webview(|webview| {
        use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};
        if let Some(settings) = WebViewExt::settings(&webview.inner()) {
            settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
        }
    });
    if let Err(e) = applied {
        eprintln!("meta-monitor-desktop: keeping WebKit's rendering mode: {e}");
    }
}
