//! Tokens that never expire by surprise, against the real keychain (GNOME Keyring, read back
//! with `secret-tool`) and the simulator's tokens that really change: a token 6 days from
//! expiry is renewed at the next check and the old one dies at its own expiry; a renewal
//! killed (SIGKILL) at any step leaves a token the simulator accepts; a short-lived token is
//! exchanged for a long-lived one, and an expired one is refused in words, changing nothing.

#![allow(
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test loudly"
)]

use std::io::{BufRead, BufReader};
use std::process::Command;
use std::time::{Duration, Instant};

use meta_graph_sim::{APP_ID, APP_SECRET, SimConfig, TokenKind};
use meta_monitor_e2e::{CliEnv, KeyringSession, Sim, WebhookReceiver, describe, have, require};
use serde_json::Value;

const DAY: Duration = Duration::from_secs(86_400);

/// Whether the simulator answers `GET /me` with this token (200), rather than 190.
fn accepted(sim: &Sim, token: &str) -> bool {
    let url = format!("{}/v25.0/me", sim.sim.base_url());
    let response = reqwest::blocking::Client::new()
        .get(url)
        .bearer_auth(token)
        .send()
        .expect("the simulator answers");
    let status = response.status().as_u16();
    let body = response.text().unwrap_or_default();
    assert!(
        status == 200 || body.contains("\"code\":190"),
        "either accepted or refused as a token: {status} {body}"
    );
    status == 200
}

/// The account's token as GNOME Keyring holds it (`secret-tool lookup`).
fn stored_token(keyring: &KeyringSession, service: &str, account: &str) -> String {
    let out = Command::new("secret-tool")
        .args([
            "lookup",
            "service",
            service,
            "username",
            &format!("{account}/access-token"),
        ])
        .envs(keyring.env())
        .output()
        .expect("secret-tool runs");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn setup(service: &str) -> Option<(KeyringSession, CliEnv)> {
    if !require(
        have("secret-tool"),
        "secret-tool (libsecret-tools) must be installed",
    ) {
        return None;
    }
    let keyring = KeyringSession::start()?;
    let cli = CliEnv::new(&keyring, service, "tokens.db");
    Some((keyring, cli))
}

fn sim() -> Sim {
    Sim::start(SimConfig {
        app_quota: u32::MAX / 2,
        ..SimConfig::default()
    })
}

fn json(out: &std::process::Output) -> Value {
    assert!(out.status.success(), "{}", describe(out));
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn token_tile(check: &Value) -> Value {
    check[0]["tiles"]
        .as_array()
        .and_then(|tiles| tiles.iter().find(|t| t["service"] == "token"))
        .cloned()
        .expect("a token tile")
}

#[test]
fn a_token_six_days_from_expiry_is_renewed_at_the_next_check() {
    let service = "meta-monitor-e2e-renewal";
    let Some((keyring, cli)) = setup(service) else {
        return;
    };
    let sim = sim();
    let hook = WebhookReceiver::start();
    let old = sim
        .sim
        .issue_token(TokenKind::SystemUser, Some(6 * DAY), None);
    cli.add_account(
        "shop",
        &sim.sim.base_url(),
        &["--app-id", APP_ID],
        &[
            ("access-token", old.as_str()),
            ("app-secret", APP_SECRET),
            ("team-webhook", hook.url.as_str()),
        ],
    );
    let quiet = cli.run(&["account", "set", "shop", "notify_desktop=false"], None);
    assert!(quiet.status.success(), "{}", describe(&quiet));

    let first = cli.run(&["--log-level", "info", "check", "shop", "--json"], None);
    let tile = token_tile(&json(&first));
    assert_eq!(tile["status"], "UP", "renewed at this check: {tile:#}");
    assert_eq!(tile["detail"]["renewal"]["renewed"], true, "{tile:#}");
    let new = stored_token(&keyring, service, "shop");
    assert!(
        !new.is_empty() && new != old,
        "the keychain holds a new token, not the old one"
    );
    assert!(
        keyring
            .secret_tool_search(service)
            .lines()
            .all(|l| !l.contains(".next")),
        "no staged copy is left behind"
    );
    let expires = time::OffsetDateTime::parse(
        tile["detail"]["expires_at"].as_str().expect("an expiry"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("RFC 3339");
    let days = (expires - time::OffsetDateTime::now_utc()).whole_days();
    assert!((58..=60).contains(&days), "valid ~60 days from now: {days}");

    // Both work until the old one's own expiry; then Meta rejects the old one with 190.
    assert!(accepted(&sim, &old) && accepted(&sim, &new));
    sim.sim.advance_clock(6 * DAY + Duration::from_secs(60));
    assert!(
        !accepted(&sim, &old),
        "the old token is rejected after its expiry"
    );
    assert!(accepted(&sim, &new));

    let second = cli.run(&["--log-level", "info", "check", "shop", "--json"], None);
    let second_json = json(&second);
    for t in second_json[0]["tiles"].as_array().expect("tiles") {
        assert_ne!(t["status"], "DOWN", "monitoring goes on: {t:#}");
    }
    assert_eq!(token_tile(&second_json)["status"], "UP");

    let renewed: Vec<String> = hook
        .bodies()
        .into_iter()
        .filter(|b| b.contains("was renewed"))
        .collect();
    assert_eq!(
        renewed.len(),
        1,
        "one \"renewed\" notification: {:#?}",
        hook.bodies()
    );
    let history = json(&cli.run(&["alerts", "shop", "--json"], None));
    assert!(
        history.as_array().is_some_and(|rows| rows.iter().any(|r| {
            r["title"].as_str().is_some_and(|t| t.contains("renewed")) && r["delivered"] == true
        })),
        "the channel outcome is in the alert history: {history:#}"
    );

    // Never in a URL, the database or a log.
    for request in sim.sim.requests() {
        for secret in [old.as_str(), new.as_str(), APP_SECRET] {
            assert!(
                !request.query.contains(secret),
                "a secret in the URL of {} {}",
                request.method,
                request.path
            );
        }
    }
    let exchange = sim
        .sim
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/oauth/access_token"))
        .expect("the exchange call");
    assert_eq!(exchange.method, "POST", "secrets in the body");
    assert!(exchange.body.contains("set_token_expires_in_60_days=true"));
    let mut stored = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        if let Ok(bytes) = std::fs::read(format!("{}{suffix}", cli.db)) {
            stored.extend(bytes);
        }
    }
    let stored = String::from_utf8_lossy(&stored);
    let logs = format!(
        "{}{}{}{}",
        String::from_utf8_lossy(&first.stderr),
        String::from_utf8_lossy(&first.stdout),
        String::from_utf8_lossy(&second.stderr),
        String::from_utf8_lossy(&second.stdout)
    );
    assert!(logs.contains("renewed"), "the renewal is logged: {logs}");
    for secret in [old.as_str(), new.as_str()] {
        assert!(!stored.contains(secret), "a token in the database");
        assert!(!logs.contains(secret), "a token in the output or log");
    }
}

/// Starts `token renew` halted at `step` and kills it (SIGKILL) once it got there.
fn kill_at(cli: &CliEnv, step: &str) {
    let mut env = cli.env.clone();
    env.push(("META_MONITOR_HALT_AT".to_owned(), step.to_owned()));
    let mut child = meta_monitor_e2e::spawn_cli(
        &env,
        &[
            "--db",
            &cli.db,
            "--log-level",
            "info",
            "token",
            "renew",
            "shop",
        ],
    );
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("halted for a crash test") {
                let _ = tx.send(());
            }
        }
    });
    let reached = rx.recv_timeout(Duration::from_secs(60)).is_ok();
    child.kill().expect("kill -9");
    let status = child.wait().expect("reaped");
    assert!(reached, "the renewal never reached {step} ({status:?})");
}

#[test]
fn a_renewal_killed_at_any_step_leaves_a_working_token() {
    let service = "meta-monitor-e2e-renewal-crash";
    let Some((keyring, cli)) = setup(service) else {
        return;
    };
    let sim = sim();
    let first = sim
        .sim
        .issue_token(TokenKind::SystemUser, Some(6 * DAY), None);
    cli.add_account(
        "shop",
        &sim.sim.base_url(),
        &["--app-id", APP_ID],
        &[("access-token", first.as_str()), ("app-secret", APP_SECRET)],
    );
    for step in [
        "before-call",
        "after-answer",
        "after-staging",
        "after-verify",
        "after-write",
    ] {
        kill_at(&cli, step);
        let token = stored_token(&keyring, service, "shop");
        assert!(
            accepted(&sim, &token),
            "after a kill at {step} the keychain holds a working token"
        );
    }
    // Kills at arbitrary moments of a whole renewal, the keychain write included.
    let started = Instant::now();
    let whole = cli.run(&["token", "renew", "shop"], None);
    assert!(whole.status.success(), "{}", describe(&whole));
    let span = started.elapsed();
    for eighth in 1..=8u32 {
        let mut child = cli.spawn(&["token", "renew", "shop"]);
        std::thread::sleep(span * eighth / 8);
        let _ = child.kill();
        let _ = child.wait();
        let token = stored_token(&keyring, service, "shop");
        assert!(
            accepted(&sim, &token),
            "after a kill {eighth}/8 into a renewal the keychain holds a working token"
        );
    }
    // And the next renewal completes, whatever was staged.
    let last = cli.run(&["token", "renew", "shop", "--json"], None);
    let tile = json(&last);
    assert_eq!(tile["status"], "UP", "{tile:#}");
    let token = stored_token(&keyring, service, "shop");
    assert!(accepted(&sim, &token));
    assert!(
        keyring
            .secret_tool_search(service)
            .lines()
            .all(|l| !l.contains(".next")),
        "the staged copy is gone once a renewal completes"
    );
}

#[test]
fn a_short_lived_token_is_exchanged_and_an_expired_one_changes_nothing() {
    let service = "meta-monitor-e2e-exchange";
    let Some((keyring, cli)) = setup(service) else {
        return;
    };
    let sim = sim();
    let add = cli.run(
        &[
            "account",
            "add",
            "shop",
            "--graph-url",
            &sim.sim.base_url(),
            "--app-id",
            APP_ID,
        ],
        None,
    );
    assert!(add.status.success(), "{}", describe(&add));
    let secret = cli.run(&["secret", "set", "shop", "app-secret"], Some(APP_SECRET));
    assert!(secret.status.success(), "{}", describe(&secret));

    let short = sim
        .sim
        .issue_token(TokenKind::User, Some(Duration::from_secs(7200)), None);
    let out = cli.run(
        &["token", "exchange", "shop", "--json"],
        Some(&format!("{short}\n")),
    );
    let tile = json(&out);
    assert_eq!(tile["status"], "UP", "{tile:#}");
    assert_eq!(tile["detail"]["token_type"], "USER");
    let kept = stored_token(&keyring, service, "shop");
    assert!(
        !kept.is_empty() && kept != short,
        "only the long-lived token is kept"
    );
    assert!(accepted(&sim, &kept));
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains(&kept),
        "not echoed"
    );

    let show = cli.run(&["token", "show", "shop"], None);
    let text = String::from_utf8_lossy(&show.stdout);
    assert!(show.status.success(), "{}", describe(&show));
    for needle in [
        "type             USER",
        "data access ends",
        "renewal          automatic",
    ] {
        assert!(text.contains(needle), "{needle:?} in:\n{text}");
    }

    let stale = sim
        .sim
        .issue_token(TokenKind::User, Some(Duration::from_secs(3600)), None);
    sim.sim.advance_clock(Duration::from_secs(2 * 3600));
    let refused = cli.run(&["token", "exchange", "shop"], Some(&stale));
    assert!(!refused.status.success(), "{}", describe(&refused));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("expired") && !said.contains(&stale),
        "explains itself in words, without the token: {said}"
    );
    assert_eq!(
        stored_token(&keyring, service, "shop"),
        kept,
        "a failed exchange changes nothing"
    );
}

#[test]
fn the_conversions_api_token_is_watched_apart_and_sends_the_test_events() {
    let service = "meta-monitor-e2e-capi-token";
    let Some((_keyring, cli)) = setup(service) else {
        return;
    };
    let sim = sim();
    let hook = WebhookReceiver::start();
    let monitor = sim
        .sim
        .issue_token(TokenKind::SystemUser, Some(50 * DAY), None);
    let capi = sim
        .sim
        .issue_token(TokenKind::SystemUser, Some(6 * DAY), None);
    cli.add_account(
        "shop",
        &sim.sim.base_url(),
        &[
            "--app-id",
            APP_ID,
            "--pixel",
            meta_graph_sim::PIXEL_ID,
            "--test-event-code",
            "TEST77",
        ],
        &[
            ("access-token", monitor.as_str()),
            ("app-secret", APP_SECRET),
            ("team-webhook", hook.url.as_str()),
            ("capi-token", capi.as_str()),
        ],
    );
    let quiet = cli.run(&["account", "set", "shop", "notify_desktop=false"], None);
    assert!(quiet.status.success(), "{}", describe(&quiet));

    for _ in 0..2 {
        let tile = token_tile(&json(&cli.run(&["check", "shop", "--json"], None)));
        assert_eq!(tile["status"], "DEGRADED", "{tile:#}");
        assert_eq!(tile["detail"]["capi"]["status"], "DEGRADED", "{tile:#}");
        assert_eq!(tile["detail"]["capi"]["pixel_access"], true, "{tile:#}");
        assert!(
            tile["message"]
                .as_str()
                .is_some_and(|m| m.contains("Conversions API token: expires in")),
            "{tile:#}"
        );
    }
    let bodies = hook.bodies();
    let capi_warnings = bodies
        .iter()
        .filter(|b| b.contains("The Conversions API token expires within 7 days"))
        .count();
    assert_eq!(capi_warnings, 1, "its own 7-day warning, once: {bodies:#?}");
    assert!(
        !bodies
            .iter()
            .any(|b| b.contains("The access token expires within")
                || b.contains("access token is invalid")),
        "the monitor's own token is fine: {bodies:#?}"
    );

    // Test events go with the Conversions API token: once it has expired they fail, although
    // the monitor's token still works.
    let event = [
        "test-event",
        "shop",
        "--event",
        "Purchase",
        "--value",
        "9.90",
        "--currency",
        "EUR",
        "--email",
        "buyer@example.com",
        "--user-agent",
        "Mozilla/5.0 (X11; Linux x86_64)",
        "--source-url",
        "https://shop.example/thanks",
    ];
    let sent = cli.run(&event, None);
    assert!(sent.status.success(), "{}", describe(&sent));
    sim.sim.advance_clock(7 * DAY);
    let refused = cli.run(&event, None);
    assert!(!refused.status.success(), "{}", describe(&refused));
    assert!(accepted(&sim, &monitor) && !accepted(&sim, &capi));
    let tile = token_tile(&json(&cli.run(&["check", "shop", "--json"], None)));
    assert_eq!(tile["status"], "DOWN", "{tile:#}");
    assert_eq!(
        tile["detail"]["is_valid"], true,
        "the access token itself is valid"
    );
    let bodies = hook.bodies();
    assert!(
        bodies
            .iter()
            .any(|b| b.contains("The Conversions API token is invalid or expired"))
            && !bodies
                .iter()
                .any(|b| b.contains("The access token is invalid")),
        "the alert names the Conversions API token: {bodies:#?}"
    );
}

#[test]
fn a_renewal_that_cannot_happen_says_why_and_what_to_do_once() {
    let service = "meta-monitor-e2e-renewal-impossible";
    let Some((keyring, cli)) = setup(service) else {
        return;
    };
    let sim = sim();
    let hook = WebhookReceiver::start();
    let token = sim
        .sim
        .issue_token(TokenKind::SystemUser, Some(5 * DAY), None);
    // No app secret: Meta's exchange needs it.
    cli.add_account(
        "shop",
        &sim.sim.base_url(),
        &["--app-id", APP_ID],
        &[
            ("access-token", token.as_str()),
            ("team-webhook", hook.url.as_str()),
        ],
    );
    let quiet = cli.run(&["account", "set", "shop", "notify_desktop=false"], None);
    assert!(quiet.status.success(), "{}", describe(&quiet));
    for _ in 0..2 {
        let tile = token_tile(&json(&cli.run(&["check", "shop", "--json"], None)));
        assert_eq!(tile["status"], "DEGRADED", "{tile:#}");
        let failed = tile["detail"]["renewal"]["failed"]
            .as_str()
            .unwrap_or_default();
        assert!(
            failed.contains("the app secret is not stored")
                && failed.contains("meta-monitor secret set shop app-secret"),
            "why and what to do: {tile:#}"
        );
    }
    let notes: Vec<String> = hook
        .bodies()
        .into_iter()
        .filter(|b| b.contains("could not be renewed automatically"))
        .collect();
    assert_eq!(
        notes.len(),
        1,
        "one notification, no repeat per check: {:#?}",
        hook.bodies()
    );
    assert!(
        notes[0].contains("secret set shop app-secret"),
        "{}",
        notes[0]
    );
    assert_eq!(
        stored_token(&keyring, service, "shop"),
        token,
        "nothing changed"
    );
    let renew = cli.run(&["token", "renew", "shop"], None);
    assert!(!renew.status.success(), "{}", describe(&renew));
    assert!(
        String::from_utf8_lossy(&renew.stderr).contains("app secret is not stored"),
        "{}",
        describe(&renew)
    );
}

#[test]
fn an_exchange_killed_after_meta_answered_is_recovered_by_the_token_check() {
    let service = "meta-monitor-e2e-exchange-recovered";
    let Some((keyring, cli)) = setup(service) else {
        return;
    };
    let sim = sim();
    let dying = sim
        .sim
        .issue_token(TokenKind::SystemUser, Some(Duration::from_secs(3600)), None);
    cli.add_account(
        "shop",
        &sim.sim.base_url(),
        &["--app-id", APP_ID],
        &[("access-token", dying.as_str()), ("app-secret", APP_SECRET)],
    );
    let short = sim
        .sim
        .issue_token(TokenKind::User, Some(Duration::from_secs(7200)), None);
    let mut child = Command::new(meta_monitor_e2e::cli_bin())
        .args([
            "--db",
            &cli.db,
            "--log-level",
            "info",
            "token",
            "exchange",
            "shop",
        ])
        .envs(cli.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("META_MONITOR_HALT_AT", "after-staging")
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("meta-monitor starts");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(short.as_bytes())
            .expect("the token on stdin");
    }
    let stderr = child.stderr.take().expect("stderr");
    let halted = BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .any(|l| l.contains("halted for a crash test"));
    child.kill().expect("kill -9");
    let _ = child.wait();
    assert!(halted, "the exchange reached the stage");
    assert_eq!(
        stored_token(&keyring, service, "shop"),
        dying,
        "not yet replaced"
    );

    // The kept token dies; the next token check finds the staged one and keeps it.
    sim.sim.advance_clock(Duration::from_secs(3 * 3600));
    let tile = token_tile(&json(&cli.run(&["check", "shop", "--json"], None)));
    assert_eq!(tile["status"], "UP", "{tile:#}");
    assert!(
        tile["message"]
            .as_str()
            .is_some_and(|m| m.contains("recovered")),
        "{tile:#}"
    );
    let kept = stored_token(&keyring, service, "shop");
    assert!(kept != dying && kept != short && accepted(&sim, &kept));
    assert!(
        keyring
            .secret_tool_search(service)
            .lines()
            .all(|l| !l.contains(".next")),
        "the stage is gone"
    );
}
