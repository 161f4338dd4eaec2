//! Agency scale: one `meta-monitor run` (the release build the package ships) watching many
//! accounts — each with its own token in the real keychain, its own ad account, the pixel and
//! webhooks configured — against the simulator at the default intervals, with time sped up.
//! Measured from outside the process: CPU seconds per simulated hour, peak RSS, database growth
//! per simulated day, the `/metrics` scrape's size and time, and how far the checks fall
//! behind their intervals (what breaks first).
//!
//! `cargo bench -p meta-monitor-e2e --bench agency` — `AGENCY_ACCOUNTS` (1000),
//! `AGENCY_SPEED` (10: ten simulated minutes per minute) and `AGENCY_MINUTES` (6 real
//! minutes: one simulated hour at speed 10) change the run.
#![allow(
    clippy::expect_used,
    reason = "benchmark setup failures must stop the run"
)]

use std::process::Command;
use std::time::{Duration, Instant};

use meta_graph_sim::{APP_ID, APP_SECRET, PIXEL_ID, SimConfig};
use meta_monitor_e2e::{CliEnv, KeyringSession, Sim, target_dir, terminate};

fn setting(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// CPU seconds (user + system) and peak RSS (MiB) of `pid`, from /proc.
fn usage(pid: u32) -> (f64, f64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|i| fields.get(*i).and_then(|v| v.parse::<f64>().ok()))
        .sum();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let hwm_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0);
    (ticks / 100.0, hwm_kib / 1024.0)
}

fn db_bytes(db: &str) -> u64 {
    ["", "-wal"]
        .iter()
        .filter_map(|suffix| std::fs::metadata(format!("{db}{suffix}")).ok())
        .map(|m| m.len())
        .sum()
}

fn main() {
    let accounts = setting("AGENCY_ACCOUNTS", 1000.0) as usize;
    let speed = setting("AGENCY_SPEED", 10.0);
    let minutes = setting("AGENCY_MINUTES", 6.0);
    // The binary the package ships, built as the package builds it (a no-op after
    // scripts/package.sh).
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
        .args([
            "build",
            "--quiet",
            "--release",
            "--workspace",
            "--bins",
            "--features",
            "tauri/custom-protocol",
        ])
        .status()
        .expect("cargo build");
    assert!(status.success(), "the release build failed");
    let cli_path = target_dir().join("meta-monitor");
    assert!(cli_path.exists(), "{} was built", cli_path.display());

    let keyring = KeyringSession::start().expect("dbus-daemon and gnome-keyring");
    // One app for every account, as an agency has: its quota is sized for the traffic (Meta
    // scales an app's budget with its users); each ad account has its own.
    let sim = Sim::start(SimConfig {
        app_quota: 100_000_000,
        ..SimConfig::default()
    });
    let cli = CliEnv::new(&keyring, "meta-monitor-bench-agency", "agency.db");
    let setup = Instant::now();
    for i in 0..accounts {
        let name = format!("shop{i:04}");
        let act = format!("act_{}", 10_000_000_000u64 + i as u64);
        let token = format!("fake-agency-token-{i:04}-0123456789");
        cli.add_account(
            &name,
            &sim.sim.base_url(),
            &[
                "--app-id",
                APP_ID,
                "--ad-account",
                &act,
                "--pixel",
                PIXEL_ID,
            ],
            &[("access-token", &token), ("app-secret", APP_SECRET)],
        );
    }
    println!(
        "agency: {accounts} accounts configured in {:.0} s",
        setup.elapsed().as_secs_f64()
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let db_before = db_bytes(&cli.db);
    let mut args = vec!["--db".to_owned(), cli.db.clone()];
    args.extend(
        [
            "run",
            "--speed",
            &speed.to_string(),
            "--metrics",
            &port.to_string(),
        ]
        .map(str::to_owned),
    );
    // The log goes to a file: a pipe nobody reads until the end would fill up (7,000 "status
    // changed" lines in the first minute) and block the monitor on its next line.
    let log_path = keyring.dir.path().join("run.log");
    let log_file = std::fs::File::create(&log_path).expect("log file");
    let child = Command::new(&cli_path)
        .args(&args)
        .envs(cli.env.iter().cloned())
        .stdout(std::process::Stdio::null())
        .stderr(log_file)
        .spawn()
        .expect("meta-monitor run");
    let pid = child.id();
    let started = Instant::now();
    let run_for = Duration::from_secs_f64(minutes * 60.0);
    let mut peak_rss: f64 = 0.0;
    while started.elapsed() < run_for {
        std::thread::sleep(Duration::from_secs(5));
        let (cpu, rss) = usage(pid);
        peak_rss = peak_rss.max(rss);
        println!(
            "agency: {:>4.0} s real, {:>5.1} simulated min: CPU {cpu:.1} s, peak RSS {rss:.0} MiB, db {:.1} MiB",
            started.elapsed().as_secs_f64(),
            started.elapsed().as_secs_f64() * speed / 60.0,
            db_bytes(&cli.db) as f64 / 1_048_576.0
        );
    }
    let (cpu, rss) = usage(pid);
    peak_rss = peak_rss.max(rss);
    let real = started.elapsed().as_secs_f64();
    let simulated_hours = real * speed / 3600.0;

    // The scrape Prometheus would make, five times.
    let http = reqwest::blocking::Client::new();
    let mut times = Vec::new();
    let mut text = String::new();
    for _ in 0..5 {
        let t = Instant::now();
        text = http
            .get(format!("http://127.0.0.1:{port}/metrics"))
            .header("accept", "application/openmetrics-text; version=1.0.0")
            .send()
            .and_then(reqwest::blocking::Response::text)
            .expect("scrape");
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    // How far behind the checks are: graph_api is due every simulated minute.
    let simulated_now =
        time::OffsetDateTime::now_utc().unix_timestamp() as f64 + (speed - 1.0) * real;
    let mut lags: Vec<f64> = text
        .lines()
        .filter(|l| {
            l.starts_with("meta_monitor_last_check_timestamp_seconds{")
                && l.contains(r#"service="graph_api""#)
        })
        .filter_map(|l| l.rsplit_once(' ').and_then(|(_, v)| v.parse::<f64>().ok()))
        .map(|last| simulated_now - last)
        .collect();
    lags.sort_by(f64::total_cmp);
    let watched = lags.len();
    let p = |q: f64| {
        lags.get(((watched as f64 - 1.0) * q) as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    let out = terminate(child);
    let db_growth = db_bytes(&cli.db).saturating_sub(db_before) as f64;

    println!(
        "agency: {accounts} accounts, {simulated_hours:.2} simulated hours in {real:.0} s (speed {speed})"
    );
    println!(
        "agency: CPU {:.1} s per simulated hour ({:.0} % of one core at this speed); peak RSS {peak_rss:.0} MiB",
        cpu / simulated_hours,
        100.0 * cpu / real
    );
    println!(
        "agency: database +{:.1} MiB, {:.0} MiB per simulated day (before the hourly roll-ups prune raw points after 48 h)",
        db_growth / 1_048_576.0,
        db_growth / 1_048_576.0 / simulated_hours * 24.0
    );
    println!(
        "agency: /metrics {:.0} KiB, {} lines, scraped in {:.0} ms (median of 5, max {:.0} ms)",
        text.len() as f64 / 1024.0,
        text.lines().count(),
        times[2],
        times[4]
    );
    println!(
        "agency: graph_api checks of {watched} accounts are {:.0} s / {:.0} s / {:.0} s old (simulated; p50 / p95 / max; due every 60 s)",
        p(0.5),
        p(0.95),
        p(1.0)
    );
    assert!(out.status.success(), "a clean stop: {:?}", out.status);
    let stderr = std::fs::read_to_string(&log_path).unwrap_or_default();
    let warnings = stderr.lines().filter(|l| l.contains("WARN")).count();
    let errors = stderr.lines().filter(|l| l.contains("ERROR")).count();
    println!("agency: log: {warnings} warnings, {errors} errors");
    if let Some(first) = stderr
        .lines()
        .find(|l| l.contains("ERROR") || l.contains("WARN"))
    {
        println!("agency: first: {first}");
    }
}
