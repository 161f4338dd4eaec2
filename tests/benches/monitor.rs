//! Benchmarks: header parsing, one full check cycle against the in-process simulator, 100
//! accounts checked concurrently — probes only, and through the whole pipeline into SQLite —
//! against a bare-reqwest replay of the same requests (the baseline, measured in the same
//! run), and store ingestion of metric points.
//!
//! `cargo bench -p meta-monitor-e2e` — criterion prints wall times; the last group prints the
//! CPU time per probe from /proc/self/stat.
#![allow(
    clippy::expect_used,
    reason = "benchmark setup failures must stop the run"
)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use meta_graph_sim::{RecordedRequest, SimConfig};
use meta_monitor_core::alert::Policy;
use meta_monitor_core::check;
use meta_monitor_core::clock::SystemClock;
use meta_monitor_core::events::NoEvents;
use meta_monitor_core::graph::{Credentials, Timeouts, Usage, http_client};
use meta_monitor_core::monitor::{Monitor, Pauses, Secrets, Watched};
use meta_monitor_core::probe::Thresholds;
use meta_monitor_core::store::Store;
use meta_monitor_core::{Account, Secret};
use meta_monitor_e2e::Sim;
use meta_monitor_e2e::bench::{process_cpu_ms, replay_bare};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

fn reference_headers() -> HeaderMap {
    let pairs = [
        (
            "x-app-usage",
            r#"{"call_count":28,"total_time":25,"total_cputime":25}"#,
        ),
        (
            "x-business-use-case-usage",
            r#"{"66782684":[{"type":"ads_management","call_count":95,"total_cputime":20,"total_time":20,"estimated_time_to_regain_access":0,"ads_api_access_tier":"development_access"}],"10153848260347724":[{"type":"ads_insights","call_count":97,"total_cputime":23,"total_time":23,"estimated_time_to_regain_access":0,"ads_api_access_tier":"standard_access"}]}"#,
        ),
        (
            "x-ad-account-usage",
            r#"{"acc_id_util_pct":9.67,"reset_time_duration":100,"ads_api_access_tier":"standard_access"}"#,
        ),
        (
            "x-fb-ads-insights-throttle",
            r#"{"app_id_util_pct":100,"acc_id_util_pct":10,"ads_api_access_tier":"standard_access"}"#,
        ),
    ];
    let mut map = HeaderMap::new();
    for (k, v) in pairs {
        map.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
    }
    map
}

fn account(base_url: &str) -> Account {
    let mut a = Account::new("bench");
    a.graph_url = base_url.to_owned();
    a.app_id = Some(meta_graph_sim::APP_ID.into());
    a.ad_account_id = Some(meta_graph_sim::AD_ACCOUNT.into());
    a.pixel_id = Some(meta_graph_sim::PIXEL_ID.into());
    a.catalog_id = Some(meta_graph_sim::CATALOG_ID.into());
    a.validate().expect("valid")
}

fn credentials() -> Credentials {
    Credentials {
        access_token: Secret::new(meta_graph_sim::DEMO_TOKEN),
        app_secret: Some(Secret::new(meta_graph_sim::APP_SECRET)),
        verify_token: None,
        capi_token: None,
    }
}

/// A simulator whose quotas never throttle the benchmark, so every check makes every call.
fn sim() -> Sim {
    let unlimited = u32::MAX / 2;
    Sim::start(SimConfig {
        app_quota: unlimited,
        ads_management_quota: unlimited,
        ads_insights_quota: unlimited,
        ..SimConfig::default()
    })
}

fn bench(c: &mut Criterion) {
    let headers = reference_headers();
    c.bench_function("parse rate-limit headers (4 headers)", |b| {
        b.iter(|| Usage::from_headers(std::hint::black_box(&headers)))
    });

    let sim = sim();
    let base = sim.sim.base_url();
    let acct = account(&base);
    let http = http_client(Timeouts::default()).expect("client");
    let thresholds = Thresholds::default();
    let now = time::OffsetDateTime::now_utc();
    c.bench_function("one check cycle (7 probes) vs simulator", |b| {
        b.iter(|| {
            sim.block_on(check::run_probes(
                &acct,
                credentials(),
                &http,
                now,
                &thresholds,
            ))
        })
    });

    // Record one cycle's requests for the bare-reqwest baseline.
    sim.sim.clear_requests();
    sim.block_on(check::run_probes(
        &acct,
        credentials(),
        &http,
        now,
        &thresholds,
    ));
    let requests = sim.sim.requests();
    assert!(
        requests.len() >= 12,
        "a full check, nothing throttled: {} requests",
        requests.len()
    );
    let app_token = format!("{}|{}", meta_graph_sim::APP_ID, meta_graph_sim::APP_SECRET);
    let bare = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .expect("client");

    let mut group = c.benchmark_group("100 accounts concurrently");
    group.sample_size(10);
    group.throughput(Throughput::Elements(100));
    group.bench_with_input(
        BenchmarkId::new("meta-monitor check", 100),
        &100,
        |b, &n| {
            b.iter(|| {
                sim.block_on(futures::future::join_all((0..n).map(|_| {
                    check::run_probes(&acct, credentials(), &http, now, &thresholds)
                })))
            })
        },
    );
    let pipeline = Pipeline::new(&base, 100);
    group.bench_with_input(
        BenchmarkId::new(
            "meta-monitor whole pipeline (probe, SQLite, alert claim)",
            100,
        ),
        &100,
        |b, _| b.iter(|| pipeline.check(&sim)),
    );
    group.bench_with_input(
        BenchmarkId::new("bare reqwest replay (baseline)", 100),
        &100,
        |b, &n| {
            b.iter(|| {
                sim.block_on(futures::future::join_all(
                    (0..n).map(|_| replay_bare(&bare, &base, &requests, &app_token)),
                ))
            })
        },
    );
    group.finish();

    let mut group = c.benchmark_group("store ingestion");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("bench.db")).expect("store");
    let id = store.add_account(&acct, now).expect("account");
    let points: Vec<(String, f64)> = (0..1000)
        .map(|i| (format!("meta.bench.series_{}", i % 20), f64::from(i)))
        .collect();
    group.throughput(Throughput::Elements(points.len() as u64));
    group.bench_function("insert 1000 metric points (one transaction)", |b| {
        b.iter(|| store.insert_points(id, now, &points).expect("insert"))
    });
    group.finish();

    cpu_per_probe(
        &sim, &acct, &http, &bare, &base, &requests, &app_token, &pipeline,
    );
}

/// `n` accounts watched by the monitor and stored in a real SQLite file: a check through the
/// whole pipeline (probe → evaluate → persist → transitions → alert claim → publish).
struct Pipeline {
    monitor: Monitor,
    watched: Vec<Watched>,
    _dir: tempfile::TempDir,
}

impl Pipeline {
    fn new(base: &str, n: usize) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("pipeline.db")).expect("store");
        let now = time::OffsetDateTime::now_utc();
        let accounts: Vec<(i64, Account)> = (0..n)
            .map(|i| {
                let mut a = account(base);
                a.name = format!("bench-{i:03}");
                let a = a.validate().expect("valid");
                (store.add_account(&a, now).expect("account"), a)
            })
            .collect();
        let store = Arc::new(Mutex::new(store));
        let watched = accounts
            .into_iter()
            .map(|(id, a)| {
                let secrets = Secrets {
                    credentials: Ok(credentials()),
                    notifiers: std::sync::Arc::new(Vec::new()),
                };
                Watched::new(store.clone(), id, a, secrets, true)
            })
            .collect();
        let monitor = Monitor::new(
            Arc::new(SystemClock),
            http_client(Timeouts::default()).expect("client"),
            Policy::default(),
            Arc::new(NoEvents),
        );
        Self {
            monitor,
            watched,
            _dir: dir,
        }
    }

    fn check(&self, sim: &Sim) {
        let outcomes = sim
            .block_on(self.monitor.check_many(&self.watched, Pauses::Ignore))
            .expect("stored");
        std::hint::black_box(outcomes);
    }
}

#[allow(
    clippy::too_many_arguments,
    reason = "one-off report over the benchmark's fixtures"
)]
fn cpu_per_probe(
    sim: &Sim,
    acct: &Account,
    http: &reqwest::Client,
    bare: &reqwest::Client,
    base: &str,
    requests: &[RecordedRequest],
    app_token: &str,
    pipeline: &Pipeline,
) {
    let rounds = 5;
    let accounts = 100;
    let now = time::OffsetDateTime::now_utc();
    let thresholds = Thresholds::default();
    let measure = |f: &dyn Fn()| {
        let (cpu0, wall0) = (process_cpu_ms(), Instant::now());
        for _ in 0..rounds {
            f();
        }
        (
            process_cpu_ms().zip(cpu0).map(|(a, b)| a - b),
            wall0.elapsed(),
        )
    };
    let (ours_cpu, ours_wall) = measure(&|| {
        sim.block_on(futures::future::join_all((0..accounts).map(|_| {
            check::run_probes(acct, credentials(), http, now, &thresholds)
        })));
    });
    let (whole_cpu, whole_wall) = measure(&|| pipeline.check(sim));
    let (bare_cpu, bare_wall) = measure(&|| {
        sim.block_on(futures::future::join_all(
            (0..accounts).map(|_| replay_bare(bare, base, requests, app_token)),
        ));
    });
    let probes = f64::from(rounds * accounts * 7);
    let calls = (rounds * accounts) as f64 * requests.len() as f64;
    println!(
        "\nCPU report ({rounds} rounds x {accounts} accounts, {} requests per check; process CPU incl. the simulator)",
        requests.len()
    );
    if let (Some(w), Some(b)) = (whole_cpu, bare_cpu) {
        println!(
            "  whole pipeline: {:.3} ms CPU per check ({:.3} per probe), wall {:?}; vs baseline CPU {:.2}x, wall {:.2}x",
            w / (rounds * accounts) as f64,
            w / probes,
            whole_wall,
            w / b.max(1.0),
            whole_wall.as_secs_f64() / bare_wall.as_secs_f64()
        );
    }
    if let (Some(o), Some(b)) = (ours_cpu, bare_cpu) {
        println!(
            "  meta-monitor: {:.3} ms CPU per probe, {:.3} ms per request, wall {:?}",
            o / probes,
            o / calls,
            ours_wall
        );
        println!(
            "  bare reqwest: {:.3} ms CPU per request, wall {:?}",
            b / calls,
            bare_wall
        );
        println!(
            "  ratio (ours / baseline): CPU {:.2}x, wall {:.2}x",
            o / b.max(1.0),
            ours_wall.as_secs_f64() / bare_wall.as_secs_f64()
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
