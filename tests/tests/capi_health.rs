//! Conversions API health end to end: the simulator's shop server stops sending while the
//! browser Pixel keeps firing. Separate `meta-monitor check` processes over real loopback HTTP,
//! the token in a real GNOME Keyring, a local team webhook: the `conversions_api` tile goes
//! DOWN at the first check, one alert is sent (and one resolution), and `meta-monitor
//! diagnose` names the finding with its fix and exits 1 while it stands. With the daily
//! findings digest switched on, two `meta-monitor run` processes on one database send it to
//! the team once, with the finding and its fix.

#![allow(
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test loudly"
)]

use meta_graph_sim::{AD_ACCOUNT, APP_ID, APP_SECRET, PIXEL_ID, Scenario, SimConfig};
use meta_monitor_e2e::{CliEnv, KeyringSession, Sim, WebhookReceiver, describe, terminate};
use serde_json::Value;

fn tile<'a>(check: &'a Value, service: &str) -> &'a Value {
    check[0]["tiles"]
        .as_array()
        .expect("tiles")
        .iter()
        .find(|t| t["service"] == service)
        .unwrap_or_else(|| panic!("a {service} tile in {check}"))
}

#[test]
fn server_events_stopping_is_down_at_once_alerts_once_and_diagnose_names_the_fix() {
    let Some(keyring) = KeyringSession::start() else {
        return;
    };
    let hook = WebhookReceiver::start();
    let sim = Sim::start(SimConfig::default());
    let cli_env = CliEnv::new(&keyring, "meta-monitor-e2e-capi-health", "capi.db");
    let cli = |args: &[&str]| {
        let mut full = vec!["--timeout", "2"];
        full.extend_from_slice(args);
        cli_env.run(&full, None)
    };
    let url = sim.sim.base_url();
    cli_env.add_account(
        "shop",
        &url,
        &[
            "--app-id",
            APP_ID,
            "--ad-account",
            AD_ACCOUNT,
            "--pixel",
            PIXEL_ID,
        ],
        &[
            ("access-token", "fake-capi-health-token"),
            ("app-secret", APP_SECRET),
            ("team-webhook", hook.url.as_str()),
        ],
    );
    let set = cli(&["account", "set", "shop", "notify_desktop=false"]);
    assert!(set.status.success(), "{}", describe(&set));
    let check = || {
        let out = cli(&["check", "shop", "--json"]);
        assert!(out.status.success(), "{}", describe(&out));
        serde_json::from_slice::<Value>(&out.stdout).expect("check --json")
    };
    let stopped_alerts = || {
        hook.bodies()
            .into_iter()
            .filter(|b| b.contains("Server events stopped"))
            .collect::<Vec<_>>()
    };

    // A healthy shop: the server sends its share, the diagnostics find nothing wrong.
    let healthy = check();
    let capi = tile(&healthy, "conversions_api");
    assert_eq!(capi["status"], "UP", "{capi}");
    assert!(
        capi["detail"]["server_24h"].as_u64().is_some_and(|n| n > 0)
            && capi["detail"]["per_event_reported"] == true,
        "server events counted per event: {capi}"
    );
    let purchase = capi["detail"]["by_event"]
        .as_array()
        .expect("by_event")
        .iter()
        .find(|e| e["event_name"] == "Purchase")
        .expect("Purchase is sent by both");
    assert!(
        purchase["server_24h"].as_u64() > Some(0) && purchase["browser_24h"].as_u64() > Some(0),
        "{purchase}"
    );
    let diagnose = cli(&["diagnose", "shop"]);
    assert_eq!(diagnose.status.code(), Some(0), "{}", describe(&diagnose));

    // The shop's server stops (3 hours ago); the browser goes on.
    sim.sim.set_scenario(Scenario::ServerEventsStopped);
    let first = check();
    let capi = tile(&first, "conversions_api");
    assert_eq!(capi["status"], "DOWN", "DOWN at the first check: {capi}");
    let message = capi["message"].as_str().expect("message");
    assert!(
        message.starts_with("no server events for 3 h")
            && message.contains("while the browser sent"),
        "{message}"
    );
    assert_eq!(
        tile(&first, "pixel")["status"],
        "UP",
        "the browser still fires"
    );
    let alerts = stopped_alerts();
    assert_eq!(alerts.len(), 1, "one alert at once: {:#?}", hook.bodies());
    let alert: Value = serde_json::from_str(&alerts[0]).expect("JSON body");
    assert!(
        alert["body"]
            .as_str()
            .is_some_and(|b| b.contains("no server events for 3 h")
                && b.contains("Fix: Check the shop's server integration")),
        "the alert says what happened and what to do: {alert}"
    );
    for _ in 0..2 {
        check();
    }
    assert_eq!(
        stopped_alerts().len(),
        1,
        "and no more: {:#?}",
        hook.bodies()
    );

    let diagnose = cli(&["diagnose", "shop"]);
    assert_eq!(
        diagnose.status.code(),
        Some(1),
        "an error-level finding exits 1: {}",
        describe(&diagnose)
    );
    let text = String::from_utf8_lossy(&diagnose.stdout);
    assert!(
        text.starts_with("ERROR    Server events stopped [server_events_stopped]"),
        "{text}"
    );
    assert!(
        text.contains("evidence: no server events for 3 h")
            && text.contains("fix:      Check the shop's server integration")
            && text.contains("docs:     https://developers.facebook.com/"),
        "{text}"
    );
    let json = cli(&["diagnose", "shop", "--json"]);
    let findings: Value = serde_json::from_slice(&json.stdout).expect("diagnose --json");
    assert_eq!(
        findings["findings"][0]["id"], "server_events_stopped",
        "{findings}"
    );
    assert_eq!(findings["findings"][0]["level"], "error", "{findings}");

    // The server sends again: the alert resolves once, the diagnostics clear.
    sim.sim.set_scenario(Scenario::Healthy);
    for _ in 0..3 {
        assert_eq!(tile(&check(), "conversions_api")["status"], "UP");
    }
    let stopped = stopped_alerts();
    assert_eq!(
        stopped.len(),
        2,
        "the alert and its resolution: {stopped:#?}"
    );
    assert!(stopped[1].contains("Resolved"), "{stopped:#?}");
    let diagnose = cli(&["diagnose", "shop"]);
    assert_eq!(diagnose.status.code(), Some(0), "{}", describe(&diagnose));

    // The rule table is printed without an account.
    let rules = cli(&["diagnose", "--rules", "--json"]);
    let rules: Value = serde_json::from_slice(&rules.stdout).expect("diagnose --rules --json");
    assert!(
        rules
            .as_array()
            .is_some_and(|r| r.len() >= 10 && r.iter().all(|r| r["fix"].is_string())),
        "{rules}"
    );
}

#[test]
fn the_daily_findings_digest_reaches_the_team_once_with_the_fix() {
    let Some(keyring) = KeyringSession::start() else {
        return;
    };
    let hook = WebhookReceiver::start();
    let sim = Sim::start(SimConfig::default());
    sim.sim.set_scenario(Scenario::ServerEventsStopped);
    let cli_env = CliEnv::new(&keyring, "meta-monitor-e2e-capi-digest", "digest.db");
    cli_env.add_account(
        "shop",
        &sim.sim.base_url(),
        &["--app-id", APP_ID, "--pixel", PIXEL_ID],
        &[
            ("access-token", "fake-capi-digest-token"),
            ("app-secret", APP_SECRET),
            ("team-webhook", hook.url.as_str()),
        ],
    );
    // Due now: the digest hour is the current UTC hour.
    let hour = time::OffsetDateTime::now_utc().hour().to_string();
    let digest_hour = format!("digest_hour_utc={hour}");
    let set = cli_env.run(
        &[
            "account",
            "set",
            "shop",
            "notify_desktop=false",
            "findings_digest=true",
            &digest_hour,
        ],
        None,
    );
    assert!(set.status.success(), "{}", describe(&set));
    let digests = || {
        hook.bodies()
            .into_iter()
            .filter_map(|b| serde_json::from_str::<Value>(&b).ok())
            .filter(|b| b["kind"] == "digest")
            .collect::<Vec<_>>()
    };

    // The window and a server's `run` on the same database: both check, one sends.
    let run = ["--timeout", "2", "run", "shop", "--speed", "30"];
    let first = cli_env.spawn(&run);
    let second = cli_env.spawn(&run);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while digests().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // Both go on checking for a while (ten minutes of their clock) before they stop.
    std::thread::sleep(std::time::Duration::from_secs(20));
    for child in [first, second] {
        let out = terminate(child);
        assert!(out.status.success(), "{}", describe(&out));
    }

    let sent = digests();
    assert_eq!(sent.len(), 1, "one digest a day: {:#?}", hook.bodies());
    let digest = &sent[0];
    assert_eq!(digest["severity"], "critical", "{digest}");
    let summary = digest["summary"].as_str().expect("summary");
    assert!(
        summary.starts_with("shop: Daily findings: 1 error"),
        "{summary}"
    );
    let body = digest["body"].as_str().expect("body");
    assert!(
        body.starts_with(
            "- ERROR Server events stopped (server_events_stopped): no server events for 3 h"
        ) && body.contains("Fix: Check the shop's server integration")
            && body.contains("meta-monitor diagnose shop"),
        "the finding, its evidence and its fix: {body}"
    );
    // In the history like every notification, as the digest it is.
    let history = cli_env.run(&["alerts", "shop", "--json"], None);
    assert!(history.status.success(), "{}", describe(&history));
    let history: Value = serde_json::from_slice(&history.stdout).expect("alerts --json");
    let recorded: Vec<&Value> = history
        .as_array()
        .expect("a list")
        .iter()
        .filter(|n| n["kind"] == "digest")
        .collect();
    assert_eq!(recorded.len(), 1, "{history}");
    assert_eq!(recorded[0]["delivered"], true, "{history}");
}
