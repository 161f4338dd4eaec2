//! The product catalog as Meta runs it: `items_batch` validates each request at once
//! (`validation_status`), queues the rest under a handle and applies it later;
//! `check_batch_request_status` moves from `in_progress` to `finished` and then lists the
//! errors found while applying (here: images that are not images); `/products` reads items
//! back with Graph field names, a formatted price and a `review_status`. The Catalog Batch
//! quota is per catalog per minute (80014 beyond it); a call carries ≤ 5000 requests.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::data::mix;

pub const MAX_REQUESTS: usize = 5000;
/// The quota window of Catalog Batch calls.
pub const BATCH_WINDOW: Duration = Duration::from_secs(60);
const REQUIRED: [&str; 8] = [
    "id",
    "title",
    "description",
    "availability",
    "condition",
    "price",
    "link",
    "image_link",
];
const AVAILABILITY: [&str; 5] = [
    "in stock",
    "out of stock",
    "preorder",
    "available for order",
    "discontinued",
];
const CONDITION: [&str; 3] = ["new", "refurbished", "used"];
const IMAGE_EXTENSIONS: [&str; 6] = [".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp"];
/// Words Meta's commerce policies reject (counterfeit goods).
const POLICY_WORDS: [&str; 2] = ["replica", "counterfeit"];

#[derive(Debug, Clone)]
struct Item {
    id: String,
    data: Map<String, Value>,
    updated: Instant,
    /// Seeded items have a fixed review; new ones are reviewed after a delay.
    fixed_review: Option<&'static str>,
}

#[derive(Debug)]
struct Op {
    method: String,
    line: usize,
    data: Map<String, Value>,
}

#[derive(Debug)]
struct Handle {
    ready_at: Instant,
    ops: Vec<Op>,
    /// Found while validating (also listed in `validation_status`).
    errors: Vec<Value>,
    warnings: Vec<Value>,
    invalid: Vec<String>,
    applied: bool,
}

#[derive(Debug)]
pub struct Catalog {
    items: BTreeMap<String, Item>,
    handles: HashMap<String, Handle>,
    next_id: u64,
    seed: u64,
    /// Requests received in `items_batch` calls that were accepted (resends included).
    pub requests_received: u64,
    processing: Duration,
    review_delay: Duration,
}

/// A refusal: Graph code and message.
pub type Refusal = (i64, String);

impl Catalog {
    /// A catalog with `seeded` demo products, reviewed: a few pending, a few rejected.
    pub fn new(seed: u64, seeded: usize, processing: Duration, review_delay: Duration) -> Self {
        let mut catalog = Self {
            items: BTreeMap::new(),
            handles: HashMap::new(),
            next_id: 1,
            seed,
            requests_received: 0,
            processing,
            review_delay,
        };
        let now = Instant::now();
        for n in 1..=seeded {
            let retailer_id = format!("DEMO-{n:04}");
            let cents = 500 + mix(seed, n as u64, 9) % 9_500;
            let mut data = Map::new();
            for (k, v) in [
                ("id", retailer_id.clone()),
                ("title", format!("Demo product {n}")),
                (
                    "description",
                    format!("Demo product number {n} of the simulated shop"),
                ),
                ("availability", "in stock".to_owned()),
                ("condition", "new".to_owned()),
                ("price", format!("{}.{:02} EUR", cents / 100, cents % 100)),
                ("link", format!("https://shop.example/p/{n}")),
                ("image_link", format!("https://shop.example/p/{n}.jpg")),
                ("brand", "Demo".to_owned()),
            ] {
                data.insert(k.to_owned(), Value::String(v));
            }
            let review = match n % 32 {
                5 | 21 => "pending",
                13 => "rejected",
                _ => "approved",
            };
            let id = catalog.new_id();
            catalog.items.insert(
                retailer_id,
                Item {
                    id,
                    data,
                    updated: now,
                    fixed_review: Some(review),
                },
            );
        }
        catalog
    }

    fn new_id(&mut self) -> String {
        self.next_id += 1;
        // Meta's product item ids are 16-digit numbers.
        format!(
            "{}",
            7_000_000_000_000_000 + mix(self.seed, self.next_id, 3) % 999_999_999_999_999
        )
    }

    pub fn product_count(&mut self, now: Instant) -> usize {
        self.settle(now);
        self.items.len()
    }

    /// Retailer id → Meta id of every item, for tests.
    pub fn ids(&mut self, now: Instant) -> Vec<(String, String)> {
        self.settle(now);
        self.items
            .iter()
            .map(|(r, i)| (r.clone(), i.id.clone()))
            .collect()
    }

    /// `POST /{catalog}/items_batch`.
    pub fn items_batch(
        &mut self,
        params: &HashMap<String, String>,
        now: Instant,
    ) -> Result<Value, Refusal> {
        match params.get("item_type").map(String::as_str) {
            Some("PRODUCT_ITEM") => {}
            Some(other) => {
                return Err((
                    100,
                    format!(
                        "(#100) Param item_type must be one of {{PRODUCT_ITEM, HOTEL, FLIGHT, DESTINATION, HOME_LISTING, VEHICLE, VEHICLE_OFFER}} - got \"{other}\""
                    ),
                ));
            }
            None => return Err((100, "(#100) The parameter item_type is required".to_owned())),
        }
        let Some(raw) = params.get("requests") else {
            return Err((100, "(#100) The parameter requests is required".to_owned()));
        };
        let Ok(Value::Array(requests)) = serde_json::from_str::<Value>(raw) else {
            return Err((100, "(#100) Param requests must be an array".to_owned()));
        };
        if requests.len() > MAX_REQUESTS {
            return Err((
                100,
                format!(
                    "(#100) The number of requests in a batch must not exceed {MAX_REQUESTS}, got {}",
                    requests.len()
                ),
            ));
        }
        let upsert = params.get("allow_upsert").is_none_or(|v| v != "false");
        let mut validation = Vec::new();
        let mut handle = Handle {
            ready_at: now + self.processing + Duration::from_micros(50) * requests.len() as u32,
            ops: Vec::new(),
            errors: Vec::new(),
            warnings: Vec::new(),
            invalid: Vec::new(),
            applied: false,
        };
        for (index, request) in requests.iter().enumerate() {
            let line = index + 1;
            let method = request["method"]
                .as_str()
                .unwrap_or("")
                .to_ascii_uppercase();
            let data = request["data"].as_object().cloned().unwrap_or_default();
            let retailer_id = data
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let (errors, warnings) = validate(&method, &data, upsert);
            for e in &errors {
                handle
                    .errors
                    .push(json!({"line": line, "id": retailer_id, "message": e}));
            }
            if !errors.is_empty() || !warnings.is_empty() {
                validation.push(json!({
                    "retailer_id": retailer_id,
                    "errors": errors.iter().map(|m| json!({"message": m})).collect::<Vec<_>>(),
                    "warnings": warnings.iter().map(|m| json!({"message": m})).collect::<Vec<_>>(),
                }));
            }
            if errors.is_empty() {
                handle.ops.push(Op { method, line, data });
            } else {
                handle.invalid.push(retailer_id);
            }
        }
        self.requests_received += requests.len() as u64;
        let handles = if handle.ops.is_empty() {
            Vec::new()
        } else {
            let name = format!(
                "AcZ{:016x}{:04x}",
                mix(self.seed, self.handles.len() as u64, 11),
                self.handles.len()
            );
            self.handles.insert(name.clone(), handle);
            vec![name]
        };
        Ok(json!({"handles": handles, "validation_status": validation}))
    }

    /// `GET /{catalog}/check_batch_request_status?handle=…`.
    pub fn batch_status(
        &mut self,
        params: &HashMap<String, String>,
        now: Instant,
    ) -> Result<Value, Refusal> {
        self.settle(now);
        let Some(name) = params.get("handle") else {
            return Err((100, "(#100) The parameter handle is required".to_owned()));
        };
        let Some(h) = self.handles.get(name) else {
            return Err((100, format!("(#100) Invalid handle: {name}")));
        };
        let finished = h.applied;
        let mut entry = json!({
            "handle": name,
            "status": if finished { "finished" } else { "in_progress" },
            "errors": if finished { json!(h.errors) } else { json!([]) },
            "errors_total_count": if finished { h.errors.len() } else { 0 },
            "warnings": if finished { json!(h.warnings) } else { json!([]) },
            "warnings_total_count": if finished { h.warnings.len() } else { 0 },
        });
        if params
            .get("load_ids_of_invalid_requests")
            .is_some_and(|v| v == "true")
        {
            entry["ids_of_invalid_requests"] = if finished {
                json!(h.invalid)
            } else {
                json!([])
            };
        }
        Ok(json!({"data": [entry]}))
    }

    /// Applies every batch whose processing time has passed.
    fn settle(&mut self, now: Instant) {
        let mut ready: Vec<String> = self
            .handles
            .iter()
            .filter(|(_, h)| !h.applied && h.ready_at <= now)
            .map(|(n, _)| n.clone())
            .collect();
        ready.sort();
        for name in ready {
            let Some(mut handle) = self.handles.remove(&name) else {
                continue;
            };
            for op in std::mem::take(&mut handle.ops) {
                let retailer_id = op
                    .data
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                if op.method == "DELETE" {
                    if self.items.remove(&retailer_id).is_none() {
                        handle
                            .warnings
                            .push(json!({"line": op.line, "id": retailer_id,
                            "message": "The item to delete was not found in the catalog"}));
                    }
                    continue;
                }
                // Found only while applying: Meta downloads the image.
                let image = op
                    .data
                    .get("image_link")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let path = image
                    .split(['?', '#'])
                    .next()
                    .unwrap_or("")
                    .to_ascii_lowercase();
                if !image.is_empty() && !IMAGE_EXTENSIONS.iter().any(|e| path.ends_with(e)) {
                    handle.errors.push(json!({"line": op.line, "id": retailer_id,
                        "message": format!("Image download failed: the image_link {image} is not a JPEG, PNG, GIF, WebP or BMP image")}));
                    handle.invalid.push(retailer_id);
                    continue;
                }
                let id = match self.items.get(&retailer_id) {
                    Some(existing) => existing.id.clone(),
                    None => self.new_id(),
                };
                let mut data = self
                    .items
                    .get(&retailer_id)
                    .map(|i| i.data.clone())
                    .unwrap_or_default();
                data.extend(op.data);
                self.items.insert(
                    retailer_id,
                    Item {
                        id,
                        data,
                        updated: handle.ready_at,
                        fixed_review: None,
                    },
                );
            }
            handle.applied = true;
            self.handles.insert(name, handle);
        }
    }

    fn review(&self, item: &Item, now: Instant) -> (&'static str, Vec<&'static str>) {
        if let Some(fixed) = item.fixed_review {
            let reasons = if fixed == "rejected" {
                vec!["COUNTERFEIT"]
            } else {
                vec![]
            };
            return (fixed, reasons);
        }
        if now.duration_since(item.updated) < self.review_delay {
            return ("pending", vec![]);
        }
        let title = item
            .data
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_lowercase();
        if POLICY_WORDS.iter().any(|w| title.contains(w)) {
            ("rejected", vec!["COUNTERFEIT"])
        } else {
            ("approved", vec![])
        }
    }

    /// `GET /{catalog}/products`: Graph field names; `filter` on `retailer_id` with `eq` or
    /// `is_any`; `(start, page)` of the matching items in retailer-id order.
    pub fn products(
        &mut self,
        params: &HashMap<String, String>,
        now: Instant,
    ) -> Result<Vec<Value>, Refusal> {
        self.settle(now);
        let wanted: Option<Vec<String>> = match params.get("filter") {
            None => None,
            Some(raw) => {
                let filter: Value = serde_json::from_str(raw).map_err(|_| {
                    (
                        100,
                        "(#100) param filter must be a JSON-encoded object".to_owned(),
                    )
                })?;
                let rule = &filter["retailer_id"];
                if rule.is_null() && filter.get("review_status").is_some() {
                    None // applied on the Graph fields, after the review is known
                } else if let Some(one) = rule["eq"].as_str() {
                    Some(vec![one.to_owned()])
                } else if let Some(many) = rule["is_any"].as_array() {
                    Some(
                        many.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect(),
                    )
                } else {
                    return Err((100, format!("(#100) Unsupported filter: {raw}")));
                }
            }
        };
        let graph = |item: &Item, retailer_id: &str| {
            let field = |k: &str| item.data.get(k).cloned().unwrap_or(Value::Null);
            let (review, reasons) = self.review(item, now);
            let price = item.data.get("price").and_then(Value::as_str).unwrap_or("");
            let (amount, currency) = price.split_once(' ').unwrap_or((price, ""));
            let formatted = match currency {
                "USD" => format!("${amount}"),
                "EUR" => format!("€{amount}"),
                _ => price.to_owned(),
            };
            json!({
                "id": item.id,
                "retailer_id": retailer_id,
                "name": field("title"),
                "description": field("description"),
                "price": formatted,
                "currency": currency,
                "availability": field("availability"),
                "condition": field("condition"),
                "url": field("link"),
                "image_url": field("image_link"),
                "brand": field("brand"),
                "inventory": field("inventory"),
                "review_status": review,
                "review_rejection_reasons": reasons,
                "errors": [],
                "visibility": "published",
            })
        };
        Ok(match wanted {
            Some(ids) => ids
                .iter()
                .filter_map(|r| self.items.get(r).map(|i| graph(i, r)))
                .collect(),
            None => self.items.iter().map(|(r, i)| graph(i, r)).collect(),
        })
    }
}

/// Per-request validation, as `items_batch` reports it in `validation_status`.
fn validate(method: &str, data: &Map<String, Value>, upsert: bool) -> (Vec<String>, Vec<String>) {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let text = |k: &str| {
        data.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    if !matches!(method, "CREATE" | "UPDATE" | "DELETE") {
        errors.push(format!(
            "Invalid method \"{method}\": must be CREATE, UPDATE or DELETE"
        ));
        return (errors, warnings);
    }
    if text("id").is_none() {
        errors.push("Required field 'id' is missing".to_owned());
        return (errors, warnings);
    }
    if method == "DELETE" || (method == "UPDATE" && !upsert) {
        return (errors, warnings);
    }
    for field in REQUIRED {
        if text(field).is_none() {
            errors.push(format!("Required field '{field}' is missing"));
        }
    }
    if text("brand").is_none() && text("gtin").is_none() && text("mpn").is_none() {
        errors.push("Required field 'brand' is missing (or provide 'gtin' or 'mpn')".to_owned());
    }
    if let Some(v) = text("availability").filter(|v| !AVAILABILITY.contains(v)) {
        errors.push(format!("Invalid value for 'availability': \"{v}\""));
    }
    if let Some(v) = text("condition").filter(|v| !CONDITION.contains(v)) {
        errors.push(format!("Invalid value for 'condition': \"{v}\""));
    }
    for field in ["price", "sale_price"] {
        if let Some(v) = text(field).filter(|v| !is_price(v)) {
            errors.push(format!("Invalid price format for '{field}': \"{v}\". Use a number and an ISO 4217 currency code, e.g. \"9.99 USD\""));
        }
    }
    for field in ["link", "image_link"] {
        if let Some(v) =
            text(field).filter(|v| !(v.starts_with("http://") || v.starts_with("https://")))
        {
            errors.push(format!("Invalid URL in '{field}': \"{v}\""));
        }
    }
    if text("title").is_some_and(|t| t.chars().count() > 150) {
        warnings.push("Title is longer than 150 characters and may be truncated".to_owned());
    }
    (errors, warnings)
}

fn is_price(v: &str) -> bool {
    let Some((amount, code)) = v.split_once(' ') else {
        return false;
    };
    let (whole, fraction) = amount.split_once('.').unwrap_or((amount, "00"));
    !whole.is_empty()
        && whole.bytes().all(|c| c.is_ascii_digit())
        && fraction.len() <= 2
        && fraction.bytes().all(|c| c.is_ascii_digit())
        && code.len() == 3
        && code.bytes().all(|c| c.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(requests: &Value) -> HashMap<String, String> {
        HashMap::from([
            ("item_type".to_owned(), "PRODUCT_ITEM".to_owned()),
            ("requests".to_owned(), requests.to_string()),
        ])
    }

    fn item(id: &str, image: &str) -> Value {
        json!({"method": "UPDATE", "data": {"id": id, "title": "Mug", "description": "A mug",
            "availability": "in stock", "condition": "new", "price": "12.34 USD",
            "link": "https://s.example/1", "image_link": image, "brand": "Acme"}})
    }

    #[test]
    fn a_batch_validates_at_once_applies_later_and_reports_errors_when_finished() {
        let mut c = Catalog::new(1, 0, Duration::from_millis(100), Duration::ZERO);
        let t0 = Instant::now();
        let bad_price = json!({"method": "UPDATE", "data": {"id": "SKU-3", "price": "cheap"}});
        let answer = c
            .items_batch(
                &params(&json!([
                    item("SKU-1", "https://s.example/1.jpg"),
                    item("SKU-2", "https://s.example/2.html"),
                    bad_price
                ])),
                t0,
            )
            .unwrap_or_default();
        assert_eq!(answer["handles"].as_array().map(Vec::len), Some(1));
        assert_eq!(answer["validation_status"][0]["retailer_id"], "SKU-3");
        let handle = answer["handles"][0].as_str().unwrap_or_default().to_owned();
        let mut ask = HashMap::from([("handle".to_owned(), handle)]);
        let early = c.batch_status(&ask, t0).unwrap_or_default();
        assert_eq!(early["data"][0]["status"], "in_progress");
        assert!(
            early["data"][0].get("ids_of_invalid_requests").is_none(),
            "only when asked"
        );
        ask.insert("load_ids_of_invalid_requests".to_owned(), "true".to_owned());
        let done = c
            .batch_status(&ask, t0 + Duration::from_secs(1))
            .unwrap_or_default();
        assert_eq!(done["data"][0]["status"], "finished");
        assert_eq!(
            done["data"][0]["ids_of_invalid_requests"],
            json!(["SKU-3", "SKU-2"])
        );
        let errors = done["data"][0]["errors"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(done["data"][0]["errors_total_count"], errors.len());
        let image: Vec<&Value> = errors.iter().filter(|e| e["id"] == "SKU-2").collect();
        assert_eq!(image.len(), 1);
        assert_eq!(image[0]["line"], 2, "the request's position in the batch");
        let ids: Vec<String> = c
            .ids(t0 + Duration::from_secs(1))
            .into_iter()
            .map(|(r, _)| r)
            .collect();
        assert_eq!(
            ids,
            ["SKU-1"],
            "only the valid item with a real image is in the catalog"
        );
    }

    #[test]
    fn more_than_5000_requests_or_a_wrong_item_type_are_refused() {
        let mut c = Catalog::new(1, 0, Duration::ZERO, Duration::ZERO);
        let many = Value::Array(vec![item("X", "https://s.example/x.jpg"); MAX_REQUESTS + 1]);
        let refusal = c.items_batch(&params(&many), Instant::now());
        assert!(matches!(refusal, Err((100, m)) if m.contains("5000")));
        let mut p = params(&json!([]));
        p.insert("item_type".to_owned(), "HOTEL_ROOM".to_owned());
        assert!(matches!(c.items_batch(&p, Instant::now()), Err((100, _))));
    }
}
