//! Feed sources end to end: a shop's XML feed served over loopback HTTP with an `ETag`,
//! `meta-monitor feed run` against the simulator's catalog, the token in a real GNOME Keyring
//! and a real SQLite file. 1,000 products sync; 10 changed sync alone in one `items_batch`
//! (the Atom form of the same feed too); an unchanged feed is not downloaded (304); 5 removed
//! are deleted at Meta; 200 removed hold their deletes until confirmed.

#![allow(
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test loudly"
)]

use meta_graph_sim::{CATALOG_ID, SimConfig};
use meta_monitor_e2e::{CliEnv, FeedServer, KeyringSession, Sim, WebhookReceiver, describe};
use serde_json::Value;

/// (retailer id, title) of the shop's products.
type Products = Vec<(String, String)>;

fn products(count: usize) -> Products {
    (0..count)
        .map(|i| (format!("SKU-{i:05}"), format!("Mug {i} & saucer")))
        .collect()
}

fn item_fields(id: &str, title: &str) -> String {
    let title = title.replace('&', "&amp;");
    format!(
        "<g:id>{id}</g:id>\n<g:title>{title}</g:title>\n<g:description>A mug for the shop</g:description>\n\
         <g:availability>in stock</g:availability>\n<g:condition>new</g:condition>\n\
         <g:price>12.50 EUR</g:price>\n<g:link>https://shop.example/{id}</g:link>\n\
         <g:image_link>https://shop.example/{id}.jpg</g:image_link>\n<g:brand>Acme</g:brand>\n\
         <g:shipping><g:country>DE</g:country><g:service>Standard</g:service><g:price>4.90 EUR</g:price></g:shipping>"
    )
}

fn rss(products: &Products) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\"?>\n<rss xmlns:g=\"http://base.google.com/ns/1.0\" version=\"2.0\"><channel>\n\
         <title>Shop</title><link>https://shop.example</link><description>Feed</description>\n",
    );
    for (id, title) in products {
        xml.push_str(&format!("<item>\n{}\n</item>\n", item_fields(id, title)));
    }
    xml.push_str("</channel></rss>\n");
    xml
}

fn atom(products: &Products) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xmlns:g=\"http://base.google.com/ns/1.0\">\n\
         <title>Shop</title><link rel=\"self\" href=\"https://shop.example\"/>\n",
    );
    for (id, title) in products {
        xml.push_str(&format!(
            "<entry>\n<id>tag:shop.example,2026:{id}</id><title>{}</title>\n{}\n</entry>\n",
            title.replace('&', "&amp;"),
            item_fields(id, title)
        ));
    }
    xml.push_str("</feed>\n");
    xml
}

#[test]
fn a_served_xml_feed_syncs_what_changed_and_brakes_mass_deletes() {
    let Some(keyring) = KeyringSession::start() else {
        return;
    };
    let sim = Sim::start(SimConfig::default());
    let hook = WebhookReceiver::start();
    let cli = CliEnv::new(&keyring, "meta-monitor-e2e-feeds", "feeds.db");
    cli.add_account(
        "shop",
        &sim.sim.base_url(),
        &["--catalog", CATALOG_ID],
        &[
            ("access-token", "fake-feeds-token-13579"),
            ("team-webhook", hook.url.as_str()),
        ],
    );
    let set = cli.run(&["account", "set", "shop", "notify_desktop=false"], None);
    assert!(set.status.success(), "{}", describe(&set));
    let held_alerts = || {
        hook.bodies()
            .into_iter()
            .filter(|b| b.contains("Feed deletes wait for a confirmation"))
            .collect::<Vec<_>>()
    };
    // The simulator's catalog holds products of its own: counted apart.
    let before = sim.sim.catalog_items().len();
    let mut shop = products(1000);
    let server = FeedServer::start(&rss(&shop));
    let added = cli.run(&["feed", "add", "shop", &server.url, "--json"], None);
    assert!(added.status.success(), "{}", describe(&added));
    let source: Value = serde_json::from_slice(&added.stdout).expect("feed add --json");
    let id = source["id"].as_i64().expect("an id").to_string();
    let batches = || {
        sim.sim
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/items_batch"))
            .count()
    };
    let run = |expect_success: bool| -> Value {
        let out = cli.run(&["feed", "run", "shop", &id, "--json"], None);
        assert_eq!(out.status.success(), expect_success, "{}", describe(&out));
        let runs: Value = serde_json::from_slice(&out.stdout).expect("feed run --json");
        runs[0]["run"].clone()
    };

    // The whole feed: 1,000 products, one batch.
    let first = run(true);
    assert_eq!(first["outcome"], "synced", "{first}");
    assert_eq!(first["rows"], 1000, "{first}");
    assert_eq!(first["changed"], 1000, "{first}");
    assert_eq!(first["refused"], 0, "{first}");
    assert_eq!(batches(), 1, "1,000 products fit one items_batch call");
    assert_eq!(sim.sim.catalog_items().len(), before + 1000);

    // Nothing changed at the shop: a 304, no download, no call to Meta.
    let unchanged = run(true);
    assert_eq!(unchanged["outcome"], "unchanged", "{unchanged}");
    assert_eq!(unchanged["calls"], 0, "{unchanged}");
    assert_eq!(server.served(), (1, 1), "one download, then one 304");

    // 10 products change on the server: exactly those 10, in one call.
    for (_, title) in shop.iter_mut().step_by(100) {
        title.push_str(" (new glaze)");
    }
    server.replace(&rss(&shop));
    let received = sim.sim.catalog_requests_received();
    let changed = run(true);
    assert_eq!(changed["changed"], 10, "{changed}");
    assert_eq!(batches(), 2, "one more items_batch call");
    assert_eq!(
        sim.sim.catalog_requests_received() - received,
        10,
        "exactly the 10 changed products were sent"
    );

    // The shop switches its export to Atom with 10 more changes: the same products, 10 sent.
    for (_, title) in shop.iter_mut().skip(1).step_by(100) {
        title.push_str(" (blue)");
    }
    server.replace(&atom(&shop));
    let received = sim.sim.catalog_requests_received();
    let atom_run = run(true);
    assert_eq!(atom_run["rows"], 1000, "{atom_run}");
    assert_eq!(atom_run["changed"], 10, "{atom_run}");
    assert_eq!(sim.sim.catalog_requests_received() - received, 10);

    // 5 products removed from the feed: deleted at Meta.
    let removed: Vec<String> = shop.drain(..5).map(|(id, _)| id).collect();
    server.replace(&rss(&shop));
    let deleted = run(true);
    assert_eq!(deleted["outcome"], "synced", "{deleted}");
    assert_eq!(deleted["deleted"], 5, "{deleted}");
    let items: Vec<String> = sim
        .sim
        .catalog_items()
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    assert_eq!(items.len(), before + 995);
    assert!(removed.iter().all(|r| !items.contains(r)), "the 5 are gone");

    // 200 vanish at once (a truncated export?): the deletes wait for a confirmation.
    let gone = shop.split_off(shop.len() - 200);
    server.replace(&rss(&shop));
    let held = run(false);
    assert_eq!(held["outcome"], "held", "{held}");
    assert_eq!(held["held"], 200, "{held}");
    assert_eq!(held["deleted"], 0, "{held}");
    assert!(
        held["message"]
            .as_str()
            .is_some_and(|m| m.contains("confirm-deletes")),
        "{held}"
    );
    assert_eq!(
        sim.sim.catalog_items().len(),
        before + 995,
        "nothing deleted yet"
    );
    let list = cli.run(&["feed", "list", "shop", "--json"], None);
    let sources: Value = serde_json::from_slice(&list.stdout).expect("feed list --json");
    assert_eq!(sources[0]["held_deletes"], 200, "{sources}");
    assert_eq!(sources[0]["last_run"]["outcome"], "held", "{sources}");
    assert!(
        !String::from_utf8_lossy(&list.stdout).contains("token-13579"),
        "no token in the list"
    );

    let confirmed = cli.run(&["feed", "confirm-deletes", "shop", &id, "--json"], None);
    assert!(confirmed.status.success(), "{}", describe(&confirmed));
    assert_eq!(
        sim.sim.catalog_items().len(),
        before + 795,
        "deleted once confirmed"
    );
    let list = cli.run(&["feed", "list", "shop", "--json"], None);
    let sources: Value = serde_json::from_slice(&list.stdout).expect("feed list --json");
    assert_eq!(sources[0]["held_deletes"], 0, "{sources}");
    assert_eq!(held_alerts().len(), 1, "no second alert for the same hold");

    // 10 of them come back to the feed: created at Meta again, not left as deleted.
    shop.extend(gone.into_iter().take(10));
    server.replace(&rss(&shop));
    let back = run(true);
    assert_eq!(back["changed"], 10, "{back}");
    assert_eq!(sim.sim.catalog_items().len(), before + 805);
    let runs = cli.run(&["feed", "runs", "shop", &id, "--json"], None);
    let runs: Value = serde_json::from_slice(&runs.stdout).expect("feed runs --json");
    let outcomes: Vec<&str> = runs
        .as_array()
        .expect("runs")
        .iter()
        .filter_map(|r| r["outcome"].as_str())
        .collect();
    assert_eq!(
        outcomes,
        [
            "synced",
            "synced",
            "held",
            "synced",
            "synced",
            "synced",
            "unchanged",
            "synced"
        ],
        "every run in the history, newest first"
    );
}

#[test]
fn feed_sources_refuse_what_cannot_be_read_safely() {
    let Some(keyring) = KeyringSession::start() else {
        return;
    };
    let sim = Sim::start(SimConfig::default());
    let cli = CliEnv::new(
        &keyring,
        "meta-monitor-e2e-feed-refusals",
        "feed-refusals.db",
    );
    cli.add_account(
        "shop",
        &sim.sim.base_url(),
        &["--catalog", CATALOG_ID],
        &[("access-token", "fake-feeds-token-24680")],
    );
    for (location, says) in [
        ("http://shop.example/feed.xml", "https://"),
        (
            "https://user:pw-9931@shop.example/feed.xml",
            "without credentials",
        ),
        ("/nonexistent/feed.csv", "not a file"),
    ] {
        let out = cli.run(&["feed", "add", "shop", location], None);
        assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{location}: {stderr}");
        assert!(!stderr.contains("pw-9931"), "no password echoed: {stderr}");
    }
    // A served page that is not a feed fails the run and changes nothing.
    let server = FeedServer::start("<html><body>Maintenance</body></html>");
    let added = cli.run(&["feed", "add", "shop", &server.url], None);
    assert!(added.status.success(), "{}", describe(&added));
    let out = cli.run(&["feed", "run", "shop", "--json"], None);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no <item>"), "{stderr}");
    assert!(
        !stderr.contains("shop-feed-key"),
        "the URL's key is not shown: {stderr}"
    );
    let runs = cli.run(&["feed", "runs", "shop", "1", "--json"], None);
    let runs: Value = serde_json::from_slice(&runs.stdout).expect("feed runs --json");
    assert_eq!(runs[0]["outcome"], "failed", "{runs}");
    assert!(
        !sim.sim
            .requests()
            .iter()
            .any(|r| r.path.ends_with("/items_batch")),
        "nothing was sent to Meta"
    );
}

#[test]
fn a_feed_file_edited_on_disk_syncs_within_seconds_under_run() {
    let Some(keyring) = KeyringSession::start() else {
        return;
    };
    let sim = Sim::start(SimConfig::default());
    let cli = CliEnv::new(&keyring, "meta-monitor-e2e-feed-file", "feed-file.db");
    cli.add_account(
        "shop",
        &sim.sim.base_url(),
        &["--catalog", CATALOG_ID],
        &[("access-token", "fake-feeds-token-97531")],
    );
    let file = std::path::Path::new(&cli.db).with_file_name("shop-feed.xml");
    let mut shop = products(20);
    std::fs::write(&file, rss(&shop)).expect("write the feed");
    let added = cli.run(&["feed", "add", "shop", &file.display().to_string()], None);
    assert!(added.status.success(), "{}", describe(&added));
    let runs = || -> Vec<Value> {
        let out = cli.run(&["feed", "runs", "shop", "1", "--json"], None);
        serde_json::from_slice::<Value>(&out.stdout)
            .ok()
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
    };
    let wait_for = |what: &str, ok: &dyn Fn(&[Value]) -> bool| -> std::time::Duration {
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_secs(60) {
            if ok(&runs()) {
                return start.elapsed();
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        panic!("{what} within 60 s: {:#?}", runs());
    };

    let child = cli.spawn(&["--timeout", "2", "run", "shop"]);
    // At the start `run` reads the file once: the 20 products sync.
    wait_for("the first run", &|r| {
        r.first()
            .is_some_and(|r| r["outcome"] == "synced" && r["changed"] == 20)
    });
    let received = sim.sim.catalog_requests_received();
    for (_, title) in shop.iter_mut().take(2) {
        title.push_str(" (XL)");
    }
    std::fs::write(&file, rss(&shop)).expect("edit the feed");
    let took = wait_for("the edit synced", &|r| {
        r.first().is_some_and(|r| {
            r["trigger"] == "file changed" && r["outcome"] == "synced" && r["changed"] == 2
        })
    });
    let out = meta_monitor_e2e::terminate(child);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(
        sim.sim.catalog_requests_received() - received,
        2,
        "the 2 edited products, nothing else"
    );
    // Reported, not asserted (timing is measured, never asserted): the watcher's settle time
    // plus one batch and its status polls.
    eprintln!("a feed file edit synced {took:?} after the save");
}
