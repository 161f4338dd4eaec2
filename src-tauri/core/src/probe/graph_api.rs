//! `graph_api`: `GET /me` latency and errors. DOWN when unreachable or the token is rejected,
//! DEGRADED when slower than the threshold or answering with errors.

use crate::graph::{ErrorClass, health};
use crate::tile::detail::{Detail, GraphApiDetail};
use crate::tile::{Service, Status, Tile};

use super::{ProbeContext, ProbeReport, millis, throttled_message};

pub async fn probe(ctx: &ProbeContext<'_>) -> ProbeReport {
    let started = std::time::Instant::now();
    match health::me(ctx.client).await {
        Ok((me, response)) => {
            let latency = millis(response.latency);
            let slow = response.latency > ctx.thresholds.slow;
            let (status, message) = if slow {
                (
                    Status::Degraded,
                    format!(
                        "slow: {latency} ms (threshold {} ms)",
                        millis(ctx.thresholds.slow)
                    ),
                )
            } else {
                (
                    Status::Up,
                    format!("Graph API {} responding", ctx.account.api_version),
                )
            };
            let mut tile = Tile::new(Service::GraphApi, status, ctx.now, message).with_detail(
                Detail::GraphApi(GraphApiDetail {
                    me_id: me.id,
                    api_version: ctx.account.api_version.clone(),
                }),
            );
            tile.latency_ms = Some(latency);
            ProbeReport::ok(tile, vec![("meta.api.latency_ms".into(), latency as f64)])
        }
        Err(err) => {
            let latency = millis(started.elapsed());
            let (status, message) = match err.class() {
                ErrorClass::TokenInvalid => (Status::Down, format!("token rejected: {err}")),
                ErrorClass::Transport => (Status::Down, format!("unreachable: {err}")),
                ErrorClass::Throttled => (Status::Unknown, throttled_message(&err)),
                ErrorClass::Transient | ErrorClass::Undecodable => {
                    (Status::Down, format!("Graph API failing: {err}"))
                }
                ErrorClass::Permission | ErrorClass::InvalidRequest => (
                    Status::Degraded,
                    format!("Graph API answered with an error: {err}"),
                ),
            };
            let mut tile = Tile::new(Service::GraphApi, status, ctx.now, message);
            tile.latency_ms = Some(latency);
            ProbeReport::from_error(tile, err)
        }
    }
}
