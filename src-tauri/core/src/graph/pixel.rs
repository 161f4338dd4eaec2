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
    let path = format!("{pixel_id}/stats");
    let (start, end) = (
        start.unix_timestamp().to_string(),
        end.unix_timestamp().to_string(),
    );
    let query = [
        ("aggregation", "event"),
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
