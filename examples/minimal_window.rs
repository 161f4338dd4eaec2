//! The baseline for the desktop benchmarks: the smallest Tauri 2 app — one window with a
//! static page, no commands, plugins, tray or monitor — built with the same Tauri and
//! profile as `meta-monitor-desktop`, so launch time and memory compare like with like.
//!
//! Built and run by `cargo bench -p meta-monitor-e2e --bench desktop`.

fn main() -> std::process::ExitCode {
    let context = tauri::generate_context!("src-tauri/bench/minimal-window/tauri.conf.json");
    match tauri::Builder::default().run(context) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("minimal_window: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
