//! Probes: one module per service, each turning Graph responses into a [`Tile`] plus metric
//! points. A probe never fails as a whole: every error becomes its own tile, so one broken
//! service never spoils the others.

pub mod ads;
pub mod catalog;
pub mod conversions_api;
pub mod graph_api;
pub mod pixel;
pub mod rate_limits;
pub mod token;
pub mod webhooks;

use std::time::Duration;

use time::OffsetDateTime;

use crate::account::Account;
use crate::graph::{ErrorClass, GraphClient, GraphError};
use crate::tile::{Service, Status, Tile, TileError};

pub use crate::account::Thresholds;

pub struct ProbeContext<'a> {
    pub account: &'a Account,
    pub client: &'a GraphClient,
    pub now: OffsetDateTime,
    pub thresholds: &'a Thresholds,
    /// Where the account's token is kept, so the token check may renew it; `None`: this
    /// check never renews (a connection test).
    pub token_source: Option<crate::token::TokenSource>,
}

/// What one probe produced: its tile and the metric points to store.
#[derive(Debug, Clone)]
pub struct ProbeReport {
    pub tile: Tile,
    pub points: Vec<(String, f64)>,
    /// The error that decided the tile, if any, for the probe-run row.
    pub error: Option<GraphError>,
    /// The credentials with the token this check renewed, which the monitor uses from now on.
    pub renewed: Option<crate::graph::Credentials>,
}

impl ProbeReport {
    pub fn ok(tile: Tile, points: Vec<(String, f64)>) -> Self {
        Self {
            tile,
            points,
            error: None,
            renewed: None,
        }
    }

    /// A report for a failed call: the error stays a typed value on the tile (class, Meta's
    /// code, subcode and fbtrace_id, the advice from the one table), so the views show it and
    /// nobody parses it back out of the message.
    pub fn from_error(mut tile: Tile, err: GraphError) -> Self {
        tile.error = Some(tile_error(&err));
        Self {
            tile,
            points: Vec::new(),
            error: Some(err),
            renewed: None,
        }
    }
}

/// The tile's view of an error.
pub fn tile_error(err: &GraphError) -> TileError {
    let meta = err.meta();
    let class = err.class();
    let (code, subcode) = (meta.map(|m| m.code), meta.and_then(|m| m.error_subcode));
    TileError {
        class,
        code,
        subcode,
        fbtrace_id: meta.and_then(|m| m.fbtrace_id.clone()),
        is_transient: meta.and_then(|m| m.is_transient).unwrap_or(false),
        advice: crate::graph::advice::advice(class, code, subcode).to_owned(),
    }
}

/// Runs the probe of one polled service (`rate_limits` is evaluated from calls instead).
pub async fn run(service: Service, ctx: &ProbeContext<'_>) -> Option<ProbeReport> {
    Some(match service {
        Service::Token => token::probe(ctx).await,
        Service::GraphApi => graph_api::probe(ctx).await,
        Service::Ads => ads::probe(ctx).await,
        Service::Pixel => pixel::probe(ctx).await,
        Service::ConversionsApi => conversions_api::probe(ctx).await,
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
    let (status, message) = failure(&err);
    ProbeReport::from_error(Tile::new(service, status, now, message), err)
}

/// What a failed call says about a service: its status and the words for why.
fn failure(err: &GraphError) -> (Status, String) {
    match err.class() {
        ErrorClass::TokenInvalid => (
            Status::Unknown,
            format!("token rejected, not measured: {err}"),
        ),
        ErrorClass::Throttled => (Status::Unknown, throttled_message(err)),
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
    }
}

/// A tile built from facts a probe measured (e.g. the ad account is disabled), joined by a
/// later call that failed (e.g. insights throttled): the facts, their detail and their message
/// stay; the message adds what failed ("ad account disabled; insights paused: throttled by Meta
/// (code 80000); access returns in about 12 min"); Meta's code, subcode and fbtrace_id join the
/// detail and the error stays in the report, as [`ProbeReport::from_error`] does, so the
/// probe-run row and the scheduler still see the failure. No metric points: the caller adds
/// those its facts support.
pub fn measured_then_failed(mut tile: Tile, err: GraphError, what_failed: &str) -> ProbeReport {
    let (failure_status, why) = failure(&err);
    // The status rule. A measured DOWN or DEGRADED stands — a failure that could not measure
    // (UNKNOWN) never hides it, and only a worse failure (e.g. a permission error, DOWN) makes
    // it worse. When the facts were UP (or themselves UNKNOWN), the tile takes the failure's
    // status, as `failed` classifies it: UP would claim the part we could not measure, and
    // DEGRADED would blame Meta for a throttle or our own network. So facts UP + insights
    // throttled → UNKNOWN; facts UP + Meta error → DEGRADED or DOWN.
    tile.status = match tile.status {
        Status::Down | Status::Degraded => tile.status.worst(failure_status),
        Status::Up | Status::Unknown => failure_status,
    };
    let verb = if err.class() == ErrorClass::Throttled {
        "paused"
    } else {
        "failed"
    };
    tile.message = format!("{}; {what_failed} {verb}: {why}", tile.message);
    ProbeReport::from_error(tile, err)
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

/// Graph errors as the client builds them from Meta's bodies, for the probes' unit tests.
#[cfg(test)]
pub(crate) mod test_support {
    use std::time::Duration;

    use crate::graph::{GraphError, MetaError};

    /// Meta's error `code`/`subcode` over HTTP 400, with the regain time (seconds) the
    /// client read from the same response's usage headers.
    pub fn meta_error(code: i64, subcode: Option<i64>, regain_secs: Option<u64>) -> GraphError {
        GraphError::Meta(Box::new(MetaError {
            message: format!("(#{code}) simulated"),
            kind: Some("OAuthException".into()),
            code,
            error_subcode: subcode,
            is_transient: None,
            error_user_title: None,
            error_user_msg: None,
            fbtrace_id: Some("AbCdEf123_xyz".into()),
            http_status: 400,
            regain_after: regain_secs.map(Duration::from_secs),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::graph::TransportKind;
    use crate::tile::detail::{AdsDetail, Detail};
    use test_support::meta_error;

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_780_000_000).expect("time")
    }

    fn facts(status: Status) -> Tile {
        Tile::new(Service::Ads, status, now(), "facts").with_detail(Detail::Ads(AdsDetail {
            account_status: "ACTIVE".into(),
            ..AdsDetail::default()
        }))
    }

    fn transport() -> GraphError {
        GraphError::Transport {
            kind: TransportKind::Timeout,
            detail: "no answer in 10 s".into(),
        }
    }

    #[test]
    fn a_later_failure_keeps_the_facts_the_error_and_its_codes() {
        let report = measured_then_failed(
            facts(Status::Down),
            meta_error(80004, Some(2_446_079), Some(12 * 60)),
            "insights",
        );
        let tile = &report.tile;
        assert_eq!(
            tile.status,
            Status::Down,
            "a throttle could not measure, so it never hides a measured DOWN"
        );
        assert_eq!(
            tile.message,
            "facts; insights paused: throttled by Meta (code 80004); access returns in about 12 min",
            "the facts' message first, then what failed and when access returns"
        );
        assert_eq!(
            tile.detail,
            facts(Status::Down).detail,
            "the detail measured before the failure is kept"
        );
        let error = tile.error.as_ref().expect("the error stays on the tile");
        assert_eq!(
            (error.code, error.subcode, error.fbtrace_id.as_deref()),
            (Some(80004), Some(2_446_079), Some("AbCdEf123_xyz")),
            "Meta's code, subcode and fbtrace_id stay on the tile as from_error keeps them"
        );
        assert_eq!(
            error.class,
            ErrorClass::Throttled,
            "the class travels typed"
        );
        assert!(error.advice.contains("regain time"), "{}", error.advice);
        assert_eq!(
            report
                .error
                .as_ref()
                .and_then(|e| e.meta())
                .map(|m| (m.code, m.regain_after)),
            Some((80004, Some(Duration::from_secs(720)))),
            "the throttle error (with its regain time) stays in the report"
        );
        assert!(
            report.points.is_empty(),
            "no points: the caller adds those its facts support"
        );
    }

    #[test]
    fn status_is_the_measured_down_or_degraded_else_the_failures() {
        let throttled = || meta_error(80000, Some(2_446_079), Some(600));
        let cases: [(Status, GraphError, Status, &str); 11] = [
            (
                Status::Down,
                throttled(),
                Status::Down,
                "UNKNOWN never hides DOWN",
            ),
            (
                Status::Down,
                transport(),
                Status::Down,
                "our network never hides DOWN",
            ),
            (
                Status::Down,
                meta_error(2, None, None),
                Status::Down,
                "DOWN is worse than DEGRADED",
            ),
            (
                Status::Degraded,
                throttled(),
                Status::Degraded,
                "UNKNOWN never hides DEGRADED",
            ),
            (
                Status::Degraded,
                transport(),
                Status::Degraded,
                "our network never hides DEGRADED",
            ),
            (
                Status::Degraded,
                meta_error(200, None, None),
                Status::Down,
                "a worse failure wins",
            ),
            (
                Status::Up,
                throttled(),
                Status::Unknown,
                "UP facts + throttle: not measured",
            ),
            (
                Status::Up,
                transport(),
                Status::Unknown,
                "UP facts + no network: not measured",
            ),
            (
                Status::Up,
                meta_error(2, None, None),
                Status::Degraded,
                "UP facts + Meta error",
            ),
            (
                Status::Up,
                meta_error(100, Some(33), None),
                Status::Down,
                "UP facts + rejection",
            ),
            (
                Status::Unknown,
                meta_error(2, None, None),
                Status::Degraded,
                "nothing to keep",
            ),
        ];
        for (measured, err, want, why) in cases {
            let class = err.class();
            let report = measured_then_failed(facts(measured), err, "insights");
            assert_eq!(
                report.tile.status, want,
                "{measured} then {class:?}: {why} ({})",
                report.tile.message
            );
        }
    }

    #[test]
    fn the_message_names_the_facts_and_the_failed_call() {
        let report = measured_then_failed(facts(Status::Up), transport(), "events by name");
        assert!(
            report.tile.message.starts_with(
                "facts; events by name failed: could not reach the Graph API: timed out"
            ),
            "a failure that is no throttle says `failed` and why: {}",
            report.tile.message
        );
        let same = failed(Service::Ads, transport(), now());
        assert_eq!(
            report.tile.status, same.tile.status,
            "with UP facts the status follows failed()'s classification"
        );
    }

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
