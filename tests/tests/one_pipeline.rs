//! One check pipeline for every process: `meta-monitor run` and `meta-monitor check` on one
//! database against a flapping simulator send each alert exactly once (the decision is
//! claimed in the database); a throttle pause outlives a restart of `run` and binds `check`
//! (unless `--anyway`); `run --log-format json` writes one JSON object per line with the
//! status changes and alerts, and never the token.

#![allow(
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test loudly"
)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use meta_graph_sim::{AD_ACCOUNT, APP_ID, APP_SECRET, Scenario, SimConfig};
use meta_monitor_e2e::{CliEnv, KeyringSession, Sim, WebhookReceiver, describe, terminate};
use serde_json::Value;

const TOKEN: &str = "fake-pipeline-token-5f3a";

/// An account `acme` on `sim` whose alerts go to `hook` only (no desktop server needed).
fn account(cli: &CliEnv, sim: &Sim, hook: &WebhookReceiver) {
    let extra = ["--app-id", APP_ID, "--ad-account", AD_ACCOUNT];
    let secrets = [
        ("access-token", TOKEN),
        ("app-secret", APP_SECRET),
        ("team-webhook", hook.url.as_str()),
    ];
    cli.add_account("acme", &sim.sim.base_url(), &extra, &secrets);
    let out = cli.run(&["account", "set", "acme", "notify_desktop=false"], None);
    assert!(out.status.success(), "account set: {}", describe(&out));
}

/// The notification history as (key, kind, channel, delivered) in the order claimed (row id:
/// `run --speed` stamps its rows with its own faster clock, so times do not order them).
fn history(cli: &CliEnv) -> Vec<(String, String, String, bool)> {
    let conn = rusqlite::Connection::open(&cli.db).expect("db");
    let mut stmt = conn
        .prepare("SELECT key, kind, channel, delivered FROM notifications ORDER BY id")
        .expect("query");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("history")
}

#[test]
fn run_and_check_on_one_database_send_each_alert_exactly_once() {
    let Some(keyring) = KeyringSession::start() else {
        return;
    };
    let hook = WebhookReceiver::start();
    let sim = Sim::start(SimConfig::default());
    let cli = CliEnv::new(&keyring, "meta-monitor-e2e-pipeline-a", "pipeline-a.db");
    account(&cli, &sim, &hook);

    // `run` at 60×: /me every second of real time; `check` processes in between, both deciding
    // alerts on the same stored states while the token flaps between invalid and valid.
    let child = cli.spawn(&["--timeout", "2", "run", "acme", "--speed", "60"]);
    for round in 0..3 {
        sim.sim.set_scenario(Scenario::TokenInvalid);
        for _ in 0..3 {
            let out = cli.run(&["--timeout", "2", "check", "acme", "--json"], None);
            assert!(
                out.status.success(),
                "check (round {round}): {}",
                describe(&out)
            );
            std::thread::sleep(Duration::from_millis(700));
        }
        sim.sim.set_scenario(Scenario::Healthy);
        for _ in 0..4 {
            let out = cli.run(&["--timeout", "2", "check", "acme", "--json"], None);
            assert!(
                out.status.success(),
                "check (round {round}): {}",
                describe(&out)
            );
            std::thread::sleep(Duration::from_millis(700));
        }
    }
    let out = terminate(child);
    assert!(
        out.status.success(),
        "run stops cleanly: {}",
        describe(&out)
    );

    let rows = history(&cli);
    let mut by_key: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (key, kind, _, _) in &rows {
        by_key.entry(key).or_default().push(kind);
    }
    let token = by_key.get("token_invalid").cloned().unwrap_or_default();
    assert!(
        token.iter().filter(|k| **k == "fire").count() >= 2 && token.contains(&"resolve"),
        "the flapping token fired and resolved more than once: {rows:#?}"
    );
    for (key, kinds) in &by_key {
        for pair in kinds.windows(2) {
            assert_ne!(
                pair[0], pair[1],
                "{key}: fire and resolve alternate — the same alert twice means two processes \
                 sent it: {kinds:?}"
            );
        }
    }
    assert!(
        rows.iter().all(|r| r.3),
        "every claimed notification was delivered and recorded: {rows:#?}"
    );
    let bodies = hook.bodies();
    assert_eq!(
        bodies.len(),
        rows.len(),
        "the team webhook got exactly the recorded notifications: {bodies:#?} vs {rows:#?}"
    );
}

#[test]
fn a_throttle_pause_survives_a_restart_and_binds_check_unless_anyway() {
    let Some(keyring) = KeyringSession::start() else {
        return;
    };
    let hook = WebhookReceiver::start();
    let sim = Sim::start(SimConfig::default());
    sim.sim.set_scenario(Scenario::Throttled);
    let cli = CliEnv::new(&keyring, "meta-monitor-e2e-pipeline-b", "pipeline-b.db");
    account(&cli, &sim, &hook);
    let ads_calls = |sim: &Sim| {
        sim.sim
            .requests()
            .iter()
            .filter(|r| r.path.contains("act_"))
            .count()
    };

    // The first run meets Meta's throttle on the ad account and pauses its bucket.
    let child = cli.spawn(&["run", "acme", "--log-format", "json"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    let paused = |db: &str| -> Option<i64> {
        rusqlite::Connection::open(db)
            .and_then(|c| {
                c.query_row(
                    "SELECT until_ms FROM throttle_pauses WHERE bucket = 'ads'",
                    [],
                    |r| r.get(0),
                )
            })
            .ok()
    };
    let until = loop {
        if let Some(until) = paused(&cli.db) {
            break until;
        }
        assert!(Instant::now() < deadline, "run never paused the ads bucket");
        std::thread::sleep(Duration::from_millis(100));
    };
    // The alert for the throttling is sent (and logged) before the step ends.
    std::thread::sleep(Duration::from_millis(1500));
    let out = terminate(child);
    assert!(
        out.status.success(),
        "run stops cleanly: {}",
        describe(&out)
    );
    let now_ms = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    assert!(
        until > now_ms + 60_000,
        "paused until Meta's regain time, minutes ahead"
    );

    // Every line of the JSON log is one object; it says what changed and what was sent.
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let messages: Vec<&str> = lines.iter().filter_map(|l| l["message"].as_str()).collect();
    assert!(
        messages.contains(&"status changed"),
        "status changes are logged: {messages:#?}"
    );
    assert!(
        messages.contains(&"alert sent"),
        "alerts sent are logged with their channel: {messages:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l["level"] == "WARN" && l["service"] == "ads"),
        "the pause is logged as a warning naming the probe: {log}"
    );
    assert!(!log.contains(TOKEN), "no log line carries the token");
    assert!(
        !log.contains("team-secret-path"),
        "nor the team webhook's secret URL"
    );

    // A restarted `run` honours the stored pause: /me again, the ad account not at all.
    sim.sim.clear_requests();
    let child = cli.spawn(&["run", "acme"]);
    std::thread::sleep(Duration::from_secs(3));
    let out = terminate(child);
    assert!(out.status.success(), "second run: {}", describe(&out));
    assert!(
        sim.sim.requests().iter().any(|r| r.path.ends_with("/me")),
        "the restarted run probed /me"
    );
    assert_eq!(
        ads_calls(&sim),
        0,
        "no call to the paused ad account before Meta's regain time"
    );

    // `check` respects it too and says so; `--anyway` is the operator's explicit override.
    let out = cli.run(&["check", "acme", "--json"], None);
    assert!(out.status.success(), "check: {}", describe(&out));
    assert_eq!(ads_calls(&sim), 0, "check skips the paused ad account");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("ads not checked: Meta throttles it"),
        "{}",
        describe(&out)
    );
    let out = cli.run(&["check", "acme", "--json", "--anyway"], None);
    assert!(out.status.success(), "check --anyway: {}", describe(&out));
    assert!(ads_calls(&sim) > 0, "--anyway probes the ad account");
}
