//! Status tiles: one per service, the shape every view and `--json` output shares.

pub mod detail;

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use ts_rs::TS;

use crate::graph::ErrorClass;

pub use detail::Detail;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Up,
    Degraded,
    Down,
    /// The probe could not measure (not configured, throttled, keychain locked, our network).
    /// Never painted as DOWN.
    Unknown,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Up => "UP",
            Self::Degraded => "DEGRADED",
            Self::Down => "DOWN",
            Self::Unknown => "UNKNOWN",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Up, Self::Degraded, Self::Down, Self::Unknown]
            .into_iter()
            .find(|s| s.as_str() == text)
    }

    /// Rank among measured states; UNKNOWN ranks below UP so it never hides a measurement.
    fn rank(self) -> u8 {
        match self {
            Self::Unknown => 0,
            Self::Up => 1,
            Self::Degraded => 2,
            Self::Down => 3,
        }
    }

    /// Where an operator looks first (0): DOWN, DEGRADED, UNKNOWN, UP.
    pub fn attention(self) -> u8 {
        match self {
            Self::Down => 0,
            Self::Degraded => 1,
            Self::Unknown => 2,
            Self::Up => 3,
        }
    }

    /// The worse of two statuses.
    pub fn worst(self, other: Self) -> Self {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The services Meta Monitor watches, with the exact names the CLI, store and UI use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    Token,
    GraphApi,
    RateLimits,
    Ads,
    Pixel,
    /// Server events through the Conversions API, against the browser's.
    ConversionsApi,
    Webhooks,
    Catalog,
}

impl Service {
    pub const ALL: [Service; 8] = [
        Self::Token,
        Self::GraphApi,
        Self::RateLimits,
        Self::Ads,
        Self::Pixel,
        Self::ConversionsApi,
        Self::Webhooks,
        Self::Catalog,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Token => "token",
            Self::GraphApi => "graph_api",
            Self::RateLimits => "rate_limits",
            Self::Ads => "ads",
            Self::Pixel => "pixel",
            Self::ConversionsApi => "conversions_api",
            Self::Webhooks => "webhooks",
            Self::Catalog => "catalog",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `{service, status, latency_ms, last_check, last_success, message, detail, error}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Tile {
    pub service: Service,
    pub status: Status,
    #[ts(type = "number | null")]
    pub latency_ms: Option<u64>,
    /// RFC 3339.
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub last_check: OffsetDateTime,
    /// The last check that measured the service as UP or DEGRADED (RFC 3339).
    #[serde(with = "time::serde::rfc3339::option")]
    #[ts(type = "string | null")]
    pub last_success: Option<OffsetDateTime>,
    pub message: String,
    /// What the probe measured, typed per service.
    #[serde(default)]
    pub detail: Detail,
    /// The error that decided the tile, as data (`null` when nothing failed).
    #[serde(default)]
    pub error: Option<TileError>,
}

/// Meta's (or the network's) error behind a tile, kept as a value from the response to the
/// window: the views and "Test connection" read it, nobody parses it back out of text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct TileError {
    pub class: ErrorClass,
    /// Meta's `code`, `error_subcode` and `fbtrace_id` when Meta answered.
    pub code: Option<i64>,
    pub subcode: Option<i64>,
    pub fbtrace_id: Option<String>,
    pub is_transient: bool,
    /// What to do about it, in one sentence (`graph::advice`).
    pub advice: String,
}

impl Tile {
    pub fn new(
        service: Service,
        status: Status,
        now: OffsetDateTime,
        message: impl Into<String>,
    ) -> Self {
        let measured = matches!(status, Status::Up | Status::Degraded);
        Self {
            service,
            status,
            latency_ms: None,
            last_check: now,
            last_success: measured.then_some(now),
            message: message.into(),
            detail: Detail::None,
            error: None,
        }
    }

    pub fn with_detail(mut self, detail: Detail) -> Self {
        self.detail = detail;
        self
    }
}

/// An account's overall status: its worst measured tile; UNKNOWN only when nothing was measured.
pub fn overall<'a>(tiles: impl IntoIterator<Item = &'a Tile>) -> Status {
    tiles
        .into_iter()
        .map(|t| t.status)
        .fold(Status::Unknown, Status::worst)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tile(status: Status) -> Tile {
        Tile::new(Service::Ads, status, OffsetDateTime::UNIX_EPOCH, "")
    }

    #[test]
    fn overall_is_the_worst_measured_tile() {
        let cases = [
            (vec![], Status::Unknown),
            (vec![Status::Unknown, Status::Unknown], Status::Unknown),
            (vec![Status::Unknown, Status::Up], Status::Up),
            (
                vec![Status::Up, Status::Degraded, Status::Unknown],
                Status::Degraded,
            ),
            (
                vec![Status::Down, Status::Degraded, Status::Up],
                Status::Down,
            ),
        ];
        for (statuses, expected) in cases {
            let tiles: Vec<Tile> = statuses.iter().copied().map(tile).collect();
            assert_eq!(overall(&tiles), expected, "overall of {statuses:?}");
        }
    }

    #[test]
    fn names_round_trip_and_serialize_as_specified() {
        for s in Service::ALL {
            assert_eq!(Service::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).expect("serializes"), s.as_str());
        }
        assert_eq!(
            serde_json::to_value(Status::Degraded).expect("serializes"),
            "DEGRADED"
        );
        assert!(
            tile(Status::Down).last_success.is_none(),
            "a DOWN check is not a success"
        );
        assert!(
            tile(Status::Degraded).last_success.is_some(),
            "DEGRADED still measured"
        );
    }
}
