//! Prometheus text exposition of the stored tiles, for `meta-monitor run --metrics ADDR`:
//! teams that outgrow a desktop point Prometheus and Alertmanager at it. Base units (seconds,
//! ratios), one state-set gauge per service status.

use std::sync::atomic::AtomicU64;

use meta_monitor_core::check::AccountTiles;
use meta_monitor_core::tile::Detail;
use meta_monitor_core::{Secret, Status};
use prometheus_client::encoding::text::encode_registry;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use time::OffsetDateTime;

type Labels = Vec<(String, String)>;
type FloatGauges = Family<Labels, Gauge<f64, AtomicU64>>;

pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Label values come partly from remote data (the keys of Meta's usage headers, currencies):
/// each is cut to 100 characters of `[A-Za-z0-9_.:/-]`, anything else becoming `_`, so one odd
/// value can never break a scrape or forge a series.
fn label_value(value: &str) -> String {
    value
        .chars()
        .take(100)
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_.:/-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), label_value(v)))
        .collect()
}

/// The exposition text for every account's current tiles.
pub fn exposition(results: &[AccountTiles], now: OffsetDateTime) -> String {
    let mut registry = Registry::default();
    let gauge = |registry: &mut Registry, name: &str, help: &str| {
        let family = FloatGauges::default();
        registry.register(name, help, family.clone());
        family
    };
    let status = gauge(
        &mut registry,
        "meta_monitor_service_status",
        "1 for the service's current status (UP, DEGRADED, DOWN, UNKNOWN), 0 for the others",
    );
    let latency = gauge(
        &mut registry,
        "meta_monitor_service_latency_seconds",
        "Latency of the service's last check",
    );
    let checked = gauge(
        &mut registry,
        "meta_monitor_last_check_timestamp_seconds",
        "Unix time of the service's last check",
    );
    let usage = gauge(
        &mut registry,
        "meta_monitor_rate_limit_usage_ratio",
        "Highest usage of each Meta rate-limit counter in the last 15 minutes (1 = throttled)",
    );
    let expiry = gauge(
        &mut registry,
        "meta_monitor_token_expiry_seconds",
        "Seconds until the access token expires (absent when it never expires)",
    );
    let spend = gauge(
        &mut registry,
        "meta_monitor_ads_spend",
        "Ad spend in the account currency over the window",
    );
    let events = gauge(
        &mut registry,
        "meta_monitor_pixel_events",
        "Pixel events received by Meta over the window",
    );
    let subs = gauge(
        &mut registry,
        "meta_monitor_webhook_subscriptions",
        "Webhook subscriptions by state",
    );
    let calls = gauge(
        &mut registry,
        "meta_monitor_calls_per_hour",
        "Graph API calls the monitor itself made in the last hour",
    );
    for account in results {
        let a = account.account.as_str();
        for tile in &account.tiles {
            let s = tile.service.as_str();
            for st in [Status::Up, Status::Degraded, Status::Down, Status::Unknown] {
                let on = if st == tile.status { 1.0 } else { 0.0 };
                status
                    .get_or_create(&labels(&[
                        ("account", a),
                        ("service", s),
                        ("status", st.as_str()),
                    ]))
                    .set(on);
            }
            if let Some(ms) = tile.latency_ms {
                latency
                    .get_or_create(&labels(&[("account", a), ("service", s)]))
                    .set(ms as f64 / 1000.0);
            }
            checked
                .get_or_create(&labels(&[("account", a), ("service", s)]))
                .set(tile.last_check.unix_timestamp() as f64);
            match &tile.detail {
                Detail::RateLimits(d) => {
                    for (name, pct) in &d.counters {
                        usage
                            .get_or_create(&labels(&[("account", a), ("counter", name)]))
                            .set(pct / 100.0);
                    }
                    if let Some(n) = d.calls_per_hour {
                        calls
                            .get_or_create(&labels(&[("account", a)]))
                            .set(n as f64);
                    }
                }
                Detail::Token(d) => {
                    if let Some(at) = d.expires_at {
                        expiry
                            .get_or_create(&labels(&[("account", a)]))
                            .set((at - now).as_seconds_f64());
                    }
                }
                Detail::Ads(d) => {
                    let currency = d.currency.as_deref().unwrap_or("");
                    for (window, amount) in d.insights.iter().flat_map(|i| {
                        [
                            ("24h", i.spend_24h),
                            ("7d", i.spend_7d),
                            ("30d", i.spend_30d),
                        ]
                    }) {
                        if let Ok(v) = f64::try_from(amount) {
                            spend
                                .get_or_create(&labels(&[
                                    ("account", a),
                                    ("window", window),
                                    ("currency", currency),
                                ]))
                                .set(v);
                        }
                    }
                }
                Detail::Pixel(d) => {
                    if let Some(v) = d.events_24h {
                        events
                            .get_or_create(&labels(&[("account", a), ("window", "24h")]))
                            .set(v as f64);
                    }
                }
                Detail::Webhooks(d) => {
                    let inactive = d.inactive();
                    let active = d.subscriptions.len() - inactive;
                    for (state, n) in [("active", active), ("inactive", inactive)] {
                        subs.get_or_create(&labels(&[("account", a), ("state", state)]))
                            .set(n as f64);
                    }
                }
                _ => {}
            }
        }
    }
    let mut text = String::new();
    // Prometheus text format: the registry without OpenMetrics' trailing `# EOF`.
    if encode_registry(&mut text, &registry).is_err() {
        return String::new();
    }
    text
}

/// Whether `headers` carry `Authorization: Bearer <token>` (always true without a token).
/// Compared as SHA-256 digests, so the time taken says nothing about the token's prefix.
fn authorized(headers: &axum::http::HeaderMap, token: Option<&Secret>) -> bool {
    use sha2::{Digest, Sha256};
    let Some(token) = token else {
        return true;
    };
    let given = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    Sha256::digest(given.as_bytes()) == Sha256::digest(token.expose().as_bytes())
}

/// Serves `GET /metrics` on `listener` until `shutdown`, reading the tiles from `store`; with
/// a `token`, only to requests that bear it (401 otherwise).
pub async fn serve(
    listener: tokio::net::TcpListener,
    stores: Vec<std::sync::Arc<std::sync::Mutex<meta_monitor_core::store::Store>>>,
    token: Option<Secret>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    let token = std::sync::Arc::new(token);
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move |headers: axum::http::HeaderMap| {
            let stores = stores.clone();
            let token = token.clone();
            async move {
                if !authorized(&headers, token.as_ref().as_ref()) {
                    return (
                        StatusCode::UNAUTHORIZED,
                        [(header::WWW_AUTHENTICATE, "Bearer")],
                        "a bearer token is required\n",
                    )
                        .into_response();
                }
                let text = tokio::task::spawn_blocking(move || {
                    let mut results: Vec<AccountTiles> = Vec::new();
                    for store in &stores {
                        let store = store
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                        for a in store.accounts().unwrap_or_default() {
                            let tiles = store.tiles(a.id).unwrap_or_default();
                            results.push(AccountTiles::new(&a.account.name, tiles));
                        }
                    }
                    exposition(&results, OffsetDateTime::now_utc())
                })
                .await
                .unwrap_or_default();
                ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response()
            }
        }),
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use meta_monitor_core::Service;
    use meta_monitor_core::tile::Tile;
    use meta_monitor_core::tile::detail::{RateLimitsDetail, TokenDetail};

    #[test]
    fn statuses_are_a_state_set_and_units_are_base_units() {
        let now = OffsetDateTime::from_unix_timestamp(1_790_000_000).expect("t");
        let mut api = Tile::new(Service::GraphApi, Status::Degraded, now, "slow");
        api.latency_ms = Some(2500);
        let tiles = vec![api];
        let text = exposition(&[AccountTiles::new("shop", tiles)], now);
        assert!(text.contains(r#"meta_monitor_service_status{account="shop",service="graph_api",status="DEGRADED"} 1"#), "{text}");
        assert!(
            text.contains(
                r#"meta_monitor_service_status{account="shop",service="graph_api",status="UP"} 0"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"meta_monitor_service_latency_seconds{account="shop",service="graph_api"} 2.5"#
            ),
            "{text}"
        );
        assert!(!text.contains("# EOF"), "plain Prometheus text");
    }

    #[test]
    fn hostile_label_values_cannot_break_the_scrape() {
        let now = OffsetDateTime::from_unix_timestamp(1_790_000_000).expect("t");
        let hostile = [
            "business.1\"} 1\nmeta_monitor_forged 1\n{x=\"",
            "ünïcode\\back\\slash",
            &"x".repeat(500),
        ];
        let limits = Tile::new(Service::RateLimits, Status::Up, now, "ok").with_detail(
            Detail::RateLimits(RateLimitsDetail {
                counters: hostile.iter().map(|k| ((*k).to_owned(), 50.0)).collect(),
                ..RateLimitsDetail::default()
            }),
        );
        let text = exposition(&[AccountTiles::new("shop\n\"", vec![limits])], now);
        assert!(
            !text.lines().any(|l| l.starts_with("meta_monitor_forged")),
            "no forged series: {text}"
        );
        for line in text
            .lines()
            .filter(|l| l.starts_with("meta_monitor_rate_limit"))
        {
            assert!(line.len() < 300, "values are cut: {line}");
            assert_eq!(line.matches('"').count() % 2, 0, "quotes balance: {line}");
        }
        // Prometheus's own parser agrees (promtool, from the Debian package `prometheus`).
        let promtool = std::process::Command::new("promtool")
            .args(["check", "metrics"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn();
        match promtool {
            Ok(mut child) => {
                use std::io::Write;
                child
                    .stdin
                    .take()
                    .expect("stdin")
                    .write_all(text.as_bytes())
                    .expect("write");
                let out = child.wait_with_output().expect("promtool");
                assert!(
                    out.status.success(),
                    "promtool: {}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            Err(e) => assert!(
                std::env::var_os("CI").is_none(),
                "promtool must be installed in CI: {e}"
            ),
        }
    }

    #[test]
    fn a_token_is_required_when_configured() {
        let mut headers = axum::http::HeaderMap::new();
        let token = Secret::new("fake-metrics-token-1");
        assert!(authorized(&headers, None), "no token configured: open");
        assert!(!authorized(&headers, Some(&token)), "no header");
        headers.insert(
            axum::http::header::AUTHORIZATION,
            "Bearer wrong".parse().expect("header"),
        );
        assert!(!authorized(&headers, Some(&token)), "a wrong token");
        headers.insert(
            axum::http::header::AUTHORIZATION,
            "Bearer fake-metrics-token-1".parse().expect("header"),
        );
        assert!(authorized(&headers, Some(&token)), "the token");
    }

    #[test]
    fn typed_details_become_gauges() {
        let now = OffsetDateTime::from_unix_timestamp(1_790_000_000).expect("t");
        let token = Tile::new(Service::Token, Status::Up, now, "valid").with_detail(Detail::Token(
            TokenDetail {
                is_valid: true,
                expires_at: Some(now + time::Duration::hours(2)),
                ..TokenDetail::default()
            },
        ));
        let limits = Tile::new(Service::RateLimits, Status::Up, now, "ok").with_detail(
            Detail::RateLimits(RateLimitsDetail {
                counters: [("app.call_count".to_owned(), 42.0)].into(),
                calls_per_hour: Some(17),
                ..RateLimitsDetail::default()
            }),
        );
        let text = exposition(&[AccountTiles::new("shop", vec![token, limits])], now);
        for line in [
            r#"meta_monitor_token_expiry_seconds{account="shop"} 7200"#,
            r#"meta_monitor_rate_limit_usage_ratio{account="shop",counter="app.call_count"} 0.42"#,
            r#"meta_monitor_calls_per_hour{account="shop"} 17"#,
        ] {
            assert!(text.contains(line), "{line} in {text}");
        }
    }
}
