//! `App::diagnose`: the rules of [`crate::diagnose`] over what is stored for one account — its
//! latest tiles and the events Meta Monitor sent in the last 24 h. No network: the findings
//! are as fresh as the last check.

use serde::Serialize;
use time::OffsetDateTime;
use ts_rs::TS;

use super::{App, AppError, lock};
use crate::diagnose::{Finding, Level};
use crate::monitor::digest::stored_findings;

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
        let findings = stored_findings(&lock(&store), id, now, token_warning_days)?;
        Ok(Diagnosis {
            account: name,
            at: now,
            findings,
        })
    }
}
