//! `meta-monitor product …` against the simulator's catalog over loopback HTTP, with the token
//! in a real GNOME Keyring and a real SQLite file: feed import (bad rows by line, re-import
//! updates), single sync with Meta's id read back, Meta's own refusal stored verbatim, delete,
//! a 10,000-product bulk sync paced by the Catalog Batch quota, and a kill -9 mid-sync that
//! the next sync finishes with no duplicate and no lost product.

#![allow(
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test loudly"
)]

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use meta_graph_sim::{CATALOG_ID, SimConfig};
use meta_monitor_e2e::{CliEnv, KeyringSession, Sim, describe};
use serde_json::Value;

const TOKEN: &str = "fake-catalog-token-24680";
const HEADER: &str = "id,title,description,availability,condition,price,link,image_link,brand";

fn setup(config: SimConfig, db: &str) -> Option<(KeyringSession, Sim, CliEnv)> {
    let keyring = KeyringSession::start()?;
    let sim = Sim::start(config);
    let cli = CliEnv::new(&keyring, &format!("meta-monitor-e2e-{db}"), db);
    cli.add_account(
        "shop",
        &sim.sim.base_url(),
        &["--catalog", CATALOG_ID],
        &[("access-token", TOKEN)],
    );
    Some((keyring, sim, cli))
}

fn row(id: &str, title: &str, image: &str) -> String {
    format!(
        "{id},{title},The {title} of the shop,in stock,new,12.50 EUR,https://shop.example/{id},{image},Acme"
    )
}

fn write_feed(cli: &CliEnv, name: &str, rows: &[String]) -> String {
    let path = std::path::Path::new(&cli.db)
        .with_file_name(name)
        .to_string_lossy()
        .into_owned();
    let mut text = format!("{HEADER}\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    std::fs::write(&path, text).expect("write feed");
    path
}

fn list(cli: &CliEnv) -> HashMap<String, Value> {
    let out = cli.run(&["product", "list", "shop", "--json"], None);
    assert!(out.status.success(), "{}", describe(&out));
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).expect("json");
    rows.into_iter()
        .map(|r| (r["id"].as_str().unwrap_or_default().to_owned(), r))
        .collect()
}

/// Catalog requests the simulator received, by edge.
fn catalog_calls(sim: &Sim) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for r in sim.sim.requests() {
        if let Some(edge) = r.path.split(&format!("{CATALOG_ID}/")).nth(1) {
            *out.entry(edge.to_owned()).or_default() += 1;
        }
    }
    out
}

#[test]
fn import_keeps_good_rows_reports_bad_lines_and_reimport_updates() {
    let Some((_keyring, _sim, cli)) = setup(SimConfig::default(), "catalog-import.db") else {
        return;
    };
    let feed = write_feed(
        &cli,
        "feed.csv",
        &[
            row("SKU-1", "Mug", "https://shop.example/1.jpg"),
            "SKU-2,Cup,A cup,in stock,mint,5 EUR,https://shop.example/2,https://shop.example/2.jpg,Acme".into(),
            row("SKU-3", "Plate", "https://shop.example/3.jpg"),
            "SKU-4,Bowl,A bowl,in stock,new,5 euros,https://shop.example/4,https://shop.example/4.jpg,Acme".into(),
        ],
    );
    let out = cli.run(&["product", "import", "shop", &feed], None);
    assert_eq!(
        out.status.code(),
        Some(2),
        "bad rows make exit 2: {}",
        describe(&out)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 3 (SKU-2): condition"), "{stderr}");
    assert!(stderr.contains("line 5 (SKU-4): price"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 added"));
    let products = list(&cli);
    assert_eq!(
        products.keys().collect::<BTreeSet<_>>(),
        BTreeSet::from([&"SKU-1".to_owned(), &"SKU-3".to_owned()])
    );
    assert_eq!(
        products["SKU-1"]["sync_status"],
        Value::Null,
        "never synced"
    );
    assert_eq!(products["SKU-1"]["price"], "12.50 EUR");

    let feed = write_feed(
        &cli,
        "feed.csv",
        &[
            row("SKU-1", "Big mug", "https://shop.example/1.jpg"),
            row("SKU-3", "Plate", "https://shop.example/3.jpg"),
        ],
    );
    let out = cli.run(&["product", "import", "shop", &feed, "--json"], None);
    assert!(out.status.success(), "{}", describe(&out));
    let answer: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        answer["imported"],
        serde_json::json!({"added": 0, "updated": 1, "unchanged": 1})
    );
    let products = list(&cli);
    assert_eq!(products.len(), 2, "re-import updates, never duplicates");
    assert_eq!(products["SKU-1"]["title"], "Big mug");
}

#[test]
fn single_sync_stores_metas_id_refusals_verbatim_and_delete() {
    let Some((_keyring, sim, cli)) = setup(SimConfig::default(), "catalog-single.db") else {
        return;
    };
    let feed = write_feed(
        &cli,
        "feed.csv",
        &[
            row("SKU-1", "Mug", "https://shop.example/1.jpg"),
            // Valid for us; Meta refuses it once it tries to download the image.
            row("SKU-9", "Poster", "https://shop.example/poster.html"),
        ],
    );
    let out = cli.run(&["product", "import", "shop", &feed], None);
    assert!(out.status.success(), "{}", describe(&out));

    let started = Instant::now();
    let out = cli.run(&["product", "sync", "shop", "SKU-1", "--json"], None);
    let took = started.elapsed();
    assert!(out.status.success(), "{}", describe(&out));
    let summary: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(summary["succeeded"], 1);
    let meta_id = sim
        .sim
        .meta_product_id("SKU-1")
        .expect("SKU-1 is in Meta's catalog");
    let products = list(&cli);
    assert_eq!(products["SKU-1"]["sync_status"], "success");
    assert_eq!(products["SKU-1"]["meta_product_id"], meta_id.as_str());
    assert_eq!(products["SKU-1"]["catalog_id"], CATALOG_ID);
    assert!(products["SKU-1"]["last_sync"].is_string());
    assert_eq!(products["SKU-1"]["changed"], false);
    eprintln!("single product sync took {took:?}");

    let out = cli.run(&["product", "sync", "shop", "SKU-9"], None);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a refused product fails the command: {}",
        describe(&out)
    );
    let products = list(&cli);
    assert_eq!(products["SKU-9"]["sync_status"], "error");
    let message = products["SKU-9"]["error_details"]["errors"][0]["message"]
        .as_str()
        .expect("Meta's error message");
    assert!(
        message.starts_with("Image download failed"),
        "verbatim: {message}"
    );
    assert_eq!(products["SKU-9"]["meta_product_id"], Value::Null);

    let out = cli.run(&["product", "delete", "shop", "SKU-1"], None);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(list(&cli)["SKU-1"]["sync_status"], "deleted");
    assert!(
        sim.sim.meta_product_id("SKU-1").is_none(),
        "gone from Meta's catalog"
    );
}

fn bulk_rows(n: usize) -> Vec<String> {
    (1..=n)
        .map(|i| {
            row(
                &format!("B-{i:05}"),
                &format!("Item {i}"),
                &format!("https://shop.example/{i}.jpg"),
            )
        })
        .collect()
}

#[test]
fn bulk_sync_of_10000_waits_for_the_batch_quota_and_confirms_every_product() {
    // Two batch calls a minute: the third of the four batches must wait, not fail.
    let config = SimConfig {
        catalog_products: 0,
        catalog_batch_quota: 2,
        ..SimConfig::default()
    };
    let Some((_keyring, sim, cli)) = setup(config, "catalog-bulk.db") else {
        return;
    };
    let feed = write_feed(&cli, "bulk.csv", &bulk_rows(10_000));
    let out = cli.run(&["product", "import", "shop", &feed], None);
    assert!(out.status.success(), "{}", describe(&out));
    sim.sim.clear_requests();

    let out = cli.run(&["product", "sync", "shop", "--changed", "--json"], None);
    assert!(out.status.success(), "{}", describe(&out));
    let summary: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(summary["succeeded"], 10_000);
    assert!(
        summary["throttle_pauses"].as_u64() >= Some(1),
        "the quota forced a wait: {summary}"
    );
    let calls = catalog_calls(&sim);
    assert_eq!(
        calls.get("items_batch"),
        Some(&4),
        "the minimum batches, none refused: {calls:?}"
    );
    let polls = calls
        .get("check_batch_request_status")
        .copied()
        .unwrap_or(0);
    assert_eq!(summary["status_polls"].as_u64(), Some(polls as u64));
    assert_eq!(
        calls.values().sum::<usize>(),
        4 + polls,
        "nothing but batches and status polls: {calls:?}"
    );
    assert_eq!(sim.sim.catalog_items().len(), 10_000);
    let products = list(&cli);
    assert!(products.values().all(|p| p["sync_status"] == "success"));
    eprintln!("bulk summary: {summary}");
}

#[test]
fn a_sync_killed_mid_way_resumes_with_no_duplicate_and_no_lost_product() {
    let config = SimConfig {
        catalog_products: 0,
        // Slow batches, so the kill lands while one is in flight.
        catalog_processing: Duration::from_millis(1500),
        ..SimConfig::default()
    };
    let Some((_keyring, sim, cli)) = setup(config, "catalog-kill.db") else {
        return;
    };
    let feed = write_feed(&cli, "bulk.csv", &bulk_rows(10_000));
    let out = cli.run(&["product", "import", "shop", &feed], None);
    assert!(out.status.success(), "{}", describe(&out));

    meta_monitor_e2e::kill_sync_mid_way(&cli);

    let mid = list(&cli);
    let success = mid
        .values()
        .filter(|p| p["sync_status"] == "success")
        .count();
    assert!(
        success > 0 && success < 10_000,
        "killed mid-way: {success} confirmed"
    );

    let out = cli.run(&["product", "sync", "shop", "--changed", "--json"], None);
    assert!(out.status.success(), "{}", describe(&out));
    let products = list(&cli);
    assert_eq!(products.len(), 10_000);
    let unsynced: Vec<&String> = products
        .iter()
        .filter(|(_, p)| p["sync_status"] != "success")
        .map(|(id, _)| id)
        .collect();
    assert!(
        unsynced.is_empty(),
        "lost: {:?}",
        unsynced.iter().take(5).collect::<Vec<_>>()
    );
    let items = sim.sim.catalog_items();
    let distinct: BTreeSet<&String> = items.iter().map(|(r, _)| r).collect();
    assert_eq!(
        (items.len(), distinct.len()),
        (10_000, 10_000),
        "no duplicate at Meta"
    );
    let ids: BTreeSet<&String> = items.iter().map(|(_, id)| id).collect();
    assert_eq!(ids.len(), 10_000, "one Meta id per product");
    eprintln!(
        "requests received by Meta: {} for 10,000 products",
        sim.sim.catalog_requests_received()
    );
}

#[test]
fn a_batch_meta_forgot_is_sent_again_by_the_next_sync() {
    let config = SimConfig {
        catalog_products: 0,
        catalog_processing: Duration::from_millis(1500),
        ..SimConfig::default()
    };
    let Some((_keyring, mut sim, cli)) = setup(config.clone(), "catalog-forgot.db") else {
        return;
    };
    let feed = write_feed(&cli, "forgot.csv", &bulk_rows(4_000));
    let out = cli.run(&["product", "import", "shop", &feed], None);
    assert!(out.status.success(), "{}", describe(&out));
    meta_monitor_e2e::kill_sync_mid_way(&cli);

    // Meta loses the batch in flight (here: a simulator that starts afresh knows no handle and
    // answers "(#100) Invalid handle"): the next sync puts its items back and sends them again.
    let addr = sim.stop();
    sim.restart(addr, config);
    let out = cli.run(&["product", "sync", "shop", "--changed", "--json"], None);
    assert!(out.status.success(), "the queue heals: {}", describe(&out));
    let summary: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(
        summary["requeued"].as_u64().is_some_and(|n| n > 0),
        "the lost batch's items were sent again: {summary}"
    );
    let products = list(&cli);
    let unsynced = products
        .values()
        .filter(|p| p["sync_status"] != "success")
        .count();
    assert_eq!(unsynced, 0, "every product is confirmed: {summary}");
    let again = cli.run(&["product", "sync", "shop", "--changed", "--json"], None);
    assert!(again.status.success(), "{}", describe(&again));
}

#[test]
fn two_processes_never_sync_one_catalog_at_once() {
    let config = SimConfig {
        catalog_products: 0,
        catalog_processing: Duration::from_millis(1500),
        ..SimConfig::default()
    };
    let Some((_keyring, _sim, cli)) = setup(config, "catalog-lease.db") else {
        return;
    };
    let feed = write_feed(&cli, "lease.csv", &bulk_rows(4_000));
    let out = cli.run(&["product", "import", "shop", &feed], None);
    assert!(out.status.success(), "{}", describe(&out));

    // The first sync (say, the desktop's) is waiting for Meta on its first batch…
    let first = cli.spawn(&["product", "sync", "shop", "--all"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let store =
            meta_monitor_core::store::Store::open(std::path::Path::new(&cli.db)).expect("db");
        let id = store.account("shop").expect("account").expect("shop").id;
        if !store.in_flight(id).expect("queue").is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the first sync never sent a batch"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // …when a second process starts one: refused, nothing sent twice.
    let second = cli.run(&["product", "sync", "shop", "--changed"], None);
    assert_eq!(second.status.code(), Some(2), "{}", describe(&second));
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("already running"),
        "{}",
        describe(&second)
    );
    let first = first.wait_with_output().expect("the first sync ends");
    assert!(first.status.success(), "{}", describe(&first));
    // Its lease ended with it: the next sync runs.
    let again = cli.run(&["product", "sync", "shop", "--changed"], None);
    assert!(again.status.success(), "{}", describe(&again));
}
