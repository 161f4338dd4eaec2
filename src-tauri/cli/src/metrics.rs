//! Prometheus metrics for `meta-monitor run --metrics ADDR`: teams that outgrow a desktop
//! point Prometheus and Alertmanager at it. Named by Prometheus's conventions: base units
//! (seconds, ratios) in the name, counters end in `_total`, times are Unix timestamps, one
//! state-set per service status. Two sources: [`Telemetry`], counted by this process as the
//! monitor works (requests, probe runs, notifications), and the tiles in the database, read
//! at each scrape (so `check` in another process shows up too). Served as OpenMetrics, which
//! Prometheus asks for first and which types counters and histograms exactly.

use std::sync::atomic::AtomicU64;

use meta_monitor_core::check::AccountTiles;
use meta_monitor_core::events::{EventSink, MonitorEvent, Observation};
use meta_monitor_core::tile::Detail;
use meta_monitor_core::{Secret, Status};
use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

type Labels = Vec<(String, String)>;
type FloatGauges = Family<Labels, Gauge<f64, AtomicU64>>;
type Counters = Family<Labels, Counter>;
type Histograms = Family<Labels, Histogram, fn() -> Histogram>;

pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
pub const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The same metrics in Prometheus's older text format, for clients that do not ask for
/// OpenMetrics (curl, promtool, older scrapers). prometheus-client writes only OpenMetrics,
/// whose one difference here is the counters' names: OpenMetrics types the family
/// (`# TYPE x counter`, samples `x_total`), the text format the sample (`# TYPE x_total
/// counter`). Also dropped: `# EOF` and `# UNIT`, which the text format does not have.
pub fn to_prometheus_text(openmetrics: &str) -> String {
    let counters: std::collections::HashSet<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .collect();
    let mut text = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|prefix| {
            let rest = line.strip_prefix(prefix)?;
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(name)
                .then(|| format!("{prefix}{name}_total {tail}"))
        });
        text.push_str(renamed.as_deref().unwrap_or(line));
        text.push('\n');
    }
    text
}

/// Graph request latency buckets, in seconds: Meta answers in 0.1–1 s, the monitor calls 2 s
/// slow, and its timeout is 10 s.
const LATENCY_BUCKETS: [f64; 10] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0];

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// Label values come partly from remote data (the keys of Meta's usage headers, currencies):
/// each is cut to 100 characters of `[A-Za-z0-9_.:/{}-]`, anything else becoming `_`, so one
/// odd value can never break a scrape or forge a series.
fn label_value(value: &str) -> String {
    value
        .chars()
        .take(100)
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_.:/{}-".contains(c) {
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

/// What this process counted since it started: the monitor reports each Graph request, probe
/// run and notification through [`EventSink::observe`].
pub struct Telemetry {
    registry: Registry,
    requests: Counters,
    durations: Histograms,
    probe_runs: Counters,
    notifications: Counters,
}

impl Default for Telemetry {
    fn default() -> Self {
        let mut registry = Registry::default();
        let requests = Counters::default();
        registry.register(
            "meta_monitor_graph_requests",
            "Graph API requests the monitor made, by endpoint (ids replaced) and outcome (ok or \
             the error class)",
            requests.clone(),
        );
        let durations = Histograms::new_with_constructor(latency_histogram);
        registry.register(
            "meta_monitor_graph_request_duration_seconds",
            "Latency of the monitor's Graph API requests, by endpoint",
            durations.clone(),
        );
        let probe_runs = Counters::default();
        registry.register(
            "meta_monitor_probe_runs",
            "Probe runs by service and the status they measured",
            probe_runs.clone(),
        );
        let notifications = Counters::default();
        registry.register(
            "meta_monitor_notifications",
            "Notifications by channel and outcome (delivered, failed)",
            notifications.clone(),
        );
        let build = Family::<Labels, Gauge>::default();
        registry.register(
            "meta_monitor_build_info",
            "Always 1; the version of meta-monitor in a label",
            build.clone(),
        );
        build
            .get_or_create(&labels(&[("version", env!("CARGO_PKG_VERSION"))]))
            .set(1);
        Self {
            registry,
            requests,
            durations,
            probe_runs,
            notifications,
        }
    }
}

impl EventSink for Telemetry {
    fn emit(&self, _: MonitorEvent) {}

    fn observe(&self, observation: Observation<'_>) {
        match observation {
            Observation::GraphRequest(call) => {
                let endpoint = call.endpoint_pattern();
                self.requests
                    .get_or_create(&labels(&[
                        ("endpoint", &endpoint),
                        ("outcome", call.outcome()),
                    ]))
                    .inc();
                self.durations
                    .get_or_create(&labels(&[("endpoint", &endpoint)]))
                    .observe(call.latency.as_secs_f64());
            }
            Observation::ProbeRun { service, status } => {
                self.probe_runs
                    .get_or_create(&labels(&[
                        ("service", service.as_str()),
                        ("status", status.as_str()),
                    ]))
                    .inc();
            }
            Observation::Notification { channel, delivered } => {
                let outcome = if delivered { "delivered" } else { "failed" };
                self.notifications
                    .get_or_create(&labels(&[("channel", channel), ("outcome", outcome)]))
                    .inc();
            }
        }
    }
}

/// The exposition text: this process's counters, then every account's current tiles.
pub fn exposition(telemetry: Option<&Telemetry>, results: &[AccountTiles]) -> String {
    let registry = tiles_registry(results);
    let mut text = String::new();
    let encoded = telemetry
        .map_or(Ok(()), |t| encode_registry(&mut text, &t.registry))
        .and_then(|()| encode_registry(&mut text, &registry))
        .and_then(|()| encode_eof(&mut text));
    if encoded.is_err() {
        return String::new();
    }
    text
}

/// Gauges of the stored tiles, rebuilt at each scrape.
fn tiles_registry(results: &[AccountTiles]) -> Registry {
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
        "meta_monitor_token_expiry_timestamp_seconds",
        "Unix time the access token expires (absent when it never expires)",
    );
    let capi_expiry = gauge(
        &mut registry,
        "meta_monitor_capi_token_expiry_timestamp_seconds",
        "Unix time the shop server's Conversions API token expires (absent when none is stored or it never expires)",
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
                }
                Detail::Token(d) => {
                    if let Some(at) = d.expires_at {
                        expiry
                            .get_or_create(&labels(&[("account", a)]))
                            .set(at.unix_timestamp() as f64);
                    }
                    if let Some(at) = d.capi.as_ref().and_then(|c| c.expires_at) {
                        capi_expiry
                            .get_or_create(&labels(&[("account", a)]))
                            .set(at.unix_timestamp() as f64);
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
    registry
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

/// Serves `GET /metrics` on `listener` until `shutdown`: `telemetry`'s counters and the tiles
/// in `stores`; with
/// a `token`, only to requests that bear it (401 otherwise).
pub async fn serve(
    listener: tokio::net::TcpListener,
    stores: Vec<std::sync::Arc<std::sync::Mutex<meta_monitor_core::store::Store>>>,
    telemetry: std::sync::Arc<Telemetry>,
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
            let telemetry = telemetry.clone();
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
                    exposition(Some(&telemetry), &results)
                })
                .await
                .unwrap_or_default();
                // Prometheus asks for OpenMetrics first; anything else gets the text format.
                let openmetrics = headers
                    .get(header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.contains("application/openmetrics-text"));
                if openmetrics {
                    ([(header::CONTENT_TYPE, OPENMETRICS)], text).into_response()
                } else {
                    let text = to_prometheus_text(&text);
                    ([(header::CONTENT_TYPE, PROMETHEUS_TEXT)], text).into_response()
                }
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
    use time::OffsetDateTime;

    /// Prometheus's own parser agrees (promtool, from the Debian package `prometheus`).
    #[allow(clippy::expect_used, reason = "a failed step must fail the test")]
    fn promtool_accepts(openmetrics: &str) {
        let text = to_prometheus_text(openmetrics);
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
                assert!(!text.contains("# EOF"), "{text}");
                assert!(
                    out.status.success(),
                    "promtool: {}{}\n{text}",
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
    fn statuses_are_a_state_set_and_units_are_base_units() {
        let now = OffsetDateTime::from_unix_timestamp(1_790_000_000).expect("t");
        let mut api = Tile::new(Service::GraphApi, Status::Degraded, now, "slow");
        api.latency_ms = Some(2500);
        let tiles = vec![api];
        let text = exposition(None, &[AccountTiles::new("shop", tiles)]);
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
        assert!(text.ends_with("# EOF\n"), "OpenMetrics text: {text}");
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
        let text = exposition(None, &[AccountTiles::new("shop\n\"", vec![limits])]);
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
        promtool_accepts(&text);
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
        let text = exposition(None, &[AccountTiles::new("shop", vec![token, limits])]);
        for line in [
            format!(
                r#"meta_monitor_token_expiry_timestamp_seconds{{account="shop"}} {}"#,
                now.unix_timestamp() + 7200
            ),
            r#"meta_monitor_rate_limit_usage_ratio{account="shop",counter="app.call_count"} 0.42"#
                .to_owned(),
        ] {
            assert!(text.contains(&line), "{line} in {text}");
        }
    }

    #[test]
    fn the_monitors_work_is_counted_by_the_conventions() {
        use meta_monitor_core::graph::{CallRecord, ErrorClass};
        let telemetry = Telemetry::default();
        let call = |endpoint: &str, millis, error_class| CallRecord {
            endpoint: endpoint.to_owned(),
            latency: std::time::Duration::from_millis(millis),
            http_status: Some(200),
            usage: meta_monitor_core::graph::Usage::default(),
            error_class,
            graph_code: None,
        };
        for c in [
            call("act_1/insights", 80, None),
            call("act_2/insights", 400, None),
            call("act_3/insights", 7000, Some(ErrorClass::Throttled)),
        ] {
            telemetry.observe(Observation::GraphRequest(&c));
        }
        telemetry.observe(Observation::ProbeRun {
            service: Service::Token,
            status: Status::Degraded,
        });
        for delivered in [true, false, true] {
            telemetry.observe(Observation::Notification {
                channel: "team_webhook",
                delivered,
            });
        }
        let text = exposition(Some(&telemetry), &[]);
        for line in [
            "# TYPE meta_monitor_graph_requests counter",
            r#"meta_monitor_graph_requests_total{endpoint="act_{id}/insights",outcome="ok"} 2"#,
            r#"meta_monitor_graph_requests_total{endpoint="act_{id}/insights",outcome="throttled"} 1"#,
            "# TYPE meta_monitor_graph_request_duration_seconds histogram",
            r#"meta_monitor_graph_request_duration_seconds_bucket{le="0.1",endpoint="act_{id}/insights"} 1"#,
            r#"meta_monitor_graph_request_duration_seconds_bucket{le="0.5",endpoint="act_{id}/insights"} 2"#,
            r#"meta_monitor_graph_request_duration_seconds_bucket{le="+Inf",endpoint="act_{id}/insights"} 3"#,
            r#"meta_monitor_graph_request_duration_seconds_count{endpoint="act_{id}/insights"} 3"#,
            r#"meta_monitor_probe_runs_total{service="token",status="DEGRADED"} 1"#,
            r#"meta_monitor_notifications_total{channel="team_webhook",outcome="delivered"} 2"#,
            r#"meta_monitor_notifications_total{channel="team_webhook",outcome="failed"} 1"#,
            concat!(
                r#"meta_monitor_build_info{version=""#,
                env!("CARGO_PKG_VERSION"),
                r#""} 1"#
            ),
        ] {
            assert!(text.contains(line), "{line} in {text}");
        }
        promtool_accepts(&text);
    }
}
