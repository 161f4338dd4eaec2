//! The Pixel (dataset): when it last fired, whether it is available, and events by name.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{GraphClient, GraphError};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pixel {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    /// `"2026-06-20T14:03:11+0000"`; absent when the pixel never fired.
    #[serde(default)]
    pub last_fired_time: Option<String>,
    #[serde(default)]
    pub is_unavailable: Option<bool>,
}

impl Pixel {
    /// `last_fired_time` parsed; Meta writes the offset without a colon (`+0000`).
    pub fn last_fired(&self) -> Option<OffsetDateTime> {
        self.last_fired_time.as_deref().and_then(parse_graph_time)
    }
}

/// Parses Graph's `2026-06-20T14:03:11+0000` (and RFC 3339 for good measure).
pub fn parse_graph_time(text: &str) -> Option<OffsetDateTime> {
    const GRAPH: &[time::format_description::FormatItem<'static>] = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory][offset_minute]"
    );
    OffsetDateTime::parse(text, GRAPH)
        .or_else(|_| OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339))
        .ok()
}

pub async fn pixel(client: &GraphClient, pixel_id: &str) -> Result<Pixel, GraphError> {
    client
        .get(
            pixel_id,
            &[("fields", "id,name,last_fired_time,is_unavailable")],
        )
        .await?
        .json()
}

/// Events by name over `[start, end)`, summed over Meta's hourly buckets (all pages).
pub async fn events_by_name(
    client: &GraphClient,
    pixel_id: &str,
    start: OffsetDateTime,
    end: OffsetDateTime,
) -> Result<BTreeMap<String, u64>, GraphError> {
    stats(client, pixel_id, "event", start, end).await
}

/// `/stats` totals over `[start, end)` for one aggregation (`event`, …) by `value`, summed
/// over Meta's hourly buckets (all pages).
pub async fn stats(
    client: &GraphClient,
    pixel_id: &str,
    aggregation: &str,
    start: OffsetDateTime,
    end: OffsetDateTime,
) -> Result<BTreeMap<String, u64>, GraphError> {
    let mut totals = BTreeMap::new();
    for row in stat_rows(client, pixel_id, aggregation, start, end).await? {
        *totals.entry(row.value).or_insert(0u64) += row.count;
    }
    Ok(totals)
}

/// Server (Conversions API) and browser (Pixel) events per hour and event name over
/// `[start, end)`, from `stats?aggregation=event_source`.
pub async fn event_sources(
    client: &GraphClient,
    pixel_id: &str,
    start: OffsetDateTime,
    end: OffsetDateTime,
) -> Result<Vec<SourceCount>, GraphError> {
    let rows = stat_rows(client, pixel_id, "event_source", start, end).await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            Some(SourceCount {
                hour: row.hour?,
                source: EventSource::parse(&row.value),
                event: row.event,
                count: row.count,
            })
        })
        .collect())
}

async fn stat_rows(
    client: &GraphClient,
    pixel_id: &str,
    aggregation: &str,
    start: OffsetDateTime,
    end: OffsetDateTime,
) -> Result<Vec<StatRow>, GraphError> {
    let path = format!("{pixel_id}/stats");
    let (start, end) = (
        start.unix_timestamp().to_string(),
        end.unix_timestamp().to_string(),
    );
    // A day of hourly buckets in one page (Graph's cursor paging takes `limit`): fewer calls
    // against the app's rate budget.
    let query = [
        ("aggregation", aggregation),
        ("start_time", &start[..]),
        ("end_time", &end[..]),
        ("limit", "48"),
    ];
    let (buckets, _) = client
        .get_pages::<serde_json::Value>(&path, &query, client.access_token(), 50)
        .await?;
    Ok(decode_stat_buckets(&buckets))
}

/// One `AdsPixelStats` entry with its bucket's hour.
#[derive(Debug, Clone, PartialEq)]
pub struct StatRow {
    pub hour: Option<OffsetDateTime>,
    pub value: String,
    pub count: u64,
    /// The entry's optional `event` (the event name, when the aggregation is not by event).
    pub event: Option<String>,
}

/// Decodes `/stats` buckets (`{start_time, aggregation, data:[{value, count, event?}]}`)
/// leniently: a count written as a string is read, an entry without a value or a count is
/// skipped rather than failing the whole answer — Meta documents `AdsPixelStats` loosely.
pub fn decode_stat_buckets(buckets: &[serde_json::Value]) -> Vec<StatRow> {
    let mut rows = Vec::new();
    for bucket in buckets {
        let hour = bucket.get("start_time").and_then(|t| match t {
            serde_json::Value::String(s) => parse_graph_time(s),
            serde_json::Value::Number(n) => n
                .as_i64()
                .and_then(|n| OffsetDateTime::from_unix_timestamp(n).ok()),
            _ => None,
        });
        let Some(entries) = bucket.get("data").and_then(|d| d.as_array()) else {
            continue;
        };
        for entry in entries {
            let value = entry.get("value").and_then(|v| v.as_str());
            let count = entry.get("count").and_then(|c| match c {
                serde_json::Value::Number(n) => n.as_u64(),
                serde_json::Value::String(s) => s.trim().parse().ok(),
                _ => None,
            });
            let (Some(value), Some(count)) = (value, count) else {
                continue;
            };
            let event = entry
                .get("event")
                .and_then(|e| e.as_str())
                .filter(|e| !e.is_empty())
                .map(str::to_owned);
            rows.push(StatRow {
                hour,
                value: value.to_owned(),
                count,
                event,
            });
        }
    }
    rows
}

/// Where Meta received an event from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventSource {
    /// The Pixel in the browser.
    Browser,
    /// The shop's server, through the Conversions API.
    Server,
    /// Anything else Meta names (apps, offline uploads…).
    Other,
}

impl EventSource {
    /// Meta's `value` for the `event_source` aggregation is not pinned down in the reference:
    /// both cases and the usual synonyms are read.
    pub fn parse(value: &str) -> Self {
        match value.trim().to_ascii_lowercase().as_str() {
            "browser" | "web" | "pixel" | "website" => Self::Browser,
            "server" | "server_side" | "conversions_api" | "capi" => Self::Server,
            _ => Self::Other,
        }
    }
}

/// Events from one source in one hour, for one event name when Meta said which.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceCount {
    pub hour: OffsetDateTime,
    pub source: EventSource,
    pub event: Option<String>,
    pub count: u64,
}

/// Dataset quality of one event, from the Dataset Quality API. Every figure is `None` when
/// Meta's answer did not carry it — "not reported by Meta", never 0.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ts_rs::TS)]
pub struct EventQuality {
    pub event_name: String,
    /// Event match quality, 0–10.
    pub score: Option<f64>,
    /// Match key → share of events carrying it, in percent.
    pub coverage: BTreeMap<String, f64>,
    /// Share of browser events also received from the server, percent.
    pub event_coverage: Option<f64>,
    /// The coverage Meta recommends, percent.
    pub event_coverage_goal: Option<f64>,
    /// Additional conversions reported thanks to the server events, percent.
    pub additional_conversions: Option<f64>,
    /// `real_time`, `hourly`, `daily`…
    pub freshness: Option<String>,
    /// Deduplication feedback per key (`event_id`, `external_id`, `fbp`), when Meta gave it.
    pub dedup: Vec<DedupFeedback>,
}

/// How many browser and server events carried a deduplication key, percent.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ts_rs::TS)]
pub struct DedupFeedback {
    pub key: String,
    pub browser_pct: Option<f64>,
    pub server_pct: Option<f64>,
}

/// `GET /dataset_quality?dataset_id=…` — a top-level node keyed by the query parameter, its
/// answer not wrapped in `data` (see the reference, §7). The deduplication feedback field is
/// not requested: its spelling is disputed and an unknown field fails the whole call; it is
/// read when Meta sends it anyway.
pub async fn dataset_quality(
    client: &GraphClient,
    pixel_id: &str,
) -> Result<Vec<EventQuality>, GraphError> {
    let fields = "web{event_name,event_match_quality{composite_score,match_key_feedback{identifier,coverage{percentage}}},event_coverage{percentage,goal_percentage},acr{percentage},data_freshness{upload_frequency}}";
    let node: serde_json::Value = client
        .get(
            "dataset_quality",
            &[("dataset_id", pixel_id), ("fields", fields)],
        )
        .await?
        .json()?;
    Ok(decode_dataset_quality(&node))
}

/// Decodes the Dataset Quality answer leniently: an entry without an event name is skipped,
/// a missing, renamed or empty part is `None`; a number written as a string is read.
pub fn decode_dataset_quality(node: &serde_json::Value) -> Vec<EventQuality> {
    use serde_json::Value;
    fn number(v: Option<&Value>) -> Option<f64> {
        match v? {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().trim_end_matches('%').parse().ok(),
            _ => None,
        }
        .filter(|n: &f64| n.is_finite())
    }
    fn percentage(v: Option<&Value>) -> Option<f64> {
        match v? {
            Value::Object(o) => number(o.get("percentage")),
            other => number(Some(other)),
        }
    }
    // `web` may also come wrapped in `data` (as most nodes are); both are read.
    let entries = node
        .get("web")
        .or_else(|| node.get("data").and_then(|d| d.get("web")))
        .and_then(Value::as_array);
    let Some(entries) = entries else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|entry| {
            let event_name = entry.get("event_name")?.as_str()?.trim();
            if event_name.is_empty() {
                return None;
            }
            let emq = entry.get("event_match_quality");
            let coverage = emq
                .and_then(|q| q.get("match_key_feedback"))
                .and_then(Value::as_array)
                .map(|keys| {
                    keys.iter()
                        .filter_map(|k| {
                            let id = k.get("identifier")?.as_str()?;
                            Some((id.to_owned(), percentage(k.get("coverage"))?))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let event_coverage = entry.get("event_coverage");
            let dedup = entry
                .get("dedupe_key_feedback")
                .or_else(|| entry.get("dedup_key_feedback"))
                .and_then(Value::as_array)
                .map(|keys| {
                    keys.iter()
                        .filter_map(|k| {
                            Some(DedupFeedback {
                                key: k
                                    .get("dedupe_key")
                                    .or_else(|| k.get("dedup_key"))?
                                    .as_str()?
                                    .to_owned(),
                                browser_pct: percentage(k.get("browser_events_with_dedupe_key")),
                                server_pct: percentage(k.get("server_events_with_dedupe_key")),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            Some(EventQuality {
                event_name: event_name.to_owned(),
                score: number(emq.and_then(|q| q.get("composite_score")))
                    .filter(|s| (0.0..=10.0).contains(s)),
                coverage,
                event_coverage: percentage(event_coverage),
                event_coverage_goal: number(event_coverage.and_then(|c| c.get("goal_percentage"))),
                additional_conversions: percentage(entry.get("acr")),
                freshness: entry
                    .get("data_freshness")
                    .and_then(|f| f.get("upload_frequency"))
                    .and_then(Value::as_str)
                    .filter(|f| !f.is_empty())
                    .map(str::to_owned),
                dedup,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_times_parse_with_and_without_colon() {
        let a = parse_graph_time("2026-06-20T14:03:11+0000").expect("graph form");
        let b = parse_graph_time("2026-06-20T14:03:11+00:00").expect("rfc 3339 form");
        assert_eq!(a, b);
        assert_eq!(
            parse_graph_time("yesterday"),
            None,
            "garbage is None, not a panic"
        );
    }

    fn json(text: &str) -> serde_json::Value {
        serde_json::from_str(text).expect("test JSON")
    }

    #[test]
    fn dataset_quality_reads_the_documented_answer() {
        // The reference's §7 example, with the fields the reference lists added.
        let node = json(
            r#"{"web":[{"event_name":"Purchase",
                "event_match_quality":{"composite_score":6.2,
                  "match_key_feedback":[{"identifier":"external_id","coverage":{"percentage":93}},
                                        {"identifier":"em","coverage":{"percentage":41.5}}]},
                "event_coverage":{"percentage":80,"goal_percentage":75},
                "acr":{"percentage":12},
                "data_freshness":{"upload_frequency":"real_time"}}]}"#,
        );
        let events = decode_dataset_quality(&node);
        assert_eq!(events.len(), 1);
        let purchase = &events[0];
        assert_eq!(purchase.event_name, "Purchase");
        assert_eq!(purchase.score, Some(6.2));
        assert_eq!(purchase.coverage.get("external_id"), Some(&93.0));
        assert_eq!(purchase.coverage.get("em"), Some(&41.5));
        assert_eq!(purchase.event_coverage, Some(80.0));
        assert_eq!(purchase.event_coverage_goal, Some(75.0));
        assert_eq!(purchase.additional_conversions, Some(12.0));
        assert_eq!(purchase.freshness.as_deref(), Some("real_time"));
        assert!(purchase.dedup.is_empty(), "not sent, so not reported");
    }

    #[test]
    fn dataset_quality_parts_meta_left_out_are_none_not_zero() {
        let cases = [
            // Only the name: nothing else is reported.
            r#"{"web":[{"event_name":"Lead"}]}"#,
            // Empty objects and lists.
            r#"{"web":[{"event_name":"Lead","event_match_quality":{},"event_coverage":{},"acr":{},"data_freshness":{}}]}"#,
            // Nulls, and a field under another name.
            r#"{"web":[{"event_name":"Lead","event_match_quality":{"composite_score":null,"match_key_feedback":null},"event_coverage":{"pct":80},"data_freshness":{"upload_frequency":""}}]}"#,
        ];
        for text in cases {
            let events = decode_dataset_quality(&json(text));
            assert_eq!(events.len(), 1, "{text}");
            let lead = &events[0];
            assert_eq!(lead.score, None, "{text}");
            assert!(lead.coverage.is_empty(), "{text}");
            assert_eq!(lead.event_coverage, None, "{text}");
            assert_eq!(lead.event_coverage_goal, None, "{text}");
            assert_eq!(lead.additional_conversions, None, "{text}");
            assert_eq!(lead.freshness, None, "{text}");
        }
    }

    #[test]
    fn dataset_quality_reads_strings_wrapped_answers_and_both_dedup_spellings() {
        let node = json(
            r#"{"data":{"web":[
                {"event_name":"Purchase","event_match_quality":{"composite_score":"7.5"},
                 "event_coverage":{"percentage":"64%"},
                 "dedupe_key_feedback":[{"dedupe_key":"event_id",
                    "browser_events_with_dedupe_key":{"percentage":98},
                    "server_events_with_dedupe_key":{"percentage":12}}]},
                {"event_name":"AddToCart",
                 "dedup_key_feedback":[{"dedup_key":"fbp","server_events_with_dedupe_key":{"percentage":55}}]},
                {"event_match_quality":{"composite_score":9}},
                {"event_name":"  ","event_match_quality":{"composite_score":9}},
                {"event_name":"Search","event_match_quality":{"composite_score":42}}
            ]}}"#,
        );
        let events = decode_dataset_quality(&node);
        let names: Vec<&str> = events.iter().map(|e| e.event_name.as_str()).collect();
        assert_eq!(
            names,
            ["Purchase", "AddToCart", "Search"],
            "entries without a name are skipped"
        );
        assert_eq!(events[0].score, Some(7.5));
        assert_eq!(events[0].event_coverage, Some(64.0));
        assert_eq!(
            events[0].dedup,
            [DedupFeedback {
                key: "event_id".into(),
                browser_pct: Some(98.0),
                server_pct: Some(12.0)
            }]
        );
        assert_eq!(events[1].dedup[0].key, "fbp");
        assert_eq!(events[1].dedup[0].browser_pct, None);
        assert_eq!(events[2].score, None, "a score outside 0–10 is not a score");
        assert!(decode_dataset_quality(&json(r#"{"error":"x"}"#)).is_empty());
        assert!(decode_dataset_quality(&json(r#"{"web":{}}"#)).is_empty());
    }

    #[test]
    fn stats_buckets_read_the_documented_shape_and_both_source_spellings() {
        // The reference's §7 example: entries without `event`.
        let buckets = json(
            r#"[{"start_time":"2026-06-20T13:00:00+0000","aggregation":"event",
                 "data":[{"value":"PageView","count":412},{"value":"Purchase","count":3}]},
                {"start_time":"2026-06-20T14:00:00+0000","aggregation":"event","data":[{"value":"PageView","count":388}]}]"#,
        );
        let rows = decode_stat_buckets(buckets.as_array().expect("array"));
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[0].hour,
            parse_graph_time("2026-06-20T13:00:00+0000"),
            "each row keeps its bucket's hour"
        );
        assert_eq!((rows[1].value.as_str(), rows[1].count), ("Purchase", 3));
        assert_eq!(rows[0].event, None);

        // `event_source`: with or without the event name, any case, counts as strings,
        // broken entries skipped.
        let buckets = json(
            r#"[{"start_time":1781960400,"data":[
                  {"value":"SERVER","count":"7","event":"Purchase"},
                  {"value":"browser","count":20,"event":"Purchase"},
                  {"value":"server","count":-1},
                  {"value":"app","count":4},
                  {"count":9},
                  {"value":"server"}]},
                {"data":"nothing"},
                "not a bucket"]"#,
        );
        let rows = decode_stat_buckets(buckets.as_array().expect("array"));
        let sources: Vec<(EventSource, Option<&str>, u64)> = rows
            .iter()
            .map(|r| (EventSource::parse(&r.value), r.event.as_deref(), r.count))
            .collect();
        assert_eq!(
            sources,
            [
                (EventSource::Server, Some("Purchase"), 7),
                (EventSource::Browser, Some("Purchase"), 20),
                (EventSource::Other, None, 4),
            ]
        );
        assert!(
            rows.iter().all(|r| r.hour.is_some()),
            "unix start_time is read"
        );
    }

    fn arbitrary_json() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            prop::sample::select(vec![
                "web",
                "event_name",
                "Purchase",
                "percentage",
                "7.5",
                "SERVER",
                "count",
                "value",
                "data",
                "start_time",
                "2026-06-20T13:00:00+0000",
                ""
            ])
            .prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            let keys = prop::sample::select(vec![
                "web",
                "data",
                "event_name",
                "event_match_quality",
                "composite_score",
                "match_key_feedback",
                "identifier",
                "coverage",
                "percentage",
                "event_coverage",
                "goal_percentage",
                "acr",
                "data_freshness",
                "upload_frequency",
                "dedupe_key_feedback",
                "dedupe_key",
                "value",
                "count",
                "event",
                "start_time",
            ]);
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(serde_json::Value::from),
                prop::collection::btree_map(keys, inner, 0..6).prop_map(|m| {
                    serde_json::Value::Object(
                        m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
                    )
                }),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn decoders_never_panic_on_any_shape(node in arbitrary_json()) {
            let quality = decode_dataset_quality(&node);
            for q in &quality {
                proptest::prop_assert!(q.score.is_none_or(|s| (0.0..=10.0).contains(&s)));
                proptest::prop_assert!(!q.event_name.trim().is_empty());
            }
            let buckets = node.as_array().cloned().unwrap_or_else(|| vec![node.clone()]);
            let _ = decode_stat_buckets(&buckets);
        }
    }
}
