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

/// Builds a workspace binary once per test process and returns its path.
fn built(package: &'static str, bin: &'static str, cell: &'static OnceLock<PathBuf>) -> PathBuf {
    cell.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "-p", package, "--bin", bin])
            .status()
            .expect("running cargo build");
        assert!(status.success(), "building {bin} failed");
        target_dir().join(bin)
    })
    .clone()
}

pub fn cli_bin() -> PathBuf {
    static CELL: OnceLock<PathBuf> = OnceLock::new();
    built("meta-monitor-cli", "meta-monitor", &CELL)
}

pub fn desktop_bin() -> PathBuf {
    static CELL: OnceLock<PathBuf> = OnceLock::new();
    built("meta-monitor-desktop", "meta-monitor-desktop", &CELL)
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

    fn wait_for_name(&self, name: &str) {
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

/// stdout, stderr and status of an output, for assertion messages.
pub fn describe(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
