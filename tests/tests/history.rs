//! 30 simulated days for 20 accounts: the runner's storage work replayed at default intervals
//! into a real SQLite file (see `meta_monitor_e2e::history`). The database stays within the
//! stated bound, raw data is pruned to its 48 hours, and p95 over 30 days from the rollups
//! agrees with p95 over every raw sample within the sketch's relative accuracy.
//!
//! A month of writes is a million scheduler steps: minutes unoptimized, so the test runs in
//! optimized builds — `scripts/test.sh` runs it with `cargo test --release`.

use meta_monitor_core::sketch::RELATIVE_ACCURACY;
use meta_monitor_core::store::Store;
use meta_monitor_e2e::history::{self, LATENCY};
use time::OffsetDateTime;

const ACCOUNTS: usize = 20;
const DAYS: i64 = 30;
/// The stated bound: 20 accounts after 30 days at default intervals stay under 48 MiB
/// (2.4 MiB per account: 48 h of raw points and probe runs, 30 days of hourly rollups).
const BOUND_BYTES: u64 = 48 * 1024 * 1024;

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "a million steps: run optimized, as scripts/test.sh does (cargo test --release)"
)]
fn thirty_days_of_twenty_accounts_stay_small_and_keep_exact_enough_percentiles() {
    let templates = history::templates();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("monitor.db");
    let mut store = Store::open(&path).expect("store");
    let start = OffsetDateTime::from_unix_timestamp(1_790_000_000 / 86_400 * 86_400).expect("t0");
    let end = start + time::Duration::days(DAYS);
    let accounts = history::add_accounts(&store, ACCOUNTS, start);
    let began = std::time::Instant::now();
    let replayed = history::replay(
        &mut store,
        &accounts,
        &templates,
        start,
        time::Duration::days(DAYS),
    );
    let bytes = history::database_bytes(&store, &path);
    eprintln!(
        "{ACCOUNTS} accounts × {DAYS} days: {} reports, {} roll-up jobs, replayed in {:.1?}; \
         database {:.1} MiB (bound {} MiB)",
        replayed.reports,
        replayed.job_times.len(),
        began.elapsed(),
        bytes as f64 / 1_048_576.0,
        BOUND_BYTES / 1_048_576
    );
    assert!(
        replayed.reports > ACCOUNTS as u64 * DAYS as u64 * 1700,
        "every account ran at its default intervals: {} reports",
        replayed.reports
    );
    assert!(bytes <= BOUND_BYTES, "database {bytes} bytes");

    let oldest_raw: i64 = store
        .conn()
        .query_row("SELECT MIN(at_ms) FROM points", [], |r| r.get(0))
        .expect("oldest raw point");
    let kept = end.unix_timestamp() * 1000 - oldest_raw;
    assert!(
        kept <= (48 + 2) * 3_600_000,
        "raw points older than 48 h (+ the job's hour) are pruned: {kept} ms kept"
    );

    for (id, name) in [&accounts[0], &accounts[ACCOUNTS - 1]] {
        let mut all = replayed.latencies[id].clone();
        all.sort_by(f64::total_cmp);
        let whole = store
            .chart(*id, LATENCY, start, end, 1, end)
            .expect("chart");
        assert_eq!(whole.len(), 1, "one bucket asked, one given");
        assert_eq!(
            whole[0].count as usize,
            all.len(),
            "{name}: every sample counted once across raw, hourly and daily tiers"
        );
        let truth = all[(0.95 * (all.len() - 1) as f64) as usize];
        let p95 = whole[0].p95.expect("a latency has percentiles");
        assert!(
            (p95 - truth).abs() <= truth * RELATIVE_ACCURACY,
            "{name}: p95 over {DAYS} days {p95} vs exact {truth}"
        );
    }
}
