//! `probe_runs`: one row per probe per check: time, outcome, latency, HTTP status and Meta's
//! error code, subcode and fbtrace_id.

use crate::redact::scrub_shapes;
use rusqlite::params;
use serde::Serialize;
use time::OffsetDateTime;
use ts_rs::TS;

use super::{Store, StoreError, from_ms, to_ms};
use crate::graph::GraphError;
use crate::tile::{Service, Tile};

/// A probe run that failed, with Meta's error fields as stored.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct FailedRun {
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub at: OffsetDateTime,
    /// The error class: token_invalid, permission, throttled, transient, transport, …
    pub outcome: String,
    pub http_status: Option<i64>,
    pub code: Option<i64>,
    pub subcode: Option<i64>,
    pub fbtrace_id: Option<String>,
    pub message: String,
}

/// How a window's probe runs ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, TS)]
pub struct OutcomeSplit {
    #[ts(type = "number")]
    pub checks: u64,
    #[ts(type = "number")]
    pub client_4xx: u64,
    #[ts(type = "number")]
    pub server_5xx: u64,
    /// No HTTP answer: network, DNS, timeout.
    #[ts(type = "number")]
    pub network: u64,
}

impl Store {
    pub fn insert_probe_run(
        &self,
        account_id: i64,
        tile: &Tile,
        error: Option<&GraphError>,
    ) -> Result<(), StoreError> {
        let meta = error.and_then(|e| e.meta());
        let outcome = match error {
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
                error.and_then(|e| e.http_status()),
                meta.map(|m| m.code),
                meta.and_then(|m| m.error_subcode),
                meta.and_then(|m| m.fbtrace_id.clone()),
                scrub_shapes(&tile.message),
            ])?;
        Ok(())
    }

    /// The newest failed runs of one probe (outcome other than ok), at most `limit`.
    pub fn recent_failures(
        &self,
        account_id: i64,
        probe: Service,
        limit: usize,
    ) -> Result<Vec<FailedRun>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT at_ms, outcome, http_status, graph_code, graph_subcode, fbtrace_id, message
             FROM probe_runs WHERE account_id = ?1 AND probe = ?2 AND outcome != 'ok'
             ORDER BY at_ms DESC LIMIT ?3",
        )?;
        let rows = stmt
            .query_map(
                params![
                    account_id,
                    probe.as_str(),
                    i64::try_from(limit).unwrap_or(100)
                ],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        FailedRun {
                            at: OffsetDateTime::UNIX_EPOCH,
                            outcome: r.get(1)?,
                            http_status: r.get(2)?,
                            code: r.get(3)?,
                            subcode: r.get(4)?,
                            fbtrace_id: r.get(5)?,
                            message: r.get(6)?,
                        },
                    ))
                },
            )?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(ms, run)| {
                Ok(FailedRun {
                    at: from_ms(ms)?,
                    ..run
                })
            })
            .collect()
    }

    /// (runs, failed runs) of one probe since `since`: the error rate's parts.
    pub fn run_counts(
        &self,
        account_id: i64,
        probe: Service,
        since: OffsetDateTime,
    ) -> Result<(u64, u64), StoreError> {
        let (all, failed): (i64, i64) = self
            .conn()
            .prepare_cached(
                "SELECT COUNT(*), COALESCE(SUM(outcome != 'ok'), 0) FROM probe_runs
                 WHERE account_id = ?1 AND probe = ?2 AND at_ms >= ?3",
            )?
            .query_row(params![account_id, probe.as_str(), to_ms(since)], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        Ok((
            u64::try_from(all).unwrap_or(0),
            u64::try_from(failed).unwrap_or(0),
        ))
    }

    /// Every probe's runs since `since`, split by how they failed: Meta refused (HTTP 4xx),
    /// Meta failed (5xx), or no answer at all (network, timeout).
    pub fn outcome_split(
        &self,
        account_id: i64,
        since: OffsetDateTime,
    ) -> Result<OutcomeSplit, StoreError> {
        let counts: (i64, i64, i64, i64) = self
            .conn()
            .prepare_cached(
                "SELECT COUNT(*),
                 COALESCE(SUM(http_status BETWEEN 400 AND 499), 0),
                 COALESCE(SUM(http_status BETWEEN 500 AND 599), 0),
                 COALESCE(SUM(outcome = 'transport'), 0)
                 FROM probe_runs WHERE account_id = ?1 AND at_ms >= ?2",
            )?
            .query_row(params![account_id, to_ms(since)], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?;
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        Ok(OutcomeSplit {
            checks: n(counts.0),
            client_4xx: n(counts.1),
            server_5xx: n(counts.2),
            network: n(counts.3),
        })
    }

    pub fn probe_run_count(&self, account_id: i64) -> Result<i64, StoreError> {
        Ok(self.conn().query_row(
            "SELECT COUNT(*) FROM probe_runs WHERE account_id = ?1",
            [account_id],
            |r| r.get(0),
        )?)
    }
}
