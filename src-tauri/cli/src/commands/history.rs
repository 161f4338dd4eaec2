//! `meta-monitor history NAME METRIC [--since 24h|7d|30d|1y] [--json]`: a metric's series,
//! bounded in points, with p50/p95/p99 over the whole window for latencies.

use meta_monitor_core::app::Options;
use meta_monitor_core::app::types::Since;

use super::Session;
use crate::{Failure, output};

/// Points printed at most, whatever the window.
const POINTS: usize = 48;

pub fn history(
    session: &Session,
    name: &str,
    metric: &str,
    since: &str,
    json: bool,
) -> Result<(), Failure> {
    let window: Since = since.parse()?;
    let options = Options {
        secrets: false,
        ..session.options(Some(name))
    };
    let (_runtime, app) = session.open(options)?;
    let result = app.series(name, metric, window, POINTS)?;
    if json {
        return output::print_json(&result);
    }
    match &result.summary {
        None => println!("no {metric} data for {name} in the last {since}"),
        Some(s) => {
            println!(
                "{metric} for {name}, last {since}: {} samples, mean {:.1}, min {:.1}, max {:.1}",
                s.count, s.mean, s.min, s.max
            );
            if let (Some(p50), Some(p95), Some(p99)) = (s.p50, s.p95, s.p99) {
                println!("p50 {p50:.0} ms  p95 {p95:.0} ms  p99 {p99:.0} ms (±1 %)");
            }
            for p in &result.points {
                let at = output::timestamp(p.at);
                println!(
                    "  {at}  n={:<5} mean {:>10.2}  min {:>10.2}  max {:>10.2}",
                    p.count, p.mean, p.min, p.max
                );
            }
        }
    }
    Ok(())
}
