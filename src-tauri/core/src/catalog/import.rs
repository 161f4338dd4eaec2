//! Reading the product feeds shops already have: CSV or TSV with a header row of feed field
//! names, JSON (an array of objects, or `{"data": [...]}`), or XML (RSS 2.0 or Atom with the
//! Google namespace, [`super::xml`]); the format is told, or recognised from the content.
//! Every row is validated; bad rows are reported by their line in the file (the header is
//! line 1) and the good ones kept.

use std::io::Read;

use serde::Serialize;

use super::product::{FieldProblem, Product};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum FeedFormat {
    Csv,
    Tsv,
    Json,
    Xml,
}

impl FeedFormat {
    /// From the content, as shops name their files anything (`feed.php`, `export?id=3`):
    /// markup is XML, an object or array JSON; otherwise the header line decides between
    /// TSV (more tabs than commas) and CSV.
    pub fn detect(text: &str) -> Self {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text).trim_start();
        match text.as_bytes().first() {
            Some(b'<') => Self::Xml,
            Some(b'{' | b'[') => Self::Json,
            _ => {
                let header = text
                    .lines()
                    .find(|l| !l.starts_with('#'))
                    .unwrap_or_default();
                let count = |c: char| header.matches(c).count();
                if count('\t') > count(',') {
                    Self::Tsv
                } else {
                    Self::Csv
                }
            }
        }
    }
}

impl std::fmt::Display for FeedFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Csv => "csv",
            Self::Tsv => "tsv",
            Self::Json => "json",
            Self::Xml => "xml",
        })
    }
}

impl std::str::FromStr for FeedFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Ok(Self::Csv),
            "tsv" => Ok(Self::Tsv),
            "json" => Ok(Self::Json),
            "xml" | "rss" | "atom" => Ok(Self::Xml),
            other => Err(format!(
                "unknown feed format {other:?} (csv, tsv, json or xml)"
            )),
        }
    }
}

/// A row that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct RejectedRow {
    /// The line in the file where the row starts (the header is line 1).
    pub line: u64,
    /// The retailer id, when the row had one.
    pub id: Option<String>,
    pub problems: Vec<FieldProblem>,
}

/// What a feed held: the products that passed validation (with the line each started on)
/// and the rows that did not.
#[derive(Debug)]
pub struct Feed {
    /// The format it was read as (told, or recognised).
    pub format: FeedFormat,
    pub products: Vec<(u64, Product)>,
    pub rejected: Vec<RejectedRow>,
}

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("cannot read the feed: {0}")]
    Io(#[from] std::io::Error),
    #[error("the feed is not {format}: {message}")]
    Shape {
        format: &'static str,
        message: String,
    },
}

/// Reads a whole feed in `format`, or the format its content shows. A row with problems is
/// kept out and reported; a file that is not a feed at all (no `id` column, not JSON, broken
/// XML) is an error.
pub fn read(mut input: impl Read, format: Option<FeedFormat>) -> Result<Feed, FeedError> {
    let mut text = String::new();
    input.read_to_string(&mut text)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text); // Excel's BOM
    let format = format.unwrap_or_else(|| FeedFormat::detect(text));
    let rows = match format {
        FeedFormat::Csv => after_comments(text, |t| delimited(t, b',', "CSV"))?,
        FeedFormat::Tsv => after_comments(text, |t| delimited(t, b'\t', "TSV"))?,
        FeedFormat::Json => json(text)?,
        FeedFormat::Xml => super::xml::rows(text)?,
    };
    let mut feed = Feed {
        format,
        products: Vec::new(),
        rejected: Vec::new(),
    };
    let mut seen = std::collections::HashMap::new();
    for (line, row) in rows {
        let product = match row {
            Ok(p) => p,
            Err(problem) => {
                feed.rejected.push(RejectedRow {
                    line,
                    id: None,
                    problems: vec![problem],
                });
                continue;
            }
        };
        let mut problems = product.problems();
        if let Some(first) = seen.get(product.id()) {
            problems.push(FieldProblem {
                field: "id".to_owned(),
                message: format!("{:?} already appears on line {first}", product.id()),
            });
        }
        if problems.is_empty() {
            seen.insert(product.id().to_owned(), line);
            feed.products.push((line, product));
        } else {
            let id = Some(product.id().to_owned()).filter(|i| !i.is_empty());
            feed.rejected.push(RejectedRow { line, id, problems });
        }
    }
    Ok(feed)
}

/// Reads a delimited feed after its leading `# ref_application_id …` comment lines (Meta's
/// feed files may carry them), its rows still numbered by their line in the whole file.
fn after_comments(
    text: &str,
    read: impl FnOnce(&str) -> Result<Vec<Row>, FeedError>,
) -> Result<Vec<Row>, FeedError> {
    let mut rest = text;
    let mut skipped = 0u64;
    while rest.starts_with('#') {
        rest = rest.split_once('\n').map_or("", |(_, after)| after);
        skipped += 1;
    }
    Ok(read(rest)?
        .into_iter()
        .map(|(line, row)| (line + skipped, row))
        .collect())
}

/// A row of any format: the line it starts on, and the product or why it is not one.
pub(super) type Row = (u64, Result<Product, FieldProblem>);

fn delimited(text: &str, delimiter: u8, name: &'static str) -> Result<Vec<Row>, FeedError> {
    let shape = |message: String| FeedError::Shape {
        format: name,
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        // TSV feeds (Google's format) do not quote; a stray quote must stay text.
        .quoting(delimiter != b'\t')
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| shape(e.to_string()))?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    if !header.iter().any(|h| h == "id") {
        return Err(shape(format!(
            "its header (line 1) has no \"id\" column; found: {}",
            header.join(", ")
        )));
    }
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    // Lines are counted from byte offsets: the reader's own count leaves out blank lines.
    let mut counted = (0usize, 1u64);
    let mut line_at = |byte: u64| {
        let mut byte = usize::try_from(byte).unwrap_or(usize::MAX).min(text.len());
        // A record's position is where the reader started, before the blank lines it skipped.
        while matches!(text.as_bytes().get(byte), Some(b'\r' | b'\n')) {
            byte += 1;
        }
        let (from, line) = counted;
        let newlines = text.as_bytes()[from.min(byte)..byte]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        counted = (byte, line + newlines as u64);
        counted.1
    };
    loop {
        let line = line_at(reader.position().byte());
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) if record.iter().all(|c| c.trim().is_empty()) => continue,
            Ok(true) => {
                let line = record.position().map_or(line, |p| line_at(p.byte()));
                let row = if record.len() != header.len() {
                    Err(FieldProblem {
                        field: "row".to_owned(),
                        message: format!(
                            "has {} cells but the header has {} columns",
                            record.len(),
                            header.len()
                        ),
                    })
                } else {
                    Ok(Product::from_pairs(header.iter().zip(record.iter())))
                };
                rows.push((line, row));
            }
            Err(e) => {
                let line = e.position().map_or(line, |p| line_at(p.byte()));
                let problem = FieldProblem {
                    field: "row".to_owned(),
                    message: e.to_string(),
                };
                rows.push((line, Err(problem)));
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
            }
        }
    }
    Ok(rows)
}

fn json(text: &str) -> Result<Vec<Row>, FeedError> {
    let shape = |message: String| FeedError::Shape {
        format: "JSON",
        message,
    };
    use serde_json::value::RawValue;
    #[derive(serde::Deserialize)]
    struct Wrapped<'a> {
        #[serde(borrow)]
        data: Vec<&'a RawValue>,
    }
    let parsed = if text.trim_start().starts_with('{') {
        serde_json::from_str::<Wrapped>(text).map(|w| w.data)
    } else {
        serde_json::from_str::<Vec<&RawValue>>(text)
    };
    let items = parsed.map_err(|e| {
        shape(format!(
            "expected an array of products or {{\"data\": [...]}} ({e})"
        ))
    })?;
    // Each raw item is a slice of `text`: its offset gives the line it starts on.
    let line_of = |raw: &RawValue| {
        let offset = (raw.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
        1 + text.as_bytes()[..offset.min(text.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64
    };
    Ok(items
        .into_iter()
        .map(|raw| {
            let line = line_of(raw);
            let row =
                match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(raw.get())
                {
                    Ok(map) => Ok(Product::from_pairs(map.into_iter().filter_map(
                        |(k, v)| match v {
                            serde_json::Value::String(s) => Some((k, s)),
                            serde_json::Value::Number(n) => Some((k, n.to_string())),
                            serde_json::Value::Bool(b) => Some((k, b.to_string())),
                            _ => None,
                        },
                    ))),
                    Err(e) => Err(FieldProblem {
                        field: "row".to_owned(),
                        message: format!("is not an object of feed fields ({e})"),
                    }),
                };
            (line, row)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used, reason = "a failed step must fail the test")]
    use super::*;

    const HEADER: &str = "id,title,description,availability,condition,price,link,image_link,brand";

    #[test]
    fn bad_csv_rows_are_reported_by_line_and_good_ones_kept() {
        let csv = format!(
            "{HEADER}\n\
             SKU-1,Mug,\"A mug,\nwith a handle\",in stock,new,12.34 USD,https://s.example/1,https://s.example/1.jpg,Acme\n\
             SKU-2,Cup,A cup,instock,new,5 USD,https://s.example/2,https://s.example/2.jpg,Acme\n\
             \n\
             SKU-3,Plate,A plate,in stock,new,7.5 EUR,https://s.example/3,https://s.example/3.jpg,Acme\n\
             SKU-1,Again,dup,in stock,new,1 USD,https://s.example/4,https://s.example/4.jpg,Acme\n\
             SKU-5,short row\n"
        );
        let feed = read(csv.as_bytes(), Some(FeedFormat::Csv)).expect("a feed");
        let kept: Vec<(u64, &str)> = feed.products.iter().map(|(l, p)| (*l, p.id())).collect();
        assert_eq!(
            kept,
            [(2, "SKU-1"), (6, "SKU-3")],
            "the quoted newline is part of line 2's row"
        );
        let bad: Vec<(u64, String)> = feed
            .rejected
            .iter()
            .map(|r| (r.line, r.problems[0].field.clone()))
            .collect();
        assert_eq!(
            bad,
            [
                (4, "availability".into()),
                (7, "id".into()),
                (8, "row".into())
            ]
        );
        assert!(feed.rejected[1].problems[0].message.contains("line 2"));
    }

    #[test]
    fn tsv_and_json_feeds_read_the_same_fields() {
        let tsv = format!(
            "{}\nSKU-1\tMug \"XL\"\tA mug\tin stock\tnew\t12.34 USD\thttps://s.example/1\thttps://s.example/1.jpg\tAcme\n",
            HEADER.replace(',', "\t")
        );
        let feed = read(tsv.as_bytes(), Some(FeedFormat::Tsv)).expect("a feed");
        assert_eq!(feed.products[0].1.get("title"), Some("Mug \"XL\""));
        let json = r#"{"data": [
  {"id": "SKU-1", "title": "Mug", "description": "A mug", "availability": "in stock",
   "condition": "new", "price": "12.34 USD", "link": "https://s.example/1",
   "image_link": "https://s.example/1.jpg", "brand": "Acme", "inventory": 3},
  {"id": "SKU-2", "title": "Cup"},
  "not an object"
]}"#;
        let feed = read(json.as_bytes(), Some(FeedFormat::Json)).expect("a feed");
        assert_eq!(feed.products.len(), 1);
        assert_eq!(feed.products[0].1.get("inventory"), Some("3"));
        let lines: Vec<u64> = feed.rejected.iter().map(|r| r.line).collect();
        assert_eq!(
            lines,
            [5, 6],
            "JSON rows are reported by the line they start on"
        );
    }

    #[test]
    fn the_format_is_recognised_from_the_content() {
        let csv = format!(
            "# ref_application_id 123\n{HEADER}\nSKU-1,Mug,A mug,in stock,new,1 USD,https://s.example/1,https://s.example/1.jpg,Acme\n"
        );
        let cases = [
            (csv.as_str(), FeedFormat::Csv),
            ("id\ttitle\tprice, with comma\n", FeedFormat::Tsv),
            ("  [{\"id\": \"1\"}]", FeedFormat::Json),
            ("{\"data\": []}", FeedFormat::Json),
            ("\u{feff}<?xml version=\"1.0\"?><rss/>", FeedFormat::Xml),
            (
                "\n\n<feed xmlns=\"http://www.w3.org/2005/Atom\"/>",
                FeedFormat::Xml,
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(FeedFormat::detect(text), expected, "{text:?}");
        }
        let feed = read(csv.as_bytes(), None).expect("a feed");
        assert_eq!(feed.format, FeedFormat::Csv);
        assert_eq!(
            feed.products[0].0, 3,
            "lines counted in the whole file, the comment included"
        );
    }

    #[test]
    fn a_file_that_is_not_a_feed_is_an_error() {
        assert!(read("name,price\nMug,1 USD\n".as_bytes(), Some(FeedFormat::Csv)).is_err());
        assert!(read("<html>".as_bytes(), Some(FeedFormat::Json)).is_err());
    }
}
