//! Server events: what an operator (or a file line) asks to send, checked the way Meta checks
//! it before anything leaves the machine, and turned into the exact JSON Meta receives —
//! customer data normalized and hashed, raw values never kept.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::normalize::{self, FieldError, Key};

/// Meta's standard events; any other name is a custom event.
pub const STANDARD_EVENTS: [&str; 17] = [
    "AddPaymentInfo",
    "AddToCart",
    "AddToWishlist",
    "CompleteRegistration",
    "Contact",
    "CustomizeProduct",
    "Donate",
    "FindLocation",
    "InitiateCheckout",
    "Lead",
    "PageView",
    "Purchase",
    "Schedule",
    "Search",
    "StartTrial",
    "SubmitApplication",
    "Subscribe",
];

/// Where the conversion happened (`action_source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ActionSource {
    #[default]
    Website,
    App,
    Email,
    PhoneCall,
    Chat,
    PhysicalStore,
    SystemGenerated,
    BusinessMessaging,
    Other,
}

impl ActionSource {
    pub const ALL: [ActionSource; 9] = [
        ActionSource::Website,
        ActionSource::App,
        ActionSource::Email,
        ActionSource::PhoneCall,
        ActionSource::Chat,
        ActionSource::PhysicalStore,
        ActionSource::SystemGenerated,
        ActionSource::BusinessMessaging,
        ActionSource::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionSource::Website => "website",
            ActionSource::App => "app",
            ActionSource::Email => "email",
            ActionSource::PhoneCall => "phone_call",
            ActionSource::Chat => "chat",
            ActionSource::PhysicalStore => "physical_store",
            ActionSource::SystemGenerated => "system_generated",
            ActionSource::BusinessMessaging => "business_messaging",
            ActionSource::Other => "other",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == value)
    }
}

/// One event as asked for: raw customer values (they are hashed by [`build`] and dropped).
/// Also the shape of a line of an events file (`events send`), so its field names are Meta's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default, deny_unknown_fields)]
pub struct EventInput {
    pub event_name: String,
    /// Unix seconds; now when absent.
    #[ts(type = "number | null")]
    pub event_time: Option<i64>,
    /// A fresh UUID when absent.
    pub event_id: Option<String>,
    pub action_source: ActionSource,
    pub event_source_url: Option<String>,
    pub value: Option<f64>,
    pub currency: Option<String>,
    pub content_ids: Vec<String>,
    /// Customer information by Meta's key (`em`, `ph`, `client_user_agent`, …), raw.
    #[ts(type = "Record<string, string>")]
    pub user_data: std::collections::BTreeMap<String, String>,
}

/// Why an event cannot be sent: the field and the reason, one per problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct EventProblem {
    pub field: String,
    pub reason: String,
}

impl std::fmt::Display for EventProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

fn problem(field: &str, reason: impl Into<String>) -> EventProblem {
    EventProblem {
        field: field.to_owned(),
        reason: reason.into(),
    }
}

impl From<FieldError> for EventProblem {
    fn from(e: FieldError) -> Self {
        problem(&format!("user_data.{}", e.key), e.reason)
    }
}

/// Meta refuses events older than 7 days (2804003) and from the future.
pub const MAX_AGE: time::Duration = time::Duration::days(7);
/// Clock skew tolerated for "now".
pub const FUTURE_SLACK: time::Duration = time::Duration::minutes(5);

/// A checked event: the JSON to send and what the event log keeps (no raw values).
#[derive(Debug, Clone, PartialEq)]
pub struct BuiltEvent {
    pub json: Value,
    pub event_name: String,
    pub event_id: String,
    pub event_time: i64,
    /// The customer-information keys present (never their values).
    pub keys: Vec<String>,
    /// Key → (normalized, sent), for the live preview only; never stored or logged.
    pub preview: Vec<(String, String, String)>,
}

fn currency(value: &str) -> Option<String> {
    let code = value.trim().to_ascii_lowercase();
    (code.len() == 3 && code.bytes().all(|b| b.is_ascii_lowercase())).then_some(code)
}

fn is_http_url(value: &str) -> bool {
    url::Url::parse(value)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

/// Checks `input` as Meta would and builds the event; every problem is reported, not just
/// the first. `hash_external_id` is the account's setting.
pub fn build(
    input: &EventInput,
    now: OffsetDateTime,
    hash_external_id: bool,
) -> Result<BuiltEvent, Vec<EventProblem>> {
    let mut problems = Vec::new();
    let name = input.event_name.trim();
    let name_ok = !name.is_empty()
        && name.len() <= 50
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ' '));
    if !name_ok {
        problems.push(problem(
            "event_name",
            "1–50 letters, digits, spaces, '_' or '-' (a standard event like Purchase, or your own)",
        ));
    }
    let event_time = input.event_time.unwrap_or(now.unix_timestamp());
    let now_s = now.unix_timestamp();
    if event_time < now_s - MAX_AGE.whole_seconds() {
        problems.push(problem(
            "event_time",
            "more than 7 days ago: Meta refuses it (2804003, timestamp too old) and the whole request with it",
        ));
    } else if event_time > now_s + FUTURE_SLACK.whole_seconds() {
        problems.push(problem("event_time", "in the future"));
    }
    let event_id = match &input.event_id {
        Some(id) if id.trim().is_empty() || id.len() > 100 => {
            problems.push(problem("event_id", "1–100 characters when given"));
            String::new()
        }
        Some(id) => id.trim().to_owned(),
        None => uuid::Uuid::new_v4().to_string(),
    };
    let website = input.action_source == ActionSource::Website;
    match input.event_source_url.as_deref().map(str::trim) {
        Some(url) if !is_http_url(url) => {
            problems.push(problem("event_source_url", "must be an http(s) URL"))
        }
        None | Some("") if website => problems.push(problem(
            "event_source_url",
            "required for website events (the page where it happened)",
        )),
        _ => {}
    }

    let mut user_data = Map::new();
    let mut keys = Vec::new();
    let mut preview = Vec::new();
    for (raw_key, raw_value) in &input.user_data {
        let Some(key) = Key::parse(raw_key) else {
            problems.push(problem(
                &format!("user_data.{raw_key}"),
                "not a customer-information key Meta knows",
            ));
            continue;
        };
        if raw_value.trim().is_empty() {
            continue;
        }
        match normalize::prepare(key, raw_value, hash_external_id) {
            Ok(p) => {
                let sent = if key.is_hashed() {
                    // Hashed keys go as arrays, as the SDKs send them.
                    json!([p.sent])
                } else {
                    json!(p.sent)
                };
                user_data.insert(key.as_str().to_owned(), sent);
                keys.push(key.as_str().to_owned());
                preview.push((key.as_str().to_owned(), p.normalized, p.sent));
            }
            Err(e) => problems.push(e.into()),
        }
    }
    let has = |k: &str| user_data.contains_key(k);
    if website && !has("client_user_agent") {
        problems.push(problem(
            "user_data.client_user_agent",
            "required for website events",
        ));
    }
    let hashed_contact = Key::ALL
        .iter()
        .any(|k| k.is_hashed() && *k != Key::ExternalId && has(k.as_str()));
    let matchable = hashed_contact
        || has("external_id")
        || has("fbp")
        || has("fbc")
        || has("lead_id")
        || has("subscription_id")
        || has("fb_login_id")
        || (has("client_ip_address") && has("client_user_agent"));
    if !matchable {
        problems.push(problem(
            "user_data",
            "no way to match a person: give an e-mail or phone, external_id, fbp/fbc, or IP address and user agent",
        ));
    }

    let mut custom = Map::new();
    if let Some(value) = input.value {
        if value.is_finite() && value >= 0.0 {
            custom.insert("value".to_owned(), json!(value));
        } else {
            problems.push(problem("value", "a number, 0 or more"));
        }
    }
    match input.currency.as_deref().map(str::trim) {
        Some("") | None => {}
        Some(c) => match currency(c) {
            Some(code) => {
                custom.insert("currency".to_owned(), json!(code));
            }
            None => problems.push(problem("currency", "a 3-letter ISO 4217 code like EUR")),
        },
    }
    if name == "Purchase" && (input.value.is_none() || !custom.contains_key("currency")) {
        problems.push(problem("value", "Purchase needs a value and a currency"));
    }
    let ids: Vec<&str> = input
        .content_ids
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    if !ids.is_empty() {
        custom.insert("content_ids".to_owned(), json!(ids));
        custom.insert("content_type".to_owned(), json!("product"));
    }
    if !problems.is_empty() {
        return Err(problems);
    }

    let mut event = Map::new();
    event.insert("event_name".to_owned(), json!(name));
    event.insert("event_time".to_owned(), json!(event_time));
    event.insert("event_id".to_owned(), json!(event_id));
    event.insert(
        "action_source".to_owned(),
        json!(input.action_source.as_str()),
    );
    if let Some(url) = input
        .event_source_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        event.insert("event_source_url".to_owned(), json!(url));
    }
    event.insert("user_data".to_owned(), Value::Object(user_data));
    if !custom.is_empty() {
        event.insert("custom_data".to_owned(), Value::Object(custom));
    }
    keys.sort();
    Ok(BuiltEvent {
        json: Value::Object(event),
        event_name: name.to_owned(),
        event_id,
        event_time,
        keys,
        preview,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used, reason = "a failed step must fail the test")]

    use super::*;

    fn purchase() -> EventInput {
        let mut input = EventInput {
            event_name: "Purchase".into(),
            event_source_url: Some("https://shop.example/thanks".into()),
            value: Some(54.9),
            currency: Some("EUR".into()),
            content_ids: vec!["SKU-1".into()],
            event_id: Some("order-1042".into()),
            ..EventInput::default()
        };
        for (k, v) in [
            ("em", " John_Smith@gmail.com"),
            ("ph", "+1 (650) 555-1212"),
            ("country", "US"),
            ("client_ip_address", "203.0.113.7"),
            ("client_user_agent", "Mozilla/5.0 (X11; Linux x86_64)"),
            ("fbp", "fb.1.1596403881668.1116446470"),
        ] {
            input.user_data.insert(k.into(), v.into());
        }
        input
    }

    #[test]
    fn a_purchase_becomes_metas_documented_payload() {
        let now = OffsetDateTime::now_utc();
        let built = build(&purchase(), now, true).expect("valid");
        let e = &built.json;
        assert_eq!(e["event_name"], "Purchase");
        assert_eq!(e["event_time"], now.unix_timestamp());
        assert_eq!(e["event_id"], "order-1042");
        assert_eq!(e["action_source"], "website");
        assert_eq!(
            e["user_data"]["em"][0],
            "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"
        );
        assert_eq!(
            e["user_data"]["ph"][0],
            "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"
        );
        assert_eq!(
            e["user_data"]["country"][0],
            "79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621"
        );
        assert_eq!(e["user_data"]["client_ip_address"], "203.0.113.7");
        assert_eq!(e["user_data"]["fbp"], "fb.1.1596403881668.1116446470");
        assert_eq!(e["custom_data"]["currency"], "eur");
        assert_eq!(e["custom_data"]["value"], 54.9);
        assert_eq!(e["custom_data"]["content_ids"][0], "SKU-1");
        let text = e.to_string();
        assert!(
            !text.contains("John_Smith") && !text.contains("john_smith"),
            "{text}"
        );
        assert!(!text.contains("555-1212"), "no raw phone: {text}");
        assert_eq!(
            built.keys,
            [
                "client_ip_address",
                "client_user_agent",
                "country",
                "em",
                "fbp",
                "ph"
            ]
        );
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let now = OffsetDateTime::now_utc();
        let mut input = purchase();
        input.event_time = Some(now.unix_timestamp() - 8 * 86_400);
        input.currency = None;
        input.event_source_url = None;
        input.user_data.insert("ph".into(), "12".into());
        input.user_data.remove("client_user_agent");
        let problems = build(&input, now, true).expect_err("invalid");
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        for field in [
            "event_time",
            "event_source_url",
            "user_data.ph",
            "user_data.client_user_agent",
            "value",
        ] {
            assert!(fields.contains(&field), "{field} in {fields:?}");
        }
        assert!(problems.iter().any(|p| p.reason.contains("2804003")));
    }

    #[test]
    fn a_custom_event_from_an_app_needs_only_a_match_key() {
        let now = OffsetDateTime::now_utc();
        let mut input = EventInput {
            event_name: "StockAlert".into(),
            action_source: ActionSource::App,
            ..EventInput::default()
        };
        let problems = build(&input, now, true).expect_err("no match key");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].field, "user_data");
        input
            .user_data
            .insert("external_id".into(), "User-42".into());
        let built = build(&input, now, true).expect("valid");
        assert_eq!(
            built.json["user_data"]["external_id"][0],
            normalize::sha256_hex("user-42")
        );
        assert!(
            uuid::Uuid::parse_str(&built.event_id).is_ok(),
            "a fresh UUID"
        );
        let raw = build(&input, now, false).expect("valid");
        assert_eq!(
            raw.json["user_data"]["external_id"][0], "User-42",
            "a list, like the SDK"
        );
    }
}
