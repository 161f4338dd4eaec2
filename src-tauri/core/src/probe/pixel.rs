//! `pixel`: last fired time and events by name over the last 24 h. DEGRADED when silent longer
//! than the threshold, DOWN when Meta marks it unavailable.

use std::time::Duration;

use time::{Duration as TimeDuration, OffsetDateTime};

use crate::graph::pixel;
use crate::tile::detail::{Detail, PixelDetail};
use crate::tile::{Service, Status, Tile};

use super::{
    ProbeContext, ProbeReport, failed, human_duration, measured_then_failed, millis, not_configured,
};

pub async fn probe(ctx: &ProbeContext<'_>) -> ProbeReport {
    let Some(pixel_id) = ctx.account.pixel_id.as_deref() else {
        return not_configured(Service::Pixel, ctx.now);
    };
    let started = std::time::Instant::now();
    let node = match pixel::pixel(ctx.client, pixel_id).await {
        Ok(p) => p,
        Err(err) => return failed(Service::Pixel, err, ctx.now),
    };
    // The node is measured: unavailable, never fired or silent stand whatever follows.
    let threshold = ctx.thresholds.pixel_silence;
    let (mut facts, silence) = node_tile(&node, ctx.now, threshold);
    let silence_point = |s: Duration| {
        (
            "meta.pixel.silence_minutes".to_owned(),
            s.as_secs() as f64 / 60.0,
        )
    };
    let events = match pixel::events_by_name(
        ctx.client,
        pixel_id,
        ctx.now - TimeDuration::hours(24),
        ctx.now,
    )
    .await
    {
        Ok(e) => e,
        Err(err) => {
            facts.latency_ms = Some(millis(started.elapsed()));
            let mut report = measured_then_failed(facts, err, "events by name");
            report.points.extend(silence.map(silence_point));
            return report;
        }
    };
    let total: u64 = events.values().sum();
    if facts.status == Status::Up {
        facts.message = format!("{total} events in 24 h, {}", facts.message);
    }
    let mut tile = facts;
    if let Detail::Pixel(detail) = &mut tile.detail {
        detail.events_24h = Some(total);
        detail.events_by_name = events;
    }
    tile.latency_ms = Some(millis(started.elapsed()));
    let mut points = vec![("meta.pixel.events_24h".to_owned(), total as f64)];
    points.extend(silence.map(silence_point));
    ProbeReport::ok(tile, points)
}

/// What the pixel node alone says: DOWN when Meta marks it unavailable, DEGRADED when it never
/// fired or is silent longer than `threshold`, else UP ("last fired 7 min ago"); with its name,
/// last fired time and the silence judgement. Also returns the silence itself.
pub fn node_tile(
    node: &pixel::Pixel,
    now: OffsetDateTime,
    threshold: Duration,
) -> (Tile, Option<Duration>) {
    let silence = node
        .last_fired()
        .map(|t| (now - t).max(TimeDuration::ZERO).unsigned_abs());
    let (status, message) = if node.is_unavailable == Some(true) {
        (
            Status::Down,
            "Meta reports the pixel as unavailable".to_owned(),
        )
    } else {
        match silence {
            None => (Status::Degraded, "the pixel has never fired".to_owned()),
            Some(s) if s > threshold => (
                Status::Degraded,
                format!(
                    "silent for {} (threshold {})",
                    human_duration(s),
                    human_duration(threshold)
                ),
            ),
            Some(s) => (Status::Up, format!("last fired {} ago", human_duration(s))),
        }
    };
    let tile =
        Tile::new(Service::Pixel, status, now, message).with_detail(Detail::Pixel(PixelDetail {
            pixel_name: node.name.clone(),
            last_fired: node.last_fired(),
            silent: silence.is_none_or(|s| s > threshold),
            silence_threshold_hours: threshold.as_secs() / 3600,
            events_24h: None,
            events_by_name: Default::default(),
        }));
    (tile, silence)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::test_support::meta_error;

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_780_000_000).expect("time")
    }

    fn node(unavailable: bool, last_fired_time: Option<&str>) -> pixel::Pixel {
        pixel::Pixel {
            id: "1".into(),
            name: Some("Shop pixel".into()),
            last_fired_time: last_fired_time.map(str::to_owned),
            is_unavailable: Some(unavailable),
        }
    }

    #[test]
    fn node_facts_survive_a_throttled_events_call() {
        let day = Duration::from_secs(24 * 3600);
        // 1_780_000_000 is 2026-05-28T20:26:40Z; three days earlier the pixel last fired.
        let three_days_ago = "2026-05-25T20:26:40+0000";
        let cases = [
            (
                node(true, Some(three_days_ago)),
                Status::Down,
                "Meta reports the pixel as unavailable; events by name paused",
            ),
            (
                node(false, Some(three_days_ago)),
                Status::Degraded,
                "silent for 3 d 0 h (threshold 1 d 0 h); events by name paused",
            ),
            (
                node(false, None),
                Status::Degraded,
                "the pixel has never fired; events by name paused",
            ),
            (
                node(false, Some("2026-05-28T20:19:40+0000")),
                Status::Unknown,
                "last fired 7 min ago; events by name paused",
            ),
        ];
        for (node, want, start) in cases {
            let (facts, _) = node_tile(&node, now(), day);
            let report =
                measured_then_failed(facts, meta_error(80004, None, Some(300)), "events by name");
            assert_eq!(
                report.tile.status, want,
                "the node's judgement stands unless it was UP: {}",
                report.tile.message
            );
            assert!(
                report.tile.message.starts_with(start),
                "the node's message, then the paused call: {:?}",
                report.tile.message
            );
            let Detail::Pixel(detail) = &report.tile.detail else {
                panic!("a pixel detail: {:?}", report.tile.detail);
            };
            assert_eq!(
                detail.pixel_name.as_deref(),
                Some("Shop pixel"),
                "the node's facts are kept"
            );
            assert_eq!(
                detail.silent,
                want != Status::Unknown,
                "the silence judgement from last_fired_time is kept (only the recent one is not silent)"
            );
            assert_eq!(detail.events_24h, None, "the events were not read");
            assert!(report.error.is_some(), "the throttle stays in the report");
        }
    }
}
