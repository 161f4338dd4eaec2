//! What each service's probe measured, typed per service: the tile's details view, the alert
//! rules, the Prometheus exporter and `--json` read these fields, never string keys.
//!
//! A field a probe could not measure is `None` (or an empty list): a probe keeps every fact it
//! measured before a later call failed, so a detail is often partly filled.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use ts_rs::TS;

/// One variant per service; `None` when the probe measured nothing (not configured, or its
/// first call failed).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Detail {
    #[default]
    None,
    Token(TokenDetail),
    GraphApi(GraphApiDetail),
    RateLimits(RateLimitsDetail),
    Ads(AdsDetail),
    Pixel(PixelDetail),
    ConversionsApi(ConversionsApiDetail),
    Webhooks(WebhooksDetail),
    Catalog(CatalogDetail),
}

/// `debug_token`'s answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct TokenDetail {
    pub is_valid: bool,
    /// USER, PAGE, SYSTEM_USER or APP; `None` when Meta did not say.
    pub token_type: Option<String>,
    /// RFC 3339; `None` when it never expires or nothing was read (see `never_expires`).
    #[serde(with = "time::serde::rfc3339::option")]
    #[ts(type = "string | null")]
    pub expires_at: Option<OffsetDateTime>,
    /// Meta said `expires_at: 0`.
    pub never_expires: bool,
    /// When the token's access to user data ends (RFC 3339), if Meta says.
    #[serde(with = "time::serde::rfc3339::option")]
    #[ts(type = "string | null")]
    pub data_access_expires_at: Option<OffsetDateTime>,
    pub scopes: Vec<String>,
    /// Scopes the account's configured features need and the token lacks.
    pub missing_scopes: Vec<String>,
    /// The same, each with the feature it breaks.
    #[serde(default)]
    pub missing: Vec<MissingScope>,
    #[serde(default)]
    pub app_id: Option<String>,
    /// The app's name.
    #[serde(default)]
    pub application: Option<String>,
    /// The user or system user the token acts as.
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[ts(type = "string | null")]
    pub issued_at: Option<OffsetDateTime>,
    /// Each scope with the asset ids it is limited to.
    #[serde(default)]
    pub granular_scopes: Vec<crate::graph::token::GranularScope>,
    /// The user's data access ends within the warning window.
    #[serde(default)]
    pub data_access_ending: bool,
    /// What automatic renewal does for this token.
    #[serde(default)]
    pub renewal: Option<TokenRenewal>,
    /// The shop server's Conversions API token, when one is stored.
    #[serde(default)]
    pub capi: Option<CapiTokenDetail>,
}

/// The Conversions API token as the token check saw it (never renewed by Meta Monitor: the
/// shop's server holds it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CapiTokenDetail {
    pub status: super::Status,
    /// One line: "valid until …", "expires in 5 d …", "no access to pixel …".
    pub message: String,
    pub is_valid: bool,
    pub token_type: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[ts(type = "string | null")]
    pub expires_at: Option<OffsetDateTime>,
    pub never_expires: bool,
    pub scopes: Vec<String>,
    /// Whether it can reach the account's pixel; `None` when not measured.
    pub pixel_access: Option<bool>,
}

/// A scope the token lacks and what breaks without it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct MissingScope {
    pub scope: String,
    pub feature: String,
}

/// Automatic renewal as the token check saw it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct TokenRenewal {
    /// The account's setting.
    pub auto: bool,
    /// Days before expiry at which it renews.
    pub days_before: u32,
    /// Why Meta Monitor cannot renew this token, with what to do instead; `None`: it can.
    pub impossible: Option<String>,
    /// When automatic renewal runs (RFC 3339), for a renewable expiring token.
    #[serde(with = "time::serde::rfc3339::option")]
    #[ts(type = "string | null")]
    pub due_at: Option<OffsetDateTime>,
    /// This check renewed the token.
    pub renewed: bool,
    /// This check tried to renew it and could not: why, in words.
    pub failed: Option<String>,
}

/// `GET /me`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct GraphApiDetail {
    pub me_id: String,
    pub api_version: String,
}

/// Meta's usage headers over the recent calls, and the monitor's own pacing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct RateLimitsDetail {
    /// The highest usage of any counter, percent; `None` when no header was seen.
    pub max_pct: Option<f64>,
    /// Counter (`app.call_count`, `business.<id>.ads_insights.total_time`…) → highest percent.
    pub counters: BTreeMap<String, f64>,
    /// Calls the rate-limit reading covers.
    pub calls_this_check: u64,
    /// Seconds until Meta gives access back, when it said.
    pub regain_seconds: Option<u64>,
    /// Graph calls Meta Monitor made for this account in the last hour (the scheduler's count).
    pub calls_per_hour: Option<u64>,
    /// The scheduler's pauses in words ("ads, pixel until 14:05 UTC").
    pub paused: Vec<String>,
}

/// The ad account, and its insights when they could be read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct AdsDetail {
    pub account_name: Option<String>,
    /// ACTIVE, DISABLED, UNSETTLED, … (Meta's `account_status` in words).
    pub account_status: String,
    pub currency: Option<String>,
    /// `None` when the insights calls failed after the account was read.
    pub insights: Option<AdsInsights>,
}

/// Spend and results; amounts are exact decimals in the account currency (strings in JSON).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct AdsInsights {
    /// Today's spend in the account's time zone (`date_preset=today`, partial), not a rolling
    /// 24 h: Meta's insights count whole days of the account's calendar.
    #[ts(type = "string")]
    pub spend_24h: Decimal,
    /// The account's time zone, which "today" is a day of.
    pub timezone: Option<String>,
    #[ts(type = "string")]
    pub spend_7d: Decimal,
    #[ts(type = "string")]
    pub spend_30d: Decimal,
    #[ts(type = "string | null")]
    pub conversions_24h: Option<Decimal>,
    /// The one purchase action type the conversions count (Meta reports several overlapping).
    pub conversion_action_type: Option<String>,
    #[ts(type = "string | null")]
    pub roas_7d: Option<Decimal>,
    /// Purchases, revenue, average order value and cost per purchase over 7 days, all of the
    /// one `conversion_action_type`.
    #[ts(type = "string | null")]
    pub purchases_7d: Option<Decimal>,
    #[ts(type = "string | null")]
    pub purchase_value_7d: Option<Decimal>,
    #[ts(type = "string | null")]
    pub aov_7d: Option<Decimal>,
    #[ts(type = "string | null")]
    pub cost_per_purchase_7d: Option<Decimal>,
    /// The attribution the conversion numbers use, in words.
    pub attribution: String,
    #[ts(type = "string | null")]
    pub cpc_7d: Option<Decimal>,
    /// Percent.
    #[ts(type = "string | null")]
    pub ctr_7d: Option<Decimal>,
    pub active_campaigns: u64,
}

/// The pixel node and its events (browser and server together; the split is the
/// `conversions_api` tile's).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct PixelDetail {
    pub pixel_name: Option<String>,
    /// RFC 3339; `None` when the pixel never fired.
    #[serde(with = "time::serde::rfc3339::option")]
    #[ts(type = "string | null")]
    pub last_fired: Option<OffsetDateTime>,
    /// Silent longer than the threshold (or never fired).
    pub silent: bool,
    pub silence_threshold_hours: u64,
    /// Events in the last 24 h; `None` when the events call failed.
    pub events_24h: Option<u64>,
    /// Event name → count, last 24 h.
    pub events_by_name: BTreeMap<String, u64>,
}

/// A part of a detail that may be missing for a reason worth showing ("needs ads_read", "skipped:
/// usage above 75 %").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Reading<T> {
    Read { value: T },
    Missing { why: String },
}

impl<T> Default for Reading<T> {
    fn default() -> Self {
        Self::Missing {
            why: "not read".to_owned(),
        }
    }
}

impl<T> From<Result<T, String>> for Reading<T> {
    fn from(result: Result<T, String>) -> Self {
        match result {
            Ok(value) => Self::Read { value },
            Err(why) => Self::Missing { why },
        }
    }
}

/// Server events (Conversions API) against browser events (Pixel), from Meta's
/// `stats?aggregation=event_source`, and the dataset's quality.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct ConversionsApiDetail {
    pub server_1h: u64,
    pub server_24h: u64,
    pub browser_1h: u64,
    pub browser_24h: u64,
    /// Start of the last hour Meta counted server events in (RFC 3339); `None`: none in 24 h.
    #[serde(with = "time::serde::rfc3339::option")]
    #[ts(type = "string | null")]
    pub last_server_hour: Option<OffsetDateTime>,
    /// Per event name, when Meta's answer named the events (else empty, see
    /// `per_event_reported`).
    pub by_event: Vec<EventSplit>,
    pub per_event_reported: bool,
    /// Server share of all events over the comparison window (the last hours), percent.
    pub share_pct: Option<f64>,
    /// The same hours a week earlier; `None` when Meta had no events there (it keeps about 7
    /// days) or the call was skipped.
    pub share_week_ago_pct: Option<f64>,
    pub compare_hours: u32,
    pub silence_threshold_minutes: u64,
    pub share_drop_pct: f64,
    /// Dataset quality per event (match quality, coverage, freshness, deduplication), or
    /// why it could not be read.
    pub quality: Reading<Vec<crate::graph::pixel::EventQuality>>,
}

/// One event's server and browser counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct EventSplit {
    pub event_name: String,
    pub server_1h: u64,
    pub server_24h: u64,
    pub browser_1h: u64,
    pub browser_24h: u64,
    /// Server share over the comparison window, percent; `None` without events there.
    pub share_pct: Option<f64>,
    pub share_week_ago_pct: Option<f64>,
}

/// The app's subscriptions and the operator's endpoints checked like Meta does.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct WebhooksDetail {
    pub subscriptions: Vec<Subscription>,
    /// Endpoint checks (handshake and signed sample delivery), for configured endpoints only.
    pub endpoints: Vec<EndpointCheck>,
}

impl WebhooksDetail {
    pub fn inactive(&self) -> usize {
        self.subscriptions.iter().filter(|s| !s.active).count()
    }

    pub fn endpoints_failed(&self) -> usize {
        self.endpoints.iter().filter(|e| !e.ok).count()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Subscription {
    pub object: String,
    pub callback_url: Option<String>,
    pub fields: Vec<String>,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct EndpointCheck {
    pub url: String,
    pub ok: bool,
    pub latency_ms: u64,
    /// What failed, in words.
    pub problem: Option<String>,
}

/// The catalog node, Meta's review of its items, and the local sync state (kept when the node
/// could not be read, so the node's fields are optional).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct CatalogDetail {
    pub name: Option<String>,
    pub product_count: Option<u64>,
    pub vertical: Option<String>,
    /// `None` when skipped (tight call budget) or unreadable.
    pub review: Option<ReviewCounts>,
    /// `None` when no product was ever synced from here.
    pub sync: Option<SyncCounts>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ReviewCounts {
    pub approved: u64,
    pub pending: u64,
    pub rejected: u64,
}

/// Products in the local catalog by sync state (deleted ones not counted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SyncCounts {
    /// Refused by Meta.
    pub failed: u32,
    /// Sent, Meta's verdict not yet read.
    pub pending: u32,
    /// Edited since Meta last accepted them.
    pub changed: u32,
    pub total: u32,
}
