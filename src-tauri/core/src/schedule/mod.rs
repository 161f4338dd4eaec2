//! The schedule: when each probe of each account runs next. Pure planning — intervals with
//! jitter, stretched when the usage headers of a probe's own calls pass the warning level and
//! paused until the regain time when they pass the pause level or Meta throttles — so days of
//! schedule can be replayed in a test. Pacing is per probe, so a throttled ad account pauses
//! the ads probe (its buckets) while `/me` goes on. The monitor module runs it.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use time::OffsetDateTime;

use crate::account::Monitoring;
use crate::graph::{CallRecord, ErrorClass};
use crate::tile::Service;

pub use crate::account::default_interval;

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

/// A rate-limit bucket the monitor spends: the app's platform quota (every call), the ad
/// account's BUC buckets (ads probe) and the catalog's (catalog probe).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    App,
    Ads,
    Catalog,
}

impl Bucket {
    pub const ALL: [Bucket; 3] = [Bucket::App, Bucket::Ads, Bucket::Catalog];

    /// The bucket's stored name (`app`, `ads`, `catalog`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::App => "app",
            Self::Ads => "ads",
            Self::Catalog => "catalog",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.as_str() == text)
    }

    /// The buckets a probe spends.
    pub fn spent_by(service: Service) -> &'static [Bucket] {
        match service {
            Service::Ads => &[Bucket::App, Bucket::Ads],
            Service::Catalog => &[Bucket::App, Bucket::Catalog],
            _ => &[Bucket::App],
        }
    }

    /// The bucket a usage counter belongs to (see `Usage::counters` for the names).
    fn of_counter(name: &str) -> Bucket {
        if name.starts_with("business.") {
            if name.contains(".catalog") {
                Bucket::Catalog
            } else {
                Bucket::Ads
            }
        } else if name.starts_with("ad_account.") || name.starts_with("insights.") {
            Bucket::Ads
        } else {
            Bucket::App
        }
    }

    /// The bucket a throttle error code blocks.
    fn of_code(code: Option<i64>) -> Bucket {
        match code {
            Some(613 | 80000 | 80003 | 80004 | 17) => Bucket::Ads,
            Some(80009 | 80014) => Bucket::Catalog,
            _ => Bucket::App,
        }
    }
}

/// The pure rule, per bucket seen in `calls`: usage below 75 % → normal; 75–90 % → intervals
/// stretched up to 4×; ≥ 90 % or a throttle error → paused until the regain time (or 10 min).
pub fn pace(calls: &[CallRecord], now: OffsetDateTime) -> BTreeMap<Bucket, Pace> {
    let mut max: BTreeMap<Bucket, f64> = BTreeMap::new();
    let mut throttled: BTreeMap<Bucket, bool> = BTreeMap::new();
    for call in calls {
        for counter in call.usage.counters() {
            let slot = max.entry(Bucket::of_counter(&counter.name)).or_insert(0.0);
            *slot = slot.max(counter.pct);
        }
        if call.error_class == Some(ErrorClass::Throttled) {
            throttled.insert(Bucket::of_code(call.graph_code), true);
        }
    }
    let regain = calls.iter().filter_map(|c| c.usage.regain_after()).max();
    let mut out = BTreeMap::new();
    for bucket in max
        .keys()
        .chain(throttled.keys())
        .copied()
        .collect::<std::collections::BTreeSet<_>>()
    {
        let pct = max.get(&bucket).copied();
        let pace = if throttled.contains_key(&bucket) || pct.is_some_and(|m| m >= PAUSE_AT_PCT) {
            let wait = if bucket == Bucket::App {
                DEFAULT_PAUSE
            } else {
                regain.unwrap_or(DEFAULT_PAUSE)
            };
            Pace::Paused {
                until: now + wait.max(Duration::from_secs(60)),
            }
        } else {
            match pct {
                Some(m) if m >= STRETCH_AT_PCT => Pace::Stretched {
                    factor: 1.0 + 3.0 * (m - STRETCH_AT_PCT) / (PAUSE_AT_PCT - STRETCH_AT_PCT),
                },
                _ => Pace::Normal,
            }
        };
        out.insert(bucket, pace);
    }
    out
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
    pace: BTreeMap<(String, Bucket), Pace>,
    /// Calls per account in the current hour, and the hour they belong to.
    calls: BTreeMap<String, (i64, u64)>,
    last_hour_calls: BTreeMap<String, u64>,
    /// Each account's own intervals (its settings).
    monitoring: BTreeMap<String, Monitoring>,
}

impl Plan {
    /// Schedules every polled service of `account` to run now, at the default intervals.
    pub fn add_account(&mut self, account: &str, now: OffsetDateTime) {
        self.add_account_with(account, &Monitoring::default(), now);
    }

    /// Schedules every polled service of `account` to run now, at its own intervals.
    pub fn add_account_with(
        &mut self,
        account: &str,
        monitoring: &Monitoring,
        now: OffsetDateTime,
    ) {
        for service in Service::ALL {
            if monitoring.interval(service).is_some() {
                self.next.insert((account.to_owned(), service), now);
            }
        }
        self.monitoring
            .insert(account.to_owned(), monitoring.clone());
    }

    /// The interval between runs of `service` for `account`.
    fn interval(&self, account: &str, service: Service) -> Option<Duration> {
        match self.monitoring.get(account) {
            Some(m) => m.interval(service),
            None => default_interval(service),
        }
    }

    pub fn remove_account(&mut self, account: &str) {
        self.monitoring.remove(account);
        self.next.retain(|(a, _), _| a != account);
        self.pace.retain(|(a, _), _| a != account);
    }

    /// The services due at `now`; a service whose buckets are paused waits.
    pub fn due(&self, now: OffsetDateTime) -> Vec<(String, Service)> {
        self.next
            .iter()
            .filter(|((account, service), at)| {
                **at <= now && self.paused_until(account, *service, now).is_none()
            })
            .map(|(key, _)| key.clone())
            .collect()
    }

    /// The earliest time anything is due (a pause moves its services' work to its end).
    pub fn next_wake(&self) -> Option<OffsetDateTime> {
        self.next
            .iter()
            .map(|((account, service), at)| {
                let until = Bucket::spent_by(*service).iter().filter_map(|b| {
                    match self.pace.get(&(account.clone(), *b)) {
                        Some(Pace::Paused { until }) => Some(*until),
                        _ => None,
                    }
                });
                until.fold(*at, OffsetDateTime::max)
            })
            .min()
    }

    /// The pace of one bucket of an account.
    pub fn pace_of(&self, account: &str, bucket: Bucket) -> Pace {
        self.pace
            .get(&(account.to_owned(), bucket))
            .copied()
            .unwrap_or(Pace::Normal)
    }

    /// Takes over a pause recorded earlier (by this process before a restart, or by another
    /// process on the same database); a pause already over is ignored.
    pub fn restore_pause(
        &mut self,
        account: &str,
        bucket: Bucket,
        until: OffsetDateTime,
        now: OffsetDateTime,
    ) {
        let key = (account.to_owned(), bucket);
        let longer = match self.pace.get(&key) {
            Some(Pace::Paused { until: current }) => until > *current,
            _ => true,
        };
        if until > now && longer {
            self.pace.insert(key, Pace::Paused { until });
        }
    }

    /// The account's buckets paused beyond `now`, with when each pause ends.
    pub fn pauses(&self, account: &str, now: OffsetDateTime) -> Vec<(Bucket, OffsetDateTime)> {
        Bucket::ALL
            .into_iter()
            .filter_map(|b| match self.pace_of(account, b) {
                Pace::Paused { until } if until > now => Some((b, until)),
                _ => None,
            })
            .collect()
    }

    /// When a service's buckets are paused past `now`, until when.
    pub fn paused_until(
        &self,
        account: &str,
        service: Service,
        now: OffsetDateTime,
    ) -> Option<OffsetDateTime> {
        Bucket::spent_by(service)
            .iter()
            .filter_map(|b| match self.pace_of(account, *b) {
                Pace::Paused { until } if until > now => Some(until),
                _ => None,
            })
            .max()
    }

    /// Records a run of `service` that made `calls`, updates the pace of every bucket their
    /// headers speak of, and schedules the next run (interval × stretch, ± jitter).
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
        for (bucket, new_pace) in pace(calls, now) {
            // A pause ends by time only, never early because a call still got through.
            let key = (account.to_owned(), bucket);
            let paused =
                matches!(self.pace.get(&key), Some(Pace::Paused { until }) if *until > now);
            if !paused || matches!(new_pace, Pace::Paused { .. }) {
                self.pace.insert(key, new_pace);
            }
        }
        let Some(base) = self.interval(account, service) else {
            return;
        };
        let key = (account.to_owned(), service);
        let runs = self.runs.entry(key.clone()).or_insert(0);
        *runs += 1;
        let runs = *runs;
        let factor = Bucket::spent_by(service)
            .iter()
            .map(|b| match self.pace_of(account, *b) {
                Pace::Stretched { factor } => factor,
                _ => 1.0,
            })
            .fold(1.0, f64::max);
        let secs = base.as_secs_f64() * factor * (1.0 + JITTER * jitter_unit(account, runs));
        self.next
            .insert(key, now + time::Duration::seconds_f64(secs.max(1.0)));
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

    #[test]
    fn each_account_keeps_its_own_intervals() {
        let start = OffsetDateTime::UNIX_EPOCH;
        let mut plan = Plan::default();
        let slow = Monitoring {
            graph_api_minutes: 10,
            ..Monitoring::default()
        };
        plan.add_account_with("slow", &slow, start);
        plan.add_account("default", start);
        for name in ["slow", "default"] {
            plan.finished(name, Service::GraphApi, &[], start);
        }
        let at = |name: &str| plan.next[&(name.to_owned(), Service::GraphApi)] - start;
        assert!(
            (9.0..=11.0).contains(&(at("slow").as_seconds_f64() / 60.0)),
            "10 min ± jitter: {}",
            at("slow")
        );
        assert!(
            (0.9..=1.1).contains(&(at("default").as_seconds_f64() / 60.0)),
            "1 min ± jitter: {}",
            at("default")
        );
    }
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
        let app = |calls: &[CallRecord]| pace(calls, now).get(&Bucket::App).copied();
        assert_eq!(app(&[call(Some(10.0), false)]), Some(Pace::Normal));
        assert_eq!(
            app(&[call(None, false)]),
            None,
            "unknown usage says nothing about the bucket"
        );
        assert_eq!(
            app(&[call(Some(75.0), false)]),
            Some(Pace::Stretched { factor: 1.0 })
        );
        assert_eq!(
            app(&[call(Some(85.0), false)]),
            Some(Pace::Stretched { factor: 3.0 })
        );
        assert_eq!(
            app(&[call(Some(90.0), false)]),
            Some(Pace::Paused {
                until: now + DEFAULT_PAUSE
            })
        );
        assert!(
            matches!(app(&[call(Some(5.0), true)]), Some(Pace::Paused { .. })),
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
        let mut business = BTreeMap::new();
        business.insert(
            "2369703843357278".to_owned(),
            vec![crate::graph::rate_limit::BusinessUsage {
                kind: "ads_management".into(),
                call_count: Some(100.0),
                total_cputime: Some(10.0),
                total_time: Some(10.0),
                regain_after: Some(Duration::from_secs(12 * 60)),
                access_tier: None,
            }],
        );
        let blocked = CallRecord {
            usage: Usage {
                business: Some(business),
                ..Usage::default()
            },
            error_class: Some(ErrorClass::Throttled),
            graph_code: Some(80004),
            ..call(None, false)
        };
        plan.finished("a", Service::Ads, &[blocked], later);
        assert_eq!(
            plan.pace_of("a", Bucket::Ads),
            Pace::Paused {
                until: later + time::Duration::minutes(12)
            },
            "paused until Meta's regain time"
        );
        assert_eq!(
            plan.pace_of("a", Bucket::App),
            Pace::Stretched { factor: 3.0 },
            "the app bucket is its own"
        );
        let until = later + time::Duration::minutes(12);
        let during = plan.due(until - time::Duration::seconds(1));
        assert!(
            !during.iter().any(|(_, s)| *s == Service::Ads),
            "the ads probe waits: {during:?}"
        );
        assert!(
            during.iter().any(|(_, s)| *s == Service::GraphApi),
            "/me goes on: {during:?}"
        );
        let after = plan.due(until + time::Duration::hours(7));
        assert!(
            after.iter().any(|(_, s)| *s == Service::Ads),
            "ads resumes after the pause"
        );

        // The app bucket at 92 %: every probe spends it, so every probe waits.
        let t = until + time::Duration::hours(8);
        plan.finished("a", Service::GraphApi, &[call(Some(92.0), false)], t);
        assert!(
            plan.due(t + time::Duration::seconds(1)).is_empty(),
            "all wait for the app bucket"
        );
        assert!(
            plan.next_wake().is_some_and(|w| w >= t + DEFAULT_PAUSE),
            "and wake after it"
        );
    }
}
