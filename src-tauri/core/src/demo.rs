//! The demo: its account (pointing at a simulator the caller runs), and its past — 30 days of
//! plausible history so its charts are not empty on first launch, and its shop's products.
//! Only ever written to the demo's in-memory store, next to a DEMO label; a real account's
//! history is only what was measured.

use std::sync::Mutex;

use time::OffsetDateTime;

use crate::store::{Store, StoreError};

/// The simulator's identifiers the demo account watches (the simulator is the caller's: the
/// core shares no code with it).
#[derive(Debug, Clone, Copy)]
pub struct DemoIds<'a> {
    pub app_id: &'a str,
    pub ad_account: &'a str,
    pub pixel: &'a str,
    pub catalog: &'a str,
    pub business: &'a str,
}

/// The demo account, named `demo`, pointing at the simulator at `base_url`.
pub fn account(
    base_url: &str,
    ids: DemoIds<'_>,
) -> Result<crate::Account, crate::account::AccountError> {
    let mut a = crate::Account::new("demo");
    a.graph_url = base_url.to_owned();
    a.app_id = Some(ids.app_id.to_owned());
    a.ad_account_id = Some(ids.ad_account.to_owned());
    a.pixel_id = Some(ids.pixel.to_owned());
    a.catalog_id = Some(ids.catalog.to_owned());
    a.business_id = Some(ids.business.to_owned());
    a.test_event_code = Some("TEST-DEMO".to_owned());
    // The demo shows a token about to expire; "Renew now" shows what renewal does.
    a.monitoring.token_auto_renew = false;
    a.validate()
}

/// How far back the demo's history goes.
pub const DAYS: i64 = 30;

/// A repeatable value in [0, 1) for step `n` of a series (FNV-1a), so every launch shows the
/// same shapes without a random-number dependency.
fn noise(series: u8, n: i64) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in std::iter::once(series).chain(n.to_le_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % 10_000) as f64 / 10_000.0
}

/// The hour of the day (0–24) as a daily wave: busier afternoons, quiet nights.
fn daily(at: OffsetDateTime) -> f64 {
    let hour = f64::from(at.hour()) + f64::from(at.minute()) / 60.0;
    (std::f64::consts::TAU * (hour - 9.0) / 24.0).sin()
}

fn lock(store: &Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    store
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Writes the demo's history up to `now` (API latency every 1–5 minutes, usage every 15,
/// ads spend and pixel events hourly) and rolls it up like the real job. One transaction per
/// simulated day, the store unlocked in between, so a window asking for its tiles meanwhile
/// waits for a day's worth at most. Returns the number of points written.
pub fn seed_history(
    store: &Mutex<Store>,
    account_id: i64,
    now: OffsetDateTime,
) -> Result<usize, StoreError> {
    let start = now - time::Duration::days(DAYS);
    let mut written = 0;
    for day in 0..DAYS {
        let from = start + time::Duration::days(day);
        let to = (from + time::Duration::days(1)).min(now);
        written += lock(store).atomically(|s| seed_span(s, account_id, start, from, to, now))?;
    }
    lock(store).roll_up_and_prune(now)?;
    Ok(written)
}

/// The points of `[from, to)`, numbered from `start` so every launch draws the same shapes.
fn seed_span(
    store: &mut Store,
    account_id: i64,
    start: OffsetDateTime,
    from: OffsetDateTime,
    to: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<usize, StoreError> {
    // A check a minute for the raw 48 h (so each chart bucket has several and the
    // percentiles part), every 5 minutes before that (rolled up into hours anyway).
    let raw_since = now - time::Duration::hours(48);
    let mut written = 0;
    let mut at = from;
    while at < to {
        let n = (at - start).whole_minutes();
        let wave = daily(at);
        let mut points = Vec::with_capacity(4);
        // 90–260 ms with a rare slow call, like a busy afternoon across the Atlantic.
        let spike = if noise(1, n) > 0.995 { 900.0 } else { 0.0 };
        points.push((
            "meta.api.latency_ms".to_owned(),
            140.0 + 45.0 * wave + 70.0 * noise(2, n) + spike,
        ));
        if n % 15 == 0 {
            points.push((
                "meta.rate_limit.max_pct".to_owned(),
                (30.0 + 20.0 * wave + 15.0 * noise(3, n)).round(),
            ));
        }
        if n % 60 == 0 {
            let weekday = f64::from(at.weekday().number_days_from_monday());
            points.push((
                "meta.ads.spend_24h".to_owned(),
                (480.0 + 12.0 * weekday + 60.0 * noise(4, n / 1440)).round(),
            ));
            points.push((
                "meta.pixel.events_24h".to_owned(),
                (1500.0 + 300.0 * wave + 200.0 * noise(5, n)).round(),
            ));
        }
        written += points.len();
        store.insert_points(account_id, at, &points)?;
        at += time::Duration::minutes(if at < raw_since { 5 } else { 1 });
    }
    Ok(written)
}

/// The demo shop's own products: a feed as a shop would import it.
pub fn demo_products() -> Vec<crate::catalog::product::Product> {
    let rows = [
        ("MUG-BLUE", "Blue stoneware mug", "14.90 EUR", "in stock"),
        ("MUG-RED", "Red stoneware mug", "14.90 EUR", "in stock"),
        ("TEAPOT-1L", "Teapot, 1 litre", "39.00 EUR", "in stock"),
        (
            "PLATE-SET",
            "Set of four plates",
            "49.50 EUR",
            "out of stock",
        ),
        ("BOWL-S", "Small bowl", "9.90 EUR", "in stock"),
        ("VASE-TALL", "Tall vase", "59.00 EUR", "preorder"),
    ];
    rows.iter()
        .map(|(id, title, price, availability)| {
            let slug = id.to_lowercase();
            crate::catalog::product::Product::from_pairs([
                ("id", id.to_string()),
                ("title", title.to_string()),
                ("description", format!("{title}, made in our workshop")),
                ("availability", availability.to_string()),
                ("condition", "new".to_owned()),
                ("price", price.to_string()),
                ("link", format!("https://shop.example/p/{slug}")),
                ("image_link", format!("https://shop.example/p/{slug}.jpg")),
                ("brand", "Demo Shop".to_owned()),
            ])
        })
        .collect()
}

/// Imports the demo's products and syncs all but the last to the simulated catalog, so the
/// Catalog view shows Meta ids, a product never synced, and Meta's review.
pub async fn seed_catalog(
    client: &crate::graph::GraphClient,
    store: &Mutex<Store>,
    account_id: i64,
    catalog_id: &str,
) -> Result<(), crate::catalog::sync::SyncError> {
    use crate::catalog::sync;
    let products = demo_products();
    let now = OffsetDateTime::now_utc();
    let to_sync = &products[..products.len() - 1];
    {
        let mut store = store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        store.import_products(account_id, &products, now)?;
        sync::queue_updates(&mut store, account_id, catalog_id, to_sync, now)?;
    }
    let options = sync::SyncOptions {
        read_back: true,
        ..sync::SyncOptions::default()
    };
    let cancel = std::sync::atomic::AtomicBool::new(false);
    sync::run(
        client,
        store,
        account_id,
        catalog_id,
        &options,
        &cancel,
        &|_| {},
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used, reason = "a failed step must fail the test")]

    use super::*;
    use crate::Account;

    #[test]
    fn the_demo_history_fills_30_days_of_every_chart() {
        let store = Store::in_memory().expect("store");
        let now = OffsetDateTime::now_utc();
        let id = store
            .add_account(&Account::new("demo"), now)
            .expect("account");
        let store = Mutex::new(store);
        let written = seed_history(&store, id, now).expect("seeded");
        let store = store.into_inner().expect("unpoisoned");
        assert!(
            written > 11_000,
            "a point every 1–5 minutes for 30 days: {written}"
        );
        for metric in [
            "meta.api.latency_ms",
            "meta.rate_limit.max_pct",
            "meta.ads.spend_24h",
            "meta.pixel.events_24h",
        ] {
            let month = store
                .chart(id, metric, now - time::Duration::days(30), now, 300, now)
                .expect("chart");
            assert!(month.len() >= 25, "{metric}: {} points", month.len());
            let first = month.first().expect("first").at;
            assert!(
                now - first >= time::Duration::days(28),
                "{metric} starts {first}"
            );
        }
        let latency = store
            .chart(
                id,
                "meta.api.latency_ms",
                now - time::Duration::days(30),
                now,
                1,
                now,
            )
            .expect("summary")
            .pop()
            .expect("one");
        let p95 = latency.p95.expect("percentiles from sketches");
        assert!((150.0..1000.0).contains(&p95), "plausible p95 {p95}");
        let day = store
            .chart(
                id,
                "meta.api.latency_ms",
                now - time::Duration::days(1),
                now,
                250,
                now,
            )
            .expect("a day");
        let parted = day.iter().filter(|p| p.p99 > p.p50).count();
        assert!(parted * 2 > day.len(), "p50 and p99 differ in most buckets");
    }
}
