//! Exchanging a short-lived user token from the real window (WebDriver, GNOME Keyring, the
//! simulator's tokens): the long-lived token lands in the keychain and works; an expired one
//! is refused in words and changes nothing; no token reaches the page.

#![allow(
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test loudly"
)]

use std::process::Command;
use std::time::Duration;

use meta_graph_sim::{APP_ID, APP_SECRET, SimConfig, TokenKind};
use meta_monitor_e2e::desktop::Desktop;
use meta_monitor_e2e::{CliEnv, KeyringSession, Sim, have, require};

const SERVICE: &str = "meta-monitor-e2e-desktop-token";

fn stored_token(keyring: &KeyringSession) -> String {
    let out = Command::new("secret-tool")
        .args([
            "lookup",
            "service",
            SERVICE,
            "username",
            "shop/access-token",
        ])
        .envs(keyring.env())
        .output()
        .expect("secret-tool runs");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn a_short_lived_token_is_exchanged_from_settings() {
    if !require(
        have("secret-tool"),
        "secret-tool (libsecret-tools) must be installed",
    ) {
        return;
    }
    let Some(keyring) = KeyringSession::start() else {
        return;
    };
    let sim = Sim::start(SimConfig {
        app_quota: u32::MAX / 2,
        ..SimConfig::default()
    });
    let cli = CliEnv::new(&keyring, SERVICE, "desktop-token.db");
    let first = sim.sim.issue_token(
        TokenKind::SystemUser,
        Some(Duration::from_secs(30 * 86_400)),
        None,
    );
    cli.add_account(
        "shop",
        &sim.sim.base_url(),
        &["--app-id", APP_ID],
        &[("access-token", first.as_str()), ("app-secret", APP_SECRET)],
    );
    let mut env = cli.env.clone();
    env.push(("META_MONITOR_DB".into(), cli.db.clone()));
    let Some(app) = Desktop::launch(&[], &env) else {
        return;
    };
    app.wait_text(".account", Duration::from_secs(30), |t| t == "shop");
    app.click("header.app nav button[data-view=\"settings\"]");
    let form = r#"article[aria-label="Account shop"] form.token-exchange"#;
    app.wait_for(form, Duration::from_secs(15));

    let short = sim
        .sim
        .issue_token(TokenKind::User, Some(Duration::from_secs(7200)), None);
    app.type_into(
        &format!(r#"{form} input[name="short_lived_token"]"#),
        &short,
    );
    app.click(&format!(r#"{form} button[type="submit"]"#));
    let said = app.wait_text(form, Duration::from_secs(30), |t| {
        t.contains("Exchanged and stored") || t.contains("not")
    });
    assert!(said.contains("Exchanged and stored"), "{said}");
    let kept = stored_token(&keyring);
    assert!(
        !kept.is_empty() && kept != short && kept != first,
        "a new long-lived token is kept"
    );
    assert!(
        kept.contains("user"),
        "a user token, as exchanged: {kept:.16}…"
    );
    app.screenshot("settings-token-exchange.png");

    // An expired short-lived token: refused in words, nothing changes.
    let stale = sim
        .sim
        .issue_token(TokenKind::User, Some(Duration::from_secs(3600)), None);
    sim.sim.advance_clock(Duration::from_secs(2 * 3600));
    app.type_into(
        &format!(r#"{form} input[name="short_lived_token"]"#),
        &stale,
    );
    app.click(&format!(r#"{form} button[type="submit"]"#));
    let refusal = app.wait_text(
        &format!(r#"{form} [role="alert"]"#),
        Duration::from_secs(30),
        |t| !t.is_empty(),
    );
    assert!(refusal.contains("expired"), "explained in words: {refusal}");
    assert_eq!(
        stored_token(&keyring),
        kept,
        "a failed exchange changes nothing"
    );

    let page = app.source();
    for token in [&first, &short, &stale, &kept] {
        assert!(!page.contains(token.as_str()), "no token reaches the page");
    }
}
