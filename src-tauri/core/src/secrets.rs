//! The OS keychain (macOS Keychain, Windows Credential Manager, Linux Secret Service) via
//! `keyring`: service `meta-monitor`, one entry per account and kind. Unavailable, locked and
//! missing are distinct errors; there is never a plaintext fallback.
//!
//! Calls block (D-Bus on Linux): run them outside async code or in `spawn_blocking`.

use std::fmt;

use crate::graph::Credentials;
use crate::secret::Secret;

pub const DEFAULT_SERVICE: &str = "meta-monitor";
/// Overrides the keychain service name, so tests never touch a user's real entries.
pub const SERVICE_ENV: &str = "META_MONITOR_KEYCHAIN_SERVICE";

/// The secrets an account can have in the keychain, named as the CLI and the window name them
/// (`access-token`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum SecretName {
    AccessToken,
    AppSecret,
    /// The team channel's incoming-webhook URL, which often embeds a secret.
    TeamWebhook,
    /// The `hub.verify_token` of the operator's webhook endpoint.
    VerifyToken,
    /// The Conversions API token of the shop's server, when it is not the access token.
    CapiToken,
}

impl SecretName {
    pub const ALL: [SecretName; 5] = [
        Self::AccessToken,
        Self::AppSecret,
        Self::TeamWebhook,
        Self::VerifyToken,
        Self::CapiToken,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccessToken => "access-token",
            Self::AppSecret => "app-secret",
            Self::TeamWebhook => "team-webhook",
            Self::VerifyToken => "verify-token",
            Self::CapiToken => "capi-token",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

impl fmt::Display for SecretName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum KeychainError {
    #[error(
        "the OS keychain is unavailable ({detail}); on Linux a Secret Service provider such as \
         GNOME Keyring or KWallet must run in your session. Secrets are never stored elsewhere"
    )]
    Unavailable { detail: String },
    #[error(
        "the OS keychain is locked ({detail}); unlock it (log in to the desktop session) and retry"
    )]
    Locked { detail: String },
    #[error(
        "no {kind} stored for account {account}; run: meta-monitor secret set {account} {kind}"
    )]
    Missing { account: String, kind: &'static str },
    #[error("keychain error: {0}")]
    Other(String),
}

/// The keychain, addressed by a service name.
#[derive(Debug, Clone)]
pub struct Keychain {
    service: String,
}

impl Default for Keychain {
    fn default() -> Self {
        Self::new()
    }
}

impl Keychain {
    /// The service from `META_MONITOR_KEYCHAIN_SERVICE`, else `meta-monitor`.
    pub fn new() -> Self {
        let service = std::env::var(SERVICE_ENV)
            .ok()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_SERVICE.to_owned());
        Self { service }
    }

    pub fn with_service(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
        }
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    fn entry(&self, account: &str, kind: SecretName) -> Result<keyring::Entry, KeychainError> {
        keyring::Entry::new(&self.service, &format!("{account}/{kind}")).map_err(map_error)
    }

    /// The entry of a token staged by a renewal in progress (`{account}/{kind}.next`): kept
    /// beside the current one until the new token is verified and has replaced it.
    fn staged_entry(
        &self,
        account: &str,
        kind: SecretName,
    ) -> Result<keyring::Entry, KeychainError> {
        keyring::Entry::new(&self.service, &format!("{account}/{kind}.next")).map_err(map_error)
    }

    pub fn get_staged(
        &self,
        account: &str,
        kind: SecretName,
    ) -> Result<Option<Secret>, KeychainError> {
        match self.staged_entry(account, kind)?.get_password() {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_error(e)),
        }
    }

    pub fn set_staged(
        &self,
        account: &str,
        kind: SecretName,
        value: &Secret,
    ) -> Result<(), KeychainError> {
        self.staged_entry(account, kind)?
            .set_password(value.expose())
            .map_err(map_error)
    }

    /// `Ok(false)` when nothing was staged.
    pub fn delete_staged(&self, account: &str, kind: SecretName) -> Result<bool, KeychainError> {
        match self.staged_entry(account, kind)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(map_error(e)),
        }
    }

    /// `Ok(None)` when no entry exists.
    pub fn get(&self, account: &str, kind: SecretName) -> Result<Option<Secret>, KeychainError> {
        match self.entry(account, kind)?.get_password() {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_error(e)),
        }
    }

    pub fn set(
        &self,
        account: &str,
        kind: SecretName,
        value: &Secret,
    ) -> Result<(), KeychainError> {
        self.entry(account, kind)?
            .set_password(value.expose())
            .map_err(map_error)
    }

    /// `Ok(false)` when there was nothing to delete.
    pub fn delete(&self, account: &str, kind: SecretName) -> Result<bool, KeychainError> {
        match self.entry(account, kind)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(map_error(e)),
        }
    }

    /// The access token (required) and the app secret (optional) of an account.
    pub fn credentials(&self, account: &str) -> Result<Credentials, KeychainError> {
        let access_token =
            self.get(account, SecretName::AccessToken)?
                .ok_or_else(|| KeychainError::Missing {
                    account: account.to_owned(),
                    kind: SecretName::AccessToken.as_str(),
                })?;
        let app_secret = self.get(account, SecretName::AppSecret)?;
        let verify_token = self.get(account, SecretName::VerifyToken)?;
        let capi_token = self.get(account, SecretName::CapiToken)?;
        Ok(Credentials {
            access_token,
            app_secret,
            verify_token,
            capi_token,
        })
    }
}

fn map_error(err: keyring::Error) -> KeychainError {
    match err {
        keyring::Error::NoDefaultStore => {
            let detail = match keyring::Entry::store_status() {
                Err(cause) => cause.to_string(),
                Ok(()) => "no default credential store".to_owned(),
            };
            KeychainError::Unavailable { detail }
        }
        keyring::Error::PlatformFailure(e) => KeychainError::Unavailable {
            detail: e.to_string(),
        },
        keyring::Error::NoStorageAccess(e) => KeychainError::Locked {
            detail: e.to_string(),
        },
        other => KeychainError::Other(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_parses_from_its_name() {
        for kind in [
            SecretName::AccessToken,
            SecretName::AppSecret,
            SecretName::TeamWebhook,
            SecretName::VerifyToken,
            SecretName::CapiToken,
        ] {
            assert_eq!(SecretName::parse(kind.as_str()), Some(kind), "{kind}");
        }
        assert_eq!(SecretName::parse("password"), None);
    }
}
