//! The headless kit of `deploy/`, for real: `meta-monitor run env` with its secrets as systemd
//! credentials, against the simulator's `token-expiring` scenario; a real Prometheus (Debian's
//! `prometheus`) scraping it with a bearer token and the shipped alerting rules; a real
//! Alertmanager (`prometheus-alertmanager`) with the shipped configuration, delivering to a
//! local webhook receiver. The token-expiry alert must arrive there, the monitor's own team
//! webhook must hear of the expiry too, and every query of the shipped Grafana dashboard must
//! return series. Everything listens on loopback.

#![allow(
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test loudly"
)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use meta_graph_sim::{AD_ACCOUNT, APP_ID, PIXEL_ID, Scenario, SimConfig};
use meta_monitor_e2e::{Sim, WebhookReceiver, describe, have, require, spawn_cli, terminate};
use serde_json::Value;

/// Kills the process on drop (a failed assertion must not leave Prometheus running).
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn deploy(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy")
        .join(file)
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write");
}

/// A started server whose log goes to `log` (shown when it never becomes ready).
fn start(program: &str, args: &[String], log: &Path) -> Killed {
    let file = std::fs::File::create(log).expect("log file");
    Killed(
        Command::new(program)
            .args(args)
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("{program} starts: {e}")),
    )
}

fn wait_ready(http: &reqwest::blocking::Client, url: &str, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !http.get(url).send().is_ok_and(|r| r.status().is_success()) {
        assert!(
            Instant::now() < deadline,
            "{url} never became ready:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The series a PromQL instant query returns.
fn query(http: &reqwest::blocking::Client, prometheus: &str, promql: &str) -> Vec<Value> {
    let answer: Value = http
        .get(format!("{prometheus}/api/v1/query"))
        .query(&[("query", promql)])
        .send()
        .and_then(reqwest::blocking::Response::json)
        .expect("query answers");
    assert_eq!(answer["status"], "success", "{promql}: {answer}");
    answer["data"]["result"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The dashboard's queries with its variables given values (all accounts).
fn dashboard_queries() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(deploy("grafana/meta-monitor.json")).expect("dashboard");
    let dashboard: Value = serde_json::from_str(&text).expect("dashboard is JSON");
    let panels = dashboard["panels"].as_array().expect("panels");
    assert!(panels.len() >= 6, "a dashboard worth the name");
    panels
        .iter()
        .flat_map(|p| {
            let title = p["title"].as_str().unwrap_or_default().to_owned();
            p["targets"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |t| {
                    let expr = t["expr"].as_str().expect("expr").replace("$account", ".+");
                    (title.clone(), expr)
                })
        })
        .collect()
}

#[test]
fn prometheus_and_alertmanager_deliver_the_token_expiry_with_the_shipped_kit() {
    let tools = have("prometheus") && have("prometheus-alertmanager") && have("promtool");
    if !require(
        tools,
        "prometheus, promtool and prometheus-alertmanager must be installed (Debian packages \
         prometheus and prometheus-alertmanager)",
    ) {
        return;
    }
    let sim = Sim::start(SimConfig {
        scenario: Scenario::TokenExpiring,
        ..SimConfig::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");

    // The secrets as systemd passes them: files in $CREDENTIALS_DIRECTORY, not variables.
    let credentials = dir.path().join("credentials");
    std::fs::create_dir(&credentials).expect("mkdir");
    let team = WebhookReceiver::start();
    let scrape_token = "fake-scrape-token-kit-7";
    write(
        &credentials.join("META_ACCESS_TOKEN"),
        "fake-kit-token-0123456789\n",
    );
    write(&credentials.join("META_TEAM_WEBHOOK_URL"), &team.url);
    write(
        &credentials.join("META_MONITOR_METRICS_TOKEN"),
        scrape_token,
    );
    let metrics_port = free_port();
    let env: Vec<(String, String)> = [
        ("CREDENTIALS_DIRECTORY", credentials.display().to_string()),
        ("META_APP_ID", APP_ID.to_owned()),
        ("META_AD_ACCOUNT_ID", AD_ACCOUNT.to_owned()),
        ("META_PIXEL_ID", PIXEL_ID.to_owned()),
        ("META_GRAPH_URL", sim.sim.base_url()),
        (
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}/no-bus", dir.path().display()),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let db = dir.path().join("server.db").display().to_string();
    let started = Instant::now();
    let monitor = spawn_cli(
        &env,
        &[
            "--db",
            &db,
            "run",
            "env",
            "--metrics",
            &metrics_port.to_string(),
            "--log-format",
            "json",
        ],
    );

    // Alertmanager with the shipped configuration: its receiver pointed at ours, and its
    // first notification after 1 s instead of 30 s.
    let receiver = WebhookReceiver::start();
    let shipped = std::fs::read_to_string(deploy("alertmanager/alertmanager.yml")).expect("am");
    assert!(shipped.contains("group_wait: 30s"), "the shipped wait");
    let am_config = shipped
        .replace("http://127.0.0.1:9095/meta-monitor/alerts", &receiver.url)
        .replace("group_wait: 30s", "group_wait: 1s");
    let am_file = dir.path().join("alertmanager.yml");
    write(&am_file, &am_config);
    let am_port = free_port();
    let am_log = dir.path().join("alertmanager.log");
    let _alertmanager = start(
        "prometheus-alertmanager",
        &[
            format!("--config.file={}", am_file.display()),
            format!("--storage.path={}", dir.path().join("am-data").display()),
            format!("--web.listen-address=127.0.0.1:{am_port}"),
            "--cluster.listen-address=".to_owned(),
        ],
        &am_log,
    );

    // Prometheus scraping every second, with the shipped rules.
    let token_file = dir.path().join("scrape-token");
    write(&token_file, scrape_token);
    let prom_config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
         rule_files:\n  - {rules}\n\
         alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:{am_port}']\n\
         scrape_configs:\n  - job_name: meta-monitor\n    authorization:\n      credentials_file: {token}\n    \
         static_configs:\n      - targets: ['127.0.0.1:{metrics_port}']\n",
        rules = deploy("prometheus/meta-monitor.rules.yml").display(),
        token = token_file.display(),
    );
    let prom_file = dir.path().join("prometheus.yml");
    write(&prom_file, &prom_config);
    let check = Command::new("promtool")
        .args(["check", "config"])
        .arg(&prom_file)
        .output()
        .expect("promtool");
    assert!(check.status.success(), "{}", describe(&check));
    let prom_port = free_port();
    let prom_log = dir.path().join("prometheus.log");
    let _prometheus = start(
        "prometheus",
        &[
            format!("--config.file={}", prom_file.display()),
            format!("--storage.tsdb.path={}", dir.path().join("tsdb").display()),
            format!("--web.listen-address=127.0.0.1:{prom_port}"),
        ],
        &prom_log,
    );
    let prometheus = format!("http://127.0.0.1:{prom_port}");
    wait_ready(&http, &format!("{prometheus}/-/ready"), &prom_log);
    wait_ready(
        &http,
        &format!("http://127.0.0.1:{am_port}/-/ready"),
        &am_log,
    );
    let ready = started.elapsed();

    // The first scrape that carries the token's expiry starts the alert's path.
    let deadline = Instant::now() + Duration::from_secs(60);
    while query(
        &http,
        &prometheus,
        "meta_monitor_token_expiry_timestamp_seconds",
    )
    .is_empty()
    {
        assert!(
            Instant::now() < deadline,
            "Prometheus never scraped the token's expiry; targets: {}",
            http.get(format!("{prometheus}/api/v1/targets"))
                .send()
                .and_then(reqwest::blocking::Response::text)
                .unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let scraped = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(60);
    let alert = loop {
        let found = receiver
            .bodies()
            .into_iter()
            .find(|b| b.contains("MetaTokenExpiresSoon"));
        if let Some(body) = found {
            break body;
        }
        assert!(
            Instant::now() < deadline,
            "no token alert reached the receiver; Alertmanager's log:\n{}",
            std::fs::read_to_string(&am_log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let path = scraped.elapsed();
    let alert: Value = serde_json::from_str(&alert).expect("Alertmanager's webhook JSON");
    let first = &alert["alerts"][0];
    assert_eq!(
        first["labels"]["alertname"], "MetaTokenExpiresSoon",
        "{alert}"
    );
    assert_eq!(first["labels"]["account"], "env", "{alert}");
    assert_eq!(first["status"], "firing", "{alert}");
    let summary = first["annotations"]["summary"].as_str().unwrap_or_default();
    assert!(
        summary.contains("expires in 2d") || summary.contains("expires in 3d"),
        "the summary says when: {summary}"
    );
    assert!(
        !receiver
            .bodies()
            .iter()
            .any(|b| b.contains("MetaTokenExpiresTomorrow")),
        "3 days away is not tomorrow"
    );
    eprintln!(
        "alert path: scraped → rule → Alertmanager → receiver in {} ms (servers ready after \
         {} ms, first scrape with the expiry after {} ms)",
        path.as_millis(),
        ready.as_millis(),
        (scraped - started).as_millis()
    );

    // The monitor's own team webhook (from the credential) heard of the expiry as well.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !team.bodies().iter().any(|b| b.contains("expires")) {
        assert!(
            Instant::now() < deadline,
            "the team webhook from $CREDENTIALS_DIRECTORY got nothing: {:?}",
            team.bodies()
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // Every panel of the dashboard has data (rates need two scrapes: retry for a while).
    let deadline = Instant::now() + Duration::from_secs(60);
    for (title, expr) in dashboard_queries() {
        loop {
            if !query(&http, &prometheus, &expr).is_empty() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the panel {title:?} has no data: {expr}"
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    let out = terminate(monitor);
    assert!(out.status.success(), "a clean stop: {}", describe(&out));
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        !log.contains("fake-kit-token-0123456789") && !log.contains(scrape_token),
        "no secret in the log: {log}"
    );
}

/// Runs a checker over a shipped file; its output explains a failure.
fn checked(program: &str, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        describe(&out)
    );
}

#[test]
fn the_shipped_rules_alertmanager_config_and_unit_pass_their_own_tools() {
    let tools = have("promtool") && have("amtool") && have("systemd-analyze");
    if !require(
        tools,
        "promtool, amtool (Debian packages prometheus, prometheus-alertmanager) and \
         systemd-analyze must be installed",
    ) {
        return;
    }
    let rules = deploy("prometheus/meta-monitor.rules.yml");
    checked(
        "promtool",
        &["check", "rules", &rules.display().to_string()],
    );
    // The rules' unit tests: each alert fires when it should and only then.
    checked(
        "promtool",
        &[
            "test",
            "rules",
            &deploy("prometheus/meta-monitor.rules.test.yml")
                .display()
                .to_string(),
        ],
    );
    checked(
        "amtool",
        &[
            "check-config",
            &deploy("alertmanager/alertmanager.yml")
                .display()
                .to_string(),
        ],
    );

    // The unit, with its ExecStart pointed at the binary just built (the package installs it
    // at /usr/bin; the package test verifies the installed unit as it is).
    let unit = std::fs::read_to_string(deploy("systemd/meta-monitor.service")).expect("unit");
    for hardening in [
        "DynamicUser=yes",
        "StateDirectory=meta-monitor",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "LoadCredential=META_ACCESS_TOKEN:",
    ] {
        assert!(unit.contains(hardening), "the unit has {hardening}");
    }
    assert!(
        !unit.contains("Environment=META_ACCESS_TOKEN"),
        "no secret in the unit's environment"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let copy = dir.path().join("meta-monitor.service");
    let cli = meta_monitor_e2e::cli_bin();
    write(
        &copy,
        &unit.replace("/usr/bin/meta-monitor", &cli.display().to_string()),
    );
    let verify = || {
        Command::new("systemd-analyze")
            .args(["verify", &copy.display().to_string()])
            .output()
            .expect("systemd-analyze")
    };
    let out = verify();
    // A directive it cannot parse is only a warning: no output at all is the pass.
    assert!(
        out.status.success() && out.stderr.is_empty() && out.stdout.is_empty(),
        "systemd-analyze verify: {}",
        describe(&out)
    );
    // …and the check can fail: a misspelt value is noticed.
    write(
        &copy,
        &unit
            .replace("/usr/bin/meta-monitor", &cli.display().to_string())
            .replace("ProtectSystem=strict", "ProtectSystem=stricter"),
    );
    let said = String::from_utf8_lossy(&verify().stderr).to_lowercase();
    assert!(
        said.contains("protect system"),
        "systemd-analyze notices: {said}"
    );
}
