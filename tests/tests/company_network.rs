//! Inside a company: Meta is reached over HTTPS through the company's proxy, and the
//! certificate is signed by the company's own CA (a TLS-inspecting proxy). `meta-monitor`
//! trusts what the operating system trusts (`SSL_CERT_FILE` stands in for the system store
//! here) and honours `HTTPS_PROXY` / `NO_PROXY`; an untrusted certificate is named as such.

#![allow(
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test loudly"
)]

use meta_graph_sim::{APP_ID, SimConfig};
use meta_monitor_e2e::network::{ConnectProxy, PrivateCa, TlsFront};
use meta_monitor_e2e::{Sim, describe, have, require, run_cli};
use serde_json::Value;

/// `check --json` of the env account with these extra variables: the graph_api tile.
fn graph_api(db: &str, extra: &[(&str, String)]) -> Value {
    let mut env: Vec<(String, String)> = vec![
        (
            "META_ACCESS_TOKEN".to_owned(),
            "fake-company-token-0123456789".to_owned(),
        ),
        ("META_APP_ID".to_owned(), APP_ID.to_owned()),
        (
            "DBUS_SESSION_BUS_ADDRESS".to_owned(),
            "unix:path=/nonexistent/bus".to_owned(),
        ),
    ];
    env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    let out = run_cli(
        &env,
        &["--db", db, "check", "env", "--json", "--no-notify"],
        None,
    );
    assert!(out.status.success(), "{}", describe(&out));
    let json: Value = serde_json::from_slice(&out.stdout).expect("check --json");
    json[0]["tiles"]
        .as_array()
        .expect("tiles")
        .iter()
        .find(|t| t["service"] == "graph_api")
        .cloned()
        .expect("a graph_api tile")
}

#[test]
fn https_through_the_company_proxy_with_the_company_ca() {
    if !require(have("openssl"), "the openssl command must be installed") {
        return;
    }
    let sim = Sim::start(SimConfig::default());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let ca = PrivateCa::new();
    let front = TlsFront::start(&runtime, &ca, sim.sim.addr());
    let proxy = ConnectProxy::start(&runtime);
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("company.db").display().to_string();
    let front_host = front.url.trim_start_matches("https://").to_owned();

    // The company's CA trusted, through the proxy: Meta answers.
    let trusted = [
        ("META_GRAPH_URL", front.url.clone()),
        ("HTTPS_PROXY", proxy.url.clone()),
        ("SSL_CERT_FILE", ca.pem_path()),
    ];
    let tile = graph_api(&db, &trusted);
    assert_eq!(tile["status"], "UP", "{tile}");
    assert!(
        proxy.tunnels().contains(&front_host),
        "every request went through the proxy: {:?}",
        proxy.tunnels()
    );

    // NO_PROXY names the host: straight there, the proxy sees nothing new.
    let before = proxy.tunnels().len();
    let mut direct = trusted.to_vec();
    direct.push(("NO_PROXY", "localhost".to_owned()));
    let tile = graph_api(&db, &direct);
    assert_eq!(tile["status"], "UP", "{tile}");
    assert_eq!(proxy.tunnels().len(), before, "NO_PROXY is honoured");

    // The installation's proxy (Settings, `meta-monitor proxy set`) instead of HTTPS_PROXY.
    let cli = |args: &[&str]| {
        let mut full = vec!["--db", db.as_str()];
        full.extend_from_slice(args);
        run_cli(&[], &full, None)
    };
    let refused = cli(&["proxy", "set", "http://alice:fake-proxy-pass@127.0.0.1:9"]);
    assert_eq!(refused.status.code(), Some(2), "{}", describe(&refused));
    assert!(
        !describe(&refused).contains("fake-proxy-pass"),
        "the password is not repeated: {}",
        describe(&refused)
    );
    let set = cli(&["proxy", "set", &proxy.url]);
    assert!(set.status.success(), "{}", describe(&set));
    let shown = cli(&["proxy", "show"]);
    assert!(
        String::from_utf8_lossy(&shown.stdout).contains(&proxy.url),
        "{}",
        describe(&shown)
    );
    let before = proxy.tunnels().len();
    let ca_only = [
        ("META_GRAPH_URL", front.url.clone()),
        ("SSL_CERT_FILE", ca.pem_path()),
    ];
    let tile = graph_api(&db, &ca_only);
    assert_eq!(tile["status"], "UP", "{tile}");
    assert!(
        proxy.tunnels().len() > before,
        "the stored proxy carried the checks"
    );
    let cleared = cli(&["proxy", "clear"]);
    assert!(cleared.status.success(), "{}", describe(&cleared));
    let before = proxy.tunnels().len();
    let tile = graph_api(&db, &ca_only);
    assert_eq!(tile["status"], "UP", "{tile}");
    assert_eq!(proxy.tunnels().len(), before, "cleared: no proxy");

    // Without the company's CA the certificate is refused, and the tile says so in words.
    let untrusted = [
        ("META_GRAPH_URL", front.url.clone()),
        ("HTTPS_PROXY", proxy.url.clone()),
    ];
    let tile = graph_api(&db, &untrusted);
    assert_ne!(tile["status"], "UP", "{tile}");
    let message = tile["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("certificate not trusted") && message.contains("trust store"),
        "the reason names the certificate and the fix: {message}"
    );
}
