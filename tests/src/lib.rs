//! Helpers for the end-to-end tests: the built binaries, an in-process simulator, a private
//! D-Bus session with a real unlocked GNOME Keyring, and the CI-or-skip rule (in CI a missing
//! tool fails the test; elsewhere the test says why it skips).

#![allow(
    clippy::expect_used,
    reason = "test support: a failed setup step must fail the calling test loudly"
)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub mod bench;
pub mod desktop;
pub mod history;
pub mod month;
pub mod network;

use meta_graph_sim::{SimConfig, Simulator};

/// True under CI (`CI` set), where nothing may be skipped.
pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// In CI: panics with `why`. Elsewhere: prints why the test is skipped and returns false.
pub fn require(available: bool, why: &str) -> bool {
    if available {
        return true;
    }
    assert!(!in_ci(), "required in CI: {why}");
    eprintln!("SKIPPED outside CI: {why}");
    false
}

pub fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `target/debug` (or the profile directory these tests were built in).
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>")
        .to_owned()
}

/// Builds the workspace's binaries once per test process. `--workspace` on purpose: a
/// single-package build resolves features differently and would rebuild half the tree.
fn workspace_bins() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
            let status = Command::new(cargo)
                .args(["build", "--quiet", "--workspace", "--bins"])
                .status()
                .expect("running cargo build");
            assert!(status.success(), "building the workspace binaries failed");
            target_dir()
        })
        .clone()
}

pub fn cli_bin() -> PathBuf {
    workspace_bins().join("meta-monitor")
}

pub fn desktop_bin() -> PathBuf {
    workspace_bins().join("meta-monitor-desktop")
}

/// A simulator running on its own runtime, for synchronous tests.
pub struct Sim {
    pub sim: Simulator,
    runtime: tokio::runtime::Runtime,
}

impl Sim {
    pub fn start(config: SimConfig) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("sim")
            .enable_all()
            .build()
            .expect("tokio runtime");
        let sim = runtime
            .block_on(Simulator::start_local(config))
            .expect("simulator starts");
        Self { sim, runtime }
    }

    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    /// Stops the simulator: its port refuses connections until [`Sim::restart`].
    pub fn stop(&mut self) -> std::net::SocketAddr {
        let addr = self.sim.addr();
        let placeholder = self
            .runtime
            .block_on(Simulator::start_local(SimConfig::default()))
            .expect("placeholder simulator");
        let running = std::mem::replace(&mut self.sim, placeholder);
        self.runtime.block_on(running.shutdown());
        addr
    }

    /// Starts a fresh simulator on `addr` (the port a stopped one had).
    pub fn restart(&mut self, addr: std::net::SocketAddr, config: SimConfig) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self
                .runtime
                .block_on(Simulator::start(addr, config.clone()))
            {
                Ok(sim) => {
                    self.sim = sim;
                    return;
                }
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("cannot restart the simulator on {addr}: {e}"),
            }
        }
    }
}

/// A private session bus with GNOME Keyring unlocked on it; everything is stopped on drop.
pub struct KeyringSession {
    pub bus_address: String,
    pub dir: tempfile::TempDir,
    dbus: Child,
    keyring: Child,
}

impl KeyringSession {
    /// Starts `dbus-daemon` and `gnome-keyring-daemon --unlock`; `None` (skipped outside CI)
    /// when the programs are not installed.
    pub fn start() -> Option<Self> {
        let available = have("dbus-daemon") && have("gnome-keyring-daemon") && have("dbus-send");
        if !require(
            available,
            "dbus-daemon, gnome-keyring-daemon and dbus-send must be installed",
        ) {
            return None;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        for sub in ["data", "run", "cache", "config", "home"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("xdg dir");
        }
        set_private(&dir.path().join("run"));
        let mut dbus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .envs(xdg_env(dir.path()))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon starts");
        let mut line = String::new();
        BufReader::new(dbus.stdout.take().expect("dbus stdout"))
            .read_line(&mut line)
            .expect("bus address");
        let bus_address = line.trim().to_owned();
        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .envs(xdg_env(dir.path()))
            .env("DBUS_SESSION_BUS_ADDRESS", &bus_address)
            .env_remove("DISPLAY")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon starts");
        keyring
            .stdin
            .take()
            .expect("keyring stdin")
            .write_all(b"test-keyring-password")
            .expect("unlock password");
        let session = Self {
            bus_address,
            dir,
            dbus,
            keyring,
        };
        session.wait_for_name("org.freedesktop.secrets");
        Some(session)
    }

    /// Waits until `name` is owned on this bus (a daemon finished starting).
    pub fn wait_for_name(&self, name: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let out = Command::new("dbus-send")
                .args([
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    &format!("string:{name}"),
                ])
                .env("DBUS_SESSION_BUS_ADDRESS", &self.bus_address)
                .output()
                .expect("dbus-send runs");
            if String::from_utf8_lossy(&out.stdout).contains("boolean true") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{name} never appeared on the test bus"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// What `secret-tool search --all service SERVICE` prints (values included) for this
    /// keychain: how the tests see what really landed in GNOME Keyring.
    pub fn secret_tool_search(&self, service: &str) -> String {
        let out = Command::new("secret-tool")
            .args(["search", "--all", "service", service])
            .envs(self.env())
            .output()
            .expect("secret-tool runs");
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    /// Locks the keychain's `login` collection, as the desktop does on screen lock or at
    /// login before the user unlocks it; reading a secret then needs a prompt nobody answers.
    pub fn lock(&self) {
        let out = Command::new("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.secrets",
                "/org/freedesktop/secrets",
                "org.freedesktop.Secret.Service.Lock",
                "array:objpath:/org/freedesktop/secrets/collection/login",
            ])
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus_address)
            .output()
            .expect("dbus-send runs");
        assert!(
            out.status.success(),
            "locking the keychain: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Unlocks the keychain the way a login does: the same daemon gets the password through
    /// GNOME Keyring's own interface (the Secret Service's Unlock needs a prompt, which a test
    /// cannot answer), so clients connected to it carry on.
    pub fn unlock(&self) {
        use zbus::zvariant::{ObjectPath, OwnedObjectPath, OwnedValue, Value};
        let conn = zbus::blocking::connection::Builder::address(self.bus_address.as_str())
            .and_then(zbus::blocking::connection::Builder::build)
            .expect("connecting to the test bus");
        let opened = conn
            .call_method(
                Some("org.freedesktop.secrets"),
                "/org/freedesktop/secrets",
                Some("org.freedesktop.Secret.Service"),
                "OpenSession",
                &("plain", Value::from("")),
            )
            .expect("a plain Secret Service session");
        let (_, session): (OwnedValue, OwnedObjectPath) =
            opened.body().deserialize().expect("OpenSession reply");
        let login = ObjectPath::try_from("/org/freedesktop/secrets/collection/login")
            .expect("collection path");
        let secret = (
            session,
            Vec::<u8>::new(),
            b"test-keyring-password".to_vec(),
            "text/plain",
        );
        conn.call_method(
            Some("org.freedesktop.secrets"),
            "/org/freedesktop/secrets",
            Some("org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface"),
            "UnlockWithMasterPassword",
            &(login, secret),
        )
        .expect("unlocking the login collection");
    }

    /// Environment for a child process that should use this keychain.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = xdg_env(self.dir.path());
        env.push((
            "DBUS_SESSION_BUS_ADDRESS".to_owned(),
            self.bus_address.clone(),
        ));
        env
    }
}

impl Drop for KeyringSession {
    fn drop(&mut self) {
        let _ = self.keyring.kill();
        let _ = self.keyring.wait();
        let _ = self.dbus.kill();
        let _ = self.dbus.wait();
    }
}

fn xdg_env(root: &Path) -> Vec<(String, String)> {
    let p = |s: &str| root.join(s).to_string_lossy().into_owned();
    vec![
        ("XDG_DATA_HOME".to_owned(), p("data")),
        ("XDG_RUNTIME_DIR".to_owned(), p("run")),
        ("XDG_CACHE_HOME".to_owned(), p("cache")),
        ("XDG_CONFIG_HOME".to_owned(), p("config")),
        ("HOME".to_owned(), p("home")),
    ]
}

fn set_private(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).expect("chmod 700");
}

/// Runs `meta-monitor` with `args`, the given environment and stdin; never inherits the
/// user's keychain service (each test passes its own).
pub fn run_cli(env: &[(String, String)], args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(cli_bin())
        .args(args)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env_remove("META_MONITOR_DB")
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("meta-monitor starts");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).expect("write stdin");
    }
    drop(input);
    child.wait_with_output().expect("meta-monitor finishes")
}

/// Starts `meta-monitor` with `args` in the background (for `run`); stdout and stderr piped.
pub fn spawn_cli(env: &[(String, String)], args: &[&str]) -> Child {
    Command::new(cli_bin())
        .args(args)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env_remove("META_MONITOR_DB")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("meta-monitor starts")
}

/// stdout, stderr and status of an output, for assertion messages.
pub fn describe(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Starts Xvfb on a free display (`-displayfd`) with one screen of `geometry`; returns the
/// server and its `DISPLAY` value (`:N`).
pub fn start_xvfb(geometry: &str) -> (Child, String) {
    let mut xvfb = Command::new("Xvfb")
        .args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            geometry,
            "-nolisten",
            "tcp",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("Xvfb starts");
    let mut number = String::new();
    BufReader::new(xvfb.stdout.take().expect("xvfb stdout"))
        .read_line(&mut number)
        .expect("Xvfb reports its display");
    assert!(!number.trim().is_empty(), "Xvfb reported its display");
    (xvfb, format!(":{}", number.trim()))
}

/// A real notification server (dunst on its own Xvfb display) on a keyring session's bus;
/// every notification becomes a line `summary|body|urgency` in [`Self::captured`].
pub struct NotificationServer {
    capture: PathBuf,
    xvfb: Child,
    dunst: Child,
}

impl NotificationServer {
    pub fn start(session: &KeyringSession) -> Option<Self> {
        if !require(
            have("dunst") && have("Xvfb"),
            "dunst and Xvfb must be installed",
        ) {
            return None;
        }
        let dir = session.dir.path();
        let capture = dir.join("notifications.txt");
        let script = dir.join("capture.sh");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nprintf '%s|%s|%s\\n' \"$2\" \"$3\" \"$5\" >> '{}'\n",
                capture.display()
            ),
        )
        .expect("capture script");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let config = dir.join("dunstrc");
        std::fs::write(
            &config,
            format!(
                "[global]\n    font = Monospace 8\n[capture_all]\n    summary = \"*\"\n    script = {}\n",
                script.display()
            ),
        )
        .expect("dunstrc");
        let (xvfb, display) = start_xvfb("1024x768x24");
        let dunst = Command::new("dunst")
            .args(["-config", &config.to_string_lossy()])
            .envs(session.env())
            .env("DISPLAY", &display)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dunst starts");
        session.wait_for_name("org.freedesktop.Notifications");
        Some(Self {
            capture,
            xvfb,
            dunst,
        })
    }

    /// The notifications seen so far, waiting up to two seconds for `at_least` of them.
    pub fn captured(&self, at_least: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let lines: Vec<String> = std::fs::read_to_string(&self.capture)
                .unwrap_or_default()
                .lines()
                .map(str::to_owned)
                .collect();
            if lines.len() >= at_least || Instant::now() > deadline {
                return lines;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for NotificationServer {
    fn drop(&mut self) {
        for child in [&mut self.dunst, &mut self.xvfb] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A local HTTP endpoint that accepts every POST and keeps the bodies (a team webhook).
pub struct WebhookReceiver {
    pub url: String,
    bodies: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl WebhookReceiver {
    pub fn start() -> Self {
        use std::io::Read;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!(
            "http://{}/hooks/team-secret-path",
            listener.local_addr().expect("addr")
        );
        let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = bodies.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
                let mut length = 0usize;
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    line.clear();
                }
                let mut body = vec![0u8; length];
                if let (Ok(()), Ok(mut b)) = (reader.read_exact(&mut body), sink.lock()) {
                    b.push(String::from_utf8_lossy(&body).into_owned());
                }
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                );
            }
        });
        Self { url, bodies }
    }

    pub fn bodies(&self) -> Vec<String> {
        self.bodies.lock().map(|b| b.clone()).unwrap_or_default()
    }
}

/// A shop's feed server: serves one document at `url` with an `ETag` (SHA-256 of the body)
/// and answers `304 Not Modified` to a matching `If-None-Match`, as web servers and CDNs do.
pub struct FeedServer {
    pub url: String,
    body: std::sync::Arc<std::sync::Mutex<String>>,
    /// (200 responses, 304 responses).
    served: std::sync::Arc<std::sync::Mutex<(u32, u32)>>,
}

impl FeedServer {
    pub fn start(body: &str) -> Self {
        use sha2::Digest;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!(
            "http://{}/export/feed.xml?key=shop-feed-key",
            listener.local_addr().expect("addr")
        );
        let body = std::sync::Arc::new(std::sync::Mutex::new(body.to_owned()));
        let served = std::sync::Arc::new(std::sync::Mutex::new((0, 0)));
        let (document, counts) = (body.clone(), served.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
                let mut if_none_match = None;
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("if-none-match:") {
                        if_none_match = Some(v.trim().to_owned());
                    }
                    line.clear();
                }
                let text = document.lock().map(|d| d.clone()).unwrap_or_default();
                let etag = format!("\"{}\"", hex::encode(sha2::Sha256::digest(text.as_bytes())));
                let response = if if_none_match.as_deref() == Some(etag.as_str()) {
                    if let Ok(mut c) = counts.lock() {
                        c.1 += 1;
                    }
                    format!(
                        "HTTP/1.1 304 Not Modified\r\netag: {etag}\r\nconnection: close\r\n\r\n"
                    )
                } else {
                    if let Ok(mut c) = counts.lock() {
                        c.0 += 1;
                    }
                    format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/rss+xml\r\netag: {etag}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                        text.len()
                    )
                };
                let _ = stream.write_all(response.as_bytes());
            }
        });
        Self { url, body, served }
    }

    /// Serves `body` from now on.
    pub fn replace(&self, body: &str) {
        if let Ok(mut b) = self.body.lock() {
            *b = body.to_owned();
        }
    }

    /// (full downloads, `304` answers) so far.
    pub fn served(&self) -> (u32, u32) {
        self.served.lock().map(|c| *c).unwrap_or_default()
    }
}

/// An operator's webhook endpoint as Meta expects it: answers the verification handshake and
/// accepts signed deliveries. `echo_wrong` makes it echo a wrong challenge.
pub struct HubEndpoint {
    pub url: String,
    pub echo_wrong: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// (method, handshake or signature valid)
    seen: std::sync::Arc<std::sync::Mutex<Vec<(String, bool)>>>,
}

impl HubEndpoint {
    pub fn start(verify_token: &'static str, app_secret: &'static str) -> Self {
        use hmac::{Hmac, Mac};
        use std::io::Read;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!(
            "http://{}/meta/webhook",
            listener.local_addr().expect("addr")
        );
        let echo_wrong = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (wrong, log) = (echo_wrong.clone(), seen.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
                let mut request_line = String::new();
                let _ = reader.read_line(&mut request_line);
                let (mut length, mut signature) = (0usize, String::new());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                    let lower = line.to_ascii_lowercase();
                    if let Some(v) = lower.strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    if let Some(v) = lower.strip_prefix("x-hub-signature-256:") {
                        signature = v.trim().to_owned();
                    }
                    line.clear();
                }
                let mut body = vec![0u8; length];
                let _ = reader.read_exact(&mut body);
                let target = request_line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("")
                    .to_owned();
                let query: std::collections::HashMap<String, String> =
                    url::Url::parse(&format!("http://x{target}"))
                        .map(|u| u.query_pairs().into_owned().collect())
                        .unwrap_or_default();
                let (status, reply, valid) = if request_line.starts_with("GET") {
                    let ok = query.get("hub.mode").map(String::as_str) == Some("subscribe")
                        && query.get("hub.verify_token").map(String::as_str) == Some(verify_token);
                    let challenge = query.get("hub.challenge").cloned().unwrap_or_default();
                    let echo = if wrong.load(std::sync::atomic::Ordering::Relaxed) {
                        "12345".to_owned()
                    } else {
                        challenge
                    };
                    if ok {
                        ("200 OK", echo, true)
                    } else {
                        ("403 Forbidden", String::new(), false)
                    }
                } else {
                    let mut mac =
                        Hmac::<sha2::Sha256>::new_from_slice(app_secret.as_bytes()).expect("key");
                    mac.update(&body);
                    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
                    if signature == expected {
                        ("200 OK", String::new(), true)
                    } else {
                        ("401 Unauthorized", String::new(), false)
                    }
                };
                if let Ok(mut l) = log.lock() {
                    l.push((
                        request_line
                            .split_whitespace()
                            .next()
                            .unwrap_or("")
                            .to_owned(),
                        valid,
                    ));
                }
                let response = format!(
                    "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
                    reply.len()
                );
                let _ = stream.write_all(response.as_bytes());
            }
        });
        Self {
            url,
            echo_wrong,
            seen,
        }
    }

    /// Requests received so far: (method, valid handshake or signature).
    pub fn seen(&self) -> Vec<(String, bool)> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// A `meta-monitor` environment for one test: its keychain session and database.
pub struct CliEnv {
    pub env: Vec<(String, String)>,
    pub db: String,
}

impl CliEnv {
    /// Uses `keyring` with its own keychain service name and `db_file` in its folder.
    pub fn new(keyring: &KeyringSession, service: &str, db_file: &str) -> Self {
        let mut env = keyring.env();
        env.push((
            "META_MONITOR_KEYCHAIN_SERVICE".to_owned(),
            service.to_owned(),
        ));
        let db = keyring
            .dir
            .path()
            .join(db_file)
            .to_string_lossy()
            .into_owned();
        Self { env, db }
    }

    /// `meta-monitor --db <db> <args…>`.
    pub fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut full = vec!["--db", self.db.as_str()];
        full.extend_from_slice(args);
        run_cli(&self.env, &full, stdin)
    }

    /// `meta-monitor --db <db> <args…>` in the background.
    pub fn spawn(&self, args: &[&str]) -> Child {
        let mut full = vec!["--db", self.db.as_str()];
        full.extend_from_slice(args);
        spawn_cli(&self.env, &full)
    }

    /// Adds an account pointing at `graph_url` and stores its secrets; panics on failure.
    pub fn add_account(
        &self,
        name: &str,
        graph_url: &str,
        extra: &[&str],
        secrets: &[(&str, &str)],
    ) {
        let mut args = vec!["account", "add", name, "--graph-url", graph_url];
        args.extend_from_slice(extra);
        let out = self.run(&args, None);
        assert!(
            out.status.success(),
            "account add {name}: {}",
            describe(&out)
        );
        for (kind, value) in secrets {
            let out = self.run(&["secret", "set", name, kind], Some(value));
            assert!(
                out.status.success(),
                "secret set {name} {kind}: {}",
                describe(&out)
            );
        }
    }
}

/// Starts `meta-monitor product sync shop --all` and kills it (SIGKILL) once one batch is
/// confirmed and the next is in flight at Meta: a sync stopped mid-way, as by a crash.
pub fn kill_sync_mid_way(cli: &CliEnv) {
    let mut child = cli.spawn(&["product", "sync", "shop", "--all"]);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(
            Instant::now() < deadline,
            "the sync never reached its second batch"
        );
        let store = meta_monitor_core::store::Store::open(Path::new(&cli.db)).expect("db");
        let account = store.account("shop").expect("account").expect("shop").id;
        let confirmed = store.product_counts(account).expect("counts").success;
        let in_flight = store.in_flight(account).expect("queue").len();
        drop(store);
        if confirmed > 0 && in_flight > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().expect("kill -9");
    let _ = child.wait();
}

/// Sends SIGTERM (so the process can stop cleanly) and waits for it.
pub fn terminate(child: Child) -> Output {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    child.wait_with_output().expect("the process exits")
}
