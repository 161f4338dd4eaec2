//! The shapes the application API takes and returns — what the window sends and shows, and
//! what the CLI prints as JSON — exported to TypeScript (ts-rs) by the desktop's bindings test.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::AppError;
use crate::Account;
use crate::check::AccountTiles;
use crate::store::probe_runs::FailedRun;
use crate::store::rollups::ChartPoint;
use crate::tile::Tile;
use time::OffsetDateTime;

/// What the overview shows: every watched account's tiles, and whether this is the demo.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Overview {
    /// True when the app watches the built-in simulator (no account configured, or `--demo`).
    pub demo: bool,
    pub accounts: Vec<AccountTiles>,
    /// The silences and maintenance windows in force now (a tile they cover is "in
    /// maintenance" or silenced).
    pub holds: Vec<crate::store::holds::StoredHold>,
}

/// How far back a chart looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, TS)]
pub enum Window {
    #[serde(rename = "24h")]
    Day,
    #[serde(rename = "7d")]
    Week,
    #[serde(rename = "30d")]
    Month,
    #[serde(rename = "1y")]
    Year,
}

impl Window {
    /// As the window names it (`24h`, `7d`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "24h",
            Self::Week => "7d",
            Self::Month => "30d",
            Self::Year => "1y",
        }
    }

    pub fn duration(self) -> time::Duration {
        time::Duration::days(match self {
            Self::Day => 1,
            Self::Week => 7,
            Self::Month => 30,
            Self::Year => 365,
        })
    }
}

/// A chart the window asks for, sized to its view.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct ChartRequest {
    pub account: String,
    /// A stored series, e.g. `meta.api.latency_ms`.
    pub metric: String,
    pub window: Window,
    /// p50/p95/p99 lines (latencies) instead of the mean.
    pub percentiles: bool,
    pub unit: String,
    pub width: u32,
    pub height: u32,
    pub dark: bool,
}

/// One customer value as it would be sent: normalized and hashed, or why it cannot be.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PreviewField {
    pub key: String,
    pub normalized: Option<String>,
    pub sent: Option<String>,
    pub problem: Option<String>,
}

/// The live preview of a test event.
#[derive(Debug, Clone, Serialize, TS)]
pub struct EventPreview {
    /// The id the event will be sent with.
    pub event_id: String,
    pub fields: Vec<PreviewField>,
    /// Why Meta would refuse it; empty when it can be sent.
    pub problems: Vec<crate::capi::event::EventProblem>,
    /// The request body's `data`, pretty-printed, when it can be sent.
    pub payload: Option<String>,
}

/// What sending a test event did.
#[derive(Debug, Clone, Serialize, TS)]
pub struct TestEventResult {
    pub event_id: String,
    pub test_event_code: Option<String>,
    /// Meta's answer when it accepted the request.
    pub received: Option<crate::capi::send::Received>,
    /// Meta's refusal (or the failure) in words.
    pub error: Option<String>,
    /// The exact request sent (hashed values only).
    pub payload: String,
}

/// The Pixel view's event log.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SentEventsView {
    pub counts_24h: Vec<crate::store::sent_events::SentCount>,
    pub recent: Vec<crate::store::sent_events::SentEvent>,
}

/// The file format of an exported chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Png,
    Svg,
    /// The chart's points (time, count, mean, min, max, percentiles).
    Csv,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Svg => "svg",
            Self::Csv => "csv",
        }
    }
}

/// A rendered chart: the SVG and the numbers behind it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ChartView {
    pub svg: String,
    /// How many points the chart holds (never more than 500).
    pub points: u32,
    /// The whole window in one bucket (count, mean, min, max, percentiles).
    pub summary: Option<ChartPoint>,
}

/// A service's recent failures and its error rate over 24 h.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ServiceHistory {
    pub failures: Vec<FailedRun>,
    pub runs_24h: u32,
    pub failed_24h: u32,
}

pub use crate::secrets::SecretName;

/// Whether a secret is stored; its value never crosses IPC towards the window.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SecretState {
    pub name: SecretName,
    /// `null` when the keychain could not be asked.
    pub stored: Option<bool>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct StoredAccountView {
    pub account: Account,
    pub secrets: Vec<SecretState>,
    /// Said when the graph URL is not Meta's: the token goes there.
    pub warning: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct KeychainStatus {
    pub available: bool,
    /// What is wrong and how to fix it, in words.
    pub problem: Option<String>,
}

/// The Settings view's data.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SettingsView {
    pub demo: bool,
    pub accounts: Vec<StoredAccountView>,
    pub keychain: KeychainStatus,
    /// A new account with Meta's and Meta Monitor's defaults (intervals, thresholds), so the
    /// form never repeats them.
    pub new_account: Account,
    /// The folder of the app's log files (`None`: logging could not start).
    pub log_folder: Option<String>,
}

/// "Test connection": the token and graph_api tiles and what they mean.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ConnectionTest {
    pub ok: bool,
    pub tiles: Vec<Tile>,
    pub explanation: String,
}

/// The Catalog view: the products with their Meta state and counts per sync status.
#[derive(Debug, Serialize, TS)]
pub struct CatalogView {
    pub catalog_id: Option<String>,
    pub counts: crate::store::products::StatusCounts,
    pub products: Vec<crate::store::products::StoredProduct>,
    /// A sync of this account is running (started from this window or another).
    pub syncing: bool,
}

/// What an import kept and refused.
#[derive(Debug, Serialize, TS)]
pub struct ImportResult {
    pub counts: crate::store::products::ImportCounts,
    pub rejected: Vec<crate::catalog::import::RejectedRow>,
}

/// Which products a sync sends.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SyncSelection {
    /// These retailer ids (create or update).
    Ids { ids: Vec<String> },
    /// Every product that differs from what Meta last accepted.
    Changed,
    /// Every product not deleted.
    All,
    /// Delete these retailer ids from the catalog.
    Delete { ids: Vec<String> },
    /// Nothing new: finish what is queued (a sync interrupted by a quit or a crash).
    Queued,
}

/// How far back `meta-monitor history` looks: `24h`, `7d`, `30d`, `1y` — from one hour to two
/// years. Parsed without overflow, whatever the digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Since {
    hours: u32,
}

impl Since {
    /// The longest window kept (the history tiers hold a year, with room to spare).
    const MAX_HOURS: u32 = 2 * 365 * 24;

    pub fn duration(self) -> time::Duration {
        time::Duration::hours(i64::from(self.hours))
    }

    pub fn hours(self) -> u32 {
        self.hours
    }
}

impl std::str::FromStr for Since {
    type Err = AppError;

    fn from_str(text: &str) -> Result<Self, AppError> {
        let shape = || AppError::invalid("--since must look like 24h, 7d, 30d or 1y");
        let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(shape)?;
        let (digits, unit) = text.split_at(split);
        let per_unit: u64 = match unit {
            "h" => 1,
            "d" => 24,
            "y" => 365 * 24,
            _ => return Err(shape()),
        };
        let hours = match digits.parse::<u64>() {
            Ok(n) => n.checked_mul(per_unit),
            Err(_) if digits.is_empty() => return Err(shape()),
            // More digits than a u64 holds is out of range too, not a different error.
            Err(_) => None,
        };
        match hours.and_then(|h| u32::try_from(h).ok()) {
            Some(hours) if (1..=Self::MAX_HOURS).contains(&hours) => Ok(Self { hours }),
            _ => Err(AppError::invalid("--since must be between 1h and 2y")),
        }
    }
}

/// A stored series over a window (`meta-monitor history --json`).
#[derive(Debug, Clone, Serialize)]
pub struct SeriesView {
    pub account: String,
    pub metric: String,
    #[serde(with = "time::serde::rfc3339")]
    pub from: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub to: OffsetDateTime,
    /// The whole window in one bucket; `None` when nothing was stored in it.
    pub summary: Option<ChartPoint>,
    pub points: Vec<ChartPoint>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::ErrorCode;
    use proptest::prelude::*;

    #[test]
    fn since_reads_hours_days_and_years_within_two_years() {
        for (text, hours) in [
            ("1h", 1),
            ("24h", 24),
            ("7d", 168),
            ("1y", 8760),
            ("2y", 17520),
        ] {
            let since: Since = text.parse().expect(text);
            assert_eq!(since.duration(), time::Duration::hours(hours), "{text}");
        }
        for text in [
            "0h",
            "3y",
            "17521h",
            "3000000000000000h",
            "99999999999999999999999d",
        ] {
            let e = text.parse::<Since>().expect_err(text);
            assert_eq!(e.code, ErrorCode::InvalidInput, "{text}");
            assert!(
                e.message.contains("between 1h and 2y"),
                "{text}: {}",
                e.message
            );
        }
        for text in ["", "h", "7", "7w", "-7d", "7 d", "7dd", "½d"] {
            let e = text.parse::<Since>().expect_err(text);
            assert!(
                e.message.contains("must look like"),
                "{text:?}: {}",
                e.message
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        /// Any text is a window of 1 h to 2 y or an invalid-input error, never a panic.
        #[test]
        fn since_never_panics_and_stays_in_range(text in "\\PC{0,24}") {
            match text.parse::<Since>() {
                Ok(since) => {
                    let d = since.duration();
                    prop_assert!(d >= time::Duration::HOUR && d <= time::Duration::days(730));
                }
                Err(e) => prop_assert_eq!(e.code, ErrorCode::InvalidInput),
            }
        }

        #[test]
        fn since_of_digits_and_a_unit_is_their_product(n in 0u64..u64::MAX, unit in "[hdy]") {
            let per_unit: u128 = match unit.as_str() { "h" => 1, "d" => 24, _ => 8760 };
            let hours = u128::from(n) * per_unit;
            let parsed = format!("{n}{unit}").parse::<Since>();
            prop_assert_eq!(parsed.is_ok(), (1..=17520).contains(&hours));
            if let Ok(since) = parsed {
                prop_assert_eq!(since.duration().whole_hours() as u128, hours);
            }
        }
    }
}
