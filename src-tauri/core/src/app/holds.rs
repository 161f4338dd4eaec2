//! The operator's say over alerts: acknowledge a firing alert, silence an account or a service
//! for a while, plan maintenance windows, mute everything for an hour (the tray). The decisions
//! are stored next to the alert states and obeyed by the alert state machine, whichever
//! process — the window, `run`, `check` — decides.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use ts_rs::TS;

use super::{App, AppError, ErrorCode, lock};
use crate::alert::{self, Hold, HoldKind, HoldWindow};
use crate::store::holds::StoredHold;
use crate::tile::Service;

/// A firing alert as the Alerts view shows it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct FiringAlert {
    pub account: String,
    pub key: String,
    pub title: String,
    #[serde(with = "time::serde::rfc3339::option")]
    #[ts(type = "string | null")]
    pub since: Option<OffsetDateTime>,
    pub acknowledged_by: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[ts(type = "string | null")]
    pub acknowledged_at: Option<OffsetDateTime>,
    /// Decided during a silence or maintenance window and not sent yet.
    pub held: bool,
}

/// A new silence or maintenance window, as the window's form and the CLI give it.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct NewHold {
    /// `None`: every account.
    pub account: Option<String>,
    pub service: Option<Service>,
    pub kind: HoldKind,
    pub window: HoldWindow,
    pub reason: String,
}

impl App {
    /// The firing alerts of one account or all, oldest first.
    pub fn firing_alerts(&self, account: Option<&str>) -> Result<Vec<FiringAlert>, AppError> {
        let mut out = Vec::new();
        for (name, id, store) in self.stores_of(account)? {
            for (key, state) in lock(&store).alert_states(id)? {
                if !state.firing {
                    continue;
                }
                let ack = state.acknowledged.as_ref();
                out.push(FiringAlert {
                    account: name.clone(),
                    title: if state.title.is_empty() {
                        key.clone()
                    } else {
                        state.title.clone()
                    },
                    key,
                    since: state.since,
                    acknowledged_by: ack.map(|a| a.by.clone()),
                    acknowledged_at: ack.map(|a| a.at),
                    held: state.held.is_some(),
                });
            }
        }
        out.sort_by_key(|a| a.since);
        Ok(out)
    }

    /// Acknowledges the firing alert `key` of `account` as `by`: no reminders until it
    /// resolves; the resolution is still sent.
    pub fn acknowledge(&self, account: &str, key: &str, by: &str) -> Result<(), AppError> {
        let (_, id, store) = self.one_store(account)?;
        let now = self.options.clock.now();
        let mut outcome = Ok(());
        // The claim's transaction: read, change, write — no other process decides meanwhile.
        lock(&store).claim_alerts(id, &[], now, |states, _| {
            outcome = alert::acknowledge(states, key, by, now);
            Vec::new()
        })?;
        outcome.map_err(|e| AppError::new(ErrorCode::NotFound, e))
    }

    /// Stores a silence or maintenance window set by `by`; returns it with its id.
    pub fn add_hold(&self, new: NewHold, by: &str) -> Result<StoredHold, AppError> {
        new.window.validate().map_err(AppError::invalid)?;
        let now = whole_second(self.options.clock.now());
        if new.window.is_over(now) {
            return Err(AppError::invalid("the window is already over"));
        }
        let reason = new.reason.trim();
        if reason.chars().count() > 200 {
            return Err(AppError::invalid("the reason is at most 200 characters"));
        }
        let hold = Hold {
            kind: new.kind,
            service: new.service,
            window: new.window,
            reason: reason.to_owned(),
            by: by.to_owned(),
            created: now,
        };
        let (store, account_id) = match new.account.as_deref() {
            Some(name) => {
                let (_, id, store) = self.one_store(name)?;
                (store, Some(id))
            }
            None => (lock(&self.current).store.clone(), None),
        };
        let id = lock(&store).add_hold(account_id, &hold)?;
        Ok(StoredHold {
            id,
            account: new.account,
            hold,
        })
    }

    /// Silences one account, one service or (no account) everything for `span` from now.
    pub fn silence(
        &self,
        account: Option<&str>,
        service: Option<Service>,
        span: Duration,
        reason: &str,
        by: &str,
    ) -> Result<StoredHold, AppError> {
        let now = whole_second(self.options.clock.now());
        let new = NewHold {
            account: account.map(str::to_owned),
            service,
            kind: HoldKind::Silence,
            window: HoldWindow::Once {
                start: now,
                end: now + span,
            },
            reason: reason.to_owned(),
        };
        self.add_hold(new, by)
    }

    /// Every silence and maintenance window not yet over.
    pub fn holds(&self) -> Result<Vec<StoredHold>, AppError> {
        let now = self.options.clock.now();
        let store = lock(&self.current).store.clone();
        Ok(lock(&store).all_holds(now)?)
    }

    /// Removes a silence or maintenance window (ends it now).
    pub fn remove_hold(&self, id: i64) -> Result<(), AppError> {
        let store = lock(&self.current).store.clone();
        if lock(&store).remove_hold(id)? {
            Ok(())
        } else {
            Err(AppError::new(
                ErrorCode::NotFound,
                format!("no silence or maintenance window has id {id}"),
            ))
        }
    }
}

/// Holds are shown and typed to the second.
fn whole_second(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).unwrap_or(t)
}
