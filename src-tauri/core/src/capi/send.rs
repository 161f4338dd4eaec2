//! Sending built events to `POST /{pixel-id}/events`: ≤ 1000 per request (Meta's limit), the
//! test event code unless the operator chose live, and Meta's answer kept as it came.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::event::BuiltEvent;
use crate::graph::{GraphClient, GraphError};
use crate::store::sent_events::SentEvent;

/// Meta's limit per request.
pub const MAX_PER_REQUEST: usize = 1000;
/// Sent as `partner_agent`, so Events Manager shows where events came from.
pub const PARTNER_AGENT: &str = "meta-monitor";

/// Meta's answer to one accepted request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Received {
    /// The Python SDK reads a missing count as 0; so do we.
    #[serde(default)]
    pub events_received: u64,
    #[serde(default)]
    pub messages: Vec<String>,
    #[serde(default)]
    pub fbtrace_id: Option<String>,
}

/// The form Meta's SDKs send: `data` as a JSON string.
pub fn form(events: &[Value], test_event_code: Option<&str>) -> Vec<(String, String)> {
    let mut form = vec![
        ("data".to_owned(), Value::from(events.to_vec()).to_string()),
        ("partner_agent".to_owned(), PARTNER_AGENT.to_owned()),
    ];
    if let Some(code) = test_event_code.filter(|c| !c.trim().is_empty()) {
        form.push(("test_event_code".to_owned(), code.trim().to_owned()));
    }
    form
}

/// Sends one request of at most [`MAX_PER_REQUEST`] events.
pub async fn send(
    client: &GraphClient,
    pixel_id: &str,
    events: &[Value],
    test_event_code: Option<&str>,
) -> Result<Received, GraphError> {
    debug_assert!(events.len() <= MAX_PER_REQUEST);
    let response = client
        .post_form(&format!("{pixel_id}/events"), form(events, test_event_code))
        .await?;
    response.json()
}

/// The event-log rows of one request: each event's name, id and keys (never values) with
/// Meta's answer, or its refusal in words.
pub fn log_rows(
    built: &[BuiltEvent],
    test_event_code: Option<&str>,
    outcome: &Result<Received, String>,
    at: time::OffsetDateTime,
) -> Vec<SentEvent> {
    built
        .iter()
        .map(|b| SentEvent {
            sent_at: at,
            event_name: b.event_name.clone(),
            event_id: b.event_id.clone(),
            event_time: b.event_time,
            test_event_code: test_event_code.map(str::to_owned),
            keys: b.keys.clone(),
            outcome: if outcome.is_ok() {
                "received"
            } else {
                "refused"
            }
            .to_owned(),
            fbtrace_id: outcome.as_ref().ok().and_then(|r| r.fbtrace_id.clone()),
            message: match outcome {
                Ok(r) if !r.messages.is_empty() => Some(r.messages.join("; ")),
                Ok(_) => None,
                Err(e) => Some(e.clone()),
            },
        })
        .collect()
}

/// An error from the events endpoint in words an operator can act on.
pub fn explain(error: &GraphError) -> String {
    let Some(meta) = error.meta() else {
        return error.to_string();
    };
    let detail = match (&meta.error_user_title, &meta.error_user_msg) {
        (Some(t), Some(m)) => format!("{t}: {m}"),
        (None, Some(m)) | (Some(m), None) => m.clone(),
        (None, None) => meta.message.clone(),
    };
    let code = match meta.error_subcode {
        Some(sub) => format!("{}/{sub}", meta.code),
        None => meta.code.to_string(),
    };
    let hint = match meta.error_subcode {
        Some(2_804_003) => {
            " Only events from the last 7 days can be sent; the whole request was refused."
        }
        Some(2_804_016) => {
            " A customer value reached Meta unhashed; nothing of the request was kept."
        }
        _ => "",
    };
    format!("Meta refused the events ({code}): {detail}{hint}")
}
