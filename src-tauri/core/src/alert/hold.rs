//! Silences and maintenance windows: spans during which an account's (or one service's)
//! alerts are held instead of sent. Plain data, stored by the store and read by the pure
//! [`super::decide`]: a held alert still firing when its hold ends is sent then.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use ts_rs::TS;

use crate::tile::Service;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum HoldKind {
    /// "Stop telling me for a while" — an operator's decision, for a duration.
    Silence,
    /// Planned work (a token rotation, a deploy): the tiles say "in maintenance".
    Maintenance,
}

/// When a hold applies. Weekly windows are in UTC (a stored local time would move with the
/// machine's time zone and daylight saving).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HoldWindow {
    Once {
        #[serde(with = "time::serde::rfc3339")]
        #[ts(type = "string")]
        start: OffsetDateTime,
        #[serde(with = "time::serde::rfc3339")]
        #[ts(type = "string")]
        end: OffsetDateTime,
    },
    Weekly {
        /// 0 = Monday … 6 = Sunday.
        weekday: u8,
        /// Minutes after midnight UTC.
        start_minute: u16,
        minutes: u32,
    },
}

/// One silence or maintenance window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Hold {
    pub kind: HoldKind,
    /// One service, or the whole account.
    pub service: Option<Service>,
    pub window: HoldWindow,
    pub reason: String,
    /// Who set it (the OS user), and when.
    pub by: String,
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub created: OffsetDateTime,
}

/// The longest hold one may set: a silence forgotten for longer is a broken monitor.
pub const MAX_HOLD: Duration = Duration::days(90);

impl HoldWindow {
    /// The span this window is in at `now` (start, end), if any.
    pub fn current(&self, now: OffsetDateTime) -> Option<(OffsetDateTime, OffsetDateTime)> {
        match *self {
            Self::Once { start, end } => (start <= now && now < end).then_some((start, end)),
            Self::Weekly {
                weekday,
                start_minute,
                minutes,
            } => {
                let length = Duration::minutes(i64::from(minutes));
                let midnight = now.replace_time(time::Time::MIDNIGHT);
                let today = i64::from(now.weekday().number_days_from_monday());
                // This week's and last week's occurrence (a window may span midnight or a week).
                [0, 7].into_iter().find_map(|back| {
                    let start = midnight
                        - Duration::days((today - i64::from(weekday)).rem_euclid(7) + back)
                        + Duration::minutes(i64::from(start_minute));
                    let end = start + length;
                    (start <= now && now < end).then_some((start, end))
                })
            }
        }
    }

    /// Whether this window can never apply again after `now`.
    pub fn is_over(&self, now: OffsetDateTime) -> bool {
        matches!(*self, Self::Once { end, .. } if end <= now)
    }

    /// Refuses windows that are empty, backwards or longer than [`MAX_HOLD`].
    pub fn validate(&self) -> Result<(), String> {
        match *self {
            Self::Once { start, end } if end <= start => {
                Err("the window must end after it starts".to_owned())
            }
            Self::Once { start, end } if end - start > MAX_HOLD => {
                Err("a hold lasts at most 90 days".to_owned())
            }
            Self::Weekly { weekday, .. } if weekday > 6 => {
                Err("the weekday must be 0 (Monday) to 6 (Sunday)".to_owned())
            }
            Self::Weekly { start_minute, .. } if start_minute >= 24 * 60 => {
                Err("the start time must be within the day".to_owned())
            }
            // A whole week would hold every minute: a permanent mute.
            Self::Weekly { minutes, .. } if minutes == 0 || minutes >= 7 * 24 * 60 => {
                Err("a weekly window lasts 1 minute to less than 7 days".to_owned())
            }
            _ => Ok(()),
        }
    }
}

/// `mon 02:00` … `sun 23:30` (UTC) as (weekday, minute of the day).
pub fn parse_weekly(text: &str) -> Result<(u8, u16), String> {
    let shape = || format!("{text:?} is not a weekly start like \"sun 02:00\" (UTC)");
    let (day, clock) = text.trim().split_once(' ').ok_or_else(shape)?;
    let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let day = day.to_ascii_lowercase();
    let weekday = days
        .iter()
        .position(|d| day.starts_with(d))
        .ok_or_else(shape)?;
    let (h, m) = clock.trim().split_once(':').ok_or_else(shape)?;
    let (h, m): (u16, u16) = (
        h.parse().map_err(|_| shape())?,
        m.parse().map_err(|_| shape())?,
    );
    if h > 23 || m > 59 {
        return Err(shape());
    }
    Ok((weekday as u8, h * 60 + m))
}

/// `30m`, `2h`, `1d` as a duration of 1 minute to 90 days.
pub fn parse_span(text: &str) -> Result<Duration, String> {
    let shape = || format!("{text:?} is not a duration like 30m, 2h or 1d");
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(shape)?;
    let (digits, unit) = text.split_at(split);
    let n: i64 = digits.parse().map_err(|_| shape())?;
    let minutes = match unit {
        "m" => Some(n),
        "h" => n.checked_mul(60),
        "d" => n.checked_mul(24 * 60),
        _ => return Err(shape()),
    };
    // In range before it becomes a Duration (whose constructor panics past ±2⁶³ seconds).
    match minutes {
        Some(m) if (1..=MAX_HOLD.whole_minutes()).contains(&m) => Ok(Duration::minutes(m)),
        _ => Err("a hold lasts 1 minute to 90 days".to_owned()),
    }
}

/// The holds that concern one account (its own and those for every account).
#[derive(Debug, Clone, Default)]
pub struct Holds(pub Vec<Hold>);

impl Holds {
    pub fn none() -> Self {
        Self::default()
    }

    /// The hold that applies to `service` at `now` (`None` service: account-wide alerts such
    /// as the keychain, held only by a hold of the whole account).
    pub fn holding(&self, service: Option<Service>, now: OffsetDateTime) -> Option<&Hold> {
        self.0.iter().find(|h| {
            (h.service.is_none() || h.service == service) && h.window.current(now).is_some()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(text: &str) -> OffsetDateTime {
        OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).expect(text)
    }

    #[test]
    fn weekly_windows_recur_and_may_span_midnight_and_the_week() {
        // Sunday 23:00 UTC for 3 h: into Monday 02:00.
        let window = HoldWindow::Weekly {
            weekday: 6,
            start_minute: 23 * 60,
            minutes: 180,
        };
        // 2026-11-29 is a Sunday.
        assert!(window.current(at("2026-11-29T23:30:00Z")).is_some());
        assert!(
            window.current(at("2026-11-30T01:59:00Z")).is_some(),
            "Monday morning"
        );
        assert!(
            window.current(at("2026-11-30T02:00:00Z")).is_none(),
            "ended"
        );
        assert!(
            window.current(at("2026-12-06T22:59:00Z")).is_none(),
            "not yet"
        );
        let (start, end) = window
            .current(at("2026-12-07T00:30:00Z"))
            .expect("a week later");
        assert_eq!(
            (start, end),
            (at("2026-12-06T23:00:00Z"), at("2026-12-07T02:00:00Z"))
        );
        assert!(
            !window.is_over(at("2030-01-01T00:00:00Z")),
            "weekly never ends"
        );
    }

    #[test]
    fn parsers_take_what_operators_type_and_refuse_the_rest() {
        assert_eq!(parse_weekly("Sun 02:30"), Ok((6, 150)));
        assert_eq!(parse_weekly("monday 00:00"), Ok((0, 0)));
        for bad in ["sun", "sun 24:00", "xyz 01:00", "sun 1:60", ""] {
            assert!(parse_weekly(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_span("30m"), Ok(Duration::minutes(30)));
        assert_eq!(parse_span("1d"), Ok(Duration::DAY));
        for bad in [
            "0m",
            "91d",
            "2w",
            "h",
            "-1h",
            "99999999999999999999d",
            "999999999999999d",
            "9223372036854775807m",
        ] {
            assert!(parse_span(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn parsing_never_panics(text in "\\PC{0,16}") {
            let _ = parse_span(&text).map(|d| assert!(d <= MAX_HOLD));
            let _ = parse_weekly(&text).map(|(day, minute)| assert!(day <= 6 && minute < 1440));
        }

        /// A weekly window holds exactly `minutes` of every week.
        #[test]
        fn a_weekly_window_covers_its_minutes(weekday in 0u8..7, start in 0u16..1440, minutes in 1u32..600) {
            let window = HoldWindow::Weekly { weekday, start_minute: start, minutes };
            let monday = at("2026-11-30T00:00:00Z");
            let held = (0..7 * 24 * 60)
                .filter(|m| window.current(monday + Duration::minutes(*m)).is_some())
                .count();
            prop_assert_eq!(held, minutes as usize);
        }
    }
}
