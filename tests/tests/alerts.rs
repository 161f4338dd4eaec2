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

/// The lines captured so far that start with `prefix` (after the account's name).
fn lines_with(server: &NotificationServer, text: &str) -> Vec<String> {
    server
        .captured(0)
        .into_iter()
        .filter(|l| l.contains(text))
        .collect()
}

#[test]
fn acknowledged_alerts_stop_reminding_and_holds_release_what_still_fires() {
    let Some(keyring) = KeyringSession::start() else {
        return;
    };
    let Some(server) = NotificationServer::start(&keyring) else {
        return;
    };
    let hook = WebhookReceiver::start();
    let sim = Sim::start(SimConfig {
        app_quota: u32::MAX / 2,
        ..SimConfig::default()
    });
    let cli_env = CliEnv::new(&keyring, "meta-monitor-e2e-holds", "holds.db");
    let cli = |args: &[&str]| {
        let mut full = vec!["--timeout", "2"];
        full.extend_from_slice(args);
        let out = cli_env.run(&full, None);
        assert!(out.status.success(), "{args:?}: {}", describe(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let secrets = [
        ("access-token", "fake-holds-token"),
        ("app-secret", APP_SECRET),
        ("team-webhook", hook.url.as_str()),
    ];
    cli_env.add_account("acme", &sim.sim.base_url(), &["--app-id", APP_ID], &secrets);
    let token_alert = "The access token is invalid or expired";
    let graph_alert = "graph_api is DOWN";

    // 1. Acknowledge: the graph_api alert stops reminding, the token alert (not
    //    acknowledged) reminds, and both resolutions are sent.
    sim.sim.set_scenario(Scenario::TokenInvalid);
    for _ in 0..3 {
        cli(&["check", "acme"]);
    }
    assert_eq!(server.captured(2).len(), 2, "{:#?}", server.captured(0));
    let firing: serde_json::Value =
        serde_json::from_str(&cli(&["alerts", "firing", "--json"])).expect("JSON");
    let keys: Vec<&str> = firing
        .as_array()
        .expect("array")
        .iter()
        .map(|a| a["key"].as_str().expect("key"))
        .collect();
    assert!(
        keys.contains(&"down:graph_api") && keys.contains(&"token_invalid"),
        "{keys:?}"
    );
    cli(&["alerts", "ack", "acme", "down:graph_api", "--by", "tester"]);
    let firing = cli(&["alerts", "firing"]);
    assert!(firing.contains("acknowledged by tester"), "{firing}");
    // 5,000×: 4 h of reminders pass in under 3 s; watch for ~10 h of monitor time.
    let child = cli_env.spawn(&["--timeout", "2", "run", "acme", "--speed", "5000"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while lines_with(&server, &format!("Still: {token_alert}")).len() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "{:#?}",
            server.captured(0)
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let out = terminate(child);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        lines_with(&server, &format!("Still: {graph_alert}")).is_empty(),
        "an acknowledged alert does not remind: {:#?}",
        server.captured(0)
    );
    sim.sim.set_scenario(Scenario::Healthy);
    for _ in 0..2 {
        cli(&["check", "acme"]);
    }
    assert_eq!(
        lines_with(&server, &format!("Resolved: {graph_alert}")).len(),
        1,
        "the acknowledged alert's resolution is sent: {:#?}",
        server.captured(0)
    );
    assert!(cli(&["alerts", "firing"]).contains("no alert is firing"));

    // 2. Maintenance: an outage that starts inside the window is held, and released at the
    //    first check after its end because it still fires.
    let end = time::OffsetDateTime::now_utc() + time::Duration::seconds(8);
    let end = end
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format");
    cli(&[
        "maintenance",
        "add",
        "acme",
        "--end",
        &end,
        "--reason",
        "rotation",
    ]);
    assert!(cli(&["maintenance", "list"]).contains("rotation"));
    let before = server.captured(0).len();
    sim.sim.set_scenario(Scenario::TokenInvalid);
    for _ in 0..3 {
        cli(&["check", "acme"]);
    }
    assert_eq!(
        server.captured(0).len(),
        before,
        "held: {:#?}",
        server.captured(0)
    );
    let held = cli(&["alerts", "firing"]);
    assert!(held.contains("held"), "{held}");
    while time::OffsetDateTime::now_utc().unix_timestamp() <= {
        time::OffsetDateTime::parse(&end, &time::format_description::well_known::Rfc3339)
            .expect("parse")
            .unix_timestamp()
    } {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    cli(&["check", "acme"]);
    let released = server.captured(before + 2);
    assert_eq!(released.len(), before + 2, "{released:#?}");
    assert!(
        released[before..].iter().any(|l| l.contains(graph_alert))
            && released[before..].iter().any(|l| l.contains(token_alert)),
        "both released after the window: {released:#?}"
    );

    // 3. A silence expires on time: at 1,200×, an hour's silence ends 3 s after it starts;
    //    the outage (resolved first) fires again only then.
    sim.sim.set_scenario(Scenario::Healthy);
    for _ in 0..2 {
        cli(&["check", "acme"]);
    }
    let resolved = server.captured(0).len();
    cli(&["silence", "acme", "--for", "1h", "--reason", "known outage"]);
    sim.sim.set_scenario(Scenario::TokenInvalid);
    let started = std::time::Instant::now();
    let child = cli_env.spawn(&["--timeout", "2", "run", "acme", "--speed", "1200"]);
    let deadline = started + std::time::Duration::from_secs(40);
    while server.captured(0).len() == resolved {
        assert!(std::time::Instant::now() < deadline, "never released");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let after = started.elapsed();
    let out = terminate(child);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        after >= std::time::Duration::from_secs(2),
        "sent after {after:?}, inside the silence: {:#?}",
        server.captured(0)
    );
    assert!(
        hook.bodies()
            .iter()
            .all(|b| !b.contains("fake-holds-token")),
        "no secret in any notification"
    );
}
