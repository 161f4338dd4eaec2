//! Incidents and uptime, read from the status transitions (pure functions over them).
//!
//! An incident is a span during which a service was DOWN or DEGRADED, from the check that
//! first saw it fail to the check that measured it UP again; an UNKNOWN check in between
//! (throttled, keychain locked) neither ends nor extends it. Uptime counts the time a service
//! was measured available (UP or DEGRADED: degraded still works, and is reported apart) over
//! the time it was measured at all — UNKNOWN time, and time before the first check, are
//! counted apart and never as down.

use serde::Serialize;
use time::{Duration, OffsetDateTime};
use ts_rs::TS;

use crate::store::transitions::Transition;
use crate::tile::{Service, Status};

/// One span of failure of one service.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct Incident {
    pub account: String,
    pub service: Service,
    /// DOWN when it was DOWN at any moment, else DEGRADED.
    pub worst: Status,
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub started: OffsetDateTime,
    /// `null` while it lasts.
    #[serde(with = "time::serde::rfc3339::option")]
    #[ts(type = "string | null")]
    pub ended: Option<OffsetDateTime>,
    /// Until it ended, or until now while it lasts.
    #[ts(type = "number")]
    pub duration_s: i64,
    pub first_message: String,
    pub last_message: String,
    /// Meta's error code and `fbtrace_id` of the first failure that had them.
    #[ts(type = "number | null")]
    pub code: Option<i64>,
    pub fbtrace_id: Option<String>,
}

/// Where the time of a window went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, TS)]
pub struct Durations {
    #[ts(type = "number")]
    pub up_s: i64,
    #[ts(type = "number")]
    pub degraded_s: i64,
    #[ts(type = "number")]
    pub down_s: i64,
    /// Not measured: UNKNOWN, or before the service was first checked.
    #[ts(type = "number")]
    pub unknown_s: i64,
}

/// Exact sums (transitions are stored to the millisecond), rounded to seconds once at the end
/// so many short spans do not each lose their fraction.
#[derive(Default)]
struct Tally([Duration; 4]);

impl Tally {
    fn add(&mut self, status: Option<Status>, span: Duration) {
        let slot = match status {
            Some(Status::Up) => 0,
            Some(Status::Degraded) => 1,
            Some(Status::Down) => 2,
            Some(Status::Unknown) | None => 3,
        };
        self.0[slot] += span;
    }

    fn seconds(&self) -> Durations {
        let s = |d: Duration| (d.as_seconds_f64()).round() as i64;
        Durations {
            up_s: s(self.0[0]),
            degraded_s: s(self.0[1]),
            down_s: s(self.0[2]),
            unknown_s: s(self.0[3]),
        }
    }
}

impl Durations {
    /// Available time over measured time, in percent; `None` when nothing was measured.
    pub fn uptime_pct(&self) -> Option<f64> {
        let measured = self.up_s + self.degraded_s + self.down_s;
        (measured > 0).then(|| (self.up_s + self.degraded_s) as f64 * 100.0 / measured as f64)
    }
}

/// Uptime over one window (`24h`, `7d`, `30d`, `90d`).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct UptimeWindow {
    pub label: String,
    pub uptime_pct: Option<f64>,
    pub time: Durations,
}

/// One day of the 90-day strip (UTC days, oldest first).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct DayBar {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// The worst measured status of the day; `null` when nothing was measured.
    pub worst: Option<Status>,
    pub uptime_pct: Option<f64>,
}

/// A service's uptime, incidents and daily strip.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ServiceUptime {
    pub service: Service,
    pub windows: Vec<UptimeWindow>,
    /// Incidents overlapping the last 30 days.
    pub incidents_30d: u32,
    /// Mean time to recovery of the incidents that ended in the last 30 days.
    #[ts(type = "number | null")]
    pub mttr_s: Option<i64>,
    pub days: Vec<DayBar>,
}

/// The windows uptime is reported over, and the strip's length in days.
pub const WINDOWS: [(&str, i64); 4] = [("24h", 1), ("7d", 7), ("30d", 30), ("90d", 90)];
pub const STRIP_DAYS: i64 = 90;

fn failing(status: Status) -> bool {
    matches!(status, Status::Down | Status::Degraded)
}

/// The incidents in one service's `transitions` (oldest first; the first may precede the
/// window: it is the status the window opened with).
pub fn incidents(account: &str, transitions: &[Transition], now: OffsetDateTime) -> Vec<Incident> {
    let mut out = Vec::new();
    let mut open: Option<Incident> = None;
    for t in transitions {
        match (&mut open, t.to) {
            (None, to) if failing(to) => {
                open = Some(Incident {
                    account: account.to_owned(),
                    service: t.service,
                    worst: to,
                    started: t.at,
                    ended: None,
                    duration_s: 0,
                    first_message: t.message.clone(),
                    last_message: t.last_message.clone().unwrap_or_else(|| t.message.clone()),
                    code: t.code,
                    fbtrace_id: t.fbtrace_id.clone(),
                });
            }
            (Some(incident), to) if failing(to) => {
                incident.worst = incident.worst.worst(to);
                incident.last_message = t.last_message.clone().unwrap_or_else(|| t.message.clone());
                if incident.code.is_none() && incident.fbtrace_id.is_none() {
                    incident.code = t.code;
                    incident.fbtrace_id = t.fbtrace_id.clone();
                }
            }
            (Some(_), Status::Up) => {
                if let Some(mut incident) = open.take() {
                    incident.ended = Some(t.at);
                    incident.duration_s = (t.at - incident.started).whole_seconds();
                    out.push(incident);
                }
            }
            _ => {}
        }
    }
    if let Some(mut incident) = open {
        incident.duration_s = (now - incident.started).whole_seconds().max(0);
        out.push(incident);
    }
    out
}

/// Calls `visit(start, end, status)` for each span of `[from, to)` under one status (`None`:
/// before the first transition).
fn spans(
    transitions: &[Transition],
    from: OffsetDateTime,
    to: OffsetDateTime,
    mut visit: impl FnMut(OffsetDateTime, OffsetDateTime, Option<Status>),
) {
    let mut cursor = from;
    let mut status = None;
    for t in transitions {
        if t.at >= to {
            break;
        }
        if t.at > cursor {
            visit(cursor, t.at, status);
            cursor = t.at;
        }
        status = Some(t.to);
    }
    if to > cursor {
        visit(cursor, to, status);
    }
}

/// Where the time of `[from, to)` went for one service.
pub fn durations(
    transitions: &[Transition],
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Durations {
    let mut tally = Tally::default();
    spans(transitions, from, to, |a, b, status| {
        tally.add(status, b - a)
    });
    tally.seconds()
}

/// One service's uptime report at `now` from its transitions (oldest first, including the
/// one in force 90 days ago).
pub fn service_uptime(
    account: &str,
    service: Service,
    transitions: &[Transition],
    now: OffsetDateTime,
) -> ServiceUptime {
    let windows = WINDOWS
        .iter()
        .map(|(label, days)| {
            let time = durations(transitions, now - Duration::days(*days), now);
            UptimeWindow {
                label: (*label).to_owned(),
                uptime_pct: time.uptime_pct(),
                time,
            }
        })
        .collect();
    let month_ago = now - Duration::days(30);
    let recent: Vec<Incident> = incidents(account, transitions, now)
        .into_iter()
        .filter(|i| i.ended.is_none_or(|end| end > month_ago))
        .collect();
    let recovered: Vec<i64> = recent
        .iter()
        .filter(|i| i.ended.is_some())
        .map(|i| i.duration_s)
        .collect();
    let mttr_s =
        (!recovered.is_empty()).then(|| recovered.iter().sum::<i64>() / recovered.len() as i64);
    ServiceUptime {
        service,
        windows,
        incidents_30d: u32::try_from(recent.len()).unwrap_or(u32::MAX),
        mttr_s,
        days: day_bars(transitions, now),
    }
}

/// The last [`STRIP_DAYS`] UTC days, today (up to `now`) last.
fn day_bars(transitions: &[Transition], now: OffsetDateTime) -> Vec<DayBar> {
    let today = now.replace_time(time::Time::MIDNIGHT);
    (0..STRIP_DAYS)
        .rev()
        .map(|back| {
            let start = today - Duration::days(back);
            let end = (start + Duration::DAY).min(now);
            let mut tally = Tally::default();
            let mut worst: Option<Status> = None;
            spans(transitions, start, end, |a, b, status| {
                tally.add(status, b - a);
                if let Some(s) = status.filter(|s| *s != Status::Unknown) {
                    worst = Some(worst.map_or(s, |w| w.worst(s)));
                }
            });
            DayBar {
                date: format!(
                    "{:04}-{:02}-{:02}",
                    start.year(),
                    u8::from(start.month()),
                    start.day()
                ),
                worst,
                uptime_pct: tally.seconds().uptime_pct(),
            }
        })
        .collect()
}

/// Incidents as CSV (RFC 4180, a header row, times in RFC 3339, durations in seconds).
pub fn incidents_csv(incidents: &[Incident]) -> Result<String, csv::Error> {
    let rfc3339 = |t: OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "account",
        "service",
        "worst",
        "started",
        "ended",
        "duration_s",
        "code",
        "fbtrace_id",
        "first_message",
        "last_message",
    ])?;
    for i in incidents {
        out.write_record([
            i.account.as_str(),
            i.service.as_str(),
            i.worst.as_str(),
            &rfc3339(i.started),
            &i.ended.map(rfc3339).unwrap_or_default(),
            &i.duration_s.to_string(),
            &i.code.map(|c| c.to_string()).unwrap_or_default(),
            i.fbtrace_id.as_deref().unwrap_or_default(),
            &i.first_message,
            &i.last_message,
        ])?;
    }
    let bytes = out.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hours: i64) -> OffsetDateTime {
        // 2026-11-01 00:00 UTC.
        OffsetDateTime::from_unix_timestamp(1_793_491_200).expect("time") + Duration::hours(hours)
    }

    fn change(hours: i64, to: Status, message: &str) -> Transition {
        Transition {
            service: Service::Pixel,
            at: at(hours),
            from: None,
            to,
            message: message.to_owned(),
            code: None,
            fbtrace_id: None,
            last_message: None,
        }
    }

    #[test]
    fn an_unknown_check_neither_ends_an_incident_nor_counts_as_down() {
        let mut down = change(10, Status::Down, "pixel unreadable");
        down.code = Some(2);
        down.fbtrace_id = Some("AbCtrace".into());
        let mut worse = change(12, Status::Degraded, "slow");
        worse.last_message = Some("still slow".into());
        let history = [
            change(0, Status::Up, "ok"),
            down,
            change(11, Status::Unknown, "throttled"),
            worse,
            change(14, Status::Up, "ok"),
            change(20, Status::Degraded, "stale"),
        ];
        let found = incidents("shop", &history, at(24));
        assert_eq!(found.len(), 2, "{found:#?}");
        assert_eq!(found[0].worst, Status::Down);
        assert_eq!((found[0].started, found[0].ended), (at(10), Some(at(14))));
        assert_eq!(found[0].duration_s, 4 * 3600);
        assert_eq!(found[0].first_message, "pixel unreadable");
        assert_eq!(found[0].last_message, "still slow");
        assert_eq!(
            (found[0].code, found[0].fbtrace_id.as_deref()),
            (Some(2), Some("AbCtrace"))
        );
        assert_eq!(found[1].ended, None, "still open");
        assert_eq!(found[1].duration_s, 4 * 3600, "lasting until now");

        let time = durations(&history, at(-6), at(24));
        assert_eq!(
            time,
            Durations {
                up_s: (10 + 6) * 3600,
                degraded_s: (2 + 4) * 3600,
                down_s: 3600,
                unknown_s: (6 + 1) * 3600,
            }
        );
        let pct = time.uptime_pct().expect("measured");
        assert!((pct - 100.0 * 22.0 / 23.0).abs() < 1e-9, "{pct}");
        assert_eq!(durations(&[], at(0), at(1)).uptime_pct(), None);
    }

    #[test]
    fn the_strip_has_ninety_days_with_the_worst_status_of_each() {
        let history = [
            change(-24 * 100, Status::Up, "ok"),
            change(-20, Status::Down, "gone"),
            change(-19, Status::Up, "ok"),
        ];
        let now = at(12);
        let report = service_uptime("shop", Service::Pixel, &history, now);
        assert_eq!(report.days.len(), 90);
        assert_eq!(report.days[89].date, "2026-11-01");
        assert_eq!(
            report.days[88].worst,
            Some(Status::Down),
            "{:?}",
            report.days[88]
        );
        assert_eq!(report.days[87].worst, Some(Status::Up));
        let day_pct = report.days[88].uptime_pct.expect("measured");
        assert!((day_pct - 100.0 * 23.0 / 24.0).abs() < 1e-9);
        assert_eq!(report.incidents_30d, 1);
        assert_eq!(report.mttr_s, Some(3600));
        assert_eq!(report.windows[0].uptime_pct, Some(100.0), "last 24 h");
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let found = incidents(
            "shop, EU",
            &[
                change(0, Status::Down, "said \"no\"\nthen left"),
                change(1, Status::Up, "ok"),
            ],
            at(2),
        );
        let text = incidents_csv(&found).expect("csv");
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let rows: Vec<csv::StringRecord> =
            reader.records().collect::<Result<_, _>>().expect("rows");
        assert_eq!(rows.len(), 1);
        assert_eq!(&rows[0][0], "shop, EU");
        assert_eq!(&rows[0][5], "3600");
        assert_eq!(&rows[0][8], "said \"no\"\nthen left");
    }
}
