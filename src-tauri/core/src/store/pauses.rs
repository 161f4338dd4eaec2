//! `throttle_pauses`: until when each rate-limit bucket of an account is paused, so a restart,
//! a settings reload or another process on the same database honours a pause Meta asked for.
//! Buckets are plain names here (`app`, `ads`, `catalog`): the store knows no scheduler types.

use rusqlite::params;
use time::OffsetDateTime;

use super::{Store, StoreError, from_ms, to_ms};

impl Store {
    /// Records `pauses` (bucket name, until): a pause only ever grows (another process on
    /// the same database may know of a longer one, which must survive this one's write), and
    /// those already over are dropped.
    pub fn save_pauses(
        &mut self,
        account_id: i64,
        pauses: &[(&str, OffsetDateTime)],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let stored = self.pauses(account_id, now)?;
        let longer: Vec<(&str, i64)> = pauses
            .iter()
            .filter(|(_, until)| *until > now)
            .map(|(bucket, until)| (*bucket, to_ms(*until)))
            .filter(|(bucket, until)| {
                !stored
                    .iter()
                    .any(|(b, u)| b == bucket && to_ms(*u) >= *until)
            })
            .collect();
        // Most checks learn no new pause: nothing to write then.
        if longer.is_empty() {
            return Ok(());
        }
        self.atomically(|store| {
            store
                .conn()
                .prepare_cached(
                    "DELETE FROM throttle_pauses WHERE account_id = ?1 AND until_ms <= ?2",
                )?
                .execute(params![account_id, to_ms(now)])?;
            let mut insert = store.conn().prepare_cached(
                "INSERT INTO throttle_pauses (account_id, bucket, until_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (account_id, bucket)
                 DO UPDATE SET until_ms = MAX(until_ms, excluded.until_ms)",
            )?;
            for (bucket, until) in &longer {
                insert.execute(params![account_id, bucket, until])?;
            }
            Ok(())
        })
    }

    /// The account's pauses that last beyond `now`.
    pub fn pauses(
        &self,
        account_id: i64,
        now: OffsetDateTime,
    ) -> Result<Vec<(String, OffsetDateTime)>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT bucket, until_ms FROM throttle_pauses
             WHERE account_id = ?1 AND until_ms > ?2 ORDER BY bucket",
        )?;
        let rows = stmt
            .query_map(params![account_id, to_ms(now)], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(bucket, ms)| Ok((bucket, from_ms(ms)?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used, reason = "a failed step must fail the test")]

    use super::*;
    use crate::account::Account;

    #[test]
    fn pauses_survive_a_reopen_and_end_by_time() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("p.db");
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("time");
        let later = now + time::Duration::minutes(12);
        {
            let mut store = Store::open(&path).expect("store");
            let id = store.add_account(&Account::new("a"), now).expect("account");
            let over = now - time::Duration::minutes(1);
            store
                .save_pauses(id, &[("ads", later), ("app", over)], now)
                .expect("saved");
        }
        let store = Store::open(&path).expect("reopen");
        let id = store.require_account("a").expect("account").id;
        assert_eq!(
            store.pauses(id, now).expect("pauses"),
            vec![("ads".to_owned(), later)],
            "the ads pause outlives the process; the one already over was not kept"
        );
        assert!(
            store.pauses(id, later).expect("pauses").is_empty(),
            "a pause ends at its time"
        );
        // Another process that knows no pause, or a shorter one, never erases a longer one.
        let mut store = store;
        let sooner = now + time::Duration::minutes(2);
        store.save_pauses(id, &[], now).expect("saved");
        store
            .save_pauses(id, &[("ads", sooner)], now)
            .expect("saved");
        assert_eq!(
            store.pauses(id, now).expect("pauses"),
            vec![("ads".to_owned(), later)],
            "the longer pause stands"
        );
    }
}
