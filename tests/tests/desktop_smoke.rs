//! The desktop window, for real: Xvfb, tauri-driver and WebKitWebDriver open
//! `meta-monitor-desktop --demo`, which watches its built-in simulator; the window must show
//! the demo's states as the monitor measures them, and never touch the database file.

use std::time::Duration;

use meta_monitor_e2e::desktop::Desktop;

#[test]
fn the_demo_window_shows_every_state_live() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("desktop.db");
    let env = [
        ("META_MONITOR_DB".to_owned(), db.display().to_string()),
        ("XDG_DATA_HOME".to_owned(), dir.path().display().to_string()),
    ];
    let Some(app) = Desktop::launch(&["--demo"], &env) else {
        return;
    };

    // The demo's first checks arrive within seconds.
    let pixel = app.wait_text(
        r#"article[data-service="pixel"].degraded"#,
        Duration::from_secs(45),
        |t| t.contains("silent for"),
    );
    assert!(
        pixel.to_uppercase().contains("DEGRADED"),
        "status as a word, not colour alone: {pixel}"
    );
    let expected = [
        ("token", "DEGRADED", "expires in"),
        ("graph_api", "UP", "responding"),
        ("rate_limits", "DOWN", "throttled"),
    ];
    for (service, status, words) in expected {
        let css = format!(r#"article[data-service="{service}"] [data-status="{status}"]"#);
        assert!(app.find(&css).is_some(), "the {service} tile is {status}");
        let tile = app
            .text(&format!(r#"article[data-service="{service}"]"#))
            .unwrap_or_default();
        assert!(
            tile.contains(words),
            "the {service} tile says {words:?}: {tile}"
        );
    }
    assert_eq!(
        app.text(".demo").as_deref(),
        Some("DEMO"),
        "the demo is labelled"
    );
    assert!(
        app.find(r#"[role="status"][data-overall="DOWN"]"#)
            .is_some(),
        "the banner shows the worst status"
    );
    app.screenshot("overview-demo.png");
    assert!(
        !db.exists(),
        "the demo never creates or writes the database file"
    );

    // Details of the Graph API: a chart whose SVG has a data point per check.
    app.click(r#"article[data-service="graph_api"] .actions button:last-child"#);
    app.wait_text(
        r#"section[aria-label="Graph API details"]"#,
        Duration::from_secs(10),
        |t| t.contains("Latency"),
    );
    // The demo starts with a seeded day of checks: the 24 h chart has a line through them.
    let chart = r#".chart[data-metric="meta.api.latency_ms"]"#;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let points = loop {
        let n = app
            .attribute(&format!("{chart} .svg"), "data-points")
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or(0);
        if n >= 100 || std::time::Instant::now() > deadline {
            break n;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    assert!(points >= 100, "the chart has the day's checks: {points}");
    // The longest polyline is the series (the others are axes and ticks).
    let page = app.source();
    let longest = page
        .split("<polyline")
        .skip(1)
        .filter_map(|tag| tag.split("points=\"").nth(1)?.split('"').next())
        .map(|points| points.split_whitespace().count())
        .max()
        .unwrap_or(0);
    assert!(
        longest >= 100,
        "the SVG draws a point per bucket: the longest line has {longest}"
    );
    app.screenshot("details-graph-api.png");

    // No secret ever reaches the page.
    let page = app.source();
    assert!(page.contains("Latency"), "the page source was read");
    for secret in [meta_graph_sim::DEMO_TOKEN, meta_graph_sim::APP_SECRET] {
        assert!(!page.contains(secret), "a secret reached the DOM");
    }
    assert_eq!(app.title(), "Meta Monitor");

    // The demo shop's products were synced to the simulated catalog for real: Meta ids shown.
    app.click(".details-view .bar button");
    app.click(r#"article[data-service="catalog"] .actions button:last-child"#);
    let synced = r#"tr[data-id="MUG-BLUE"] td.status[data-status="success"]"#;
    app.wait_for(synced, Duration::from_secs(30));
    let meta_id = app
        .text(r#"tr[data-id="MUG-BLUE"] td.meta-id"#)
        .unwrap_or_default();
    assert!(
        meta_id.len() >= 15 && meta_id.bytes().all(|b| b.is_ascii_digit()),
        "Meta's product id: {meta_id:?}"
    );
    app.wait_for(
        r#"tr[data-id="VASE-TALL"] td.status[data-status="never"]"#,
        Duration::from_secs(5),
    );
    app.screenshot("details-catalog-demo.png");
}
