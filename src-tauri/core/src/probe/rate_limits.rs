//! `rate_limits`: from the headers of every response in the cycle, the highest usage per
//! header and per business object/type, and the time to regain access. DEGRADED at the warning
//! percentage (75 %), DOWN while throttled. No headers at all is UNKNOWN, not 0 %.

use std::collections::BTreeMap;
use std::time::Duration;

use time::OffsetDateTime;

use crate::graph::{CallRecord, ErrorClass};
use crate::tile::detail::{Detail, RateLimitsDetail};
use crate::tile::{Service, Status, Tile};

use super::{ProbeReport, human_duration};

/// A pure function of the cycle's call records.
pub fn evaluate<'a>(
    calls: impl IntoIterator<Item = &'a CallRecord>,
    now: OffsetDateTime,
    warning_pct: f64,
) -> ProbeReport {
    let calls: Vec<&CallRecord> = calls.into_iter().collect();
    let mut highest: BTreeMap<String, f64> = BTreeMap::new();
    for call in &calls {
        for counter in call.usage.counters() {
            let slot = highest.entry(counter.name).or_insert(0.0);
            *slot = slot.max(counter.pct);
        }
    }
    let regain: Option<Duration> = calls.iter().filter_map(|c| c.usage.regain_after()).max();
    let throttled_calls: Vec<&CallRecord> = calls
        .iter()
        .copied()
        .filter(|c| c.error_class == Some(ErrorClass::Throttled))
        .collect();
    let max = highest.values().copied().reduce(f64::max);
    let top = highest
        .iter()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(k, v)| (k.clone(), *v));
    let (status, message) = if !throttled_calls.is_empty() || max.is_some_and(|m| m >= 100.0) {
        let codes: Vec<String> = throttled_calls
            .iter()
            .filter_map(|c| c.graph_code.map(|code| format!("{code} on {}", c.endpoint)))
            .collect();
        let when = regain
            .map(|d| format!("; access returns in about {}", human_duration(d)))
            .unwrap_or_default();
        let what = if codes.is_empty() {
            "usage at 100 %".to_owned()
        } else {
            codes.join(", ")
        };
        (Status::Down, format!("throttled ({what}){when}"))
    } else if let Some((name, pct)) = top.clone().filter(|(_, p)| *p >= warning_pct) {
        (
            Status::Degraded,
            format!("{name} at {pct:.0} % (warning at {warning_pct:.0} %)"),
        )
    } else if let Some((name, pct)) = top {
        (Status::Up, format!("highest usage {pct:.0} % ({name})"))
    } else {
        (Status::Unknown, "no rate-limit headers seen yet".to_owned())
    };
    let mut tile = Tile::new(Service::RateLimits, status, now, message).with_detail(
        Detail::RateLimits(RateLimitsDetail {
            max_pct: max,
            counters: highest.clone(),
            calls_this_check: calls.len() as u64,
            regain_seconds: regain.map(|d| d.as_secs()),
            calls_per_hour: None,
            paused: Vec::new(),
        }),
    );
    if status == Status::Unknown {
        tile.last_success = None;
    }
    let mut points: Vec<(String, f64)> = highest
        .iter()
        .map(|(name, pct)| (format!("meta.rate_limit.{name}"), *pct))
        .collect();
    if let Some(m) = max {
        points.push(("meta.rate_limit.max_pct".to_owned(), m));
    }
    ProbeReport::ok(tile, points)
}

/// The runner's rate-limit report for one step: the tile from the calls of a recent window
/// (usage is a sliding window at Meta too), the points from this step's calls only — so each
/// usage reading is stored once, when it was read, not again every minute.
pub fn for_step<'a>(
    recent: impl IntoIterator<Item = &'a CallRecord>,
    step: impl IntoIterator<Item = &'a CallRecord>,
    now: OffsetDateTime,
    warning_pct: f64,
) -> ProbeReport {
    let mut report = evaluate(recent, now, warning_pct);
    report.points = evaluate(step, now, warning_pct).points;
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::rate_limit::{PlatformUsage, Usage};

    fn call(pct: Option<f64>, class: Option<ErrorClass>) -> CallRecord {
        let usage = Usage {
            app: pct.map(|p| PlatformUsage {
                call_count: Some(p),
                total_cputime: Some(1.0),
                total_time: Some(1.0),
            }),
            ..Usage::default()
        };
        CallRecord {
            endpoint: "me".into(),
            latency: Duration::from_millis(5),
            http_status: Some(200),
            usage,
            error_class: class,
            graph_code: class.map(|_| 4),
        }
    }

    #[test]
    fn thresholds() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let cases = [
            (vec![], Status::Unknown),
            (vec![call(None, None)], Status::Unknown),
            (vec![call(Some(28.0), None)], Status::Up),
            (
                vec![call(Some(10.0), None), call(Some(75.0), None)],
                Status::Degraded,
            ),
            (vec![call(Some(100.0), None)], Status::Down),
            (
                vec![call(Some(20.0), Some(ErrorClass::Throttled))],
                Status::Down,
            ),
        ];
        for (calls, expected) in cases {
            let report = evaluate(&calls, now, 75.0);
            assert_eq!(report.tile.status, expected, "{}", report.tile.message);
        }
        let report = evaluate(&[call(Some(28.0), None)], now, 75.0);
        assert!(
            report
                .points
                .iter()
                .any(|(n, v)| n == "meta.rate_limit.app.call_count" && *v == 28.0),
            "metric named like the seed spec: {:?}",
            report.points
        );
    }
}
