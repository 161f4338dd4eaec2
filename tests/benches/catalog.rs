//! Catalog figures, each against a baseline measured in the same run:
//! - importing a 100,000-row feed with `meta-monitor product import` (parse, validate every
//!   row, SQLite) against only tokenizing the same file with the `csv` crate;
//! - a bulk sync of 10,000 products with `meta-monitor product sync --all` against the
//!   simulator (Catalog Batch quota 2 a minute, so the sync must wait): calls made, wall time
//!   without the quota waits, against the least any client must do — post the same four
//!   batches and poll each until Meta finished, with no validation, queue or store;
//! - peak memory of each command against `meta-monitor status` (the process floor).
//!
//! Run with `scripts/bench-catalog.sh` (needs GNOME Keyring, as the tests do).

#![allow(
    clippy::expect_used,
    reason = "a benchmark that cannot run must say so loudly"
)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use meta_graph_sim::{CATALOG_ID, SimConfig};
use meta_monitor_core::catalog::product::Product;
use meta_monitor_e2e::bench::{measured, release_cli};
use meta_monitor_e2e::{CliEnv, KeyringSession, Sim};
use serde_json::{Value, json};

const HEADER: &str = "id,title,description,availability,condition,price,link,image_link,brand";

fn feed(path: &Path, rows: usize) {
    let mut text = String::with_capacity(rows * 160);
    text.push_str(HEADER);
    text.push('\n');
    for i in 1..=rows {
        text.push_str(&format!(
            "P-{i:06},Item {i},The item number {i} of the shop,in stock,new,{}.{:02} EUR,https://shop.example/p/{i},https://shop.example/p/{i}.jpg,Acme\n",
            i % 500 + 1,
            i % 100
        ));
    }
    std::fs::write(path, text).expect("write feed");
}

/// The floor of a bulk sync: the same batches posted, each polled every 50 ms until finished.
fn raw_floor(base_url: &str, feed_path: &Path) -> (Duration, u32) {
    let text = std::fs::read_to_string(feed_path).expect("feed");
    let products = meta_monitor_core::catalog::import::read(
        text.as_bytes(),
        Some(meta_monitor_core::catalog::import::FeedFormat::Csv),
    )
    .expect("feed")
    .products;
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let started = Instant::now();
    let mut calls = 0;
    for chunk in products.chunks(3000) {
        let requests: Vec<Value> = chunk
            .iter()
            .map(|(_, p): &(u64, Product)| json!({"method": "UPDATE", "data": p.feed_data()}))
            .collect();
        let answer: Value = client
            .post(format!("{base_url}/v25.0/{CATALOG_ID}/items_batch"))
            .bearer_auth("fake-bench-token")
            .form(&[
                ("item_type", "PRODUCT_ITEM"),
                ("requests", &Value::Array(requests).to_string()),
            ])
            .send()
            .and_then(reqwest::blocking::Response::json)
            .expect("items_batch");
        calls += 1;
        let handle = answer["handles"][0].as_str().expect("a handle").to_owned();
        loop {
            std::thread::sleep(Duration::from_millis(50));
            calls += 1;
            let status: Value = client
                .get(format!(
                    "{base_url}/v25.0/{CATALOG_ID}/check_batch_request_status"
                ))
                .query(&[("handle", handle.as_str())])
                .bearer_auth("fake-bench-token")
                .send()
                .and_then(reqwest::blocking::Response::json)
                .expect("status");
            if status["data"][0]["status"] == "finished" {
                break;
            }
        }
    }
    (started.elapsed(), calls)
}

fn main() {
    let bin = release_cli();
    let keyring = KeyringSession::start().expect("GNOME Keyring for the CLI's token");
    let config = SimConfig {
        catalog_products: 0,
        catalog_batch_quota: 2,
        ..SimConfig::default()
    };
    let sim = Sim::start(config.clone());
    let cli = CliEnv::new(&keyring, "meta-monitor-bench-catalog", "bench.db");
    let mut env = cli.env.clone();
    env.push(("META_MONITOR_DB".to_owned(), cli.db.clone()));
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut child = Command::new(&bin)
            .args(args)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("meta-monitor");
        if let (Some(text), Some(mut input)) = (stdin, child.stdin.take()) {
            std::io::Write::write_all(&mut input, text.as_bytes()).expect("stdin");
        }
        assert!(
            child.wait().expect("exit").success(),
            "meta-monitor {args:?}"
        );
    };
    run(
        &[
            "account",
            "add",
            "shop",
            "--graph-url",
            &sim.sim.base_url(),
            "--catalog",
            CATALOG_ID,
        ],
        None,
    );
    run(
        &["secret", "set", "shop", "access-token"],
        Some("fake-bench-token"),
    );
    let dir = keyring.dir.path();

    // The process floor.
    let (_, floor_kb, _) = measured(&bin, &env, &["status"]);

    // Import of 100,000 rows.
    let big = dir.join("feed-100k.csv");
    feed(&big, 100_000);
    let parse_started = Instant::now();
    let mut reader = csv::Reader::from_path(&big).expect("csv");
    let rows = reader.records().filter(Result::is_ok).count();
    let tokenize = parse_started.elapsed();
    let import_env: Vec<(String, String)> = env
        .iter()
        .cloned()
        .map(|(k, v)| {
            if k == "META_MONITOR_DB" {
                (k, dir.join("import.db").to_string_lossy().into_owned())
            } else {
                (k, v)
            }
        })
        .collect();
    run_in(
        &bin,
        &import_env,
        &[
            "account",
            "add",
            "shop",
            "--graph-url",
            &sim.sim.base_url(),
            "--catalog",
            CATALOG_ID,
        ],
    );
    let (import_took, import_kb, _) = measured(
        &bin,
        &import_env,
        &["product", "import", "shop", &big.to_string_lossy()],
    );
    println!(
        "import of {rows} rows: {:.2} s (parse, validate, SQLite) vs {:.3} s tokenizing with the csv crate ({:.1}x); \
         peak RSS {:.1} MiB vs {:.1} MiB for `meta-monitor status` ({:.2}x)",
        import_took.as_secs_f64(),
        tokenize.as_secs_f64(),
        import_took.as_secs_f64() / tokenize.as_secs_f64(),
        import_kb as f64 / 1024.0,
        floor_kb as f64 / 1024.0,
        import_kb as f64 / floor_kb.max(1) as f64
    );

    // Bulk sync of 10,000.
    let bulk = dir.join("feed-10k.csv");
    feed(&bulk, 10_000);
    run(
        &["product", "import", "shop", &bulk.to_string_lossy()],
        None,
    );
    let (took, peak_kb, out) =
        measured(&bin, &env, &["product", "sync", "shop", "--all", "--json"]);
    let summary: Value = serde_json::from_str(&out).expect("sync summary");
    let paused = Duration::from_millis(summary["paused_ms"].as_u64().unwrap_or(0));
    let calls = summary["batch_calls"].as_u64().unwrap_or(0)
        + summary["status_polls"].as_u64().unwrap_or(0)
        + summary["read_back_calls"].as_u64().unwrap_or(0);
    let floor_sim = Sim::start(SimConfig {
        catalog_batch_quota: 100,
        ..config
    });
    let (floor_took, floor_calls) = raw_floor(&floor_sim.sim.base_url(), &bulk);
    let working = took.saturating_sub(paused);
    println!(
        "bulk sync of {} products: {calls} calls ({} batches, {} status polls; floor {floor_calls}); \
         {:.2} s without the {:.1} s of quota waits vs {:.2} s for the raw floor ({:.2}x); \
         peak RSS {:.1} MiB ({:.2}x the process floor)",
        summary["succeeded"],
        summary["batch_calls"],
        summary["status_polls"],
        working.as_secs_f64(),
        paused.as_secs_f64(),
        floor_took.as_secs_f64(),
        working.as_secs_f64() / floor_took.as_secs_f64(),
        peak_kb as f64 / 1024.0,
        peak_kb as f64 / floor_kb.max(1) as f64
    );
}

fn run_in(bin: &Path, env: &[(String, String)], args: &[&str]) {
    let status = Command::new(bin)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(Stdio::null())
        .status()
        .expect("meta-monitor");
    assert!(status.success(), "meta-monitor {args:?}");
}
