//! Incidents and uptime for the views and `meta-monitor incidents`: read from the stored
//! status transitions (no Graph call), one account or all.

use std::sync::{Arc, Mutex};

use serde::Deserialize;
use time::{Duration, OffsetDateTime};
use ts_rs::TS;

use super::{App, AppError, lock};
use crate::incident::{self, Incident, STRIP_DAYS, ServiceUptime};
use crate::store::transitions::Transition;
use crate::store::{Store, StoreError};
use crate::tile::{Service, Status};

/// A watched account's name, id and store.
pub(super) type AccountStore = (String, i64, Arc<Mutex<Store>>);

/// Which incidents to list.
#[derive(Debug, Clone, Default, Deserialize, TS)]
pub struct IncidentQuery {
    /// One account (default: every watched account).
    pub account: Option<String>,
    pub service: Option<Service>,
    /// Only incidents whose worst status was this.
    pub worst: Option<Status>,
    /// Incidents overlapping the last `hours` (default 30 days).
    pub hours: Option<u32>,
}

impl App {
    /// The incidents matching `query`, newest first.
    pub fn incidents(&self, query: &IncidentQuery) -> Result<Vec<Incident>, AppError> {
        let now = self.options.clock.now();
        let from = now - Duration::hours(i64::from(query.hours.unwrap_or(30 * 24)));
        let mut found = Vec::new();
        for (name, id, store) in self.stores_of(query.account.as_deref())? {
            for (_, history) in history_by_service(&lock(&store), id, from)? {
                found.extend(
                    incident::incidents(&name, &history, now)
                        .into_iter()
                        .filter(|i| i.ended.is_none_or(|end| end > from))
                        .filter(|i| query.service.is_none_or(|s| s == i.service))
                        .filter(|i| query.worst.is_none_or(|w| w == i.worst)),
                );
            }
        }
        found.sort_by_key(|i| std::cmp::Reverse(i.started));
        Ok(found)
    }

    /// Writes the incidents matching `query` to `path` as CSV (the window's export).
    pub fn export_incidents(
        &self,
        query: &IncidentQuery,
        path: &std::path::Path,
    ) -> Result<usize, AppError> {
        let found = self.incidents(query)?;
        let text = incident::incidents_csv(&found)
            .map_err(|e| AppError::new(super::ErrorCode::Internal, e))?;
        super::history::write_file(path, text.as_bytes())?;
        Ok(found.len())
    }

    /// Each service's uptime over 24 h, 7 d, 30 d and 90 d, its incidents and daily strip.
    pub fn uptime(&self, account: &str) -> Result<Vec<ServiceUptime>, AppError> {
        let now = self.options.clock.now();
        let from = now.replace_time(time::Time::MIDNIGHT) - Duration::days(STRIP_DAYS);
        let (_, id, store) = self.one_store(account)?;
        let by_service = history_by_service(&lock(&store), id, from)?;
        Ok(by_service
            .into_iter()
            .map(|(service, history)| incident::service_uptime(account, service, &history, now))
            .collect())
    }

    /// One watched account's name, id and store.
    pub(super) fn one_store(&self, account: &str) -> Result<AccountStore, AppError> {
        self.stores_of(Some(account))?
            .pop()
            .ok_or_else(|| StoreError::NoSuchAccount(account.to_owned()).into())
    }

    /// One watched account or all.
    pub(super) fn stores_of(&self, only: Option<&str>) -> Result<Vec<AccountStore>, AppError> {
        let current = lock(&self.current);
        let found: Vec<_> = current
            .watched
            .iter()
            .filter(|w| only.is_none_or(|name| w.account.name == name))
            .map(|w| (w.account.name.clone(), w.id, w.store.clone()))
            .collect();
        match only {
            Some(name) if found.is_empty() => {
                Err(StoreError::NoSuchAccount(name.to_owned()).into())
            }
            _ => Ok(found),
        }
    }
}

/// Each service's transitions since `from`, preceded by the one in force at `from`.
fn history_by_service(
    store: &Store,
    account_id: i64,
    from: OffsetDateTime,
) -> Result<Vec<(Service, Vec<Transition>)>, StoreError> {
    let opening = store.statuses_before(account_id, from)?;
    let inside = store.transitions(account_id, from)?;
    Ok(Service::ALL
        .into_iter()
        .map(|service| {
            let history = opening
                .iter()
                .chain(&inside)
                .filter(|t| t.service == service)
                .cloned()
                .collect();
            (service, history)
        })
        .collect())
}
