//! A product as shops describe it in their feeds (Meta's feed field names, `id` = retailer
//! id), its validation before anything is sent, and the item Meta's `items_batch` expects.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The feed fields Meta requires (brand may be replaced by `gtin` or `mpn`).
pub const REQUIRED: [&str; 8] = [
    "id",
    "title",
    "description",
    "availability",
    "condition",
    "price",
    "link",
    "image_link",
];
/// Meta's feed values for `availability`.
pub const AVAILABILITY: [&str; 5] = [
    "in stock",
    "out of stock",
    "preorder",
    "available for order",
    "discontinued",
];
/// Meta's feed values for `condition`.
pub const CONDITION: [&str; 3] = ["new", "refurbished", "used"];
/// Retailer ids longer than this are refused by Meta.
pub const MAX_ID_CHARS: usize = 100;
pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 9999;

/// A product: feed field name → value, exactly as the shop's file had it (trimmed; empty
/// values dropped). Kept as a map so the optional feed fields a shop uses (`gtin`, `color`,
/// `size`, `google_product_category`, …) travel to Meta without a code change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Product(pub BTreeMap<String, String>);

/// One thing wrong with one field, in words an admin can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

impl FieldProblem {
    fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl Product {
    /// Builds a product from (field, value) pairs: names lower-cased and trimmed, values
    /// trimmed, empty values left out (an empty cell means "not given").
    pub fn from_pairs<K: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let fields = pairs
            .into_iter()
            .filter_map(|(k, v)| {
                let (k, v) = (k.as_ref().trim().to_ascii_lowercase(), v.as_ref().trim());
                (!k.is_empty() && !v.is_empty()).then(|| (k, v.to_owned()))
            })
            .collect();
        Self(fields)
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    /// The retailer id (`id` in the feed), empty when missing.
    pub fn id(&self) -> &str {
        self.get("id").unwrap_or("")
    }

    /// Everything wrong with this product, by field; empty when it may be sent to Meta.
    pub fn problems(&self) -> Vec<FieldProblem> {
        let mut out = Vec::new();
        for field in REQUIRED {
            if self.get(field).is_none() {
                out.push(FieldProblem::new(field, "is required"));
            }
        }
        if ["brand", "gtin", "mpn"]
            .iter()
            .all(|f| self.get(f).is_none())
        {
            out.push(FieldProblem::new(
                "brand",
                "is required (or give a gtin or an mpn)",
            ));
        }
        let chars = |f: &str| self.get(f).map_or(0, |v| v.chars().count());
        for (field, max) in [
            ("id", MAX_ID_CHARS),
            ("title", MAX_TITLE_CHARS),
            ("description", MAX_DESCRIPTION_CHARS),
        ] {
            if chars(field) > max {
                out.push(FieldProblem::new(
                    field,
                    format!(
                        "is {} characters long; Meta accepts at most {max}",
                        chars(field)
                    ),
                ));
            }
        }
        if let Some(v) = self.get("availability")
            && !AVAILABILITY.contains(&v)
        {
            out.push(FieldProblem::new(
                "availability",
                format!("{v:?} is not one of: {}", AVAILABILITY.join(", ")),
            ));
        }
        if let Some(v) = self.get("condition")
            && !CONDITION.contains(&v)
        {
            out.push(FieldProblem::new(
                "condition",
                format!("{v:?} is not one of: {}", CONDITION.join(", ")),
            ));
        }
        let price = self.get("price").map(|v| (v, Price::parse(v)));
        if let Some((v, Err(why))) = &price {
            out.push(FieldProblem::new("price", format!("{v:?} {why}")));
        }
        if let Some(v) = self.get("sale_price") {
            match (Price::parse(v), &price) {
                (Err(why), _) => out.push(FieldProblem::new("sale_price", format!("{v:?} {why}"))),
                (Ok(sale), Some((_, Ok(regular)))) if sale.currency != regular.currency => {
                    out.push(FieldProblem::new(
                        "sale_price",
                        format!(
                            "is in {} but price is in {}",
                            sale.currency(),
                            regular.currency()
                        ),
                    ));
                }
                (Ok(sale), Some((_, Ok(regular)))) if sale.minor > regular.minor => {
                    out.push(FieldProblem::new("sale_price", "is higher than price"));
                }
                _ => {}
            }
        }
        for field in ["link", "image_link"] {
            if let Some(v) = self.get(field)
                && let Err(why) = web_url(v)
            {
                out.push(FieldProblem::new(field, why));
            }
        }
        if let Some(v) = self.get("inventory")
            && v.parse::<u32>().is_err()
        {
            out.push(FieldProblem::new(
                "inventory",
                format!("{v:?} is not a whole number of items (0 or more)"),
            ));
        }
        out
    }

    /// The `data` of an `items_batch` request: the feed fields, `price` normalized to
    /// `"12.34 USD"`, `inventory` as a number.
    pub fn feed_data(&self) -> serde_json::Value {
        let mut data = serde_json::Map::new();
        for (k, v) in &self.0 {
            let value = match k.as_str() {
                "price" | "sale_price" => Price::parse(v)
                    .map(|p| p.to_string())
                    .unwrap_or_else(|_| v.clone())
                    .into(),
                "inventory" => v
                    .parse::<u32>()
                    .map(serde_json::Value::from)
                    .unwrap_or_else(|_| v.clone().into()),
                _ => v.clone().into(),
            };
            data.insert(k.clone(), value);
        }
        serde_json::Value::Object(data)
    }

    /// SHA-256 of the payload Meta would receive: equal fingerprints mean nothing to sync.
    pub fn fingerprint(&self) -> String {
        hex::encode(Sha256::digest(self.feed_data().to_string().as_bytes()))
    }
}

/// A feed price: an amount with at most two decimals and an ISO 4217 code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price {
    /// In minor units (cents).
    pub minor: u64,
    pub currency: [u8; 3],
}

impl Price {
    /// Reads `12.34 USD` (also `12 USD`, `12.3 USD`, `USD 12.34`; comma decimals refused —
    /// `1,234` is ambiguous between shops).
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        const SHAPE: &str = "is not a price like \"12.34 USD\" (amount, space, ISO 4217 currency)";
        let mut parts = text.split_whitespace();
        let (a, b) = match (parts.next(), parts.next(), parts.next()) {
            (Some(a), Some(b), None) => (a, b),
            _ => return Err(SHAPE),
        };
        let is_code = |s: &str| s.len() == 3 && s.bytes().all(|c| c.is_ascii_uppercase());
        let (amount, code) = if is_code(b) {
            (a, b)
        } else if is_code(a) {
            (b, a)
        } else {
            return Err(SHAPE);
        };
        let (whole, fraction) = amount.split_once('.').unwrap_or((amount, ""));
        let digits = |s: &str| s.bytes().all(|c| c.is_ascii_digit());
        if whole.is_empty() || !digits(whole) || !digits(fraction) || fraction.len() > 2 {
            return Err(SHAPE);
        }
        if amount.contains('.') && fraction.is_empty() {
            return Err(SHAPE);
        }
        let whole: u64 = whole.parse().map_err(|_| "is too large")?;
        let cents: u64 = format!("{fraction:0<2}").parse().map_err(|_| SHAPE)?;
        let minor = whole
            .checked_mul(100)
            .and_then(|w| w.checked_add(cents))
            .ok_or("is too large")?;
        let mut currency = [0u8; 3];
        currency.copy_from_slice(code.as_bytes());
        Ok(Self { minor, currency })
    }

    pub fn currency(&self) -> &str {
        std::str::from_utf8(&self.currency).unwrap_or("???")
    }
}

impl std::fmt::Display for Price {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}.{:02} {}",
            self.minor / 100,
            self.minor % 100,
            self.currency()
        )
    }
}

fn web_url(text: &str) -> Result<(), String> {
    match url::Url::parse(text) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(()),
        Ok(u) => Err(format!(
            "{text:?} must be an http(s) address, not {}:",
            u.scheme()
        )),
        Err(e) => Err(format!("{text:?} is not a web address ({e})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mug() -> Product {
        Product::from_pairs([
            ("id", "SKU-1"),
            ("title", "Mug"),
            ("description", "A mug"),
            ("availability", "in stock"),
            ("condition", "new"),
            ("price", "12.3 USD"),
            ("link", "https://shop.example/mug"),
            ("image_link", "https://shop.example/mug.jpg"),
            ("brand", "Acme"),
            ("inventory", "10"),
        ])
    }

    #[test]
    fn a_complete_product_has_no_problems_and_sends_feed_names_with_normalized_price() {
        let p = mug();
        assert_eq!(p.problems(), vec![]);
        let data = p.feed_data();
        assert_eq!(data["price"], "12.30 USD");
        assert_eq!(data["inventory"], 10);
        assert_eq!(data["id"], "SKU-1");
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut p = mug();
        p.0.remove("title");
        p.0.remove("brand");
        p.0.insert("availability".into(), "instock".into());
        p.0.insert("condition".into(), "mint".into());
        p.0.insert("price".into(), "12,30 EUR".into());
        p.0.insert("link".into(), "ftp://shop.example/mug".into());
        p.0.insert("image_link".into(), "mug.jpg".into());
        p.0.insert("inventory".into(), "-1".into());
        let fields: Vec<String> = p.problems().into_iter().map(|f| f.field).collect();
        assert_eq!(
            fields,
            [
                "title",
                "brand",
                "availability",
                "condition",
                "price",
                "link",
                "image_link",
                "inventory"
            ]
        );
    }

    #[test]
    fn prices_are_read_strictly() {
        assert_eq!(Price::parse("12.34 USD").map(|p| p.minor), Ok(1234));
        assert_eq!(
            Price::parse("USD 5").map(|p| p.to_string()),
            Ok("5.00 USD".into())
        );
        for bad in [
            "12.345 USD",
            "12. USD",
            "12.34",
            "12.34 usd",
            "1,234.00 USD",
            "USD",
            "-1 USD",
        ] {
            assert!(Price::parse(bad).is_err(), "{bad} must be refused");
        }
        let mut p = mug();
        p.0.insert("sale_price".into(), "13.00 USD".into());
        assert_eq!(p.problems()[0].message, "is higher than price");
        p.0.insert("sale_price".into(), "10.00 EUR".into());
        assert_eq!(p.problems()[0].message, "is in EUR but price is in USD");
    }

    #[test]
    fn the_fingerprint_follows_what_meta_would_receive() {
        let a = mug();
        let mut b = mug();
        b.0.insert("price".into(), "12.30 USD".into());
        assert_eq!(
            a.fingerprint(),
            b.fingerprint(),
            "same payload, same fingerprint"
        );
        b.0.insert("title".into(), "Big mug".into());
        assert_ne!(a.fingerprint(), b.fingerprint());
    }
}
