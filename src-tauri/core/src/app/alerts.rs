//! Alerts for the views: the notification history, and a test notification through every
//! channel of an account (Settings' "Send a test", `meta-monitor notify-test`).

use time::OffsetDateTime;

use super::{App, AppError, lock};
use crate::alert::{Action, ActionKind, Severity};
use crate::notify::{build_message, send_all};
use crate::store::StoreError;
use crate::store::alerts::Notification;

/// One channel's name and whether the notification reached it.
pub type ChannelOutcome = (&'static str, Result<(), String>);

impl App {
    /// The newest notifications of `account`, every channel's outcome included.
    pub fn alerts(&self, account: &str) -> Result<Vec<Notification>, AppError> {
        let (entry, store) = self.entry(account)?;
        Ok(lock(&store).notifications(entry.id, 200)?)
    }

    /// Sends one test notification through each channel the account's settings choose and
    /// records it in the history; returns each channel's outcome.
    pub fn notify_test(&self, account: &str) -> Result<Vec<ChannelOutcome>, AppError> {
        let current = lock(&self.current);
        let watched = current
            .watched
            .iter()
            .find(|w| w.account.name == account)
            .ok_or_else(|| AppError::from(StoreError::NoSuchAccount(account.to_owned())))?;
        let action = Action {
            kind: ActionKind::Fire,
            key: "test".to_owned(),
            severity: Severity::Info,
            title: "Test notification from Meta Monitor".to_owned(),
            body: "If you can read this, alerts for this account reach you here.".to_owned(),
        };
        // Written like every alert: claimed (rows marked sending), sent, then each outcome.
        let notifiers = &watched.secrets().notifiers;
        let channels: Vec<&str> = notifiers.iter().map(|n| n.channel()).collect();
        let now = OffsetDateTime::now_utc();
        let claimed = lock(&watched.store)
            .claim_alerts(watched.id, &channels, now, |_, _| vec![action.clone()])?;
        let outcomes = send_all(notifiers, &build_message(account, &action));
        let rows = claimed.into_iter().flat_map(|(_, rows)| rows);
        let recorded: Vec<_> = rows
            .zip(&outcomes)
            .map(|((id, _), (_, outcome))| (id, outcome.clone()))
            .collect();
        lock(&watched.store).record_deliveries(&recorded)?;
        Ok(outcomes)
    }
}
