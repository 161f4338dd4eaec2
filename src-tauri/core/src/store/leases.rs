//! One catalog sync per account at a time, across processes: the desktop app and a
//! `meta-monitor product sync` on the same database must not send the same queue twice. The
//! lease is a row with its holder and an expiry, taken in an immediate transaction and renewed
//! while the sync runs; a holder that died (killed mid-sync) frees it at once on Linux, where
//! its process can be looked up, and after the expiry elsewhere.

use rusqlite::{OptionalExtension, TransactionBehavior, params};
use time::OffsetDateTime;

use super::{Store, StoreError, to_ms};

/// Who holds a lease: this process, as `pid:start` (the start time tells a reused pid apart).
pub fn this_process() -> String {
    let pid = std::process::id();
    format!("{pid}:{}", start_time(pid).unwrap_or_default())
}

/// The process's start time in clock ticks since boot (Linux), if it can be read.
fn start_time(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces and parentheses).
    let after = stat.rsplit_once(')')?.1;
    after.split_whitespace().nth(19).map(str::to_owned)
}

/// Whether the process named by `holder` still runs. Without `/proc` (not Linux) every holder
/// counts as alive and only the expiry frees its lease.
fn is_alive(holder: &str) -> bool {
    if !std::path::Path::new("/proc/self/stat").exists() {
        return true;
    }
    let Some((pid, start)) = holder.split_once(':') else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    start_time(pid).is_some_and(|now| now == start)
}

impl Store {
    /// Takes the sync lease of `account_id` for `holder` until `now + ttl`. `Ok(None)`: taken;
    /// `Ok(Some(other))`: another live process holds it.
    pub fn take_sync_lease(
        &mut self,
        account_id: i64,
        holder: &str,
        now: OffsetDateTime,
        ttl: time::Duration,
    ) -> Result<Option<String>, StoreError> {
        let tx = self
            .conn_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current: Option<(String, i64)> = tx
            .query_row(
                "SELECT holder, until_ms FROM sync_leases WHERE account_id = ?1",
                [account_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((other, until)) = current
            && other != holder
            && until > to_ms(now)
            && is_alive(&other)
        {
            return Ok(Some(other));
        }
        tx.execute(
            "INSERT INTO sync_leases (account_id, holder, until_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT (account_id) DO UPDATE SET holder = excluded.holder,
             until_ms = excluded.until_ms",
            params![account_id, holder, to_ms(now + ttl)],
        )?;
        tx.commit()?;
        Ok(None)
    }

    /// Extends `holder`'s lease (nothing when it no longer holds it).
    pub fn renew_sync_lease(
        &self,
        account_id: i64,
        holder: &str,
        now: OffsetDateTime,
        ttl: time::Duration,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE sync_leases SET until_ms = ?3 WHERE account_id = ?1 AND holder = ?2",
            params![account_id, holder, to_ms(now + ttl)],
        )?;
        Ok(())
    }

    /// Gives the lease back.
    pub fn release_sync_lease(&self, account_id: i64, holder: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "DELETE FROM sync_leases WHERE account_id = ?1 AND holder = ?2",
            params![account_id, holder],
        )?;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, reason = "a failed step must fail the test")]
mod tests {
    use super::*;

    #[test]
    fn one_live_holder_at_a_time_and_a_dead_or_expired_one_frees_it() {
        let mut store = Store::in_memory().expect("store");
        let now = OffsetDateTime::now_utc();
        let id = store
            .add_account(&crate::Account::new("a"), now)
            .expect("account");
        let ttl = time::Duration::minutes(1);
        let me = this_process();
        assert_eq!(
            store.take_sync_lease(id, &me, now, ttl).expect("take"),
            None
        );
        // This test process is alive: a second holder is refused while the lease lasts…
        assert_eq!(
            store
                .take_sync_lease(id, "other:1", now, ttl)
                .expect("take"),
            Some(me.clone())
        );
        // …and gets it once it expired.
        let later = now + time::Duration::minutes(2);
        assert_eq!(
            store
                .take_sync_lease(id, "other:1", later, ttl)
                .expect("take"),
            None
        );
        // A holder whose process is gone frees it at once (on Linux).
        if std::path::Path::new("/proc/self/stat").exists() {
            assert_eq!(
                store.take_sync_lease(id, &me, later, ttl).expect("take"),
                None,
                "other:1 is no running process"
            );
        }
        store.release_sync_lease(id, &me).expect("release");
        assert_eq!(
            store.take_sync_lease(id, "x:2", later, ttl).expect("take"),
            None
        );
    }
}
