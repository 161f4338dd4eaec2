//! Deterministic, seedable business data: spend, clicks and purchases per day, pixel events
//! per hour. Numbers are built from integers and rendered as Meta renders them (strings).

use serde_json::{Value, json};

/// splitmix64: a stable mixer, so the same seed gives the same data on every build (a rand
/// generator makes no such promise across versions).
pub fn mix(seed: u64, a: u64, b: u64) -> u64 {
    let mut z =
        seed ^ a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One day of delivery; day 0 is today (partial), 1 yesterday, …
#[derive(Debug, Clone, Copy, Default)]
pub struct Day {
    pub spend_cents: u64,
    pub impressions: u64,
    pub clicks: u64,
    pub purchases: u64,
    pub purchase_value_cents: u64,
}

pub fn day(seed: u64, index: u64) -> Day {
    let r = |k: u64, m: u64| mix(seed, index, k) % m;
    let share = if index == 0 { 2 } else { 1 }; // today is about half over
    let spend_cents = (2_000 + r(1, 6_000)) / share;
    let impressions = spend_cents * (8 + r(2, 6)) / 10;
    let clicks = impressions * (10 + r(3, 15)) / 1_000;
    let purchases = clicks / (15 + r(4, 10));
    let purchase_value_cents = purchases * (3_000 + r(5, 4_000));
    Day {
        spend_cents,
        impressions,
        clicks,
        purchases,
        purchase_value_cents,
    }
}

fn money(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// `a / b` with 6 decimals, truncated, as Meta prints ratios.
fn ratio(a: u128, b: u128) -> String {
    if b == 0 {
        return "0".to_owned();
    }
    let scaled = a * 1_000_000 / b;
    format!("{}.{:06}", scaled / 1_000_000, scaled % 1_000_000)
}

/// An account-level insights row over `days` (inclusive day indexes), with list fields
/// omitted when empty, exactly as Meta does.
pub fn insights_row(
    seed: u64,
    account_number: &str,
    days: std::ops::RangeInclusive<u64>,
    start: &str,
    stop: &str,
) -> Value {
    let total = days.map(|d| day(seed, d)).fold(Day::default(), |a, d| Day {
        spend_cents: a.spend_cents + d.spend_cents,
        impressions: a.impressions + d.impressions,
        clicks: a.clicks + d.clicks,
        purchases: a.purchases + d.purchases,
        purchase_value_cents: a.purchase_value_cents + d.purchase_value_cents,
    });
    let mut row = json!({
        "account_id": account_number,
        "date_start": start,
        "date_stop": stop,
        "spend": money(total.spend_cents),
        "impressions": total.impressions.to_string(),
        "clicks": total.clicks.to_string(),
        "cpc": ratio(u128::from(total.spend_cents), u128::from(total.clicks) * 100),
        "ctr": ratio(u128::from(total.clicks) * 100, u128::from(total.impressions)),
    });
    let link_clicks = total.clicks * 7 / 10;
    let mut actions = Vec::new();
    if link_clicks > 0 {
        actions.push(json!({"action_type": "link_click", "value": link_clicks.to_string()}));
    }
    if total.purchases > 0 {
        let n = total.purchases.to_string();
        // One purchase under several overlapping types, as Meta reports it (reference §18).
        actions.push(json!({"action_type": "offsite_conversion.fb_pixel_purchase", "value": n}));
        actions.push(json!({"action_type": "purchase", "value": n}));
        actions.push(json!({"action_type": "omni_purchase", "value": n}));
        row["cost_per_action_type"] = json!([{
            "action_type": "omni_purchase",
            "value": ratio(u128::from(total.spend_cents), u128::from(total.purchases) * 100),
        }]);
        row["action_values"] =
            json!([{"action_type": "omni_purchase", "value": money(total.purchase_value_cents)}]);
        row["purchase_roas"] = json!([{
            "action_type": "omni_purchase",
            "value": ratio(u128::from(total.purchase_value_cents), u128::from(total.spend_cents)),
        }]);
    }
    if !actions.is_empty() {
        row["actions"] = Value::Array(actions);
    }
    row
}

pub fn active_campaigns(seed: u64) -> u64 {
    3 + mix(seed, 77, 0) % 6
}

pub const PIXEL_EVENTS: [&str; 5] = [
    "PageView",
    "ViewContent",
    "AddToCart",
    "InitiateCheckout",
    "Purchase",
];

/// Event counts for one hour (hour index = unix hour), top events first, zero counts omitted.
pub fn pixel_hour(seed: u64, unix_hour: u64) -> Vec<Value> {
    let base = 200 + mix(seed, unix_hour, 1) % 300;
    let divisors = [1, 3, 12, 30, 60];
    PIXEL_EVENTS
        .iter()
        .zip(divisors)
        .map(|(name, d)| (name, base / d))
        .filter(|(_, n)| *n > 0)
        .map(|(name, n)| json!({"value": name, "count": n}))
        .collect()
}

/// What the shop's own server sends through the Conversions API in one hour: the events of
/// the checkout funnel, a share of the browser's (ad blockers and closed tabs lose browser
/// events; the server keeps most of the purchases).
pub fn server_hour(seed: u64, unix_hour: u64) -> Vec<(&'static str, u64)> {
    let browser = pixel_hour(seed, unix_hour);
    let count = |name: &str| {
        browser
            .iter()
            .find(|r| r["value"] == name)
            .and_then(|r| r["count"].as_u64())
            .unwrap_or(0)
    };
    [("AddToCart", 5), ("InitiateCheckout", 7), ("Purchase", 9)]
        .into_iter()
        .map(|(name, tenths)| (name, count(name) * tenths / 10))
        .filter(|(_, n)| *n > 0)
        .collect()
}
