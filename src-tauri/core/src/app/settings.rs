//! Settings: accounts added, edited and removed in the database file (removal takes the
//! account's keychain entries with it); their secrets checked and entered into the OS
//! keychain and never sent back (only whether each is stored); "Test connection".

use crate::account::Account;
use crate::graph::{Credentials, GraphClient, Timeouts, http_client};
use crate::probe::{self, ProbeContext};
use crate::secret::Secret;
use crate::secrets::Keychain;
use crate::store::Store;
use crate::tile::{Service, Status};
use time::OffsetDateTime;

use super::types::{
    ConnectionTest, KeychainStatus, SecretName, SecretState, SettingsView, StoredAccountView,
};
use super::{App, AppError, ErrorCode};

impl App {
    fn file_store(&self) -> Result<Store, AppError> {
        Ok(Store::open(self.db_path())?)
    }

    /// The configured accounts with which secrets are stored, and the keychain's state.
    pub fn settings(&self) -> Result<SettingsView, AppError> {
        let accounts = self.file_store()?.accounts()?;
        let keychain = Keychain::new();
        let mut problem = None;
        let views = accounts
            .into_iter()
            .map(|stored| {
                let secrets = SecretName::ALL
                    .iter()
                    .map(|name| {
                        let stored = match keychain.get(&stored.account.name, *name) {
                            Ok(value) => Some(value.is_some()),
                            Err(e) => {
                                problem.get_or_insert(e.to_string());
                                None
                            }
                        };
                        SecretState {
                            name: *name,
                            stored,
                        }
                    })
                    .collect();
                StoredAccountView {
                    warning: stored.account.graph_url_warning(),
                    account: stored.account,
                    secrets,
                }
            })
            .collect();
        Ok(SettingsView {
            demo: self.is_demo(),
            accounts: views,
            keychain: KeychainStatus {
                available: problem.is_none(),
                problem,
            },
            new_account: Account::new(""),
            log_folder: None,
        })
    }

    /// The configured accounts (the database file's), in name order.
    pub fn accounts(&self) -> Result<Vec<Account>, AppError> {
        let stored = self.file_store()?.accounts()?;
        Ok(stored.into_iter().map(|s| s.account).collect())
    }

    /// One configured account; an unknown name is `no_such_account`.
    pub fn account(&self, name: &str) -> Result<Account, AppError> {
        Ok(self.file_store()?.require_account(name)?.account)
    }

    /// Adds (`is_new`) or updates an account's non-secret settings, after validation. A new
    /// account never adopts keychain entries left under its name (by an account removed while
    /// the keychain was unreachable): they are deleted, and the returned note says so.
    pub fn save_account(&self, account: Account, is_new: bool) -> Result<Option<String>, AppError> {
        let account = account
            .validate()
            .map_err(|e| AppError::new(ErrorCode::InvalidInput, e))?;
        let store = self.file_store()?;
        if !is_new {
            store.update_account(&account)?;
            return Ok(None);
        }
        store.add_account(&account, OffsetDateTime::now_utc())?;
        let keychain = Keychain::new();
        let mut left = Vec::new();
        for secret in SecretName::ALL {
            // No keychain (a server): nothing can be left over in it either.
            if keychain.delete(&account.name, secret).unwrap_or(false) {
                left.push(secret.as_str());
            }
        }
        if left.is_empty() {
            return Ok(None);
        }
        tracing::warn!(account = %account.name, entries = ?left,
            "deleted keychain entries left by an earlier account of this name");
        Ok(Some(format!(
            "the keychain still held {} from an earlier account named {}; deleted, not \
             adopted — set this account's secrets anew",
            left.join(", "),
            account.name
        )))
    }

    /// Removes an account, its history and its keychain entries.
    /// Returns a note when the keychain could not be reached to delete the account's secrets
    /// (a server without a Secret Service): the account is removed all the same.
    pub fn remove_account(&self, name: &str) -> Result<Option<String>, AppError> {
        self.file_store()?.remove_account(name)?;
        let keychain = Keychain::new();
        for secret in SecretName::ALL {
            if let Err(e) = keychain.delete(name, secret) {
                tracing::warn!(account = %name, error = %e,
                    "removed; its keychain entries could not be deleted");
                return Ok(Some(format!(
                    "its keychain entries could not be deleted ({e}); delete them with \
                     meta-monitor secret delete {name} KIND once the keychain is reachable"
                )));
            }
        }
        Ok(None)
    }

    /// Puts a secret into the keychain (nowhere else) once it looks like one: not empty, no
    /// whitespace inside (a pasted line break or a second word), a team webhook an http(s)
    /// URL. Returns it masked, for the confirmation.
    pub fn set_secret(
        &self,
        account: &str,
        name: SecretName,
        value: &str,
    ) -> Result<String, AppError> {
        let value = value.trim();
        let what = name.as_str();
        if value.is_empty() {
            return Err(AppError::invalid(format!("the {what} is empty")));
        }
        if value.chars().any(char::is_whitespace) {
            return Err(AppError::invalid(format!(
                "the {what} contains whitespace; paste only the value"
            )));
        }
        let allowed = url::Url::parse(value).is_ok_and(|u| crate::account::is_allowed_url(&u));
        if name == SecretName::TeamWebhook && !allowed {
            return Err(AppError::invalid(
                "the team-webhook must be an https:// URL (http:// only to this machine)",
            ));
        }
        self.file_store()?.require_account(account)?;
        let secret = Secret::new(value);
        Keychain::new().set(account, name, &secret)?;
        self.renew_secrets(account)?;
        Ok(secret.masked())
    }

    /// Deletes a secret from the keychain; false when none was stored. The account is watched
    /// without it from now on.
    pub fn delete_secret(&self, account: &str, name: SecretName) -> Result<bool, AppError> {
        let deleted = Keychain::new().delete(account, name)?;
        self.renew_secrets(account)?;
        Ok(deleted)
    }

    /// Runs the token and graph_api probes of a configured account with its keychain secrets
    /// and explains the outcome in words.
    pub async fn test_connection(&self, name: &str) -> Result<ConnectionTest, AppError> {
        let (account, credentials) = tokio::task::block_in_place(|| {
            let account = self.file_store()?.require_account(name)?.account;
            let credentials: Credentials = Keychain::new().credentials(name)?;
            Ok::<_, AppError>((account, credentials))
        })?;
        Ok(probe_connection(&account, credentials).await)
    }
}

/// The token and graph_api probes, and what their outcome means for the operator.
pub async fn probe_connection(account: &Account, credentials: Credentials) -> ConnectionTest {
    let now = OffsetDateTime::now_utc();
    let thresholds = account.monitoring.thresholds();
    let client = http_client(Timeouts::default())
        .map_err(|e| e.to_string())
        .and_then(|http| {
            GraphClient::new(
                http,
                &account.graph_url,
                &account.api_version,
                credentials,
                account.app_id.clone(),
            )
            .map_err(|e| e.to_string())
        });
    let client = match client {
        Ok(c) => c,
        Err(why) => {
            return ConnectionTest {
                ok: false,
                tiles: Vec::new(),
                explanation: format!("Could not set up the connection: {why}"),
            };
        }
    };
    let ctx = ProbeContext {
        account,
        client: &client,
        now,
        thresholds: &thresholds,
        token_source: None,
    };
    let mut tiles = Vec::new();
    for service in [Service::Token, Service::GraphApi] {
        if let Some(report) = probe::run(service, &ctx).await {
            tiles.push(report.tile);
        }
    }
    let ok = tiles.iter().all(|t| t.status == Status::Up);
    let explanation = explain(&tiles);
    ConnectionTest {
        ok,
        tiles,
        explanation,
    }
}

/// One sentence an operator can act on: the advice of the first failing tile's error (the
/// core's one table), or why nothing could be said.
fn explain(tiles: &[crate::Tile]) -> String {
    let Some(first) = tiles.iter().find(|t| t.status != Status::Up) else {
        return "Connected: the token is valid and the Graph API answers.".to_owned();
    };
    match &first.error {
        Some(error) => error.advice.clone(),
        None => "The check did not pass; see the message below.".to_owned(),
    }
}
