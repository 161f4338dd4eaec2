//! An account configured entirely from the environment, for hosts without a keychain (servers,
//! containers), with the variable names of the seed deployment spec. It is shown as account
//! `env`; neither its settings nor its secrets are ever written to the database file.

use std::path::{Path, PathBuf};

use crate::account::{Account, AccountError};
use crate::graph::Credentials;
use crate::secret::Secret;

pub const NAME: &str = "env";
pub const ACCESS_TOKEN: &str = "META_ACCESS_TOKEN";
pub const APP_SECRET: &str = "META_APP_SECRET";
/// The shop server's Conversions API token, when it is not the access token (the seeds' name).
pub const CAPI_TOKEN: &str = "META_CAPI_ACCESS_TOKEN";
/// The team channel's incoming-webhook URL (it embeds its own secret, so it is one).
pub const TEAM_WEBHOOK: &str = "META_TEAM_WEBHOOK_URL";
/// `1`/`true` sends desktop notifications too (off by default: a server has no desktop).
pub const NOTIFY_DESKTOP: &str = "META_NOTIFY_DESKTOP";

/// The `env` account: its settings, its credentials and the team webhook it alerts.
#[derive(Clone)]
pub struct EnvAccount {
    pub account: Account,
    pub credentials: Credentials,
    pub team_webhook: Option<Secret>,
}

/// Why the environment does not configure a valid `env` account. Messages name the variable
/// and the file, never a value (most are secrets).
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error("{variable}: cannot read {}: {error}", path.display())]
    Unreadable {
        variable: String,
        path: PathBuf,
        error: String,
    },
    #[error(
        "{TEAM_WEBHOOK} must be an https:// URL (http:// only to this machine); its value is \
         not shown, it is a secret"
    )]
    TeamWebhook,
}

/// Where a variable's value comes from, in this order: the variable itself; the file named by
/// `<NAME>_FILE` (Docker and Kubernetes secrets); the file `<NAME>` in systemd's
/// `$CREDENTIALS_DIRECTORY` (`LoadCredential=META_ACCESS_TOKEN:/etc/meta-monitor/token`), so
/// a unit's secrets never sit in its environment, which other processes of the user can read.
pub struct Sources<V: Fn(&str) -> Option<String>> {
    pub variable: V,
}

impl<V: Fn(&str) -> Option<String>> Sources<V> {
    /// The value of `name`, trimmed; `None` when no source has one.
    pub fn get(&self, name: &str) -> Result<Option<String>, EnvError> {
        let clean = |v: String| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
        if let Some(value) = (self.variable)(name).and_then(clean) {
            return Ok(Some(value));
        }
        let file = (self.variable)(&format!("{name}_FILE"))
            .and_then(clean)
            .map(PathBuf::from);
        let credential = (self.variable)("CREDENTIALS_DIRECTORY")
            .and_then(clean)
            .map(|dir| Path::new(&dir).join(name))
            .filter(|path| path.exists());
        match file.or(credential) {
            Some(path) => {
                std::fs::read_to_string(&path)
                    .map(clean)
                    .map_err(|e| EnvError::Unreadable {
                        variable: name.to_owned(),
                        path,
                        error: e.to_string(),
                    })
            }
            None => Ok(None),
        }
    }
}

/// The `env` account when `META_ACCESS_TOKEN` is set (by any of [`Sources`]); `lookup` reads
/// a variable (the process environment in production, a map in tests).
pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<Option<EnvAccount>, EnvError> {
    let sources = Sources { variable: lookup };
    let get = |name: &str| sources.get(name);
    let Some(token) = get(ACCESS_TOKEN)? else {
        return Ok(None);
    };
    let mut account = Account::new(NAME);
    if let Some(url) = get("META_GRAPH_URL")? {
        account.graph_url = url;
    }
    account.app_id = get("META_APP_ID")?;
    account.ad_account_id = get("META_AD_ACCOUNT_ID")?;
    account.pixel_id = get("META_PIXEL_ID")?;
    account.business_id = get("META_BUSINESS_ID")?;
    account.catalog_id = get("META_CATALOG_ID")?;
    account.monitoring.notify_desktop = get(NOTIFY_DESKTOP)?
        .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes"));
    let account = account.validate()?;
    let team_webhook = get(TEAM_WEBHOOK)?;
    if let Some(url) = &team_webhook
        && !url::Url::parse(url).is_ok_and(|u| crate::account::is_allowed_url(&u))
    {
        return Err(EnvError::TeamWebhook);
    }
    let credentials = Credentials {
        access_token: Secret::new(token),
        app_secret: get(APP_SECRET)?.map(Secret::new),
        verify_token: None,
        capi_token: get(CAPI_TOKEN)?.map(Secret::new),
    };
    Ok(Some(EnvAccount {
        account,
        credentials,
        team_webhook: team_webhook.map(Secret::new),
    }))
}

/// One variable through [`Sources`] over the process environment.
pub fn read_process_env(name: &str) -> Result<Option<String>, EnvError> {
    Sources {
        variable: |n: &str| std::env::var(n).ok(),
    }
    .get(name)
}

/// [`from_env`] over the process environment.
pub fn from_process_env() -> Result<Option<EnvAccount>, EnvError> {
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
        let EnvAccount {
            account,
            credentials: creds,
            team_webhook,
        } = from_env(|k| vars.get(k).map(|v| (*v).to_owned()))
            .expect("valid")
            .expect("configured");
        assert!(team_webhook.is_none());
        assert!(
            !account.monitoring.notify_desktop,
            "a server has no desktop to notify"
        );
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

    #[test]
    #[allow(clippy::expect_used, reason = "a failed step must fail the test")]
    fn secrets_come_from_files_and_systemd_credentials_too() {
        let dir = tempfile::tempdir().expect("tempdir");
        let credentials = dir.path().join("credentials");
        std::fs::create_dir(&credentials).expect("mkdir");
        std::fs::write(credentials.join(ACCESS_TOKEN), "fake-credential-token\n").expect("w");
        std::fs::write(
            credentials.join(TEAM_WEBHOOK),
            "https://hooks.example/T0/B0/fake\n",
        )
        .expect("w");
        let secret_file = dir.path().join("app-secret");
        std::fs::write(&secret_file, "fake-file-app-secret").expect("w");
        let vars: HashMap<String, String> = [
            (
                "CREDENTIALS_DIRECTORY".to_owned(),
                credentials.display().to_string(),
            ),
            (
                format!("{APP_SECRET}_FILE"),
                secret_file.display().to_string(),
            ),
            (NOTIFY_DESKTOP.to_owned(), "true".to_owned()),
        ]
        .into_iter()
        .collect();
        let env = from_env(|k| vars.get(k).cloned())
            .expect("valid")
            .expect("configured by the credential");
        assert_eq!(
            env.credentials.access_token.expose(),
            "fake-credential-token"
        );
        assert_eq!(
            env.credentials.app_secret.as_ref().map(Secret::expose),
            Some("fake-file-app-secret")
        );
        assert_eq!(
            env.team_webhook.as_ref().map(Secret::expose),
            Some("https://hooks.example/T0/B0/fake")
        );
        assert!(env.account.monitoring.notify_desktop);

        // A variable wins over the files.
        let mut with_var = vars.clone();
        with_var.insert(ACCESS_TOKEN.to_owned(), "fake-variable-token".to_owned());
        let env = from_env(|k| with_var.get(k).cloned())
            .expect("valid")
            .expect("configured");
        assert_eq!(env.credentials.access_token.expose(), "fake-variable-token");

        // A named file that cannot be read is an error naming the variable and the file.
        let mut missing = vars.clone();
        missing.insert(
            format!("{APP_SECRET}_FILE"),
            dir.path().join("nope").display().to_string(),
        );
        let err = from_env(|k| missing.get(k).cloned())
            .err()
            .expect("an unreadable file is reported")
            .to_string();
        assert!(err.contains(APP_SECRET) && err.contains("nope"), "{err}");

        // A team webhook that is not https is refused without showing it.
        std::fs::write(
            credentials.join(TEAM_WEBHOOK),
            "http://hooks.example/fake-secret-path",
        )
        .expect("w");
        let err = from_env(|k| vars.get(k).cloned())
            .err()
            .expect("refused")
            .to_string();
        assert!(
            err.contains(TEAM_WEBHOOK) && !err.contains("fake-secret-path"),
            "{err}"
        );
    }
}
