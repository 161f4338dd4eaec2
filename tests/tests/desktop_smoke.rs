//! The desktop window, for real: Xvfb, tauri-driver and WebKitWebDriver open
//! `meta-monitor-desktop --demo`, which watches its built-in simulator; the window must show
//! the demo's states as the monitor measures them, and never touch the database file.

#![allow(
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test loudly"
)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use meta_monitor_e2e::{desktop_bin, have, require, start_xvfb};
use serde_json::{Value, json};

/// Kills a child on drop; tauri-driver gets SIGTERM so it stops WebKitWebDriver too.
struct Guard(Child, bool);

impl Drop for Guard {
    fn drop(&mut self) {
        if self.1 {
            let _ = Command::new("kill")
                .args(["-TERM", &self.0.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.0.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

struct WebDriver {
    http: reqwest::blocking::Client,
    base: String,
}

impl WebDriver {
    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            request = request.json(&b);
        }
        let response = request.send().expect("webdriver request");
        response.json().expect("webdriver json")
    }
}

/// Saves the window as a PNG under target/<profile>/screenshots/ (the run's artifacts).
fn save_screenshot(wd: &WebDriver, sid: &str, name: &str) {
    let shot = wd.call(
        reqwest::Method::GET,
        &format!("/session/{sid}/screenshot"),
        None,
    );
    let png = shot["value"]
        .as_str()
        .and_then(|b64| {
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64).ok()
        })
        .expect("a PNG screenshot");
    assert!(png.starts_with(b"\x89PNG"), "the screenshot is a PNG");
    let shots = meta_monitor_e2e::target_dir().join("screenshots");
    std::fs::create_dir_all(&shots).expect("screenshots folder");
    std::fs::write(shots.join(name), &png).expect("screenshot saved");
}

#[test]
fn the_demo_window_shows_every_state_live() {
    let tools = have("Xvfb") && have("tauri-driver") && have("WebKitWebDriver");
    if !require(
        tools,
        "Xvfb, tauri-driver and WebKitWebDriver must be installed (see scripts/setup-debian.sh)",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("desktop.db");
    let app = desktop_bin();

    let (xvfb, display) = start_xvfb("1280x800x24");
    let _xvfb = Guard(xvfb, false);

    let (port, native) = (free_port(), free_port());
    let driver = Command::new("tauri-driver")
        .args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native.to_string(),
        ])
        .env("DISPLAY", &display)
        .env("META_MONITOR_DB", &db)
        .env("XDG_DATA_HOME", dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("tauri-driver starts");
    let _driver = Guard(driver, true);

    let wd = WebDriver {
        http: reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client"),
        base: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while wd.http.get(format!("{}/status", wd.base)).send().is_err() {
        assert!(Instant::now() < deadline, "tauri-driver never listened");
        std::thread::sleep(Duration::from_millis(100));
    }
    let caps = json!({"capabilities": {"alwaysMatch": {"tauri:options": {
        "application": app,
        "args": ["--demo"],
    }}}});
    let session = wd.call(reqwest::Method::POST, "/session", Some(caps));
    let sid = session["value"]["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("session created: {session}"))
        .to_owned();

    let find = |css: &str| -> Option<String> {
        let v = wd.call(
            reqwest::Method::POST,
            &format!("/session/{sid}/element"),
            Some(json!({"using": "css selector", "value": css})),
        );
        v["value"]
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let text_of = |element: &str| -> Option<String> {
        let v = wd.call(
            reqwest::Method::GET,
            &format!("/session/{sid}/element/{element}/text"),
            None,
        );
        v["value"].as_str().map(str::to_owned)
    };
    // The demo's first checks arrive within seconds: wait for the silent pixel, then read the
    // other states. The page re-renders as results arrive, so elements are looked up again.
    let deadline = Instant::now() + Duration::from_secs(45);
    let mut last = None;
    loop {
        let css = r#"article[data-service="pixel"].degraded"#;
        last = find(css).and_then(|e| text_of(&e)).or(last);
        if last.as_deref().is_some_and(|t| t.contains("silent for")) {
            break;
        }
        if Instant::now() > deadline {
            let source = wd.call(
                reqwest::Method::GET,
                &format!("/session/{sid}/source"),
                None,
            );
            panic!(
                "no DEGRADED pixel tile saying 'silent for' (last text {last:?}); page: {source}"
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let expected = [
        ("token", "DEGRADED", "expires in"),
        ("graph_api", "UP", "responding"),
        ("rate_limits", "DOWN", "throttled"),
    ];
    for (service, status, words) in expected {
        let css = format!(r#"article[data-service="{service}"] [data-status="{status}"]"#);
        assert!(find(&css).is_some(), "the {service} tile is {status}");
        let tile = find(&format!(r#"article[data-service="{service}"]"#))
            .and_then(|e| text_of(&e))
            .unwrap_or_default();
        assert!(
            tile.contains(words),
            "the {service} tile says {words:?}: {tile}"
        );
    }
    save_screenshot(&wd, &sid, "overview-demo.png");
    let demo = find(".demo").and_then(|e| text_of(&e));
    assert_eq!(demo.as_deref(), Some("DEMO"), "the demo is labelled");
    let banner = find(r#"[role="status"][data-overall="DOWN"]"#);
    assert!(banner.is_some(), "the banner shows the worst status");
    assert!(
        !db.exists(),
        "the demo never creates or writes the database file"
    );

    // Details of the Graph API: a chart whose SVG has data points, and the error table.
    let click = |element: &str| {
        wd.call(
            reqwest::Method::POST,
            &format!("/session/{sid}/element/{element}/click"),
            Some(json!({})),
        );
    };
    let details = find(r#"article[data-service="graph_api"] .actions button:last-child"#)
        .expect("the Details button");
    click(&details);
    let deadline = Instant::now() + Duration::from_secs(20);
    // Each check is a data point (a circle while a window holds few of them).
    let data_point = r#".chart[data-metric="meta.api.latency_ms"] svg circle"#;
    while find(data_point).is_none() {
        assert!(
            Instant::now() < deadline,
            "the latency chart draws the stored checks"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    std::thread::sleep(Duration::from_millis(700)); // let WebKit paint the new SVG
    save_screenshot(&wd, &sid, "details-graph-api.png");

    // No secret ever reaches the page.
    let source = wd.call(
        reqwest::Method::GET,
        &format!("/session/{sid}/source"),
        None,
    );
    let page = source["value"].as_str().unwrap_or_default();
    assert!(page.contains("Latency"), "the page source was read");
    for secret in [meta_graph_sim::DEMO_TOKEN, meta_graph_sim::APP_SECRET] {
        assert!(!page.contains(secret), "a secret reached the DOM");
    }
    let title = wd.call(reqwest::Method::GET, &format!("/session/{sid}/title"), None);
    assert_eq!(title["value"], "Meta Monitor");
    wd.call(reqwest::Method::DELETE, &format!("/session/{sid}"), None);
}
