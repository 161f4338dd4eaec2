//! `conversions_api`: is the shop's server still sending? The Pixel tile stays UP while the
//! browser keeps firing, so a broken server integration shows only here: server events
//! (Conversions API) against browser events, per hour and event, from Meta's
//! `stats?aggregation=event_source`; the dataset's quality from the Dataset Quality API.
//!
//! DOWN when the server sent nothing for the configured time while the browser kept sending;
//! DEGRADED when an event's server share fell by more than the threshold against the same
//! hours a week earlier; UNKNOWN when there is nothing to judge (no server events in 24 h and
//! none a week ago: the Conversions API is not in use, or nothing was measured).

use std::collections::BTreeMap;

use time::{Duration as TimeDuration, OffsetDateTime};

use crate::graph::pixel::{self, EventSource, SourceCount};
use crate::tile::detail::{ConversionsApiDetail, Detail, EventSplit, Reading};
use crate::tile::{Service, Status, Tile};

use super::{
    ProbeContext, ProbeReport, Thresholds, failed, human_duration, millis, not_configured,
};

/// The hours compared with the same hours a week earlier: long enough to smooth a quiet hour,
/// short enough to see a break the same morning.
pub const COMPARE_HOURS: u32 = 6;

/// Below this many server events in the week-ago window (or events of both sources in the
/// last hours) an event's share is too noisy to compare.
const MIN_EVENTS_TO_COMPARE: u64 = 10;

pub async fn probe(ctx: &ProbeContext<'_>) -> ProbeReport {
    let service = Service::ConversionsApi;
    let Some(pixel_id) = ctx.account.pixel_id.as_deref() else {
        return not_configured(service, ctx.now);
    };
    let started = std::time::Instant::now();
    let day = match pixel::event_sources(
        ctx.client,
        pixel_id,
        ctx.now - TimeDuration::hours(24),
        ctx.now,
    )
    .await
    {
        Ok(rows) => rows,
        Err(err) => return failed(service, err, ctx.now),
    };
    // The week-ago counts and the dataset's quality refine the picture; they are skipped when
    // Meta's usage headers say the budget is nearly spent (the monitor throttles itself before
    // Meta has to), and their failure never hides what the day's counts say.
    let spare = ctx
        .client
        .peak_usage_pct()
        .is_none_or(|p| p < crate::schedule::STRETCH_AT_PCT);
    let (week_ago, quality) = if spare {
        let week = ctx.now - TimeDuration::days(7);
        let week_ago = pixel::event_sources(
            ctx.client,
            pixel_id,
            week - TimeDuration::hours(i64::from(COMPARE_HOURS)),
            week,
        )
        .await
        .ok();
        let quality = pixel::dataset_quality(ctx.client, pixel_id)
            .await
            .map_err(|e| match e.class() {
                crate::graph::ErrorClass::Permission => {
                    "Dataset quality needs ads_read and business_management on the token".to_owned()
                }
                _ => format!("dataset quality unavailable: {e}"),
            });
        (week_ago, Reading::from(quality))
    } else {
        let why = "skipped: Meta's usage headers are above 75 %".to_owned();
        (None, Reading::Missing { why })
    };
    let (mut tile, points) = judge(&day, week_ago.as_deref(), ctx.now, ctx.thresholds);
    if let Detail::ConversionsApi(detail) = &mut tile.detail {
        detail.quality = quality;
    }
    tile.latency_ms = Some(millis(started.elapsed()));
    ProbeReport::ok(tile, points)
}

/// One source's events over the windows the tile reads.
#[derive(Default)]
struct Window {
    last_hour: u64,
    day: u64,
    /// The last [`COMPARE_HOURS`] hours.
    recent: u64,
}

impl Window {
    fn add(&mut self, count: u64, in_last_hour: bool, in_recent: bool) {
        self.day = self.day.saturating_add(count);
        if in_last_hour {
            self.last_hour = self.last_hour.saturating_add(count);
        }
        if in_recent {
            self.recent = self.recent.saturating_add(count);
        }
    }
}

#[derive(Default)]
struct Counts {
    server: Window,
    browser: Window,
}

impl Counts {
    fn of(&mut self, source: EventSource) -> Option<&mut Window> {
        match source {
            EventSource::Server => Some(&mut self.server),
            EventSource::Browser => Some(&mut self.browser),
            EventSource::Other => None,
        }
    }
}

fn share(server: u64, browser: u64) -> Option<f64> {
    let all = server.saturating_add(browser);
    (all > 0).then(|| 100.0 * server as f64 / all as f64)
}

/// The tile and metric points from the day's counts and (when read) the week-ago window's.
pub fn judge(
    day: &[SourceCount],
    week_ago: Option<&[SourceCount]>,
    now: OffsetDateTime,
    thresholds: &Thresholds,
) -> (Tile, Vec<(String, f64)>) {
    let hour = TimeDuration::hours(1);
    // Only buckets inside the asked windows count (Meta may answer more; a date at the edge of
    // the representable range must not overflow the arithmetic below).
    let in_day = |r: &&SourceCount| r.hour > now - TimeDuration::hours(26) && r.hour <= now;
    let in_week = |r: &&SourceCount| {
        r.hour > now - TimeDuration::days(8) && r.hour <= now - TimeDuration::days(6)
    };
    let day_rows: Vec<SourceCount> = day.iter().filter(in_day).cloned().collect();
    let week_rows: Option<Vec<SourceCount>> =
        week_ago.map(|rows| rows.iter().filter(in_week).cloned().collect());
    let (day, week_ago) = (&day_rows[..], week_rows.as_deref());
    // A bucket counts for "the last hour" when it overlaps it, and for the comparison window
    // when it overlaps the last COMPARE_HOURS hours.
    let last_hour = |h: OffsetDateTime| h + hour > now - hour;
    let recent = |h: OffsetDateTime| h + hour > now - TimeDuration::hours(i64::from(COMPARE_HOURS));
    let per_event_reported = day
        .iter()
        .chain(week_ago.into_iter().flatten())
        .any(|r| r.event.is_some());
    let mut total = Counts::default();
    let mut by_event: BTreeMap<String, Counts> = BTreeMap::new();
    let mut last_server_hour: Option<OffsetDateTime> = None;
    for row in day {
        let event = by_event
            .entry(row.event.clone().unwrap_or_default())
            .or_default();
        for counts in [&mut total, event] {
            if let Some(window) = counts.of(row.source) {
                window.add(row.count, last_hour(row.hour), recent(row.hour));
            }
        }
        if row.source == EventSource::Server && row.count > 0 {
            last_server_hour = last_server_hour.max(Some(row.hour));
        }
    }
    let mut before_total = (0u64, 0u64);
    let mut before: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for row in week_ago.into_iter().flatten() {
        let event = before
            .entry(row.event.clone().unwrap_or_default())
            .or_default();
        for (server, browser) in [&mut before_total, event] {
            match row.source {
                EventSource::Server => *server = server.saturating_add(row.count),
                EventSource::Browser => *browser = browser.saturating_add(row.count),
                EventSource::Other => {}
            }
        }
    }
    let week_share = |(server, browser): (u64, u64)| share(server, browser);
    let splits: Vec<EventSplit> = if per_event_reported {
        by_event
            .iter()
            .filter(|(name, _)| !name.is_empty())
            .map(|(name, c)| EventSplit {
                event_name: name.clone(),
                server_1h: c.server.last_hour,
                server_24h: c.server.day,
                browser_1h: c.browser.last_hour,
                browser_24h: c.browser.day,
                share_pct: share(c.server.recent, c.browser.recent),
                share_week_ago_pct: before.get(name).copied().and_then(week_share),
            })
            .collect()
    } else {
        Vec::new()
    };

    let threshold = thresholds.capi_silence;
    let silent_for =
        last_server_hour.map(|h| (now - (h + hour)).max(TimeDuration::ZERO).unsigned_abs());
    let browser_since_last_server: u64 = day
        .iter()
        .filter(|r| r.source == EventSource::Browser)
        .filter(|r| last_server_hour.is_none_or(|last| r.hour > last))
        .map(|r| r.count)
        .sum();
    let drop = thresholds.capi_share_drop_pct.clamp(0.0, 100.0);
    // The worst fall in server share among the events (or over all events when Meta did not
    // name them) with enough server events a week ago to compare.
    let fallen = {
        let candidates: Vec<(String, f64, f64)> = if per_event_reported {
            splits
                .iter()
                .filter(|s| {
                    before
                        .get(&s.event_name)
                        .is_some_and(|b| b.0 >= MIN_EVENTS_TO_COMPARE)
                        && by_event.get(&s.event_name).is_some_and(|c| {
                            c.server.recent.saturating_add(c.browser.recent)
                                >= MIN_EVENTS_TO_COMPARE
                        })
                })
                .filter_map(|s| Some((s.event_name.clone(), s.share_pct?, s.share_week_ago_pct?)))
                .collect()
        } else {
            (before_total.0 >= MIN_EVENTS_TO_COMPARE
                && total.server.recent.saturating_add(total.browser.recent)
                    >= MIN_EVENTS_TO_COMPARE)
                .then(|| {
                    Some((
                        "all events".to_owned(),
                        share(total.server.recent, total.browser.recent)?,
                        week_share(before_total)?,
                    ))
                })
                .flatten()
                .into_iter()
                .collect()
        };
        candidates
            .into_iter()
            .filter(|(_, now, then)| *now < then * (1.0 - drop / 100.0))
            .max_by(|a, b| (a.2 - a.1).total_cmp(&(b.2 - b.1)))
    };
    let (status, message) = match (silent_for, last_server_hour) {
        (_, None) if before_total.0 > 0 && total.browser.day > 0 => (
            Status::Down,
            format!(
                "no server events in 24 h ({} in the same hours a week ago) while the browser sent {}",
                before_total.0, total.browser.day
            ),
        ),
        (_, None) if total.browser.day > 0 => (
            Status::Unknown,
            "no server events in 24 h: the Conversions API is not in use for this dataset (or stopped over a day ago)".to_owned(),
        ),
        (_, None) => (
            Status::Unknown,
            "no events at all in 24 h: nothing to compare".to_owned(),
        ),
        (Some(silence), Some(_)) if silence >= threshold && browser_since_last_server > 0 => (
            Status::Down,
            format!(
                "no server events for {} while the browser sent {} (threshold {})",
                human_duration(silence),
                browser_since_last_server,
                human_duration(threshold)
            ),
        ),
        (Some(silence), Some(_)) if silence >= threshold => (
            Status::Up,
            format!("quiet: no browser or server events for {}", human_duration(silence)),
        ),
        _ => match &fallen {
            Some((event, now_pct, then_pct)) => (
                Status::Degraded,
                format!(
                    "server share of {event} {now_pct:.0} % in the last {COMPARE_HOURS} h against {then_pct:.0} % a week ago"
                ),
            ),
            None => (
                Status::Up,
                format!(
                    "{} server events in the last hour, {} in 24 h ({})",
                    total.server.last_hour,
                    total.server.day,
                    share(total.server.day, total.browser.day)
                        .map_or("—".to_owned(), |p| format!("{p:.0} % of all events"))
                ),
            ),
        },
    };
    let share_pct = share(total.server.recent, total.browser.recent);
    let detail = ConversionsApiDetail {
        server_1h: total.server.last_hour,
        server_24h: total.server.day,
        browser_1h: total.browser.last_hour,
        browser_24h: total.browser.day,
        last_server_hour,
        by_event: splits,
        per_event_reported,
        share_pct,
        share_week_ago_pct: week_ago.and_then(|_| week_share(before_total)),
        compare_hours: COMPARE_HOURS,
        silence_threshold_minutes: threshold.as_secs() / 60,
        share_drop_pct: drop,
        quality: Reading::default(),
    };
    let mut points = vec![
        (
            "meta.capi.server_events_1h".to_owned(),
            total.server.last_hour as f64,
        ),
        (
            "meta.capi.server_events_24h".to_owned(),
            total.server.day as f64,
        ),
    ];
    points.extend(share_pct.map(|p| ("meta.capi.server_share_pct".to_owned(), p)));
    let tile = Tile::new(Service::ConversionsApi, status, now, message)
        .with_detail(Detail::ConversionsApi(detail));
    (tile, points)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> OffsetDateTime {
        // 2026-05-28T20:26:40Z.
        OffsetDateTime::from_unix_timestamp(1_780_000_000).expect("time")
    }

    fn hour_ago(h: i64) -> OffsetDateTime {
        let n = now().unix_timestamp();
        OffsetDateTime::from_unix_timestamp(n - n.rem_euclid(3600) - h * 3600).expect("hour")
    }

    /// `hours` hourly buckets ending with the current one: the browser sends `browser` and
    /// the server `server(h)` Purchases per hour (h = hours ago).
    fn hours(count: i64, browser: u64, server: impl Fn(i64) -> u64) -> Vec<SourceCount> {
        (0..count)
            .flat_map(|h| {
                let row = |source, n| SourceCount {
                    hour: hour_ago(h),
                    source,
                    event: Some("Purchase".to_owned()),
                    count: n,
                };
                [
                    row(EventSource::Browser, browser),
                    row(EventSource::Server, server(h)),
                ]
            })
            .filter(|r| r.count > 0)
            .collect()
    }

    fn week_ago(browser: u64, server: u64) -> Vec<SourceCount> {
        let week = hour_ago(7 * 24);
        [
            (EventSource::Browser, browser),
            (EventSource::Server, server),
        ]
        .into_iter()
        .map(|(source, count)| SourceCount {
            hour: week,
            source,
            event: Some("Purchase".to_owned()),
            count,
        })
        .collect()
    }

    #[test]
    fn server_events_stopping_while_the_browser_sends_is_down() {
        let t = Thresholds::default(); // 2 h
        // Server events stopped 3 hours ago (the last hour with any was 4 hours ago).
        let day = hours(24, 40, |h| if h >= 4 { 20 } else { 0 });
        let (tile, points) = judge(&day, Some(&week_ago(240, 120)), now(), &t);
        assert_eq!(tile.status, Status::Down, "{}", tile.message);
        assert!(
            tile.message.starts_with("no server events for 3 h"),
            "{}",
            tile.message
        );
        assert!(
            tile.message.contains("while the browser sent 160"),
            "{}",
            tile.message
        );
        let Detail::ConversionsApi(d) = &tile.detail else {
            panic!("detail")
        };
        assert_eq!(d.server_1h, 0);
        assert_eq!(d.server_24h, 20 * 20);
        assert_eq!(d.last_server_hour, Some(hour_ago(4)));
        assert_eq!(d.by_event.len(), 1);
        assert!(points.contains(&("meta.capi.server_events_1h".to_owned(), 0.0)));

        // One hour of silence is under the threshold: UP.
        let day = hours(24, 40, |h| if h >= 1 { 20 } else { 0 });
        let (tile, _) = judge(&day, None, now(), &t);
        assert_eq!(tile.status, Status::Up, "{}", tile.message);

        // Both silent: a quiet night, not a broken server.
        let day: Vec<SourceCount> = hours(24, 40, |_| 20)
            .into_iter()
            .filter(|r| r.hour <= hour_ago(5))
            .collect();
        let (tile, _) = judge(&day, None, now(), &t);
        assert_eq!(tile.status, Status::Up, "{}", tile.message);
        assert!(tile.message.starts_with("quiet"), "{}", tile.message);
    }

    #[test]
    fn no_server_events_in_a_day_is_down_only_when_there_were_some_a_week_ago() {
        let t = Thresholds::default();
        let day = hours(24, 40, |_| 0);
        let (tile, _) = judge(&day, Some(&week_ago(240, 120)), now(), &t);
        assert_eq!(tile.status, Status::Down, "{}", tile.message);
        let (tile, _) = judge(&day, Some(&week_ago(240, 0)), now(), &t);
        assert_eq!(tile.status, Status::Unknown, "not in use: {}", tile.message);
        let (tile, _) = judge(&day, None, now(), &t);
        assert_eq!(tile.status, Status::Unknown, "{}", tile.message);
        let (tile, _) = judge(&[], None, now(), &t);
        assert_eq!(tile.status, Status::Unknown, "{}", tile.message);
    }

    #[test]
    fn a_fallen_server_share_is_degraded_and_a_small_one_is_not() {
        let t = Thresholds::default(); // 50 % relative drop
        // Now: 10 server for 40 browser per hour (20 %); a week ago 50 %.
        let day = hours(24, 40, |_| 10);
        let (tile, points) = judge(&day, Some(&week_ago(120, 120)), now(), &t);
        assert_eq!(tile.status, Status::Degraded, "{}", tile.message);
        assert_eq!(
            tile.message,
            "server share of Purchase 20 % in the last 6 h against 50 % a week ago"
        );
        assert!(points.contains(&("meta.capi.server_share_pct".to_owned(), 20.0)));
        // 30 % a week ago: a third less is within the 50 % threshold.
        let (tile, _) = judge(&day, Some(&week_ago(280, 120)), now(), &t);
        assert_eq!(tile.status, Status::Up, "{}", tile.message);
        // Too few server events a week ago to compare.
        let (tile, _) = judge(&day, Some(&week_ago(5, 5)), now(), &t);
        assert_eq!(tile.status, Status::Up, "{}", tile.message);
    }

    #[test]
    fn without_event_names_the_totals_are_judged() {
        let t = Thresholds::default();
        let strip = |rows: Vec<SourceCount>| -> Vec<SourceCount> {
            rows.into_iter()
                .map(|r| SourceCount { event: None, ..r })
                .collect()
        };
        let day = strip(hours(24, 40, |_| 10));
        let (tile, _) = judge(&day, Some(&strip(week_ago(120, 120))), now(), &t);
        assert_eq!(tile.status, Status::Degraded, "{}", tile.message);
        assert!(tile.message.contains("of all events"), "{}", tile.message);
        let Detail::ConversionsApi(d) = &tile.detail else {
            panic!("detail")
        };
        assert!(!d.per_event_reported);
        assert!(d.by_event.is_empty(), "no per-event rows invented");
    }

    #[test]
    fn little_traffic_and_rows_outside_the_window_are_not_judged() {
        let t = Thresholds::default();
        // One server and four browser events in the last 6 h: too few to call a fall.
        let day: Vec<SourceCount> = hours(24, 4, |_| 1)
            .into_iter()
            .filter(|r| r.hour <= hour_ago(8) || r.hour == hour_ago(0))
            .collect();
        let (tile, _) = judge(&day, Some(&week_ago(120, 120)), now(), &t);
        assert_ne!(tile.status, Status::Degraded, "{}", tile.message);
        // Buckets Meta returned outside the asked windows, at the edge of time, change nothing.
        let mut odd = hours(24, 40, |_| 20);
        odd.push(SourceCount {
            hour: time::PrimitiveDateTime::MAX.assume_utc(),
            source: EventSource::Server,
            event: Some("Purchase".into()),
            count: u64::MAX,
        });
        odd.push(SourceCount {
            hour: OffsetDateTime::UNIX_EPOCH,
            source: EventSource::Browser,
            event: Some("Purchase".into()),
            count: u64::MAX,
        });
        let (tile, _) = judge(&odd, Some(&week_ago(240, 120)), now(), &t);
        assert_eq!(tile.status, Status::Up, "{}", tile.message);
        let Detail::ConversionsApi(d) = &tile.detail else {
            panic!("detail")
        };
        assert_eq!(d.server_24h, 24 * 20);
    }
}
