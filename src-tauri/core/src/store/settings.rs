//! The installation's settings (the HTTPS proxy): a few keys with text values, in the database
//! both the window and the command line open. Nothing secret is stored here.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};

impl Store {
    /// The value of `key`, if it is set.
    pub fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT value FROM settings WHERE key = ?1",
                params![key],
                |row| row.get(0),
            )
            .optional()?)
    }

    /// Sets `key` to `value`, or removes it.
    pub fn set_setting(&self, key: &str, value: Option<&str>) -> Result<(), StoreError> {
        match value {
            Some(v) => self.conn.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![key, v],
            )?,
            None => self
                .conn
                .execute("DELETE FROM settings WHERE key = ?1", params![key])?,
        };
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, reason = "a failed step must fail the test")]
mod tests {
    use super::*;

    #[test]
    fn a_setting_is_set_replaced_and_removed() {
        let store = Store::in_memory().expect("store");
        assert_eq!(store.setting("https_proxy").expect("read"), None);
        store
            .set_setting("https_proxy", Some("http://a:1"))
            .expect("set");
        store
            .set_setting("https_proxy", Some("http://b:2"))
            .expect("replace");
        assert_eq!(
            store.setting("https_proxy").expect("read").as_deref(),
            Some("http://b:2")
        );
        store.set_setting("https_proxy", None).expect("remove");
        assert_eq!(store.setting("https_proxy").expect("read"), None);
    }
}
