//! `POST /{pixel-id}/events` — the Conversions API as Meta answers it: `data` as a JSON array
//! (a JSON string in a form body, or an array in a JSON body), at most 1000 events, all or
//! nothing, `event_time` within the last 7 days and not in the future, hashed customer keys
//! really hashed (100/2804016, Meta's wording), `test_event_code` routed to a separate test
//! stream, and a 48 h `(event_name, event_id)` deduplication index. What was received feeds
//! the pixel's `/stats` and `/dataset_quality`.

use std::collections::HashMap;

use serde_json::{Value, json};

/// The keys Meta requires hashed.
const HASHED: [&str; 10] = [
    "em", "ph", "fn", "ln", "ge", "db", "ct", "st", "zp", "country",
];
const ACTION_SOURCES: [&str; 9] = [
    "email",
    "website",
    "app",
    "phone_call",
    "chat",
    "physical_store",
    "system_generated",
    "business_messaging",
    "other",
];
const MAX_EVENTS: usize = 1000;
const MAX_AGE_S: i64 = 7 * 86_400;
const FUTURE_SLACK_S: i64 = 300;
const DEDUP_WINDOW_S: i64 = 48 * 3600;

/// One received event (no customer values are kept, only which keys came).
#[derive(Debug, Clone)]
pub struct Received {
    pub received_at: i64,
    pub event_time: i64,
    pub event_name: String,
    pub event_id: Option<String>,
    pub test_event_code: Option<String>,
    pub keys: Vec<String>,
    /// Same `event_name` + `event_id` within 48 h of an earlier one: merged by Meta.
    pub duplicate: bool,
}

#[derive(Debug, Default)]
pub struct Log {
    pub received: Vec<Received>,
    /// (event_name, event_id) → first received, for deduplication.
    first_seen: HashMap<(String, String), i64>,
}

impl Log {
    /// Production events (not test ones) received since `since`.
    pub fn live_since(&self, since: i64) -> impl Iterator<Item = &Received> {
        self.received
            .iter()
            .filter(move |r| r.test_event_code.is_none() && r.received_at >= since)
    }
}

/// Weights of the match keys in the composite score: contact keys count most.
const KEY_WEIGHTS: [(&str, f64); 10] = [
    ("em", 3.0),
    ("ph", 2.0),
    ("external_id", 1.5),
    ("fbc", 1.0),
    ("fbp", 1.0),
    ("client_ip_address", 0.5),
    ("client_user_agent", 0.5),
    ("fn", 0.2),
    ("ln", 0.2),
    ("zp", 0.1),
];

/// The Dataset Quality API's `web` array, computed from the live events of the last 7 days:
/// per event name, each match key's coverage and a 0–10 composite score from it.
pub fn dataset_quality(log: &Log, now: i64) -> Value {
    let mut by_name: std::collections::BTreeMap<&str, Vec<&Received>> = Default::default();
    for r in log.live_since(now - MAX_AGE_S).filter(|r| !r.duplicate) {
        by_name.entry(r.event_name.as_str()).or_default().push(r);
    }
    let web: Vec<Value> = by_name
        .into_iter()
        .map(|(name, events)| {
            let n = events.len() as f64;
            let coverage = |key: &str| {
                100.0 * events.iter().filter(|e| e.keys.iter().any(|k| k == key)).count() as f64 / n
            };
            let score: f64 = KEY_WEIGHTS
                .iter()
                .map(|(key, weight)| weight * coverage(key) / 100.0)
                .sum::<f64>()
                .min(10.0);
            let feedback: Vec<Value> = KEY_WEIGHTS
                .iter()
                .map(|(key, _)| (key, coverage(key)))
                .filter(|(_, pct)| *pct > 0.0)
                .map(|(key, pct)| json!({"identifier": key, "coverage": {"percentage": pct.round()}}))
                .collect();
            json!({
                "event_name": name,
                "event_match_quality": {
                    "composite_score": (score * 10.0).round() / 10.0,
                    "match_key_feedback": feedback,
                },
                "data_freshness": {"upload_frequency": "real_time"},
            })
        })
        .collect();
    json!({ "web": web })
}

/// A refusal as Meta words it: code 100, maybe a 2804xxx subcode, a user title and message.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    pub subcode: Option<i64>,
    pub message: String,
    pub user_title: Option<String>,
    pub user_msg: Option<String>,
}

fn reject(message: &str) -> Rejection {
    Rejection {
        subcode: None,
        message: message.to_owned(),
        user_title: None,
        user_msg: None,
    }
}

fn invalid(subcode: Option<i64>, title: &str, msg: String) -> Rejection {
    Rejection {
        subcode,
        message: "Invalid parameter".to_owned(),
        user_title: Some(title.to_owned()),
        user_msg: Some(msg),
    }
}

/// A SHA-256 (64 hex) or MD5 (32 hex), or a 64-hex value with the parameter builder's
/// `.<appendix>` suffix.
fn looks_hashed(value: &str) -> bool {
    let digest = value.split_once('.').map_or(value, |(d, _)| d);
    matches!(digest.len(), 32 | 64) && digest.bytes().all(|b| b.is_ascii_hexdigit())
}

fn check_event(i: usize, event: &Value, now: i64) -> Result<(), Rejection> {
    let Some(obj) = event.as_object() else {
        return Err(reject(&format!("(#100) data[{i}] must be an object")));
    };
    let missing = |field: &str| {
        invalid(
            None,
            "Missing Parameter",
            format!("The {field} parameter is required for every event (data[{i}])."),
        )
    };
    match obj.get("event_name").and_then(Value::as_str) {
        Some(name) if !name.trim().is_empty() => {}
        _ => return Err(missing("event_name")),
    }
    let Some(time) = obj.get("event_time").and_then(Value::as_i64) else {
        return Err(missing("event_time"));
    };
    if time < now - MAX_AGE_S {
        return Err(invalid(
            Some(2_804_003),
            "Event Timestamp Too Old",
            "The timestamp for this event is too far in the past. Events need to be sent from your \
             server within 7 days of when they occurred. Enter a timestamp that has occurred within \
             the last 7 days."
                .to_owned(),
        ));
    }
    if time > now + FUTURE_SLACK_S {
        return Err(invalid(
            None,
            "Event Timestamp In Future",
            format!("The event_time of data[{i}] is in the future. Send it in Unix seconds, GMT."),
        ));
    }
    let source = obj.get("action_source").and_then(Value::as_str);
    match source {
        Some(s) if ACTION_SOURCES.contains(&s) => {}
        Some(s) => {
            return Err(invalid(
                None,
                "Invalid action_source",
                format!("{s} is not a valid action_source (data[{i}])."),
            ));
        }
        None => return Err(missing("action_source")),
    }
    let Some(user) = obj.get("user_data").and_then(Value::as_object) else {
        return Err(missing("user_data"));
    };
    if source == Some("website") {
        if obj
            .get("event_source_url")
            .and_then(Value::as_str)
            .is_none()
        {
            return Err(missing("event_source_url"));
        }
        if user
            .get("client_user_agent")
            .and_then(Value::as_str)
            .is_none()
        {
            return Err(missing("client_user_agent"));
        }
    }
    for key in HASHED {
        let values: Vec<&str> = match user.get(key) {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            Some(_) => vec![""],
        };
        if values.iter().any(|v| !looks_hashed(v)) {
            return Err(invalid(
                Some(2_804_016),
                "User Parameter Not Hashed",
                format!(
                    "The {key} parameter isn\u{2019}t hashed. Hash all user parameters as SHA256, except \
                     for client user agent, click ID, and browser ID. Any other user parameters that \
                     are not hashed are automatically rejected by Facebook."
                ),
            ));
        }
    }
    let has = |k: &str| user.get(k).is_some_and(|v| !v.is_null());
    let matchable = HASHED.iter().any(|k| has(k))
        || [
            "external_id",
            "fbp",
            "fbc",
            "lead_id",
            "subscription_id",
            "fb_login_id",
        ]
        .iter()
        .any(|k| has(k))
        || (has("client_ip_address") && has("client_user_agent"));
    if !matchable {
        return Err(invalid(
            None,
            "Missing User Data",
            "This event doesn't have enough customer information parameters to match it to a \
             person. Add a hashed email or phone, external_id, fbp, fbc, or IP address with user agent."
                .to_owned(),
        ));
    }
    if obj.get("event_name").and_then(Value::as_str) == Some("Purchase") {
        let custom = obj.get("custom_data");
        let currency = custom
            .and_then(|c| c.get("currency"))
            .and_then(Value::as_str);
        let value = custom.and_then(|c| c.get("value")).and_then(Value::as_f64);
        if currency.is_none() || value.is_none() {
            return Err(invalid(
                None,
                "Missing Value or Currency",
                "Purchase events need custom_data.value and custom_data.currency.".to_owned(),
            ));
        }
    }
    Ok(())
}

/// Accepts a whole request or refuses it whole. `now` in Unix seconds.
pub fn receive(
    log: &mut Log,
    params: &HashMap<String, String>,
    now: i64,
) -> Result<Value, Rejection> {
    let Some(data) = params.get("data") else {
        return Err(reject("(#100) The parameter data is required"));
    };
    let events = match serde_json::from_str::<Value>(data) {
        // The official Python SDK encodes each event once more: an array of JSON strings,
        // which Meta accepts like an array of objects.
        Ok(Value::Array(events)) => events
            .into_iter()
            .map(|e| match e {
                Value::String(text) => serde_json::from_str(&text).unwrap_or(Value::String(text)),
                other => other,
            })
            .collect::<Vec<Value>>(),
        _ => return Err(reject("(#100) param data must be an array.")),
    };
    if events.is_empty() || events.len() > MAX_EVENTS {
        return Err(reject(&format!(
            "(#100) param data must be an array of 1 to {MAX_EVENTS} events (got {})",
            events.len()
        )));
    }
    for (i, event) in events.iter().enumerate() {
        check_event(i, event, now)?;
    }
    let test = params
        .get("test_event_code")
        .filter(|c| !c.trim().is_empty())
        .cloned();
    log.first_seen.retain(|_, at| now - *at < DEDUP_WINDOW_S);
    for event in &events {
        let name = event["event_name"].as_str().unwrap_or_default().to_owned();
        let id = event["event_id"].as_str().map(str::to_owned);
        let duplicate = match &id {
            // Test events are deduplicated within the test stream only.
            Some(id) if test.is_none() => {
                let key = (name.clone(), id.clone());
                let seen = log.first_seen.contains_key(&key);
                log.first_seen.entry(key).or_insert(now);
                seen
            }
            _ => false,
        };
        let mut keys: Vec<String> = event["user_data"]
            .as_object()
            .map(|u| u.keys().cloned().collect())
            .unwrap_or_default();
        keys.sort();
        log.received.push(Received {
            received_at: now,
            event_time: event["event_time"].as_i64().unwrap_or(now),
            event_name: name,
            event_id: id,
            test_event_code: test.clone(),
            keys,
            duplicate,
        });
    }
    Ok(json!({ "events_received": events.len(), "messages": [] }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used, reason = "a failed step must fail the test")]

    use super::*;

    const NOW: i64 = 1_800_000_000;
    const EM: &str = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f";

    fn event(name: &str, id: &str) -> Value {
        json!({"event_name": name, "event_time": NOW - 60, "event_id": id,
               "action_source": "website", "event_source_url": "https://shop.example/",
               "user_data": {"em": [EM], "client_user_agent": "Mozilla/5.0"},
               "custom_data": {"currency": "eur", "value": 10.0}})
    }

    fn params(events: &[Value], test: Option<&str>) -> HashMap<String, String> {
        let mut p = HashMap::from([("data".to_owned(), Value::from(events.to_vec()).to_string())]);
        if let Some(code) = test {
            p.insert("test_event_code".to_owned(), code.to_owned());
        }
        p
    }

    #[test]
    fn accepts_all_or_nothing() {
        let mut log = Log::default();
        let ok = receive(&mut log, &params(&[event("Purchase", "o-1")], None), NOW).expect("ok");
        assert_eq!(ok["events_received"], 1);
        let mut raw = event("Lead", "l-1");
        raw["user_data"]["ct"] = json!(["Menlo Park"]);
        let err = receive(&mut log, &params(&[event("Lead", "l-2"), raw], None), NOW)
            .expect_err("unhashed");
        assert_eq!(err.subcode, Some(2_804_016));
        assert!(
            err.user_msg
                .as_deref()
                .unwrap_or("")
                .starts_with("The ct parameter isn\u{2019}t hashed")
        );
        assert_eq!(
            log.received.len(),
            1,
            "nothing of the refused request is kept"
        );
        let mut old = event("Lead", "l-3");
        old["event_time"] = json!(NOW - 8 * 86_400);
        let err = receive(&mut log, &params(&[old], None), NOW).expect_err("too old");
        assert_eq!(err.subcode, Some(2_804_003));
        let many: Vec<Value> = (0..1001).map(|i| event("Lead", &i.to_string())).collect();
        assert!(receive(&mut log, &params(&many, None), NOW).is_err());
    }

    #[test]
    fn match_quality_follows_the_keys_received() {
        let mut log = Log::default();
        let mut bare = event("Lead", "l-1");
        bare["user_data"] = json!({"fbp": "fb.1.1596403881668.1", "client_user_agent": "x"});
        receive(
            &mut log,
            &params(&[event("Purchase", "o-1"), bare], None),
            NOW,
        )
        .expect("ok");
        receive(
            &mut log,
            &params(&[event("Lead", "l-9")], Some("TEST1")),
            NOW,
        )
        .expect("ok");
        let q = dataset_quality(&log, NOW);
        let web = q["web"].as_array().expect("web");
        assert_eq!(web.len(), 2, "test events are not scored: {q}");
        let score = |i: usize| {
            web[i]["event_match_quality"]["composite_score"]
                .as_f64()
                .unwrap_or(0.0)
        };
        assert_eq!(web[0]["event_name"], "Lead");
        assert!(
            score(1) > score(0),
            "an e-mail matches better than fbp: {q}"
        );
        assert_eq!(
            web[1]["event_match_quality"]["match_key_feedback"][0]["identifier"],
            "em"
        );
    }

    #[test]
    fn deduplicates_by_name_and_id_and_keeps_tests_apart() {
        let mut log = Log::default();
        for _ in 0..2 {
            receive(&mut log, &params(&[event("Purchase", "o-9")], None), NOW).expect("ok");
        }
        receive(
            &mut log,
            &params(&[event("Purchase", "o-9")], Some("TEST1")),
            NOW,
        )
        .expect("ok");
        let dups: Vec<bool> = log.received.iter().map(|r| r.duplicate).collect();
        assert_eq!(dups, [false, true, false]);
        assert_eq!(log.live_since(0).count(), 2, "the test event is not live");
        // After 48 h the same id is a new event again.
        receive(
            &mut log,
            &params(&[event("Purchase", "o-9")], None),
            NOW + DEDUP_WINDOW_S,
        )
        .expect("ok");
        assert_eq!(log.received.last().map(|r| r.duplicate), Some(false));
    }

    #[test]
    fn events_encoded_as_json_strings_are_read_like_objects() {
        let mut log = Log::default();
        let event = json!({"event_name": "Purchase", "event_time": NOW - 60, "event_id": "o-1",
               "action_source": "website", "event_source_url": "https://shop.example/",
               "user_data": {"em": [EM], "client_user_agent": "Mozilla/5.0"},
               "custom_data": {"currency": "eur", "value": 10.0}});
        let data = json!([event.to_string()]).to_string();
        let params = HashMap::from([("data".to_owned(), data)]);
        let answer = receive(&mut log, &params, NOW).expect("accepted as the SDK sends it");
        assert_eq!(answer["events_received"], 1);
        let params = HashMap::from([("data".to_owned(), json!(["not json"]).to_string())]);
        assert!(
            receive(&mut log, &params, NOW).is_err(),
            "a string that is no event is refused"
        );
    }
}
