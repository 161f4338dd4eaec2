//! Desktop manners, in the real window: start-at-login launches the app hidden in the tray
//! (`--hidden`), and launching it again while it runs shows the running window and exits —
//! one monitor, one set of alerts.

#![allow(
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test loudly"
)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use meta_monitor_e2e::desktop::Desktop;
use meta_monitor_e2e::{KeyringSession, desktop_bin};

#[test]
fn a_login_start_is_hidden_and_a_second_launch_shows_the_first() {
    // A session bus of its own: the single-instance lock lives on it.
    let Some(session) = KeyringSession::start() else {
        return;
    };
    let mut env = session.env();
    env.push((
        "META_MONITOR_DB".to_owned(),
        session.dir.path().join("app.db").display().to_string(),
    ));
    let Some(app) = Desktop::launch(&["--demo", "--hidden"], &env) else {
        return;
    };
    app.wait_for("section.overview", Duration::from_secs(45));
    assert_eq!(
        app.evaluate("return document.hidden"),
        serde_json::Value::Bool(true),
        "started for the tray: no window"
    );

    // The second copy: same user, same bus, same display.
    let launched = Instant::now();
    let mut second = Command::new(desktop_bin())
        .arg("--demo")
        .envs(env.iter().cloned())
        .env("DISPLAY", &app.display)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("a second copy starts");
    let status = loop {
        if let Some(status) = second.try_wait().expect("the second copy's status") {
            break status;
        }
        if launched.elapsed() > Duration::from_secs(30) {
            let _ = second.kill();
            let _ = second.wait();
            panic!("the second copy kept running: two monitors, two sets of alerts");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        status.success(),
        "the second copy hands over and exits cleanly: {status:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    while app.evaluate("return document.hidden") != serde_json::Value::Bool(false) {
        assert!(
            Instant::now() < deadline,
            "the running window was not shown"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // It monitored all along; shown, the window catches up with the tiles it skipped.
    app.wait_for(r#"article[data-service="token"]"#, Duration::from_secs(45));

    // Start at login, from Settings: the login entry starts the app with --hidden.
    app.click("header.app nav button[data-view=\"settings\"]");
    app.wait_for("fieldset.prefs", Duration::from_secs(15));
    app.click("fieldset.prefs label:nth-child(3) input");
    // Where the autostart plugin (the auto-launch crate) writes it: ~/.config/autostart.
    let config = env
        .iter()
        .find(|(k, _)| k == "HOME")
        .map(|(_, v)| std::path::Path::new(v).join(".config"))
        .expect("the session's home folder");
    let deadline = Instant::now() + Duration::from_secs(15);
    let entry = loop {
        let found = std::fs::read_dir(config.join("autostart"))
            .ok()
            .and_then(|mut entries| entries.next())
            .and_then(Result::ok)
            .and_then(|e| std::fs::read_to_string(e.path()).ok());
        if let Some(text) = found {
            break text;
        }
        assert!(Instant::now() < deadline, "no login entry was written");
        std::thread::sleep(Duration::from_millis(200));
    };
    let exec = entry
        .lines()
        .find(|l| l.starts_with("Exec="))
        .unwrap_or_default();
    assert!(
        exec.contains("meta-monitor-desktop") && exec.contains("--hidden"),
        "the login entry starts the app in the tray: {entry}"
    );
}
