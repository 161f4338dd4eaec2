//! Meta's rate-limit headers parsed into typed values with their real units.
//!
//! Every header is a JSON string. A missing header is `None` ("unknown"), never 0; a malformed
//! one is `None` plus a note in [`Usage::problems`], never a panic. Percentages are 0–100;
//! `estimated_time_to_regain_access` is minutes and `reset_time_duration` is seconds (gotcha 1).

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::header::HeaderMap;
use serde::Serialize;
use serde_json::{Map, Value};

pub const APP_USAGE: &str = "x-app-usage";
pub const PAGE_USAGE: &str = "x-page-usage";
pub const BUSINESS_USE_CASE_USAGE: &str = "x-business-use-case-usage";
pub const AD_ACCOUNT_USAGE: &str = "x-ad-account-usage";
pub const ADS_INSIGHTS_THROTTLE: &str = "x-fb-ads-insights-throttle";

/// Everything the rate-limit headers of one response said.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Usage {
    pub app: Option<PlatformUsage>,
    pub page: Option<PlatformUsage>,
    /// Keyed by business object id (for ads types: the ad account number without `act_`).
    pub business: Option<BTreeMap<String, Vec<BusinessUsage>>>,
    pub ad_account: Option<AdAccountUsage>,
    pub insights_throttle: Option<InsightsThrottle>,
    /// Headers that were present but could not be read, with the reason.
    pub problems: Vec<String>,
}

/// `X-App-Usage` / `X-Page-Usage`: percentages of the platform quota.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PlatformUsage {
    pub call_count: Option<f64>,
    pub total_cputime: Option<f64>,
    pub total_time: Option<f64>,
}

/// One entry of `X-Business-Use-Case-Usage`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BusinessUsage {
    /// `ads_insights`, `ads_management`, `custom_audience`, … kept verbatim so unknown types survive.
    pub kind: String,
    pub call_count: Option<f64>,
    pub total_cputime: Option<f64>,
    pub total_time: Option<f64>,
    /// From `estimated_time_to_regain_access`, which Meta gives in minutes.
    #[serde(serialize_with = "secs")]
    pub regain_after: Option<Duration>,
    pub access_tier: Option<String>,
}

/// `X-Ad-Account-Usage`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdAccountUsage {
    pub util_pct: Option<f64>,
    /// From `reset_time_duration`, which Meta gives in seconds.
    #[serde(serialize_with = "secs")]
    pub reset_after: Option<Duration>,
    pub access_tier: Option<String>,
}

/// `X-FB-Ads-Insights-Throttle`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InsightsThrottle {
    pub app_util_pct: Option<f64>,
    pub account_util_pct: Option<f64>,
    pub access_tier: Option<String>,
}

/// One named usage counter, for gauges and for "highest usage".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Counter {
    /// e.g. `app.call_count`, `business.2369703843357278.ads_insights.total_time`.
    pub name: String,
    pub pct: f64,
}

fn secs<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_some(&d.as_secs()),
        None => s.serialize_none(),
    }
}

impl Usage {
    /// Parses the rate-limit headers of one response.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let mut usage = Usage::default();
        let problems = &mut usage.problems;
        let app = read_header(headers, APP_USAGE, problems);
        let page = read_header(headers, PAGE_USAGE, problems);
        let business = read_header(headers, BUSINESS_USE_CASE_USAGE, problems);
        let ad_account = read_header(headers, AD_ACCOUNT_USAGE, problems);
        let insights = read_header(headers, ADS_INSIGHTS_THROTTLE, problems);
        usage.app = app.map(|m| platform(&m));
        usage.page = page.map(|m| platform(&m));
        usage.ad_account = ad_account.map(|m| AdAccountUsage {
            util_pct: number(m.get("acc_id_util_pct")),
            reset_after: number(m.get("reset_time_duration")).and_then(|s| duration_secs(s, 1.0)),
            access_tier: text(m.get("ads_api_access_tier")),
        });
        usage.insights_throttle = insights.map(|m| InsightsThrottle {
            app_util_pct: number(m.get("app_id_util_pct")),
            account_util_pct: number(m.get("acc_id_util_pct")),
            access_tier: text(m.get("ads_api_access_tier")),
        });
        if let Some(map) = business {
            let mut objects = BTreeMap::new();
            for (object_id, entries) in map {
                let Value::Array(entries) = entries else {
                    usage.problems.push(format!(
                        "{BUSINESS_USE_CASE_USAGE}: object {object_id} is not an array of entries"
                    ));
                    continue;
                };
                let parsed = entries
                    .iter()
                    .filter_map(Value::as_object)
                    .map(|e| BusinessUsage {
                        kind: text(e.get("type")).unwrap_or_else(|| "unknown".to_owned()),
                        call_count: number(e.get("call_count")),
                        total_cputime: number(e.get("total_cputime")),
                        total_time: number(e.get("total_time")),
                        regain_after: number(e.get("estimated_time_to_regain_access"))
                            .and_then(|m| duration_secs(m, 60.0)),
                        access_tier: text(e.get("ads_api_access_tier")),
                    })
                    .collect();
                objects.insert(object_id, parsed);
            }
            usage.business = Some(objects);
        }
        usage
    }

    /// True when no rate-limit header was present at all.
    pub fn is_unknown(&self) -> bool {
        self.app.is_none()
            && self.page.is_none()
            && self.business.is_none()
            && self.ad_account.is_none()
            && self.insights_throttle.is_none()
    }

    /// Every percentage counter in this response, named for gauges.
    pub fn counters(&self) -> Vec<Counter> {
        let mut out = Vec::new();
        let mut push = |name: String, pct: Option<f64>| {
            if let Some(pct) = pct {
                out.push(Counter { name, pct });
            }
        };
        for (prefix, platform) in [("app", &self.app), ("page", &self.page)] {
            if let Some(p) = platform {
                push(format!("{prefix}.call_count"), p.call_count);
                push(format!("{prefix}.total_cputime"), p.total_cputime);
                push(format!("{prefix}.total_time"), p.total_time);
            }
        }
        for (object, entries) in self.business.iter().flatten() {
            for e in entries {
                let base = format!("business.{object}.{}", e.kind);
                push(format!("{base}.call_count"), e.call_count);
                push(format!("{base}.total_cputime"), e.total_cputime);
                push(format!("{base}.total_time"), e.total_time);
            }
        }
        if let Some(a) = &self.ad_account {
            push("ad_account.acc_id_util_pct".to_owned(), a.util_pct);
        }
        if let Some(t) = &self.insights_throttle {
            push("insights.app_id_util_pct".to_owned(), t.app_util_pct);
            push("insights.acc_id_util_pct".to_owned(), t.account_util_pct);
        }
        out
    }

    /// The highest percentage any counter reports, or `None` when nothing was reported.
    pub fn max_pct(&self) -> Option<f64> {
        self.counters().into_iter().map(|c| c.pct).reduce(f64::max)
    }

    /// How long until access returns, when the headers say so: the longest BUC
    /// `estimated_time_to_regain_access`, else the ad-account reset time when it is at 100 %.
    pub fn regain_after(&self) -> Option<Duration> {
        let buc = self
            .business
            .iter()
            .flat_map(|m| m.values().flatten())
            .filter_map(|e| e.regain_after)
            .filter(|d| !d.is_zero());
        let account = self
            .ad_account
            .iter()
            .filter(|a| a.util_pct.is_some_and(|p| p >= 100.0))
            .filter_map(|a| a.reset_after);
        // Meta's own estimate wins; the ad-account reset (time until the score is 0) is a
        // fallback only, since access returns well before the score is back at zero.
        buc.max().or_else(|| account.max())
    }
}

fn platform(m: &Map<String, Value>) -> PlatformUsage {
    PlatformUsage {
        call_count: number(m.get("call_count")),
        total_cputime: number(m.get("total_cputime")),
        total_time: number(m.get("total_time")),
    }
}

/// Meta sends numbers; some proxies and old versions send numeric strings. Both are read;
/// anything else (negative, NaN, text) is unknown.
fn number(value: Option<&Value>) -> Option<f64> {
    let n = match value? {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    (n.is_finite() && n >= 0.0).then_some(n)
}

fn text(value: Option<&Value>) -> Option<String> {
    value.and_then(Value::as_str).map(str::to_owned)
}

fn duration_secs(amount: f64, unit_secs: f64) -> Option<Duration> {
    let secs = amount * unit_secs;
    (secs.is_finite() && secs < 1e9).then(|| Duration::from_secs_f64(secs))
}

/// Reads one header as a JSON object; a malformed value is recorded, not fatal.
fn read_header(
    headers: &HeaderMap,
    name: &str,
    problems: &mut Vec<String>,
) -> Option<Map<String, Value>> {
    let raw = headers.get(name)?;
    let parsed = raw
        .to_str()
        .map_err(|_| "not visible ASCII".to_owned())
        .and_then(|text| serde_json::from_str::<Value>(text).map_err(|e| e.to_string()));
    match parsed {
        Ok(Value::Object(map)) => Some(map),
        Ok(other) => {
            problems.push(format!("{name}: expected a JSON object, got {other}"));
            None
        }
        Err(reason) => {
            problems.push(format!("{name}: {reason}"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            let name = HeaderName::from_bytes(k.as_bytes()).expect("test header name");
            map.insert(
                name,
                HeaderValue::from_bytes(v.as_bytes()).expect("test header value"),
            );
        }
        map
    }

    #[test]
    fn reference_examples_parse_with_units() {
        let usage = Usage::from_headers(&headers(&[
            (
                "X-App-Usage",
                r#"{"call_count":28,"total_time":25,"total_cputime":25}"#,
            ),
            (
                "x-business-use-case-usage",
                r#"{"66782684":[{"type":"ads_management","call_count":95,"total_cputime":20,"total_time":20,"estimated_time_to_regain_access":0,"ads_api_access_tier":"development_access"}],"10153848260347724":[{"type":"ads_insights","call_count":97,"total_cputime":23,"total_time":23,"estimated_time_to_regain_access":7,"ads_api_access_tier":"standard_access"}]}"#,
            ),
            (
                "X-Ad-Account-Usage",
                r#"{"acc_id_util_pct":9.67,"reset_time_duration":100,"ads_api_access_tier":"standard_access"}"#,
            ),
            (
                "X-FB-Ads-Insights-Throttle",
                r#"{"app_id_util_pct":100,"acc_id_util_pct":10,"ads_api_access_tier":"standard_access"}"#,
            ),
        ]));
        assert!(
            usage.problems.is_empty(),
            "no problems expected: {:?}",
            usage.problems
        );
        assert_eq!(usage.app.as_ref().and_then(|a| a.call_count), Some(28.0));
        let business = usage.business.as_ref().expect("BUC parsed");
        assert_eq!(business.len(), 2, "keyed by object id");
        let insights = &business["10153848260347724"][0];
        assert_eq!(insights.kind, "ads_insights");
        assert_eq!(
            insights.regain_after,
            Some(Duration::from_secs(7 * 60)),
            "BUC regain is minutes"
        );
        let account = usage.ad_account.as_ref().expect("ad account usage");
        assert_eq!(account.util_pct, Some(9.67), "fractional percent kept");
        assert_eq!(
            account.reset_after,
            Some(Duration::from_secs(100)),
            "reset is seconds"
        );
        assert_eq!(
            usage.max_pct(),
            Some(100.0),
            "insights app util is the highest"
        );
        assert_eq!(usage.regain_after(), Some(Duration::from_secs(420)));
    }

    #[test]
    fn missing_headers_are_unknown_not_zero() {
        let usage = Usage::from_headers(&HeaderMap::new());
        assert!(usage.is_unknown(), "no headers means unknown");
        assert_eq!(usage.max_pct(), None, "unknown is not 0 %");
        assert_eq!(usage.regain_after(), None);
    }

    #[test]
    fn malformed_headers_are_reported_never_panic() {
        let cases = [
            ("x-app-usage", "not json"),
            ("x-app-usage", "[1,2,3]"),
            (
                "x-app-usage",
                r#"{"call_count":"NaN","total_time":-5,"total_cputime":null}"#,
            ),
            (
                "x-business-use-case-usage",
                r#"{"1":{"type":"ads_management"}}"#,
            ),
            (
                "x-business-use-case-usage",
                r#"{"1":[42,"x",{"call_count":"12"}]}"#,
            ),
            (
                "x-ad-account-usage",
                r#"{"acc_id_util_pct":1e308,"reset_time_duration":1e300}"#,
            ),
            ("x-fb-ads-insights-throttle", "{"),
        ];
        for (name, value) in cases {
            let usage = Usage::from_headers(&headers(&[(name, value)]));
            let _ = usage.max_pct();
            let _ = usage.regain_after();
            let _ = usage.counters();
        }
        let bad = Usage::from_headers(&headers(&[("x-app-usage", "not json")]));
        assert_eq!(bad.app, None, "malformed header is unknown");
        assert_eq!(bad.problems.len(), 1, "and reported: {:?}", bad.problems);
        let lenient = Usage::from_headers(&headers(&[(
            "x-business-use-case-usage",
            r#"{"1":[42,"x",{"call_count":"12"}]}"#,
        )]));
        let entries = &lenient.business.expect("object kept")["1"];
        assert_eq!(entries.len(), 1, "non-object entries are skipped");
        assert_eq!(
            entries[0].call_count,
            Some(12.0),
            "numeric strings are read"
        );
        assert_eq!(
            entries[0].kind, "unknown",
            "missing type is kept as unknown"
        );
        let wrong_shape = Usage::from_headers(&headers(&[(
            "x-business-use-case-usage",
            r#"{"1":{"type":"ads_management"}}"#,
        )]));
        assert_eq!(
            wrong_shape.problems.len(),
            1,
            "an object that is not an array is reported"
        );
    }

    #[test]
    fn every_prefix_and_byte_flip_of_real_headers_is_survived() {
        let samples = [
            r#"{"call_count":28,"total_time":25,"total_cputime":25}"#,
            r#"{"66782684":[{"type":"ads_management","call_count":95,"total_cputime":20,"total_time":20,"estimated_time_to_regain_access":3}]}"#,
            r#"{"acc_id_util_pct":9.67,"reset_time_duration":100}"#,
        ];
        let names = [
            APP_USAGE,
            BUSINESS_USE_CASE_USAGE,
            AD_ACCOUNT_USAGE,
            ADS_INSIGHTS_THROTTLE,
        ];
        let mut parsed = 0;
        for sample in samples {
            let bytes = sample.as_bytes();
            let mut variants: Vec<Vec<u8>> =
                (0..bytes.len()).map(|n| bytes[..n].to_vec()).collect();
            for (i, flip) in (0..bytes.len()).zip(
                [b'"', b'9', b'-', b'{', b']', b'e', b'.', b' ']
                    .iter()
                    .cycle(),
            ) {
                let mut v = bytes.to_vec();
                v[i] = *flip;
                variants.push(v);
            }
            for value in variants {
                let Ok(value) = HeaderValue::from_bytes(&value) else {
                    continue;
                };
                for name in names {
                    let mut map = HeaderMap::new();
                    map.insert(name, value.clone());
                    let usage = Usage::from_headers(&map);
                    let _ = (usage.max_pct(), usage.regain_after(), usage.counters());
                    parsed += 1;
                }
            }
        }
        assert!(parsed > 1000, "the variants were exercised: {parsed}");
    }
}
