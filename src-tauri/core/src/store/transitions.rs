//! `status_transitions`: every change of a tile's status (kept a year), with Meta's error code
//! and `fbtrace_id` of the check that changed it and the newest message while the status held
//! — what incidents, uptime and "DOWN since …" are read from.

use crate::redact::scrub_shapes;
use rusqlite::params;
use time::OffsetDateTime;

use super::{Store, StoreError, from_ms, to_ms};
use crate::tile::{Service, Status, Tile};

/// One change of a service's status.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub service: Service,
    pub at: OffsetDateTime,
    pub from: Option<Status>,
    pub to: Status,
    pub message: String,
    pub code: Option<i64>,
    pub fbtrace_id: Option<String>,
    /// The newest message of a failing status that held over several checks.
    pub last_message: Option<String>,
}

const COLUMNS: &str =
    "service, at_ms, from_status, to_status, message, code, fbtrace_id, last_message";

type Row = (
    String,
    i64,
    Option<String>,
    String,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
);

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

fn typed(row: Row) -> Result<Transition, StoreError> {
    let (service, at, from, to, message, code, fbtrace_id, last_message) = row;
    let status = |text: &str| {
        Status::parse(text).ok_or_else(|| StoreError::Corrupt(format!("status {text:?}")))
    };
    Ok(Transition {
        service: Service::parse(&service)
            .ok_or_else(|| StoreError::Corrupt(format!("service {service:?}")))?,
        at: from_ms(at)?,
        from: from.as_deref().map(status).transpose()?,
        to: status(&to)?,
        message,
        code,
        fbtrace_id,
        last_message,
    })
}

impl Store {
    /// Records a transition when `tile`'s status differs from `previous` (None: first check);
    /// while a failing status holds, keeps its newest message on the transition into it.
    pub fn record_transition(
        &self,
        account_id: i64,
        previous: Option<Status>,
        tile: &Tile,
    ) -> Result<bool, StoreError> {
        if previous == Some(tile.status) {
            if matches!(tile.status, Status::Down | Status::Degraded) {
                self.conn()
                    .prepare_cached(
                        "UPDATE status_transitions SET last_message = ?3 WHERE rowid =
                         (SELECT rowid FROM status_transitions WHERE account_id = ?1
                          AND service = ?2 ORDER BY at_ms DESC LIMIT 1)",
                    )?
                    .execute(params![
                        account_id,
                        tile.service.as_str(),
                        scrub_shapes(&tile.message)
                    ])?;
            }
            return Ok(false);
        }
        let error = tile.error.as_ref();
        self.conn()
            .prepare_cached(
                "INSERT INTO status_transitions (account_id, service, at_ms, from_status,
                 to_status, message, code, fbtrace_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                account_id,
                tile.service.as_str(),
                to_ms(tile.last_check),
                previous.map(Status::as_str),
                tile.status.as_str(),
                scrub_shapes(&tile.message),
                error.and_then(|e| e.code),
                error.and_then(|e| e.fbtrace_id.as_deref().map(scrub_shapes)),
            ])?;
        Ok(true)
    }

    /// Transitions since `since`, oldest first.
    pub fn transitions(
        &self,
        account_id: i64,
        since: OffsetDateTime,
    ) -> Result<Vec<Transition>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM status_transitions WHERE account_id = ?1 AND at_ms >= ?2
             ORDER BY at_ms, rowid"
        );
        let rows = self
            .conn()
            .prepare_cached(&sql)?
            .query_map(params![account_id, to_ms(since)], read_row)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(typed).collect()
    }

    /// Each service's transitions before `at` from its last change to UP on, oldest first:
    /// the status a window opens with, and the incident under way then (its start, worst
    /// status and code) even when an UNKNOWN or DEGRADED step came after it.
    pub fn statuses_before(
        &self,
        account_id: i64,
        at: OffsetDateTime,
    ) -> Result<Vec<Transition>, StoreError> {
        let mut out = Vec::new();
        let sql = format!(
            "SELECT {COLUMNS} FROM status_transitions WHERE account_id = ?1 AND service = ?2
             AND at_ms < ?3 AND at_ms >= COALESCE((SELECT MAX(at_ms) FROM status_transitions
                 WHERE account_id = ?1 AND service = ?2 AND at_ms < ?3 AND to_status = 'UP'), 0)
             ORDER BY at_ms, rowid"
        );
        let mut stmt = self.conn().prepare_cached(&sql)?;
        for service in Service::ALL {
            let rows = stmt
                .query_map(params![account_id, service.as_str(), to_ms(at)], read_row)?
                .collect::<Result<Vec<_>, _>>()?;
            for row in rows {
                out.push(typed(row)?);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Account;
    use crate::incident;

    #[test]
    fn a_window_opening_inside_an_incident_sees_it_whole() {
        let t = OffsetDateTime::from_unix_timestamp(1_793_491_200).expect("time");
        let h = |hours: i64| t + time::Duration::hours(hours);
        let store = Store::in_memory().expect("store");
        let id = store
            .add_account(&Account::new("shop"), h(-100))
            .expect("account");
        for (at, status) in [
            (-50, Status::Up),
            (-30, Status::Down),
            (-26, Status::Degraded),
            (-25, Status::Unknown),
            (-20, Status::Up),
        ] {
            store
                .upsert_tile(id, &Tile::new(Service::Pixel, status, h(at), "m"))
                .expect("tile");
        }
        let opening = store.statuses_before(id, h(-24)).expect("opening");
        let steps: Vec<Status> = opening.iter().map(|t| t.to).collect();
        assert_eq!(
            steps,
            [Status::Up, Status::Down, Status::Degraded, Status::Unknown]
        );
        let inside = store.transitions(id, h(-24)).expect("inside");
        let history: Vec<Transition> = opening.into_iter().chain(inside).collect();
        let found = incident::incidents("shop", &history, t);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!((found[0].started, found[0].ended), (h(-30), Some(h(-20))));
        assert_eq!(
            found[0].worst,
            Status::Down,
            "its DOWN start is before the window"
        );
    }
}
