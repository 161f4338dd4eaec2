//! The token workflows: inspect the token like Meta's debugger, renew it now, and exchange a
//! short-lived user token for a long-lived one — each stores only a verified token, in the
//! place the account keeps its token, and hands it to the running monitor.

use time::OffsetDateTime;

use super::{App, AppError, ErrorCode, lock};
use crate::graph::Credentials;
use crate::monitor::{Pauses, Scope};
use crate::secret::Secret;
use crate::secrets::{Keychain, SecretName};
use crate::tile::{Service, Tile};
use crate::token::TokenSource;
use crate::token::renew;

impl App {
    /// Checks `account`'s token now and returns its tile: the details (type, app, user,
    /// expiry, data access, scopes and what a missing one breaks, renewal) are its `Detail`.
    pub async fn token(&self, account: &str) -> Result<Tile, AppError> {
        let outcome = self
            .check(account, Scope::One(Service::Token), Pauses::Ignore)
            .await?;
        outcome
            .tiles
            .tiles
            .into_iter()
            .find(|t| t.service == Service::Token)
            .ok_or_else(|| AppError::new(ErrorCode::Internal, "the token check stored no tile"))
    }

    /// Renews `account`'s token now ("Renew now", `meta-monitor token renew`), whatever its
    /// expiry: Meta's call, verified, then swapped in. The token tile after it.
    pub async fn renew_token(&self, account: &str) -> Result<Tile, AppError> {
        let (entry, _) = self.entry(account)?;
        let credentials = entry.credentials.clone().map_err(AppError::from)?;
        let now = OffsetDateTime::now_utc();
        let renewed = renew::renew(
            &self.http(),
            &entry.account,
            &credentials,
            entry.token_source,
            None,
            now,
        )
        .await?;
        self.use_new_token(account, entry.token_source, renewed.credentials)
            .await
    }

    /// Exchanges a short-lived user token (Graph API Explorer's) for a long-lived one with the
    /// account's app id and secret, verifies it, and stores only the long-lived token. A
    /// failure changes nothing.
    pub async fn exchange_token(&self, account: &str, short_lived: &str) -> Result<Tile, AppError> {
        let short_lived = short_lived.trim();
        if short_lived.is_empty() || short_lived.chars().any(char::is_whitespace) {
            return Err(AppError::invalid(
                "paste the whole token: one line without spaces",
            ));
        }
        let (entry, _) = self.entry(account)?;
        let app_secret = match (&entry.credentials, entry.token_source) {
            (Ok(c), TokenSource::Memory | TokenSource::Environment) => c.app_secret.clone(),
            _ => {
                tokio::task::block_in_place(|| Keychain::new().get(account, SecretName::AppSecret))?
            }
        };
        let renewed = renew::exchange_short_lived(
            &self.http(),
            &entry.account,
            Secret::new(short_lived),
            app_secret,
            entry.token_source,
            OffsetDateTime::now_utc(),
        )
        .await?;
        self.use_new_token(account, entry.token_source, renewed.credentials)
            .await
    }

    /// Hands a new, stored token to the running monitor and measures it.
    async fn use_new_token(
        &self,
        account: &str,
        source: TokenSource,
        credentials: Credentials,
    ) -> Result<Tile, AppError> {
        match source {
            // The keychain holds it: read back like a secret the operator saved.
            TokenSource::Keychain => self.renew_secrets(account)?,
            TokenSource::Memory | TokenSource::Environment => {
                let watched = lock(&self.current).watched.clone();
                if let Some(w) = watched.iter().find(|w| w.account.name == account) {
                    w.use_credentials(credentials);
                }
            }
        }
        self.token(account).await
    }
}
