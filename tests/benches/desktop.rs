//! The desktop app against the smallest Tauri window (`examples/minimal_window.rs`), both
//! release builds made in the same run: binary size, launch to first painted tiles (through
//! the real WebKit window and WebDriver, which both sides pay), and the resident memory of the
//! app and its WebKit processes over a long demo run, sampled every minute: a page's memory
//! saws up and down with garbage collection, so growth is judged by the least-squares trend
//! of the second half against the scatter around it, not by two samples.
//!
//! `scripts/bench-desktop.sh [MINUTES]` builds the UI first, then runs this with
//! `BENCH_MINUTES` (default 10; 120 for the two-hour figure).

#![allow(
    clippy::expect_used,
    reason = "a benchmark whose setup fails must stop loudly"
)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use meta_monitor_e2e::bench::{TreeMemory, tree_memory};
use meta_monitor_e2e::desktop::Desktop;
use meta_monitor_e2e::start_xvfb;

const LAUNCHES: usize = 5;

fn build() -> (PathBuf, PathBuf) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--locked",
            "-p",
            "meta-monitor-desktop",
            "--bin",
            "meta-monitor-desktop",
            "--example",
            "minimal_window",
        ])
        .status()
        .expect("cargo build");
    assert!(status.success(), "building the release binaries failed");
    let release = meta_monitor_e2e::target_dir();
    (
        release.join("meta-monitor-desktop"),
        release.join("examples").join("minimal_window"),
    )
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Launch to `css` present, polled every 10 ms.
fn launch_time(app: &Path, args: &[&str], env: &[(String, String)], css: &str) -> Duration {
    let desktop = Desktop::launch_binary(app, args, env).expect("desktop tools installed");
    let deadline = Instant::now() + Duration::from_secs(60);
    while desktop.find(css).is_none() {
        assert!(Instant::now() < deadline, "{css} never appeared");
        std::thread::sleep(Duration::from_millis(10));
    }
    desktop.started.elapsed()
}

/// Least-squares slope of `(minute, MiB)` samples in MiB per hour, and the standard deviation
/// of the residuals around that line: a garbage-collected page's memory saws up and down by a
/// few MiB, so growth counts only when the hour's trend exceeds that noise. (Ten lines of
/// arithmetic; no statistics crate needed.) `None` below three samples.
fn trend(samples: &[(f64, f64)]) -> Option<(f64, f64)> {
    let n = samples.len() as f64;
    if n < 3.0 {
        return None;
    }
    let (mx, my) = samples
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
    let sxx: f64 = samples.iter().map(|(x, _)| (x - mx).powi(2)).sum();
    let sxy: f64 = samples.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    let var = samples
        .iter()
        .map(|(x, y)| (y - my - slope * (x - mx)).powi(2))
        .sum::<f64>()
        / (n - 2.0);
    Some((slope * 60.0, var.sqrt()))
}

struct Running {
    child: Child,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(app: &Path, args: &[&str], display: &str, home: &Path) -> Running {
    let child = Command::new("dbus-run-session")
        .arg("--")
        .arg(app)
        .args(args)
        .env("DISPLAY", display)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("META_MONITOR_DB", home.join("unused.db"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("dbus-run-session starts the app");
    Running { child }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let minutes: u64 = std::env::var("BENCH_MINUTES")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(10);
    let (app, minimal) = build();
    let size = |p: &Path| std::fs::metadata(p).expect("binary").len();
    let (app_size, minimal_size) = (size(&app), size(&minimal));
    println!(
        "release binary: meta-monitor-desktop {:.1} MiB, minimal window {:.1} MiB ({:.2}x)",
        mib(app_size),
        mib(minimal_size),
        app_size as f64 / minimal_size as f64
    );

    let home = tempfile::tempdir().expect("tempdir");
    let env = [
        (
            "XDG_DATA_HOME".to_owned(),
            home.path().display().to_string(),
        ),
        (
            "META_MONITOR_DB".to_owned(),
            home.path().join("unused.db").display().to_string(),
        ),
    ];
    // The overview paints at once (stored tiles, or "waiting for the first check"); the demo's
    // first tiles then wait for its first checks, through the simulator's 60–240 ms network.
    // The app runs its web process without JavaScriptCore's JIT (`webkit::reexec_without_jit`);
    // `META_MONITOR_JIT=1` measures what the interpreter costs the first paint.
    let mut jit_env = env.to_vec();
    jit_env.push(("META_MONITOR_JIT".to_owned(), "1".to_owned()));
    let (mut painted, mut tiles, mut baseline) = (Vec::new(), Vec::new(), Vec::new());
    let mut painted_jit = Vec::new();
    for _ in 0..LAUNCHES {
        baseline.push(launch_time(&minimal, &[], &env, "#ready"));
        painted.push(launch_time(&app, &["--demo"], &env, ".overview .banner"));
        painted_jit.push(launch_time(
            &app,
            &["--demo"],
            &jit_env,
            ".overview .banner",
        ));
        tiles.push(launch_time(
            &app,
            &["--demo"],
            &env,
            "article[data-service] [data-status]",
        ));
    }
    let (b, p, t) = (median(baseline), median(painted), median(tiles));
    let pj = median(painted_jit);
    println!(
        "launch (median of {LAUNCHES}): minimal window painted {:.0} ms; overview painted {:.0} ms \
         ({:.2}x; with the JIT {:.0} ms, {:.2}x); first tiles (after the demo's first checks) \
         {:.0} ms ({:.2}x)",
        b.as_secs_f64() * 1e3,
        p.as_secs_f64() * 1e3,
        p.as_secs_f64() / b.as_secs_f64(),
        pj.as_secs_f64() * 1e3,
        pj.as_secs_f64() / b.as_secs_f64(),
        t.as_secs_f64() * 1e3,
        t.as_secs_f64() / b.as_secs_f64(),
    );

    let (_xvfb, display) = start_xvfb("1280x800x24");
    let mut xvfb = _xvfb;
    let app_home = tempfile::tempdir().expect("tempdir");
    let minimal_home = tempfile::tempdir().expect("tempdir");
    let app_run = spawn(&app, &["--demo"], &display, app_home.path());
    let minimal_run = spawn(&minimal, &[], &display, minimal_home.path());
    let started = Instant::now();
    println!(
        "minute  app_rss_mib  app_pss_mib  web_rss_mib  app_procs  minimal_rss_mib  minimal_pss_mib  pss_ratio"
    );
    let marks = [1, 2, 5, 10, 20, 30, 60, 90, 120, 180, 240];
    // Sampled every minute for the trend; a row is printed at the marks and at the end.
    let mut samples: Vec<(f64, TreeMemory, TreeMemory)> = Vec::new();
    for minute in 1..=minutes {
        let at = Duration::from_secs(minute * 60);
        if let Some(wait) = at.checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
        let (app, minimal) = (
            tree_memory(app_run.child.id()),
            tree_memory(minimal_run.child.id()),
        );
        if marks.contains(&minute) || minute == minutes {
            println!(
                "{minute:>6}  {:>11.1}  {:>11.1}  {:>11.1}  {:>9}  {:>15.1}  {:>15.1}  {:>9.2}",
                mib(app.rss),
                mib(app.pss),
                mib(app.web_rss),
                app.procs,
                mib(minimal.rss),
                mib(minimal.pss),
                app.pss as f64 / minimal.pss.max(1) as f64
            );
        }
        samples.push((started.elapsed().as_secs_f64() / 60.0, app, minimal));
    }
    if let (Some(first), Some(last)) = (samples.first(), samples.last()) {
        println!(
            "PSS growth from minute 1 to minute {minutes}: app {:+.1} MiB, minimal window {:+.1} MiB",
            mib(last.1.pss) - mib(first.1.pss),
            mib(last.2.pss) - mib(first.2.pss)
        );
    }
    // The trend over the second half of the run, after start-up has settled.
    let half: Vec<_> = samples.iter().skip(samples.len() / 2).collect();
    let series = |f: &dyn Fn(&(f64, TreeMemory, TreeMemory)) -> u64| {
        trend(&half.iter().map(|s| (s.0, mib(f(s)))).collect::<Vec<_>>())
    };
    if let (Some(from), Some(to), Some(app), Some(web), Some(minimal)) = (
        half.first(),
        half.last(),
        series(&|s| s.1.pss),
        series(&|s| s.1.web_rss),
        series(&|s| s.2.pss),
    ) {
        println!(
            "trend over minutes {:.0}-{:.0} (least squares, ±1 sd of the residuals): app PSS \
             {:+.1} MiB/h ±{:.1}; its web process RSS {:+.1} MiB/h ±{:.1}; minimal window PSS \
             {:+.1} MiB/h ±{:.1}",
            from.0, to.0, app.0, app.1, web.0, web.1, minimal.0, minimal.1
        );
    }
    drop(app_run);
    drop(minimal_run);
    let _ = xvfb.kill();
    let _ = xvfb.wait();
}
