//! The accounts grid in the real window: 30 accounts in mixed states are all listed, the worst
//! first; `/` and typing narrow the list; the arrow keys and Enter reach an account's tiles.

#![allow(
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test loudly"
)]

use std::time::Duration;

use meta_monitor_core::store::Store;
use meta_monitor_core::{Account, Service, Status, Tile};
use meta_monitor_e2e::desktop::Desktop;
use serde_json::Value;
use time::OffsetDateTime;

/// 30 accounts: every 7th from the 4th DOWN, every 5th from the 3rd DEGRADED, the rest UP.
fn status_of(i: usize) -> Status {
    if i % 7 == 3 {
        Status::Down
    } else if i % 5 == 2 {
        Status::Degraded
    } else {
        Status::Up
    }
}

#[test]
fn thirty_accounts_worst_first_searchable_and_reachable_by_keyboard() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("grid.db");
    // Stamped two hours ahead: the app's own checks at start (no keychain here, so UNKNOWN)
    // are older and leave these results standing — a newer result always stands.
    let stamp = OffsetDateTime::now_utc() + time::Duration::hours(2);
    {
        let store = Store::open(&db).expect("store");
        for i in 0..30 {
            let name = format!("shop-{i:02}");
            let id = store
                .add_account(&Account::new(&name), stamp)
                .expect("account");
            let status = status_of(i);
            let message = format!("{name} pixel {}", status.as_str().to_lowercase());
            for (service, status, message) in [
                (Service::Token, Status::Up, "valid".to_owned()),
                (Service::Pixel, status, message),
            ] {
                store
                    .upsert_tile(id, &Tile::new(service, status, stamp, message))
                    .expect("tile");
            }
        }
    }
    let env = app_env(&db, dir.path());
    let Some(app) = Desktop::launch(&[], &env) else {
        return;
    };
    let rows = r#"section[aria-label="All accounts"] tr[data-account]"#;
    app.wait_for(rows, Duration::from_secs(45));
    let listed = |app: &Desktop| -> Vec<(String, String)> {
        let script = format!(
            "return [...document.querySelectorAll('{}')].map(r => [r.dataset.account, r.dataset.overall]);",
            rows.replace('\'', "\\'")
        );
        let value: Value = app.evaluate(&script);
        value
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| {
                (
                    r[0].as_str().expect("name").to_owned(),
                    r[1].as_str().expect("overall").to_owned(),
                )
            })
            .collect()
    };
    let all = listed(&app);
    assert_eq!(all.len(), 30, "{all:?}");
    let mut expected: Vec<(String, String)> = (0..30)
        .map(|i| (format!("shop-{i:02}"), status_of(i).as_str().to_owned()))
        .collect();
    let rank = |s: &str| {
        ["DOWN", "DEGRADED", "UNKNOWN", "UP"]
            .iter()
            .position(|r| *r == s)
    };
    expected.sort_by(|a, b| (rank(&a.1), &a.0).cmp(&(rank(&b.1), &b.0)));
    assert_eq!(all, expected, "the worst first, by name within a status");
    app.screenshot("grid-30-accounts.png");

    // `/` from the page focuses the search; typing narrows the list.
    app.send_keys("body", "/");
    let focused = app.evaluate("return document.activeElement?.getAttribute('aria-label');");
    assert_eq!(focused, "Search accounts", "/ focuses the search");
    app.type_into(r#"input[aria-label="Search accounts"]"#, "shop-1");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while listed(&app).len() != 10 {
        assert!(std::time::Instant::now() < deadline, "{:?}", listed(&app));
        std::thread::sleep(Duration::from_millis(100));
    }
    let narrowed = listed(&app);
    assert!(narrowed.iter().all(|(name, _)| name.starts_with("shop-1")));

    // ↓ from the search reaches the first row, ↓ again the second, Enter opens it.
    let arrow_down = "\u{E015}";
    let enter = "\u{E007}";
    app.send_keys(r#"input[aria-label="Search accounts"]"#, arrow_down);
    app.send_keys("tr[data-account]:focus", arrow_down);
    let second = narrowed[1].0.clone();
    let focused = app.evaluate("return document.activeElement?.dataset?.account ?? null;");
    assert_eq!(
        focused,
        second.as_str(),
        "the arrow moved to the second row"
    );
    app.send_keys("tr[data-account]:focus", enter);
    let pixel = app.wait_text(
        r#"article[data-service="pixel"] .message"#,
        Duration::from_secs(10),
        |t| t.starts_with(&second),
    );
    assert!(pixel.contains("pixel"), "{pixel}");
    app.click("button.back");
    app.wait_for(rows, Duration::from_secs(10));
}

#[test]
fn a_scripted_month_reads_the_same_in_the_incidents_view() {
    use meta_monitor_e2e::month::{HOUR, script};
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("month.db");
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("whole second");
    let start = now - time::Duration::days(31);
    {
        let store = Store::open(&db).expect("store");
        let id = store
            .add_account(&Account::new("shop"), start)
            .expect("account");
        script(&store, id, start);
    }
    let env = app_env(&db, dir.path());
    let Some(app) = Desktop::launch(&[], &env) else {
        return;
    };
    app.wait_for(r#"nav[aria-label="Views"]"#, Duration::from_secs(45));
    app.click(r#"header.app nav button[data-view="incidents"]"#);
    let rows = r#"table[aria-label="Incidents"] tr[data-account]"#;
    app.wait_for(rows, Duration::from_secs(20));
    let durations = app.evaluate(&format!(
        "return [...document.querySelectorAll('{}')].map(r => Number(r.querySelector('[data-duration]').dataset.duration));",
        rows.replace('\'', "\\'")
    ));
    assert_eq!(
        durations,
        serde_json::json!([6 * HOUR, 45 * 60, 150 * 60]),
        "the same incidents as the CLI, newest first"
    );
    // One account chosen: its uptime, UNKNOWN time excluded.
    app.evaluate(
        "const s = document.querySelector('.incidents-view .filters select'); s.value = 'shop'; s.dispatchEvent(new Event('change')); return null;",
    );
    let measured = 30 * 24 * HOUR - 12 * HOUR;
    let pct = 100.0 * (measured - (5 * HOUR + 30 * 60)) as f64 / measured as f64;
    let cell = r#"table[aria-label="Uptime"] tr[data-service="pixel"] td[data-window="30d"]"#;
    let shown = app.wait_text(cell, Duration::from_secs(20), |t| !t.is_empty());
    assert_eq!(shown, format!("{pct:.2} %"));
    app.screenshot("incidents-month.png");
}

/// The app on `db`, with its data and config folders in `home` (never the user's).
fn app_env(db: &std::path::Path, home: &std::path::Path) -> [(String, String); 3] {
    [
        ("META_MONITOR_DB".to_owned(), db.display().to_string()),
        ("XDG_DATA_HOME".to_owned(), home.display().to_string()),
        ("XDG_CONFIG_HOME".to_owned(), home.display().to_string()),
    ]
}
