//! `pixel`: last fired time and events by name over the last 24 h. DEGRADED when silent longer
//! than the threshold, DOWN when Meta marks it unavailable.

use time::Duration as TimeDuration;

use crate::graph::pixel;
use crate::tile::{Service, Status, Tile};

use super::{ProbeContext, ProbeReport, failed, human_duration, millis, not_configured};

pub async fn probe(ctx: &ProbeContext<'_>) -> ProbeReport {
    let Some(pixel_id) = ctx.account.pixel_id.as_deref() else {
        return not_configured(Service::Pixel, ctx.now);
    };
    let started = std::time::Instant::now();
    let node = match pixel::pixel(ctx.client, pixel_id).await {
        Ok(p) => p,
        Err(err) => return failed(Service::Pixel, err, ctx.now),
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
        Err(err) => return failed(Service::Pixel, err, ctx.now),
    };
    // Browser versus server events and Event Match Quality add to the picture, but a token
    // without the permission for them must not turn the pixel tile red, and they are skipped
    // when Meta's usage headers already say the budget is nearly spent (the monitor throttles
    // itself before Meta has to).
    let spare = ctx
        .client
        .peak_usage_pct()
        .is_none_or(|p| p < crate::schedule::STRETCH_AT_PCT);
    let (sources, quality) = if spare {
        let sources = pixel::stats(
            ctx.client,
            pixel_id,
            "event_source",
            ctx.now - TimeDuration::hours(24),
            ctx.now,
        )
        .await
        .map_err(|e| e.to_string());
        let quality = pixel::dataset_quality(ctx.client, pixel_id).await;
        (
            sources,
            quality.map_err(|e| match e.class() {
                crate::graph::ErrorClass::Permission => {
                    "Event Match Quality needs ads_read and business_management on the token"
                        .to_owned()
                }
                _ => format!("Event Match Quality unavailable: {e}"),
            }),
        )
    } else {
        let skipped = "skipped: Meta's usage headers are above 75 %".to_owned();
        (Err(skipped.clone()), Err(skipped))
    };
    let total: u64 = events.values().sum();
    let last_fired = node.last_fired();
    let silence = last_fired.map(|t| (ctx.now - t).max(TimeDuration::ZERO).unsigned_abs());
    let threshold = ctx.thresholds.pixel_silence;
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
            Some(s) => (
                Status::Up,
                format!(
                    "{total} events in 24 h, last fired {} ago",
                    human_duration(s)
                ),
            ),
        }
    };
    let mut tile = Tile::new(Service::Pixel, status, ctx.now, message)
        .with_metric("pixel_name", node.name.clone().unwrap_or_default())
        .with_metric("last_fired_time", node.last_fired_time.clone())
        .with_metric("events_24h", total)
        .with_metric("silent", silence.is_none_or(|s| s > threshold))
        .with_metric("silence_threshold_hours", threshold.as_secs() / 3600)
        .with_metric(
            "events_by_name",
            serde_json::to_value(&events).unwrap_or_default(),
        );
    match sources {
        Ok(sources) => {
            tile = tile.with_metric(
                "sources_24h",
                serde_json::to_value(&sources).unwrap_or_default(),
            );
        }
        Err(why) => tile = tile.with_metric("sources_note", why),
    }
    match quality {
        Ok(quality) => {
            tile = tile.with_metric(
                "match_quality",
                serde_json::to_value(&quality).unwrap_or_default(),
            );
        }
        Err(why) => tile = tile.with_metric("match_quality_note", why),
    }
    tile.latency_ms = Some(millis(started.elapsed()));
    let mut points = vec![("meta.pixel.events_24h".to_owned(), total as f64)];
    if let Some(s) = silence {
        points.push((
            "meta.pixel.silence_minutes".to_owned(),
            s.as_secs() as f64 / 60.0,
        ));
    }
    ProbeReport::ok(tile, points)
}
