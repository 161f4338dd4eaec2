//! Ad account, insights and active campaigns. Money stays decimal: insights `spend` is a
//! major-unit string, the account's `amount_spent` a minor-unit string (gotcha 6).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{GraphClient, GraphError};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdAccount {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
    /// 1 ACTIVE, 2 DISABLED, 3 UNSETTLED, 7 PENDING_RISK_REVIEW, 8 PENDING_SETTLEMENT,
    /// 9 IN_GRACE_PERIOD, 100 PENDING_CLOSURE, 101 CLOSED.
    pub account_status: i64,
    /// Minor units as a string ("743855" = 7,438.55).
    #[serde(default)]
    pub amount_spent: Option<String>,
    /// The account's time zone: insights' days (`today`) are its days.
    #[serde(default)]
    pub timezone_name: Option<String>,
}

/// Meta's words for `account_status`.
pub fn account_status_name(status: i64) -> &'static str {
    match status {
        1 => "ACTIVE",
        2 => "DISABLED",
        3 => "UNSETTLED",
        7 => "PENDING_RISK_REVIEW",
        8 => "PENDING_SETTLEMENT",
        9 => "IN_GRACE_PERIOD",
        100 => "PENDING_CLOSURE",
        101 => "CLOSED",
        201 => "ANY_ACTIVE",
        202 => "ANY_CLOSED",
        _ => "UNKNOWN",
    }
}

/// One `AdsActionStats` entry: `{"action_type": "...", "value": "..."}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionStat {
    pub action_type: String,
    pub value: Decimal,
}

/// One insights row. Every number is a string in Meta's JSON; empty lists are omitted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InsightsRow {
    #[serde(default)]
    pub spend: Option<Decimal>,
    #[serde(default)]
    pub impressions: Option<Decimal>,
    #[serde(default)]
    pub clicks: Option<Decimal>,
    #[serde(default)]
    pub cpc: Option<Decimal>,
    #[serde(default)]
    pub ctr: Option<Decimal>,
    #[serde(default)]
    pub actions: Vec<ActionStat>,
    #[serde(default)]
    pub action_values: Vec<ActionStat>,
    #[serde(default)]
    pub purchase_roas: Vec<ActionStat>,
    #[serde(default)]
    pub cost_per_action_type: Vec<ActionStat>,
}

/// The purchase action types in order of preference (reference §18: `omni_purchase`, else
/// `purchase`; the website-only and on-site subsets last). One purchase is reported under
/// several of them, so exactly one is used, on both sides of every ratio, and they are never
/// summed (gotcha 7).
pub const PURCHASE_ACTION_TYPES: [&str; 4] = [
    "omni_purchase",
    "purchase",
    "offsite_conversion.fb_pixel_purchase",
    "onsite_web_purchase",
];

/// Which attribution the numbers use: the API's default since 2025-06-10 is each ad set's own
/// setting (what Ads Manager shows), 7-day click and 1-day view unless the ad set says
/// otherwise; no explicit windows are requested.
pub const ATTRIBUTION: &str = "each ad set's attribution setting (default 7-day click, 1-day view)";

/// Money as Meta prints it: two decimals, always.
fn money(amount: Decimal) -> Decimal {
    let mut amount = amount.round_dp(2);
    amount.rescale(2);
    amount
}

fn stat(list: &[ActionStat], kind: &str) -> Option<Decimal> {
    list.iter().find(|a| a.action_type == kind).map(|a| a.value)
}

impl InsightsRow {
    /// The first preferred purchase action type present in `actions`.
    pub fn purchase_action_type(&self) -> Option<&'static str> {
        PURCHASE_ACTION_TYPES
            .into_iter()
            .find(|t| self.actions.iter().any(|a| a.action_type == *t))
    }

    pub fn conversions(&self) -> Option<Decimal> {
        stat(&self.actions, self.purchase_action_type()?)
    }

    /// Revenue of the chosen purchase type (`action_values`), in the account currency.
    pub fn purchase_value(&self) -> Option<Decimal> {
        stat(&self.action_values, self.purchase_action_type()?)
    }

    /// Revenue ÷ purchases, of the same type; `None` without purchases.
    pub fn average_order_value(&self) -> Option<Decimal> {
        let purchases = self.conversions().filter(|p| !p.is_zero())?;
        self.purchase_value()?.checked_div(purchases).map(money)
    }

    /// `cost_per_action_type` of the chosen type, else spend ÷ purchases.
    pub fn cost_per_purchase(&self) -> Option<Decimal> {
        let kind = self.purchase_action_type()?;
        if let Some(cost) = stat(&self.cost_per_action_type, kind) {
            return Some(cost);
        }
        let purchases = self.conversions().filter(|p| !p.is_zero())?;
        self.spend?.checked_div(purchases).map(money)
    }

    /// `purchase_roas` for the chosen type, else purchase value ÷ spend truncated to 6 places
    /// as Meta prints it.
    pub fn roas(&self) -> Option<Decimal> {
        let kind = self.purchase_action_type()?;
        if let Some(r) = self.purchase_roas.iter().find(|a| a.action_type == kind) {
            return Some(r.value);
        }
        let value = self
            .action_values
            .iter()
            .find(|a| a.action_type == kind)?
            .value;
        let spend = self.spend.filter(|s| !s.is_zero())?;
        value
            .checked_div(spend)
            .map(|r| r.round_dp_with_strategy(6, rust_decimal::RoundingStrategy::ToZero))
    }
}

pub const INSIGHTS_FIELDS: &str =
    "spend,impressions,clicks,cpc,ctr,actions,action_values,purchase_roas,cost_per_action_type";

pub async fn account(client: &GraphClient, act: &str) -> Result<AdAccount, GraphError> {
    client
        .get(
            act,
            &[(
                "fields",
                "name,currency,account_status,amount_spent,timezone_name",
            )],
        )
        .await?
        .json()
}

/// Account-level insights for one `date_preset`. An empty `data` (no delivery) is a zero row.
pub async fn insights(
    client: &GraphClient,
    act: &str,
    date_preset: &str,
) -> Result<InsightsRow, GraphError> {
    let path = format!("{act}/insights");
    let query = [
        ("level", "account"),
        ("date_preset", date_preset),
        ("fields", INSIGHTS_FIELDS),
    ];
    let (rows, _) = client
        .get_pages::<InsightsRow>(&path, &query, client.access_token(), 5)
        .await?;
    Ok(rows.into_iter().next().unwrap_or_default())
}

/// The number of ACTIVE campaigns, from `summary.total_count`.
pub async fn active_campaigns(client: &GraphClient, act: &str) -> Result<u64, GraphError> {
    let path = format!("{act}/campaigns");
    let query = [
        ("effective_status", r#"["ACTIVE"]"#),
        ("fields", "id"),
        ("summary", "total_count"),
        ("limit", "1"),
    ];
    let response = client.get(&path, &query).await?;
    let page: super::Page<serde_json::Value> = response.json()?;
    page.summary
        .as_ref()
        .and_then(|s| s.get("total_count"))
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| GraphError::Undecodable {
            http_status: response.http_status,
            at: "summary.total_count".to_owned(),
            reason: "missing".to_owned(),
            snippet: String::new(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_use_one_action_type_and_money_stays_decimal() {
        let row: InsightsRow = serde_json::from_str(
            r#"{"spend":"41.27","impressions":"5312","clicks":"87","cpc":"0.474368","ctr":"1.637801",
            "actions":[{"action_type":"link_click","value":"61"},{"action_type":"offsite_conversion.fb_pixel_purchase","value":"3"},{"action_type":"omni_purchase","value":"3"}],
            "action_values":[{"action_type":"omni_purchase","value":"154.90"}]}"#,
        )
        .expect("reference insights row");
        assert_eq!(
            row.conversions(),
            Some(Decimal::from(3)),
            "3 purchases, not 6"
        );
        assert_eq!(row.spend.map(|s| s.to_string()).as_deref(), Some("41.27"));
        assert_eq!(
            row.roas().map(|r| r.to_string()).as_deref(),
            Some("3.753331")
        );
        let quiet: InsightsRow = serde_json::from_str(r#"{"spend":"0","impressions":"0"}"#)
            .expect("omitted lists parse");
        assert_eq!(
            quiet.conversions(),
            None,
            "no actions key means no conversions reported"
        );
        assert_eq!(quiet.roas(), None, "ROAS is undefined without spend");
    }

    #[test]
    fn value_metrics_use_one_type_on_both_sides() {
        // The reference's §18 example.
        let row: InsightsRow = serde_json::from_str(
            r#"{"spend":"250.00",
             "actions":[{"action_type":"purchase","value":"5"},{"action_type":"omni_purchase","value":"5"},{"action_type":"offsite_conversion.fb_pixel_purchase","value":"5"}],
             "action_values":[{"action_type":"omni_purchase","value":"612.50"},{"action_type":"offsite_conversion.fb_pixel_purchase","value":"612.50"}],
             "cost_per_action_type":[{"action_type":"omni_purchase","value":"50"}],
             "purchase_roas":[{"action_type":"omni_purchase","value":"2.45"}]}"#,
        )
        .expect("reference row");
        let text = |d: Option<Decimal>| d.map(|d| d.to_string());
        assert_eq!(row.purchase_action_type(), Some("omni_purchase"));
        assert_eq!(
            text(row.conversions()).as_deref(),
            Some("5"),
            "5 purchases, not 15"
        );
        assert_eq!(text(row.purchase_value()).as_deref(), Some("612.50"));
        assert_eq!(text(row.average_order_value()).as_deref(), Some("122.50"));
        assert_eq!(text(row.cost_per_purchase()).as_deref(), Some("50"));
        assert_eq!(text(row.roas()).as_deref(), Some("2.45"));

        // Without omni_purchase, `purchase` is used for counts and values alike; cost per
        // purchase falls back to spend ÷ purchases.
        let row: InsightsRow = serde_json::from_str(
            r#"{"spend":"100","actions":[{"action_type":"offsite_conversion.fb_pixel_purchase","value":"9"},{"action_type":"purchase","value":"4"}],
             "action_values":[{"action_type":"purchase","value":"300"}]}"#,
        )
        .expect("row");
        assert_eq!(row.purchase_action_type(), Some("purchase"));
        assert_eq!(text(row.average_order_value()).as_deref(), Some("75.00"));
        assert_eq!(text(row.cost_per_purchase()).as_deref(), Some("25.00"));
        let none: InsightsRow = serde_json::from_str(r#"{"spend":"10"}"#).expect("row");
        assert_eq!(
            (none.average_order_value(), none.cost_per_purchase()),
            (None, None)
        );
    }
}
