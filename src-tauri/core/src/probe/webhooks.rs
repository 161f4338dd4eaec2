//! `webhooks`: the app's subscriptions (app token). DOWN when a subscription is inactive.

use crate::graph::webhooks;
use crate::tile::{Service, Status, Tile};

use super::{ProbeContext, ProbeReport, failed, millis, not_configured};

pub async fn probe(ctx: &ProbeContext<'_>) -> ProbeReport {
    let Some(app_id) = ctx.account.app_id.as_deref() else {
        return not_configured(Service::Webhooks, ctx.now);
    };
    if ctx.client.app_token().is_none() {
        let tile = Tile::new(
            Service::Webhooks,
            Status::Unknown,
            ctx.now,
            "not configured: needs the app secret",
        );
        return ProbeReport::ok(tile, Vec::new());
    }
    let started = std::time::Instant::now();
    let subs = match webhooks::subscriptions(ctx.client, app_id).await {
        Ok(s) => s,
        Err(err) => return failed(Service::Webhooks, err, ctx.now),
    };
    let inactive: Vec<&str> = subs
        .iter()
        .filter(|s| !s.active)
        .map(|s| s.object.as_str())
        .collect();
    let (status, message) = if subs.is_empty() {
        (Status::Degraded, "no webhook subscriptions".to_owned())
    } else if !inactive.is_empty() {
        (
            Status::Down,
            format!("inactive subscription: {}", inactive.join(", ")),
        )
    } else {
        (Status::Up, format!("{} subscriptions active", subs.len()))
    };
    let table: Vec<serde_json::Value> = subs
        .iter()
        .map(|s| {
            serde_json::json!({
                "object": s.object,
                "callback_url": s.callback_url,
                "active": s.active,
                "fields": s.fields.iter().map(|f| f.name.clone()).collect::<Vec<_>>(),
            })
        })
        .collect();
    let active = subs.len() - inactive.len();
    let mut tile = Tile::new(Service::Webhooks, status, ctx.now, message)
        .with_metric("subscriptions", table)
        .with_metric("active", active)
        .with_metric("inactive", inactive.len());
    tile.latency_ms = Some(millis(started.elapsed()));
    let points = vec![
        (
            "meta.webhooks.subscriptions_active".to_owned(),
            active as f64,
        ),
        (
            "meta.webhooks.subscriptions_inactive".to_owned(),
            inactive.len() as f64,
        ),
    ];
    ProbeReport::ok(tile, points)
}
