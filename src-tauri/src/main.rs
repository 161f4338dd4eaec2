//! `meta-monitor-desktop`: the desktop app's entry point.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    match meta_monitor_desktop::run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("meta-monitor-desktop: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
