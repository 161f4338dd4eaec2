//! `App::diagnose`: the rules of [`crate::diagnose`] over what is stored for one account — its
//! latest tiles and the events Meta Monitor sent in the last 24 h. No network: the findings
//! are as fresh as the last check.

use serde::Serialize;
use time::{Duration, OffsetDateTime};
use ts_rs::TS;

use super::{App, AppError, lock};
use crate::diagnose::{Finding, Level, Measured, SentEvent, diagnose};

/// Events read for the diagnostics: a day of sends is rarely more; the newest are enough.
const SENT_EVENTS_READ: u32 = 5_000;

/// An account's findings.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Diagnosis {
    pub account: String,
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub at: OffsetDateTime,
    /// Errors first, then warnings, then notes.
    pub findings: Vec<Finding>,
}

impl Diagnosis {
    /// Whether a finding loses conversions or data now.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.level == Level::Error)
    }
}

impl App {
    /// The findings for `account` from its stored tiles and sent events.
    pub fn diagnose(&self, account: &str) -> Result<Diagnosis, AppError> {
        let (name, id, store) = self.one_store(account)?;
        let token_warning_days = {
            let current = lock(&self.current);
            current
                .watched
                .iter()
                .find(|w| w.id == id)
                .map_or(7, |w| i64::from(w.account.monitoring.token_warning_days))
        };
        let now = self.options.clock.now();
        let store = lock(&store);
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
        let findings = diagnose(&Measured {
            now,
            tiles: &tiles,
            sent: &sent,
            token_warning_days,
        });
        Ok(Diagnosis {
            account: name,
            at: now,
            findings,
        })
    }
}
