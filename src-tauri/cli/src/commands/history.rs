//! `meta-monitor history NAME METRIC [--since 24h|7d|30d|1y] [--json]`: a metric's series,
//! bounded in points, with p50/p95/p99 over the whole window for latencies.

use anyhow::anyhow;
use meta_monitor_core::store::Store;
use serde::Serialize;
use time::OffsetDateTime;

use super::check::selected;
use crate::{Failure, output};

/// Points printed at most, whatever the window.
const POINTS: usize = 48;

pub fn parse_since(text: &str) -> Result<time::Duration, Failure> {
    let (n, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: i64 = n
        .parse()
        .map_err(|_| Failure::usage(anyhow!("--since must look like 24h, 7d, 30d or 1y")))?;
    let d = match unit {
        "h" => time::Duration::hours(n),
        "d" => time::Duration::days(n),
        "y" => time::Duration::days(365 * n),
        _ => {
            return Err(Failure::usage(anyhow!(
                "--since must look like 24h, 7d, 30d or 1y"
            )));
        }
    };
    if n <= 0 || d > time::Duration::days(2 * 365) {
        return Err(Failure::usage(anyhow!("--since must be between 1h and 2y")));
    }
    Ok(d)
}

#[derive(Serialize)]
struct History {
    account: String,
    metric: String,
    #[serde(with = "time::serde::rfc3339")]
    from: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    to: OffsetDateTime,
    summary: Option<meta_monitor_core::store::rollups::ChartPoint>,
    points: Vec<meta_monitor_core::store::rollups::ChartPoint>,
}

pub fn history(
    store: &Store,
    name: &str,
    metric: &str,
    since: &str,
    json: bool,
) -> Result<(), Failure> {
    let window = parse_since(since)?;
    let account = selected(store, Some(name))?.remove(0);
    let to = OffsetDateTime::now_utc();
    let from = to - window;
    let points = store.chart(account.id, metric, from, to, POINTS, to)?;
    let summary = store
        .chart(account.id, metric, from, to, 1, to)?
        .into_iter()
        .next();
    let result = History {
        account: name.to_owned(),
        metric: metric.to_owned(),
        from,
        to,
        summary,
        points,
    };
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
                let at =
                    p.at.format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default();
                println!(
                    "  {at}  n={:<5} mean {:>10.2}  min {:>10.2}  max {:>10.2}",
                    p.count, p.mean, p.min, p.max
                );
            }
        }
    }
    Ok(())
}
