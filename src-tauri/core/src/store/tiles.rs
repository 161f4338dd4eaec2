//! `tiles`: the current tile per account and service. `last_success` carries over from the
//! previous tile when a check fails, so "last success 3 h ago" survives a bad check.

use crate::redact::scrub_shapes;
use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError, from_ms, to_ms};
use crate::tile::{Service, Status, Tile};

impl Store {
    /// Stores the tile, keeping the previous `last_success` when this check did not succeed.
    /// A change of status is recorded as a transition. A tile older than the stored one (a
    /// slow check finishing after a newer one) is not stored: the newer result stands.
    pub fn upsert_tile(&self, account_id: i64, tile: &Tile) -> Result<Tile, StoreError> {
        let mut tile = tile.clone();
        let previous: Option<(String, Option<i64>, i64)> = self
            .conn()
            .prepare_cached(
                "SELECT status, last_success_ms, last_check_ms FROM tiles
                 WHERE account_id = ?1 AND service = ?2",
            )?
            .query_row(params![account_id, tile.service.as_str()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        if previous
            .as_ref()
            .is_some_and(|(_, _, checked)| *checked > to_ms(tile.last_check))
        {
            return Ok(tile);
        }
        if let (None, Some((_, Some(ms), _))) = (tile.last_success, &previous) {
            tile.last_success = Some(from_ms(*ms)?);
        }
        let previous_status = previous.as_ref().and_then(|(s, _, _)| Status::parse(s));
        self.record_transition(account_id, previous_status, &tile)?;
        self.conn()
            .prepare_cached(
                "INSERT INTO tiles (account_id, service, status, latency_ms, last_check_ms,
             last_success_ms, message, detail, error)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (account_id, service) DO UPDATE SET status = excluded.status,
             latency_ms = excluded.latency_ms, last_check_ms = excluded.last_check_ms,
             last_success_ms = excluded.last_success_ms, message = excluded.message,
             detail = excluded.detail, error = excluded.error",
            )?
            .execute(params![
                account_id,
                tile.service.as_str(),
                tile.status.as_str(),
                tile.latency_ms.and_then(|l| i64::try_from(l).ok()),
                to_ms(tile.last_check),
                tile.last_success.map(to_ms),
                scrub_shapes(&tile.message),
                serde_json::to_string(&tile.detail)
                    .map(|json| scrub_shapes(&json))
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                tile.error
                    .as_ref()
                    .map(serde_json::to_string)
                    .transpose()
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            ])?;
        Ok(tile)
    }

    /// The stored tiles of an account in service order.
    pub fn tiles(&self, account_id: i64) -> Result<Vec<Tile>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT service, status, latency_ms, last_check_ms, last_success_ms, message, detail,
             error FROM tiles WHERE account_id = ?1",
        )?;
        let raw = stmt
            .query_map([account_id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, Option<String>>(7)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut tiles = Vec::with_capacity(raw.len());
        for (service, status, latency, check, success, message, detail, error) in raw {
            tiles.push(Tile {
                service: Service::parse(&service)
                    .ok_or_else(|| StoreError::Corrupt(format!("unknown service {service}")))?,
                status: Status::parse(&status)
                    .ok_or_else(|| StoreError::Corrupt(format!("unknown status {status}")))?,
                latency_ms: latency.and_then(|l| u64::try_from(l).ok()),
                last_check: from_ms(check)?,
                last_success: success.map(from_ms).transpose()?,
                message,
                detail: serde_json::from_str(&detail)
                    .map_err(|e| StoreError::Corrupt(format!("tile detail: {e}")))?,
                error: error
                    .map(|e| serde_json::from_str(&e))
                    .transpose()
                    .map_err(|e| StoreError::Corrupt(format!("tile error: {e}")))?,
            });
        }
        tiles.sort_by_key(|t| t.service);
        Ok(tiles)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Account;
    use time::OffsetDateTime;

    #[test]
    fn last_success_survives_a_failed_check() {
        let store = Store::in_memory().expect("store");
        let id = store
            .add_account(&Account::new("a"), OffsetDateTime::UNIX_EPOCH)
            .expect("account");
        let t1 = OffsetDateTime::from_unix_timestamp(1_000).expect("t1");
        let t2 = OffsetDateTime::from_unix_timestamp(2_000).expect("t2");
        store
            .upsert_tile(id, &Tile::new(Service::Pixel, Status::Up, t1, "ok"))
            .expect("up");
        let stored = store
            .upsert_tile(id, &Tile::new(Service::Pixel, Status::Down, t2, "bad"))
            .expect("down");
        assert_eq!(stored.last_success, Some(t1), "the earlier success is kept");
        let tiles = store.tiles(id).expect("tiles");
        assert_eq!(tiles.len(), 1, "one tile per service");
        assert_eq!(tiles[0].status, Status::Down);
        assert_eq!(tiles[0].last_check, t2);
        assert_eq!(tiles[0].last_success, Some(t1));
        store
            .upsert_tile(
                id,
                &Tile::new(Service::Pixel, Status::Down, t2, "still bad"),
            )
            .expect("same");
        let transitions = store
            .transitions(id, OffsetDateTime::UNIX_EPOCH)
            .expect("transitions");
        let changes: Vec<(Option<Status>, Status)> =
            transitions.iter().map(|t| (t.from, t.to)).collect();
        assert_eq!(
            changes,
            [(None, Status::Up), (Some(Status::Up), Status::Down)],
            "only changes are recorded"
        );
        assert_eq!(
            transitions[1].last_message.as_deref(),
            Some("still bad"),
            "the newest message of a failing status is kept"
        );

        // A slow check from before t2 finishing now must not overwrite the newer result.
        store
            .upsert_tile(id, &Tile::new(Service::Pixel, Status::Up, t1, "stale"))
            .expect("stale");
        let tiles = store.tiles(id).expect("tiles");
        assert_eq!(
            (tiles[0].status, tiles[0].message.as_str()),
            (Status::Down, "still bad"),
            "the newer result stands"
        );
        assert_eq!(
            store
                .transitions(id, OffsetDateTime::UNIX_EPOCH)
                .expect("transitions")
                .len(),
            2,
            "and no transition is recorded for it"
        );
    }
}
