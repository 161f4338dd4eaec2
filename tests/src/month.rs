//! A scripted month of status history, shared by the incidents tests of the CLI, the
//! application API and the window: three outages of known lengths and an UNKNOWN half day.

use meta_monitor_core::graph::ErrorClass;
use meta_monitor_core::store::Store;
use meta_monitor_core::tile::{Service, Status, Tile, TileError};
use time::{Duration, OffsetDateTime};

pub const HOUR: i64 = 3600;

/// One check's tile at `at`, with Meta's error when it failed.
pub fn tile(service: Service, status: Status, at: OffsetDateTime, message: &str) -> Tile {
    let mut tile = Tile::new(service, status, at, message);
    if status == Status::Down {
        tile.error = Some(TileError {
            class: ErrorClass::Transient,
            code: Some(2),
            subcode: None,
            fbtrace_id: Some(format!("Trace{}", at.unix_timestamp())),
            is_transient: true,
            advice: "Meta says this is temporary".into(),
        });
    }
    tile
}

/// Writes the month: every service UP from `start` (a day before the 30-day window), then
/// - pixel DOWN 2 h 30 m on day 3,
/// - graph_api DOWN 45 min on day 10,
/// - pixel UNKNOWN (not measured) 12 h on day 15,
/// - pixel DOWN 3 h then DEGRADED 3 h on day 20 (one incident of 6 h, worst DOWN).
///
/// Checks run every 15 minutes during the failures; the newest message is kept.
pub fn script(store: &Store, id: i64, start: OffsetDateTime) {
    let check = |service, status, at, message: &str| {
        store
            .upsert_tile(id, &tile(service, status, at, message))
            .expect("tile stored");
    };
    for service in [Service::Pixel, Service::GraphApi] {
        check(service, Status::Up, start, "ok");
    }
    let day =
        |d: i64, hours: f64| start + Duration::days(d) + Duration::seconds_f64(hours * 3600.0);
    let fail = |service, status, from: OffsetDateTime, minutes: i64, what: &str| {
        for step in (0..minutes).step_by(15) {
            check(
                service,
                status,
                from + Duration::minutes(step),
                &format!("{what} (check {step})"),
            );
        }
    };
    fail(
        Service::Pixel,
        Status::Down,
        day(3, 10.0),
        150,
        "pixel unreadable",
    );
    check(Service::Pixel, Status::Up, day(3, 12.5), "ok");
    fail(
        Service::GraphApi,
        Status::Down,
        day(10, 8.0),
        45,
        "Graph API unreachable",
    );
    check(Service::GraphApi, Status::Up, day(10, 8.75), "ok");
    check(
        Service::Pixel,
        Status::Unknown,
        day(15, 0.0),
        "throttled by Meta",
    );
    check(Service::Pixel, Status::Up, day(15, 12.0), "ok");
    fail(
        Service::Pixel,
        Status::Down,
        day(20, 6.0),
        180,
        "pixel unreadable",
    );
    fail(
        Service::Pixel,
        Status::Degraded,
        day(20, 9.0),
        180,
        "pixel silent",
    );
    check(Service::Pixel, Status::Up, day(20, 12.0), "ok");
}
