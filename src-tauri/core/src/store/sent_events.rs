//! `sent_events`: every Conversions API event the app sent — name, event_id, times, test code,
//! which customer keys were present (never their values), and what Meta answered.

use crate::redact::scrub_shapes;
use rusqlite::params;
use serde::Serialize;
use time::OffsetDateTime;

use super::{Store, StoreError, from_ms, to_ms};

/// One sent event and Meta's answer to its request.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct SentEvent {
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub sent_at: OffsetDateTime,
    pub event_name: String,
    pub event_id: String,
    /// Unix seconds, as sent.
    #[ts(type = "number")]
    pub event_time: i64,
    /// `None` for a live (production) event.
    pub test_event_code: Option<String>,
    /// The customer-information keys present, e.g. `em,ph,client_user_agent`.
    pub keys: Vec<String>,
    /// `received` (Meta accepted the request), `refused` (Meta rejected it) or `failed`
    /// (it never got an answer).
    pub outcome: String,
    pub fbtrace_id: Option<String>,
    /// Meta's messages, or the error in words.
    pub message: Option<String>,
}

/// Events sent per name and outcome over a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct SentCount {
    pub event_name: String,
    pub outcome: String,
    pub test: bool,
    pub count: u32,
}

impl Store {
    pub fn record_sent_events(
        &mut self,
        account_id: i64,
        events: &[SentEvent],
    ) -> Result<(), StoreError> {
        let tx = self.conn_mut().transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO sent_events (account_id, sent_at_ms, event_name, event_id, event_time,
                 test_event_code, keys, outcome, fbtrace_id, message)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            for e in events {
                insert.execute(params![
                    account_id,
                    to_ms(e.sent_at),
                    e.event_name,
                    e.event_id,
                    e.event_time,
                    e.test_event_code,
                    e.keys.join(","),
                    e.outcome,
                    e.fbtrace_id,
                    e.message.as_deref().map(scrub_shapes),
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The newest `limit` sent events, newest first.
    pub fn sent_events(&self, account_id: i64, limit: u32) -> Result<Vec<SentEvent>, StoreError> {
        self.sent_events_since(account_id, OffsetDateTime::UNIX_EPOCH, limit)
    }

    /// The newest `limit` events sent since `since`, newest first.
    pub fn sent_events_since(
        &self,
        account_id: i64,
        since: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<SentEvent>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT sent_at_ms, event_name, event_id, event_time, test_event_code, keys, outcome,
             fbtrace_id, message FROM sent_events WHERE account_id = ?1 AND sent_at_ms >= ?3
             ORDER BY sent_at_ms DESC, rowid DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![account_id, limit, to_ms(since)], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                SentEvent {
                    sent_at: OffsetDateTime::UNIX_EPOCH,
                    event_name: r.get(1)?,
                    event_id: r.get(2)?,
                    event_time: r.get(3)?,
                    test_event_code: r.get(4)?,
                    keys: r
                        .get::<_, String>(5)?
                        .split(',')
                        .filter(|k| !k.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    outcome: r.get(6)?,
                    fbtrace_id: r.get(7)?,
                    message: r.get(8)?,
                },
            ))
        })?;
        rows.map(|row| {
            let (at, mut event) = row?;
            event.sent_at = from_ms(at)?;
            Ok(event)
        })
        .collect()
    }

    /// Sent events per name, outcome and test/live since `since`.
    pub fn sent_counts(
        &self,
        account_id: i64,
        since: OffsetDateTime,
    ) -> Result<Vec<SentCount>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT event_name, outcome, test_event_code IS NOT NULL, COUNT(*) FROM sent_events
             WHERE account_id = ?1 AND sent_at_ms >= ?2
             GROUP BY 1, 2, 3 ORDER BY 4 DESC, 1",
        )?;
        let rows = stmt.query_map(params![account_id, to_ms(since)], |r| {
            Ok(SentCount {
                event_name: r.get(0)?,
                outcome: r.get(1)?,
                test: r.get(2)?,
                count: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used, reason = "a failed step must fail the test")]

    use super::*;
    use crate::Account;

    #[test]
    fn sent_events_round_trip_and_count_by_name_and_outcome() {
        let mut store = Store::in_memory().expect("store");
        let now = OffsetDateTime::now_utc();
        let id = store
            .add_account(&Account::new("shop"), now)
            .expect("account");
        let event = |name: &str, outcome: &str, test: bool| SentEvent {
            sent_at: now,
            event_name: name.into(),
            event_id: format!("{name}-{outcome}"),
            event_time: now.unix_timestamp(),
            test_event_code: test.then(|| "TEST1".to_owned()),
            keys: vec!["em".into(), "ph".into()],
            outcome: outcome.into(),
            fbtrace_id: Some("AbC".into()),
            message: None,
        };
        store
            .record_sent_events(
                id,
                &[
                    event("Purchase", "received", true),
                    event("Purchase", "received", true),
                    event("Lead", "refused", false),
                ],
            )
            .expect("recorded");
        let newest = store.sent_events(id, 10).expect("list");
        assert_eq!(newest.len(), 3);
        assert_eq!(newest[0].event_name, "Lead", "newest first");
        assert_eq!(newest[1].keys, ["em", "ph"]);
        let counts = store
            .sent_counts(id, now - time::Duration::days(1))
            .expect("counts");
        assert_eq!(counts[0].count, 2);
        assert_eq!(
            (counts[0].event_name.as_str(), counts[0].test),
            ("Purchase", true)
        );
        assert_eq!(counts[1].outcome, "refused");
    }
}
