//! The desktop app in a real WebKit window: Xvfb, tauri-driver and WebKitWebDriver, and a
//! small W3C WebDriver client over blocking HTTP for the tests that drive it.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{desktop_bin, have, require, start_xvfb};

/// Kills a child on drop; `graceful` sends SIGTERM first (tauri-driver then stops
/// WebKitWebDriver and the app).
struct Guard {
    child: Child,
    graceful: bool,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if self.graceful {
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A WebDriver session on `meta-monitor-desktop`; the session, driver and display end on drop.
pub struct Desktop {
    http: reqwest::blocking::Client,
    base: String,
    sid: String,
    /// When the session (and with it the app) was asked to start.
    pub started: Instant,
    /// The X display the app is on (`:N`), for another process to join it.
    pub display: String,
    // Dropped in this order: the driver (and with it the app) before the display.
    _driver: Guard,
    _xvfb: Guard,
}

impl Desktop {
    /// Starts the app with `args` and `env` at 1280×800. `None` (outside CI only) when the
    /// tools are missing.
    pub fn launch(args: &[&str], env: &[(String, String)]) -> Option<Self> {
        Self::launch_binary(&desktop_bin(), args, env)
    }

    /// Starts `app` (any Tauri binary) like [`Desktop::launch`]; the benchmarks pass a release
    /// build and the minimal window they compare it with.
    pub fn launch_binary(
        app: &std::path::Path,
        args: &[&str],
        env: &[(String, String)],
    ) -> Option<Self> {
        let tools = have("Xvfb") && have("tauri-driver") && have("WebKitWebDriver");
        if !require(
            tools,
            "Xvfb, tauri-driver and WebKitWebDriver must be installed (see scripts/setup-debian.sh)",
        ) {
            return None;
        }
        let (xvfb, display) = start_xvfb("1280x800x24");
        let xvfb = Guard {
            child: xvfb,
            graceful: false,
        };
        let (port, native) = (free_port(), free_port());
        let driver = Command::new("tauri-driver")
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native.to_string(),
            ])
            .env("DISPLAY", &display)
            // No shared session bus unless the test brings its own: two apps on one bus are
            // one app (single instance), and tests run side by side.
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .envs(env.iter().cloned())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tauri-driver starts");
        let driver = Guard {
            child: driver,
            graceful: true,
        };
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while http.get(format!("{base}/status")).send().is_err() {
            assert!(Instant::now() < deadline, "tauri-driver never listened");
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {"tauri:options": {
            "application": app,
            "args": args,
        }}}});
        let started = Instant::now();
        let session: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .and_then(reqwest::blocking::Response::json)
            .expect("new session");
        let sid = session["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("session created: {session}"))
            .to_owned();
        Some(Self {
            http,
            base,
            sid,
            started,
            display,
            _driver: driver,
            _xvfb: xvfb,
        })
    }

    /// The process id of tauri-driver, whose descendants are the app and its WebKit
    /// processes (memory figures).
    pub fn driver_pid(&self) -> u32 {
        self._driver.child.id()
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.sid);
        let mut request = self.http.request(method, url);
        if let Some(b) = body {
            request = request.json(&b);
        }
        request
            .send()
            .and_then(reqwest::blocking::Response::json)
            .expect("webdriver call")
    }

    /// Runs `script` in the page (test scaffolding only; the app's own code never does this).
    fn execute(&self, script: &str) {
        self.evaluate(script);
    }

    /// Runs `script` in the page and returns what it returns (`return document.hidden`).
    pub fn evaluate(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )["value"]
            .clone()
    }

    /// The first element matching `css`, if any.
    pub fn find(&self, css: &str) -> Option<String> {
        let v = self.call(
            reqwest::Method::POST,
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        // A W3C element reference is keyed by this constant; an error ("no such element")
        // is an object too, and must not pass for an element.
        v["value"]["element-6066-11e4-a52e-4f735466cecf"]
            .as_str()
            .map(str::to_owned)
    }

    /// The rendered text of the first element matching `css`.
    pub fn text(&self, css: &str) -> Option<String> {
        let element = self.find(css)?;
        let v = self.call(
            reqwest::Method::GET,
            &format!("/element/{element}/text"),
            None,
        );
        v["value"].as_str().map(str::to_owned)
    }

    pub fn attribute(&self, css: &str, name: &str) -> Option<String> {
        let element = self.find(css)?;
        let v = self.call(
            reqwest::Method::GET,
            &format!("/element/{element}/attribute/{name}"),
            None,
        );
        v["value"].as_str().map(str::to_owned)
    }

    /// Waits up to `timeout` for an element matching `css` whose text satisfies `ok`; the page
    /// re-renders as results arrive, so the element is looked up again each time.
    pub fn wait_text(&self, css: &str, timeout: Duration, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        let mut last = None;
        loop {
            last = self.text(css).or(last);
            if let Some(text) = last.as_deref().filter(|t| ok(t)) {
                return text.to_owned();
            }
            if Instant::now() > deadline {
                panic!(
                    "waited {timeout:?} for {css}; last text {last:?}; page: {}",
                    self.source()
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Waits up to `timeout` for an element matching `css` to exist.
    pub fn wait_for(&self, css: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.find(css).is_none() {
            if Instant::now() > deadline {
                panic!("waited {timeout:?} for {css}; page: {}", self.source());
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    pub fn click(&self, css: &str) {
        let element = self
            .find(css)
            .unwrap_or_else(|| panic!("nothing to click at {css}"));
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/click"),
            Some(json!({})),
        );
    }

    /// Types `text` into the field at `css` (after clearing it).
    pub fn type_into(&self, css: &str, text: &str) {
        let element = self
            .find(css)
            .unwrap_or_else(|| panic!("no field at {css}"));
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/clear"),
            Some(json!({})),
        );
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        );
    }

    /// Sends `keys` to the element at `css` as typed, without clearing it first (arrow keys
    /// and Enter as WebDriver's key codes, e.g. `\u{E015}` for ↓).
    pub fn send_keys(&self, css: &str, keys: &str) {
        let element = self.find(css).unwrap_or_else(|| panic!("nothing at {css}"));
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({ "text": keys })),
        );
    }

    /// Picks `path` in the file input at `css`, as a person choosing it in the file dialog.
    pub fn upload(&self, css: &str, path: &std::path::Path) {
        let element = self
            .find(css)
            .unwrap_or_else(|| panic!("no file input at {css}"));
        let v = self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({ "text": path.to_string_lossy() })),
        );
        assert!(v["value"].get("error").is_none(), "upload {css}: {v}");
    }

    /// Accepts a `confirm()` dialog.
    pub fn accept_dialog(&self) {
        self.call(reqwest::Method::POST, "/alert/accept", Some(json!({})));
    }

    pub fn title(&self) -> String {
        self.call(reqwest::Method::GET, "/title", None)["value"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The page's DOM as HTML.
    pub fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", None)["value"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Saves the window as a PNG under target/<profile>/screenshots/ (the run's artifacts),
    /// after a moment for WebKit to paint what just changed. WebKitWebDriver answers a
    /// screenshot after the page's next paint, and without accelerated compositing (the app's
    /// choice, `src-tauri/src/webkit.rs`) a page where nothing changes never paints: a
    /// 1-pixel, nearly transparent marker in the corner flickers until the shot is taken.
    pub fn screenshot(&self, name: &str) {
        std::thread::sleep(Duration::from_millis(700));
        self.execute(
            "const m = document.createElement('div'); m.id = 'e2e-paint';
             m.style.cssText = 'position:fixed;right:0;bottom:0;width:1px;height:1px;pointer-events:none';
             document.body.append(m); let n = 0;
             const t = setInterval(() => m.isConnected
               ? (m.style.background = `rgba(0,0,0,0.0${1 + (n++ % 2)})`)
               : clearInterval(t), 50);",
        );
        let shot = self.call(reqwest::Method::GET, "/screenshot", None);
        self.execute("document.getElementById('e2e-paint')?.remove()");
        let png = shot["value"]
            .as_str()
            .and_then(|b64| {
                base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64).ok()
            })
            .expect("a PNG screenshot");
        assert!(png.starts_with(b"\x89PNG"), "the screenshot is a PNG");
        let shots = crate::target_dir().join("screenshots");
        std::fs::create_dir_all(&shots).expect("screenshots folder");
        std::fs::write(shots.join(name), &png).expect("screenshot saved");
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        let url = format!("{}/session/{}", self.base, self.sid);
        let _ = self.http.delete(url).send();
    }
}
