//! The operator's webhook endpoint, checked the way Meta does — handshake with the verify
//! token from the keychain, then a signed sample delivery — and only when the operator listed
//! the URL. A wrong echo degrades the webhooks tile; the success rate is a stored series.

#![allow(
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test loudly"
)]

use meta_graph_sim::{APP_ID, APP_SECRET, SimConfig};
use meta_monitor_e2e::{CliEnv, HubEndpoint, KeyringSession, Sim, describe};
use serde_json::Value;

const VERIFY: &str = "fake-verify-token";

fn webhooks_tile(out: &std::process::Output) -> Value {
    let json: Value = serde_json::from_slice(&out.stdout).expect("check --json");
    json[0]["tiles"]
        .as_array()
        .expect("tiles")
        .iter()
        .find(|t| t["service"] == "webhooks")
        .cloned()
        .expect("webhooks tile")
}

#[test]
fn the_endpoint_must_echo_the_challenge_and_accept_a_signed_delivery() {
    let Some(keyring) = KeyringSession::start() else {
        return;
    };
    let hub = HubEndpoint::start(VERIFY, APP_SECRET);
    let sim = Sim::start(SimConfig {
        callback_url: hub.url.clone(),
        ..SimConfig::default()
    });
    let cli_env = CliEnv::new(&keyring, "meta-monitor-e2e-hooks", "hooks.db");
    let cli = |args: &[&str], stdin: Option<&str>| {
        let mut full = vec!["--timeout", "3"];
        full.extend_from_slice(args);
        cli_env.run(&full, stdin)
    };
    let url = sim.sim.base_url();
    let secrets = [
        ("access-token", "fake-hooks-token"),
        ("app-secret", APP_SECRET),
        ("verify-token", VERIFY),
    ];
    cli_env.add_account(
        "acme",
        &url,
        &["--app-id", APP_ID, "--webhook-endpoint", &hub.url],
        &secrets,
    );
    cli_env.add_account("other", &url, &["--app-id", APP_ID], &secrets);

    let out = cli(&["check", "acme", "--json", "--no-notify"], None);
    assert!(out.status.success(), "{}", describe(&out));
    let tile = webhooks_tile(&out);
    assert_eq!(tile["status"], "UP", "{tile}");
    assert_eq!(tile["detail"]["endpoints"][0]["ok"], true, "{tile}");
    assert_eq!(
        hub.seen(),
        [("GET".to_owned(), true), ("POST".to_owned(), true)],
        "handshake, then a valid signature"
    );

    hub.echo_wrong
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let out = cli(&["check", "acme", "--json", "--no-notify"], None);
    let tile = webhooks_tile(&out);
    assert_eq!(tile["status"], "DEGRADED", "{tile}");
    assert!(
        tile["message"]
            .as_str()
            .is_some_and(|m| m.contains("did not echo hub.challenge")),
        "{tile}"
    );

    let before = hub.seen().len();
    let out = cli(&["check", "other", "--json", "--no-notify"], None);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(
        hub.seen().len(),
        before,
        "an endpoint the operator did not list is never called"
    );

    let out = cli(
        &[
            "history",
            "acme",
            "meta.webhooks.endpoint_ok",
            "--since",
            "24h",
            "--json",
        ],
        None,
    );
    let history: Value = serde_json::from_slice(&out.stdout).expect("history --json");
    assert_eq!(
        history["summary"]["mean"], 0.5,
        "success rate over 24 h: {history}"
    );
}
