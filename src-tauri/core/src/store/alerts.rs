//! `alert_states` (the decision function's memory, so a restart neither repeats nor loses an
//! alert) and `notifications` (every notification, delivered or failed, per channel).

use std::collections::BTreeMap;

use rusqlite::params;
use serde::Serialize;
use time::OffsetDateTime;

use super::{Store, StoreError, from_ms, to_ms};
use crate::alert::{Action, AlertState, Holds};

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

/// A claimed action and its notification rows: (row id, channel) each.
pub type Claimed = (Action, Vec<(i64, String)>);

/// The error text of a notification claimed but not yet sent; a crash between the claim and
/// the delivery leaves it, so the history says what is unknown instead of inventing success.
pub const SENDING: &str = "sending (no outcome recorded)";

fn read_states(
    conn: &rusqlite::Connection,
    account_id: i64,
) -> Result<BTreeMap<String, AlertState>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT key, state FROM alert_states WHERE account_id = ?1")?;
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

/// Decide and write, inside the claim's transaction.
fn claim(
    conn: &rusqlite::Connection,
    account_id: i64,
    channels: &[&str],
    at: OffsetDateTime,
    decide: impl FnOnce(&mut BTreeMap<String, AlertState>, &Holds) -> Vec<Action>,
) -> Result<Vec<Claimed>, StoreError> {
    let mut states = read_states(conn, account_id)?;
    let holds = super::holds::read_holds(conn, account_id)?;
    let before = states.clone();
    let actions = decide(&mut states, &holds);
    let mut claimed = Vec::with_capacity(actions.len());
    let mut upsert = conn.prepare_cached(
        "INSERT INTO alert_states (account_id, key, state) VALUES (?1, ?2, ?3)
         ON CONFLICT (account_id, key) DO UPDATE SET state = excluded.state",
    )?;
    // Only what changed is written: most checks change nothing.
    for (key, state) in states.iter().filter(|(k, s)| before.get(*k) != Some(*s)) {
        let json = serde_json::to_string(state).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        upsert.execute(params![account_id, key, json])?;
    }
    let mut insert = conn.prepare_cached(
        "INSERT INTO notifications (account_id, at_ms, key, kind, severity, title, body,
         channel, delivered, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9)",
    )?;
    for action in actions {
        let mut rows = Vec::with_capacity(channels.len());
        for channel in channels {
            insert.execute(params![
                account_id,
                to_ms(at),
                action.key,
                text(&action.kind),
                text(&action.severity),
                action.title,
                action.body,
                channel,
                SENDING,
            ])?;
            rows.push((conn.last_insert_rowid(), (*channel).to_owned()));
        }
        claimed.push((action, rows));
    }
    Ok(claimed)
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
        read_states(self.conn(), account_id)
    }

    /// The claim half of an alert decision, safe across processes: in one `BEGIN IMMEDIATE`
    /// transaction (SQLite's write lock, which another process waits for) it reads the
    /// account's alert states and holds, lets `decide` change the states, writes what changed and one
    /// notification row per action and channel marked as sending. A second process deciding
    /// on the same account runs after the commit, sees the updated states and decides nothing
    /// new: each notification is sent by exactly one process. Returns the actions with the
    /// ids of their rows, to complete with [`Store::record_deliveries`] once sent.
    pub fn claim_alerts(
        &mut self,
        account_id: i64,
        channels: &[&str],
        at: OffsetDateTime,
        decide: impl FnOnce(&mut BTreeMap<String, AlertState>, &Holds) -> Vec<Action>,
    ) -> Result<Vec<Claimed>, StoreError> {
        // BEGIN IMMEDIATE takes the write lock before reading; nested in a caller's
        // transaction (a replay writing days in one), a savepoint inside it.
        let nested = !self.conn().is_autocommit();
        let (begin, commit, rollback) = if nested {
            (
                "SAVEPOINT claim",
                "RELEASE claim",
                "ROLLBACK TO claim; RELEASE claim",
            )
        } else {
            ("BEGIN IMMEDIATE", "COMMIT", "ROLLBACK")
        };
        self.conn().execute_batch(begin)?;
        match claim(self.conn(), account_id, channels, at, decide) {
            Ok(claimed) => {
                if let Err(e) = self.conn().execute_batch(commit) {
                    // A commit that failed (disk full) must not leave the transaction open:
                    // every later claim would nest in it and never be written.
                    self.series_ids_clear();
                    let _ = self.conn().execute_batch(rollback);
                    return Err(e.into());
                }
                Ok(claimed)
            }
            Err(e) => {
                self.series_ids_clear();
                // The error that matters is `e`; a failed rollback ends with the connection.
                let _ = self.conn().execute_batch(rollback);
                Err(e)
            }
        }
    }

    /// The outcome of each claimed notification row (the last half of an alert decision).
    pub fn record_deliveries(
        &mut self,
        outcomes: &[(i64, Result<(), String>)],
    ) -> Result<(), StoreError> {
        if outcomes.is_empty() {
            return Ok(());
        }
        self.atomically(|store| {
            let mut update = store.conn().prepare_cached(
                "UPDATE notifications SET delivered = ?2, error = ?3 WHERE id = ?1",
            )?;
            for (id, outcome) in outcomes {
                update.execute(params![id, outcome.is_ok(), outcome.as_ref().err()])?;
            }
            Ok(())
        })
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
            let claimed = store
                .claim_alerts(id, &["desktop", "webhook"], now, |states, _| {
                    states.insert(
                        "down:pixel".to_owned(),
                        AlertState {
                            firing: true,
                            failures: 3,
                            ..AlertState::default()
                        },
                    );
                    vec![action.clone()]
                })
                .expect("claimed");
            let rows = &claimed[0].1;
            store
                .record_deliveries(&[(rows[0].0, Ok(())), (rows[1].0, Err("timed out".into()))])
                .expect("recorded");
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
        assert!(
            history.iter().any(|n| n.delivered && n.error.is_none()),
            "a delivery is recorded as such, no longer 'sending'"
        );
        assert_eq!(history[0].kind, "fire");
        assert_eq!(history[0].severity, "critical");
    }

    #[test]
    fn two_connections_claiming_at_once_send_the_alert_once() {
        use crate::alert::{Condition, Policy, decide};
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("claim.db");
        let now = OffsetDateTime::from_unix_timestamp(1_000_000).expect("time");
        let id = Store::open(&path)
            .expect("store")
            .add_account(&Account::new("a"), now)
            .expect("account");
        let condition = Condition {
            key: "token_invalid".into(),
            service: Some(crate::tile::Service::Token),
            active: true,
            severity: Severity::Critical,
            immediate: true,
            once: false,
            title: "The access token is invalid or expired".into(),
            body: "expired".into(),
        };
        // Two processes' connections decide on the same stored states at the same moment:
        // the second starts its claim while the first is still deciding.
        let (deciding, started) = std::sync::mpsc::channel();
        let claim = |store: &mut Store, signal: Option<std::sync::mpsc::Sender<()>>| {
            store
                .claim_alerts(id, &["desktop"], now, |states, holds| {
                    if let Some(signal) = signal {
                        signal.send(()).expect("signal");
                        std::thread::sleep(std::time::Duration::from_millis(300));
                    }
                    decide(
                        states,
                        std::slice::from_ref(&condition),
                        now,
                        &Policy::default(),
                        holds,
                    )
                })
                .expect("claimed")
                .len()
        };
        let decided = std::thread::scope(|scope| {
            let first =
                scope.spawn(|| claim(&mut Store::open(&path).expect("store"), Some(deciding)));
            started.recv().expect("the first claim is deciding");
            let second = claim(&mut Store::open(&path).expect("store"), None);
            vec![first.join().expect("thread"), second]
        });
        assert_eq!(
            decided.iter().sum::<usize>(),
            1,
            "exactly one of the two decided to send: {decided:?}"
        );
        let store = Store::open(&path).expect("store");
        let history = store.notifications(id, 10).expect("history");
        assert_eq!(history.len(), 1, "one notification row: {history:?}");
        assert_eq!(
            history[0].error.as_deref(),
            Some(SENDING),
            "claimed, not yet sent"
        );
    }
}
