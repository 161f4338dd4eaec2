//! A probe keeps what it measured when a later call fails: the ads probe against the
//! simulator's `ads-disabled-throttled` scenario (account DISABLED, insights throttled).
#![allow(
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test loudly"
)]

use meta_graph_sim::{Scenario, SimConfig, Simulator};
use meta_monitor_core::Secret;
use meta_monitor_core::graph::{Credentials, ErrorClass, GraphClient, Timeouts, http_client};
use meta_monitor_core::probe::{self, ProbeContext, Thresholds};
use meta_monitor_core::tile::{Detail, Service, Status};
use time::OffsetDateTime;

#[tokio::test]
async fn a_disabled_ad_account_stays_down_while_its_insights_are_throttled() {
    let sim = Simulator::start_local(SimConfig {
        scenario: Scenario::AdsDisabledThrottled,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let account = meta_monitor_e2e::history::account("facts", &sim.base_url());
    let client = GraphClient::new(
        http_client(Timeouts::default()).expect("http client"),
        &account.graph_url,
        &account.api_version,
        Credentials {
            access_token: Secret::new(meta_graph_sim::DEMO_TOKEN),
            app_secret: Some(Secret::new(meta_graph_sim::APP_SECRET)),
            verify_token: None,
            capi_token: None,
        },
        account.app_id.clone(),
    )
    .expect("graph client");
    let thresholds = Thresholds::default();
    let ctx = ProbeContext {
        account: &account,
        client: &client,
        now: OffsetDateTime::now_utc(),
        thresholds: &thresholds,
        token_source: None,
    };

    let report = probe::run(Service::Ads, &ctx)
        .await
        .expect("the ads probe is a polled probe");
    let tile = &report.tile;
    assert_eq!(
        tile.status,
        Status::Down,
        "a throttle on insights could not measure, so it must not hide the disabled account: {}",
        tile.message
    );
    assert!(
        tile.message.starts_with("ad account disabled"),
        "the worst news leads the message: {:?}",
        tile.message
    );
    assert!(
        tile.message
            .contains("insights paused: throttled by Meta (code 80000)")
            && tile.message.contains("access returns in about"),
        "the message says insights are throttled and when access returns: {:?}",
        tile.message
    );
    let Detail::Ads(detail) = &tile.detail else {
        panic!("the ads tile keeps its detail: {:?}", tile.detail);
    };
    assert_eq!(
        (detail.account_status.as_str(), detail.currency.as_deref()),
        ("DISABLED", Some("EUR")),
        "the measured account status and currency are kept"
    );
    assert!(detail.insights.is_none(), "no insights were read");
    let meta = report
        .error
        .as_ref()
        .and_then(|e| e.meta())
        .expect("the throttle error stays in the report");
    assert_eq!(
        (
            report.error.as_ref().map(|e| e.class()),
            meta.code,
            meta.error_subcode
        ),
        (Some(ErrorClass::Throttled), 80000, Some(2_446_079)),
        "the report carries Meta's insights throttle, so the run row and scheduler see it"
    );
    assert!(
        meta.regain_after.is_some_and(|d| !d.is_zero()),
        "the regain time from X-Business-Use-Case-Usage reached the error: {meta:?}"
    );
    let error = tile
        .error
        .as_ref()
        .expect("the tile keeps the error, typed");
    assert_eq!(
        (error.class, error.code),
        (ErrorClass::Throttled, Some(80000)),
        "the tile shows Meta's class and code, as from_error does"
    );
    assert!(
        error.fbtrace_id.as_deref().is_some_and(|t| !t.is_empty()),
        "the tile shows the fbtrace_id for Meta support"
    );
    assert!(
        client
            .take_calls()
            .iter()
            .any(|c| c.error_class == Some(ErrorClass::Throttled)),
        "the scheduler sees a throttled call and pauses the bucket"
    );
    sim.shutdown().await;
}
