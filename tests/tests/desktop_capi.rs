//! "Send test event" through the real window, for an account configured with a real GNOME
//! Keyring and a database file, against the simulator: the typed e-mail shows its normalized
//! value and its SHA-256, sending shows events_received = 1 with the test code, and afterwards
//! neither the page nor the database holds the raw e-mail.

use std::time::Duration;

use meta_graph_sim::{PIXEL_ID, SimConfig};
use meta_monitor_core::capi::normalize::sha256_hex;
use meta_monitor_e2e::desktop::Desktop;
use meta_monitor_e2e::{CliEnv, KeyringSession, Sim};
use serde_json::Value;

const SERVICE: &str = "meta-monitor-e2e-desktop-capi";
const TOKEN: &str = "EAAB-fake-desktop-capi-token-97531";
const EMAIL: &str = "  Jane.Doe@Shop.Example ";
const NORMALIZED: &str = "jane.doe@shop.example";

#[test]
fn a_test_event_sent_from_the_pixel_view_is_hashed_received_and_forgotten() {
    let Some(keyring) = KeyringSession::start() else {
        return;
    };
    let sim = Sim::start(SimConfig::default());
    let cli = CliEnv::new(&keyring, SERVICE, "capi-window.db");
    cli.add_account(
        "shop",
        &sim.sim.base_url(),
        &["--pixel", PIXEL_ID, "--test-event-code", "TEST2468"],
        &[("access-token", TOKEN)],
    );
    let mut env = cli.env.clone();
    env.push(("META_MONITOR_DB".into(), cli.db.clone()));
    let Some(app) = Desktop::launch(&[], &env) else {
        return;
    };

    let pixel = r#"article[data-service="pixel"]"#;
    app.wait_text(pixel, Duration::from_secs(30), |t| t.contains("Details"));
    app.click(&format!("{pixel} .actions button:last-child"));
    let form = r#"form[aria-label="Send test event"]"#;
    app.wait_for(form, Duration::from_secs(15));
    app.type_into(&format!(r#"{form} input[name="em"]"#), EMAIL);

    let hash = sha256_hex(NORMALIZED);
    app.wait_text(
        &format!(r#"{form} tr[data-key="em"] .normalized"#),
        Duration::from_secs(10),
        |t| t == NORMALIZED,
    );
    let sent = app
        .text(&format!(r#"{form} tr[data-key="em"] .sent"#))
        .unwrap_or_default();
    assert_eq!(sent, hash, "the core's SHA-256 of the normalized value");
    app.screenshot("pixel-test-event-preview.png");

    app.wait_for(
        &format!(r#"{form} button[type="submit"]:not([disabled])"#),
        Duration::from_secs(10),
    );
    app.click(&format!(r#"{form} button[type="submit"]"#));
    let status = app.wait_text(
        &format!(r#"{form} [role="status"]"#),
        Duration::from_secs(20),
        |t| t.contains("Meta received"),
    );
    assert!(
        status.contains("Meta received 1 event(s) into test events (TEST2468)"),
        "{status}"
    );
    app.screenshot("pixel-test-event-sent.png");

    // What the simulator received: the hash and the test code, never the address.
    let received: Vec<Value> =
        reqwest::blocking::get(format!("{}/__admin/events", sim.sim.base_url()))
            .and_then(reqwest::blocking::Response::json)
            .unwrap_or_default();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0]["test_event_code"], "TEST2468");

    // The page and the database forget the raw address.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while app
        .source()
        .to_lowercase()
        .contains("jane.doe@shop.example")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the raw e-mail stays in the page"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    app.wait_text(r#"table.sent-events"#, Duration::from_secs(10), |t| {
        t.contains("Purchase") && t.contains("received")
    });
    for file in ["capi-window.db", "capi-window.db-wal"] {
        let bytes = std::fs::read(keyring.dir.path().join(file)).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes).to_lowercase();
        assert!(!text.contains("jane.doe"), "no raw e-mail in {file}");
        assert!(!text.contains(&hash), "no customer hash kept in {file}");
    }
    assert!(
        !app.source().contains(TOKEN),
        "the token never reaches the page"
    );
}
