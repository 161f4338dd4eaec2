//! The `env` account for hosts without a keychain: configured from the seed spec's `META_*`
//! variables, checked and watched without any keychain, never written to the database file.

#![allow(
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test loudly"
)]

use std::time::{Duration, Instant};

use meta_graph_sim::{AD_ACCOUNT, APP_ID, APP_SECRET, PIXEL_ID, SimConfig};
use meta_monitor_e2e::{Sim, describe, run_cli, spawn_cli, terminate};
use serde_json::Value;

const TOKEN: &str = "fake-env-token-0123456789";

#[test]
fn the_env_account_is_checked_and_watched_but_never_stored() {
    let sim = Sim::start(SimConfig::default());
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("env.db").to_string_lossy().into_owned();
    let env: Vec<(String, String)> = [
        ("META_ACCESS_TOKEN", TOKEN.to_owned()),
        ("META_APP_ID", APP_ID.to_owned()),
        ("META_APP_SECRET", APP_SECRET.to_owned()),
        ("META_AD_ACCOUNT_ID", AD_ACCOUNT.to_owned()),
        ("META_PIXEL_ID", PIXEL_ID.to_owned()),
        ("META_GRAPH_URL", sim.sim.base_url()),
        // No keychain at all on this "server".
        (
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}/no-bus", dir.path().display()),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();

    let out = run_cli(&env, &["--db", &db, "check", "--json", "--no-notify"], None);
    assert!(out.status.success(), "{}", describe(&out));
    let json: Value = serde_json::from_slice(&out.stdout).expect("check --json");
    assert_eq!(json[0]["account"], "env", "shown as account env: {json}");
    let status = |service: &str| {
        json[0]["tiles"]
            .as_array()
            .expect("tiles")
            .iter()
            .find(|t| t["service"] == service)
            .map(|t| t["status"].clone())
    };
    assert_eq!(status("graph_api"), Some(Value::from("UP")), "{json}");
    assert_eq!(status("token"), Some(Value::from("UP")), "{json}");
    assert_eq!(status("ads"), Some(Value::from("UP")), "{json}");

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let child = spawn_cli(
        &env,
        &[
            "--db",
            &db,
            "run",
            "env",
            "--speed",
            "300",
            "--metrics",
            &addr,
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let body = loop {
        let text = reqwest::blocking::get(format!("http://{addr}/metrics"))
            .and_then(|r| r.text())
            .unwrap_or_default();
        if text.contains(
            r#"meta_monitor_service_status{account="env",service="graph_api",status="UP"} 1"#,
        ) {
            break text;
        }
        assert!(
            Instant::now() < deadline,
            "the env account never showed in /metrics: {text}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(body.contains("meta_monitor_ads_spend{"), "{body}");
    let out = terminate(child);
    assert!(out.status.success(), "{}", describe(&out));

    let list = run_cli(&env, &["--db", &db, "account", "list", "--json"], None);
    assert_eq!(
        String::from_utf8_lossy(&list.stdout).trim(),
        "[]",
        "no account row: {}",
        describe(&list)
    );
    for suffix in ["", "-wal"] {
        if let Ok(bytes) = std::fs::read(format!("{db}{suffix}")) {
            assert!(
                !bytes.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()),
                "token in {db}{suffix}"
            );
            assert!(
                !bytes.windows(5).any(|w| w == b"\"env\""),
                "no env row in {db}{suffix}"
            );
        }
    }
}

#[test]
fn an_invalid_env_variable_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("bad.db").to_string_lossy().into_owned();
    let env = vec![
        ("META_ACCESS_TOKEN".to_owned(), TOKEN.to_owned()),
        ("META_PIXEL_ID".to_owned(), "not-a-number".to_owned()),
    ];
    let out = run_cli(&env, &["--db", &db, "check"], None);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("META_"),
        "{}",
        describe(&out)
    );
}
