//! A scripted month of status history — three outages of known lengths and an UNKNOWN half
//! day — read back as incidents and uptime through the application API (clock injected), the
//! CLI's text, JSON and CSV, to the second.

#![allow(
    clippy::expect_used,
    reason = "test: a failed setup step must fail the test loudly"
)]

use std::sync::Arc;

use meta_monitor_core::Account;
use meta_monitor_core::app::incidents::IncidentQuery;
use meta_monitor_core::app::{App, Options};
use meta_monitor_core::clock::ManualClock;
use meta_monitor_core::events::NoEvents;
use meta_monitor_core::store::Store;
use meta_monitor_core::tile::{Service, Status};
use meta_monitor_e2e::month::{HOUR, script, tile};
use meta_monitor_e2e::{describe, run_cli};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

#[test]
fn a_scripted_month_gives_exact_incidents_and_uptime_everywhere() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("month.db");
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("whole second");
    let start = now - Duration::days(31);
    {
        let store = Store::open(&db).expect("store");
        let id = store
            .add_account(&Account::new("shop"), start)
            .expect("account");
        script(&store, id, start);
    }
    let expected = [
        // (service, started, duration, worst)
        (
            Service::Pixel,
            start + Duration::days(20) + Duration::hours(6),
            6 * HOUR,
            Status::Down,
        ),
        (
            Service::GraphApi,
            start + Duration::days(10) + Duration::hours(8),
            45 * 60,
            Status::Down,
        ),
        (
            Service::Pixel,
            start + Duration::days(3) + Duration::hours(10),
            150 * 60,
            Status::Down,
        ),
    ];
    // Pixel over the last 30 days: 5 h 30 m down, 3 h degraded, 12 h not measured.
    let pixel_measured = 30 * 24 * HOUR - 12 * HOUR;
    let pixel_pct = 100.0 * (pixel_measured - (5 * HOUR + 30 * 60)) as f64 / pixel_measured as f64;

    // The application API, its clock injected at the end of the month.
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let clock = Arc::new(ManualClock::new(now));
    let options = Options {
        secrets: false,
        clock: clock.clone(),
        ..Options::default()
    };
    let app = runtime
        .block_on(App::open(&db, options, Arc::new(NoEvents)))
        .expect("app");
    let found = app.incidents(&IncidentQuery::default()).expect("incidents");
    let seen: Vec<_> = found
        .iter()
        .map(|i| (i.service, i.started, i.duration_s, i.worst))
        .collect();
    assert_eq!(seen, expected, "{found:#?}");
    let long = &found[0];
    assert_eq!(long.first_message, "pixel unreadable (check 0)");
    assert_eq!(long.last_message, "pixel silent (check 165)");
    assert_eq!(long.code, Some(2));
    let first_trace = format!("Trace{}", expected[0].1.unix_timestamp());
    assert_eq!(long.fbtrace_id.as_deref(), Some(first_trace.as_str()));
    let only_graph = app
        .incidents(&IncidentQuery {
            service: Some(Service::GraphApi),
            ..IncidentQuery::default()
        })
        .expect("filtered");
    assert_eq!(only_graph.len(), 1);
    let last_week = app
        .incidents(&IncidentQuery {
            hours: Some(7 * 24),
            ..IncidentQuery::default()
        })
        .expect("a week");
    assert!(
        last_week.is_empty(),
        "all three ended over a week ago: {last_week:#?}"
    );

    let uptime = app.uptime("shop").expect("uptime");
    let pixel = uptime
        .iter()
        .find(|u| u.service == Service::Pixel)
        .expect("pixel");
    let month = &pixel.windows[2];
    assert_eq!(month.label, "30d");
    assert_eq!(
        (
            month.time.down_s,
            month.time.degraded_s,
            month.time.unknown_s
        ),
        (5 * HOUR + 30 * 60, 3 * HOUR, 12 * HOUR)
    );
    let pct = month.uptime_pct.expect("measured");
    assert!((pct - pixel_pct).abs() < 1e-9, "{pct} vs {pixel_pct}");
    assert_eq!(pixel.incidents_30d, 2);
    assert_eq!(pixel.mttr_s, Some((150 * 60 + 6 * HOUR) / 2));
    let down_days = pixel
        .days
        .iter()
        .filter(|d| d.worst == Some(Status::Down))
        .count();
    assert!(
        (2..=4).contains(&down_days),
        "two outages, each within one or two UTC days"
    );
    // The clock moves a day on: the newest outage is still in the 30-day window, the oldest
    // pixel one is not.
    clock.advance(Duration::days(5));
    let later = app.uptime("shop").expect("uptime later");
    let later_pixel = later
        .iter()
        .find(|u| u.service == Service::Pixel)
        .expect("pixel");
    assert_eq!(
        later_pixel.incidents_30d, 1,
        "the day-3 outage left the window"
    );
    drop(app);
    drop(runtime);

    // The CLI, on the wall clock (the month ends now, give or take the seconds in between).
    let db_path = db.to_string_lossy().into_owned();
    let cli = |args: &[&str]| {
        let mut all = vec!["--db", db_path.as_str()];
        all.extend_from_slice(args);
        run_cli(&[], &all, None)
    };
    let out = cli(&["incidents", "--since", "30d", "--json"]);
    assert!(out.status.success(), "{}", describe(&out));
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let durations: Vec<i64> = json
        .as_array()
        .expect("array")
        .iter()
        .map(|i| i["duration_s"].as_i64().expect("duration"))
        .collect();
    assert_eq!(durations, [6 * HOUR, 45 * 60, 150 * 60]);

    let out = cli(&["incidents", "shop", "--csv", "--service", "pixel"]);
    assert!(out.status.success(), "{}", describe(&out));
    let mut csv = csv::Reader::from_reader(out.stdout.as_slice());
    let header = csv.headers().expect("header").clone();
    let rows: Vec<csv::StringRecord> = csv.records().collect::<Result<_, _>>().expect("rows");
    assert_eq!(rows.len(), 2, "pixel only");
    let column = |name: &str| header.iter().position(|h| h == name).expect(name);
    assert_eq!(&rows[0][column("duration_s")], "21600");
    assert_eq!(&rows[0][column("worst")], "DOWN");
    assert_eq!(&rows[0][column("fbtrace_id")], first_trace);
    assert_eq!(&rows[1][column("duration_s")], "9000");

    let out = cli(&["incidents"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("6h 00m") && text.contains("45m 00s") && text.contains("2h 30m"),
        "{text}"
    );

    let out = cli(&["uptime", "shop", "--json"]);
    assert!(out.status.success(), "{}", describe(&out));
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let pixel = json
        .as_array()
        .expect("array")
        .iter()
        .find(|u| u["service"] == "pixel")
        .expect("pixel");
    let pct = pixel["windows"][2]["uptime_pct"].as_f64().expect("pct");
    assert!((pct - pixel_pct).abs() < 1e-9, "{pct} vs {pixel_pct}");
    let out = cli(&["uptime", "shop"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("{pixel_pct:.2}%")), "{text}");

    for bad in [
        vec!["incidents", "--since", "soon"],
        vec!["incidents", "--status", "UP"],
        vec!["incidents", "--service", "nope"],
        vec!["incidents", "nobody"],
    ] {
        let out = cli(&bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", describe(&out));
    }
}

#[test]
fn status_without_a_name_prints_every_account_worst_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("grid.db");
    let now = OffsetDateTime::now_utc();
    {
        let store = Store::open(&db).expect("store");
        for (name, status, message) in [
            ("alpha", Status::Up, "ok"),
            ("bravo", Status::Down, "pixel unreadable"),
            ("charlie", Status::Degraded, "slow answers"),
            ("delta", Status::Unknown, "keychain locked"),
            ("echo", Status::Down, "Graph API unreachable"),
        ] {
            let id = store
                .add_account(&Account::new(name), now)
                .expect("account");
            store
                .upsert_tile(id, &tile(Service::Token, Status::Up, now, "valid"))
                .expect("token tile");
            store
                .upsert_tile(id, &tile(Service::Pixel, status, now, message))
                .expect("pixel tile");
        }
    }
    let out = run_cli(&[], &["--db", db.to_str().expect("utf-8"), "status"], None);
    assert!(out.status.success(), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<&str> = text.lines().skip(1).collect();
    let order: Vec<&str> = rows
        .iter()
        .map(|r| r.split_whitespace().next().expect("name"))
        .collect();
    assert_eq!(
        order,
        ["bravo", "echo", "charlie", "delta", "alpha"],
        "{text}"
    );
    assert!(rows[0].ends_with("pixel unreadable"), "the banner: {text}");
    assert!(
        rows[3].ends_with("pixel not measured: keychain locked"),
        "{text}"
    );
    assert!(rows[4].ends_with("all services are up"), "{text}");
    let header = text.lines().next().expect("header");
    assert!(
        header.contains("PIXEL") && header.contains("CATALOG"),
        "{header}"
    );
}
