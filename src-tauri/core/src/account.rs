//! An account: the non-secret settings of one Meta integration (ids, API base and version).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::tile::Service;

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
    /// How often each service is checked, the tiles' thresholds and the alert channels.
    #[serde(default)]
    pub monitoring: Monitoring,
}

/// An account's polling intervals, tile thresholds and notification channels. Every field has
/// Meta Monitor's default, so an older file or a partial JSON object reads as the defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct Monitoring {
    pub graph_api_minutes: u32,
    pub token_minutes: u32,
    pub ads_minutes: u32,
    pub pixel_minutes: u32,
    pub conversions_api_minutes: u32,
    pub webhooks_minutes: u32,
    pub catalog_minutes: u32,
    /// `graph_api` is DEGRADED above this latency.
    pub slow_ms: u32,
    /// `token` is DEGRADED when it expires within this many days.
    pub token_warning_days: u32,
    /// Renew the access token automatically when Meta allows it (expiring system-user and
    /// long-lived user tokens).
    pub token_auto_renew: bool,
    /// Renew this many days before the token expires.
    pub token_renew_days: u32,
    /// `pixel` is DEGRADED after this long without an event.
    pub pixel_silence_hours: u32,
    /// `conversions_api` is DOWN when the server sent nothing for this long while the
    /// browser kept sending.
    pub capi_silence_minutes: u32,
    /// `conversions_api` is DEGRADED when an event's server share fell by more than this
    /// many percent against the same hours a week earlier.
    pub capi_share_drop_pct: u32,
    /// `rate_limits` is DEGRADED from this usage; the monitor pauses itself at 90 % anyway.
    pub usage_warning_pct: u32,
    /// A feed run that finds more than this share of its products gone holds their deletes
    /// for a confirmation (a truncated export must not empty the catalog).
    pub feed_delete_brake_pct: u32,
    pub notify_desktop: bool,
    /// Only used when a team webhook URL is in the keychain.
    pub notify_team_webhook: bool,
    /// Once a day, the diagnostics' errors and warnings to the team webhook.
    pub findings_digest: bool,
    /// The hour (UTC, 0–23) of the daily findings digest.
    pub digest_hour_utc: u32,
    /// Conversions API: SHA-256 `external_id` like the other customer keys. Turn it off when
    /// the site's Pixel sends it unhashed, since both must match.
    pub hash_external_id: bool,
}

impl Default for Monitoring {
    fn default() -> Self {
        let minutes = |s: Service| default_interval(s).map_or(0, |d| (d.as_secs() / 60) as u32);
        let t = Thresholds::default();
        Self {
            graph_api_minutes: minutes(Service::GraphApi),
            token_minutes: minutes(Service::Token),
            ads_minutes: minutes(Service::Ads),
            pixel_minutes: minutes(Service::Pixel),
            conversions_api_minutes: minutes(Service::ConversionsApi),
            webhooks_minutes: minutes(Service::Webhooks),
            catalog_minutes: minutes(Service::Catalog),
            slow_ms: t.slow.as_millis() as u32,
            token_warning_days: t.token_expiry_warning_days as u32,
            token_auto_renew: true,
            token_renew_days: 7,
            pixel_silence_hours: (t.pixel_silence.as_secs() / 3600) as u32,
            capi_silence_minutes: (t.capi_silence.as_secs() / 60) as u32,
            capi_share_drop_pct: t.capi_share_drop_pct as u32,
            usage_warning_pct: t.usage_warning_pct as u32,
            feed_delete_brake_pct: 10,
            notify_desktop: true,
            notify_team_webhook: true,
            // Off until asked for: a daily message nobody chose is noise.
            findings_digest: false,
            digest_hour_utc: 8,
            hash_external_id: true,
        }
    }
}

impl Monitoring {
    /// The interval between checks of `service`; `None` for what is not polled (rate limits
    /// are read from every response).
    pub fn interval(&self, service: Service) -> Option<Duration> {
        let minutes = match service {
            Service::GraphApi => self.graph_api_minutes,
            Service::Token => self.token_minutes,
            Service::Ads => self.ads_minutes,
            Service::Pixel => self.pixel_minutes,
            Service::ConversionsApi => self.conversions_api_minutes,
            Service::Webhooks => self.webhooks_minutes,
            Service::Catalog => self.catalog_minutes,
            Service::RateLimits => return None,
        };
        Some(Duration::from_secs(u64::from(minutes) * 60))
    }

    /// Sets one field from text, as `KEY=VALUE` on the command line gives it: numbers for
    /// the intervals and thresholds, `true`/`false` for the channels. Bounds are checked by
    /// [`Account::validate`].
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let mut fields = match serde_json::to_value(&*self) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => return Err("the settings could not be read".to_owned()),
        };
        let known: Vec<String> = fields.keys().cloned().collect();
        let Some(slot) = fields.get_mut(key) else {
            return Err(format!(
                "unknown setting {key:?}; one of: {}",
                known.join(", ")
            ));
        };
        *slot = match slot {
            serde_json::Value::Bool(_) => match value {
                "true" | "yes" | "on" => serde_json::Value::Bool(true),
                "false" | "no" | "off" => serde_json::Value::Bool(false),
                _ => return Err(format!("{key} is true or false (got {value:?})")),
            },
            _ => match value.trim().parse::<u32>() {
                Ok(n) => serde_json::Value::from(n),
                Err(_) => return Err(format!("{key} is a whole number (got {value:?})")),
            },
        };
        *self = serde_json::from_value(serde_json::Value::Object(fields))
            .map_err(|e| format!("{key}: {e}"))?;
        Ok(())
    }

    /// The thresholds the probes apply to this account's tiles.
    pub fn thresholds(&self) -> Thresholds {
        Thresholds {
            slow: Duration::from_millis(u64::from(self.slow_ms)),
            token_expiry_warning_days: i64::from(self.token_warning_days),
            pixel_silence: Duration::from_secs(u64::from(self.pixel_silence_hours) * 3600),
            capi_silence: Duration::from_secs(u64::from(self.capi_silence_minutes) * 60),
            capi_share_drop_pct: f64::from(self.capi_share_drop_pct),
            usage_warning_pct: f64::from(self.usage_warning_pct),
        }
    }

    /// Bounds that keep the monitor useful and within Meta's rate limits: the liveness check
    /// at least hourly, the expensive probes no more than every 5 minutes, the token no more
    /// than hourly; warnings below the 90 % at which the monitor pauses itself.
    fn validate(&self) -> Result<(), AccountError> {
        let ranges: [(&'static str, u32, u32, u32); 16] = [
            (
                "graph_api interval (minutes)",
                self.graph_api_minutes,
                1,
                60,
            ),
            ("token interval (minutes)", self.token_minutes, 60, 1440),
            ("ads interval (minutes)", self.ads_minutes, 5, 1440),
            ("pixel interval (minutes)", self.pixel_minutes, 5, 1440),
            (
                "conversions_api interval (minutes)",
                self.conversions_api_minutes,
                5,
                1440,
            ),
            (
                "webhooks interval (minutes)",
                self.webhooks_minutes,
                5,
                1440,
            ),
            ("catalog interval (minutes)", self.catalog_minutes, 5, 1440),
            ("slow latency (ms)", self.slow_ms, 100, 60_000),
            ("token warning (days)", self.token_warning_days, 1, 60),
            (
                "token renewal (days before expiry)",
                self.token_renew_days,
                1,
                30,
            ),
            ("pixel silence (hours)", self.pixel_silence_hours, 1, 168),
            (
                "server events silence (minutes)",
                self.capi_silence_minutes,
                60,
                10_080,
            ),
            ("server share drop (%)", self.capi_share_drop_pct, 5, 100),
            ("usage warning (%)", self.usage_warning_pct, 10, 89),
            ("findings digest hour (UTC)", self.digest_hour_utc, 0, 23),
            ("feed delete brake (%)", self.feed_delete_brake_pct, 1, 100),
        ];
        for (field, value, min, max) in ranges {
            if !(min..=max).contains(&value) {
                return Err(AccountError::Monitoring {
                    field,
                    value,
                    min,
                    max,
                });
            }
        }
        Ok(())
    }
}

/// Where a secret may travel: `https://` to any host, `http://` only to this machine (the
/// simulator, a test receiver) — never in clear text over a network.
pub fn is_allowed_url(url: &url::Url) -> bool {
    match url.scheme() {
        "https" => url.host().is_some(),
        "http" => match url.host() {
            Some(url::Host::Domain(d)) => d == "localhost" || d.ends_with(".localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        },
        _ => false,
    }
}

/// Meta's Graph API hosts; any other gets the access token only because the operator said so.
const META_GRAPH_HOSTS: [&str; 3] = [
    "graph.facebook.com",
    "graph.instagram.com",
    "graph-video.facebook.com",
];

impl Account {
    /// A warning when the graph URL is not Meta's (nor this machine): every probe sends the
    /// access token there. `None` for Meta's hosts and loopback (the simulator).
    pub fn graph_url_warning(&self) -> Option<String> {
        let url = url::Url::parse(&self.graph_url).ok()?;
        let host = url.host_str()?;
        let local = url.scheme() == "http" || host == "localhost";
        if local || META_GRAPH_HOSTS.contains(&host) {
            return None;
        }
        Some(format!(
            "{host} is not a Meta host: every check sends this account's access token there"
        ))
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AccountError {
    #[error("account name must be 1–64 letters, digits, '-', '_' or '.' (got {0:?})")]
    Name(String),
    #[error(
        "graph URL must be https:// (http:// only to this machine), without a path, query or \
         credentials (got {0:?})"
    )]
    GraphUrl(String),
    #[error("API version must look like v25.0 (got {0:?})")]
    ApiVersion(String),
    #[error("{field} must be a numeric id (got {value:?})")]
    Id { field: &'static str, value: String },
    #[error("ad account must be act_<digits> or <digits> (got {0:?})")]
    AdAccount(String),
    #[error("a webhook endpoint must be https:// (http:// only to this machine) (got {0:?})")]
    WebhookEndpoint(String),
    #[error("{field} must be between {min} and {max} (got {value})")]
    Monitoring {
        field: &'static str,
        value: u32,
        min: u32,
        max: u32,
    },
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
            monitoring: Monitoring::default(),
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
            is_allowed_url(&u)
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
            let ok = url::Url::parse(url).is_ok_and(|u| is_allowed_url(&u));
            if !ok {
                return Err(AccountError::WebhookEndpoint(url.clone()));
            }
        }
        self.monitoring.validate()?;
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

/// Default intervals: cheap liveness often, expensive insights rarely, the token at start and
/// every 6 hours. `rate_limits` is not polled: it is read from every response.
pub fn default_interval(service: Service) -> Option<Duration> {
    let minutes = |m: u64| Some(Duration::from_secs(m * 60));
    match service {
        Service::GraphApi => minutes(1),
        Service::Pixel | Service::ConversionsApi => minutes(10),
        Service::Ads => minutes(15),
        Service::Webhooks | Service::Catalog => minutes(30),
        Service::Token => minutes(6 * 60),
        Service::RateLimits => None,
    }
}

/// Thresholds that turn measurements into statuses.
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    /// `graph_api` is DEGRADED above this latency.
    pub slow: Duration,
    /// `token` is DEGRADED when it expires within this many days.
    pub token_expiry_warning_days: i64,
    /// `pixel` is DEGRADED when silent longer than this.
    pub pixel_silence: Duration,
    /// `conversions_api` is DOWN when no server event arrived for this long while browser
    /// events did.
    pub capi_silence: Duration,
    /// `conversions_api` is DEGRADED when an event's server share fell by more than this many
    /// percent (relative) against the same hours a week earlier.
    pub capi_share_drop_pct: f64,
    /// `rate_limits` is DEGRADED at or above this percentage.
    pub usage_warning_pct: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            slow: Duration::from_millis(2000),
            token_expiry_warning_days: 7,
            pixel_silence: Duration::from_secs(24 * 3600),
            capi_silence: Duration::from_secs(2 * 3600),
            capi_share_drop_pct: 50.0,
            usage_warning_pct: 75.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monitoring_defaults_match_the_schedule_and_bounds_are_enforced() {
        let m = Monitoring::default();
        for service in Service::ALL {
            assert_eq!(
                m.interval(service),
                default_interval(service),
                "{service:?}"
            );
        }
        assert_eq!(m.thresholds(), Thresholds::default());
        let old: Monitoring = serde_json::from_str(r#"{"pixel_minutes": 20}"#).expect("partial");
        assert_eq!(old.pixel_minutes, 20);
        assert_eq!(old.graph_api_minutes, 1, "missing fields are the defaults");

        let mut account = Account::new("shop");
        account.monitoring.ads_minutes = 1;
        let err = account.validate().expect_err("too often for insights");
        assert_eq!(
            err.to_string(),
            "ads interval (minutes) must be between 5 and 1440 (got 1)"
        );
        let mut set = Monitoring::default();
        set.set("pixel_minutes", "20").expect("a number");
        set.set("notify_desktop", "off").expect("a switch");
        assert_eq!((set.pixel_minutes, set.notify_desktop), (20, false));
        let unknown = set.set("pixel", "20").expect_err("unknown key");
        assert!(
            unknown.contains("pixel_minutes"),
            "lists the keys: {unknown}"
        );
        assert!(set.set("slow_ms", "-5").is_err());
        assert!(set.set("notify_desktop", "maybe").is_err());

        let mut account = Account::new("shop");
        account.monitoring.usage_warning_pct = 95;
        assert!(account.validate().is_err(), "warning above the 90 % pause");
    }

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
    fn secrets_travel_over_https_or_stay_on_this_machine() {
        for (url, allowed) in [
            ("https://graph.facebook.com", true),
            ("https://proxy.example", true),
            ("http://127.0.0.1:8080", true),
            ("http://[::1]:8080", true),
            ("http://localhost:9000", true),
            ("http://graph.facebook.com", false),
            ("http://10.0.0.2", false),
            ("http://localhost.evil.example", false),
        ] {
            let mut a = Account::new("a");
            a.graph_url = url.into();
            assert_eq!(a.clone().validate().is_ok(), allowed, "graph URL {url}");
            a.graph_url = DEFAULT_GRAPH_URL.into();
            a.webhook_endpoints = vec![format!("{url}/hook")];
            assert_eq!(a.validate().is_ok(), allowed, "webhook endpoint {url}");
        }
        let warning = |url: &str| {
            let mut a = Account::new("a");
            a.graph_url = url.into();
            a.graph_url_warning()
        };
        assert_eq!(warning("https://graph.facebook.com"), None);
        assert_eq!(warning("http://127.0.0.1:8080"), None, "the simulator");
        assert!(
            warning("https://proxy.example").is_some_and(|w| w.contains("proxy.example")),
            "a non-Meta host is named"
        );
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
