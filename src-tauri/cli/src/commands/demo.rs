//! `meta-monitor simulate` (the simulator in the foreground) and `demo` (a throw-away account,
//! its fake token held in memory, checked against the in-process simulator in every scenario).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, anyhow};
use meta_graph_sim::{Scenario, SimConfig, Simulator};
use meta_monitor_core::check::{self, AccountTiles};
use meta_monitor_core::graph::{Credentials, Timeouts, http_client};
use meta_monitor_core::probe::Thresholds;
use meta_monitor_core::{Account, Secret};
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

/// The demo account, pointing at a simulator.
pub fn demo_account(base_url: &str) -> Account {
    let mut a = Account::new("demo");
    a.graph_url = base_url.to_owned();
    a.app_id = Some(meta_graph_sim::APP_ID.to_owned());
    a.ad_account_id = Some(meta_graph_sim::AD_ACCOUNT.to_owned());
    a.pixel_id = Some(meta_graph_sim::PIXEL_ID.to_owned());
    a.catalog_id = Some(meta_graph_sim::CATALOG_ID.to_owned());
    a.business_id = Some(meta_graph_sim::BUSINESS_ID.to_owned());
    a
}

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
        let account = demo_account(&sim.base_url()).validate()?;
        let http = http_client(Timeouts {
            connect: Duration::from_secs(2),
            total: Duration::from_secs(2),
        })?;
        let credentials = Credentials {
            access_token: Secret::new(meta_graph_sim::DEMO_TOKEN),
            app_secret: Some(Secret::new(meta_graph_sim::APP_SECRET)),
            verify_token: None,
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
