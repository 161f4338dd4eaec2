//! Tiered history: raw points kept 48 h, hourly rollups 90 days, daily rollups 2 years,
//! status transitions 1 year. Each rollup keeps count/sum/min/max and a mergeable sketch, so a
//! chart over any window from an hour to a year is built from the coarsest tier that covers
//! it, with at most a bounded number of points. Rolling up and pruning is a periodic job.

use std::collections::BTreeMap;
use std::time::Duration;

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use time::OffsetDateTime;

use super::{Store, StoreError, from_ms, to_ms};
use crate::sketch::Sketch;

pub const RAW_RETENTION: Duration = Duration::from_secs(48 * 3600);
pub const HOURLY_RETENTION: Duration = Duration::from_secs(90 * 86_400);
pub const DAILY_RETENTION: Duration = Duration::from_secs(2 * 365 * 86_400);
pub const TRANSITION_RETENTION: Duration = Duration::from_secs(365 * 86_400);
/// How often the roll-up-and-prune job runs.
pub const JOB_INTERVAL: Duration = Duration::from_secs(3600);
/// No chart query returns more points than this.
pub const MAX_CHART_POINTS: usize = 500;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// One point of a chart: the statistics of every sample in `[at, at + width)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChartPoint {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub count: u64,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
}

/// What one job run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobReport {
    pub hourly_rows: usize,
    pub daily_rows: usize,
    pub pruned: usize,
}

#[derive(Default)]
struct Bucket {
    sketch: Sketch,
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
}

impl Bucket {
    fn add(&mut self, value: f64) {
        self.absorb(1, value, value, value, None);
        self.sketch.add(value);
    }

    fn absorb(&mut self, count: u64, sum: f64, min: f64, max: f64, sketch: Option<&Sketch>) {
        if self.count == 0 {
            (self.min, self.max) = (min, max);
        } else {
            self.min = self.min.min(min);
            self.max = self.max.max(max);
        }
        self.count += count;
        self.sum += sum;
        if let Some(s) = sketch {
            // Same configuration on both sides; a failure would mean a corrupt row, skipped.
            let _ = self.sketch.merge(s);
        }
    }

    fn point(&self, at: OffsetDateTime) -> ChartPoint {
        let q = |q: f64| self.sketch.quantile(q).unwrap_or(f64::NAN);
        ChartPoint {
            at,
            count: self.count,
            mean: self.sum / self.count.max(1) as f64,
            min: self.min,
            max: self.max,
            p50: q(0.5),
            p95: q(0.95),
            p99: q(0.99),
        }
    }
}

/// How far a tier of an account is rolled up (exclusive), if at all.
fn watermark(
    conn: &rusqlite::Connection,
    account_id: i64,
    tier: &str,
) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT up_to_ms FROM rollup_watermarks WHERE account_id = ?1 AND tier = ?2",
            params![account_id, tier],
            |r| r.get(0),
        )
        .optional()?)
}

fn floor(ms: i64, unit: i64) -> i64 {
    ms.div_euclid(unit) * unit
}

fn dur_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Store {
    /// Runs the job when it has not run for [`JOB_INTERVAL`]; returns whether it ran.
    pub fn maintain_if_due(
        &mut self,
        now: OffsetDateTime,
    ) -> Result<Option<JobReport>, StoreError> {
        let last: Option<i64> = self
            .conn()
            .query_row(
                "SELECT last_run_ms FROM jobs WHERE name = 'rollup'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        if last.is_some_and(|l| to_ms(now) - l < dur_ms(JOB_INTERVAL)) {
            return Ok(None);
        }
        let report = self.roll_up_and_prune(now)?;
        self.conn().execute(
            "INSERT INTO jobs (name, last_run_ms) VALUES ('rollup', ?1)
             ON CONFLICT (name) DO UPDATE SET last_run_ms = excluded.last_run_ms",
            [to_ms(now)],
        )?;
        Ok(Some(report))
    }

    /// Rolls complete hours of raw points into hourly rows and complete days of hourly rows
    /// into daily rows (idempotent, from each tier's watermark), then prunes what has aged
    /// out. Raw points are never pruned before they are rolled up.
    pub fn roll_up_and_prune(&mut self, now: OffsetDateTime) -> Result<JobReport, StoreError> {
        let now_ms = to_ms(now);
        let (this_hour, today) = (floor(now_ms, HOUR_MS), floor(now_ms, DAY_MS));
        let accounts: Vec<i64> = {
            let mut stmt = self.conn().prepare("SELECT id FROM accounts")?;
            stmt.query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
        let mut report = JobReport::default();
        let tx = self.conn_mut().transaction()?;
        let store_tx = TxStore(&tx);
        for account in accounts {
            report.hourly_rows += store_tx.roll_hours(account, this_hour)?;
            report.daily_rows += store_tx.roll_days(account, today)?;
        }
        let raw_cut = now_ms - dur_ms(RAW_RETENTION);
        report.pruned += tx.execute(
            "DELETE FROM metric_points WHERE at_ms < ?1 AND at_ms < COALESCE(
               (SELECT up_to_ms FROM rollup_watermarks w WHERE w.account_id = metric_points.account_id
                AND w.tier = 'hour'), 0)",
            [raw_cut],
        )?;
        report.pruned += tx.execute("DELETE FROM probe_runs WHERE at_ms < ?1", [raw_cut])?;
        report.pruned += tx.execute(
            "DELETE FROM rollups WHERE tier = 'hour' AND bucket_ms < ?1",
            [now_ms - dur_ms(HOURLY_RETENTION)],
        )?;
        report.pruned += tx.execute(
            "DELETE FROM rollups WHERE tier = 'day' AND bucket_ms < ?1",
            [now_ms - dur_ms(DAILY_RETENTION)],
        )?;
        report.pruned += tx.execute(
            "DELETE FROM status_transitions WHERE at_ms < ?1",
            [now_ms - dur_ms(TRANSITION_RETENTION)],
        )?;
        report.pruned += tx.execute(
            "DELETE FROM notifications WHERE at_ms < ?1",
            [now_ms - dur_ms(TRANSITION_RETENTION)],
        )?;
        tx.commit()?;
        Ok(report)
    }

    /// A chart of `name` over `[from, to)` with at most `max_points` points (capped at
    /// [`MAX_CHART_POINTS`]), from raw points, hourly or daily rollups — whichever is the
    /// finest tier still holding the whole window — plus finer data not yet rolled up.
    pub fn chart(
        &self,
        account_id: i64,
        name: &str,
        from: OffsetDateTime,
        to: OffsetDateTime,
        max_points: usize,
        now: OffsetDateTime,
    ) -> Result<Vec<ChartPoint>, StoreError> {
        let (from_ms_, to_ms_) = (to_ms(from), to_ms(to));
        if to_ms_ <= from_ms_ {
            return Ok(Vec::new());
        }
        let n = max_points.clamp(1, MAX_CHART_POINTS) as i64;
        let width = ((to_ms_ - from_ms_) + n - 1) / n;
        let mut buckets: BTreeMap<i64, Bucket> = BTreeMap::new();
        let mut put = |at: i64, f: &mut dyn FnMut(&mut Bucket)| {
            if (from_ms_..to_ms_).contains(&at) {
                let index = (at - from_ms_) / width;
                f(buckets.entry(index).or_default());
            }
        };
        let age = to_ms(now) - from_ms_;
        let hour_mark = watermark(self.conn(), account_id, "hour")?.unwrap_or(i64::MIN);
        let day_mark = watermark(self.conn(), account_id, "day")?.unwrap_or(i64::MIN);
        // Which tier covers the start of the window; finer tiers fill in after its watermark.
        let (use_day, use_hour) = if age > dur_ms(HOURLY_RETENTION) {
            (true, true)
        } else if age > dur_ms(RAW_RETENTION) {
            (false, true)
        } else {
            (false, false)
        };
        let mut covered = from_ms_;
        if use_day {
            for (at, count, sum, min, max, sketch) in
                self.rollup_rows(account_id, name, "day", from_ms_, to_ms_.min(day_mark))?
            {
                put(at, &mut |b| b.absorb(count, sum, min, max, Some(&sketch)));
            }
            covered = covered.max(day_mark);
        }
        if use_hour {
            for (at, count, sum, min, max, sketch) in
                self.rollup_rows(account_id, name, "hour", covered, to_ms_.min(hour_mark))?
            {
                put(at, &mut |b| b.absorb(count, sum, min, max, Some(&sketch)));
            }
            covered = covered.max(hour_mark);
        }
        let mut stmt = self.conn().prepare_cached(
            "SELECT at_ms, value FROM metric_points WHERE account_id = ?1 AND name = ?2
             AND at_ms >= ?3 AND at_ms < ?4",
        )?;
        let raw = stmt
            .query_map(params![account_id, name, covered, to_ms_], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, f64>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        for (at, value) in raw {
            put(at, &mut |b| b.add(value));
        }
        buckets
            .into_iter()
            .map(|(index, b)| Ok(b.point(from_ms(from_ms_ + index * width)?)))
            .collect()
    }

    #[allow(clippy::type_complexity, reason = "a private row tuple")]
    fn rollup_rows(
        &self,
        account_id: i64,
        name: &str,
        tier: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<(i64, u64, f64, f64, f64, Sketch)>, StoreError> {
        if to <= from {
            return Ok(Vec::new());
        }
        let mut stmt = self.conn().prepare_cached(
            "SELECT bucket_ms, count, sum, min, max, sketch FROM rollups
             WHERE account_id = ?1 AND name = ?2 AND tier = ?3 AND bucket_ms >= ?4 AND bucket_ms < ?5
             ORDER BY bucket_ms",
        )?;
        let rows = stmt
            .query_map(params![account_id, name, tier, from, to], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get::<_, Vec<u8>>(5)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(at, count, sum, min, max, blob)| {
                let sketch = Sketch::decode(&blob).map_err(StoreError::Corrupt)?;
                Ok((at, u64::try_from(count).unwrap_or(0), sum, min, max, sketch))
            })
            .collect()
    }
}

/// The rollup steps, run inside the job's transaction.
struct TxStore<'a>(&'a rusqlite::Transaction<'a>);

impl TxStore<'_> {
    fn mark(&self, account_id: i64, tier: &str) -> Result<Option<i64>, StoreError> {
        watermark(self.0, account_id, tier)
    }

    fn set_mark(&self, account_id: i64, tier: &str, up_to: i64) -> Result<(), StoreError> {
        self.0.execute(
            "INSERT INTO rollup_watermarks (account_id, tier, up_to_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT (account_id, tier) DO UPDATE SET up_to_ms = excluded.up_to_ms",
            params![account_id, tier, up_to],
        )?;
        Ok(())
    }

    fn write(
        &self,
        account_id: i64,
        tier: &str,
        rows: BTreeMap<(String, i64), Bucket>,
    ) -> Result<usize, StoreError> {
        let mut stmt = self.0.prepare_cached(
            "INSERT OR REPLACE INTO rollups (account_id, name, tier, bucket_ms, count, sum, min, max, sketch)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        let n = rows.len();
        for ((name, bucket), b) in rows {
            let count = i64::try_from(b.count).unwrap_or(i64::MAX);
            stmt.execute(params![
                account_id,
                name,
                tier,
                bucket,
                count,
                b.sum,
                b.min,
                b.max,
                b.sketch.encode()
            ])?;
        }
        Ok(n)
    }

    /// Raw points of complete hours since the hourly watermark → hourly rows.
    fn roll_hours(&self, account_id: i64, this_hour: i64) -> Result<usize, StoreError> {
        let start = match self.mark(account_id, "hour")? {
            Some(m) => m,
            None => {
                let first: Option<i64> = self.0.query_row(
                    "SELECT MIN(at_ms) FROM metric_points WHERE account_id = ?1",
                    [account_id],
                    |r| r.get(0),
                )?;
                match first {
                    Some(f) => floor(f, HOUR_MS),
                    None => return Ok(0),
                }
            }
        };
        if start >= this_hour {
            return Ok(0);
        }
        let mut stmt = self.0.prepare_cached(
            "SELECT name, at_ms, value FROM metric_points WHERE account_id = ?1 AND at_ms >= ?2 AND at_ms < ?3",
        )?;
        let mut rows: BTreeMap<(String, i64), Bucket> = BTreeMap::new();
        let points = stmt.query_map(params![account_id, start, this_hour], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, f64>(2)?,
            ))
        })?;
        for point in points {
            let (name, at, value) = point?;
            rows.entry((name, floor(at, HOUR_MS)))
                .or_default()
                .add(value);
        }
        let n = self.write(account_id, "hour", rows)?;
        self.set_mark(account_id, "hour", this_hour)?;
        Ok(n)
    }

    /// Hourly rows of complete days since the daily watermark → daily rows.
    fn roll_days(&self, account_id: i64, today: i64) -> Result<usize, StoreError> {
        let start = match self.mark(account_id, "day")? {
            Some(m) => m,
            None => {
                let first: Option<i64> = self.0.query_row(
                    "SELECT MIN(bucket_ms) FROM rollups WHERE account_id = ?1 AND tier = 'hour'",
                    [account_id],
                    |r| r.get(0),
                )?;
                match first {
                    Some(f) => floor(f, DAY_MS),
                    None => return Ok(0),
                }
            }
        };
        // Only days whose hours are all rolled up.
        let hour_mark = self.mark(account_id, "hour")?.unwrap_or(start);
        let end = today.min(floor(hour_mark, DAY_MS));
        if start >= end {
            return Ok(0);
        }
        let mut stmt = self.0.prepare_cached(
            "SELECT name, bucket_ms, count, sum, min, max, sketch FROM rollups
             WHERE account_id = ?1 AND tier = 'hour' AND bucket_ms >= ?2 AND bucket_ms < ?3",
        )?;
        let mut rows: BTreeMap<(String, i64), Bucket> = BTreeMap::new();
        let hours = stmt.query_map(params![account_id, start, end], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, f64>(3)?,
                r.get::<_, f64>(4)?,
                r.get::<_, f64>(5)?,
                r.get::<_, Vec<u8>>(6)?,
            ))
        })?;
        for hour in hours {
            let (name, at, count, sum, min, max, blob) = hour?;
            let sketch = Sketch::decode(&blob).map_err(StoreError::Corrupt)?;
            rows.entry((name, floor(at, DAY_MS))).or_default().absorb(
                u64::try_from(count).unwrap_or(0),
                sum,
                min,
                max,
                Some(&sketch),
            );
        }
        let n = self.write(account_id, "day", rows)?;
        self.set_mark(account_id, "day", end)?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Account;
    use crate::sketch::RELATIVE_ACCURACY;

    fn latency(i: u64) -> f64 {
        // A skewed, deterministic latency distribution: mostly 80–200 ms, a tail to 2.5 s.
        let x = (i.wrapping_mul(2_654_435_761) % 10_000) as f64 / 10_000.0;
        if x < 0.9 {
            80.0 + 120.0 * x
        } else {
            200.0 + 23_000.0 * (x - 0.9)
        }
    }

    #[test]
    fn thirty_days_of_rollups_answer_percentiles_within_the_sketch_error() {
        let mut store = Store::in_memory().expect("store");
        let start =
            OffsetDateTime::from_unix_timestamp(1_780_000_000 / 86_400 * 86_400).expect("t0");
        let id = store
            .add_account(&Account::new("a"), start)
            .expect("account");
        let step = time::Duration::minutes(5);
        let mut all = Vec::new();
        let mut now = start;
        let end = start + time::Duration::days(30);
        let mut i = 0u64;
        while now < end {
            let v = latency(i);
            all.push(v);
            store
                .insert_points(id, now, &[("meta.api.latency_ms".to_owned(), v)])
                .expect("insert");
            i += 1;
            now += step;
            store.maintain_if_due(now).expect("job");
        }
        let raw_left: i64 = store
            .conn()
            .query_row("SELECT COUNT(*) FROM metric_points", [], |r| r.get(0))
            .expect("count");
        assert!(
            raw_left <= 48 * 12 + 24,
            "raw points beyond 48 h are pruned: {raw_left}"
        );

        let whole = store
            .chart(id, "meta.api.latency_ms", start, end, 1, end)
            .expect("chart");
        assert_eq!(whole.len(), 1, "one bucket asked, one given");
        assert_eq!(
            whole[0].count as usize,
            all.len(),
            "every sample counted once across tiers"
        );
        all.sort_by(f64::total_cmp);
        for (q, got) in [
            (0.5, whole[0].p50),
            (0.95, whole[0].p95),
            (0.99, whole[0].p99),
        ] {
            let truth = all[(q * (all.len() - 1) as f64) as usize];
            assert!(
                (got - truth).abs() <= truth * RELATIVE_ACCURACY,
                "p{}: {got} vs exact {truth}",
                q * 100.0
            );
        }
        for (days, cap) in [(1, 24), (7, 168), (30, 500)] {
            let from = end - time::Duration::days(days);
            let points = store
                .chart(id, "meta.api.latency_ms", from, end, cap, end)
                .expect("chart");
            assert!(
                !points.is_empty() && points.len() <= cap,
                "{days} d: {} points",
                points.len()
            );
        }
        store.roll_up_and_prune(end).expect("catch up to the end");
        let again = store.roll_up_and_prune(end).expect("rerun");
        assert_eq!(
            (again.hourly_rows, again.daily_rows),
            (0, 0),
            "the job is idempotent"
        );
    }
}
