//! Months of monitoring in seconds: the runner's storage work replayed without the network.
//!
//! One real check against the simulator gives a report per service — the exact tiles and
//! metric points the probes produce. The real [`Plan`] (default intervals, jitter) then decides
//! when each probe of each account runs across the simulated days; every due probe stores its
//! report as the monitor does (`check::persist`, the rate-limit tile, the alert claim, the
//! roll-up job when due) into a real SQLite file. Latencies vary deterministically with a long
//! tail, and every `meta.api.latency_ms` sample is kept so percentiles from the rollups can be
//! compared with the exact ones.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use meta_graph_sim::SimConfig;
use meta_monitor_core::alert::{Policy, decide, rules};
use meta_monitor_core::check;
use meta_monitor_core::graph::{CallRecord, Credentials, GraphClient, Timeouts, http_client};
use meta_monitor_core::probe::{self, ProbeContext, ProbeReport, Thresholds, rate_limits};
use meta_monitor_core::schedule::{Plan, default_interval};
use meta_monitor_core::store::Store;
use meta_monitor_core::{Account, Secret, Service, Status};
use time::OffsetDateTime;

use crate::Sim;

/// The latency metric whose percentiles are compared.
pub const LATENCY: &str = "meta.api.latency_ms";

/// A simulator-shaped account named `name`.
pub fn account(name: &str, base_url: &str) -> Account {
    let mut a = Account::new(name);
    a.graph_url = base_url.to_owned();
    a.app_id = Some(meta_graph_sim::APP_ID.into());
    a.ad_account_id = Some(meta_graph_sim::AD_ACCOUNT.into());
    a.pixel_id = Some(meta_graph_sim::PIXEL_ID.into());
    a.catalog_id = Some(meta_graph_sim::CATALOG_ID.into());
    a.validate().expect("a valid account")
}

/// What one probe of each service reported, and the calls it made (with their usage
/// headers), from real runs against a healthy simulator.
pub type Templates = BTreeMap<Service, (ProbeReport, Vec<CallRecord>)>;

/// Runs each polled probe once against a healthy simulator, as the runner does.
pub fn templates() -> Templates {
    let sim = Sim::start(SimConfig::default());
    let http = http_client(Timeouts::default()).expect("client");
    let account = account("template", &sim.sim.base_url());
    let thresholds = Thresholds::default();
    let mut out = Templates::new();
    for service in Service::ALL
        .into_iter()
        .filter(|s| default_interval(*s).is_some())
    {
        let client = GraphClient::new(
            http.clone(),
            &account.graph_url,
            &account.api_version,
            Credentials {
                access_token: Secret::new(meta_graph_sim::DEMO_TOKEN),
                app_secret: Some(Secret::new(meta_graph_sim::APP_SECRET)),
                verify_token: None,
                capi_token: None,
            },
            account.app_id.clone(),
        )
        .expect("client");
        let ctx = ProbeContext {
            account: &account,
            client: &client,
            now: OffsetDateTime::now_utc(),
            thresholds: &thresholds,
            token_source: None,
        };
        let report = sim
            .block_on(probe::run(service, &ctx))
            .expect("a configured probe reports");
        assert_ne!(report.tile.status, Status::Down, "{service:?} is healthy");
        out.insert(service, (report, client.take_calls()));
    }
    out
}

/// A skewed, deterministic latency: mostly 80–200 ms, a tail to 2.5 s.
pub fn latency(i: u64) -> f64 {
    let x = (i.wrapping_mul(2_654_435_761) % 10_000) as f64 / 10_000.0;
    if x < 0.9 {
        80.0 + 120.0 * x
    } else {
        200.0 + 23_000.0 * (x - 0.9)
    }
}

/// What a replay did.
#[derive(Debug, Default)]
pub struct Replayed {
    /// Probe reports stored (the rate-limit tile included).
    pub reports: u64,
    /// Roll-up job runs and their wall times.
    pub job_times: Vec<Duration>,
    /// Every latency sample stored, per account id.
    pub latencies: BTreeMap<i64, Vec<f64>>,
}

/// Adds `count` accounts named `acct-N` to the store; returns their ids and names.
pub fn add_accounts(store: &Store, count: usize, at: OffsetDateTime) -> Vec<(i64, String)> {
    (0..count)
        .map(|n| {
            let name = format!("acct-{n:02}");
            let id = store
                .add_account(&account(&name, "http://127.0.0.1:9"), at)
                .expect("account added");
            (id, name)
        })
        .collect()
}

/// Replays the schedule of `accounts` from `start` for `span` into `store`.
pub fn replay(
    store: &mut Store,
    accounts: &[(i64, String)],
    templates: &Templates,
    start: OffsetDateTime,
    span: time::Duration,
) -> Replayed {
    let mut plan = Plan::default();
    for (_, name) in accounts {
        plan.add_account(name, start);
    }
    let ids: BTreeMap<&str, i64> = accounts.iter().map(|(id, n)| (n.as_str(), *id)).collect();
    let policy = Policy::default();
    let end = start + span;
    let mut out = Replayed::default();
    let mut sample = 0u64;
    let mut recent: BTreeMap<&str, Vec<(OffsetDateTime, &CallRecord)>> = BTreeMap::new();
    // The runner commits every step; the replay commits once per simulated hour — the same
    // rows, a thousand times fewer WAL writes, so a month replays in seconds.
    let commit_every = time::Duration::hours(1);
    let mut commit_at = start + commit_every;
    store.conn().execute_batch("BEGIN").expect("begin");
    let mut now = start;
    while now < end {
        if now >= commit_at {
            store.conn().execute_batch("COMMIT; BEGIN").expect("commit");
            commit_at = now + commit_every;
        }
        let mut steps: BTreeMap<&str, (Vec<ProbeReport>, Vec<CallRecord>)> = BTreeMap::new();
        for (name, service) in plan.due(now) {
            let Some(((key, id), (template, calls))) = ids
                .get_key_value(name.as_str())
                .zip(templates.get(&service))
            else {
                continue;
            };
            let mut report = template.clone();
            report.tile.last_check = now;
            if service == Service::GraphApi {
                let ms = latency(sample);
                sample += 1;
                report.tile.latency_ms = Some(ms as u64);
                for (metric, value) in &mut report.points {
                    if metric == LATENCY {
                        *value = ms;
                    }
                }
                out.latencies.entry(*id).or_default().push(ms);
            }
            plan.finished(&name, service, calls, now);
            let window = recent.entry(key).or_default();
            window.extend(calls.iter().map(|c| (now, c)));
            window.retain(|(t, _)| now - *t <= time::Duration::minutes(15));
            let step = steps.entry(key).or_default();
            step.0.push(report);
            step.1.extend(calls.iter().cloned());
        }
        for (name, (mut reports, step_calls)) in steps {
            reports.push(rate_limits::for_step(
                recent[name].iter().map(|(_, c)| *c),
                &step_calls,
                now,
                Thresholds::default().usage_warning_pct,
            ));
            let id = ids[name];
            check::persist(store, id, &reports).expect("persist");
            // The monitor's alert step with no channel: claim the decision, nothing to send.
            let conditions = rules::conditions(&reports, None, now);
            store
                .claim_alerts(id, &[], now, |states, holds| {
                    decide(states, &conditions, now, &policy, holds)
                })
                .expect("alert");
            out.reports += reports.len() as u64;
            let began = Instant::now();
            if store.maintain_if_due(now).expect("roll-up job").is_some() {
                out.job_times.push(began.elapsed());
            }
        }
        now = plan
            .next_wake()
            .expect("something is scheduled")
            .max(now + time::Duration::seconds(1));
    }
    store.conn().execute_batch("COMMIT").expect("commit");
    out
}

/// Copies everything stored for account `from` to a new account `name` (the benchmark's
/// year for 50 accounts is one replayed year, copied: the accounts would be alike anyway).
pub fn clone_account(store: &Store, from: i64, name: &str) -> i64 {
    let conn = store.conn();
    conn.execute(
        "INSERT INTO accounts (name, graph_url, api_version, app_id, ad_account_id, pixel_id,
           catalog_id, business_id, test_event_code, created_at, webhook_endpoints)
         SELECT ?2, graph_url, api_version, app_id, ad_account_id, pixel_id, catalog_id,
           business_id, test_event_code, created_at, webhook_endpoints FROM accounts WHERE id = ?1",
        rusqlite::params![from, name],
    )
    .expect("account copied");
    let to = conn.last_insert_rowid();
    let copy = format!(
        "INSERT INTO series (account_id, name) SELECT {to}, name FROM series WHERE account_id = {from};
         INSERT INTO points SELECT n.id, p.at_ms, p.value FROM points p
           JOIN series s ON s.id = p.series_id AND s.account_id = {from}
           JOIN series n ON n.account_id = {to} AND n.name = s.name;
         INSERT INTO series_rollups SELECT n.id, r.tier, r.bucket_ms, r.count, r.sum, r.min, r.max,
           r.sketch FROM series_rollups r
           JOIN series s ON s.id = r.series_id AND s.account_id = {from}
           JOIN series n ON n.account_id = {to} AND n.name = s.name;
         INSERT INTO probe_runs (account_id, probe, at_ms, status, outcome, latency_ms, http_status,
           graph_code, graph_subcode, fbtrace_id, message)
           SELECT {to}, probe, at_ms, status, outcome, latency_ms, http_status, graph_code,
           graph_subcode, fbtrace_id, message FROM probe_runs WHERE account_id = {from};
         INSERT INTO tiles SELECT {to}, service, status, latency_ms, last_check_ms, last_success_ms,
           message, detail, error FROM tiles WHERE account_id = {from};
         INSERT INTO status_transitions SELECT {to}, service, at_ms, from_status, to_status, message
           FROM status_transitions WHERE account_id = {from};
         INSERT INTO rollup_watermarks SELECT {to}, tier, up_to_ms FROM rollup_watermarks
           WHERE account_id = {from};
         INSERT INTO alert_states SELECT {to}, key, state FROM alert_states WHERE account_id = {from};"
    );
    conn.execute_batch(&copy).expect("history copied");
    to
}

/// The database's size on disk, WAL included, after a checkpoint.
pub fn database_bytes(store: &Store, path: &Path) -> u64 {
    store
        .conn()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .expect("checkpoint");
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    size(path) + size(Path::new(&wal))
}
