//! `meta-monitor run`: the scheduler against the simulator at 300× speed. It stores results
//! continuously, paces itself in the `throttled` scenario (the ad account blocked, the app
//! bucket at 70 %) so the simulator never sees it push usage past 90 %, and a SIGTERM mid-run
//! loses nothing and leaves a sound database.

#![allow(
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test loudly"
)]

use std::process::Command;
use std::time::{Duration, Instant};

use meta_graph_sim::{AD_ACCOUNT, APP_ID, APP_SECRET, PIXEL_ID, Scenario, SimConfig};
use meta_monitor_e2e::{CliEnv, KeyringSession, Sim, describe, terminate};

#[test]
fn run_stores_continuously_paces_itself_and_stops_cleanly_on_sigterm() {
    let Some(keyring) = KeyringSession::start() else {
        return;
    };
    let sim = Sim::start(SimConfig::default());
    sim.sim.set_scenario(Scenario::Throttled);
    let cli = CliEnv::new(&keyring, "meta-monitor-e2e-run", "run.db");
    let db = cli.db.clone();
    let extra = [
        "--app-id",
        APP_ID,
        "--ad-account",
        AD_ACCOUNT,
        "--pixel",
        PIXEL_ID,
    ];
    let secrets = [
        ("access-token", "fake-run-token"),
        ("app-secret", APP_SECRET),
    ];
    cli.add_account("acme", &sim.sim.base_url(), &extra, &secrets);

    // 300×: /me every 0.2 s, ads every 3 s, token every 72 s.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    // A port alone serves this machine only; the token comes from the environment.
    let metrics_addr = format!("127.0.0.1:{port}");
    let port_arg = port.to_string();
    let args = [
        "--timeout",
        "2",
        "run",
        "acme",
        "--speed",
        "300",
        "--metrics",
        &port_arg,
    ];
    let mut cli = cli;
    cli.env.push((
        "META_MONITOR_METRICS_TOKEN".to_owned(),
        "fake-metrics-token-9a".to_owned(),
    ));
    let child = cli.spawn(&args);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let runs: i64 = rusqlite::Connection::open(&db)
            .and_then(|c| {
                c.query_row(
                    "SELECT COUNT(*) FROM probe_runs WHERE probe = 'graph_api'",
                    [],
                    |r| r.get(0),
                )
            })
            .unwrap_or(0);
        if runs >= 15 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the runner never stored 15 graph_api runs ({runs})"
        );
    }
    // Keep running well past the point where an unpaced monitor would have pushed the app
    // bucket (prefilled to 70 %) past 100 %: at 300× it makes ~5 calls a second.
    std::thread::sleep(Duration::from_secs(8));
    // Without the token: 401. With it: the Prometheus exposition, checked by promtool.
    let url = format!("http://{metrics_addr}/metrics");
    let http = reqwest::blocking::Client::new();
    let refused = http.get(&url).send().expect("GET /metrics");
    assert_eq!(refused.status().as_u16(), 401, "no token, no metrics");
    let wrong = http
        .get(&url)
        .bearer_auth("fake-metrics-token-00")
        .send()
        .expect("GET /metrics");
    assert_eq!(wrong.status().as_u16(), 401, "a wrong token, no metrics");
    let body = http
        .get(&url)
        .bearer_auth("fake-metrics-token-9a")
        .send()
        .and_then(|r| r.error_for_status())
        .and_then(|r| r.text())
        .expect("GET /metrics with the token");
    assert!(
        body.contains(
            r#"meta_monitor_service_status{account="acme",service="rate_limits",status="DOWN"} 1"#
        ),
        "the throttled account is exported: {body}"
    );
    assert!(
        body.contains("meta_monitor_rate_limit_usage_ratio{"),
        "usage ratios exported: {body}"
    );
    for counted in [
        "meta_monitor_graph_requests_total{",
        "meta_monitor_graph_request_duration_seconds_bucket{",
        "meta_monitor_probe_runs_total{",
        "meta_monitor_build_info{",
    ] {
        assert!(body.contains(counted), "{counted} is exported: {body}");
    }
    if meta_monitor_e2e::require(
        meta_monitor_e2e::have("promtool"),
        "promtool (Debian package prometheus) must be installed",
    ) {
        let file = keyring.dir.path().join("metrics.txt");
        std::fs::write(&file, &body).expect("write metrics");
        let check = Command::new("sh")
            .args([
                "-c",
                &format!("promtool check metrics < '{}'", file.display()),
            ])
            .output()
            .expect("promtool runs");
        assert!(
            check.status.success(),
            "promtool check metrics: {}",
            describe(&check)
        );
    }

    let out = terminate(child);
    assert!(
        out.status.success(),
        "SIGTERM is a clean stop: {}",
        describe(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("stopped after"),
        "{}",
        describe(&out)
    );

    let calls = sim.sim.requests().len();
    let max_pct = sim.sim.max_app_usage_pct();
    assert!(
        max_pct <= 92,
        "the monitor paused at 90 % (≤ 2 % more from calls already in flight): max {max_pct} % after {calls} calls"
    );
    assert!(calls >= 30, "it did make calls: {calls}");

    let conn = rusqlite::Connection::open(&db).expect("db");
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("pragma");
    assert_eq!(integrity, "ok");
    let (status, message): (String, String) = conn
        .query_row(
            "SELECT status, message FROM tiles WHERE service = 'rate_limits'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("rate limits tile");
    assert_eq!(status, "DOWN", "throttled: {message}");
    assert!(
        message.contains("paused") && message.contains("ads") && message.contains(" until "),
        "the tile says the monitor is waiting: {message}"
    );
    let ads: String = conn
        .query_row("SELECT status FROM tiles WHERE service = 'ads'", [], |r| {
            r.get(0)
        })
        .expect("ads tile");
    assert_eq!(ads, "UNKNOWN", "a throttled probe is UNKNOWN, not DOWN");
}
