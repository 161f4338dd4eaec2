//! `holds`: silences and maintenance windows (JSON of [`Hold`]), for one account or — with no
//! account — for every account ("mute all"). Read inside the alert claim's transaction, so a
//! decision and the holds it obeys are one consistent view.

use rusqlite::params;
use serde::Serialize;
use time::OffsetDateTime;
use ts_rs::TS;

use super::{Store, StoreError, to_ms};
use crate::alert::{Hold, Holds};

/// A stored hold with its id and account (`None`: every account).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct StoredHold {
    #[ts(type = "number")]
    pub id: i64,
    pub account: Option<String>,
    pub hold: Hold,
}

fn parse(id: i64, json: &str) -> Result<Hold, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("hold {id}: {e}")))
}

/// The holds concerning `account_id`: its own and every account's.
pub(super) fn read_holds(
    conn: &rusqlite::Connection,
    account_id: i64,
) -> Result<Holds, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, hold FROM holds WHERE account_id = ?1 OR account_id IS NULL ORDER BY id",
    )?;
    let rows = stmt
        .query_map([account_id], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let holds = rows
        .iter()
        .map(|(id, json)| parse(*id, json))
        .collect::<Result<_, _>>()?;
    Ok(Holds(holds))
}

impl Store {
    /// Stores a hold for one account or (None) every account; returns its id.
    pub fn add_hold(&self, account_id: Option<i64>, hold: &Hold) -> Result<i64, StoreError> {
        let json = serde_json::to_string(hold).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.conn()
            .prepare_cached("INSERT INTO holds (account_id, hold, created_ms) VALUES (?1, ?2, ?3)")?
            .execute(params![account_id, json, to_ms(hold.created)])?;
        Ok(self.conn().last_insert_rowid())
    }

    pub fn holds_for(&self, account_id: i64) -> Result<Holds, StoreError> {
        read_holds(self.conn(), account_id)
    }

    /// Every hold not over at `now`, oldest first, with its account's name. A read only: the
    /// overview and `status` call it, and must not wait for another process's write lock.
    pub fn all_holds(&self, now: OffsetDateTime) -> Result<Vec<StoredHold>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT h.id, a.name, h.hold FROM holds h LEFT JOIN accounts a ON a.id = h.account_id
             ORDER BY h.id",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = Vec::with_capacity(rows.len());
        for (id, account, json) in rows {
            let hold = parse(id, &json)?;
            if !hold.window.is_over(now) {
                out.push(StoredHold { id, account, hold });
            }
        }
        Ok(out)
    }

    /// Removes a hold (ends a silence early); false when there was none with that id.
    pub fn remove_hold(&self, id: i64) -> Result<bool, StoreError> {
        Ok(self
            .conn()
            .prepare_cached("DELETE FROM holds WHERE id = ?1")?
            .execute([id])?
            > 0)
    }
}
