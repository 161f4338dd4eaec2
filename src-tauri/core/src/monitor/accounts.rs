//! The watched accounts with their keychain secrets, read once: the same loading for the
//! desktop, `meta-monitor check` and `meta-monitor run`. Keychain reads block on D-Bus: call
//! these off the async workers.

use std::sync::{Arc, Mutex};

use time::OffsetDateTime;

use super::{Secrets, Watched};
use crate::account::Account;
use crate::graph::Credentials;
use crate::notify;
use crate::secret::Secret;
use crate::secrets::{Keychain, KeychainError, SecretName};
use crate::store::accounts::StoredAccount;
use crate::store::{Store, StoreError};
use crate::token::TokenSource;

/// One configured account and what the keychain gave for it.
#[derive(Clone)]
pub struct AccountEntry {
    pub id: i64,
    pub account: Account,
    /// `Err` says why the keychain gave no credentials (locked, missing token…).
    pub credentials: Result<Credentials, KeychainError>,
    pub team_webhook: Option<Secret>,
    /// Where the access token is kept, which decides whether a renewed one can be kept.
    pub token_source: TokenSource,
}

impl AccountEntry {
    /// Every account of `stored` with its secrets.
    pub fn load_all(stored: Vec<StoredAccount>, keychain: &Keychain) -> Vec<Self> {
        stored
            .into_iter()
            .map(|s| Self::load(s, keychain))
            .collect()
    }

    /// One account with its secrets.
    pub fn load(stored: StoredAccount, keychain: &Keychain) -> Self {
        let name = &stored.account.name;
        Self {
            id: stored.id,
            credentials: keychain.credentials(name),
            team_webhook: keychain.get(name, SecretName::TeamWebhook).ok().flatten(),
            token_source: TokenSource::Keychain,
            account: stored.account,
        }
    }

    /// The same account with its secrets read again (after the operator saved one).
    pub fn reread(&self, keychain: &Keychain) -> Self {
        Self::load(
            StoredAccount {
                id: self.id,
                account: self.account.clone(),
            },
            keychain,
        )
    }

    /// An account whose secrets were not asked for (commands that only read the database).
    pub fn without_secrets(stored: StoredAccount) -> Self {
        Self {
            id: stored.id,
            credentials: Err(KeychainError::Other(
                "the keychain was not read for this command".to_owned(),
            )),
            team_webhook: None,
            token_source: TokenSource::Keychain,
            account: stored.account,
        }
    }

    /// An account held in memory only (the `env` account, the demo): its own in-memory store,
    /// never the database file.
    pub fn in_memory(
        account: Account,
        credentials: Credentials,
        now: OffsetDateTime,
    ) -> Result<(Arc<Mutex<Store>>, Self), StoreError> {
        let store = Store::in_memory()?;
        let id = store.add_account(&account, now)?;
        let entry = Self {
            id,
            account,
            credentials: Ok(credentials),
            team_webhook: None,
            token_source: TokenSource::Memory,
        };
        Ok((Arc::new(Mutex::new(store)), entry))
    }

    /// The account as the monitor checks it, with the channels its settings choose; `notify`
    /// false decides and sends no alert at all (`check --no-notify`).
    pub fn watched(&self, store: Arc<Mutex<Store>>, notify: bool) -> Result<Watched, String> {
        let mut watched = Watched::new(
            store,
            self.id,
            self.account.clone(),
            self.secrets()?,
            notify,
        );
        watched.token_source = self.token_source;
        Ok(watched)
    }

    /// The credentials and the channels the account's settings choose.
    pub fn secrets(&self) -> Result<Secrets, String> {
        Ok(Secrets {
            credentials: self.credentials.clone().map_err(|e| e.to_string()),
            notifiers: Arc::new(notify::channels(
                &self.account.monitoring,
                self.team_webhook.clone(),
            )?),
        })
    }
}
