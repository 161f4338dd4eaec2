//! `meta-monitor test-event` and `events send` against the simulator over loopback HTTP, with
//! the token in a real GNOME Keyring: the payload's shape and hashes, the test code present
//! unless `--live`, Meta's refusals explained, batches split at 1000, an invalid line
//! reported with nothing sent, and no raw customer value in the database.

#![allow(
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test loudly"
)]

use meta_graph_sim::{PIXEL_ID, SimConfig};
use meta_monitor_e2e::{CliEnv, KeyringSession, Sim, describe};
use serde_json::Value;

const TOKEN: &str = "fake-capi-token-13579";
const EMAIL: &str = "John_Smith@gmail.com";
const EM_HASH: &str = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f";
const PH_HASH: &str = "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176";

fn received(sim: &Sim) -> Vec<Value> {
    let url = format!("{}/__admin/events", sim.sim.base_url());
    reqwest::blocking::get(url)
        .and_then(reqwest::blocking::Response::json::<Vec<Value>>)
        .expect("admin events")
}

/// The request bodies the simulator saw on the events edge.
fn posted_bodies(sim: &Sim) -> Vec<String> {
    let url = format!("{}/__admin/requests", sim.sim.base_url());
    let requests: Vec<Value> = reqwest::blocking::get(url)
        .and_then(reqwest::blocking::Response::json)
        .expect("admin requests");
    requests
        .iter()
        .filter(|r| r["path"].as_str().is_some_and(|p| p.ends_with("/events")))
        .map(|r| r["body"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn setup() -> Option<(KeyringSession, Sim, CliEnv)> {
    let keyring = KeyringSession::start()?;
    let sim = Sim::start(SimConfig::default());
    let cli = CliEnv::new(&keyring, "meta-monitor-e2e-capi", "capi.db");
    cli.add_account(
        "shop",
        &sim.sim.base_url(),
        &["--pixel", PIXEL_ID, "--test-event-code", "TEST4242"],
        &[("access-token", TOKEN)],
    );
    Some((keyring, sim, cli))
}

const PURCHASE: [&str; 16] = [
    "test-event",
    "shop",
    "--event",
    "Purchase",
    "--value",
    "54.90",
    "--currency",
    "EUR",
    "--email",
    EMAIL,
    "--phone",
    "+1 (650) 555-1212",
    "--user-agent",
    "Mozilla/5.0 (X11; Linux x86_64)",
    "--source-url",
    "https://shop.example/thanks",
];

#[test]
fn a_test_event_is_hashed_sent_with_the_test_code_and_logged_without_pii() {
    let Some((keyring, sim, cli)) = setup() else {
        return;
    };
    let mut args = PURCHASE.to_vec();
    args.push("--json");
    let out = cli.run(&args, None);
    assert!(out.status.success(), "{}", describe(&out));
    let answer: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(answer["events_received"], 1);
    assert!(answer["fbtrace_id"].as_str().is_some_and(|t| !t.is_empty()));
    assert_eq!(
        answer["test_event_code"], "TEST4242",
        "the account's code by default"
    );
    let event = &answer["payload"]["data"][0];
    assert_eq!(event["user_data"]["em"][0], EM_HASH);
    assert_eq!(event["user_data"]["ph"][0], PH_HASH);
    assert_eq!(event["custom_data"]["currency"], "eur");
    let event_id = answer["event_id"].as_str().expect("event_id");
    assert!(uuid_like(event_id), "a fresh UUID: {event_id}");

    let bodies = posted_bodies(&sim);
    assert_eq!(bodies.len(), 1);
    assert!(
        bodies[0].contains("test_event_code=TEST4242"),
        "{}",
        bodies[0]
    );
    assert!(bodies[0].contains(EM_HASH), "hashed in the request");
    for raw in ["John_Smith", "john_smith", "555-1212", "5551212"] {
        assert!(!bodies[0].contains(raw), "no raw {raw} in the request");
    }
    let got = received(&sim);
    assert_eq!(got[0]["test_event_code"], "TEST4242");
    assert_eq!(got[0]["event_id"], event_id);

    // Sending again with the same event_id: Meta counts it, then merges it (dedup).
    let mut again = PURCHASE.to_vec();
    again.extend(["--event-id", event_id, "--live"]);
    let out = cli.run(&again, None);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("LIVE production events"),
        "says it went live: {}",
        describe(&out)
    );
    let bodies = posted_bodies(&sim);
    assert!(
        !bodies[1].contains("test_event_code"),
        "--live sends no test code"
    );

    // Invalid input: exit 2, the field named, nothing sent.
    let out = cli.run(
        &[
            "test-event",
            "shop",
            "--event",
            "Purchase",
            "--email",
            "not-an-email",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    for field in [
        "user_data.em",
        "event_source_url",
        "client_user_agent",
        "value",
    ] {
        assert!(err.contains(field), "{field} named: {err}");
    }
    assert_eq!(posted_bodies(&sim).len(), 2, "nothing sent");

    // `events log` shows both sends, newest first, with the keys present and Meta's answer.
    let out = cli.run(&["events", "log", "shop", "--json"], None);
    assert!(out.status.success(), "{}", describe(&out));
    let log: Vec<Value> = serde_json::from_slice(&out.stdout).expect("events log --json");
    assert_eq!(log.len(), 2, "{log:#?}");
    assert_eq!(
        log[0]["test_event_code"],
        Value::Null,
        "the live resend is newest"
    );
    assert_eq!(log[1]["test_event_code"], "TEST4242");
    assert!(
        log.iter()
            .all(|e| e["event_id"] == event_id && e["outcome"] == "received")
    );
    let keys = log[1]["keys"].as_array().expect("keys");
    assert!(
        keys.contains(&Value::from("em")) && keys.contains(&Value::from("ph")),
        "{keys:?}"
    );
    let out = cli.run(&["events", "log", "shop"], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(event_id) && text.contains("TEST4242") && text.contains("live"),
        "{text}"
    );
    for raw in ["John_Smith", "john_smith", EM_HASH] {
        assert!(!text.contains(raw), "no {raw} in the log: {text}");
    }

    // The log keeps names, ids and keys; never the values.
    let db = std::fs::read(keyring.dir.path().join("capi.db")).expect("db");
    let text = String::from_utf8_lossy(&db);
    assert!(text.contains(event_id), "the event is logged");
    for raw in ["John_Smith", "john_smith@gmail.com", EM_HASH] {
        assert!(!text.contains(raw), "{raw} is not in the database");
    }
}

fn uuid_like(s: &str) -> bool {
    s.len() == 36 && s.chars().filter(|c| *c == '-').count() == 4
}

#[test]
fn a_file_of_events_is_checked_whole_then_sent_in_requests_of_1000() {
    let Some((keyring, sim, cli)) = setup() else {
        return;
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let line = |i: usize, time: i64| {
        serde_json::json!({
            "event_name": "Lead", "event_time": time, "event_id": format!("lead-{i}"),
            "action_source": "website", "event_source_url": "https://shop.example/form",
            "user_data": {"em": format!("lead{i}@example.com"), "client_user_agent": "Mozilla/5.0"}
        })
        .to_string()
    };
    let file = keyring.dir.path().join("events.jsonl");
    let mut lines: Vec<String> = (0..2500).map(|i| line(i, now - 60)).collect();
    lines[1234] = line(1234, now - 8 * 86_400);
    lines[2000] = "{\"event_name\": \"Lead\", \"colour\": \"blue\"}".to_owned();
    std::fs::write(&file, lines.join("\n")).expect("file");
    let path = file.display().to_string();

    let out = cli.run(&["events", "send", "shop", &path], None);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 1235: event_time"), "{err}");
    assert!(err.contains("line 2001: not an event"), "{err}");
    assert!(err.contains("nothing was sent"), "{err}");
    assert!(posted_bodies(&sim).is_empty(), "no request at all");

    lines[1234] = line(1234, now - 120);
    lines[2000] = line(2000, now - 120);
    std::fs::write(&file, lines.join("\n")).expect("file");
    let out = cli.run(&["events", "send", "shop", &path], None);
    assert!(out.status.success(), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("2500 of 2500 event(s) received by Meta in 3 request(s)"),
        "{stdout}"
    );
    assert_eq!(posted_bodies(&sim).len(), 3, "1000 + 1000 + 500");
    let got = received(&sim);
    assert_eq!(got.len(), 2500);
    assert!(got.iter().all(|e| e["test_event_code"] == "TEST4242"));
}

/// A line in Meta's own format with every documented `user_data` and `custom_data` field.
const EVERY_FIELD: &str = r#"{"event_name":"Purchase","event_id":"order-77","action_source":"website","event_source_url":"https://shop.example/thanks","user_data":{"em":["John_Smith@gmail.com"],"ph":"+1 (650) 555-1212","fn":"John","ln":"Smith","ge":"m","db":"19900115","ct":"Menlo Park","st":"CA","zp":"94025","country":"US","external_id":"User-42","client_ip_address":"203.0.113.7","client_user_agent":"Mozilla/5.0","fbc":"fb.1.1554763741205.AbCdEfGhIjKlMnOpQrStUvWxYz1234567890","fbp":"fb.1.1596403881668.1116446470"},"custom_data":{"value":54.9,"currency":"EUR","content_ids":["SKU-1"],"content_type":"product","contents":[{"id":"SKU-1","quantity":2,"item_price":27.45}],"content_name":"Mug","content_category":"Kitchen","num_items":2,"order_id":"order-77","search_string":"blue mug","status":"paid","predicted_ltv":240.5}}"#;

#[test]
fn a_file_line_with_every_field_is_sent_hashed_or_plain_as_meta_requires() {
    let Some((keyring, sim, cli)) = setup() else {
        return;
    };
    let file = keyring.dir.path().join("every-field.jsonl");
    std::fs::write(&file, format!("{EVERY_FIELD}\n")).expect("file");
    let out = cli.run(
        &["events", "send", "shop", &file.display().to_string()],
        None,
    );
    assert!(out.status.success(), "{}", describe(&out));
    let bodies = posted_bodies(&sim);
    assert_eq!(bodies.len(), 1);
    let data = url::form_urlencoded::parse(bodies[0].as_bytes())
        .find(|(k, _)| k == "data")
        .map(|(_, v)| v.into_owned())
        .expect("a data parameter");
    let events: Value = serde_json::from_str(&data).expect("data is JSON");
    let event = &events[0];
    let user = &event["user_data"];
    assert_eq!(user["em"][0], EM_HASH, "Meta's documented hash");
    assert_eq!(user["ph"][0], PH_HASH, "Meta's documented hash");
    for key in [
        "fn",
        "ln",
        "ge",
        "db",
        "ct",
        "st",
        "zp",
        "country",
        "external_id",
    ] {
        let hash = user[key][0].as_str().unwrap_or_default();
        assert!(
            hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
            "{key} hashed: {user}"
        );
    }
    for (key, plain) in [
        ("client_ip_address", "203.0.113.7"),
        ("client_user_agent", "Mozilla/5.0"),
        (
            "fbc",
            "fb.1.1554763741205.AbCdEfGhIjKlMnOpQrStUvWxYz1234567890",
        ),
        ("fbp", "fb.1.1596403881668.1116446470"),
    ] {
        assert_eq!(user[key], plain, "{key} plain");
    }
    let custom = &event["custom_data"];
    assert_eq!(custom["contents"][0]["quantity"], 2, "{custom}");
    for key in [
        "value",
        "currency",
        "content_ids",
        "content_type",
        "content_name",
        "content_category",
        "num_items",
        "order_id",
        "search_string",
        "status",
        "predicted_ltv",
    ] {
        assert!(!custom[key].is_null(), "custom_data.{key} sent: {custom}");
    }
    for raw in ["John_Smith", "Menlo", "User-42", "19900115"] {
        assert!(!data.contains(raw), "no raw {raw}: {data}");
    }
    assert_eq!(received(&sim).len(), 1, "Meta's simulator accepted it");
}
