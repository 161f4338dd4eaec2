//! Tokens as Meta's Access Token Debugger shows them, and what can be done about their
//! expiry: which kinds renew ([`plan`]), what a renewed token must prove before it replaces
//! the old one ([`verify`]), and the renewal and exchange workflows themselves ([`renew`]).
//!
//! | type | expires | renewal |
//! |---|---|---|
//! | SYSTEM_USER, expiring (60 days) | yes | `fb_exchange_token` + `set_token_expires_in_60_days=true` while valid |
//! | SYSTEM_USER, non-expiring | never | nothing to renew |
//! | USER, long-lived | ~60 days | `fb_exchange_token` while valid (the debugger's "Extend") |
//! | USER, short-lived | hours | exchanged once for a long-lived one (`token exchange`) |
//! | PAGE | never from a long-lived user token | re-derive from a long-lived user token (manual) |
//! | APP (`app-id|secret`) | never | nothing to renew |

pub mod renew;

use crate::graph::token::debug_token_of;
use crate::graph::{Credentials, GraphClient, GraphError};
use crate::secret::Secret;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::account::Account;
use crate::graph::token::TokenInfo;

/// `debug_token`'s `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TokenKind {
    User,
    Page,
    SystemUser,
    App,
}

impl TokenKind {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "USER" => Some(Self::User),
            "PAGE" => Some(Self::Page),
            "SYSTEM_USER" => Some(Self::SystemUser),
            "APP" => Some(Self::App),
            _ => None,
        }
    }
}

/// Where an account's token lives, which decides whether a renewed one can be kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    /// The OS keychain: renewed tokens are written back.
    Keychain,
    /// Memory only (the demo): renewed in memory.
    Memory,
    /// `META_ACCESS_TOKEN` or a credential file: read-only to Meta Monitor.
    Environment,
}

/// A scope the account's configured features need, and the feature that breaks without it.
pub fn needed_scopes(account: &Account) -> Vec<(&'static str, &'static str)> {
    let mut scopes = Vec::new();
    if account.ad_account_id.is_some() {
        scopes.push(("ads_read", "ads insights and spend"));
    }
    if account.catalog_id.is_some() {
        scopes.push(("catalog_management", "catalog reads and product sync"));
    }
    if account.business_id.is_some() {
        scopes.push(("business_management", "the business's assets"));
    }
    scopes
}

/// Why a token cannot be renewed by Meta Monitor, with what the operator can do instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Impossible {
    pub reason: String,
    pub steps: String,
}

fn impossible(reason: impl Into<String>, steps: impl Into<String>) -> Impossible {
    Impossible {
        reason: reason.into(),
        steps: steps.into(),
    }
}

/// Steps to get a new token by hand, for the account `name`.
pub fn replace_steps(name: &str) -> String {
    format!(
        "generate a new token (Business Settings › Users › System users › Generate new token, \
         or Graph API Explorer for a user token) and store it: meta-monitor token exchange \
         {name} (a short-lived user token), meta-monitor secret set {name} access-token, or \
         Settings in the window"
    )
}

/// A client that calls Meta with the shop server's Conversions API token, and that token's
/// `debug_token`. Such a token often belongs to another app (Events Manager makes one for its
/// own): it is signed with the account's app secret only when it belongs to the account's app,
/// since a proof made with another app's secret is refused. When the account's app token may
/// not inspect it, the token inspects itself.
pub async fn capi_client(
    base: &GraphClient,
    account: &Account,
    capi: &Secret,
) -> Result<(GraphClient, Result<TokenInfo, GraphError>), GraphError> {
    let unsigned = |app_secret: Option<Secret>| {
        GraphClient::new(
            base.http().clone(),
            &account.graph_url,
            &account.api_version,
            Credentials {
                access_token: capi.clone(),
                app_secret,
                verify_token: None,
                capi_token: None,
            },
            account.app_id.clone(),
        )
    };
    let inspected = match debug_token_of(base, capi).await {
        Err(e) if e.class() != crate::graph::ErrorClass::TokenInvalid && e.meta().is_some() => {
            debug_token_of(&unsigned(None)?, capi).await
        }
        other => other,
    }
    .map(|(info, _)| info);
    let same_app = inspected
        .as_ref()
        .is_ok_and(|info| info.app_id.is_some() && info.app_id == account.app_id);
    let secret = base.credentials().app_secret.clone().filter(|_| same_app);
    Ok((unsigned(secret)?, inspected))
}

/// Why a token from the environment is not renewed here.
pub fn from_environment() -> Impossible {
    impossible(
        "the token comes from the environment (META_ACCESS_TOKEN or its credential file), which Meta Monitor does not write",
        "renew it where it is kept (meta-monitor token renew on the machine whose keychain holds it) and update the credential",
    )
}

/// Whether Meta Monitor can renew this token now, and with which call: `Ok(true)` for the
/// system-user refresh (`set_token_expires_in_60_days`), `Ok(false)` for a user-token
/// exchange.
pub fn plan(
    info: &TokenInfo,
    account: &Account,
    has_app_secret: bool,
    source: TokenSource,
    now: OffsetDateTime,
) -> Result<bool, Impossible> {
    let name = &account.name;
    let expires_at = info.expires_at.unwrap_or(0);
    let kind = info.kind.as_deref().and_then(TokenKind::parse);
    if !info.is_valid || (expires_at != 0 && expires_at <= now.unix_timestamp()) {
        return Err(impossible(
            "the token is no longer valid, and Meta renews only a valid token",
            replace_steps(name),
        ));
    }
    let system_user = match kind {
        Some(TokenKind::SystemUser) => true,
        Some(TokenKind::User) => false,
        Some(TokenKind::Page) => {
            return Err(impossible(
                "a Page token is not renewed by exchange",
                "get a new Page token from a long-lived user token (GET /{page-id}?fields=access_token) and store it with meta-monitor secret set",
            ));
        }
        Some(TokenKind::App) => {
            return Err(impossible("an app token never expires", "nothing to do"));
        }
        None => {
            return Err(impossible(
                format!(
                    "Meta did not say which kind of token this is ({:?})",
                    info.kind.as_deref().unwrap_or("no type")
                ),
                replace_steps(name),
            ));
        }
    };
    if expires_at == 0 {
        return Err(impossible("the token never expires", "nothing to do"));
    }
    if source == TokenSource::Environment {
        return Err(from_environment());
    }
    if account.app_id.is_none() {
        return Err(impossible(
            "the account has no app id",
            "set the token's app id in the account's Settings (or add the account with --app-id)",
        ));
    }
    if !has_app_secret {
        return Err(impossible(
            "the app secret is not stored",
            format!("store the app secret: meta-monitor secret set {name} app-secret, or Settings"),
        ));
    }
    if info.app_id.is_some() && info.app_id != account.app_id {
        return Err(impossible(
            format!(
                "the token belongs to app {}, not to the account's app {}",
                info.app_id.as_deref().unwrap_or("?"),
                account.app_id.as_deref().unwrap_or("?")
            ),
            "set the account's app id to the token's app in Settings",
        ));
    }
    Ok(system_user)
}

/// Whether a renewed (or exchanged) token may replace `old`: valid, of the same app and user,
/// with every scope the old one had, and lasting at least as long.
pub fn verify(old: &TokenInfo, new: &TokenInfo, now: OffsetDateTime) -> Result<(), String> {
    if !new.is_valid {
        return Err("Meta reports the new token as invalid".to_owned());
    }
    let new_expiry = new.expires_at.unwrap_or(0);
    if new_expiry != 0 && new_expiry <= now.unix_timestamp() {
        return Err("the new token has already expired".to_owned());
    }
    if new.app_id != old.app_id {
        return Err(format!(
            "the new token belongs to app {}, the old one to app {}",
            new.app_id.as_deref().unwrap_or("?"),
            old.app_id.as_deref().unwrap_or("?")
        ));
    }
    if old.user_id.is_some() && new.user_id != old.user_id {
        return Err("the new token belongs to another user".to_owned());
    }
    let lost: Vec<&str> = old
        .scopes
        .iter()
        .filter(|s| !new.scopes.contains(s))
        .map(String::as_str)
        .collect();
    if !lost.is_empty() {
        return Err(format!("the new token lacks scopes: {}", lost.join(", ")));
    }
    let old_expiry = old.expires_at.unwrap_or(0);
    if new_expiry != 0 && (old_expiry == 0 || new_expiry < old_expiry) {
        return Err("the new token expires before the old one".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(kind: &str, expires_at: i64, scopes: &[&str]) -> TokenInfo {
        TokenInfo {
            app_id: Some("1234567890".into()),
            kind: Some(kind.into()),
            application: None,
            expires_at: Some(expires_at),
            data_access_expires_at: Some(0),
            is_valid: true,
            issued_at: None,
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            granular_scopes: Vec::new(),
            user_id: Some("61570785020842".into()),
            profile_id: None,
            error: None,
        }
    }

    #[test]
    fn each_kind_has_its_plan() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("time");
        let t = now.unix_timestamp();
        let mut account = Account::new("shop");
        account.app_id = Some("1234567890".into());
        let soon = t + 6 * 86_400;
        let p = |i: &TokenInfo, secret, source| plan(i, &account, secret, source, now);
        assert_eq!(
            p(&info("SYSTEM_USER", soon, &[]), true, TokenSource::Keychain),
            Ok(true)
        );
        assert_eq!(
            p(&info("USER", soon, &[]), true, TokenSource::Keychain),
            Ok(false)
        );
        for (i, secret, source, needle) in [
            (
                info("SYSTEM_USER", 0, &[]),
                true,
                TokenSource::Keychain,
                "never expires",
            ),
            (info("PAGE", soon, &[]), true, TokenSource::Keychain, "Page"),
            (
                info("APP", 0, &[]),
                true,
                TokenSource::Keychain,
                "app token",
            ),
            (
                info("USER", t - 1, &[]),
                true,
                TokenSource::Keychain,
                "no longer valid",
            ),
            (
                info("USER", soon, &[]),
                false,
                TokenSource::Keychain,
                "app secret",
            ),
            (
                info("USER", soon, &[]),
                true,
                TokenSource::Environment,
                "environment",
            ),
        ] {
            let err = p(&i, secret, source).expect_err(needle);
            assert!(
                err.reason.contains(needle),
                "{} should say {needle}",
                err.reason
            );
            assert!(!err.steps.is_empty());
        }
    }

    #[test]
    fn a_new_token_must_be_at_least_as_good_as_the_old() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("time");
        let t = now.unix_timestamp();
        let old = info(
            "SYSTEM_USER",
            t + 86_400,
            &["ads_read", "catalog_management"],
        );
        let good = info(
            "SYSTEM_USER",
            t + 60 * 86_400,
            &["ads_read", "catalog_management"],
        );
        assert_eq!(verify(&old, &good, now), Ok(()));
        let mut fewer = good.clone();
        fewer.scopes.pop();
        assert!(verify(&old, &fewer, now).is_err_and(|e| e.contains("catalog_management")));
        let mut other_app = good.clone();
        other_app.app_id = Some("9".into());
        assert!(verify(&old, &other_app, now).is_err());
        let mut other_user = good.clone();
        other_user.user_id = Some("7".into());
        assert!(verify(&old, &other_user, now).is_err());
        let mut invalid = good.clone();
        invalid.is_valid = false;
        assert!(verify(&old, &invalid, now).is_err());
        let shorter = info("SYSTEM_USER", t + 3600, &["ads_read", "catalog_management"]);
        assert!(verify(&old, &shorter, now).is_err());
    }
}
