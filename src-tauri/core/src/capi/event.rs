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
/// Also the shape of a line of an events file (`events send`), so its field names are Meta's:
/// a line in Meta's own format (`user_data` with lists, `custom_data`) is read as is.
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
    /// Shortcut for `custom_data.value`.
    pub value: Option<f64>,
    /// Shortcut for `custom_data.currency`.
    pub currency: Option<String>,
    /// Shortcut for `custom_data.content_ids`.
    pub content_ids: Vec<String>,
    /// Customer information by Meta's key (`em`, `ph`, `client_user_agent`, …), raw; a list
    /// where a person has several (hashed keys only).
    #[ts(type = "Record<string, string | string[]>")]
    pub user_data: std::collections::BTreeMap<String, UserValue>,
    /// Meta's `custom_data`, every documented field and your own properties.
    #[ts(optional)]
    pub custom_data: Option<CustomDataInput>,
    /// Use the event for attribution only, not for ad delivery optimization.
    #[ts(optional)]
    pub opt_out: Option<bool>,
    #[ts(optional)]
    pub referrer_url: Option<String>,
    /// `[]` or `["LDU"]` (Limited Data Use).
    #[ts(optional)]
    pub data_processing_options: Option<Vec<String>>,
    /// 1 = USA, 0 = geolocate.
    #[ts(optional)]
    pub data_processing_options_country: Option<i64>,
    /// 1000 = California, 0 = geolocate.
    #[ts(optional)]
    pub data_processing_options_state: Option<i64>,
}

/// One raw customer value, or several (Meta takes a list for the hashed keys).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum UserValue {
    One(String),
    Many(Vec<String>),
}

impl UserValue {
    /// The non-empty values, trimmed, each once.
    pub fn values(&self) -> Vec<&str> {
        let all: Vec<&str> = match self {
            Self::One(v) => vec![v.as_str()],
            Self::Many(vs) => vs.iter().map(String::as_str).collect(),
        };
        let mut out: Vec<&str> = Vec::new();
        for v in all.into_iter().map(str::trim).filter(|v| !v.is_empty()) {
            if !out.contains(&v) {
                out.push(v);
            }
        }
        out
    }
}

impl From<&str> for UserValue {
    fn from(value: &str) -> Self {
        Self::One(value.to_owned())
    }
}

impl From<String> for UserValue {
    fn from(value: String) -> Self {
        Self::One(value)
    }
}

/// Meta's `custom_data` (SDK `CustomData`): every documented field, plus your own properties
/// sent as given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct CustomDataInput {
    #[ts(optional)]
    pub value: Option<f64>,
    /// ISO 4217; sent lowercase, as the Python SDK does.
    #[ts(optional)]
    pub currency: Option<String>,
    #[ts(optional)]
    pub content_ids: Option<Vec<String>>,
    /// `product` or `product_group`; `product` when ids or contents are given.
    #[ts(optional)]
    pub content_type: Option<String>,
    #[ts(optional)]
    pub contents: Option<Vec<ContentInput>>,
    #[ts(optional)]
    pub content_name: Option<String>,
    #[ts(optional)]
    pub content_category: Option<String>,
    #[ts(optional)]
    pub num_items: Option<i64>,
    #[ts(optional)]
    pub order_id: Option<String>,
    #[ts(optional)]
    pub search_string: Option<String>,
    #[ts(optional)]
    pub status: Option<String>,
    #[ts(optional)]
    pub predicted_ltv: Option<f64>,
    #[ts(optional)]
    pub net_revenue: Option<f64>,
    /// `in_store`, `curbside` or `home_delivery`.
    #[ts(optional)]
    pub delivery_category: Option<String>,
    /// Your own properties (Meta accepts any); never customer information, which belongs in
    /// `user_data` where it is hashed.
    #[serde(flatten)]
    #[ts(skip)]
    pub custom_properties: std::collections::BTreeMap<String, Value>,
}

/// One line of `contents`: a product and how many.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default, deny_unknown_fields)]
pub struct ContentInput {
    pub id: String,
    #[ts(optional)]
    pub quantity: Option<i64>,
    #[ts(optional)]
    pub item_price: Option<f64>,
    #[ts(optional)]
    pub title: Option<String>,
    #[ts(optional)]
    pub description: Option<String>,
    #[ts(optional)]
    pub brand: Option<String>,
    #[ts(optional)]
    pub category: Option<String>,
    #[ts(optional)]
    pub delivery_category: Option<String>,
}

const DELIVERY_CATEGORIES: [&str; 3] = ["in_store", "curbside", "home_delivery"];

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

/// Whether a custom property looks like customer information: its name (any case, any
/// separators: `Email`, `customer_email`, `phone-number`, `zip`, `dob`…) or a value shaped
/// like an e-mail address or a phone number, at any depth. Such data would leave unhashed.
fn looks_personal(key: &str, value: &Value) -> bool {
    let name: String = key
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    const EXACT: [&str; 14] = [
        "em", "ph", "fn", "ln", "ge", "db", "ct", "st", "zp", "zip", "ip", "dob", "name", "country",
    ];
    const PARTS: [&str; 14] = [
        "email",
        "phone",
        "mobile",
        "firstname",
        "lastname",
        "fullname",
        "surname",
        "address",
        "postal",
        "zipcode",
        "birth",
        "ipaddress",
        "useragent",
        "externalid",
    ];
    if EXACT.contains(&name.as_str())
        || Key::parse(key).is_some()
        || PARTS.iter().any(|p| name.contains(p))
    {
        return true;
    }
    match value {
        Value::String(text) => {
            let t = text.trim();
            let email = t
                .split_once('@')
                .is_some_and(|(user, host)| !user.is_empty() && host.contains('.'));
            let digits = t.chars().filter(char::is_ascii_digit).count();
            let phone = digits >= 7
                && t.chars()
                    .all(|c| c.is_ascii_digit() || " +-().".contains(c))
                && (t.starts_with('+') || t.contains(' ') || t.contains('-') || t.contains('('));
            email || phone
        }
        Value::Array(items) => items.iter().any(|v| looks_personal("", v)),
        Value::Object(map) => map.iter().any(|(k, v)| looks_personal(k, v)),
        _ => false,
    }
}

/// `custom_data` from the shortcuts and the `custom_data` object, checked the way Meta and
/// its SDKs check it; problems are added to `problems`.
fn custom_data(
    input: &EventInput,
    name: &str,
    problems: &mut Vec<EventProblem>,
) -> Map<String, Value> {
    let given = input.custom_data.clone().unwrap_or_default();
    let field = |f: &str| format!("custom_data.{f}");
    let mut custom = Map::new();
    let twice = |f: &str| problem(f, "given twice: at the top and in custom_data");
    let value = match (input.value, given.value) {
        (Some(_), Some(_)) => {
            problems.push(twice("value"));
            None
        }
        (a, b) => a.or(b),
    };
    let currency_given = match (input.currency.as_deref(), given.currency.as_deref()) {
        (Some(_), Some(_)) => {
            problems.push(twice("currency"));
            None
        }
        (a, b) => a.or(b),
    };
    if let Some(value) = value {
        if value.is_finite() && value >= 0.0 {
            custom.insert("value".to_owned(), json!(value));
        } else {
            problems.push(problem("value", "a number, 0 or more"));
        }
    }
    match currency_given.map(str::trim) {
        Some("") | None => {}
        Some(c) => match currency(c) {
            Some(code) => {
                custom.insert("currency".to_owned(), json!(code));
            }
            None => problems.push(problem("currency", "a 3-letter ISO 4217 code like EUR")),
        },
    }
    if name == "Purchase" && (value.is_none() || !custom.contains_key("currency")) {
        problems.push(problem("value", "Purchase needs a value and a currency"));
    }
    let given_ids = given.content_ids.clone().unwrap_or_default();
    if !input.content_ids.is_empty() && !given_ids.is_empty() {
        problems.push(twice("content_ids"));
    }
    let ids: Vec<&str> = input
        .content_ids
        .iter()
        .chain(&given_ids)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    if !ids.is_empty() {
        custom.insert("content_ids".to_owned(), json!(ids));
    }
    let mut contents = Vec::new();
    for (i, c) in given.contents.iter().flatten().enumerate() {
        let at = |f: &str| field(&format!("contents[{i}].{f}"));
        let mut line = Map::new();
        if c.id.trim().is_empty() {
            problems.push(problem(&at("id"), "the product's id (as in the catalog)"));
        }
        line.insert("id".to_owned(), json!(c.id.trim()));
        match c.quantity {
            Some(q) if q >= 1 => {
                line.insert("quantity".to_owned(), json!(q));
            }
            _ => problems.push(problem(&at("quantity"), "a whole number, 1 or more")),
        }
        match c.item_price {
            None => {}
            Some(p) if p.is_finite() && p >= 0.0 => {
                line.insert("item_price".to_owned(), json!(p));
            }
            Some(_) => problems.push(problem(&at("item_price"), "a number, 0 or more")),
        }
        for (key, text) in [
            ("title", &c.title),
            ("description", &c.description),
            ("brand", &c.brand),
            ("category", &c.category),
        ] {
            if let Some(t) = text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                line.insert(key.to_owned(), json!(t));
            }
        }
        match c.delivery_category.as_deref().map(str::trim) {
            None | Some("") => {}
            Some(d) if DELIVERY_CATEGORIES.contains(&d) => {
                line.insert("delivery_category".to_owned(), json!(d));
            }
            Some(_) => problems.push(problem(
                &at("delivery_category"),
                "in_store, curbside or home_delivery",
            )),
        }
        contents.push(Value::Object(line));
    }
    match given.content_type.as_deref().map(str::trim) {
        None | Some("") => {
            if !ids.is_empty() || !contents.is_empty() {
                custom.insert("content_type".to_owned(), json!("product"));
            }
        }
        Some(t @ ("product" | "product_group")) => {
            custom.insert("content_type".to_owned(), json!(t));
        }
        Some(_) => problems.push(problem(&field("content_type"), "product or product_group")),
    }
    if !contents.is_empty() {
        custom.insert("contents".to_owned(), Value::Array(contents));
    }
    for (key, text) in [
        ("content_name", &given.content_name),
        ("content_category", &given.content_category),
        ("order_id", &given.order_id),
        ("search_string", &given.search_string),
        ("status", &given.status),
    ] {
        if let Some(t) = text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            custom.insert(key.to_owned(), json!(t));
        }
    }
    match given.num_items {
        None => {}
        Some(n) if n >= 0 => {
            custom.insert("num_items".to_owned(), json!(n));
        }
        Some(_) => problems.push(problem(&field("num_items"), "a whole number, 0 or more")),
    }
    for (key, amount) in [
        ("predicted_ltv", given.predicted_ltv),
        ("net_revenue", given.net_revenue),
    ] {
        match amount {
            None => {}
            Some(a) if a.is_finite() => {
                custom.insert(key.to_owned(), json!(a));
            }
            Some(_) => problems.push(problem(&field(key), "a number")),
        }
    }
    match given.delivery_category.as_deref().map(str::trim) {
        None | Some("") => {}
        Some(d) if DELIVERY_CATEGORIES.contains(&d) => {
            custom.insert("delivery_category".to_owned(), json!(d));
        }
        Some(_) => problems.push(problem(
            &field("delivery_category"),
            "in_store, curbside or home_delivery",
        )),
    }
    for (key, value) in &given.custom_properties {
        // Customer information sent here would leave unhashed: refuse it.
        let personal = looks_personal(key, value);
        if personal {
            problems.push(problem(
                &field(key),
                "customer information belongs in user_data, where it is normalized and hashed",
            ));
        } else if custom.contains_key(key) {
            problems.push(twice(&field(key)));
        } else {
            custom.insert(key.clone(), value.clone());
        }
    }
    custom
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
        let values = raw_value.values();
        if values.is_empty() {
            continue;
        }
        if !key.is_hashed() && values.len() > 1 {
            problems.push(problem(
                &format!("user_data.{raw_key}"),
                "one value only (lists are for the hashed keys)",
            ));
            continue;
        }
        let mut sent_values: Vec<String> = Vec::new();
        for value in values {
            match normalize::prepare(key, value, hash_external_id) {
                Ok(p) => {
                    if !sent_values.contains(&p.sent) {
                        sent_values.push(p.sent.clone());
                    }
                    preview.push((key.as_str().to_owned(), p.normalized, p.sent));
                }
                Err(e) => problems.push(e.into()),
            }
        }
        if sent_values.is_empty() {
            continue;
        }
        // Hashed keys go as arrays, as the SDKs send them.
        let sent = if key.is_hashed() {
            json!(sent_values)
        } else {
            json!(sent_values[0])
        };
        user_data.insert(key.as_str().to_owned(), sent);
        keys.push(key.as_str().to_owned());
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

    let custom = custom_data(input, name, &mut problems);
    let mut extra = Map::new();
    if let Some(opt_out) = input.opt_out {
        extra.insert("opt_out".to_owned(), json!(opt_out));
    }
    match input.referrer_url.as_deref().map(str::trim) {
        None | Some("") => {}
        Some(url) if is_http_url(url) => {
            extra.insert("referrer_url".to_owned(), json!(url));
        }
        Some(_) => problems.push(problem("referrer_url", "must be an http(s) URL")),
    }
    if let Some(options) = &input.data_processing_options {
        if options.iter().all(|o| o == "LDU") && options.len() <= 1 {
            extra.insert("data_processing_options".to_owned(), json!(options));
        } else {
            problems.push(problem("data_processing_options", "[] or [\"LDU\"]"));
        }
    }
    for (field, value, allowed) in [
        (
            "data_processing_options_country",
            input.data_processing_options_country,
            [0, 1],
        ),
        (
            "data_processing_options_state",
            input.data_processing_options_state,
            [0, 1000],
        ),
    ] {
        match value {
            None => {}
            Some(v) if allowed.contains(&v) => {
                extra.insert(field.to_owned(), json!(v));
            }
            Some(_) => problems.push(problem(field, format!("{} or {}", allowed[0], allowed[1]))),
        }
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
    event.extend(extra);
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

    /// A line in Meta's own format with every documented user_data and custom_data field.
    pub(crate) const EVERY_FIELD: &str = r#"{"event_name":"Purchase","event_id":"order-77",
        "action_source":"website","event_source_url":"https://shop.example/thanks",
        "referrer_url":"https://shop.example/cart","opt_out":false,
        "data_processing_options":["LDU"],"data_processing_options_country":1,"data_processing_options_state":1000,
        "user_data":{"em":["John_Smith@gmail.com","john.smith@example.com"],"ph":"+1 (650) 555-1212",
          "fn":"John","ln":"Smith","ge":"m","db":"19900115","ct":"Menlo Park","st":"CA","zp":"94025",
          "country":"US","external_id":"User-42","client_ip_address":"203.0.113.7",
          "client_user_agent":"Mozilla/5.0","fbc":"fb.1.1554763741205.AbCdEfGhIjKlMnOpQrStUvWxYz1234567890",
          "fbp":"fb.1.1596403881668.1116446470"},
        "custom_data":{"value":54.9,"currency":"EUR","content_ids":["SKU-1","SKU-2"],"content_type":"product",
          "contents":[{"id":"SKU-1","quantity":2,"item_price":19.95,"title":"Mug","brand":"Acme"},
                      {"id":"SKU-2","quantity":1,"item_price":15.0,"delivery_category":"home_delivery"}],
          "content_name":"Mugs","content_category":"Kitchen","num_items":3,"order_id":"order-77",
          "search_string":"blue mug","status":"paid","predicted_ltv":240.5,"net_revenue":40.1,
          "delivery_category":"home_delivery","gift_wrap":true}}"#;

    #[test]
    fn a_line_with_every_field_sends_each_hashed_or_plain_as_meta_requires() {
        let input: EventInput = serde_json::from_str(EVERY_FIELD).expect("Meta's format reads");
        let now = OffsetDateTime::now_utc();
        let built = build(&input, now, true).expect("valid");
        let user = &built.json["user_data"];
        for key in [
            "em",
            "ph",
            "fn",
            "ln",
            "ge",
            "db",
            "ct",
            "st",
            "zp",
            "country",
            "external_id",
        ] {
            let values = user[key]
                .as_array()
                .unwrap_or_else(|| panic!("{key} as a list: {user}"));
            assert!(
                values.iter().all(|v| v
                    .as_str()
                    .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))),
                "{key} hashed: {values:?}"
            );
        }
        assert_eq!(
            user["em"].as_array().map(Vec::len),
            Some(2),
            "both e-mails, hashed"
        );
        assert_eq!(user["ge"][0], normalize::sha256_hex("m"));
        assert_eq!(user["db"][0], normalize::sha256_hex("19900115"));
        for (key, plain) in [
            ("client_ip_address", "203.0.113.7"),
            ("client_user_agent", "Mozilla/5.0"),
            (
                "fbc",
                "fb.1.1554763741205.AbCdEfGhIjKlMnOpQrStUvWxYz1234567890",
            ),
            ("fbp", "fb.1.1596403881668.1116446470"),
        ] {
            assert_eq!(user[key], plain, "{key} is never hashed");
        }
        let custom = &built.json["custom_data"];
        assert_eq!(custom["currency"], "eur");
        assert_eq!(custom["content_ids"], json!(["SKU-1", "SKU-2"]));
        assert_eq!(
            custom["contents"][0],
            json!({"id":"SKU-1","quantity":2,"item_price":19.95,"title":"Mug","brand":"Acme"})
        );
        assert_eq!(custom["contents"][1]["delivery_category"], "home_delivery");
        for (key, want) in [
            ("content_type", json!("product")),
            ("content_name", json!("Mugs")),
            ("content_category", json!("Kitchen")),
            ("num_items", json!(3)),
            ("order_id", json!("order-77")),
            ("search_string", json!("blue mug")),
            ("status", json!("paid")),
            ("predicted_ltv", json!(240.5)),
            ("net_revenue", json!(40.1)),
            ("delivery_category", json!("home_delivery")),
            ("gift_wrap", json!(true)),
        ] {
            assert_eq!(custom[key], want, "custom_data.{key}");
        }
        assert_eq!(built.json["data_processing_options"], json!(["LDU"]));
        assert_eq!(built.json["data_processing_options_state"], 1000);
        assert_eq!(built.json["referrer_url"], "https://shop.example/cart");
        let text = built.json.to_string();
        for raw in ["John_Smith", "Menlo Park", "User-42", "19900115"] {
            assert!(!text.contains(raw), "no raw {raw}");
        }
    }

    #[test]
    fn custom_data_is_checked_like_meta_checks_it() {
        let now = OffsetDateTime::now_utc();
        let mut input: EventInput = serde_json::from_str(EVERY_FIELD).expect("reads");
        input.value = Some(1.0);
        let custom = input.custom_data.as_mut().expect("custom");
        custom.content_type = Some("service".into());
        custom.num_items = Some(-1);
        custom.delivery_category = Some("drone".into());
        if let Some(contents) = custom.contents.as_mut() {
            contents[0].quantity = None;
            contents[1].item_price = Some(f64::NAN);
        }
        custom
            .custom_properties
            .insert("email".into(), json!("john@example.com"));
        for (key, value) in [
            ("Customer_Email", json!("x")),
            ("buyer", json!({"contact": "+1 650 555 1212"})),
            ("shipping_method", json!("express")),
        ] {
            custom.custom_properties.insert(key.into(), value);
        }
        input.data_processing_options = Some(vec!["GDPR".into()]);
        input.user_data.insert(
            "fbp".into(),
            UserValue::Many(vec!["fb.1.1.1".into(), "fb.1.2.2".into()]),
        );
        let problems = build(&input, now, true).expect_err("invalid");
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        for field in [
            "value",
            "custom_data.content_type",
            "custom_data.num_items",
            "custom_data.delivery_category",
            "custom_data.contents[0].quantity",
            "custom_data.contents[1].item_price",
            "custom_data.email",
            "custom_data.Customer_Email",
            "custom_data.buyer",
            "data_processing_options",
            "user_data.fbp",
        ] {
            assert!(fields.contains(&field), "{field} in {fields:?}");
        }
        assert!(
            !fields.contains(&"custom_data.shipping_method"),
            "an ordinary property passes: {fields:?}"
        );
        let unknown = serde_json::from_str::<EventInput>(r#"{"event_name":"Lead","surprise":1}"#);
        assert!(
            unknown.is_err(),
            "an unknown top-level field is refused by name"
        );
    }
}
