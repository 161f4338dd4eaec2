//! Renewing a token, and exchanging a short-lived one, so that a crash at any moment leaves a
//! working token where the account keeps it — never none:
//!
//! 1. Meta is asked for a new token (the old one stays valid until its own expiry, §14);
//! 2. the new token is *staged* beside the old one (a crash now loses nothing Meta gave);
//! 3. it is verified with `debug_token` ([`super::verify`]);
//! 4. it replaces the old one in a single keychain write (Secret Service replaces an item
//!    in one call: a kill during it leaves the old value or the new, both valid);
//! 5. the staged copy is removed.
//!
//! A staged token found later (the process died between 2 and 5) is verified and promoted,
//! or discarded ([`recover`]): before the next renewal, and by the token check when the kept
//! token no longer works.
//!
//! `META_MONITOR_HALT_AT=<step>` stops the process at a step until it is killed: the crash
//! tests' hook, inert unless set.

use std::sync::Arc;

use time::OffsetDateTime;

use super::{TokenSource, plan, verify};
use crate::account::Account;
use crate::graph::oauth;
use crate::graph::token::{TokenInfo, debug_token, debug_token_of};
use crate::graph::{Credentials, GraphClient, GraphError};
use crate::secret::Secret;
use crate::secrets::{Keychain, SecretName};

/// The environment variable of the crash tests' hook.
pub const HALT_ENV: &str = "META_MONITOR_HALT_AT";

/// The points at which a renewal can be interrupted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    BeforeCall,
    AfterAnswer,
    AfterStaging,
    AfterVerify,
    AfterWrite,
}

impl Step {
    pub const ALL: [Step; 5] = [
        Self::BeforeCall,
        Self::AfterAnswer,
        Self::AfterStaging,
        Self::AfterVerify,
        Self::AfterWrite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::BeforeCall => "before-call",
            Self::AfterAnswer => "after-answer",
            Self::AfterStaging => "after-staging",
            Self::AfterVerify => "after-verify",
            Self::AfterWrite => "after-write",
        }
    }
}

/// Waits forever at `step` when the crash tests asked for it.
async fn halt_point(step: Step) {
    if std::env::var(HALT_ENV).is_ok_and(|v| v == step.as_str()) {
        tracing::warn!(
            step = step.as_str(),
            "halted for a crash test; waiting to be killed"
        );
        std::future::pending::<()>().await;
    }
}

/// Where the account's token is kept. Calls block (the keychain is D-Bus on Linux).
pub trait TokenVault: Send + Sync {
    fn stage(&self, token: &Secret) -> Result<(), String>;
    fn staged(&self) -> Result<Option<Secret>, String>;
    /// The token kept now (`None`: not known, as in memory).
    fn current(&self) -> Result<Option<Secret>, String>;
    /// Replaces the current token.
    fn commit(&self, token: &Secret) -> Result<(), String>;
    fn clear_staged(&self) -> Result<(), String>;
}

/// A token in the OS keychain; the staged copy is a second entry of the same account.
pub struct KeychainVault {
    pub keychain: Keychain,
    pub account: String,
    pub kind: SecretName,
}

impl TokenVault for KeychainVault {
    fn stage(&self, token: &Secret) -> Result<(), String> {
        self.keychain
            .set_staged(&self.account, self.kind, token)
            .map_err(|e| e.to_string())
    }

    fn staged(&self) -> Result<Option<Secret>, String> {
        self.keychain
            .get_staged(&self.account, self.kind)
            .map_err(|e| e.to_string())
    }

    fn current(&self) -> Result<Option<Secret>, String> {
        self.keychain
            .get(&self.account, self.kind)
            .map_err(|e| e.to_string())
    }

    fn commit(&self, token: &Secret) -> Result<(), String> {
        self.keychain
            .set(&self.account, self.kind, token)
            .map_err(|e| e.to_string())
    }

    fn clear_staged(&self) -> Result<(), String> {
        self.keychain
            .delete_staged(&self.account, self.kind)
            .map(drop)
            .map_err(|e| e.to_string())
    }
}

/// A token held in memory only (the demo): the caller keeps the new credentials.
pub struct MemoryVault;

impl TokenVault for MemoryVault {
    fn stage(&self, _: &Secret) -> Result<(), String> {
        Ok(())
    }
    fn staged(&self) -> Result<Option<Secret>, String> {
        Ok(None)
    }
    fn current(&self) -> Result<Option<Secret>, String> {
        Ok(None)
    }
    fn commit(&self, _: &Secret) -> Result<(), String> {
        Ok(())
    }
    fn clear_staged(&self) -> Result<(), String> {
        Ok(())
    }
}

/// The vault of a token source (`None`: the environment, which is not written).
pub fn vault_for(source: TokenSource, account: &str) -> Option<Arc<dyn TokenVault>> {
    match source {
        TokenSource::Keychain => Some(Arc::new(KeychainVault {
            keychain: Keychain::new(),
            account: account.to_owned(),
            kind: SecretName::AccessToken,
        })),
        TokenSource::Memory => Some(Arc::new(MemoryVault)),
        TokenSource::Environment => None,
    }
}

/// Why a renewal or an exchange did not happen. Nothing was replaced in any case.
#[derive(Debug, thiserror::Error)]
pub enum RenewError {
    #[error("{reason}; instead: {steps}")]
    Impossible { reason: String, steps: String },
    #[error("Meta refused: {0}")]
    Meta(GraphError),
    #[error("the new token was not kept: {0}")]
    Rejected(String),
    #[error("the new token could not be stored: {0}")]
    Vault(String),
}

impl From<super::Impossible> for RenewError {
    fn from(i: super::Impossible) -> Self {
        Self::Impossible {
            reason: i.reason,
            steps: i.steps,
        }
    }
}

/// A token that replaced the old one.
#[derive(Debug, Clone)]
pub struct Renewed {
    pub credentials: Credentials,
    /// `debug_token` of the new token.
    pub info: TokenInfo,
    /// The old token's expiry (it keeps working until then).
    pub old_expires_at: Option<i64>,
}

fn client(
    http: &reqwest::Client,
    account: &Account,
    credentials: Credentials,
) -> Result<GraphClient, RenewError> {
    GraphClient::new(
        http.clone(),
        &account.graph_url,
        &account.api_version,
        credentials,
        account.app_id.clone(),
    )
    .map_err(RenewError::Meta)
}

/// Runs a blocking vault call off the async workers.
fn blocking<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, RenewError> {
    tokio::task::block_in_place(f).map_err(RenewError::Vault)
}

/// Promotes a staged token left by an interrupted renewal when it is at least as good as the
/// current one, else discards it. Returns the credentials now current.
pub async fn recover(
    http: &reqwest::Client,
    account: &Account,
    credentials: &Credentials,
    vault: &dyn TokenVault,
    now: OffsetDateTime,
) -> Result<Credentials, RenewError> {
    let Some(staged) = blocking(|| vault.staged())? else {
        return Ok(credentials.clone());
    };
    let current = client(http, account, credentials.clone())?;
    // The kept token refused outright (190) is as good as invalid: the stage may save the day.
    let old = match debug_token(&current).await {
        Ok((info, _)) => Some(info),
        Err(e) if e.class() == crate::graph::ErrorClass::TokenInvalid => None,
        Err(e) => return Err(RenewError::Meta(e)),
    };
    let (new, _) = debug_token_of(&current, &staged)
        .await
        .map_err(RenewError::Meta)?;
    let usable = old
        .as_ref()
        .is_none_or(|old| !old.is_valid || verify(old, &new, now).is_ok());
    if usable && new.is_valid && staged != credentials.access_token {
        blocking(|| vault.commit(&staged))?;
        tracing::info!(account = %account.name, "a token staged by an interrupted renewal was verified and kept");
        if let Err(e) = blocking(|| vault.clear_staged()) {
            tracing::warn!(account = %account.name, error = %e, "the staged token could not be removed");
        }
        return Ok(Credentials {
            access_token: staged,
            ..credentials.clone()
        });
    }
    blocking(|| vault.clear_staged())?;
    tracing::info!(account = %account.name, "a token staged by an interrupted renewal was discarded");
    Ok(credentials.clone())
}

/// Renews the account's token (see the module's steps). `old` is its `debug_token`, when the
/// caller just read it.
pub async fn renew(
    http: &reqwest::Client,
    account: &Account,
    credentials: &Credentials,
    source: TokenSource,
    old: Option<TokenInfo>,
    now: OffsetDateTime,
) -> Result<Renewed, RenewError> {
    let Some(vault) = vault_for(source, &account.name) else {
        return Err(super::from_environment().into());
    };
    let recovered = recover(http, account, credentials, vault.as_ref(), now).await?;
    let current = client(http, account, recovered.clone())?;
    let old = match old {
        Some(info) if recovered.access_token == credentials.access_token => info,
        _ => debug_token(&current).await.map_err(RenewError::Meta)?.0,
    };
    let credentials = recovered;
    let system_user = plan(&old, account, credentials.app_secret.is_some(), source, now)?;
    Replacement {
        http,
        account,
        app_id: account.app_id.clone().unwrap_or_default(),
        replaces: Some(credentials.access_token.clone()),
        credentials,
        old,
        system_user,
    }
    .run(vault.as_ref(), now)
    .await
}

/// Exchanges a short-lived user token for a long-lived one and stores only the latter.
pub async fn exchange_short_lived(
    http: &reqwest::Client,
    account: &Account,
    short_lived: Secret,
    app_secret: Option<Secret>,
    source: TokenSource,
    now: OffsetDateTime,
) -> Result<Renewed, RenewError> {
    let Some(vault) = vault_for(source, &account.name) else {
        return Err(super::from_environment().into());
    };
    let Some(app_id) = account.app_id.clone() else {
        return Err(RenewError::Impossible {
            reason: "the account has no app id".to_owned(),
            steps: "set the app id of the token's app in the account's Settings".to_owned(),
        });
    };
    if app_secret.is_none() {
        return Err(RenewError::Impossible {
            reason: "the app secret is not stored".to_owned(),
            steps: format!(
                "store it first: meta-monitor secret set {} app-secret, or Settings",
                account.name
            ),
        });
    }
    let credentials = Credentials {
        access_token: short_lived,
        app_secret,
        verify_token: None,
        capi_token: None,
    };
    let current = client(http, account, credentials.clone())?;
    let (old, _) = debug_token(&current).await.map_err(RenewError::Meta)?;
    if !old.is_valid {
        let why = old
            .error
            .as_ref()
            .and_then(|e| e.message.clone())
            .unwrap_or_else(|| "Meta reports it as invalid".to_owned());
        return Err(RenewError::Rejected(format!(
            "the pasted token cannot be exchanged: {why}; generate a new one and paste it at once"
        )));
    }
    Replacement {
        http,
        account,
        app_id,
        replaces: None,
        credentials,
        system_user: old.kind.as_deref() == Some("SYSTEM_USER"),
        old,
    }
    .run(vault.as_ref(), now)
    .await
}

/// One token replaced by the one Meta gives in exchange: the steps of the module's doc.
struct Replacement<'a> {
    http: &'a reqwest::Client,
    account: &'a Account,
    app_id: String,
    /// The credentials with the token being replaced.
    credentials: Credentials,
    /// `debug_token` of that token: what the new one must match.
    old: TokenInfo,
    /// Sends `set_token_expires_in_60_days` (a system-user refresh).
    system_user: bool,
    /// The kept token this replaces: if another process or the operator stored a different
    /// one meanwhile, that newer one stays (`None`: an exchange replaces whatever is kept).
    replaces: Option<Secret>,
}

impl Replacement<'_> {
    async fn run(self, vault: &dyn TokenVault, now: OffsetDateTime) -> Result<Renewed, RenewError> {
        let Self {
            http,
            account,
            app_id,
            credentials,
            old,
            system_user,
            replaces,
        } = self;
        let current = client(http, account, credentials.clone())?;
        halt_point(Step::BeforeCall).await;
        let answer = oauth::exchange(&current, &app_id, system_user)
            .await
            .map_err(RenewError::Meta)?;
        halt_point(Step::AfterAnswer).await;
        // Meta may answer a long-lived user token's exchange with that same token: nothing was
        // renewed, and calling it a renewal would repeat at every check.
        if answer.token == credentials.access_token {
            return Err(RenewError::Rejected(
                "Meta answered with the same token: nothing was renewed".to_owned(),
            ));
        }
        blocking(|| vault.stage(&answer.token))?;
        halt_point(Step::AfterStaging).await;
        let fresh = Credentials {
            access_token: answer.token.clone(),
            ..credentials.clone()
        };
        let checker = client(http, account, fresh.clone())?;
        let (new, _) = match debug_token(&checker).await {
            Ok(answer) => answer,
            Err(e) => {
                let _ = blocking(|| vault.clear_staged());
                return Err(RenewError::Meta(e));
            }
        };
        if let Err(why) = verify(&old, &new, now) {
            let _ = blocking(|| vault.clear_staged());
            return Err(RenewError::Rejected(why));
        }
        halt_point(Step::AfterVerify).await;
        if let Some(replaced) = &replaces {
            let kept = blocking(|| vault.current())?;
            if kept.as_ref().is_some_and(|k| k != replaced) {
                let _ = blocking(|| vault.clear_staged());
                return Err(RenewError::Rejected(
                    "another token was stored while this one was renewed; the newer one is kept"
                        .to_owned(),
                ));
            }
        }
        blocking(|| vault.commit(&answer.token))?;
        halt_point(Step::AfterWrite).await;
        // The new token is kept: a stage that cannot be removed now is found and dropped by
        // the next renewal, and must not make this one look failed.
        if let Err(e) = blocking(|| vault.clear_staged()) {
            tracing::warn!(account = %account.name, error = %e, "the staged token could not be removed");
        }
        tracing::info!(account = %account.name, expires_at = new.expires_at, "the access token was renewed");
        Ok(Renewed {
            credentials: fresh,
            info: new,
            old_expires_at: old.expires_at,
        })
    }
}
