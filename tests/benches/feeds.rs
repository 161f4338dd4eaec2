//! Feed-source figures for a 100,000-product RSS feed (a file source, run by the release CLI
//! against the simulator), each against a baseline measured in the same run:
//! - parse + validate + diff: a run of the unchanged feed re-saved (new file time, same
//!   products: everything is read and compared, nothing sent) against only tokenizing the
//!   same file with quick-xml; peak memory against `meta-monitor status` (the process floor);
//! - the first run (every product new) and a run after 1 % of the products changed: Graph
//!   calls made against the minimum — ⌈changed / 3000⌉ `items_batch` calls plus at least one
//!   status poll each.
//!
//! Run with `scripts/bench-feeds.sh` (needs GNOME Keyring, as the tests do).

#![allow(
    clippy::expect_used,
    reason = "a benchmark that cannot run must say so loudly"
)]

use std::path::Path;
use std::time::Instant;

use meta_graph_sim::{CATALOG_ID, SimConfig};
use meta_monitor_e2e::bench::{measured, release_cli};
use meta_monitor_e2e::{CliEnv, KeyringSession, Sim};
use serde_json::Value;

const PRODUCTS: usize = 100_000;

fn rss(path: &Path, changed_every: Option<usize>) {
    let mut xml = String::with_capacity(PRODUCTS * 700);
    xml.push_str(
        "<?xml version=\"1.0\"?>\n<rss xmlns:g=\"http://base.google.com/ns/1.0\" version=\"2.0\"><channel>\n\
         <title>Shop</title><link>https://shop.example</link><description>Feed</description>\n",
    );
    for i in 1..=PRODUCTS {
        let glaze = match changed_every {
            Some(n) if i % n == 0 => " (new glaze)",
            _ => "",
        };
        xml.push_str(&format!(
            "<item>\n<g:id>P-{i:06}</g:id>\n<g:title>Item {i}{glaze}</g:title>\n\
             <g:description>The item number {i} of the shop &amp; its friends</g:description>\n\
             <g:availability>in stock</g:availability>\n<g:condition>new</g:condition>\n\
             <g:price>{}.{:02} EUR</g:price>\n<g:link>https://shop.example/p/{i}</g:link>\n\
             <g:image_link>https://shop.example/p/{i}.jpg</g:image_link>\n<g:brand>Acme</g:brand>\n\
             <g:additional_image_link>https://shop.example/p/{i}-2.jpg</g:additional_image_link>\n\
             <g:shipping><g:country>DE</g:country><g:service>Standard</g:service><g:price>4.90 EUR</g:price></g:shipping>\n\
             </item>\n",
            i % 500 + 1,
            i % 100
        ));
    }
    xml.push_str("</channel></rss>\n");
    std::fs::write(path, xml).expect("write the feed");
}

/// Elements in the file, counted by quick-xml alone: the least any reader must do.
fn tokenize(path: &Path) -> usize {
    let text = std::fs::read_to_string(path).expect("read the feed");
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut elements = 0;
    loop {
        match reader.read_event().expect("well-formed") {
            quick_xml::events::Event::Start(_) => elements += 1,
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    elements
}

fn main() {
    let bin = release_cli();
    let keyring = KeyringSession::start().expect("GNOME Keyring for the CLI's token");
    let sim = Sim::start(SimConfig {
        catalog_products: 0,
        catalog_batch_quota: 1000,
        ..SimConfig::default()
    });
    let cli = CliEnv::new(&keyring, "meta-monitor-bench-feeds", "feeds-bench.db");
    cli.add_account(
        "shop",
        &sim.sim.base_url(),
        &["--catalog", CATALOG_ID],
        &[("access-token", "fake-feeds-bench-token")],
    );
    let mut env = cli.env.clone();
    env.push(("META_MONITOR_DB".to_owned(), cli.db.clone()));
    let file = keyring.dir.path().join("feed-100k.xml");
    rss(&file, None);
    let bytes = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    let added = cli.run(&["feed", "add", "shop", &file.to_string_lossy()], None);
    assert!(added.status.success(), "feed add");

    let (_, floor_kb, _) = measured(&bin, &env, &["status"]);
    let run = |label: &str| -> Value {
        let (took, peak_kb, out) = measured(&bin, &env, &["feed", "run", "shop", "1", "--json"]);
        let runs: Value = serde_json::from_str(&out).expect("feed run --json");
        let run = runs[0]["run"].clone();
        println!(
            "{label}: {:.2} s, peak RSS {:.1} MiB ({:.2}x the process floor); {} rows, {} changed, {} calls",
            took.as_secs_f64(),
            peak_kb as f64 / 1024.0,
            peak_kb as f64 / floor_kb.max(1) as f64,
            run["rows"],
            run["changed"],
            run["calls"]
        );
        run.as_object()
            .map(|o| {
                let mut o = o.clone();
                o.insert("took_s".into(), took.as_secs_f64().into());
                Value::Object(o)
            })
            .unwrap_or_default()
    };
    let minimum = |changed: u64| changed.div_ceil(3000) * 2;

    let first = run("first run (every product new)");
    let changed = first["changed"].as_u64().unwrap_or(0);
    println!(
        "  calls {} against the minimum {} (⌈{changed}/3000⌉ batches + one poll each)",
        first["calls"],
        minimum(changed)
    );

    // Parse + validate + diff: the same products, a new file time.
    rss(&file, None);
    let started = Instant::now();
    let elements = tokenize(&file);
    let floor = started.elapsed();
    let same = run("re-saved, nothing changed (parse + validate + diff)");
    println!(
        "  {:.1} MB, {elements} elements: {:.2} s against {:.3} s tokenizing with quick-xml alone ({:.1}x)",
        bytes as f64 / 1e6,
        same["took_s"].as_f64().unwrap_or(0.0),
        floor.as_secs_f64(),
        same["took_s"].as_f64().unwrap_or(0.0) / floor.as_secs_f64()
    );

    // 1 % of the products change.
    rss(&file, Some(100));
    let one_pct = run("1 % changed");
    let changed = one_pct["changed"].as_u64().unwrap_or(0);
    println!(
        "  calls {} against the minimum {} (⌈{changed}/3000⌉ batches + one poll each)",
        one_pct["calls"],
        minimum(changed)
    );
}
