//! An account: the non-secret settings of one Meta integration (ids, API base and version).

use serde::{Deserialize, Serialize};

pub const DEFAULT_GRAPH_URL: &str = "https://graph.facebook.com";
pub const DEFAULT_API_VERSION: &str = "v25.0";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Account {
    pub name: String,
    pub graph_url: String,
    pub api_version: String,
    pub app_id: Option<String>,
    /// Always stored in the `act_<digits>` form.
    pub ad_account_id: Option<String>,
    pub pixel_id: Option<String>,
    pub catalog_id: Option<String>,
    pub business_id: Option<String>,
    pub test_event_code: Option<String>,
    /// Webhook callback URLs the operator allows Meta Monitor to call (verification handshake
    /// and a signed sample delivery). Only these are ever called.
    #[serde(default)]
    pub webhook_endpoints: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AccountError {
    #[error("account name must be 1–64 letters, digits, '-', '_' or '.' (got {0:?})")]
    Name(String),
    #[error("graph URL must be an http(s) URL without a path, query or credentials (got {0:?})")]
    GraphUrl(String),
    #[error("API version must look like v25.0 (got {0:?})")]
    ApiVersion(String),
    #[error("{field} must be a numeric id (got {value:?})")]
    Id { field: &'static str, value: String },
    #[error("ad account must be act_<digits> or <digits> (got {0:?})")]
    AdAccount(String),
    #[error("a webhook endpoint must be an http(s) URL (got {0:?})")]
    WebhookEndpoint(String),
}

impl Account {
    /// A new account with Meta's defaults; call [`Account::validate`] before storing it.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            graph_url: DEFAULT_GRAPH_URL.to_owned(),
            api_version: DEFAULT_API_VERSION.to_owned(),
            app_id: None,
            ad_account_id: None,
            pixel_id: None,
            catalog_id: None,
            business_id: None,
            test_event_code: None,
            webhook_endpoints: Vec::new(),
        }
    }

    /// Checks every field and normalizes the ad account to `act_<digits>`.
    pub fn validate(mut self) -> Result<Self, AccountError> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 64
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !name_ok {
            return Err(AccountError::Name(self.name));
        }
        self.graph_url = self.graph_url.trim_end_matches('/').to_owned();
        let url_ok = url::Url::parse(&self.graph_url).is_ok_and(|u| {
            matches!(u.scheme(), "http" | "https")
                && u.host().is_some()
                && u.path() == "/"
                && u.query().is_none()
                && u.username().is_empty()
                && u.password().is_none()
        });
        if !url_ok {
            return Err(AccountError::GraphUrl(self.graph_url));
        }
        if !is_api_version(&self.api_version) {
            return Err(AccountError::ApiVersion(self.api_version));
        }
        for (field, value) in [
            ("app id", &self.app_id),
            ("pixel id", &self.pixel_id),
            ("catalog id", &self.catalog_id),
            ("business id", &self.business_id),
        ] {
            if let Some(v) = value.as_ref().filter(|v| !is_numeric_id(v)) {
                return Err(AccountError::Id {
                    field,
                    value: v.clone(),
                });
            }
        }
        for url in &self.webhook_endpoints {
            let ok = url::Url::parse(url)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
            if !ok {
                return Err(AccountError::WebhookEndpoint(url.clone()));
            }
        }
        if let Some(raw) = self.ad_account_id.take() {
            let digits = raw.strip_prefix("act_").unwrap_or(&raw);
            if !is_numeric_id(digits) {
                return Err(AccountError::AdAccount(raw));
            }
            self.ad_account_id = Some(format!("act_{digits}"));
        }
        Ok(self)
    }

    /// The ad account number without `act_`, as Meta keys it in `X-Business-Use-Case-Usage`.
    pub fn ad_account_number(&self) -> Option<&str> {
        self.ad_account_id
            .as_deref()
            .map(|a| a.strip_prefix("act_").unwrap_or(a))
    }
}

fn is_numeric_id(value: &str) -> bool {
    !value.is_empty() && value.len() <= 32 && value.bytes().all(|b| b.is_ascii_digit())
}

/// `v<major>.<minor>`, the shape Meta's SDKs validate.
pub fn is_api_version(value: &str) -> bool {
    let Some(rest) = value.strip_prefix('v') else {
        return false;
    };
    let mut parts = rest.split('.');
    let (Some(major), Some(minor), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    [major, minor]
        .iter()
        .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ad_account_is_normalized_and_ids_are_checked() {
        let mut account = Account::new("shop");
        account.ad_account_id = Some("2369703843357278".into());
        let account = account.validate().expect("valid account");
        assert_eq!(
            account.ad_account_id.as_deref(),
            Some("act_2369703843357278")
        );
        assert_eq!(account.ad_account_number(), Some("2369703843357278"));

        let mut bad = Account::new("shop");
        bad.pixel_id = Some("12ab".into());
        assert!(matches!(
            bad.validate(),
            Err(AccountError::Id {
                field: "pixel id",
                ..
            })
        ));
    }

    #[test]
    fn urls_versions_and_names_are_rejected_when_malformed() {
        for url in [
            "ftp://x",
            "https://graph.facebook.com/v25.0",
            "https://u:p@h",
            "not a url",
        ] {
            let mut a = Account::new("a");
            a.graph_url = url.into();
            assert!(a.validate().is_err(), "{url} must be rejected");
        }
        for version in ["25.0", "v25", "v25.0.1", "vx.y", ""] {
            assert!(!is_api_version(version), "{version} is not a version");
        }
        assert!(is_api_version("v25.0"));
        assert!(
            Account::new("bad name").validate().is_err(),
            "spaces are not allowed in names"
        );
    }
}
