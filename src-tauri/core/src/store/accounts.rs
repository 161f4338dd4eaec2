//! `accounts`: the non-secret settings of each account. Secrets live in the keychain only.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError, to_ms};
use crate::account::Account;

/// A stored account with its row id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAccount {
    pub id: i64,
    pub account: Account,
}

const COLUMNS: &str = "id, name, graph_url, api_version, app_id, ad_account_id, pixel_id, \
                       catalog_id, business_id, test_event_code, webhook_endpoints, monitoring";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredAccount> {
    Ok(StoredAccount {
        id: r.get(0)?,
        account: Account {
            name: r.get(1)?,
            graph_url: r.get(2)?,
            api_version: r.get(3)?,
            app_id: r.get(4)?,
            ad_account_id: r.get(5)?,
            pixel_id: r.get(6)?,
            catalog_id: r.get(7)?,
            business_id: r.get(8)?,
            test_event_code: r.get(9)?,
            webhook_endpoints: serde_json::from_str(&r.get::<_, String>(10)?).unwrap_or_default(),
            // Unknown or missing fields read as the defaults (see `Monitoring`).
            monitoring: serde_json::from_str(&r.get::<_, String>(11)?).unwrap_or_default(),
        },
    })
}

fn monitoring_json(a: &Account) -> String {
    serde_json::to_string(&a.monitoring).unwrap_or_else(|_| "{}".to_owned())
}

impl Store {
    pub fn add_account(&self, a: &Account, now: time::OffsetDateTime) -> Result<i64, StoreError> {
        if self.account(&a.name)?.is_some() {
            return Err(StoreError::DuplicateAccount(a.name.clone()));
        }
        self.conn().execute(
            "INSERT INTO accounts (name, graph_url, api_version, app_id, ad_account_id, pixel_id,
             catalog_id, business_id, test_event_code, created_at, webhook_endpoints, monitoring)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                a.name,
                a.graph_url,
                a.api_version,
                a.app_id,
                a.ad_account_id,
                a.pixel_id,
                a.catalog_id,
                a.business_id,
                a.test_event_code,
                to_ms(now),
                serde_json::to_string(&a.webhook_endpoints).unwrap_or_else(|_| "[]".to_owned()),
                monitoring_json(a)
            ],
        )?;
        Ok(self.conn().last_insert_rowid())
    }

    /// Replaces the non-secret settings of the account named `a.name`.
    pub fn update_account(&self, a: &Account) -> Result<(), StoreError> {
        let changed = self.conn().execute(
            "UPDATE accounts SET graph_url = ?2, api_version = ?3, app_id = ?4, ad_account_id = ?5,
             pixel_id = ?6, catalog_id = ?7, business_id = ?8, test_event_code = ?9,
             webhook_endpoints = ?10, monitoring = ?11 WHERE name = ?1",
            params![
                a.name,
                a.graph_url,
                a.api_version,
                a.app_id,
                a.ad_account_id,
                a.pixel_id,
                a.catalog_id,
                a.business_id,
                a.test_event_code,
                serde_json::to_string(&a.webhook_endpoints).unwrap_or_else(|_| "[]".to_owned()),
                monitoring_json(a)
            ],
        )?;
        match changed {
            0 => Err(StoreError::NoSuchAccount(a.name.clone())),
            _ => Ok(()),
        }
    }

    pub fn account(&self, name: &str) -> Result<Option<StoredAccount>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM accounts WHERE name = ?1");
        Ok(self.conn().query_row(&sql, [name], row).optional()?)
    }

    pub fn require_account(&self, name: &str) -> Result<StoredAccount, StoreError> {
        self.account(name)?
            .ok_or_else(|| StoreError::NoSuchAccount(name.to_owned()))
    }

    pub fn accounts(&self) -> Result<Vec<StoredAccount>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM accounts ORDER BY name");
        let mut stmt = self.conn().prepare(&sql)?;
        let rows = stmt.query_map([], row)?.collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Removes the account and, by cascade, its runs, points and tiles.
    pub fn remove_account(&mut self, name: &str) -> Result<(), StoreError> {
        self.series_ids.clear();
        match self
            .conn()
            .execute("DELETE FROM accounts WHERE name = ?1", [name])?
        {
            0 => Err(StoreError::NoSuchAccount(name.to_owned())),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_round_trip_and_names_are_unique() {
        let mut store = Store::in_memory().expect("store");
        let mut a = Account::new("shop");
        a.pixel_id = Some("42".into());
        a.monitoring.pixel_minutes = 20;
        a.monitoring.notify_desktop = false;
        store
            .add_account(&a, time::OffsetDateTime::UNIX_EPOCH)
            .expect("added");
        assert_eq!(store.require_account("shop").expect("found").account, a);
        assert!(matches!(
            store.add_account(&a, time::OffsetDateTime::UNIX_EPOCH),
            Err(StoreError::DuplicateAccount(_))
        ));
        store.remove_account("shop").expect("removed");
        assert!(matches!(
            store.remove_account("shop"),
            Err(StoreError::NoSuchAccount(_))
        ));
    }
}
