//! Human and JSON output: a compact table, coloured only on a terminal.

use std::io::IsTerminal;

use meta_monitor_core::check::AccountTiles;
use meta_monitor_core::{Account, Service, Status};
use serde::Serialize;

use crate::Failure;

pub fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<(), Failure> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn paint(status: Status, colour: bool) -> String {
    let word = format!("{:<9}", status.as_str());
    if !colour {
        return word;
    }
    let code = match status {
        Status::Up => "32",
        Status::Degraded => "33",
        Status::Down => "31",
        Status::Unknown => "90",
    };
    format!("\x1b[{code}m{word}\x1b[0m")
}

pub fn print_results(results: &[AccountTiles], json: bool) -> Result<(), Failure> {
    if json {
        return print_json(results);
    }
    let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    for (i, result) in results.iter().enumerate() {
        if i > 0 {
            println!();
        }
        println!(
            "{}  {}",
            result.account,
            paint(result.overall, colour).trim_end()
        );
        for tile in &result.tiles {
            let latency = tile
                .latency_ms
                .map(|l| format!("{l} ms"))
                .unwrap_or_else(|| "-".into());
            println!(
                "  {:<12} {} {:>8}  {}",
                tile.service.as_str(),
                paint(tile.status, colour),
                latency,
                tile.message
            );
        }
    }
    Ok(())
}

/// One row per account, one column per service, the worst accounts first, with each
/// account's banner: `meta-monitor status` without a name.
pub fn print_grid(results: &[AccountTiles]) {
    let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let width = results
        .iter()
        .map(|r| r.account.chars().count())
        .max()
        .unwrap_or(0)
        .max("ACCOUNT".len());
    let services = Service::ALL;
    let short = |s: Service| match s {
        Service::Token => "TOKEN",
        Service::GraphApi => "GRAPH",
        Service::RateLimits => "RATE",
        Service::Ads => "ADS",
        Service::Pixel => "PIXEL",
        Service::ConversionsApi => "CAPI",
        Service::Webhooks => "HOOKS",
        Service::Catalog => "CATALOG",
    };
    let header: Vec<String> = services
        .iter()
        .map(|s| format!("{:<9}", short(*s)))
        .collect();
    println!(
        "{:<width$}  {:<9} {} MESSAGE",
        "ACCOUNT",
        "OVERALL",
        header.join(" ")
    );
    for r in results {
        let cells: Vec<String> = services
            .iter()
            .map(|s| match r.tiles.iter().find(|t| t.service == *s) {
                Some(t) => paint(t.status, colour),
                None => format!("{:<9}", "-"),
            })
            .collect();
        println!(
            "{:<width$}  {} {} {}",
            r.account,
            paint(r.overall, colour),
            cells.join(" "),
            one_line(&r.banner, 120)
        );
    }
}

/// `text` cut to `max` characters with an ellipsis, so each grid row stays one line.
fn one_line(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max - 1).collect();
    format!("{cut}…")
}

pub fn print_account(a: &Account) {
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    println!("name             {}", a.name);
    println!("graph url        {}", a.graph_url);
    println!("api version      {}", a.api_version);
    println!("app id           {}", show(&a.app_id));
    println!("ad account       {}", show(&a.ad_account_id));
    println!("pixel            {}", show(&a.pixel_id));
    println!("catalog          {}", show(&a.catalog_id));
    println!("business         {}", show(&a.business_id));
    println!("test event code  {}", show(&a.test_event_code));
    let endpoints = if a.webhook_endpoints.is_empty() {
        "-".to_owned()
    } else {
        a.webhook_endpoints.join(", ")
    };
    println!("webhook checks   {endpoints}");
    let m = &a.monitoring;
    println!(
        "every (minutes)  graph_api_minutes={} token_minutes={} ads_minutes={} pixel_minutes={} \
         conversions_api_minutes={} webhooks_minutes={} catalog_minutes={}",
        m.graph_api_minutes,
        m.token_minutes,
        m.ads_minutes,
        m.pixel_minutes,
        m.conversions_api_minutes,
        m.webhooks_minutes,
        m.catalog_minutes
    );
    println!(
        "thresholds       slow_ms={} token_warning_days={} token_renew_days={} pixel_silence_hours={} \
         capi_silence_minutes={} capi_share_drop_pct={} usage_warning_pct={} feed_delete_brake_pct={}",
        m.slow_ms,
        m.token_warning_days,
        m.token_renew_days,
        m.pixel_silence_hours,
        m.capi_silence_minutes,
        m.capi_share_drop_pct,
        m.usage_warning_pct,
        m.feed_delete_brake_pct
    );
    println!(
        "notifications    notify_desktop={} notify_team_webhook={} findings_digest={} digest_hour_utc={}",
        m.notify_desktop, m.notify_team_webhook, m.findings_digest, m.digest_hour_utc
    );
    println!("token renewal    token_auto_renew={}", m.token_auto_renew);
    println!("conversions api  hash_external_id={}", m.hash_external_id);
}

/// A time as RFC 3339 (UTC), the one format every command prints.
pub fn timestamp(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Seconds as the two largest units: `3d 4h`, `2h 05m`, `4m 10s`.
pub fn duration(seconds: i64) -> String {
    let s = seconds.max(0);
    let (d, h, m) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m:02}m")
    } else {
        format!("{m}m {:02}s", s % 60)
    }
}
