//! `meta-monitor simulate` (the simulator in the foreground) and `demo` (a throw-away account,
//! its fake token held in memory, checked against the in-process simulator in every scenario).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, anyhow};
use meta_graph_sim::{Scenario, SimConfig, Simulator};
use meta_monitor_core::Secret;
use meta_monitor_core::check::{self, AccountTiles};
use meta_monitor_core::demo::{self, DemoIds};
use meta_monitor_core::graph::{Credentials, Timeouts, http_client};
use meta_monitor_core::probe::Thresholds;
use time::OffsetDateTime;

use crate::{Failure, output};

pub fn simulate(listen: SocketAddr, scenario: &str) -> Result<(), Failure> {
    let scenario: Scenario = scenario
        .parse()
        .map_err(|e: String| Failure::usage(anyhow!(e)))?;
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let sim = Simulator::start(
            listen,
            SimConfig {
                scenario,
                ..SimConfig::default()
            },
        )
        .await
        .with_context(|| format!("listening on {listen}"))?;
        println!(
            "Graph API simulator on {} (scenario {scenario})",
            sim.base_url()
        );
        println!(
            "  app id {}  ad account {}  pixel {}  catalog {}",
            meta_graph_sim::APP_ID,
            meta_graph_sim::AD_ACCOUNT,
            meta_graph_sim::PIXEL_ID,
            meta_graph_sim::CATALOG_ID
        );
        println!(
            "  any non-empty token is accepted; app secret {:?}",
            meta_graph_sim::APP_SECRET
        );
        println!(
            "  switch scenario: curl -X PUT {}/__admin/scenario/<name>; Ctrl-C stops",
            sim.base_url()
        );
        tokio::signal::ctrl_c()
            .await
            .context("waiting for Ctrl-C")?;
        sim.shutdown().await;
        Ok::<(), anyhow::Error>(())
    })?;
    Ok(())
}

/// The simulator's identifiers, for the core's demo account (the desktop's demo is the same).
const IDS: DemoIds<'static> = DemoIds {
    app_id: meta_graph_sim::APP_ID,
    ad_account: meta_graph_sim::AD_ACCOUNT,
    pixel: meta_graph_sim::PIXEL_ID,
    catalog: meta_graph_sim::CATALOG_ID,
    business: meta_graph_sim::BUSINESS_ID,
};

pub fn demo(json: bool) -> Result<(), Failure> {
    let runtime = super::runtime()?;
    let results = runtime.block_on(async {
        let config = SimConfig {
            slow_delay: Duration::from_secs(4),
            ..SimConfig::default()
        };
        let sim = Simulator::start_local(config)
            .await
            .context("starting the simulator")?;
        let account = demo::account(&sim.base_url(), IDS)?;
        let http = http_client(Timeouts {
            connect: Duration::from_secs(2),
            total: Duration::from_secs(2),
        })?;
        let credentials = Credentials {
            access_token: Secret::new(meta_graph_sim::DEMO_TOKEN),
            app_secret: Some(Secret::new(meta_graph_sim::APP_SECRET)),
            verify_token: None,
            capi_token: None,
        };
        let mut results = Vec::new();
        for scenario in Scenario::ALL {
            sim.set_scenario(scenario);
            let reports = check::run_probes(
                &account,
                credentials.clone(),
                &http,
                OffsetDateTime::now_utc(),
                &Thresholds::default(),
            )
            .await;
            let tiles = reports.into_iter().map(|r| r.tile).collect();
            results.push(AccountTiles::new(
                &format!("demo · scenario {scenario}"),
                tiles,
            ));
        }
        sim.shutdown().await;
        Ok::<_, anyhow::Error>(results)
    })?;
    if !json {
        println!("DEMO: a throw-away account checked against the built-in Graph API simulator.\n");
    }
    output::print_results(&results, json)
}
