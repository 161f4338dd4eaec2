//! `probe_runs`: one row per probe per check: time, outcome, latency, HTTP status and Meta's
//! error code, subcode and fbtrace_id.

use rusqlite::params;

use super::{Store, StoreError, to_ms};
use crate::probe::ProbeReport;

impl Store {
    pub fn insert_probe_run(
        &self,
        account_id: i64,
        report: &ProbeReport,
    ) -> Result<(), StoreError> {
        let tile = &report.tile;
        let meta = report.error.as_ref().and_then(|e| e.meta());
        let outcome = match &report.error {
            None => "ok".to_owned(),
            Some(e) => serde_json::to_value(e.class())
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| "error".to_owned()),
        };
        self.conn()
            .prepare_cached(
                "INSERT INTO probe_runs (account_id, probe, at_ms, status, outcome, latency_ms,
             http_status, graph_code, graph_subcode, fbtrace_id, message)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                account_id,
                tile.service.as_str(),
                to_ms(tile.last_check),
                tile.status.as_str(),
                outcome,
                tile.latency_ms.and_then(|l| i64::try_from(l).ok()),
                report.error.as_ref().and_then(|e| e.http_status()),
                meta.map(|m| m.code),
                meta.and_then(|m| m.error_subcode),
                meta.and_then(|m| m.fbtrace_id.clone()),
                tile.message,
            ])?;
        Ok(())
    }

    pub fn probe_run_count(&self, account_id: i64) -> Result<i64, StoreError> {
        Ok(self.conn().query_row(
            "SELECT COUNT(*) FROM probe_runs WHERE account_id = ?1",
            [account_id],
            |r| r.get(0),
        )?)
    }
}
