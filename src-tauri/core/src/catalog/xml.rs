//! XML product feeds, the format most shops already export for Google Merchant Center and Meta:
//! RSS 2.0 (`<rss><channel><item>`) and Atom (`<feed><entry>`), fields in the Google namespace
//! (`<g:price>`) or un-prefixed as in Commerce Manager's template (`<price>`), both accepted;
//! a Google-namespace field wins over an un-prefixed one of the same name (Atom's own `<id>`
//! and `<title>` sit beside `<g:id>` and `<g:title>`).
//!
//! Flattened to the feed's text form, so every format validates and syncs alike: a nested
//! `<g:shipping>` becomes `COUNTRY:REGION:SERVICE:PRICE` (Meta's text form), `<g:tax>`
//! `COUNTRY:REGION:RATE:TAX_SHIP`, other nested fields a JSON object; a repeated field
//! (`additional_image_link`, several `shipping`) is joined with commas.
//!
//! Read with `quick-xml`, which never fetches or expands a DTD: no external entity, no
//! entity expansion bomb. A document that breaks part-way is refused whole — a truncated
//! download must not read as "these products were removed".

use std::collections::BTreeMap;

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use super::import::{FeedError, Row};
use crate::product::{FieldProblem, Product};

/// The Google Merchant namespace every product feed's `g:` prefix is bound to.
const GOOGLE_NS: &str = "http://base.google.com/ns/1.0";

/// Nested fields with a documented one-line text form: their parts, in order.
const TEXT_FORMS: [(&str, [&str; 4]); 2] = [
    ("shipping", ["country", "region", "service", "price"]),
    ("tax", ["country", "region", "rate", "tax_ship"]),
];

/// Where the reader is in a product element.
#[derive(Default)]
struct Item {
    line: u64,
    /// Field → (from the Google namespace, values in order).
    fields: BTreeMap<String, (bool, Vec<String>)>,
    /// The first thing wrong with the item as XML (an entity we do not know).
    problem: Option<FieldProblem>,
}

impl Item {
    fn add(&mut self, name: String, google: bool, value: String) {
        let value = value.trim().to_owned();
        if value.is_empty() {
            return;
        }
        let slot = self.fields.entry(name).or_insert((google, Vec::new()));
        match (slot.0, google) {
            // A Google-namespace value replaces un-prefixed ones (Atom's own elements).
            (false, true) => *slot = (true, vec![value]),
            (true, false) => {}
            _ => slot.1.push(value),
        }
    }

    fn into_row(self) -> Row {
        let row = match self.problem {
            Some(problem) => Err(problem),
            None => Ok(Product::from_pairs(
                self.fields
                    .into_iter()
                    .map(|(name, (_, values))| (name, values.join(","))),
            )),
        };
        (self.line, row)
    }
}

/// A field element being read inside an item: its name, and its children when nested.
struct Field {
    name: String,
    google: bool,
    text: String,
    /// `href` of an empty-text element (Atom's `<link href="…"/>`).
    href: Option<String>,
    parts: BTreeMap<String, String>,
    /// The child element being read, when nested.
    part: Option<(String, String)>,
}

/// The products of an RSS or Atom feed, each with the line its element starts on.
pub(super) fn rows(text: &str) -> Result<Vec<Row>, FeedError> {
    let shape = |message: String| FeedError::Shape {
        format: "XML",
        message,
    };
    let mut reader = Reader::from_str(text);
    let mut lines = LineCounter::new(text);
    let mut state = State::default();
    let mut saw_root = false;
    // Elements open now: quick-xml reports the end of the text even inside an element, and a
    // document cut short after an `</item>` must not read as a shorter feed.
    let mut open = 0usize;
    loop {
        let before = reader.buffer_position();
        let event = reader.read_event().map_err(|e| {
            shape(format!(
                "malformed at line {}: {e}",
                lines.line_at(reader.error_position())
            ))
        })?;
        match event {
            Event::Start(e) => {
                saw_root = true;
                open += 1;
                state.start(&e, false, || lines.line_at(before));
            }
            Event::Empty(e) => {
                saw_root = true;
                state.start(&e, true, || lines.line_at(before));
            }
            Event::End(_) => {
                open = open.saturating_sub(1);
                state.end();
            }
            Event::Text(t) => state.append(&t.xml10_content()),
            Event::CData(c) => state.append(&c.xml10_content()),
            Event::GeneralRef(r) => match resolve(&r) {
                Some(resolved) => state.append(&resolved),
                None => state.unknown_entity(&r.into_inner()),
            },
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if !saw_root {
        return Err(shape("it holds no element".to_owned()));
    }
    if state.item.is_some() {
        return Err(shape("it ends inside a product element".to_owned()));
    }
    if open > 0 {
        return Err(shape(format!(
            "it ends with {open} element(s) still open (the download or export was cut short?)"
        )));
    }
    if state.rows.is_empty() {
        return Err(shape(
            "it has no <item> (RSS) or <entry> (Atom) elements".to_owned(),
        ));
    }
    Ok(state.rows)
}

/// The reader's place in the document.
#[derive(Default)]
struct State {
    google_prefixes: Vec<String>,
    rows: Vec<Row>,
    item: Option<Item>,
    field: Option<Field>,
    /// Depth inside the current item: 1 = a field, 2 = a field's part, deeper is ignored.
    depth: usize,
}

impl State {
    fn start(&mut self, e: &BytesStart<'_>, empty: bool, line: impl FnOnce() -> u64) {
        remember_google_prefixes(e, &mut self.google_prefixes);
        if self.item.is_none() {
            if matches!(e.local_name().as_ref(), "item" | "entry") {
                let started = Item {
                    line: line(),
                    ..Item::default()
                };
                if empty {
                    self.rows.push(started.into_row());
                } else {
                    self.item = Some(started);
                    self.depth = 0;
                }
            }
            return;
        }
        self.depth += 1;
        open(e, self.depth, &self.google_prefixes, &mut self.field);
        if empty {
            self.end();
        }
    }

    fn end(&mut self) {
        if self.item.is_none() {
            return;
        }
        if self.depth == 0 {
            if let Some(done) = self.item.take() {
                self.rows.push(done.into_row());
            }
            return;
        }
        close(self.depth, &mut self.field, self.item.as_mut());
        self.depth -= 1;
    }

    fn append(&mut self, text: &str) {
        let Some(f) = self.field.as_mut() else {
            return;
        };
        match (self.depth, f.part.as_mut()) {
            (1, _) => f.text.push_str(text),
            (2, Some((_, part))) => part.push_str(text),
            _ => {}
        }
    }

    fn unknown_entity(&mut self, name: &str) {
        let field = self.field.as_ref().map_or("row", |f| f.name.as_str());
        if let Some(item) = self.item.as_mut().filter(|it| it.problem.is_none()) {
            item.problem = Some(FieldProblem {
                field: field.to_owned(),
                message: format!(
                    "uses the entity &{name}; which XML does not define (only &amp; &lt; &gt; \
                     &quot; &apos; and character references are read)"
                ),
            });
        }
    }
}

/// Notes the prefixes an element binds to the Google namespace (`xmlns:g="…"`).
fn remember_google_prefixes(e: &BytesStart<'_>, prefixes: &mut Vec<String>) {
    for attr in e.attributes().flatten() {
        let key = attr.key.as_ref();
        if let Some(prefix) = key.strip_prefix("xmlns:")
            && attr
                .normalized_value(XmlVersion::Implicit1_0)
                .is_ok_and(|v| v.trim() == GOOGLE_NS)
            && !prefixes.iter().any(|p| p == prefix)
        {
            prefixes.push(prefix.to_owned());
        }
    }
}

/// Starts a field (depth 1) or a part of one (depth 2); other vocabularies' prefixed
/// elements are not product fields and are skipped.
fn open(e: &BytesStart<'_>, depth: usize, google_prefixes: &[String], field: &mut Option<Field>) {
    let qualified = e.name();
    let (prefix, local) = match qualified.as_ref().split_once(':') {
        Some((p, l)) => (Some(p), l),
        None => (None, qualified.as_ref()),
    };
    let google = prefix.is_some_and(|p| google_prefixes.iter().any(|g| g == p));
    let foreign = prefix.is_some() && !google;
    let name = local.trim().to_ascii_lowercase();
    match depth {
        1 => {
            *field = (!foreign).then(|| Field {
                name,
                google,
                text: String::new(),
                href: e
                    .try_get_attribute("href")
                    .ok()
                    .flatten()
                    .and_then(|a| a.normalized_value(XmlVersion::Implicit1_0).ok())
                    .map(|v| v.into_owned()),
                parts: BTreeMap::new(),
                part: None,
            });
        }
        2 => {
            if let Some(f) = field.as_mut()
                && !foreign
            {
                f.part = Some((name, String::new()));
            }
        }
        _ => {}
    }
}

/// Ends the element at `depth`: a part is kept in its field, a field in the item.
fn close(depth: usize, field: &mut Option<Field>, item: Option<&mut Item>) {
    match depth {
        1 => {
            let (Some(f), Some(item)) = (field.take(), item) else {
                return;
            };
            let value = if f.parts.is_empty() {
                if f.text.trim().is_empty() {
                    f.href.unwrap_or_default()
                } else {
                    f.text
                }
            } else {
                flatten(&f.name, &f.parts)
            };
            item.add(f.name, f.google, value);
        }
        2 => {
            if let Some(f) = field.as_mut()
                && let Some((name, text)) = f.part.take()
            {
                let text = text.trim();
                if !text.is_empty() {
                    f.parts.insert(name, text.to_owned());
                }
            }
        }
        _ => {}
    }
}

/// A nested field in one cell: Meta's text form when it has one, else a JSON object.
fn flatten(name: &str, parts: &BTreeMap<String, String>) -> String {
    match TEXT_FORMS.iter().find(|(n, _)| *n == name) {
        Some((_, order)) => order
            .iter()
            .map(|p| parts.get(*p).map_or("", String::as_str))
            .collect::<Vec<_>>()
            .join(":"),
        None => serde_json::to_string(parts).unwrap_or_default(),
    }
}

/// `&amp;` and the other four XML entities, and character references; `None` for an entity
/// only a DTD could define.
fn resolve(reference: &BytesRef<'_>) -> Option<String> {
    if let Ok(Some(c)) = reference.resolve_char_ref() {
        return Some(c.to_string());
    }
    quick_xml::escape::resolve_predefined_entity(&reference.clone().into_inner()).map(str::to_owned)
}

/// Byte offsets to line numbers, counting forward from the last offset asked (the reader only
/// moves forward, so the whole file is scanned once).
struct LineCounter<'a> {
    bytes: &'a [u8],
    at: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            bytes: text.as_bytes(),
            at: 0,
            line: 1,
        }
    }

    fn line_at(&mut self, offset: u64) -> u64 {
        let offset = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.bytes.len());
        // Leading whitespace before an element belongs to the element's line.
        let mut offset = offset;
        while matches!(self.bytes.get(offset), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            offset += 1;
        }
        if offset < self.at {
            return self.line;
        }
        self.line += self.bytes[self.at..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        self.at = offset;
        self.line
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used, reason = "a failed step must fail the test")]
    use crate::catalog::import::{FeedFormat, read};

    /// Reference §17's RSS example, with a second item as Commerce Manager's template writes
    /// it (un-prefixed fields) and repeated images.
    const RSS: &str = r#"<?xml version="1.0"?>
<rss xmlns:g="http://base.google.com/ns/1.0" version="2.0"><channel>
 <title>Test Store</title><link>https://shop.example</link><description>Feed</description>
 <item>
  <g:id>SKU-1</g:id><g:title>Mug</g:title><g:description>Blue mug</g:description>
  <g:link>https://shop.example/mug</g:link><g:image_link>https://shop.example/mug.jpg</g:image_link>
  <g:brand>Acme</g:brand><g:condition>new</g:condition><g:availability>in stock</g:availability>
  <g:price>12.34 USD</g:price>
  <g:shipping><g:country>US</g:country><g:service>Standard</g:service><g:price>4.95 USD</g:price></g:shipping>
  <g:custom_label_0>summer</g:custom_label_0>
 </item>
 <item>
  <id>SKU-2</id><title>Pet bowl</title><description>Animals &gt; Pet Supplies &amp; more</description>
  <link>https://shop.example/bowl</link><image_link>https://shop.example/bowl.jpg</image_link>
  <additional_image_link>https://shop.example/b2.jpg</additional_image_link>
  <additional_image_link>https://shop.example/b3.jpg</additional_image_link>
  <brand><![CDATA[Acme & Co]]></brand><condition>new</condition><availability>in stock</availability>
  <price>5.00 EUR</price>
 </item>
</channel></rss>"#;

    #[test]
    fn rss_items_read_with_or_without_the_google_prefix() {
        let feed = read(RSS.as_bytes(), Some(FeedFormat::Xml)).expect("a feed");
        assert!(feed.rejected.is_empty(), "{:?}", feed.rejected);
        let (line, mug) = &feed.products[0];
        assert_eq!(*line, 4, "the line the <item> starts on");
        assert_eq!(mug.get("title"), Some("Mug"));
        assert_eq!(mug.get("price"), Some("12.34 USD"));
        assert_eq!(
            mug.get("shipping"),
            Some("US::Standard:4.95 USD"),
            "Meta's text form, empty region kept"
        );
        assert_eq!(mug.get("custom_label_0"), Some("summer"));
        let (line, bowl) = &feed.products[1];
        assert_eq!(*line, 12);
        assert_eq!(
            bowl.get("description"),
            Some("Animals > Pet Supplies & more"),
            "entities resolved, nothing dropped around them"
        );
        assert_eq!(bowl.get("brand"), Some("Acme & Co"));
        assert_eq!(
            bowl.get("additional_image_link"),
            Some("https://shop.example/b2.jpg,https://shop.example/b3.jpg")
        );
    }

    #[test]
    fn atom_entries_prefer_google_fields_over_atoms_own() {
        let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom" xmlns:gg="http://base.google.com/ns/1.0">
<title>Test Store</title><link rel="self" href="https://shop.example"/>
<entry>
 <id>tag:shop.example,2026:SKU-1</id><title>Atom's own title</title>
 <gg:id>SKU-1</gg:id><gg:title>Mug</gg:title><gg:description>Blue mug</gg:description>
 <link rel="alternate" href="https://shop.example/mug"/>
 <gg:image_link>https://shop.example/mug.jpg</gg:image_link><gg:brand>Acme</gg:brand>
 <gg:condition>new</gg:condition><gg:availability>in stock</gg:availability><gg:price>12.34 USD</gg:price>
 <gg:shipping><gg:country>DE</gg:country><gg:region>BE</gg:region><gg:service>DHL</gg:service><gg:price>3.90 EUR</gg:price></gg:shipping>
 <gg:shipping><gg:country>AT</gg:country><gg:price>6.90 EUR</gg:price></gg:shipping>
 <gg:product_detail><gg:attribute_name>Material</gg:attribute_name><gg:attribute_value>Stoneware</gg:attribute_value></gg:product_detail>
 <dc:creator xmlns:dc="http://purl.org/dc/elements/1.1/">not a product field</dc:creator>
</entry>
</feed>"#;
        let feed = read(atom.as_bytes(), Some(FeedFormat::Xml)).expect("a feed");
        assert!(feed.rejected.is_empty(), "{:?}", feed.rejected);
        let mug = &feed.products[0].1;
        assert_eq!(mug.id(), "SKU-1", "any prefix bound to Google's namespace");
        assert_eq!(mug.get("title"), Some("Mug"));
        assert_eq!(
            mug.get("link"),
            Some("https://shop.example/mug"),
            "from href"
        );
        assert_eq!(
            mug.get("shipping"),
            Some("DE:BE:DHL:3.90 EUR,AT:::6.90 EUR")
        );
        assert_eq!(
            mug.get("product_detail"),
            Some(r#"{"attribute_name":"Material","attribute_value":"Stoneware"}"#)
        );
        assert_eq!(mug.get("creator"), None, "other vocabularies are skipped");
    }

    #[test]
    fn broken_or_hostile_xml_is_refused_whole_and_unknown_entities_per_item() {
        let truncated = &RSS[..RSS.find("<price>5.00").expect("offset")];
        let error = read(truncated.as_bytes(), Some(FeedFormat::Xml))
            .expect_err("a download cut short is not a shorter feed")
            .to_string();
        assert!(error.contains("XML"), "{error}");
        let after_an_item = &RSS[..RSS.find("</item>").expect("offset") + "</item>".len()];
        let error = read(after_an_item.as_bytes(), Some(FeedFormat::Xml))
            .expect_err("cut right after a whole item")
            .to_string();
        assert!(error.contains("still open"), "{error}");
        let mismatched = "<rss><channel><item><g:id>1</g:title></item></channel></rss>";
        let error = read(mismatched.as_bytes(), Some(FeedFormat::Xml))
            .expect_err("mismatched tags")
            .to_string();
        assert!(error.contains("line 1"), "{error}");
        assert!(read("<rss><channel/></rss>".as_bytes(), Some(FeedFormat::Xml)).is_err());
        assert!(read("".as_bytes(), Some(FeedFormat::Xml)).is_err());

        // An entity only a DTD defines is never expanded (no billion laughs, no external
        // file): that item is refused, the others kept.
        let bomb = r#"<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;"><!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss xmlns:g="http://base.google.com/ns/1.0"><channel>
<item><g:id>SKU-1</g:id><g:title>&lol2;</g:title></item>
<item><g:id>SKU-2</g:id><g:description>&xxe;</g:description></item>
</channel></rss>"#;
        let feed = read(bomb.as_bytes(), Some(FeedFormat::Xml)).expect("read");
        assert!(feed.products.is_empty());
        let refused: Vec<(u64, &str)> = feed
            .rejected
            .iter()
            .map(|r| (r.line, r.problems[0].field.as_str()))
            .collect();
        assert_eq!(refused, [(4, "title"), (5, "description")]);
        assert!(feed.rejected[0].problems[0].message.contains("&lol2;"));
    }
}
