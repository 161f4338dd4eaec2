//! The simulator speaks with real clients: Meta's official SDKs — `facebook-business` from
//! PyPI in a throw-away virtualenv, `facebook-nodejs-business-sdk` from npm in a throw-away
//! directory — run `tests/sdk/*_conformance.*` against the simulator over loopback: reads of
//! every endpoint it serves, a Conversions API `EventRequest` with a test code, a catalog
//! `items_batch`, and the scenarios' errors through the SDK's error class. Shop developers
//! point their own backends at `meta-monitor simulate`; this proves those clients work.

#![allow(
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test loudly"
)]

use std::path::Path;
use std::process::{Command, Output};

use meta_graph_sim::SimConfig;
use meta_monitor_e2e::{Sim, describe, have, require};

/// The SDK releases the scripts were written against (the newest each registry offers).
const PYTHON_SDK: &str = "facebook-business>=26,<27";
const NODE_SDK: &str = "facebook-nodejs-business-sdk@24.0.1";

fn script(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sdk")
        .join(name)
        .display()
        .to_string()
}

fn run(command: &mut Command) -> Output {
    command.output().expect("the command starts")
}

fn passed(out: &Output) -> bool {
    out.status.success() && String::from_utf8_lossy(&out.stdout).contains("all checks passed")
}

#[test]
fn the_official_python_sdk_reads_sends_and_understands_errors() {
    if !require(
        have("python3")
            && run(Command::new("python3").args(["-c", "import venv, ensurepip"]))
                .status
                .success(),
        "python3 with venv (python3-venv)",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let venv = dir.path().join("venv");
    let made = run(Command::new("python3").arg("-m").arg("venv").arg(&venv));
    assert!(made.status.success(), "venv: {}", describe(&made));
    let pip = run(Command::new(venv.join("bin/pip")).args([
        "install",
        "--quiet",
        "--disable-pip-version-check",
        PYTHON_SDK,
    ]));
    assert!(pip.status.success(), "pip install: {}", describe(&pip));
    let sim = Sim::start(SimConfig::default());
    let out = run(Command::new(venv.join("bin/python"))
        .arg(script("python_conformance.py"))
        .arg(sim.sim.base_url()));
    assert!(passed(&out), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for check in [
        "EventRequest.execute",
        "items_batch",
        "expired token: 190/463",
        "Meta's wording",
    ] {
        assert!(
            stdout.contains(&format!("ok   {check}")),
            "{check}: {stdout}"
        );
    }
}

#[test]
fn the_official_node_sdk_reads_sends_and_understands_errors() {
    if !require(have("npm") && have("node"), "Node.js and npm") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let install = run(Command::new("npm")
        .args([
            "install",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            "--prefix",
        ])
        .arg(dir.path())
        .arg(NODE_SDK));
    assert!(
        install.status.success(),
        "npm install: {}",
        describe(&install)
    );
    let sim = Sim::start(SimConfig::default());
    let out = run(Command::new("node")
        .arg(script("node_conformance.js"))
        .arg(sim.sim.base_url())
        .env("NODE_PATH", dir.path().join("node_modules")));
    assert!(passed(&out), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for check in [
        "EventRequest.execute",
        "items_batch",
        "expired token: 190/463",
        "outage: transient",
    ] {
        assert!(
            stdout.contains(&format!("ok   {check}")),
            "{check}: {stdout}"
        );
    }
}
