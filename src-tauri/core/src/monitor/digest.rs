//! The findings of one account from what is stored (its latest tiles and the events sent in the
//! last 24 h), shared by the Diagnostics view and the daily digest, and the digest's step after
//! a check: due → claimed in the database → sent to the team channel → recorded.

use time::{Duration, OffsetDateTime};

use super::{Monitor, Watched, lock};
use crate::alert::{Action, digest};
use crate::diagnose::{Finding, Measured, SentEvent, diagnose};
use crate::notify::Notifier;
use crate::store::{Store, StoreError};

/// Events read for the diagnostics: a day of sends is rarely more; the newest are enough.
const SENT_EVENTS_READ: u32 = 5_000;

/// The team channel's name (the digest is for the team, not a desktop pop-up).
const TEAM_CHANNEL: &str = "webhook";

/// The diagnostics of account `id` from its stored tiles and the events sent in the 24 h
/// before `now`. No network: as fresh as the last check.
pub fn stored_findings(
    store: &Store,
    id: i64,
    now: OffsetDateTime,
    token_warning_days: i64,
) -> Result<Vec<Finding>, StoreError> {
    let tiles = store.tiles(id)?;
    let sent: Vec<SentEvent> = store
        .sent_events_since(id, now - Duration::DAY, SENT_EVENTS_READ)?
        .into_iter()
        .map(|e| SentEvent {
            sent_at: e.sent_at,
            event_time: e.event_time,
            test_event_code: e.test_event_code,
            keys: e.keys,
        })
        .collect();
    Ok(diagnose(&Measured {
        now,
        tiles: &tiles,
        sent: &sent,
        token_warning_days,
    }))
}

impl Monitor {
    /// Sends the account's findings digest when it is switched on and due, once a day across
    /// every process watching the same database: the claim and the history rows are written
    /// in one transaction, so the window and `meta-monitor run` never both send it.
    pub(super) fn digest(
        &self,
        watched: &Watched,
        notifiers: &[Box<dyn Notifier>],
        now: OffsetDateTime,
    ) -> Result<Option<Action>, StoreError> {
        let monitoring = &watched.account.monitoring;
        if !watched.alerts || !monitoring.findings_digest {
            return Ok(None);
        }
        let due = digest::due_at(now, monitoring.digest_hour_utc);
        let name = &watched.account.name;
        let team: Vec<&dyn Notifier> = notifiers
            .iter()
            .filter(|n| n.channel() == TEAM_CHANNEL)
            .map(AsRef::as_ref)
            .collect();
        let channels: Vec<&str> = team.iter().map(|n| n.channel()).collect();
        let claimed = {
            let mut store = lock(&watched.store);
            // Read before claiming so an hour of steps after today's digest costs one read of
            // the alert memory, not the diagnostics.
            let states = store.alert_states(watched.id)?;
            if states
                .get(digest::KEY)
                .and_then(|s| s.last_sent)
                .is_some_and(|last| last >= due)
            {
                return Ok(None);
            }
            let warning_days = i64::from(monitoring.token_warning_days);
            let findings = stored_findings(&store, watched.id, now, warning_days)?;
            let action = digest::action(name, &findings);
            store.claim_alerts(watched.id, &channels, now, |states, _| match digest::claim(
                states, due, now,
            ) {
                true => action.into_iter().collect(),
                false => Vec::new(),
            })?
        };
        let Some((action, rows)) = claimed.into_iter().next() else {
            tracing::debug!(account = %name, "findings digest: nothing to report today");
            return Ok(None);
        };
        if team.is_empty() {
            tracing::info!(account = %name, title = %action.title,
                "findings digest decided; no team webhook is configured");
        }
        self.deliver(watched, &team, &action, rows)?;
        Ok(Some(action))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Account;
    use crate::alert::{ActionKind, Severity};

    #[test]
    fn two_connections_to_one_database_claim_a_day_s_digest_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("digest.db");
        let now = OffsetDateTime::from_unix_timestamp(1_790_000_000).expect("time");
        let mut window = Store::open(&path).expect("store");
        let id = window
            .add_account(&Account::new("shop"), now)
            .expect("account");
        let mut server = Store::open(&path).expect("a second connection");
        let due = digest::due_at(now, 8);
        let action = Action {
            kind: ActionKind::Digest,
            key: digest::KEY.to_owned(),
            severity: Severity::Warning,
            title: "Daily findings: 1 warning".to_owned(),
            body: "- warning …".to_owned(),
        };
        let claim = |store: &mut Store| {
            store
                .claim_alerts(id, &["webhook"], now, |states, _| {
                    match digest::claim(states, due, now) {
                        true => vec![action.clone()],
                        false => Vec::new(),
                    }
                })
                .expect("claim")
                .len()
        };
        let claims = claim(&mut window) + claim(&mut server) + claim(&mut window);
        assert_eq!(claims, 1, "one digest whoever asks");
        let history = server.notifications(id, 10).expect("history");
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].kind, "digest");
        assert_eq!(history[0].channel, "webhook");
    }
}
