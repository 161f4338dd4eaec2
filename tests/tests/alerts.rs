//! Alerts end to end: a token that goes invalid and a Graph API that fails, checked again and
//! again by separate `meta-monitor check` processes (each one a restart), reach a real
//! notification server (dunst) and a local team webhook exactly once each, and resolve once.

#![allow(
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test loudly"
)]

use meta_graph_sim::{AD_ACCOUNT, APP_ID, APP_SECRET, Scenario, SimConfig};
use meta_monitor_e2e::{
    CliEnv, KeyringSession, NotificationServer, Sim, WebhookReceiver, describe, terminate,
};

#[test]
fn one_alert_and_one_resolution_per_problem_on_every_channel() {
    let Some(keyring) = KeyringSession::start() else {
        return;
    };
    let Some(server) = NotificationServer::start(&keyring) else {
        return;
    };
    let hook = WebhookReceiver::start();
    let sim = Sim::start(SimConfig::default());
    let cli_env = CliEnv::new(&keyring, "meta-monitor-e2e-alerts", "alerts.db");
    let db = cli_env.db.clone();
    let cli = |args: &[&str], stdin: Option<&str>| {
        let mut full = vec!["--timeout", "2"];
        full.extend_from_slice(args);
        cli_env.run(&full, stdin)
    };
    let url = sim.sim.base_url();
    let secrets = [
        ("access-token", "fake-alerts-token"),
        ("app-secret", APP_SECRET),
        ("team-webhook", hook.url.as_str()),
    ];
    cli_env.add_account(
        "acme",
        &url,
        &["--app-id", APP_ID, "--ad-account", AD_ACCOUNT],
        &secrets,
    );

    sim.sim.set_scenario(Scenario::TokenInvalid);
    for _ in 0..5 {
        let out = cli(&["check", "acme", "--json"], None);
        assert!(out.status.success(), "{}", describe(&out));
    }
    // token_invalid fires at once; graph_api DOWN after 3 failing checks; ads is UNKNOWN
    // (not measured), so it alerts nothing.
    let lines = server.captured(2);
    assert_eq!(lines.len(), 2, "two alerts on the desktop: {lines:#?}");
    assert!(
        lines[0].starts_with("acme: The access token is invalid or expired|"),
        "{lines:#?}"
    );
    assert!(
        lines[0].contains("expired") && lines[0].ends_with("|CRITICAL"),
        "Meta's reason, critical urgency: {}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("acme: graph_api is DOWN"),
        "{lines:#?}"
    );

    sim.sim.set_scenario(Scenario::Healthy);
    for _ in 0..4 {
        let out = cli(&["check", "acme", "--json"], None);
        assert!(out.status.success(), "{}", describe(&out));
    }
    let lines = server.captured(4);
    assert_eq!(
        lines.len(),
        4,
        "and two resolutions, nothing more: {lines:#?}"
    );
    assert!(
        lines[2..]
            .iter()
            .all(|l| l.starts_with("acme: Resolved: ") && l.ends_with("|LOW")),
        "{lines:#?}"
    );

    let bodies = hook.bodies();
    assert_eq!(
        bodies.len(),
        4,
        "the team webhook got the same four: {bodies:#?}"
    );
    let first: serde_json::Value = serde_json::from_str(&bodies[0]).expect("JSON body");
    assert!(
        first["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("acme: The access token")),
        "a text field: {first}"
    );

    let conn = rusqlite::Connection::open(&db).expect("db");
    let (total, delivered): (i64, i64) = conn
        .query_row(
            "SELECT COUNT(*), SUM(delivered) FROM notifications",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("history");
    assert_eq!(
        (total, delivered),
        (8, 8),
        "4 notifications × 2 channels, all delivered"
    );
    let stored: String = conn
        .query_row(
            "SELECT group_concat(body, ' ') FROM notifications",
            [],
            |r| r.get(0),
        )
        .expect("bodies");
    assert!(
        !stored.contains("team-secret-path"),
        "the webhook URL is not stored"
    );
    drop(conn);

    let history = cli(&["alerts", "acme", "--json"], None);
    assert!(history.status.success(), "{}", describe(&history));
    let rows: serde_json::Value = serde_json::from_slice(&history.stdout).expect("alerts --json");
    assert_eq!(
        rows.as_array().map(Vec::len),
        Some(8),
        "the history lists every attempt: {rows}"
    );
    assert!(
        rows.as_array()
            .expect("array")
            .iter()
            .all(|r| r["account"] == "acme" && r["delivered"] == true)
    );

    let test = cli(&["notify-test", "acme"], None);
    assert!(test.status.success(), "{}", describe(&test));
    let said = String::from_utf8_lossy(&test.stdout);
    assert!(
        said.contains("desktop: delivered") && said.contains("webhook: delivered"),
        "{said}"
    );
    assert_eq!(
        server.captured(5).len(),
        5,
        "the test notification reached dunst"
    );
    assert_eq!(hook.bodies().len(), 5, "and the webhook");
}

#[test]
fn without_a_notification_server_the_failure_is_recorded_and_checks_go_on() {
    let Some(keyring) = KeyringSession::start() else {
        return;
    };
    let sim = Sim::start(SimConfig::default());
    sim.sim.set_scenario(Scenario::TokenInvalid);
    let cli = CliEnv::new(&keyring, "meta-monitor-e2e-quiet", "quiet.db");
    let db = cli.db.clone();
    cli.add_account(
        "acme",
        &sim.sim.base_url(),
        &[],
        &[("access-token", "fake-quiet-token")],
    );
    let out = cli.run(&["check", "acme"], None);
    assert!(
        out.status.success(),
        "the check still succeeds: {}",
        describe(&out)
    );
    let conn = rusqlite::Connection::open(&db).expect("db");
    let (delivered, error): (bool, Option<String>) = conn
        .query_row(
            "SELECT delivered, error FROM notifications WHERE channel = 'desktop'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("the attempt is recorded");
    assert!(!delivered, "not delivered");
    assert!(
        error.is_some_and(|e| e.contains("notification server")),
        "and says why"
    );
    let test = cli.run(&["notify-test", "acme"], None);
    assert_eq!(
        test.status.code(),
        Some(1),
        "a failed channel is a runtime failure: {}",
        describe(&test)
    );
    assert!(
        String::from_utf8_lossy(&test.stdout).contains("desktop: FAILED"),
        "{}",
        describe(&test)
    );
}

#[test]
fn an_expiring_token_gives_one_7_day_and_later_one_1_day_warning() {
    let Some(keyring) = KeyringSession::start() else {
        return;
    };
    let Some(server) = NotificationServer::start(&keyring) else {
        return;
    };
    let hook = WebhookReceiver::start();
    let expires = time::OffsetDateTime::now_utc() + time::Duration::days(3);
    let unlimited = u32::MAX / 2;
    let sim = Sim::start(SimConfig {
        token_expires_at: Some(expires.unix_timestamp()),
        app_quota: unlimited,
        ..SimConfig::default()
    });
    let cli = CliEnv::new(&keyring, "meta-monitor-e2e-expiry", "expiry.db");
    let secrets = [
        ("access-token", "fake-expiry-token"),
        ("app-secret", APP_SECRET),
        ("team-webhook", hook.url.as_str()),
    ];
    cli.add_account("acme", &sim.sim.base_url(), &["--app-id", APP_ID], &secrets);
    // A token nobody renews: the warnings are the point (renewal: token_renewal.rs).
    let off = cli.run(&["account", "set", "acme", "token_auto_renew=false"], None);
    assert!(off.status.success(), "{}", describe(&off));
    // 20,000×: the token is inspected every 6 h = 1.1 s; 2 days pass in under 9 s.
    let child = cli.spawn(&["--timeout", "3", "run", "acme", "--speed", "20000"]);
    let expiry_lines = || -> Vec<String> {
        server
            .captured(0)
            .into_iter()
            .filter(|l| l.contains("expires within"))
            .collect()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !expiry_lines().iter().any(|l| l.contains("within 1 day")) {
        assert!(
            std::time::Instant::now() < deadline,
            "no 1-day warning: {:#?}",
            server.captured(0)
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // Let a few more token checks run: nothing may repeat.
    std::thread::sleep(std::time::Duration::from_secs(3));
    let out = terminate(child);
    assert!(out.status.success(), "{}", describe(&out));
    let lines = expiry_lines();
    assert_eq!(
        lines.len(),
        2,
        "exactly one 7-day and one 1-day warning: {lines:#?}"
    );
    assert!(
        lines[0].starts_with("acme: The access token expires within 7 days|"),
        "{lines:#?}"
    );
    assert!(
        lines[1].starts_with("acme: The access token expires within 1 day|")
            && lines[1].ends_with("|CRITICAL"),
        "{lines:#?}"
    );
    let hooks: Vec<String> = hook
        .bodies()
        .into_iter()
        .filter(|b| b.contains("expires within"))
        .collect();
    assert_eq!(
        hooks.len(),
        2,
        "the team webhook got the same two: {hooks:#?}"
    );
}
