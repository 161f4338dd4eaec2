//! `webhooks`: the app's subscriptions (app token). DOWN when a subscription is inactive;
//! DEGRADED when an operator-configured callback endpoint fails Meta's handshake or a signed
//! sample delivery.

use crate::graph::webhooks;
use crate::tile::detail::{Detail, EndpointCheck, Subscription, WebhooksDetail};
use crate::tile::{Service, Status, Tile};
use crate::webhook_endpoint;

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
    // The operator's endpoints that Meta delivers to, checked like Meta does. Only URLs the
    // operator configured are ever called.
    let creds = ctx.client.credentials();
    let mut endpoints = Vec::new();
    if let Some(token) = &creds.verify_token {
        let configured = &ctx.account.webhook_endpoints;
        let mut urls: Vec<&str> = subs
            .iter()
            .filter_map(|s| s.callback_url.as_deref())
            .filter(|u| configured.iter().any(|c| c == u))
            .collect();
        urls.dedup();
        for url in urls {
            endpoints.push(
                webhook_endpoint::check(ctx.client.http(), url, token, creds.app_secret.as_ref())
                    .await,
            );
        }
    }
    let failing: Vec<&webhook_endpoint::EndpointResult> =
        endpoints.iter().filter(|e| !e.ok).collect();
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
    } else if let Some(first) = failing.first() {
        let why = first.problem.clone().unwrap_or_default();
        (
            Status::Degraded,
            format!("endpoint {} failing: {why}", first.url),
        )
    } else if !endpoints.is_empty() {
        (
            Status::Up,
            format!(
                "{} subscriptions active, endpoint answers like Meta expects",
                subs.len()
            ),
        )
    } else {
        (Status::Up, format!("{} subscriptions active", subs.len()))
    };
    let active = subs.len() - inactive.len();
    let detail = WebhooksDetail {
        subscriptions: subs
            .iter()
            .map(|s| Subscription {
                object: s.object.clone(),
                callback_url: s.callback_url.clone(),
                fields: s.fields.iter().map(|f| f.name.clone()).collect(),
                active: s.active,
            })
            .collect(),
        endpoints: endpoints
            .iter()
            .map(|e| EndpointCheck {
                url: e.url.clone(),
                ok: e.ok,
                latency_ms: e.latency_ms,
                problem: e.problem.clone(),
            })
            .collect(),
    };
    let mut tile = Tile::new(Service::Webhooks, status, ctx.now, message)
        .with_detail(Detail::Webhooks(detail));
    tile.latency_ms = Some(millis(started.elapsed()));
    let mut points = vec![
        (
            "meta.webhooks.subscriptions_active".to_owned(),
            active as f64,
        ),
        (
            "meta.webhooks.subscriptions_inactive".to_owned(),
            inactive.len() as f64,
        ),
    ];
    for e in &endpoints {
        // Success rate over any window is the mean of this series.
        points.push((
            "meta.webhooks.endpoint_ok".to_owned(),
            if e.ok { 1.0 } else { 0.0 },
        ));
        points.push((
            "meta.webhooks.endpoint_latency_ms".to_owned(),
            e.latency_ms as f64,
        ));
    }
    ProbeReport::ok(tile, points)
}
