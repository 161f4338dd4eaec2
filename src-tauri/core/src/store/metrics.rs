//! Named time series (`meta.api.latency_ms`, `meta.ads.spend_24h`, …): a `series` row per
//! account and name, raw `points` keyed by (series, time).

use rusqlite::{OptionalExtension, params};
use time::OffsetDateTime;

use super::{Store, StoreError, from_ms, to_ms};

/// Series whose percentiles matter (latencies): their rollups keep a quantile sketch; gauges
/// (spend, counts, usage) keep count/sum/min/max only.
pub fn is_distribution(name: &str) -> bool {
    name.ends_with("latency_ms")
}

/// The id of a series, created on first use.
pub(crate) fn series_id(
    conn: &rusqlite::Connection,
    account_id: i64,
    name: &str,
) -> Result<i64, StoreError> {
    let mut find =
        conn.prepare_cached("SELECT id FROM series WHERE account_id = ?1 AND name = ?2")?;
    if let Some(id) = find
        .query_row(params![account_id, name], |r| r.get(0))
        .optional()?
    {
        return Ok(id);
    }
    let mut add =
        conn.prepare_cached("INSERT INTO series (account_id, name) VALUES (?1, ?2) RETURNING id")?;
    Ok(add.query_row(params![account_id, name], |r| r.get(0))?)
}

impl Store {
    /// Inserts many points in one transaction (SQLite's fast path). A second point of a
    /// series at the same millisecond replaces the first.
    pub fn insert_points(
        &mut self,
        account_id: i64,
        at: OffsetDateTime,
        points: &[(String, f64)],
    ) -> Result<(), StoreError> {
        let result = self.try_insert_points(account_id, at, points);
        if result.is_err() {
            self.series_ids.clear();
        }
        result
    }

    fn try_insert_points(
        &mut self,
        account_id: i64,
        at: OffsetDateTime,
        points: &[(String, f64)],
    ) -> Result<(), StoreError> {
        let tx = self.conn.savepoint()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR REPLACE INTO points (series_id, at_ms, value) VALUES (?1, ?2, ?3)",
            )?;
            let at = to_ms(at);
            for (name, value) in points.iter().filter(|(_, v)| v.is_finite()) {
                let key = (account_id, name.clone());
                let series = match self.series_ids.get(&key) {
                    Some(id) => *id,
                    None => {
                        let id = series_id(&tx, account_id, name)?;
                        self.series_ids.insert(key, id);
                        id
                    }
                };
                stmt.execute(params![series, at, value])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The raw points of one series since `since`, oldest first.
    pub fn series(
        &self,
        account_id: i64,
        name: &str,
        since: OffsetDateTime,
    ) -> Result<Vec<(OffsetDateTime, f64)>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT p.at_ms, p.value FROM series s JOIN points p ON p.series_id = s.id
             WHERE s.account_id = ?1 AND s.name = ?2 AND p.at_ms >= ?3 ORDER BY p.at_ms",
        )?;
        let rows = stmt
            .query_map(params![account_id, name, to_ms(since)], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, f64>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(ms, v)| Ok((from_ms(ms)?, v)))
            .collect()
    }

    /// The names of an account's series, sorted.
    pub fn series_names(&self, account_id: i64) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT name FROM series WHERE account_id = ?1 ORDER BY name")?;
        Ok(stmt
            .query_map([account_id], |r| r.get(0))?
            .collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Account;

    #[test]
    fn points_round_trip_and_series_are_per_account() {
        let mut store = Store::in_memory().expect("store");
        let t0 = OffsetDateTime::from_unix_timestamp(1_790_000_000).expect("t0");
        let a = store.add_account(&Account::new("a"), t0).expect("a");
        let b = store.add_account(&Account::new("b"), t0).expect("b");
        let at = |s: i64| t0 + time::Duration::seconds(s);
        store
            .insert_points(a, at(0), &[("x".into(), 1.0), ("y".into(), f64::NAN)])
            .expect("insert");
        store
            .insert_points(a, at(60), &[("x".into(), 2.0)])
            .expect("insert");
        store
            .insert_points(b, at(60), &[("x".into(), 9.0)])
            .expect("insert");
        assert_eq!(
            store.series(a, "x", t0).expect("series"),
            vec![(at(0), 1.0), (at(60), 2.0)]
        );
        assert_eq!(
            store.series(b, "x", t0).expect("series"),
            vec![(at(60), 9.0)]
        );
        assert_eq!(
            store.series_names(a).expect("names"),
            vec!["x".to_owned()],
            "a non-finite value is never stored, nor its series"
        );
        store.remove_account("a").expect("removed");
        let left: i64 = store
            .conn()
            .query_row("SELECT COUNT(*) FROM points", [], |r| r.get(0))
            .expect("count");
        assert_eq!(left, 1, "removing an account removes its points");
    }
}
