//! The desktop app started while the keychain is locked (the usual case when it starts at
//! login before the user unlocks): every tile is UNKNOWN with the reason, Settings says so in
//! words, "Check now" does not crash or prompt forever, and once the keychain is unlocked
//! "Check now" recovers without a restart. The token never reaches the page.

use std::time::Duration;

use meta_graph_sim::SimConfig;
use meta_monitor_e2e::desktop::Desktop;
use meta_monitor_e2e::{CliEnv, KeyringSession, Sim};

const SERVICE: &str = "meta-monitor-e2e-desktop-locked";
const TOKEN: &str = "EAAB-fake-locked-keychain-token-2468";

#[test]
fn a_locked_keychain_shows_unknown_tiles_and_check_now_recovers_after_unlock() {
    let Some(keyring) = KeyringSession::start() else {
        return;
    };
    let sim = Sim::start(SimConfig::default());
    let cli = CliEnv::new(&keyring, SERVICE, "locked.db");
    cli.add_account(
        "shop",
        &sim.sim.base_url(),
        &["--app-id", meta_graph_sim::APP_ID],
        &[("access-token", TOKEN)],
    );
    keyring.lock();

    let mut env = cli.env.clone();
    env.push(("META_MONITOR_DB".into(), cli.db.clone()));
    let Some(app) = Desktop::launch(&[], &env) else {
        return;
    };
    let graph = r#"article[data-service="graph_api"]"#;
    let message = app.wait_text(graph, Duration::from_secs(30), |t| {
        t.contains("keychain is locked")
    });
    assert!(
        message.contains("unlock it"),
        "says how to fix it: {message}"
    );
    for service in ["token", "graph_api", "ads", "pixel", "catalog"] {
        let css = format!(r#"article[data-service="{service}"] [data-status="UNKNOWN"]"#);
        assert!(
            app.find(&css).is_some(),
            "{service} is UNKNOWN (not measured), never DOWN: {}",
            app.source()
        );
    }
    assert_eq!(
        app.attribute("[data-overall]", "data-overall").as_deref(),
        Some("UNKNOWN"),
        "the banner follows"
    );

    // Settings says it plainly.
    app.click("header.app nav button[data-view=\"settings\"]");
    let advice = app.wait_text(".advice.keychain", Duration::from_secs(20), |t| {
        t.contains("locked")
    });
    assert!(
        advice.contains("never stored anywhere else"),
        "no fallback store: {advice}"
    );

    // "Check now" while still locked: still UNKNOWN, the window still answers.
    app.click("header.app nav button[data-view=\"overview\"]");
    app.wait_for(
        r#"article[data-service="graph_api"] button"#,
        Duration::from_secs(10),
    );
    app.click(r#"article[data-service="graph_api"] footer button"#);
    app.wait_text(graph, Duration::from_secs(30), |t| {
        t.contains("Check now") && t.contains("keychain is locked")
    });

    // Unlocked: "Check now" reads the keychain again and the account is measured.
    keyring.unlock();
    app.click(r#"article[data-service="graph_api"] footer button"#);
    app.wait_for(
        r#"article[data-service="graph_api"] [data-status="UP"]"#,
        Duration::from_secs(45),
    );
    assert!(
        app.find(r#"article[data-service="token"] [data-status="UNKNOWN"]"#)
            .is_none(),
        "the token is measured too: {}",
        app.source()
    );
    assert!(
        !app.source().contains(TOKEN),
        "the token never reaches the page"
    );
    app.screenshot("keychain-unlocked");
}
