//! Probes: one module per service, each turning Graph responses into a [`Tile`] plus metric
//! points. A probe never fails as a whole: every error becomes its own tile, so one broken
//! service never spoils the others.

pub mod ads;
pub mod catalog;
pub mod graph_api;
pub mod pixel;
pub mod rate_limits;
pub mod token;
pub mod webhooks;

use std::time::Duration;

use time::OffsetDateTime;

use crate::account::Account;
use crate::graph::{ErrorClass, GraphClient, GraphError};
use crate::tile::{Service, Status, Tile};

/// Thresholds that turn measurements into statuses.
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    /// `graph_api` is DEGRADED above this latency.
    pub slow: Duration,
    /// `token` is DEGRADED when it expires within this many days.
    pub token_expiry_warning_days: i64,
    /// `pixel` is DEGRADED when silent longer than this.
    pub pixel_silence: Duration,
    /// `rate_limits` is DEGRADED at or above this percentage.
    pub usage_warning_pct: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            slow: Duration::from_millis(2000),
            token_expiry_warning_days: 7,
            pixel_silence: Duration::from_secs(24 * 3600),
            usage_warning_pct: 75.0,
        }
    }
}

pub struct ProbeContext<'a> {
    pub account: &'a Account,
    pub client: &'a GraphClient,
    pub now: OffsetDateTime,
    pub thresholds: &'a Thresholds,
}

/// What one probe produced: its tile and the metric points to store.
#[derive(Debug, Clone)]
pub struct ProbeReport {
    pub tile: Tile,
    pub points: Vec<(String, f64)>,
    /// The error that decided the tile, if any, for the probe-run row.
    pub error: Option<GraphError>,
}

impl ProbeReport {
    pub fn ok(tile: Tile, points: Vec<(String, f64)>) -> Self {
        Self {
            tile,
            points,
            error: None,
        }
    }

    /// A report for a failed call: Meta's code, subcode and fbtrace_id join the tile's metrics
    /// so the views can show them.
    pub fn from_error(mut tile: Tile, err: GraphError) -> Self {
        if let Some(meta) = err.meta() {
            tile = tile.with_metric("error_code", meta.code);
            if let Some(sub) = meta.error_subcode {
                tile = tile.with_metric("error_subcode", sub);
            }
            if let Some(trace) = &meta.fbtrace_id {
                tile = tile.with_metric("fbtrace_id", trace.clone());
            }
        }
        Self {
            tile,
            points: Vec::new(),
            error: Some(err),
        }
    }
}

/// Runs the probe of one polled service (`rate_limits` is evaluated from calls instead).
pub async fn run(service: Service, ctx: &ProbeContext<'_>) -> Option<ProbeReport> {
    Some(match service {
        Service::Token => token::probe(ctx).await,
        Service::GraphApi => graph_api::probe(ctx).await,
        Service::Ads => ads::probe(ctx).await,
        Service::Pixel => pixel::probe(ctx).await,
        Service::Webhooks => webhooks::probe(ctx).await,
        Service::Catalog => catalog::probe(ctx).await,
        Service::RateLimits => return None,
    })
}

/// The tile for a service whose identifiers are not configured.
pub fn not_configured(service: Service, now: OffsetDateTime) -> ProbeReport {
    ProbeReport::ok(
        Tile::new(service, Status::Unknown, now, "not configured"),
        Vec::new(),
    )
}

/// The tile for a data probe (ads, pixel, webhooks, catalog) whose call failed. What we could
/// not measure is UNKNOWN; what Meta answered with an error is DEGRADED or DOWN.
pub fn failed(service: Service, err: GraphError, now: OffsetDateTime) -> ProbeReport {
    let (status, message) = match err.class() {
        ErrorClass::TokenInvalid => (
            Status::Unknown,
            format!("token rejected, not measured: {err}"),
        ),
        ErrorClass::Throttled => (Status::Unknown, throttled_message(&err)),
        ErrorClass::Transport => (
            Status::Unknown,
            format!("could not reach the Graph API: {err}"),
        ),
        ErrorClass::Transient | ErrorClass::Undecodable => (
            Status::Degraded,
            format!("Meta answered with an error: {err}"),
        ),
        ErrorClass::Permission => (Status::Down, format!("permission missing: {err}")),
        ErrorClass::InvalidRequest => (Status::Down, format!("request rejected: {err}")),
    };
    ProbeReport::from_error(Tile::new(service, status, now, message), err)
}

/// "throttled by Meta (code 80004); access returns in about 12 min".
pub fn throttled_message(err: &GraphError) -> String {
    let code = err
        .meta()
        .map(|m| m.code.to_string())
        .unwrap_or_else(|| "?".into());
    match err.meta().and_then(|m| m.regain_after) {
        Some(d) => format!(
            "throttled by Meta (code {code}); access returns in about {}",
            human_duration(d)
        ),
        None => format!("throttled by Meta (code {code}); waiting before calling again"),
    }
}

/// "45 s", "12 min", "3 h 5 min", "2 d 4 h".
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s.div_ceil(60)),
        3600..86400 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
        _ => format!("{} d {} h", s / 86400, (s % 86400) / 3600),
    }
}

pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_words() {
        assert_eq!(human_duration(Duration::from_secs(45)), "45 s");
        assert_eq!(human_duration(Duration::from_secs(700)), "12 min");
        assert_eq!(
            human_duration(Duration::from_secs(3 * 3600 + 300)),
            "3 h 5 min"
        );
        assert_eq!(
            human_duration(Duration::from_secs(2 * 86400 + 4 * 3600)),
            "2 d 4 h"
        );
    }
}
