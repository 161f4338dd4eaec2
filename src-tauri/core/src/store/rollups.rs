//! Tiered history: raw points kept 48 h, hourly rollups 90 days, daily rollups 2 years,
//! status transitions 1 year. Each rollup keeps count/sum/min/max, and for distributions
//! (latencies) a mergeable sketch, so a chart over any window from an hour to a year is built
//! from the coarsest tier that covers it, with at most a bounded number of points and
//! percentiles that are merged, never averaged. Rolling up and pruning is a periodic job.

use std::collections::BTreeMap;
use std::time::Duration;

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use time::OffsetDateTime;

use super::metrics::is_distribution;
use super::{Store, StoreError, from_ms, to_ms};
use crate::sketch::Sketch;

pub const RAW_RETENTION: Duration = Duration::from_secs(48 * 3600);
pub const HOURLY_RETENTION: Duration = Duration::from_secs(90 * 86_400);
pub const DAILY_RETENTION: Duration = Duration::from_secs(2 * 365 * 86_400);
pub const TRANSITION_RETENTION: Duration = Duration::from_secs(365 * 86_400);
/// The Conversions API event log: 90 days.
pub const SENT_EVENTS_RETENTION: Duration = Duration::from_secs(90 * 86_400);
/// How often the roll-up-and-prune job runs.
pub const JOB_INTERVAL: Duration = Duration::from_secs(3600);
/// No chart query returns more points than this.
pub const MAX_CHART_POINTS: usize = 500;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// One point of a chart: the statistics of every sample in `[at, at + width)`. Percentiles
/// are given for distributions (latencies) only.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct ChartPoint {
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub at: OffsetDateTime,
    pub count: u64,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
}

/// What one job run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobReport {
    pub hourly_rows: usize,
    pub daily_rows: usize,
    pub pruned: usize,
}

/// The statistics of one bucket; the sketch is kept only for distributions.
struct Bucket {
    sketch: Option<Sketch>,
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
}

impl Bucket {
    fn new(distribution: bool) -> Self {
        Self {
            sketch: distribution.then(Sketch::default),
            count: 0,
            sum: 0.0,
            min: 0.0,
            max: 0.0,
        }
    }

    fn add(&mut self, value: f64) {
        self.absorb(1, value, value, value, None);
        if let Some(s) = &mut self.sketch {
            s.add(value);
        }
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
        if let (Some(mine), Some(theirs)) = (&mut self.sketch, sketch) {
            // Same configuration on both sides; a failure would mean a corrupt row, skipped.
            let _ = mine.merge(theirs);
        }
    }

    fn point(&self, at: OffsetDateTime) -> ChartPoint {
        let q = |q: f64| self.sketch.as_ref().and_then(|s| s.quantile(q));
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

/// A stored rollup row.
struct RollupRow {
    series_id: i64,
    at: i64,
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
    sketch: Option<Sketch>,
}

impl RollupRow {
    fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Self, Option<Vec<u8>>)> {
        Ok((
            Self {
                series_id: r.get(0)?,
                at: r.get(1)?,
                count: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                sum: r.get(3)?,
                min: r.get(4)?,
                max: r.get(5)?,
                sketch: None,
            },
            r.get(6)?,
        ))
    }

    fn decode((mut row, blob): (Self, Option<Vec<u8>>)) -> Result<Self, StoreError> {
        row.sketch = blob
            .map(|b| Sketch::decode(&b).map_err(StoreError::Corrupt))
            .transpose()?;
        Ok(row)
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
            .prepare_cached("SELECT last_run_ms FROM jobs WHERE name = 'rollup'")?
            .query_row([], |r| r.get(0))
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
    /// out. Raw points are never pruned before they are rolled up. Every delete walks an
    /// index by account or series, never the whole table.
    pub fn roll_up_and_prune(&mut self, now: OffsetDateTime) -> Result<JobReport, StoreError> {
        let now_ms = to_ms(now);
        let (this_hour, today) = (floor(now_ms, HOUR_MS), floor(now_ms, DAY_MS));
        let accounts: Vec<i64> = {
            let mut stmt = self.conn().prepare("SELECT id FROM accounts")?;
            stmt.query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
        let mut report = JobReport::default();
        let tx = self.conn_mut().savepoint()?;
        let store_tx = TxStore(&tx);
        let raw_cut = now_ms - dur_ms(RAW_RETENTION);
        for account in accounts {
            report.hourly_rows += store_tx.roll_hours(account, this_hour)?;
            report.daily_rows += store_tx.roll_days(account, today)?;
            let rolled = store_tx.mark(account, "hour")?.unwrap_or(i64::MIN);
            report.pruned += tx.execute(
                "DELETE FROM points WHERE series_id IN (SELECT id FROM series WHERE account_id = ?1)
                 AND at_ms < ?2",
                params![account, raw_cut.min(rolled)],
            )?;
        }
        let all_accounts = "account_id IN (SELECT id FROM accounts)";
        report.pruned += tx.execute(
            &format!("DELETE FROM probe_runs WHERE {all_accounts} AND at_ms < ?1"),
            [raw_cut],
        )?;
        for (tier, keep) in [("hour", HOURLY_RETENTION), ("day", DAILY_RETENTION)] {
            report.pruned += tx.execute(
                "DELETE FROM series_rollups WHERE series_id IN (SELECT id FROM series)
                 AND tier = ?1 AND bucket_ms < ?2",
                params![tier, now_ms - dur_ms(keep)],
            )?;
        }
        for table in ["status_transitions", "notifications"] {
            report.pruned += tx.execute(
                &format!("DELETE FROM {table} WHERE {all_accounts} AND at_ms < ?1"),
                [now_ms - dur_ms(TRANSITION_RETENTION)],
            )?;
        }
        report.pruned += tx.execute(
            "DELETE FROM sent_events WHERE sent_at_ms < ?1",
            [now_ms - dur_ms(SENT_EVENTS_RETENTION)],
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
        let series: Option<i64> = self
            .conn()
            .prepare_cached("SELECT id FROM series WHERE account_id = ?1 AND name = ?2")?
            .query_row(params![account_id, name], |r| r.get(0))
            .optional()?;
        let Some(series) = series.filter(|_| to_ms_ > from_ms_) else {
            return Ok(Vec::new());
        };
        let distribution = is_distribution(name);
        let n = max_points.clamp(1, MAX_CHART_POINTS) as i64;
        let width = ((to_ms_ - from_ms_) + n - 1) / n;
        let mut buckets: BTreeMap<i64, Bucket> = BTreeMap::new();
        let mut put = |at: i64, f: &mut dyn FnMut(&mut Bucket)| {
            if (from_ms_..to_ms_).contains(&at) {
                let index = (at - from_ms_) / width;
                f(buckets
                    .entry(index)
                    .or_insert_with(|| Bucket::new(distribution)));
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
        for (tier, used, mark) in [("day", use_day, day_mark), ("hour", use_hour, hour_mark)] {
            if !used {
                continue;
            }
            for row in self.rollup_rows(series, tier, covered, to_ms_.min(mark))? {
                put(row.at, &mut |b| {
                    b.absorb(row.count, row.sum, row.min, row.max, row.sketch.as_ref())
                });
            }
            covered = covered.max(mark);
        }
        let mut stmt = self.conn().prepare_cached(
            "SELECT at_ms, value FROM points WHERE series_id = ?1 AND at_ms >= ?2 AND at_ms < ?3",
        )?;
        let raw = stmt
            .query_map(params![series, covered, to_ms_], |r| {
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

    fn rollup_rows(
        &self,
        series: i64,
        tier: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<RollupRow>, StoreError> {
        if to <= from {
            return Ok(Vec::new());
        }
        let mut stmt = self.conn().prepare_cached(
            "SELECT series_id, bucket_ms, count, sum, min, max, sketch FROM series_rollups
             WHERE series_id = ?1 AND tier = ?2 AND bucket_ms >= ?3 AND bucket_ms < ?4
             ORDER BY bucket_ms",
        )?;
        let rows = stmt
            .query_map(params![series, tier, from, to], RollupRow::read)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(RollupRow::decode).collect()
    }
}

/// The rollup steps, run inside the job's transaction.
struct TxStore<'a>(&'a rusqlite::Connection);

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

    /// Which of the account's series are distributions, by id.
    fn distributions(&self, account_id: i64) -> Result<BTreeMap<i64, bool>, StoreError> {
        let mut stmt = self
            .0
            .prepare_cached("SELECT id, name FROM series WHERE account_id = ?1")?;
        let rows = stmt.query_map([account_id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                is_distribution(&r.get::<_, String>(1)?),
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn write(&self, tier: &str, rows: BTreeMap<(i64, i64), Bucket>) -> Result<usize, StoreError> {
        let mut stmt = self.0.prepare_cached(
            "INSERT OR REPLACE INTO series_rollups (series_id, tier, bucket_ms, count, sum, min, max, sketch)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        let n = rows.len();
        for ((series, bucket), b) in rows {
            let count = i64::try_from(b.count).unwrap_or(i64::MAX);
            let sketch = b.sketch.as_ref().map(Sketch::encode);
            stmt.execute(params![
                series, tier, bucket, count, b.sum, b.min, b.max, sketch
            ])?;
        }
        Ok(n)
    }

    /// Where a tier's rollup starts: its watermark, else the hour or day of the oldest data
    /// below it (`first` gives that oldest time).
    fn start(
        &self,
        account_id: i64,
        tier: &str,
        first: &str,
        unit: i64,
    ) -> Result<Option<i64>, StoreError> {
        if let Some(m) = self.mark(account_id, tier)? {
            return Ok(Some(m));
        }
        let oldest: Option<i64> = self.0.query_row(first, [account_id], |r| r.get(0))?;
        Ok(oldest.map(|f| floor(f, unit)))
    }

    /// Raw points of complete hours since the hourly watermark → hourly rows.
    fn roll_hours(&self, account_id: i64, this_hour: i64) -> Result<usize, StoreError> {
        let Some(start) = self.start(
            account_id,
            "hour",
            "SELECT MIN(p.at_ms) FROM series s JOIN points p ON p.series_id = s.id
             WHERE s.account_id = ?1",
            HOUR_MS,
        )?
        else {
            return Ok(0);
        };
        if start >= this_hour {
            return Ok(0);
        }
        let kinds = self.distributions(account_id)?;
        let mut stmt = self.0.prepare_cached(
            "SELECT p.series_id, p.at_ms, p.value FROM series s JOIN points p ON p.series_id = s.id
             WHERE s.account_id = ?1 AND p.at_ms >= ?2 AND p.at_ms < ?3",
        )?;
        let mut rows: BTreeMap<(i64, i64), Bucket> = BTreeMap::new();
        let points = stmt.query_map(params![account_id, start, this_hour], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, f64>(2)?,
            ))
        })?;
        for point in points {
            let (series, at, value) = point?;
            let distribution = kinds.get(&series).copied().unwrap_or(false);
            rows.entry((series, floor(at, HOUR_MS)))
                .or_insert_with(|| Bucket::new(distribution))
                .add(value);
        }
        let n = self.write("hour", rows)?;
        self.set_mark(account_id, "hour", this_hour)?;
        Ok(n)
    }

    /// Hourly rows of complete days since the daily watermark → daily rows.
    fn roll_days(&self, account_id: i64, today: i64) -> Result<usize, StoreError> {
        let Some(start) = self.start(
            account_id,
            "day",
            "SELECT MIN(r.bucket_ms) FROM series s JOIN series_rollups r ON r.series_id = s.id
             WHERE s.account_id = ?1 AND r.tier = 'hour'",
            DAY_MS,
        )?
        else {
            return Ok(0);
        };
        // Only days whose hours are all rolled up.
        let hour_mark = self.mark(account_id, "hour")?.unwrap_or(start);
        let end = today.min(floor(hour_mark, DAY_MS));
        if start >= end {
            return Ok(0);
        }
        let kinds = self.distributions(account_id)?;
        let mut stmt = self.0.prepare_cached(
            "SELECT r.series_id, r.bucket_ms, r.count, r.sum, r.min, r.max, r.sketch
             FROM series s JOIN series_rollups r ON r.series_id = s.id
             WHERE s.account_id = ?1 AND r.tier = 'hour' AND r.bucket_ms >= ?2 AND r.bucket_ms < ?3",
        )?;
        let mut rows: BTreeMap<(i64, i64), Bucket> = BTreeMap::new();
        let hours = stmt.query_map(params![account_id, start, end], RollupRow::read)?;
        for hour in hours {
            let hour = RollupRow::decode(hour?)?;
            let distribution = kinds.get(&hour.series_id).copied().unwrap_or(false);
            rows.entry((hour.series_id, floor(hour.at, DAY_MS)))
                .or_insert_with(|| Bucket::new(distribution))
                .absorb(
                    hour.count,
                    hour.sum,
                    hour.min,
                    hour.max,
                    hour.sketch.as_ref(),
                );
        }
        let n = self.write("day", rows)?;
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
            .query_row("SELECT COUNT(*) FROM points", [], |r| r.get(0))
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
            (0.5, whole[0].p50.expect("a latency has percentiles")),
            (0.95, whole[0].p95.expect("p95")),
            (0.99, whole[0].p99.expect("p99")),
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
