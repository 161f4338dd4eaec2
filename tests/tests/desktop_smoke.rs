//! The desktop window, for real: Xvfb, tauri-driver and WebKitWebDriver open
//! `meta-monitor-desktop` on a database filled by a real check against the simulator, and the
//! window must show the stored tiles.

#![allow(
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test loudly"
)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use meta_graph_sim::{Scenario, SimConfig};
use meta_monitor_core::check;
use meta_monitor_core::graph::{Credentials, Timeouts, http_client};
use meta_monitor_core::probe::Thresholds;
use meta_monitor_core::store::Store;
use meta_monitor_core::{Account, Secret};
use meta_monitor_e2e::{Sim, desktop_bin, have, require, start_xvfb};
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

fn fill_database(path: &std::path::Path) {
    let sim = Sim::start(SimConfig::default());
    sim.sim.set_scenario(Scenario::PixelSilent);
    let mut account = Account::new("smoke-shop");
    account.graph_url = sim.sim.base_url();
    account.app_id = Some(meta_graph_sim::APP_ID.into());
    account.pixel_id = Some(meta_graph_sim::PIXEL_ID.into());
    account.catalog_id = Some(meta_graph_sim::CATALOG_ID.into());
    let account = account.validate().expect("valid account");
    let credentials = Credentials {
        access_token: Secret::new(meta_graph_sim::DEMO_TOKEN),
        app_secret: Some(Secret::new(meta_graph_sim::APP_SECRET)),
        verify_token: None,
    };
    let http = http_client(Timeouts::default()).expect("client");
    let now = time::OffsetDateTime::now_utc();
    let reports = sim.block_on(check::run_probes(
        &account,
        credentials,
        &http,
        now,
        &Thresholds::default(),
    ));
    let mut store = Store::open(path).expect("store");
    let id = store.add_account(&account, now).expect("account");
    check::persist(&mut store, id, &reports).expect("persisted");
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

#[test]
fn the_window_lists_the_stored_tiles() {
    let tools = have("Xvfb") && have("tauri-driver") && have("WebKitWebDriver");
    if !require(
        tools,
        "Xvfb, tauri-driver and WebKitWebDriver must be installed (see scripts/setup-debian.sh)",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("desktop.db");
    fill_database(&db);
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
    let caps = json!({"capabilities": {"alwaysMatch": {"tauri:options": {"application": app}}}});
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
    // Wait for the silent pixel's tile, shown DEGRADED as stored, with its message. The list
    // loads asynchronously and the page may be re-rendered while the session starts, so a
    // stale element is looked up again rather than failing the test.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = None;
    loop {
        let css = r#"[data-account="smoke-shop"] [data-service="pixel"][data-status="DEGRADED"]"#;
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
        std::thread::sleep(Duration::from_millis(200));
    }
    let graph = find(r#"[data-service="graph_api"][data-status="UP"]"#);
    assert!(graph.is_some(), "the graph_api tile is UP");
    let ads = find(r#"[data-service="ads"][data-status="UNKNOWN"]"#);
    assert!(
        ads.is_some(),
        "an unconfigured service is UNKNOWN, not DOWN"
    );
    let title = wd.call(reqwest::Method::GET, &format!("/session/{sid}/title"), None);
    assert_eq!(title["value"], "Meta Monitor");
    wd.call(reqwest::Method::DELETE, &format!("/session/{sid}"), None);
}
