//! The desktop's demo world: the Graph API simulator in this process, answering with
//! internet-like latency, and the demo account pointing at it with the simulator's fake token
//! (in memory only). The core's [`App`](meta_monitor_core::app::App) starts it when no account
//! is configured, or with `--demo`.

use std::sync::Arc;
use std::time::Duration;

use meta_graph_sim::{Scenario, SimConfig, Simulator};
use meta_monitor_core::Secret;
use meta_monitor_core::app::{Demo, DemoStarter};
use meta_monitor_core::demo::{self, DemoIds};
use meta_monitor_core::graph::Credentials;

/// The simulator's identifiers, for the demo account.
pub const IDS: DemoIds<'static> = DemoIds {
    app_id: meta_graph_sim::APP_ID,
    ad_account: meta_graph_sim::AD_ACCOUNT,
    pixel: meta_graph_sim::PIXEL_ID,
    catalog: meta_graph_sim::CATALOG_ID,
    business: meta_graph_sim::BUSINESS_ID,
};

pub fn starter() -> DemoStarter {
    Arc::new(|| {
        Box::pin(async {
            let sim = Simulator::start_local(SimConfig {
                scenario: Scenario::Demo,
                network_delay: Some((Duration::from_millis(60), Duration::from_millis(240))),
                ..SimConfig::default()
            })
            .await
            .map_err(|e| format!("the simulator did not start: {e}"))?;
            let account = demo::account(&sim.base_url(), IDS).map_err(|e| e.to_string())?;
            let credentials = Credentials {
                access_token: Secret::new(meta_graph_sim::DEMO_TOKEN),
                app_secret: Some(Secret::new(meta_graph_sim::APP_SECRET)),
                verify_token: None,
                capi_token: None,
            };
            Ok(Demo {
                account,
                credentials,
                keep_alive: Box::new(sim),
            })
        })
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used, reason = "a failed step must fail the test")]

    use super::*;
    use meta_monitor_core::app::App;
    use meta_monitor_core::app::types::{ChartRequest, ExportFormat, Window};
    use meta_monitor_core::monitor::{Pauses, Scope};

    #[test]
    fn a_chart_exports_to_png_and_svg_files_of_the_requested_size() {
        let dir = tempfile::tempdir().expect("tempdir");
        let events = Arc::new(meta_monitor_core::events::NoEvents);
        let db = dir.path().join("unused.db");
        let options = meta_monitor_core::app::Options {
            forced_demo: true,
            demo: Some(starter()),
            ..Default::default()
        };
        let monitor =
            tauri::async_runtime::block_on(App::open(&db, options, events)).expect("demo");
        tauri::async_runtime::block_on(async {
            for _ in 0..3 {
                monitor
                    .check("demo", Scope::All, Pauses::Ignore)
                    .await
                    .expect("checked");
            }
        });
        let request = ChartRequest {
            account: "demo".into(),
            metric: "meta.api.latency_ms".into(),
            window: Window::Day,
            percentiles: true,
            unit: "ms".into(),
            width: 1200,
            height: 400,
            dark: false,
        };
        let png = dir.path().join("latency.png");
        monitor
            .export_chart(&request, ExportFormat::Png, &png)
            .expect("png written");
        let bytes = std::fs::read(&png).expect("png file");
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "a PNG file");
        let width = u32::from_be_bytes(bytes[16..20].try_into().expect("IHDR width"));
        let height = u32::from_be_bytes(bytes[20..24].try_into().expect("IHDR height"));
        assert_eq!((width, height), (1200, 400));

        let svg = dir.path().join("latency.svg");
        monitor
            .export_chart(&request, ExportFormat::Svg, &svg)
            .expect("svg written");
        let text = std::fs::read_to_string(&svg).expect("svg file");
        assert!(text.starts_with("<svg") && text.contains(r#"width="1200""#));
        assert!(text.contains("<polyline"), "the measured points are drawn");

        let csv = dir.path().join("latency.csv");
        monitor
            .export_chart(&request, ExportFormat::Csv, &csv)
            .expect("csv written");
        let text = std::fs::read_to_string(&csv).expect("csv file");
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some("at,count,mean,min,max,p50,p95,p99"),
            "{text}"
        );
        let rows: Vec<&str> = lines.collect();
        assert!(!rows.is_empty(), "the measured points: {text}");
        assert!(
            rows.iter()
                .all(|r| r.split(',').count() == 8 && !r.ends_with(',')),
            "latencies keep their percentiles: {text}"
        );

        let nowhere = dir.path().join("missing-folder").join("x.svg");
        let err = monitor
            .export_chart(&request, ExportFormat::Svg, &nowhere)
            .expect_err("no such folder");
        assert!(err.message.contains("could not write"), "{}", err.message);
        monitor.shutdown();
        assert!(
            !dir.path().join("unused.db").exists(),
            "the demo never writes the file"
        );
    }
}
