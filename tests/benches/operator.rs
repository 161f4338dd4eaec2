//! The operator's views: the incidents of 50 accounts over a year of status history (p50/p95
//! of the query, against reading the same accounts' tiles), and the accounts grid of 200
//! accounts in the real window (launch to painted, and the app's memory with its WebKit
//! processes) against the single-account overview — all measured in the same run, the window
//! from a release build.
//!
//! `cargo bench -p meta-monitor-e2e --bench operator` (builds the release desktop first).

#![allow(
    clippy::expect_used,
    reason = "benchmark setup failures must stop the run"
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use meta_monitor_core::app::incidents::IncidentQuery;
use meta_monitor_core::app::{App, Options};
use meta_monitor_core::clock::ManualClock;
use meta_monitor_core::events::NoEvents;
use meta_monitor_core::store::Store;
use meta_monitor_core::{Account, Service, Status, Tile};
use meta_monitor_e2e::bench::{descendants, timings, tree_memory};
use meta_monitor_e2e::desktop::Desktop;
use time::OffsetDateTime;

const ACCOUNTS: usize = 50;
const RUNS: usize = 30;
const LAUNCHES: usize = 5;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    incidents_over_a_year();
    grid_of_200();
}

/// A year of checks for each service of `accounts` accounts: an outage (DOWN 10–120 min,
/// sometimes DEGRADED first) every 2–4 days, and a throttled (UNKNOWN) hour now and then —
/// deterministic, so every run measures the same history.
fn year(store: &mut Store, accounts: usize, now: OffsetDateTime) -> usize {
    let start = now - time::Duration::days(365);
    let mut changes = 0;
    store
        .atomically(|store| {
            for a in 0..accounts {
                let id = store.add_account(&Account::new(format!("acct-{a:02}")), start)?;
                for (s, service) in Service::ALL.into_iter().enumerate() {
                    let mut at = start;
                    let mut n = (a * 7 + s) as i64;
                    let mut check = |status, at, message: &str| {
                        changes += 1;
                        store.upsert_tile(id, &Tile::new(service, status, at, message))
                    };
                    check(Status::Up, at, "ok")?;
                    while at < now - time::Duration::days(1) {
                        n = (n * 1_103_515_245 + 12_345) % 2_147_483_648;
                        at += time::Duration::hours(48 + n % 48);
                        let down = time::Duration::minutes(10 + n % 110);
                        if n % 3 == 0 {
                            check(Status::Degraded, at, "slow answers")?;
                        }
                        check(Status::Down, at + time::Duration::minutes(5), "unreachable")?;
                        check(Status::Up, at + down, "ok")?;
                        if n % 5 == 0 {
                            check(
                                Status::Unknown,
                                at + down + time::Duration::hours(3),
                                "throttled",
                            )?;
                            check(Status::Up, at + down + time::Duration::hours(4), "ok")?;
                        }
                    }
                }
            }
            Ok(())
        })
        .expect("a year of history");
    changes
}

fn incidents_over_a_year() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("year.db");
    let now = OffsetDateTime::now_utc();
    let began = Instant::now();
    let changes = year(&mut Store::open(&db).expect("store"), ACCOUNTS, now);
    println!(
        "history: {ACCOUNTS} accounts × {} services, a year: {changes} checks that changed a status, written in {:.1} s",
        Service::ALL.len(),
        began.elapsed().as_secs_f64()
    );
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let options = Options {
        secrets: false,
        clock: Arc::new(ManualClock::new(now)),
        ..Options::default()
    };
    let app = runtime
        .block_on(App::open(&db, options, Arc::new(NoEvents)))
        .expect("app");
    let year = IncidentQuery {
        hours: Some(365 * 24),
        ..IncidentQuery::default()
    };
    let count = app.incidents(&year).expect("incidents").len();
    let (tiles50, tiles95) = timings(RUNS, || {
        std::hint::black_box(app.overview().expect("overview"));
    });
    let (all50, all95) = timings(RUNS, || {
        std::hint::black_box(app.incidents(&year).expect("incidents"));
    });
    let one = IncidentQuery {
        account: Some("acct-07".into()),
        ..year.clone()
    };
    let (one50, one95) = timings(RUNS, || {
        std::hint::black_box(app.incidents(&one).expect("incidents"));
    });
    let (up50, up95) = timings(RUNS, || {
        std::hint::black_box(app.uptime("acct-07").expect("uptime"));
    });
    println!(
        "incidents over a year, {ACCOUNTS} accounts ({count} incidents): p50 {all50:.1} ms, p95 {all95:.1} ms \
         ({:.1}x reading their tiles: p50 {tiles50:.2} ms, p95 {tiles95:.2} ms); one account p95 {one95:.1} ms \
         (p50 {one50:.1}); its uptime (4 windows, MTTR, 90-day strips) p95 {up95:.1} ms (p50 {up50:.1})",
        all95 / tiles95
    );
    drop(app);
}

fn release_desktop() -> PathBuf {
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
        ])
        .status()
        .expect("cargo build");
    assert!(status.success(), "building the release app failed");
    meta_monitor_e2e::target_dir().join("meta-monitor-desktop")
}

/// A database of `accounts` accounts with all seven tiles stored, stamped ahead so the app's
/// own first checks (no keychain here) leave them standing.
fn accounts_db(dir: &Path, accounts: usize) -> PathBuf {
    let db = dir.join(format!("grid-{accounts}.db"));
    let stamp = OffsetDateTime::now_utc() + time::Duration::hours(2);
    let mut store = Store::open(&db).expect("store");
    store
        .atomically(|store| {
            for a in 0..accounts {
                let id = store.add_account(&Account::new(format!("shop-{a:03}")), stamp)?;
                for (s, service) in Service::ALL.into_iter().enumerate() {
                    let status = match (a + s) % 11 {
                        0 => Status::Down,
                        1 | 2 => Status::Degraded,
                        _ => Status::Up,
                    };
                    store.upsert_tile(
                        id,
                        &Tile::new(service, status, stamp, format!("{service} {status}")),
                    )?;
                }
            }
            Ok(())
        })
        .expect("accounts");
    db
}

/// Launch to `css` present, and the app's memory (its process and WebKit's) once painted.
fn launch(app: &Path, db: &Path, home: &Path, css: &str) -> (Duration, f64) {
    let env = [
        ("META_MONITOR_DB".to_owned(), db.display().to_string()),
        ("XDG_DATA_HOME".to_owned(), home.display().to_string()),
        ("XDG_CONFIG_HOME".to_owned(), home.display().to_string()),
    ];
    let desktop = Desktop::launch_binary(app, &[], &env).expect("desktop tools installed");
    let deadline = Instant::now() + Duration::from_secs(60);
    while desktop.find(css).is_none() {
        assert!(Instant::now() < deadline, "{css} never appeared");
        std::thread::sleep(Duration::from_millis(10));
    }
    let painted = desktop.started.elapsed();
    // Settled: the first checks done, garbage collected or not — the same wait for both.
    std::thread::sleep(Duration::from_secs(5));
    let is_app = |p: &u32| {
        std::fs::read_to_string(format!("/proc/{p}/comm"))
            .is_ok_and(|c| c.starts_with("meta-monitor-de"))
    };
    let app_pid = descendants(desktop.driver_pid())
        .into_iter()
        .find(is_app)
        .expect("the app runs");
    let pss = tree_memory(app_pid).pss as f64 / 1_048_576.0;
    (painted, pss)
}

fn median<T: PartialOrd + Copy>(mut v: Vec<T>) -> T {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v[v.len() / 2]
}

fn grid_of_200() {
    let app = release_desktop();
    let dir = tempfile::tempdir().expect("temp dir");
    let single = accounts_db(dir.path(), 1);
    let many = accounts_db(dir.path(), 200);
    let (mut one, mut grid) = (Vec::new(), Vec::new());
    for i in 0..LAUNCHES {
        let home = dir.path().join(format!("home-{i}"));
        one.push(launch(
            &app,
            &single,
            &home.join("one"),
            r#"article[data-service="catalog"]"#,
        ));
        grid.push(launch(
            &app,
            &many,
            &home.join("grid"),
            r#"section[aria-label="All accounts"] tbody tr:nth-child(200)"#,
        ));
    }
    let paint = |v: &[(Duration, f64)]| median(v.iter().map(|r| r.0.as_secs_f64() * 1e3).collect());
    let memory = |v: &[(Duration, f64)]| median(v.iter().map(|r| r.1).collect());
    let (p1, p200, m1, m200) = (paint(&one), paint(&grid), memory(&one), memory(&grid));
    println!(
        "window (release, median of {LAUNCHES}): 200-account grid painted {p200:.0} ms vs the \
         single-account overview {p1:.0} ms ({:.2}x); memory (PSS, app + WebKit) {m200:.1} MiB vs \
         {m1:.1} MiB ({:.2}x)",
        p200 / p1,
        m200 / m1
    );
}
