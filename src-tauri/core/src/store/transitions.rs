//! `status_transitions`: every change of a tile's status (kept a year), for the timeline and
//! for "DOWN since …".

use crate::redact::scrub_shapes;
use rusqlite::params;
use serde::Serialize;
use time::OffsetDateTime;

use super::{Store, StoreError, from_ms, to_ms};
use crate::tile::{Status, Tile};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transition {
    pub service: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub from: Option<String>,
    pub to: String,
    pub message: String,
}

impl Store {
    /// Records a transition when `tile`'s status differs from `previous` (None: first check).
    pub fn record_transition(
        &self,
        account_id: i64,
        previous: Option<Status>,
        tile: &Tile,
    ) -> Result<bool, StoreError> {
        if previous == Some(tile.status) {
            return Ok(false);
        }
        self.conn()
.prepare_cached("INSERT INTO status_transitions (account_id, service, at_ms, from_status, to_status, message)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?
.execute(params![
                account_id,
                tile.service.as_str(),
                to_ms(tile.last_check),
                previous.map(Status::as_str),
                tile.status.as_str(),
                scrub_shapes(&tile.message)
            ])?;
        Ok(true)
    }

    /// Transitions since `since`, oldest first.
    pub fn transitions(
        &self,
        account_id: i64,
        since: OffsetDateTime,
    ) -> Result<Vec<Transition>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT service, at_ms, from_status, to_status, message FROM status_transitions
             WHERE account_id = ?1 AND at_ms >= ?2 ORDER BY at_ms",
        )?;
        let rows = stmt
            .query_map(params![account_id, to_ms(since)], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(service, at, from, to, message)| {
                Ok(Transition {
                    service,
                    at: from_ms(at)?,
                    from,
                    to,
                    message,
                })
            })
            .collect()
    }
}
