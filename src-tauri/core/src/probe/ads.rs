//! `ads`: the ad account, spend 24 h / 7 d / 30 d, conversions (one purchase action type),
//! ROAS, CPC and active campaigns. DOWN when the account is disabled or closed.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use time::OffsetDateTime;

use crate::graph::ads::{self, account_status_name};
use crate::tile::detail::{AdsDetail, AdsInsights, Detail};
use crate::tile::{Service, Status, Tile};

use super::{ProbeContext, ProbeReport, failed, measured_then_failed, millis, not_configured};

pub async fn probe(ctx: &ProbeContext<'_>) -> ProbeReport {
    let Some(act) = ctx.account.ad_account_id.as_deref() else {
        return not_configured(Service::Ads, ctx.now);
    };
    let started = std::time::Instant::now();
    let account = match ads::account(ctx.client, act).await {
        Ok(a) => a,
        Err(err) => return failed(Service::Ads, err, ctx.now),
    };
    // From here on the account's state is a measured fact: a later failure adds to it.
    let mut facts = account_tile(&account, ctx.now);
    let (today, week, month, active) = futures::join!(
        ads::insights(ctx.client, act, "today"),
        ads::insights(ctx.client, act, "last_7d"),
        ads::insights(ctx.client, act, "last_30d"),
        ads::active_campaigns(ctx.client, act),
    );
    let (today, week, month, active) = match (today, week, month, active) {
        (Ok(a), Ok(b), Ok(c), Ok(d)) => (a, b, c, d),
        (Err(e), ..) | (_, Err(e), ..) | (_, _, Err(e), _) => {
            facts.latency_ms = Some(millis(started.elapsed()));
            return measured_then_failed(facts, e, "insights");
        }
        (.., Err(e)) => {
            facts.latency_ms = Some(millis(started.elapsed()));
            return measured_then_failed(facts, e, "active campaigns");
        }
    };
    let currency = account.currency.clone().unwrap_or_default();
    let spend = |row: &ads::InsightsRow| row.spend.unwrap_or(Decimal::ZERO);
    if account.account_status == 1 {
        facts.message = format!(
            "{active} active campaigns, {} {currency} spent today",
            spend(&today)
        );
    }
    let mut tile = facts;
    if let Detail::Ads(detail) = &mut tile.detail {
        detail.insights = Some(AdsInsights {
            spend_24h: spend(&today),
            timezone: account.timezone_name.clone(),
            spend_7d: spend(&week),
            spend_30d: spend(&month),
            conversions_24h: today.conversions(),
            conversion_action_type: today
                .purchase_action_type()
                .or(week.purchase_action_type())
                .map(str::to_owned),
            roas_7d: week.roas(),
            purchases_7d: week.conversions(),
            purchase_value_7d: week.purchase_value(),
            aov_7d: week.average_order_value(),
            cost_per_purchase_7d: week.cost_per_purchase(),
            attribution: ads::ATTRIBUTION.to_owned(),
            cpc_7d: week.cpc,
            ctr_7d: week.ctr,
            active_campaigns: active,
        });
    }
    tile.latency_ms = Some(millis(started.elapsed()));
    let mut points = vec![
        ("meta.ads.spend_24h", Some(spend(&today))),
        ("meta.ads.spend_7d", Some(spend(&week))),
        ("meta.ads.spend_30d", Some(spend(&month))),
        ("meta.ads.conversions_24h", today.conversions()),
        ("meta.ads.roas_7d", week.roas()),
        ("meta.ads.aov_7d", week.average_order_value()),
        ("meta.ads.cost_per_purchase_7d", week.cost_per_purchase()),
        ("meta.ads.cpc_7d", week.cpc),
    ]
    .into_iter()
    .filter_map(|(name, v)| Some((name.to_owned(), v?.to_f64()?)))
    .collect::<Vec<_>>();
    points.push(("meta.ads.active_campaigns".to_owned(), active as f64));
    ProbeReport::ok(tile, points)
}

/// What the ad account node alone says: DOWN when disabled or closed, DEGRADED in any other
/// state but ACTIVE ("ad account unsettled"), UP when active; name, status and currency.
pub fn account_tile(account: &ads::AdAccount, now: OffsetDateTime) -> Tile {
    let status_name = account_status_name(account.account_status);
    let status = match account.account_status {
        1 => Status::Up,
        2 | 101 => Status::Down,
        _ => Status::Degraded,
    };
    let words = status_name.to_lowercase().replace('_', " ");
    Tile::new(Service::Ads, status, now, format!("ad account {words}")).with_detail(Detail::Ads(
        AdsDetail {
            account_name: account.name.clone(),
            account_status: status_name.to_owned(),
            currency: account.currency.clone(),
            insights: None,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::ErrorClass;
    use crate::probe::test_support::meta_error;

    fn account(status: i64) -> ads::AdAccount {
        ads::AdAccount {
            id: "act_1".into(),
            name: Some("Shop".into()),
            currency: Some("EUR".into()),
            account_status: status,
            amount_spent: None,
            timezone_name: Some("Europe/Berlin".into()),
        }
    }

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_780_000_000).expect("time")
    }

    #[test]
    fn a_disabled_account_stays_down_when_insights_are_throttled() {
        let throttle = meta_error(80000, Some(2_446_079), Some(12 * 60));
        let report = measured_then_failed(account_tile(&account(2), now()), throttle, "insights");
        let tile = &report.tile;
        assert_eq!(
            tile.status,
            Status::Down,
            "a throttle on insights must not hide a disabled account: {}",
            tile.message
        );
        assert_eq!(
            tile.message,
            "ad account disabled; insights paused: throttled by Meta (code 80000); \
             access returns in about 12 min",
            "the message leads with the account and says why the rest is missing"
        );
        let Detail::Ads(detail) = &tile.detail else {
            panic!("an ads detail: {:?}", tile.detail);
        };
        assert_eq!(
            (
                detail.account_name.as_deref(),
                detail.account_status.as_str(),
                detail.currency.as_deref(),
                &detail.insights
            ),
            (Some("Shop"), "DISABLED", Some("EUR"), &None),
            "the account facts are kept, the insights are missing"
        );
        assert_eq!(
            report.error.as_ref().map(|e| e.class()),
            Some(ErrorClass::Throttled),
            "the throttle stays in the report for the probe-run row"
        );
    }

    #[test]
    fn the_account_state_decides_what_a_failed_insights_call_leaves() {
        let cases = [
            // (account_status, error, expected status, message start)
            (
                1,
                meta_error(80000, None, Some(600)),
                Status::Unknown,
                "ad account active; insights paused",
            ),
            (
                3,
                meta_error(80000, None, Some(600)),
                Status::Degraded,
                "ad account unsettled; insights paused",
            ),
            (
                101,
                meta_error(2, None, None),
                Status::Down,
                "ad account closed; insights failed",
            ),
            (
                3,
                meta_error(200, None, None),
                Status::Down,
                "ad account unsettled; insights failed",
            ),
        ];
        for (status, err, want, start) in cases {
            let report =
                measured_then_failed(account_tile(&account(status), now()), err, "insights");
            assert_eq!(
                report.tile.status, want,
                "account_status {status}: {}",
                report.tile.message
            );
            assert!(
                report.tile.message.starts_with(start),
                "the message names the account state and the failed call: {:?}",
                report.tile.message
            );
        }
    }
}
