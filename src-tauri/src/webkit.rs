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

/// Starts this process again with JavaScriptCore's JIT off for WebKit's web process, which
/// inherits our environment; returns only when that is not wanted or not possible.
///
/// Why: with the JIT, the web process of a window that repaints a few tiles a minute grew about
/// 0.2 MB a minute for hours (WebKitGTK 2.50, measured side by side under Xvfb: 186.1 → 198.5 MB
/// over 65 minutes), while the same build with `JSC_useJIT=false` stayed at 178.0–178.5 MB —
/// flat, and 8 MB smaller. The window runs a few milliseconds of script a minute, which the
/// interpreter does as well; it costs the first paint about 0.2 s once (1031 ms against 822 ms
/// with the JIT, `scripts/bench-desktop.sh`). Setting the variable in-process would be `unsafe` (other threads
/// may read the environment), so the process replaces itself once, keeping its pid, arguments
/// and the rest of its environment. `META_MONITOR_JIT=1`, or any `JSC_useJIT` already set,
/// keeps things as they are.
#[cfg(target_os = "linux")]
pub fn reexec_without_jit() {
    use std::os::unix::process::CommandExt;
    if std::env::var_os("JSC_useJIT").is_some()
        || std::env::var_os("META_MONITOR_JIT").is_some_and(|v| v == "1")
    {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let error = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env("JSC_useJIT", "false")
        .exec();
    eprintln!("meta-monitor-desktop: keeping JavaScriptCore's JIT: {error}");
}
