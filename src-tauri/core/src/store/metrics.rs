//! `metric_points`: named time series (`meta.api.latency_ms`, `meta.ads.spend_24h`, …).

use rusqlite::params;
use time::OffsetDateTime;

use super::{Store, StoreError, from_ms, to_ms};

impl Store {
    /// Inserts many points in one transaction (SQLite's fast path).
    pub fn insert_points(
        &mut self,
        account_id: i64,
        at: OffsetDateTime,
        points: &[(String, f64)],
    ) -> Result<(), StoreError> {
        let tx = self.conn_mut().transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO metric_points (account_id, name, at_ms, value) VALUES (?1, ?2, ?3, ?4)",
            )?;
            let at = to_ms(at);
            for (name, value) in points.iter().filter(|(_, v)| v.is_finite()) {
                stmt.execute(params![account_id, name, at, value])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The points of one series since `since`, oldest first.
    pub fn series(
        &self,
        account_id: i64,
        name: &str,
        since: OffsetDateTime,
    ) -> Result<Vec<(OffsetDateTime, f64)>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT at_ms, value FROM metric_points WHERE account_id = ?1 AND name = ?2 AND at_ms >= ?3
             ORDER BY at_ms",
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
}
