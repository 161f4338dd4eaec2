//! The continuous-monitoring figures: a year of history for 50 accounts at default intervals
//! (database size against keeping raw points, chart query p95 for 24 h / 30 d / 1 y against a
//! one-row lookup, the hourly roll-up job against a run with nothing to do), and the
//! monitor's CPU per hour for 50 accounts against bare HTTP requests — every baseline measured
//! in the same run.
//!
//! `cargo bench -p meta-monitor-e2e --bench history` (about 3 minutes on 2 cores).
#![allow(
    clippy::expect_used,
    reason = "benchmark setup failures must stop the run"
)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use meta_graph_sim::SimConfig;
use meta_monitor_core::Secret;
use meta_monitor_core::clock::ScaledClock;
use meta_monitor_core::graph::{Credentials, Timeouts, http_client};
use meta_monitor_core::monitor::{Monitor, Secrets, Watched};
use meta_monitor_core::store::Store;
use meta_monitor_e2e::bench::{process_cpu_ms, replay_bare, threads_cpu_ms, timings};
use meta_monitor_e2e::history::{self, LATENCY};
use meta_monitor_e2e::{Sim, history::account};
use time::OffsetDateTime;

const ACCOUNTS: usize = 50;

fn main() {
    year_of_history();
    cpu_per_hour();
}

fn mib(bytes: f64) -> String {
    format!("{:.1} MiB", bytes / 1_048_576.0)
}

fn year_of_history() {
    let templates = history::templates();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("year.db");
    let mut store = Store::open(&path).expect("store");
    let now = OffsetDateTime::now_utc();
    let start = now - time::Duration::days(365);
    let first = history::add_accounts(&store, 1, start);
    let began = Instant::now();
    let replayed = history::replay(
        &mut store,
        &first,
        &templates,
        start,
        time::Duration::days(365),
    );
    println!(
        "A year of one account replayed at default intervals: {} reports in {:.1?}",
        replayed.reports,
        began.elapsed()
    );
    let end = start + time::Duration::days(365);
    let mut ids = vec![first[0].0];
    for n in 1..ACCOUNTS {
        ids.push(history::clone_account(
            &store,
            first[0].0,
            &format!("acct-{n:02}"),
        ));
    }
    let bytes = history::database_bytes(&store, &path) as f64;

    // Baseline: the same samples kept raw for a year, at this database's bytes per raw row.
    let (raw_rows, raw_pages): (f64, f64) = store
        .conn()
        .query_row(
            "SELECT (SELECT COUNT(*) FROM points), SUM(pgsize) FROM dbstat WHERE name = 'points'",
            [],
            |r| Ok((r.get::<_, i64>(0)? as f64, r.get::<_, i64>(1)? as f64)),
        )
        .expect("dbstat");
    let raw_per_year = raw_rows / 2.0 * 365.0; // 48 h of raw points held → per day × 365
    let raw_only = raw_per_year * raw_pages / raw_rows;
    println!("\nA year of history for {ACCOUNTS} accounts:");
    println!(
        "  database {} ({} per account); keeping every raw point instead: {} → {:.3}x of raw",
        mib(bytes),
        mib(bytes / ACCOUNTS as f64),
        mib(raw_only),
        bytes / raw_only
    );

    let id = ids[ACCOUNTS / 2];
    let (floor_p50, floor_p95) = timings(500, || {
        let latest: f64 = store
            .conn()
            .prepare_cached(
                "SELECT p.value FROM series s JOIN points p ON p.series_id = s.id
                 WHERE s.account_id = ?1 AND s.name = ?2 ORDER BY p.at_ms DESC LIMIT 1",
            )
            .expect("prepare")
            .query_row(rusqlite::params![id, LATENCY], |r| r.get(0))
            .expect("latest point");
        std::hint::black_box(latest);
    });
    println!("  baseline: latest point of a series, p50 {floor_p50:.3} ms, p95 {floor_p95:.3} ms");
    for (label, days) in [("24 h", 1), ("30 d", 30), ("1 y", 365)] {
        let from = end - time::Duration::days(days);
        let mut points = 0;
        let (p50, p95) = timings(200, || {
            points = store
                .chart(id, LATENCY, from, end, 500, end)
                .expect("chart")
                .len();
        });
        println!(
            "  chart {label:>4} ({points:>3} points, p50/p95/p99 each): p50 {p50:.2} ms, p95 {p95:.2} ms → {:.0}x baseline p95",
            p95 / floor_p95
        );
    }

    // The hourly job at steady state: one more day of every account, then a no-op rerun.
    let accounts: Vec<(i64, String)> = ids.iter().map(|id| (*id, format!("{id}"))).collect();
    let day = history::replay(
        &mut store,
        &accounts,
        &templates,
        end,
        time::Duration::days(1),
    );
    let mut jobs: Vec<f64> = day
        .job_times
        .iter()
        .map(|d| d.as_secs_f64() * 1000.0)
        .collect();
    jobs.sort_by(f64::total_cmp);
    let after = end + time::Duration::days(1);
    let (idle, _) = timings(20, || {
        store.roll_up_and_prune(after).expect("job");
    });
    println!(
        "  roll-up job, {ACCOUNTS} accounts ({} runs over a day): median {:.1} ms, max {:.1} ms; with nothing to roll up {idle:.1} ms → {:.1}x",
        jobs.len(),
        jobs[jobs.len() / 2],
        jobs[jobs.len() - 1],
        jobs[jobs.len() / 2] / idle
    );
}

/// The real runner for 50 accounts against the in-process simulator at 240× speed for two
/// simulated hours; the monitor's CPU is the process's minus the simulator threads'.
fn cpu_per_hour() {
    let speed = 240.0;
    let simulated = Duration::from_secs(2 * 3600);
    let unlimited = u32::MAX / 2;
    let sim = Sim::start(SimConfig {
        app_quota: unlimited,
        ads_management_quota: unlimited,
        ads_insights_quota: unlimited,
        ..SimConfig::default()
    });
    let base = sim.sim.base_url();
    let monitor = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("monitor")
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(Mutex::new(
        Store::open(&dir.path().join("cpu.db")).expect("store"),
    ));
    let credentials = || Credentials {
        access_token: Secret::new(meta_graph_sim::DEMO_TOKEN),
        app_secret: Some(Secret::new(meta_graph_sim::APP_SECRET)),
        verify_token: None,
        capi_token: None,
    };
    let watched: Vec<Watched> = (0..ACCOUNTS)
        .map(|n| {
            let account = account(&format!("acct-{n:02}"), &base);
            let id = store
                .lock()
                .expect("store")
                .add_account(&account, OffsetDateTime::now_utc())
                .expect("account");
            Watched::new(
                store.clone(),
                id,
                account,
                Secrets {
                    credentials: Ok(credentials()),
                    notifiers: std::sync::Arc::new(Vec::new()),
                },
                true,
            )
        })
        .collect();
    let runner = Monitor::new(
        Arc::new(ScaledClock::new(speed)),
        http_client(Timeouts::default()).expect("client"),
        Default::default(),
        Arc::new(meta_monitor_core::events::NoEvents),
    );
    sim.sim.clear_requests();
    let cpu = || process_cpu_ms().unwrap_or(f64::NAN) - threads_cpu_ms("sim", true);
    let before = cpu();
    let summary = monitor.block_on(async {
        let real_time = tokio::time::sleep(simulated.div_f64(speed));
        runner.run(&watched, real_time).await
    });
    let ours = cpu() - before;
    let requests = sim.sim.requests();

    let bare = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .expect("client");
    let app_token = format!("{}|{}", meta_graph_sim::APP_ID, meta_graph_sim::APP_SECRET);
    let before = cpu();
    monitor.block_on(futures::future::join_all(
        requests
            .chunks(requests.len().div_ceil(4).max(1))
            .map(|chunk| replay_bare(&bare, &base, chunk, &app_token)),
    ));
    let baseline = cpu() - before;
    let hours = simulated.as_secs_f64() / 3600.0;
    println!(
        "\nThe monitor for {ACCOUNTS} accounts at default intervals ({hours:.0} simulated hours at {speed:.0}x, start-up included):"
    );
    println!(
        "  {} probe runs, {} requests; monitor CPU {:.0} ms per hour ({:.3} ms per request)",
        summary.probe_runs,
        requests.len(),
        ours / hours,
        ours / requests.len().max(1) as f64
    );
    println!(
        "  bare reqwest, same requests: {:.0} ms per hour ({:.3} ms per request) → monitor {:.2}x baseline",
        baseline / hours,
        baseline / requests.len().max(1) as f64,
        ours / baseline
    );
}
