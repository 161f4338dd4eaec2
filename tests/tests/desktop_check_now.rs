//! "Check now" in the window runs the scheduler's own pipeline: on a failing service it stores
//! the same runs, status transition, rate-limit tile and alert as the scheduler would, the
//! alert reaches the real notification server (dunst), and the Alerts view lists it. When Meta
//! echoes the token in its error, neither the page, the notifications, the log file nor the
//! database get it.

#![allow(
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test loudly"
)]

use std::time::{Duration, Instant};

use meta_graph_sim::{APP_ID, Scenario, SimConfig};
use meta_monitor_e2e::desktop::Desktop;
use meta_monitor_e2e::{CliEnv, KeyringSession, NotificationServer, Sim, describe};

const TOKEN: &str = "EAAB-fake-check-now-token-1357";

#[test]
fn check_now_on_a_failing_service_stores_and_alerts_like_the_scheduler() {
    let Some(keyring) = KeyringSession::start() else {
        return;
    };
    let Some(server) = NotificationServer::start(&keyring) else {
        return;
    };
    let sim = Sim::start(SimConfig::default());
    let cli = CliEnv::new(&keyring, "meta-monitor-e2e-check-now", "check-now.db");
    cli.add_account(
        "shop",
        &sim.sim.base_url(),
        &["--app-id", APP_ID],
        &[("access-token", TOKEN)],
    );
    // The scheduler checks everything at start, then not again during the test: what changes
    // afterwards is "Check now"'s doing.
    let out = cli.run(&["account", "set", "shop", "graph_api_minutes=60"], None);
    assert!(out.status.success(), "{}", describe(&out));

    let mut env = cli.env.clone();
    env.push(("META_MONITOR_DB".into(), cli.db.clone()));
    let Some(app) = Desktop::launch(&[], &env) else {
        return;
    };
    let graph = r#"article[data-service="graph_api"]"#;
    app.wait_for(
        r#"article[data-service="graph_api"] [data-status="UP"]"#,
        Duration::from_secs(45),
    );

    // The token is revoked at Meta; the operator presses "Check now" on the Graph API tile
    // three times (an alert needs three failing checks in a row).
    sim.sim.set_scenario(Scenario::TokenInvalid);
    sim.sim.clear_requests();
    for n in 1..=3 {
        app.click(&format!("{graph} footer button"));
        let deadline = Instant::now() + Duration::from_secs(30);
        while runs(&cli.db, "graph_api", "token_invalid") < n {
            assert!(Instant::now() < deadline, "check {n} was not stored");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    app.wait_for(
        r#"article[data-service="graph_api"] [data-status="DOWN"]"#,
        Duration::from_secs(30),
    );
    let paths: Vec<String> = sim.sim.requests().iter().map(|r| r.path.clone()).collect();
    assert!(
        paths.iter().all(|p| p.ends_with("/me")),
        "Check now on one tile probes that service only: {paths:?}"
    );

    // Stored as the scheduler stores: the runs with Meta's code, the transition, the
    // rate-limit tile with the schedule's own numbers, the alert with its delivery.
    let conn = rusqlite::Connection::open(&cli.db).expect("db");
    let code: i64 = conn
        .query_row(
            "SELECT graph_code FROM probe_runs WHERE probe = 'graph_api' AND outcome = 'token_invalid'
             LIMIT 1",
            [],
            |r| r.get(0),
        )
        .expect("a failed run");
    assert_eq!(code, 190, "Meta's code is kept with the run");
    let transitions: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM status_transitions
             WHERE service = 'graph_api' AND from_status = 'UP' AND to_status = 'DOWN'",
            [],
            |r| r.get(0),
        )
        .expect("transitions");
    assert_eq!(transitions, 1, "one UP → DOWN transition");
    let limits: String = conn
        .query_row(
            "SELECT detail FROM tiles WHERE service = 'rate_limits'",
            [],
            |r| r.get(0),
        )
        .expect("the rate-limit tile");
    assert!(
        limits.contains("calls_per_hour"),
        "the rate-limit tile carries the schedule's calls per hour: {limits}"
    );
    let (kind, channel, delivered): (String, String, bool) = conn
        .query_row(
            "SELECT kind, channel, delivered FROM notifications WHERE key = 'down:graph_api'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("the alert is in the history");
    assert_eq!(
        (kind.as_str(), channel.as_str(), delivered),
        ("fire", "desktop", true),
        "fired once, delivered to the desktop"
    );

    // The real notification server shows it; the Alerts view lists it.
    let shown = server.captured(1);
    assert!(
        shown
            .iter()
            .any(|l| l.starts_with("shop: graph_api is DOWN")),
        "dunst shows the alert: {shown:#?}"
    );
    app.click("header.app nav button[data-view=\"alerts\"]");
    let alerts = app.wait_text("main table", Duration::from_secs(20), |t| {
        t.contains("graph_api is DOWN")
    });
    assert!(alerts.contains("firing"), "listed as firing: {alerts}");
    assert!(
        !app.source().contains(TOKEN),
        "the token never reaches the page"
    );
    app.screenshot("check-now-alert.png");

    // Meta now answers "Malformed access token <the token>": the token tile says so with the
    // token's place marked, and neither the page nor the notification server ever sees it.
    sim.sim.set_scenario(Scenario::TokenMalformed);
    app.click("header.app nav button[data-view=\"overview\"]");
    let token = r#"article[data-service="token"]"#;
    app.wait_for(&format!("{token} footer button"), Duration::from_secs(20));
    app.click(&format!("{token} footer button"));
    let message = app.wait_text(token, Duration::from_secs(30), |t| {
        t.contains("Malformed access token [redacted]")
    });
    assert!(!message.contains(TOKEN), "{message}");
    let shown = server.captured(2);
    assert!(
        shown.iter().any(|l| l.contains("invalid or expired")),
        "the token alert reached dunst: {shown:#?}"
    );
    assert!(
        shown.iter().all(|l| !l.contains(TOKEN)),
        "no notification carries the token: {shown:#?}"
    );
    assert!(!app.source().contains(TOKEN), "nor the page");
    // The desktop's own log file (in the OS log folder) tells the change, scrubbed.
    let logs = keyring.dir.path().join("data/com.metamonitor.desktop/logs");
    let log: String = std::fs::read_dir(&logs)
        .map(|files| {
            files
                .flatten()
                .map(|f| std::fs::read_to_string(f.path()).unwrap_or_default())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        log.lines()
            .any(|l| l.contains("status changed") && l.contains("[redacted]")),
        "the log file in {} says what Meta answered, scrubbed: {log}",
        logs.display()
    );
    assert!(!log.contains(TOKEN), "nor the log file");
    let db = std::fs::read(&cli.db).unwrap_or_default();
    let wal = std::fs::read(format!("{}-wal", cli.db)).unwrap_or_default();
    for bytes in [db, wal] {
        assert!(
            !bytes.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()),
            "nor the database"
        );
    }
}

/// Stored runs of `probe` with `outcome`.
fn runs(db: &str, probe: &str, outcome: &str) -> i64 {
    rusqlite::Connection::open(db)
        .and_then(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM probe_runs WHERE probe = ?1 AND outcome = ?2",
                [probe, outcome],
                |r| r.get(0),
            )
        })
        .unwrap_or(0)
}
