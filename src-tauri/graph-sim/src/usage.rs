//! Sliding-window call counters per bucket, as Meta's rate limiting behaves: usage falls as
//! calls age out of the rolling hour; calls made while blocked still count.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use crate::SimConfig;
use crate::scenario::Scenario;

pub const WINDOW: Duration = Duration::from_secs(3600);
/// Ads Management quota per hour, development tier: 300 + 40 × active ads (ads = 0 here).
pub const ADS_MANAGEMENT_QUOTA: u32 = 300;
/// Ads Insights quota per hour, standard tier: 600 + 400 × active ads.
pub const ADS_INSIGHTS_QUOTA: u32 = 600;

#[derive(Debug, Default)]
pub struct Windows {
    calls: HashMap<String, VecDeque<Instant>>,
}

/// The state of a bucket after counting one call.
#[derive(Debug, Clone, Copy)]
pub struct BucketState {
    pub pct: u32,
    pub blocked: bool,
    /// Minutes until the window drops below quota (0 when not blocked).
    pub regain_minutes: u64,
    /// Seconds until the bucket is empty again.
    pub reset_seconds: u64,
}

impl Windows {
    /// The windows a scenario starts with: `throttled` fills the ad account's buckets,
    /// `ads-disabled-throttled` only its Ads Insights bucket.
    pub fn for_scenario(scenario: Scenario, config: &SimConfig) -> Self {
        let mut w = Self::default();
        let now = Instant::now();
        let account = crate::AD_ACCOUNT.trim_start_matches("act_");
        if scenario.shows(Scenario::AdsDisabledThrottled) {
            w.prefill(
                &format!("ads_insights:{account}"),
                config.ads_insights_quota,
                now,
            );
        }
        if scenario.shows(Scenario::Throttled) {
            w.prefill(
                &format!("ads_management:{account}"),
                config.ads_management_quota,
                now,
            );
            w.prefill(
                &format!("ads_insights:{account}"),
                config.ads_insights_quota,
                now,
            );
            w.prefill("app", config.app_quota / 10 * 7, now);
        }
        w
    }

    /// `n` calls spread over the last 50 minutes.
    fn prefill(&mut self, bucket: &str, n: u32, now: Instant) {
        let q = self.calls.entry(bucket.to_owned()).or_default();
        for i in (0..n).rev() {
            let age = Duration::from_secs(u64::from(i) * 3000 / u64::from(n.max(1)));
            if let Some(t) = now.checked_sub(age) {
                q.push_back(t);
            }
        }
    }

    /// Counts one call against `bucket` (an hourly window) and reports its state.
    pub fn count(&mut self, bucket: &str, quota: u32, now: Instant) -> BucketState {
        self.count_in(bucket, quota, WINDOW, now)
    }

    /// Counts one call against `bucket` over a rolling `window`.
    pub fn count_in(
        &mut self,
        bucket: &str,
        quota: u32,
        window: Duration,
        now: Instant,
    ) -> BucketState {
        let quota = quota.max(1);
        let q = self.calls.entry(bucket.to_owned()).or_default();
        while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
            q.pop_front();
        }
        let blocked = q.len() >= quota as usize;
        q.push_back(now);
        let used = q.len();
        let pct = ((used as f64 * 100.0 / f64::from(quota)).round() as u32).min(100);
        let regain_minutes = if blocked {
            // The call that must age out before usage falls below quota.
            let index = used - quota as usize;
            q.get(index)
                .map(|t| {
                    (window.saturating_sub(now.duration_since(*t)))
                        .as_secs()
                        .div_ceil(60)
                        .max(1)
                })
                .unwrap_or(1)
        } else {
            0
        };
        let reset_seconds = q
            .back()
            .map(|t| window.saturating_sub(now.duration_since(*t)).as_secs())
            .unwrap_or(0);
        BucketState {
            pct,
            blocked,
            regain_minutes,
            reset_seconds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_rises_then_blocks_and_keeps_counting() {
        let mut w = Windows::default();
        let now = Instant::now();
        let first = w.count("b", 4, now);
        assert_eq!((first.pct, first.blocked), (25, false));
        for _ in 0..3 {
            w.count("b", 4, now);
        }
        let blocked = w.count("b", 4, now);
        assert!(
            blocked.blocked,
            "the fifth call in the hour is over a quota of 4"
        );
        assert_eq!(blocked.pct, 100, "percent is capped at 100");
        assert_eq!(
            blocked.regain_minutes, 60,
            "nothing ages out before the hour is over"
        );
        let later = w.count("b", 4, now + WINDOW + Duration::from_secs(1));
        assert!(!later.blocked, "the window rolled over");
    }
}
