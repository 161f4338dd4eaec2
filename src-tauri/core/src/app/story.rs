//! What a tile's history says, read from the stored series and runs (no Graph call): a 24 h
//! sparkline of its key number, the change against the period before, the Graph API's
//! failures split 4xx/5xx/network over the last hour and day, and the webhook endpoint's
//! success rate and latency over 24 h.

use serde::Serialize;
use time::{Duration, OffsetDateTime};
use ts_rs::TS;

use super::{App, AppError, lock};
use crate::store::probe_runs::OutcomeSplit;
use crate::store::rollups::ChartPoint;
use crate::store::{Store, StoreError};
use crate::tile::Service;

/// One tile's story.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct TileStory {
    pub service: Service,
    /// The stored series drawn (e.g. `meta.api.latency_ms`).
    pub metric: String,
    /// Hourly means over the last 24 h, oldest first (hours without data left out).
    pub spark: Vec<f64>,
    /// Percent change against the period before; `None` without data in both.
    pub change_pct: Option<f64>,
    /// What `change_pct` compares, in words.
    pub compared: String,
    /// The Graph API tile: every probe's runs split by failure, last hour and 24 h.
    pub errors_1h: Option<OutcomeSplit>,
    pub errors_24h: Option<OutcomeSplit>,
    /// The webhooks tile: the endpoint's checks over 24 h.
    pub endpoint: Option<EndpointHealth>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, TS)]
pub struct EndpointHealth {
    #[ts(type = "number")]
    pub checks: u64,
    pub success_pct: f64,
    pub latency_p95_ms: Option<f64>,
}

/// How a series' change is measured.
#[derive(Clone, Copy)]
enum Compare {
    /// The last hour's mean against the same hour a day before (rolling 24 h sums: spend,
    /// pixel events).
    DayAgo,
    /// p95 of the last 24 h against the 24 h before (latencies).
    P95,
    /// No comparison worth a number (usage, counts).
    None,
}

/// The key series of each tile.
fn key_series(service: Service) -> Option<(&'static str, Compare)> {
    Some(match service {
        Service::Token => return None,
        Service::GraphApi => ("meta.api.latency_ms", Compare::P95),
        Service::RateLimits => ("meta.rate_limit.max_pct", Compare::None),
        Service::Ads => ("meta.ads.spend_24h", Compare::DayAgo),
        Service::Pixel => ("meta.pixel.events_24h", Compare::DayAgo),
        Service::ConversionsApi => ("meta.capi.server_events_24h", Compare::DayAgo),
        Service::Webhooks => ("meta.webhooks.endpoint_latency_ms", Compare::P95),
        Service::Catalog => ("meta.catalog.product_count", Compare::None),
    })
}

fn change(now: Option<f64>, before: Option<f64>) -> Option<f64> {
    match (now, before) {
        (Some(now), Some(before)) if before.abs() > f64::EPSILON => {
            Some((now - before) / before.abs() * 100.0)
        }
        _ => None,
    }
}

impl App {
    /// Each tile's story for `account`.
    pub fn tile_stories(&self, account: &str) -> Result<Vec<TileStory>, AppError> {
        let (_, id, store) = self.one_store(account)?;
        let now = self.options.clock.now();
        let store = lock(&store);
        Service::ALL
            .into_iter()
            .filter_map(|service| key_series(service).map(|k| (service, k)))
            .map(|(service, (metric, compare))| {
                story(&store, id, service, metric, compare, now).map_err(AppError::from)
            })
            .collect()
    }
}

fn story(
    store: &Store,
    id: i64,
    service: Service,
    metric: &str,
    compare: Compare,
    now: OffsetDateTime,
) -> Result<TileStory, StoreError> {
    let day = Duration::DAY;
    let summary =
        |from: OffsetDateTime, to: OffsetDateTime| -> Result<Option<ChartPoint>, StoreError> {
            Ok(store.chart(id, metric, from, to, 1, now)?.pop())
        };
    let spark = store
        .chart(id, metric, now - day, now, 24, now)?
        .into_iter()
        .map(|p| p.mean)
        .collect();
    let (change_pct, compared) = match compare {
        Compare::DayAgo => {
            let latest = summary(now - Duration::HOUR, now)?.map(|p| p.mean);
            let before = summary(now - day - Duration::HOUR, now - day)?.map(|p| p.mean);
            (change(latest, before), "vs a day ago")
        }
        Compare::P95 => {
            let latest = summary(now - day, now)?.and_then(|p| p.p95);
            let before = summary(now - 2 * day, now - day)?.and_then(|p| p.p95);
            (change(latest, before), "p95 vs the 24 h before")
        }
        Compare::None => (None, ""),
    };
    let (errors_1h, errors_24h) = if service == Service::GraphApi {
        (
            Some(store.outcome_split(id, now - Duration::HOUR)?),
            Some(store.outcome_split(id, now - day)?),
        )
    } else {
        (None, None)
    };
    let endpoint = if service == Service::Webhooks {
        let ok = store
            .chart(id, "meta.webhooks.endpoint_ok", now - day, now, 1, now)?
            .pop();
        let latency = summary(now - day, now)?;
        ok.map(|ok| EndpointHealth {
            checks: ok.count,
            success_pct: ok.mean * 100.0,
            latency_p95_ms: latency.and_then(|l| l.p95),
        })
    } else {
        None
    };
    Ok(TileStory {
        service,
        metric: metric.to_owned(),
        spark,
        change_pct,
        compared: compared.to_owned(),
        errors_1h,
        errors_24h,
        endpoint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Account;

    #[test]
    fn stories_read_trends_errors_and_endpoint_health_from_history() {
        let now = OffsetDateTime::from_unix_timestamp(1_793_491_200).expect("time");
        let mut store = Store::in_memory().expect("store");
        let id = store
            .add_account(&Account::new("shop"), now - Duration::days(3))
            .expect("account");
        // Two days, a check every 10 minutes: spend 100 a day ago, 112 now; latency 100 ms
        // the day before, 200 ms the last day; the endpoint fails 1 check in 4.
        for step in 0..(48 * 6) {
            let at = now - Duration::minutes(10 * (48 * 6 - step));
            let recent = at > now - Duration::DAY;
            let points = [
                (
                    "meta.ads.spend_24h".to_owned(),
                    if recent { 112.0 } else { 100.0 },
                ),
                (
                    "meta.api.latency_ms".to_owned(),
                    if recent { 200.0 } else { 100.0 },
                ),
                (
                    "meta.webhooks.endpoint_ok".to_owned(),
                    if step % 4 == 0 { 0.0 } else { 1.0 },
                ),
                ("meta.webhooks.endpoint_latency_ms".to_owned(), 300.0),
            ];
            store.insert_points(id, at, &points).expect("points");
        }
        // Runs of the last hour: 3 fine, one 400, two 503, one without an answer.
        for (i, (status, outcome)) in [
            (None, "ok"),
            (None, "ok"),
            (None, "ok"),
            (Some(400), "permission"),
            (Some(503), "transient"),
            (Some(503), "transient"),
            (None, "transport"),
        ]
        .into_iter()
        .enumerate()
        {
            store
                .conn()
                .execute(
                    "INSERT INTO probe_runs (account_id, probe, at_ms, status, outcome,
                     http_status, message) VALUES (?1, 'pixel', ?2, 'UP', ?3, ?4, '')",
                    rusqlite::params![
                        id,
                        crate::store::to_ms(now - Duration::minutes(5 + i as i64)),
                        outcome,
                        status
                    ],
                )
                .expect("run");
        }
        let ads = story(
            &store,
            id,
            Service::Ads,
            "meta.ads.spend_24h",
            Compare::DayAgo,
            now,
        )
        .expect("ads");
        let pct = ads.change_pct.expect("both periods measured");
        assert!((pct - 12.0).abs() < 1e-9, "{pct}");
        assert_eq!(ads.spark.len(), 24, "hourly");
        let graph = story(
            &store,
            id,
            Service::GraphApi,
            "meta.api.latency_ms",
            Compare::P95,
            now,
        )
        .expect("graph");
        let pct = graph.change_pct.expect("p95 both days");
        assert!(
            (pct - 100.0).abs() < 4.5,
            "p95 doubled, each p95 within the sketch's 1 %: {pct}"
        );
        let hour = graph.errors_1h.expect("split");
        assert_eq!(
            (hour.checks, hour.client_4xx, hour.server_5xx, hour.network),
            (7, 1, 2, 1)
        );
        let hooks = story(
            &store,
            id,
            Service::Webhooks,
            "meta.webhooks.endpoint_latency_ms",
            Compare::P95,
            now,
        )
        .expect("hooks");
        let endpoint = hooks.endpoint.expect("checked");
        assert_eq!(endpoint.checks, 144);
        assert!((endpoint.success_pct - 75.0).abs() < 1e-9, "{endpoint:?}");
        assert!(
            endpoint
                .latency_p95_ms
                .is_some_and(|p| (p - 300.0).abs() < 4.0)
        );
        let empty = story(
            &store,
            id,
            Service::Pixel,
            "meta.pixel.events_24h",
            Compare::DayAgo,
            now,
        )
        .expect("pixel");
        assert_eq!(
            (empty.spark.len(), empty.change_pct),
            (0, None),
            "nothing measured, no number"
        );
    }
}
