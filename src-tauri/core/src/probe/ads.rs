//! `ads`: the ad account, spend 24 h / 7 d / 30 d, conversions (one purchase action type),
//! ROAS, CPC and active campaigns. DOWN when the account is disabled or closed.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::graph::ads::{self, account_status_name};
use crate::tile::{Service, Status, Tile};

use super::{ProbeContext, ProbeReport, failed, millis, not_configured};

pub async fn probe(ctx: &ProbeContext<'_>) -> ProbeReport {
    let Some(act) = ctx.account.ad_account_id.as_deref() else {
        return not_configured(Service::Ads, ctx.now);
    };
    let started = std::time::Instant::now();
    let account = match ads::account(ctx.client, act).await {
        Ok(a) => a,
        Err(err) => return failed(Service::Ads, err, ctx.now),
    };
    let (today, week, month, active) = futures::join!(
        ads::insights(ctx.client, act, "today"),
        ads::insights(ctx.client, act, "last_7d"),
        ads::insights(ctx.client, act, "last_30d"),
        ads::active_campaigns(ctx.client, act),
    );
    let (today, week, month, active) = match (today, week, month, active) {
        (Ok(a), Ok(b), Ok(c), Ok(d)) => (a, b, c, d),
        (Err(e), ..) | (_, Err(e), ..) | (_, _, Err(e), _) | (.., Err(e)) => {
            return failed(Service::Ads, e, ctx.now);
        }
    };
    let status_name = account_status_name(account.account_status);
    let currency = account.currency.clone().unwrap_or_default();
    let spend = |row: &ads::InsightsRow| row.spend.unwrap_or(Decimal::ZERO);
    let (status, message) = match account.account_status {
        1 => (
            Status::Up,
            format!(
                "{active} active campaigns, {} {currency} spent today",
                spend(&today)
            ),
        ),
        2 | 101 => (Status::Down, format!("ad account {status_name}")),
        _ => (Status::Degraded, format!("ad account {status_name}")),
    };
    let dec = |d: Option<Decimal>| d.map(|d| serde_json::Value::String(d.to_string()));
    let mut tile = Tile::new(Service::Ads, status, ctx.now, message)
        .with_metric("account_name", account.name.clone().unwrap_or_default())
        .with_metric("account_status", status_name)
        .with_metric("currency", currency)
        .with_metric("spend_24h", spend(&today).to_string())
        .with_metric("spend_7d", spend(&week).to_string())
        .with_metric("spend_30d", spend(&month).to_string())
        .with_metric("conversions_24h", dec(today.conversions()))
        .with_metric(
            "conversion_action_type",
            today.purchase_action_type().or(week.purchase_action_type()),
        )
        .with_metric("roas_7d", dec(week.roas()))
        .with_metric("cpc_7d", dec(week.cpc))
        .with_metric("ctr_7d", dec(week.ctr))
        .with_metric("active_campaigns", active);
    tile.latency_ms = Some(millis(started.elapsed()));
    let mut points = vec![
        ("meta.ads.spend_24h", Some(spend(&today))),
        ("meta.ads.spend_7d", Some(spend(&week))),
        ("meta.ads.spend_30d", Some(spend(&month))),
        ("meta.ads.conversions_24h", today.conversions()),
        ("meta.ads.roas_7d", week.roas()),
        ("meta.ads.cpc_7d", week.cpc),
    ]
    .into_iter()
    .filter_map(|(name, v)| Some((name.to_owned(), v?.to_f64()?)))
    .collect::<Vec<_>>();
    points.push(("meta.ads.active_campaigns".to_owned(), active as f64));
    ProbeReport::ok(tile, points)
}
