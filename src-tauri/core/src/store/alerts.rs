//! `alert_states` (the decision function's memory, so a restart neither repeats nor loses an
//! alert) and `notifications` (every notification, delivered or failed, per channel).

use std::collections::BTreeMap;

use rusqlite::params;
use serde::Serialize;
use time::OffsetDateTime;

use super::{Store, StoreError, from_ms, to_ms};
use crate::alert::{Action, AlertState};

/// One row of the notification history.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Notification {
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub at: OffsetDateTime,
    pub key: String,
    pub kind: String,
    pub severity: String,
    pub title: String,
    pub body: String,
    pub channel: String,
    pub delivered: bool,
    pub error: Option<String>,
}

fn text<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl Store {
    pub fn alert_states(
        &self,
        account_id: i64,
    ) -> Result<BTreeMap<String, AlertState>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT key, state FROM alert_states WHERE account_id = ?1")?;
        let rows = stmt
            .query_map([account_id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(key, json)| {
                let state = serde_json::from_str(&json)
                    .map_err(|e| StoreError::Corrupt(format!("alert state {key}: {e}")))?;
                Ok((key, state))
            })
            .collect()
    }

    /// Saves the states and the notifications of one decision in one transaction, so a crash
    /// leaves either both or neither.
    pub fn save_alerts(
        &mut self,
        account_id: i64,
        states: &BTreeMap<String, AlertState>,
        sent: &[(Action, String, Result<(), String>)],
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let tx = self.conn_mut().savepoint()?;
        {
            let mut upsert = tx.prepare_cached(
                "INSERT INTO alert_states (account_id, key, state) VALUES (?1, ?2, ?3)
                 ON CONFLICT (account_id, key) DO UPDATE SET state = excluded.state",
            )?;
            for (key, state) in states {
                let json =
                    serde_json::to_string(state).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                upsert.execute(params![account_id, key, json])?;
            }
            let mut insert = tx.prepare_cached(
                "INSERT INTO notifications (account_id, at_ms, key, kind, severity, title, body, channel,
                 delivered, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            for (action, channel, outcome) in sent {
                insert.execute(params![
                    account_id,
                    to_ms(at),
                    action.key,
                    text(&action.kind),
                    text(&action.severity),
                    action.title,
                    action.body,
                    channel,
                    outcome.is_ok(),
                    outcome.as_ref().err(),
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The newest notifications first, at most `limit`.
    pub fn notifications(
        &self,
        account_id: i64,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT at_ms, key, kind, severity, title, body, channel, delivered, error FROM notifications
             WHERE account_id = ?1 ORDER BY at_ms DESC, id DESC LIMIT ?2",
        )?;
        let rows = stmt
            .query_map(params![account_id, limit], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    Notification {
                        at: OffsetDateTime::UNIX_EPOCH,
                        key: r.get(1)?,
                        kind: r.get(2)?,
                        severity: r.get(3)?,
                        title: r.get(4)?,
                        body: r.get(5)?,
                        channel: r.get(6)?,
                        delivered: r.get(7)?,
                        error: r.get(8)?,
                    },
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(ms, mut n)| {
                n.at = from_ms(ms)?;
                Ok(n)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Account;
    use crate::alert::{ActionKind, Severity};

    #[test]
    fn states_and_history_survive_a_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.db");
        let now = OffsetDateTime::from_unix_timestamp(1_000_000).expect("time");
        let action = Action {
            kind: ActionKind::Fire,
            key: "down:pixel".into(),
            severity: Severity::Critical,
            title: "pixel is DOWN".into(),
            body: "unavailable".into(),
        };
        {
            let mut store = Store::open(&path).expect("store");
            let id = store.add_account(&Account::new("a"), now).expect("account");
            let mut states = BTreeMap::new();
            states.insert(
                "down:pixel".to_owned(),
                AlertState {
                    firing: true,
                    failures: 3,
                    ..AlertState::default()
                },
            );
            let sent = vec![
                (action.clone(), "desktop".to_owned(), Ok(())),
                (
                    action.clone(),
                    "webhook".to_owned(),
                    Err("timed out".to_owned()),
                ),
            ];
            store.save_alerts(id, &states, &sent, now).expect("saved");
        }
        let store = Store::open(&path).expect("reopen");
        let id = store.require_account("a").expect("account").id;
        let states = store.alert_states(id).expect("states");
        assert!(states["down:pixel"].firing, "firing state restored");
        let history = store.notifications(id, 10).expect("history");
        assert_eq!(history.len(), 2, "both channels recorded");
        assert!(
            history
                .iter()
                .any(|n| !n.delivered && n.error.as_deref() == Some("timed out")),
            "failures kept"
        );
        assert_eq!(history[0].kind, "fire");
        assert_eq!(history[0].severity, "critical");
    }
}
