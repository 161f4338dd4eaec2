//! An account configured entirely from the environment, for hosts without a keychain (servers,
//! containers), with the variable names of the seed deployment spec. It is shown as account
//! `env`; neither its settings nor its secrets are ever written to the database file.

use crate::account::{Account, AccountError};
use crate::graph::Credentials;
use crate::secret::Secret;

pub const NAME: &str = "env";
pub const ACCESS_TOKEN: &str = "META_ACCESS_TOKEN";

/// The `env` account and its credentials when `META_ACCESS_TOKEN` is set; `lookup` reads a
/// variable (the process environment in production, a map in tests).
pub fn from_env(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<(Account, Credentials)>, AccountError> {
    let get = |name: &str| {
        lookup(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let Some(token) = get(ACCESS_TOKEN) else {
        return Ok(None);
    };
    let mut account = Account::new(NAME);
    if let Some(url) = get("META_GRAPH_URL") {
        account.graph_url = url;
    }
    account.app_id = get("META_APP_ID");
    account.ad_account_id = get("META_AD_ACCOUNT_ID");
    account.pixel_id = get("META_PIXEL_ID");
    account.business_id = get("META_BUSINESS_ID");
    account.catalog_id = get("META_CATALOG_ID");
    let account = account.validate()?;
    let credentials = Credentials {
        access_token: Secret::new(token),
        app_secret: get("META_APP_SECRET").map(Secret::new),
        verify_token: None,
    };
    Ok(Some((account, credentials)))
}

/// [`from_env`] over the process environment.
pub fn from_process_env() -> Result<Option<(Account, Credentials)>, AccountError> {
    from_env(|name| std::env::var(name).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn the_seed_variable_names_configure_the_env_account() {
        let vars: HashMap<&str, &str> = [
            ("META_ACCESS_TOKEN", "fake-env-token"),
            ("META_APP_ID", "1234567890"),
            ("META_APP_SECRET", "fake-env-secret"),
            ("META_AD_ACCOUNT_ID", "2369703843357278"),
            ("META_PIXEL_ID", "1202835294532393"),
            ("META_GRAPH_URL", "http://127.0.0.1:9"),
        ]
        .into_iter()
        .collect();
        let (account, creds) = from_env(|k| vars.get(k).map(|v| (*v).to_owned()))
            .expect("valid")
            .expect("configured");
        assert_eq!(account.name, "env");
        assert_eq!(
            account.ad_account_id.as_deref(),
            Some("act_2369703843357278")
        );
        assert_eq!(creds.access_token.expose(), "fake-env-token");
        assert!(creds.app_secret.is_some());
        assert!(
            from_env(|_| None).expect("no error").is_none(),
            "no token, no env account"
        );
        let bad =
            from_env(|k| (k == ACCESS_TOKEN || k == "META_PIXEL_ID").then(|| "x1".to_owned()));
        assert!(bad.is_err(), "invalid ids are reported, not ignored");
    }
}
