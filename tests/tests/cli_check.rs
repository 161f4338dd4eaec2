//! `meta-monitor check` against the simulator over real loopback HTTP, with the token in a real
//! GNOME Keyring: every scenario gives the expected tiles, the token never appears in a URL or
//! the database, and with an app secret every request carries a valid `appsecret_proof`.

#![allow(
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test loudly"
)]

use std::collections::HashMap;
use std::time::Duration;

use hmac::{Hmac, Mac};
use meta_graph_sim::{AD_ACCOUNT, APP_ID, APP_SECRET, CATALOG_ID, PIXEL_ID, Scenario, SimConfig};
use meta_monitor_e2e::{CliEnv, KeyringSession, Sim, describe, run_cli};
use serde_json::Value;
use sha2::Sha256;

const TOKEN: &str = "fake-e2e-token-0123456789abcdef";

fn proof(message: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(APP_SECRET.as_bytes()).expect("any key length");
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// service → status of one account's tiles in `check --json` output.
fn statuses(json: &Value) -> HashMap<String, String> {
    json[0]["tiles"]
        .as_array()
        .expect("tiles array")
        .iter()
        .map(|t| {
            (
                t["service"].as_str().expect("service").to_owned(),
                t["status"].as_str().expect("status").to_owned(),
            )
        })
        .collect()
}

#[test]
fn every_scenario_gives_the_expected_tiles_and_secrets_stay_secret() {
    let Some(keyring) = KeyringSession::start() else {
        return;
    };
    let sim = Sim::start(SimConfig {
        slow_delay: Duration::from_secs(4),
        ..SimConfig::default()
    });
    let cli_env = CliEnv::new(&keyring, "meta-monitor-e2e-check", "monitor.db");
    let db_arg = cli_env.db.clone();
    let cli = |args: &[&str], stdin: Option<&str>| {
        let mut full = vec!["--timeout", "1.5"];
        full.extend_from_slice(args);
        cli_env.run(&full, stdin)
    };
    let url = sim.sim.base_url();
    let add = cli(
        &[
            "account",
            "add",
            "acme",
            "--graph-url",
            &url,
            "--app-id",
            APP_ID,
            "--ad-account",
            AD_ACCOUNT,
            "--pixel",
            PIXEL_ID,
            "--catalog",
            CATALOG_ID,
        ],
        None,
    );
    assert!(add.status.success(), "account add: {}", describe(&add));
    // The sweep shows each scenario's tiles as measured; automatic renewal would turn the
    // expiring token UP (tests/tests/token_renewal.rs covers it).
    let set = cli(&["account", "set", "acme", "token_auto_renew=false"], None);
    assert!(set.status.success(), "account set: {}", describe(&set));
    for (kind, value) in [("access-token", TOKEN), ("app-secret", APP_SECRET)] {
        let out = cli(
            &["secret", "set", "acme", kind],
            Some(&format!("{value}\n")),
        );
        assert!(
            out.status.success(),
            "secret set {kind}: {}",
            describe(&out)
        );
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains(value),
            "the secret is not echoed"
        );
    }

    let expected: &[(Scenario, &[(&str, &str)])] = &[
        (
            Scenario::Healthy,
            &[
                ("token", "UP"),
                ("graph_api", "UP"),
                ("rate_limits", "UP"),
                ("ads", "UP"),
                ("pixel", "UP"),
                ("conversions_api", "UP"),
                ("webhooks", "UP"),
                ("catalog", "UP"),
            ],
        ),
        (
            Scenario::ServerEventsStopped,
            &[("conversions_api", "DOWN"), ("pixel", "UP")],
        ),
        (
            Scenario::Throttled,
            &[
                ("rate_limits", "DOWN"),
                ("ads", "UNKNOWN"),
                ("graph_api", "UP"),
            ],
        ),
        (
            Scenario::TokenExpiring,
            &[("token", "DEGRADED"), ("graph_api", "UP")],
        ),
        (
            Scenario::TokenInvalid,
            &[
                ("token", "DOWN"),
                ("graph_api", "DOWN"),
                ("ads", "UNKNOWN"),
                ("pixel", "UNKNOWN"),
            ],
        ),
        (
            Scenario::Outage,
            &[
                ("graph_api", "DOWN"),
                ("ads", "UNKNOWN"),
                ("pixel", "UNKNOWN"),
                ("webhooks", "DEGRADED"),
                ("catalog", "DEGRADED"),
            ],
        ),
        (
            Scenario::PixelSilent,
            // Neither the browser nor the server sent anything: nothing to compare.
            &[
                ("pixel", "DEGRADED"),
                ("conversions_api", "UNKNOWN"),
                ("graph_api", "UP"),
            ],
        ),
        (
            Scenario::WebhookInactive,
            &[("webhooks", "DOWN"), ("graph_api", "UP")],
        ),
    ];
    for (scenario, wanted) in expected {
        sim.sim.set_scenario(*scenario);
        // `--anyway`: the throttled scenario pauses the ads bucket for every later check
        // (tests/tests/one_pipeline.rs proves that); this sweep wants each scenario's tiles.
        let out = cli(&["check", "acme", "--json", "--anyway"], None);
        assert!(
            out.status.success(),
            "check exits 0 whatever the tiles say ({scenario}): {}",
            describe(&out)
        );
        let json: Value = serde_json::from_slice(&out.stdout).expect("check --json prints JSON");
        let got = statuses(&json);
        assert_eq!(got.len(), 8, "eight tiles ({scenario}): {got:?}");
        for (service, status) in *wanted {
            assert_eq!(
                got.get(*service).map(String::as_str),
                Some(*status),
                "{scenario}: {service} in {got:?}\n{}",
                describe(&out)
            );
        }
        let worst = ["DOWN", "DEGRADED", "UP"]
            .into_iter()
            .find(|s| got.values().any(|v| v == s))
            .unwrap_or("UNKNOWN");
        assert_eq!(
            json[0]["overall"], worst,
            "overall is the worst measured tile ({scenario})"
        );
        assert!(
            json[0]["tiles"][0]["last_check"]
                .as_str()
                .is_some_and(|t| t.contains('T')),
            "RFC 3339 times"
        );
    }

    // Every probe run is stored with Meta's error fields; metrics use the seed spec's names.
    let conn = rusqlite::Connection::open(&db_arg).expect("open the database");
    let runs: i64 = conn
        .query_row("SELECT COUNT(*) FROM probe_runs", [], |r| r.get(0))
        .expect("count");
    assert_eq!(
        runs,
        7 * 8,
        "one row per polled probe per check (rate_limits is derived from their calls)"
    );
    let (code, subcode, trace): (i64, i64, Option<String>) = conn
        .query_row(
            "SELECT graph_code, graph_subcode, fbtrace_id FROM probe_runs
             WHERE probe = 'graph_api' AND graph_code IS NOT NULL",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("the token-invalid run of graph_api");
    assert_eq!((code, subcode), (190, 463), "code and subcode stored");
    assert!(trace.is_some_and(|t| !t.is_empty()), "fbtrace_id stored");
    let mut stmt = conn
        .prepare("SELECT DISTINCT s.name FROM series s JOIN points p ON p.series_id = s.id")
        .expect("prepare");
    let names: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    for wanted in [
        "meta.api.latency_ms",
        "meta.rate_limit.app.call_count",
        "meta.ads.spend_24h",
        "meta.ads.active_campaigns",
        "meta.pixel.events_24h",
        "meta.token.days_left",
        "meta.catalog.product_count",
    ] {
        assert!(
            names.iter().any(|n| n == wanted),
            "{wanted} stored among {names:?}"
        );
    }
    drop(stmt);
    drop(conn);

    let history = cli(
        &[
            "history",
            "acme",
            "meta.api.latency_ms",
            "--since",
            "24h",
            "--json",
        ],
        None,
    );
    assert!(history.status.success(), "history: {}", describe(&history));
    let history: Value = serde_json::from_slice(&history.stdout).expect("history --json");
    assert_eq!(
        history["summary"]["count"], 6,
        "one latency per answered /me (all scenarios but the invalid token and the outage): {history}"
    );
    assert!(
        history["summary"]["p95"].as_f64().is_some_and(|p| p > 0.0),
        "p95 given: {history}"
    );
    assert!(
        history["points"]
            .as_array()
            .is_some_and(|p| !p.is_empty() && p.len() <= 48),
        "bounded points"
    );
    let bad = cli(
        &["history", "acme", "meta.api.latency_ms", "--since", "3w"],
        None,
    );
    assert_eq!(
        bad.status.code(),
        Some(2),
        "a bad window is a usage error: {}",
        describe(&bad)
    );

    let requests = sim.sim.requests();
    assert!(
        requests.len() > 40,
        "the scenarios made real requests: {}",
        requests.len()
    );
    let app_token = format!("{APP_ID}|{APP_SECRET}");
    let (user_proof, app_proof) = (proof(TOKEN), proof(&app_token));
    for r in &requests {
        assert!(
            !r.query.contains(TOKEN) && !r.path.contains(TOKEN),
            "token in a URL: {} ?{}",
            r.path,
            r.query
        );
        assert!(
            !r.query.contains(APP_SECRET),
            "app secret in a URL: {}",
            r.query
        );
        assert_eq!(
            r.auth_scheme.as_deref(),
            Some("Bearer"),
            "token sent as a Bearer header: {}",
            r.path
        );
        let params: HashMap<String, String> = url::form_urlencoded::parse(r.query.as_bytes())
            .into_owned()
            .collect();
        let sent = params
            .get("appsecret_proof")
            .expect("every request carries appsecret_proof");
        assert!(
            *sent == user_proof || *sent == app_proof,
            "proof matches the token used: {}",
            r.path
        );
    }

    // status reads the stored tiles without any request.
    sim.sim.clear_requests();
    let out = cli(&["status", "acme", "--json"], None);
    assert!(out.status.success(), "status: {}", describe(&out));
    let json: Value = serde_json::from_slice(&out.stdout).expect("status --json prints JSON");
    assert_eq!(
        statuses(&json).get("webhooks").map(String::as_str),
        Some("DOWN"),
        "the last check is stored"
    );
    assert!(
        sim.sim.requests().is_empty(),
        "status makes no network request"
    );

    // The token's bytes never reach the database (main file or WAL).
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{db_arg}{suffix}");
        if let Ok(bytes) = std::fs::read(&path) {
            for secret in [TOKEN, APP_SECRET] {
                let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
                assert!(!found, "{secret} found in {path}");
            }
        }
    }
}

#[test]
fn usage_errors_exit_2_with_a_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("m.db").to_string_lossy().into_owned();
    let cases: &[&[&str]] = &[
        &["account", "add", "bad name"],
        &["account", "add", "x", "--graph-url", "ftp://nope"],
        &["account", "add", "x", "--ad-account", "act_12ab"],
        &["account", "show", "missing"],
        &["check", "missing"],
        &["secret", "set", "missing", "password"],
        &["simulate", "--scenario", "sunny"],
        &["no-such-command"],
        &[],
        &["account"],
        &["secret", "set", "x"],
    ];
    for args in cases {
        let mut full = vec!["--db", db.as_str()];
        full.extend_from_slice(args);
        let out = run_cli(&[], &full, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", describe(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            stderr.trim().lines().count(),
            1,
            "{args:?} says why in one line: {stderr}"
        );
    }
    let out = run_cli(&[], &["--db", &db, "account", "list", "--json"], None);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "[]",
        "bad input lost nothing and added nothing"
    );
}

#[test]
fn account_settings_change_what_a_check_calls_degraded() {
    let Some(keyring) = KeyringSession::start() else {
        return;
    };
    let sim = Sim::start(SimConfig::default());
    let cli = CliEnv::new(&keyring, "meta-monitor-e2e-settings", "settings.db");
    cli.add_account(
        "acme",
        &sim.sim.base_url(),
        &["--app-id", APP_ID, "--pixel", PIXEL_ID],
        &[("access-token", TOKEN)],
    );
    let token_status = || {
        let out = cli.run(&["check", "acme", "--json", "--no-notify"], None);
        assert!(out.status.success(), "check: {}", describe(&out));
        let json: Value = serde_json::from_slice(&out.stdout).expect("json");
        statuses(&json)["token"].clone()
    };
    // The simulator's token expires in 45 days: fine with the default 7-day warning …
    assert_eq!(token_status(), "UP");
    let set = cli.run(&["account", "set", "acme", "token_warning_days=60"], None);
    assert!(set.status.success(), "account set: {}", describe(&set));
    // … a warning with a 60-day one.
    assert_eq!(token_status(), "DEGRADED");

    let shown = cli.run(&["account", "show", "acme", "--json"], None);
    let json: Value = serde_json::from_slice(&shown.stdout).expect("json");
    assert_eq!(json["monitoring"]["token_warning_days"], 60);
    assert_eq!(
        json["monitoring"]["pixel_minutes"], 10,
        "others keep their defaults"
    );

    let refused = cli.run(&["account", "set", "acme", "graph_api_minutes=0"], None);
    assert_eq!(refused.status.code(), Some(2), "{}", describe(&refused));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("between 1 and 60"),
        "{}",
        describe(&refused)
    );
}
