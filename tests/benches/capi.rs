//! Customer-data normalization + SHA-256: nine fields per record (em, ph, fn, ln, db, ct, st,
//! zp, country), against nine SHA-256s of short strings — the floor no implementation can
//! beat — in the same run (criterion). With `CAPI_RECORDS=FILE` it also writes 1,000,000
//! such records to FILE (JSON lines) and times one single-threaded pass over them, for the
//! comparison with the Python SDK that `scripts/capi-sdk.sh bench` runs on the same file.
//!
//! Then 10,000 events built and sent to the in-process simulator over loopback HTTP (≤ 1000
//! per request), against as many `GET /me` requests as that took, in the same run.
//!
//! `cargo bench -p meta-monitor-e2e --bench capi`

#![allow(
    clippy::expect_used,
    reason = "a benchmark whose setup fails must stop loudly"
)]

use std::hint::black_box;
use std::io::Write;
use std::time::Instant;

use criterion::{Criterion, criterion_group};
use meta_monitor_core::capi::normalize::{Key, prepare, sha256_hex};

const FIELDS: [Key; 9] = [
    Key::Email,
    Key::Phone,
    Key::FirstName,
    Key::LastName,
    Key::DateOfBirth,
    Key::City,
    Key::State,
    Key::Zip,
    Key::Country,
];

const FIRST: [&str; 6] = ["John", "Valéry", "Mary", "José", "Anna", "Li"];
const LAST: [&str; 6] = ["Smith", "Müller", "Garcia", "Nguyen", "Rossi", "Kowalski"];
const CITY: [&str; 4] = ["Menlo Park", "São Paulo", "Berlin", "New York"];
const STATE: [&str; 4] = ["CA", "SP", "BE", "NY"];
const COUNTRY: [&str; 4] = ["US", "BR", "DE", "us"];

/// Record `i`: values both this code and the SDK accept, shaped like a shop's checkout data.
fn record(i: usize) -> [String; 9] {
    [
        format!("  Customer.{i}@Example{}.com ", i % 97),
        format!("+1 (650) 555-{:04}", i % 10_000),
        FIRST[i % FIRST.len()].to_owned(),
        LAST[i % LAST.len()].to_owned(),
        format!("19{:02}{:02}{:02}", 40 + i % 60, 1 + i % 12, 1 + i % 28),
        CITY[i % CITY.len()].to_owned(),
        STATE[i % STATE.len()].to_owned(),
        format!("{:05}-1234", 10_000 + i % 89_999),
        COUNTRY[i % COUNTRY.len()].to_owned(),
    ]
}

fn prepare_record(values: &[String; 9]) -> usize {
    FIELDS
        .iter()
        .zip(values)
        .map(|(key, value)| prepare(*key, value, true).map_or(0, |p| p.sent.len()))
        .sum()
}

fn bench(c: &mut Criterion) {
    let records: Vec<[String; 9]> = (0..1000).map(record).collect();
    let mut group = c.benchmark_group("capi");
    group.bench_function("9 SHA-256 of short strings (baseline)", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % records.len();
            records[i]
                .iter()
                .map(|v| sha256_hex(black_box(v)).len())
                .sum::<usize>()
        });
    });
    group.bench_function("normalize + hash 9 fields", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % records.len();
            prepare_record(black_box(&records[i]))
        });
    });
    group.finish();
}

criterion_group!(benches, bench);

/// One single-threaded pass over 1,000,000 records written to `path` for the SDK run.
fn million(path: &str) {
    const N: usize = 1_000_000;
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).expect("records file"));
    let names = ["em", "ph", "fn", "ln", "db", "ct", "st", "zp", "country"];
    let records: Vec<[String; 9]> = (0..N).map(record).collect();
    for r in &records {
        let fields: serde_json::Map<String, serde_json::Value> = names
            .iter()
            .zip(r)
            .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(v.as_str())))
            .collect();
        writeln!(file, "{}", serde_json::Value::Object(fields)).expect("write");
    }
    file.flush().expect("flush");
    let started = Instant::now();
    let mut bytes = 0;
    for r in &records {
        bytes += prepare_record(black_box(r));
    }
    let ours = started.elapsed();
    let started = Instant::now();
    let mut floor = 0;
    for r in &records {
        floor += r
            .iter()
            .map(|v| sha256_hex(black_box(v)).len())
            .sum::<usize>();
    }
    let baseline = started.elapsed();
    assert_eq!(bytes, floor, "every value hashed");
    let em = prepare(Key::Email, &records[0][0], true)
        .expect("valid")
        .sent;
    println!("records {N}");
    println!("first_em_hash {em}");
    println!(
        "ours_ns_per_record {:.0}",
        ours.as_nanos() as f64 / N as f64
    );
    println!(
        "sha256x9_ns_per_record {:.0}",
        baseline.as_nanos() as f64 / N as f64
    );
}

/// 10,000 events to the simulator: requests made and wall time, against the same number of
/// `GET /me` calls.
fn send_ten_thousand() {
    use meta_graph_sim::{DEMO_TOKEN, PIXEL_ID, SimConfig, Simulator};
    use meta_monitor_core::Secret;
    use meta_monitor_core::capi::event::{EventInput, build};
    use meta_monitor_core::capi::send::{MAX_PER_REQUEST, send};
    use meta_monitor_core::graph::{Credentials, GraphClient, Timeouts, health, http_client};

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let sim = Simulator::start_local(SimConfig::default()).await.expect("simulator");
        let client = GraphClient::new(
            http_client(Timeouts::default()).expect("http"),
            &sim.base_url(),
            "v25.0",
            Credentials {
                access_token: Secret::new(DEMO_TOKEN),
                app_secret: None,
                verify_token: None,
                capi_token: None,
            },
            None,
        )
        .expect("client");
        let now = time::OffsetDateTime::now_utc();
        let started = Instant::now();
        let events: Vec<serde_json::Value> = (0..10_000)
            .map(|i| {
                let mut input = EventInput {
                    event_name: "Lead".into(),
                    event_id: Some(format!("lead-{i}")),
                    event_source_url: Some("https://shop.example/form".into()),
                    ..EventInput::default()
                };
                input.user_data.insert("em".into(), format!("lead{i}@example.com").into());
                input.user_data.insert("client_user_agent".into(), "Mozilla/5.0".into());
                build(&input, now, true).expect("valid").json
            })
            .collect();
        let built = started.elapsed();
        let mut received = 0;
        for chunk in events.chunks(MAX_PER_REQUEST) {
            received += send(&client, PIXEL_ID, chunk, Some("TEST1")).await.expect("sent").events_received;
        }
        let total = started.elapsed();
        let requests = sim
            .requests()
            .iter()
            .filter(|r| r.path.ends_with("/events"))
            .count();
        let me_started = Instant::now();
        for _ in 0..requests {
            health::me(&client).await.expect("me");
        }
        let baseline = me_started.elapsed();
        println!(
            "10,000 events: {received} received in {requests} requests, {:.0} ms (building {:.0} ms); \
             {requests} GET /me: {:.0} ms ({:.1}x)",
            total.as_secs_f64() * 1e3,
            built.as_secs_f64() * 1e3,
            baseline.as_secs_f64() * 1e3,
            total.as_secs_f64() / baseline.as_secs_f64()
        );
        sim.shutdown().await;
    });
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if let Ok(path) = std::env::var("CAPI_RECORDS") {
        million(&path);
        return;
    }
    benches();
    send_ten_thousand();
    Criterion::default().configure_from_args().final_summary();
}
