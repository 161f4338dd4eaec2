//! Settings through the real window against the simulator and a real GNOME Keyring: adding an
//! account stores its token in the keychain (seen by `secret-tool`) and nowhere in the
//! database; "Test connection" explains an expired token (190/463) in words; an outage turns
//! the graph_api tile DOWN within one check interval; the simulator disappearing and coming
//! back gives UNKNOWN then UP without a crash; no secret reaches the page.

use std::time::Duration;

use meta_graph_sim::{Scenario, SimConfig};
use meta_monitor_e2e::desktop::Desktop;
use meta_monitor_e2e::{KeyringSession, Sim, have, require};

const SERVICE: &str = "meta-monitor-e2e-desktop";
const TOKEN: &str = "EAAB-fake-desktop-token-5678";

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn an_account_added_in_settings_is_watched_with_its_token_in_the_keychain_only() {
    if !require(
        have("secret-tool"),
        "secret-tool (libsecret-tools) must be installed",
    ) {
        return;
    }
    let Some(keyring) = KeyringSession::start() else {
        return;
    };
    let mut sim = Sim::start(SimConfig::default());
    sim.sim.set_scenario(Scenario::TokenInvalid);
    let db = keyring.dir.path().join("desktop.db");
    let mut env = keyring.env();
    env.push(("META_MONITOR_KEYCHAIN_SERVICE".into(), SERVICE.into()));
    env.push(("META_MONITOR_DB".into(), db.display().to_string()));
    let Some(app) = Desktop::launch(&[], &env) else {
        return;
    };

    // No account yet: the demo runs. Add one in Settings.
    app.wait_text(".demo", Duration::from_secs(30), |t| t == "DEMO");
    app.click("header.app nav button[data-view=\"settings\"]");
    app.wait_text(".settings-view", Duration::from_secs(10), |t| {
        t.contains("Add account")
    });
    app.click(".settings-view > button");
    app.type_into(r#"input[name="name"]"#, "shop");
    app.type_into(r#"input[name="graph_url"]"#, &sim.sim.base_url());
    app.type_into(r#"input[name="app_id"]"#, meta_graph_sim::APP_ID);
    app.type_into(r#"input[name="ad_account_id"]"#, meta_graph_sim::AD_ACCOUNT);
    app.type_into(r#"input[name="pixel_id"]"#, meta_graph_sim::PIXEL_ID);
    app.type_into(r#"input[name="catalog_id"]"#, meta_graph_sim::CATALOG_ID);
    app.click(r#".account-editor button[type="submit"]"#);
    let card = r#"article[aria-label="Account shop"]"#;
    app.wait_text(card, Duration::from_secs(15), |t| {
        t.contains("Test connection")
    });

    // The token goes to the keychain; afterwards only a mask is shown.
    app.type_into("#secret-shop-access-token", TOKEN);
    app.click(r#"[data-secret="access-token"] button"#);
    app.wait_text(
        r#"[data-secret="access-token"]"#,
        Duration::from_secs(15),
        |t| t.contains("stored in the keychain"),
    );
    let found = keyring.secret_tool_search(SERVICE);
    assert!(
        found.contains("shop/access-token") && found.contains(TOKEN),
        "secret-tool sees the token in GNOME Keyring: {found}"
    );
    for file in ["desktop.db", "desktop.db-wal"] {
        let bytes = std::fs::read(keyring.dir.path().join(file)).unwrap_or_default();
        assert!(!contains(&bytes, TOKEN), "the token is not in {file}");
    }
    let stored = std::fs::read(&db).expect("the account is in the database file");
    assert!(contains(&stored, "shop"), "the account itself is stored");

    // "Test connection" with an expired token says so in words.
    app.click(&format!("{card} .test button"));
    let result = app.wait_text(
        &format!("{card} .test-result"),
        Duration::from_secs(20),
        |t| t.contains("expired"),
    );
    assert!(
        result.contains("Create a new one"),
        "it says what to do: {result}"
    );
    app.screenshot("settings-test-connection.png");

    // Saving the token handed it to the running scheduler (no restart, no other account
    // re-read): it checks the account at once, with nobody pressing "Check now".
    app.click("header.app nav button[data-view=\"overview\"]");
    app.wait_text(".account", Duration::from_secs(15), |t| t == "shop");
    let token_tile = r#"article[data-service="token"]"#;
    app.wait_for(
        &format!(r#"{token_tile} [data-status="DOWN"]"#),
        Duration::from_secs(20),
    );
    let expired = app.text(token_tile).unwrap_or_default();
    assert!(
        expired.contains("expired"),
        "the scheduler measured the saved token: {expired}"
    );

    // The account is watched: healthy after a manual check, DOWN within one interval of an
    // outage (graph_api runs every minute ± 10 %).
    sim.sim.set_scenario(Scenario::Healthy);
    app.click(r#"article[data-service="graph_api"] .actions button:first-child"#);
    let api = r#"article[data-service="graph_api"]"#;
    app.wait_for(
        &format!(r#"{api} [data-status="UP"]"#),
        Duration::from_secs(20),
    );
    sim.sim.set_scenario(Scenario::Outage);
    app.wait_for(
        &format!(r#"{api} [data-status="DOWN"]"#),
        Duration::from_secs(80),
    );
    let down = app.text(api).unwrap_or_default();
    assert!(down.contains("failing"), "the tile says why: {down}");
    assert!(
        app.find(r#"[role="status"][data-overall="DOWN"]"#)
            .is_some(),
        "the overall banner follows"
    );

    // The simulator disappears: the app keeps running; the liveness tile says Meta is
    // unreachable (DOWN) and the services it could not measure are UNKNOWN, not DOWN. It comes
    // back on the same port: UP again.
    let addr = sim.stop();
    let check_now = r#"article[data-service="graph_api"] .actions button:first-child"#;
    app.click(check_now);
    // "Check now" checks its own tile's service: the token tile's button checks the token.
    app.wait_for(
        &format!("{check_now}:not([disabled])"),
        Duration::from_secs(30),
    );
    app.click(r#"article[data-service="token"] .actions button:first-child"#);
    let token = r#"article[data-service="token"]"#;
    app.wait_for(
        &format!(r#"{token} [data-status="UNKNOWN"]"#),
        Duration::from_secs(30),
    );
    let unmeasured = app.text(token).unwrap_or_default();
    assert!(
        unmeasured.contains("could not reach"),
        "the token tile says why it was not measured: {unmeasured}"
    );
    let unreachable = app.text(api).unwrap_or_default();
    assert!(
        unreachable.contains("unreachable"),
        "the graph_api tile says Meta is unreachable: {unreachable}"
    );
    sim.restart(addr, SimConfig::default());
    app.wait_for(
        &format!("{check_now}:not([disabled])"),
        Duration::from_secs(30),
    );
    app.click(check_now);
    app.wait_for(
        &format!(r#"{api} [data-status="UP"]"#),
        Duration::from_secs(30),
    );

    let page = app.source();
    assert!(!page.contains(TOKEN), "the token never reaches the DOM");
    assert!(!page.contains(meta_graph_sim::APP_SECRET));
}
