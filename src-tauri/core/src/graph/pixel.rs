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

#[derive(Debug, Clone, Deserialize)]
struct StatsBucket {
    #[serde(default)]
    data: Vec<StatsEntry>,
}

#[derive(Debug, Clone, Deserialize)]
struct StatsEntry {
    value: String,
    count: u64,
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

/// `/stats` totals over `[start, end)` for one aggregation (`event`, `event_source` —
/// browser versus server — …), summed over Meta's hourly buckets (all pages).
pub async fn stats(
    client: &GraphClient,
    pixel_id: &str,
    aggregation: &str,
    start: OffsetDateTime,
    end: OffsetDateTime,
) -> Result<BTreeMap<String, u64>, GraphError> {
    let path = format!("{pixel_id}/stats");
    let (start, end) = (
        start.unix_timestamp().to_string(),
        end.unix_timestamp().to_string(),
    );
    let query = [
        ("aggregation", aggregation),
        ("start_time", &start[..]),
        ("end_time", &end[..]),
    ];
    let (buckets, _) = client
        .get_pages::<StatsBucket>(&path, &query, client.access_token(), 50)
        .await?;
    let mut totals = BTreeMap::new();
    for entry in buckets.into_iter().flat_map(|b| b.data) {
        *totals.entry(entry.value).or_insert(0u64) += entry.count;
    }
    Ok(totals)
}

/// Event Match Quality of one event, from the Dataset Quality API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventQuality {
    pub event_name: String,
    /// 0–10.
    pub score: Option<f64>,
    /// Match key → share of events carrying it, in percent.
    pub coverage: BTreeMap<String, f64>,
}

#[derive(Debug, Deserialize)]
struct QualityNode {
    #[serde(default)]
    web: Vec<QualityEntry>,
}

#[derive(Debug, Deserialize)]
struct QualityEntry {
    event_name: String,
    #[serde(default)]
    event_match_quality: Option<MatchQuality>,
}

#[derive(Debug, Deserialize)]
struct MatchQuality {
    #[serde(default)]
    composite_score: Option<f64>,
    #[serde(default)]
    match_key_feedback: Vec<KeyFeedback>,
}

#[derive(Debug, Deserialize)]
struct KeyFeedback {
    identifier: String,
    #[serde(default)]
    coverage: Option<Percentage>,
}

#[derive(Debug, Deserialize)]
struct Percentage {
    #[serde(default)]
    percentage: Option<f64>,
}

/// `GET /dataset_quality?dataset_id=…` — a top-level node keyed by the query parameter, its
/// answer not wrapped in `data` (see the reference, §7).
pub async fn dataset_quality(
    client: &GraphClient,
    pixel_id: &str,
) -> Result<Vec<EventQuality>, GraphError> {
    let fields = "web{event_name,event_match_quality{composite_score,match_key_feedback{identifier,coverage{percentage}}}}";
    let node: QualityNode = client
        .get(
            "dataset_quality",
            &[("dataset_id", pixel_id), ("fields", fields)],
        )
        .await?
        .json()?;
    Ok(node
        .web
        .into_iter()
        .map(|e| {
            let quality = e.event_match_quality;
            EventQuality {
                event_name: e.event_name,
                score: quality.as_ref().and_then(|q| q.composite_score),
                coverage: quality
                    .map(|q| {
                        q.match_key_feedback
                            .into_iter()
                            .filter_map(|k| Some((k.identifier, k.coverage?.percentage?)))
                            .collect()
                    })
                    .unwrap_or_default(),
            }
        })
        .collect())
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
}
