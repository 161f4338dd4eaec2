//! The schedule: when each probe of each account runs next. Pure planning — intervals with
//! jitter, stretched when the usage headers of a probe's own calls pass the warning level and
//! paused until the regain time when they pass the pause level or Meta throttles — so days of
//! schedule can be replayed in a test. Pacing is per probe, so a throttled ad account pauses
//! the ads probe (its buckets) while `/me` goes on. The runner lives with the CLI and shell.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use time::OffsetDateTime;

use crate::graph::{CallRecord, ErrorClass};
use crate::tile::Service;

/// Default intervals: cheap liveness often, expensive insights rarely, the token at start and
/// every 6 hours. `rate_limits` is not polled: it is read from every response.
pub fn default_interval(service: Service) -> Option<Duration> {
    let minutes = |m: u64| Some(Duration::from_secs(m * 60));
    match service {
        Service::GraphApi => minutes(1),
        Service::Pixel => minutes(10),
        Service::Ads => minutes(15),
        Service::Webhooks | Service::Catalog => minutes(30),
        Service::Token => minutes(6 * 60),
        Service::RateLimits => None,
    }
}

/// Stretch intervals at or above this usage.
pub const STRETCH_AT_PCT: f64 = 75.0;
/// Pause a bucket at or above this usage, until Meta's regain time.
pub const PAUSE_AT_PCT: f64 = 90.0;
/// Pause this long when Meta gives no regain time.
pub const DEFAULT_PAUSE: Duration = Duration::from_secs(10 * 60);
/// Jitter: each interval is spread over ±10 % so accounts do not poll in lockstep.
pub const JITTER: f64 = 0.10;

/// What the usage headers say about calling again.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum Pace {
    Normal,
    /// Intervals multiplied by `factor` (1–4).
    Stretched {
        factor: f64,
    },
    /// No calls until `until`.
    Paused {
        #[serde(with = "time::serde::rfc3339")]
        until: OffsetDateTime,
    },
}

/// The pure rule: usage below 75 % → normal; 75–90 % → intervals stretched up to 4×;
/// ≥ 90 % or a throttle error → paused until the regain time (or 10 minutes).
pub fn pace(calls: &[CallRecord], now: OffsetDateTime) -> Pace {
    let max = calls
        .iter()
        .filter_map(|c| c.usage.max_pct())
        .reduce(f64::max);
    let throttled = calls
        .iter()
        .any(|c| c.error_class == Some(ErrorClass::Throttled));
    if throttled || max.is_some_and(|m| m >= PAUSE_AT_PCT) {
        let regain = calls
            .iter()
            .filter_map(|c| c.usage.regain_after())
            .max()
            .unwrap_or(DEFAULT_PAUSE);
        let regain = regain.max(Duration::from_secs(60));
        return Pace::Paused {
            until: now + regain,
        };
    }
    match max {
        Some(m) if m >= STRETCH_AT_PCT => Pace::Stretched {
            factor: 1.0 + 3.0 * (m - STRETCH_AT_PCT) / (PAUSE_AT_PCT - STRETCH_AT_PCT),
        },
        _ => Pace::Normal,
    }
}

/// A stable pseudo-random number in [-1, 1] for (key, n): deterministic jitter.
fn jitter_unit(key: &str, n: u64) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes().chain(n.to_le_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % 20_001) as f64 / 10_000.0 - 1.0
}

/// When each (account, service) is due, and how many calls each account made per hour.
#[derive(Debug, Default)]
pub struct Plan {
    next: BTreeMap<(String, Service), OffsetDateTime>,
    runs: BTreeMap<(String, Service), u64>,
    pace: BTreeMap<(String, Service), Pace>,
    /// Calls per account in the current hour, and the hour they belong to.
    calls: BTreeMap<String, (i64, u64)>,
    last_hour_calls: BTreeMap<String, u64>,
}

impl Plan {
    /// Schedules every polled service of `account` to run now (the token first).
    pub fn add_account(&mut self, account: &str, now: OffsetDateTime) {
        for service in Service::ALL {
            if default_interval(service).is_some() {
                self.next.insert((account.to_owned(), service), now);
            }
        }
    }

    pub fn remove_account(&mut self, account: &str) {
        self.next.retain(|(a, _), _| a != account);
        self.pace.retain(|(a, _), _| a != account);
    }

    /// The services due at `now`, per account; an account that is paused has none.
    pub fn due(&self, now: OffsetDateTime) -> Vec<(String, Service)> {
        self.next
            .iter()
            .filter(|(key, at)| **at <= now && !self.is_paused(key, now))
            .map(|(key, _)| key.clone())
            .collect()
    }

    /// The earliest time anything is due (a pause moves its account's work to its end).
    pub fn next_wake(&self) -> Option<OffsetDateTime> {
        self.next
            .iter()
            .map(|(key, at)| match self.pace.get(key) {
                Some(Pace::Paused { until }) => (*at).max(*until),
                _ => *at,
            })
            .min()
    }

    pub fn pace_of(&self, account: &str, service: Service) -> Pace {
        self.pace
            .get(&(account.to_owned(), service))
            .copied()
            .unwrap_or(Pace::Normal)
    }

    fn is_paused(&self, key: &(String, Service), now: OffsetDateTime) -> bool {
        matches!(self.pace.get(key), Some(Pace::Paused { until }) if *until > now)
    }

    /// Records a run of `service` that made `calls`, updates the account's pace from their
    /// headers and schedules the next run (interval × stretch, ± jitter).
    pub fn finished(
        &mut self,
        account: &str,
        service: Service,
        calls: &[CallRecord],
        now: OffsetDateTime,
    ) {
        let hour = now.unix_timestamp().div_euclid(3600);
        let entry = self.calls.entry(account.to_owned()).or_insert((hour, 0));
        if entry.0 != hour {
            self.last_hour_calls.insert(account.to_owned(), entry.1);
            *entry = (hour, 0);
        }
        entry.1 += calls.len() as u64;
        let key = (account.to_owned(), service);
        // A pause only ends by time; a run that saw no headers does not lift it.
        let keep_pause = self.is_paused(&key, now) && calls.iter().all(|c| c.usage.is_unknown());
        if !keep_pause && !calls.is_empty() {
            self.pace.insert(key.clone(), pace(calls, now));
        }
        let Some(base) = default_interval(service) else {
            return;
        };
        let runs = self.runs.entry(key.clone()).or_insert(0);
        *runs += 1;
        let runs = *runs;
        let factor = match self.pace_of(account, service) {
            Pace::Stretched { factor } => factor,
            _ => 1.0,
        };
        let secs = base.as_secs_f64() * factor * (1.0 + JITTER * jitter_unit(account, runs));
        let next = now + time::Duration::seconds_f64(secs.max(1.0));
        self.next.insert(key, next);
    }

    /// Calls the monitor itself made for `account` in the last complete hour (or so far).
    pub fn calls_per_hour(&self, account: &str) -> u64 {
        self.last_hour_calls
            .get(account)
            .copied()
            .or_else(|| self.calls.get(account).map(|(_, n)| *n))
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::rate_limit::{PlatformUsage, Usage};

    fn call(pct: Option<f64>, throttled: bool) -> CallRecord {
        CallRecord {
            endpoint: "me".into(),
            latency: Duration::from_millis(50),
            http_status: Some(if throttled { 400 } else { 200 }),
            usage: Usage {
                app: pct.map(|p| PlatformUsage {
                    call_count: Some(p),
                    total_cputime: None,
                    total_time: None,
                }),
                ..Usage::default()
            },
            error_class: throttled.then_some(ErrorClass::Throttled),
            graph_code: throttled.then_some(4),
        }
    }

    #[test]
    fn pace_rules() {
        let now = OffsetDateTime::UNIX_EPOCH;
        assert_eq!(pace(&[call(Some(10.0), false)], now), Pace::Normal);
        assert_eq!(
            pace(&[call(None, false)], now),
            Pace::Normal,
            "unknown usage is not a reason to slow down"
        );
        assert_eq!(
            pace(&[call(Some(75.0), false)], now),
            Pace::Stretched { factor: 1.0 }
        );
        assert_eq!(
            pace(&[call(Some(85.0), false)], now),
            Pace::Stretched { factor: 3.0 }
        );
        assert_eq!(
            pace(&[call(Some(90.0), false)], now),
            Pace::Paused {
                until: now + DEFAULT_PAUSE
            }
        );
        assert!(
            matches!(pace(&[call(Some(5.0), true)], now), Pace::Paused { .. }),
            "a throttle error pauses"
        );
    }

    #[test]
    fn a_day_of_schedule_runs_each_probe_at_its_interval() {
        let start = OffsetDateTime::from_unix_timestamp(1_790_000_000).expect("t0");
        let mut plan = Plan::default();
        plan.add_account("a", start);
        plan.add_account("b", start);
        let mut now = start;
        let mut counts: BTreeMap<(String, Service), u32> = BTreeMap::new();
        while now < start + time::Duration::days(1) {
            for (account, service) in plan.due(now) {
                *counts.entry((account.clone(), service)).or_default() += 1;
                plan.finished(&account, service, &[call(Some(20.0), false)], now);
            }
            now = plan
                .next_wake()
                .expect("something is scheduled")
                .max(now + time::Duration::seconds(1));
        }
        let runs = |s: Service| counts.get(&("a".to_owned(), s)).copied().unwrap_or(0);
        assert!(
            (1300..=1600).contains(&runs(Service::GraphApi)),
            "about one a minute: {}",
            runs(Service::GraphApi)
        );
        assert!(
            (130..=160).contains(&runs(Service::Pixel)),
            "every 10 min: {}",
            runs(Service::Pixel)
        );
        assert!(
            (88..=108).contains(&runs(Service::Ads)),
            "every 15 min: {}",
            runs(Service::Ads)
        );
        assert!(
            (4..=5).contains(&runs(Service::Token)),
            "at start and every 6 h: {}",
            runs(Service::Token)
        );
        assert_eq!(
            runs(Service::RateLimits),
            0,
            "rate limits are read from responses, not polled"
        );
        let a_next = plan.next.get(&("a".to_owned(), Service::GraphApi)).copied();
        let b_next = plan.next.get(&("b".to_owned(), Service::GraphApi)).copied();
        assert_ne!(a_next, b_next, "jitter keeps accounts out of lockstep");
        assert!(
            plan.calls_per_hour("a") > 60,
            "calls per hour are counted: {}",
            plan.calls_per_hour("a")
        );
    }

    #[test]
    fn high_usage_stretches_and_throttling_pauses_until_regain() {
        let start = OffsetDateTime::from_unix_timestamp(1_790_000_000).expect("t0");
        let mut plan = Plan::default();
        plan.add_account("a", start);
        plan.finished("a", Service::GraphApi, &[call(Some(85.0), false)], start);
        let next = plan.next[&("a".to_owned(), Service::GraphApi)];
        assert!(
            next - start >= time::Duration::seconds(160),
            "3× the minute, minus jitter: {}",
            next - start
        );

        let later = start + time::Duration::minutes(5);
        plan.finished("a", Service::Ads, &[call(Some(95.0), false)], later);
        let Pace::Paused { until } = plan.pace_of("a", Service::Ads) else {
            panic!("paused at 95 %")
        };
        let during = plan.due(until - time::Duration::seconds(1));
        assert!(
            !during.iter().any(|(_, s)| *s == Service::Ads),
            "the ads probe waits: {during:?}"
        );
        assert!(
            during.iter().any(|(_, s)| *s == Service::GraphApi),
            "other probes go on: {during:?}"
        );
        let after = plan.due(until + time::Duration::hours(7));
        assert!(
            after.iter().any(|(_, s)| *s == Service::Ads),
            "ads resumes after the pause"
        );
    }
}
