//! No panic on any input: every parser of outside data gets arbitrary input, 2,000 cases each
//! in CI (`PROPTEST_CASES` raises it for a long run: `PROPTEST_CASES=100000 cargo test
//! --release -p meta-monitor-core --test properties`). Where a parser has an inverse, the
//! round trip is checked too.

use std::io::Cursor;

use meta_monitor_core::capi::event::{EventInput, build};
use meta_monitor_core::capi::normalize::{Key, prepare};
use meta_monitor_core::catalog::import::{FeedFormat, read};
use meta_monitor_core::graph::Usage;
use meta_monitor_core::product::Price;
use meta_monitor_core::sketch::Sketch;
use proptest::prelude::*;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

/// 2,000 cases unless `PROPTEST_CASES` says otherwise.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(2_000);
    ProptestConfig::with_cases(cases)
}

/// Text that looks like a product feed's XML often enough to reach the item reader.
fn xmlish() -> impl Strategy<Value = String> {
    let element = prop_oneof![
        Just("<item>".to_owned()),
        Just("</item>".to_owned()),
        Just("<entry>".to_owned()),
        Just("<g:shipping><g:country>US</g:country>".to_owned()),
        Just("</g:shipping>".to_owned()),
        Just("<![CDATA[x]]>".to_owned()),
        Just("&amp;".to_owned()),
        Just("&unknown;".to_owned()),
        Just("<link href=\"h\"/>".to_owned()),
        "<[a-z:]{1,8}>",
        "</[a-z:]{1,8}>",
        "\\PC{0,8}",
    ];
    proptest::collection::vec(element, 0..40).prop_map(|parts| {
        format!(
            "<rss xmlns:g=\"http://base.google.com/ns/1.0\"><channel>{}</channel></rss>",
            parts.concat()
        )
    })
}

/// Text that looks like JSON often enough to reach the deeper branches.
fn jsonish() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,120}",
        r#"\{"[a-z_]{1,12}":(-?[0-9]{1,20}(\.[0-9]{1,6})?|"[^"]{0,20}"|null|true|\[\]|\{\})\}"#,
        r#"\{"[0-9]{1,18}":\[\{"type":"[a-z_]{1,15}","call_count":-?[0-9]{1,6},"total_time":[0-9.e+-]{1,8},"estimated_time_to_regain_access":-?[0-9]{1,12}\}\]\}"#,
    ]
}

const USAGE_HEADERS: [&str; 5] = [
    "x-app-usage",
    "x-business-use-case-usage",
    "x-ad-account-usage",
    "x-fb-ads-insights-throttle",
    "x-page-usage",
];

proptest! {
    #![proptest_config(config())]

    #[test]
    fn rate_limit_headers_never_panic(values in proptest::collection::vec(jsonish(), 5)) {
        let mut headers = HeaderMap::new();
        for (name, value) in USAGE_HEADERS.iter().zip(&values) {
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.insert(HeaderName::from_static(name), v);
            }
        }
        let usage = Usage::from_headers(&headers);
        // Whatever was read is a finite percentage and a bounded regain time.
        if let Some(max) = usage.max_pct() {
            prop_assert!(max.is_finite(), "{max}");
        }
        let _ = usage.regain_after();
        let _ = usage.counters();
    }

    #[test]
    fn prices_parse_or_refuse_and_round_trip(whole in 0u64..10_000_000, cents in 0u64..100, code in "[A-Z]{3}") {
        let text = format!("{whole}.{cents:02} {code}");
        let price = Price::parse(&text).expect("a well-formed price");
        prop_assert_eq!(price.to_string(), text.clone());
        prop_assert_eq!(Price::parse(&price.to_string()), Ok(price));
    }

    #[test]
    fn any_price_text_is_a_price_or_a_reason(text in "\\PC{0,40}") {
        if let Ok(price) = Price::parse(&text) {
            prop_assert_eq!(Price::parse(&price.to_string()), Ok(price));
        }
    }

    #[test]
    fn sketches_decode_any_blob_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(sketch) = Sketch::decode(&bytes) {
            let _ = sketch.quantile(0.5);
            let _ = sketch.count();
        }
    }

    #[test]
    fn feeds_of_any_text_import_or_refuse(text in "\\PC{0,400}", format in 0u8..5) {
        let format = [FeedFormat::Csv, FeedFormat::Tsv, FeedFormat::Json, FeedFormat::Xml]
            .get(usize::from(format))
            .copied();
        if let Ok(feed) = read(Cursor::new(text.into_bytes()), format) {
            for (_, product) in &feed.products {
                let _ = product.fingerprint();
            }
        }
    }

    #[test]
    fn xml_feeds_of_markup_like_text_import_or_refuse(text in xmlish()) {
        if let Ok(feed) = read(Cursor::new(text.into_bytes()), Some(FeedFormat::Xml)) {
            for (_, product) in &feed.products {
                let _ = product.fingerprint();
            }
        }
    }

    #[test]
    fn rss_feeds_give_back_every_field_written(
        items in proptest::collection::vec(("[A-Za-z0-9_-]{1,12}", "\\PC{0,30}", "[0-9]{1,4}\\.[0-9]{2} [A-Z]{3}"), 1..12),
        prefixed: bool,
        cdata: bool,
    ) {
        let escape = |t: &str| t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        let tag = |name: &str| if prefixed { format!("g:{name}") } else { name.to_owned() };
        let mut text = String::from(r#"<?xml version="1.0"?>
<rss xmlns:g="http://base.google.com/ns/1.0" version="2.0"><channel><title>Shop</title>"#);
        for (id, title, price) in &items {
            let title_xml = if cdata && !title.contains("]]>") {
                format!("<![CDATA[{title}]]>")
            } else {
                escape(title)
            };
            text.push_str(&format!(
                "\n<item>\n<{i}>{id}</{i}>\n<{t}>{title_xml}</{t}>\n<{p}>{price}</{p}>\n</item>",
                i = tag("id"), t = tag("title"), p = tag("price")
            ));
        }
        text.push_str("\n</channel></rss>");
        let feed = read(Cursor::new(text.into_bytes()), None).expect("a well-formed feed reads");
        prop_assert_eq!(feed.format, FeedFormat::Xml);
        let mut read_back = feed.rejected.iter().map(|r| (r.line, r.id.clone()))
            .chain(feed.products.iter().map(|(l, p)| (*l, Some(p.id().to_owned()))))
            .collect::<Vec<_>>();
        read_back.sort();
        prop_assert_eq!(read_back.len(), items.len(), "every item is kept or refused");
        for ((line, id), (i, (written, _, _))) in read_back.iter().zip(items.iter().enumerate()) {
            prop_assert_eq!(*line, 3 + 5 * i as u64, "each item's own line");
            prop_assert_eq!(id.as_deref(), Some(written.as_str()));
        }
        for (_, product) in &feed.products {
            let (_, title, _) = items.iter().find(|(id, _, _)| id == product.id()).expect("written");
            let normalized: String = title.replace("\r\n", "\n").replace('\r', "\n");
            prop_assert_eq!(product.get("title").unwrap_or(""), normalized.trim());
        }
    }

    #[test]
    fn csv_feeds_with_a_header_row_keep_or_reject_every_line(
        rows in proptest::collection::vec(("[ -~]{0,12}", "[ -~]{0,20}", "[0-9]{0,4}(\\.[0-9]{0,3})? ?[A-Z]{0,4}"), 0..20)
    ) {
        let mut text = String::from("id,title,price\n");
        for (id, title, price) in &rows {
            text.push_str(&format!("{id},{title},{price}\n"));
        }
        if let Ok(feed) = read(Cursor::new(text.into_bytes()), Some(FeedFormat::Csv)) {
            prop_assert!(feed.products.len() + feed.rejected.len() <= rows.len());
        }
    }

    #[test]
    fn customer_values_normalize_or_refuse(raw in "\\PC{0,60}", key in 0usize..18, hash_external_id: bool) {
        let keys = [
            Key::Email, Key::Phone, Key::FirstName, Key::LastName, Key::Gender,
            Key::DateOfBirth, Key::City, Key::State, Key::Zip, Key::Country, Key::ExternalId,
            Key::ClientIpAddress, Key::ClientUserAgent, Key::Fbc, Key::Fbp,
            Key::SubscriptionId, Key::FbLoginId, Key::LeadId,
        ];
        let key = keys[key];
        match prepare(key, &raw, hash_external_id) {
            Ok(prepared) => {
                // Preparing what was sent again changes nothing: a hash passes through.
                let again = prepare(key, &prepared.sent, hash_external_id);
                prop_assert!(again.is_ok(), "{key:?}: {raw:?} → {:?} → {again:?}", prepared.sent);
                if let Ok(again) = again {
                    prop_assert_eq!(again.sent, prepared.sent);
                }
            }
            Err(e) => {
                // The reason names the field and the rule, never the customer's value.
                let text = e.to_string();
                let value = raw.trim();
                prop_assert!(value.len() < 4 || !text.contains(value), "{text}");
            }
        }
    }

    /// A line of an events file (`events send`) is an event or a reason, and a parsed one
    /// builds or says which fields are wrong — never a panic, never a customer value in it.
    #[test]
    fn event_lines_parse_and_build_or_refuse(
        name in "[A-Za-z]{0,12}",
        time in prop_oneof![Just("null".to_owned()), "-?[0-9]{1,20}"],
        value in prop_oneof![Just("null".to_owned()), "-?[0-9]{1,12}(\\.[0-9]{1,4})?", Just("1e308".to_owned())],
        email in "[^\"\\\\]{0,30}",
        phone in "[0-9+() -]{0,20}",
        dob in "[0-9./ -]{0,12}",
        source in "(website|app|email|other|bogus)",
    ) {
        let line = format!(
            r#"{{"event_name":"{name}","event_time":{time},"action_source":"{source}","value":{value},"currency":"EUR","user_data":{{"em":"{email}","ph":"{phone}","db":"{dob}"}}}}"#
        );
        if let Ok(input) = serde_json::from_str::<EventInput>(&line) {
            let now = time::OffsetDateTime::now_utc();
            if let Err(problems) = build(&input, now, true) {
                for p in problems {
                    let text = p.reason;
                    for secret in [&email, &phone] {
                        let secret = secret.trim();
                        prop_assert!(secret.len() < 5 || !text.contains(secret), "{text}");
                    }
                }
            }
        }
    }
}
