//! The admin API tests use over HTTP: read and clear the request log, read and switch the
//! scenario, read the Conversions API events received. Not part of Graph; lives under `/__admin`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::scenario::Scenario;
use crate::state::SimState;

pub fn routes() -> Router<Arc<SimState>> {
    Router::new()
        .route("/requests", get(requests).delete(clear))
        .route("/scenario", get(scenario))
        .route("/scenario/{name}", put(set_scenario))
        .route("/events", get(events))
}

/// The Conversions API events received (keys present, never values), oldest first.
async fn events(State(state): State<Arc<SimState>>) -> Json<Value> {
    let list: Vec<Value> = state
        .events
        .lock()
        .map(|log| {
            log.received
                .iter()
                .map(|r| {
                    json!({
                        "received_at": r.received_at,
                        "event_time": r.event_time,
                        "event_name": r.event_name,
                        "event_id": r.event_id,
                        "test_event_code": r.test_event_code,
                        "keys": r.keys,
                        "duplicate": r.duplicate,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Json(Value::Array(list))
}

async fn requests(State(state): State<Arc<SimState>>) -> Json<Value> {
    Json(json!(state.requests()))
}

async fn clear(State(state): State<Arc<SimState>>) -> StatusCode {
    state.clear_requests();
    StatusCode::NO_CONTENT
}

async fn scenario(State(state): State<Arc<SimState>>) -> Json<Value> {
    Json(json!({"scenario": state.scenario().name()}))
}

async fn set_scenario(
    State(state): State<Arc<SimState>>,
    Path(name): Path<String>,
) -> (StatusCode, Json<Value>) {
    match name.parse::<Scenario>() {
        Ok(s) => {
            state.set_scenario(s);
            (StatusCode::OK, Json(json!({"scenario": s.name()})))
        }
        Err(e) => (StatusCode::BAD_REQUEST, Json(json!({"error": e}))),
    }
}
