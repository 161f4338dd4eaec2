//! What the monitor tells whoever shows its results, as it happens. The core knows nothing of
//! windows: the desktop shell adapts [`EventSink`] to Tauri events (`monitor://…`), tests
//! collect events in memory.

use serde::Serialize;
use ts_rs::TS;

use crate::check::AccountTiles;
use crate::graph::CallRecord;
use crate::tile::{Service, Status};

/// One thing that happened in the monitor.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MonitorEvent {
    /// An account's stored tiles after a step of the scheduler or a manual check.
    TilesChanged(AccountTiles),
    /// A notification was decided (and sent through the account's channels).
    AlertSent { account: String, title: String },
    /// What is watched changed (accounts added, edited or removed): reload everything.
    Reloaded,
    /// The monitor cannot do its work (its database refuses writes) and retries; `None` when
    /// the problem is over.
    Problem { message: Option<String> },
}

impl MonitorEvent {
    /// The event's channel name, namespaced (`monitor://tiles-changed`).
    pub fn channel(&self) -> &'static str {
        match self {
            Self::TilesChanged(_) => "monitor://tiles-changed",
            Self::AlertSent { .. } => "monitor://alert-sent",
            Self::Reloaded => "monitor://reloaded",
            Self::Problem { .. } => "monitor://problem",
        }
    }
}

pub trait EventSink: Send + Sync {
    fn emit(&self, event: MonitorEvent);

    /// Counts what the monitor did, for an exporter (the CLI's `/metrics`): called for every
    /// Graph request, probe run and notification, so it must be cheap. Nobody is told by
    /// default: the window shows tiles, not counters.
    fn observe(&self, _observation: Observation<'_>) {}
}

/// One thing the monitor did, as counted by [`EventSink::observe`].
#[derive(Debug, Clone, Copy)]
pub enum Observation<'a> {
    /// A Graph request made by a probe, with its outcome and latency.
    GraphRequest(&'a CallRecord),
    /// A probe ran for a service and measured this status.
    ProbeRun { service: Service, status: Status },
    /// A notification went through a channel (`desktop`, `team_webhook`), or failed to.
    Notification {
        channel: &'static str,
        delivered: bool,
    },
}

/// Drops every event (the command line has no one to tell).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoEvents;

impl EventSink for NoEvents {
    fn emit(&self, _: MonitorEvent) {}
}

/// Keeps every event, for tests.
#[derive(Debug, Default)]
pub struct CollectedEvents(pub std::sync::Mutex<Vec<MonitorEvent>>);

impl EventSink for CollectedEvents {
    fn emit(&self, event: MonitorEvent) {
        if let Ok(mut events) = self.0.lock() {
            events.push(event);
        }
    }
}
