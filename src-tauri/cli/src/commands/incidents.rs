//! `meta-monitor incidents [NAME] [--since 30d] [--service S] [--status DOWN] [--json|--csv]`
//! and `meta-monitor uptime NAME [--json]`: read from the stored status history, no network.

use meta_monitor_core::app::Options;
use meta_monitor_core::app::incidents::IncidentQuery;
use meta_monitor_core::app::types::Since;
use meta_monitor_core::incident::{self, ServiceUptime};
use meta_monitor_core::{Service, Status};

use super::Session;
use crate::{Failure, output};

/// How `incidents` prints.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Csv,
}

pub struct Filter<'a> {
    pub name: Option<&'a str>,
    pub since: &'a str,
    pub service: Option<&'a str>,
    pub status: Option<&'a str>,
}

pub fn incidents(session: &Session, filter: &Filter<'_>, format: Format) -> Result<(), Failure> {
    let query = IncidentQuery {
        account: filter.name.map(str::to_owned),
        service: filter.service.map(parse_service).transpose()?,
        worst: filter.status.map(parse_status).transpose()?,
        hours: Some(filter.since.parse::<Since>()?.hours()),
    };
    let options = Options {
        secrets: false,
        ..session.options(filter.name)
    };
    let (_runtime, app) = session.open(options)?;
    let found = app.incidents(&query)?;
    match format {
        Format::Json => output::print_json(&found),
        Format::Csv => {
            print!("{}", incident::incidents_csv(&found)?);
            Ok(())
        }
        Format::Text => {
            if found.is_empty() {
                println!("no incidents in the last {}", filter.since);
            }
            for i in &found {
                let ended = i
                    .ended
                    .map_or_else(|| "ongoing".to_owned(), output::timestamp);
                let trace = i
                    .fbtrace_id
                    .as_deref()
                    .map(|t| format!(" fbtrace_id {t}"))
                    .unwrap_or_default();
                let code = i.code.map(|c| format!(" code {c}")).unwrap_or_default();
                println!(
                    "{}  {:<12} {:<12} {:<9} {:>10}  → {ended}  {}{code}{trace}",
                    output::timestamp(i.started),
                    i.account,
                    i.service.as_str(),
                    i.worst.as_str(),
                    output::duration(i.duration_s),
                    i.first_message,
                );
            }
            Ok(())
        }
    }
}

pub fn uptime(session: &Session, name: &str, json: bool) -> Result<(), Failure> {
    let options = Options {
        secrets: false,
        ..session.options(Some(name))
    };
    let (_runtime, app) = session.open(options)?;
    let report = app.uptime(name)?;
    if json {
        return output::print_json(&report);
    }
    println!(
        "{:<12} {:>8} {:>8} {:>8} {:>8}  {:>9} {:>8}  last 90 days",
        "service", "24h", "7d", "30d", "90d", "incidents", "MTTR"
    );
    for service in &report {
        print_uptime(service);
    }
    Ok(())
}

fn print_uptime(s: &ServiceUptime) {
    let pct = |p: Option<f64>| p.map_or_else(|| "-".to_owned(), |p| format!("{p:.2}%"));
    let windows: Vec<String> = s
        .windows
        .iter()
        .map(|w| format!("{:>8}", pct(w.uptime_pct)))
        .collect();
    // One character per day, like a status page's strip.
    let strip: String = s
        .days
        .iter()
        .map(|d| match d.worst {
            None | Some(Status::Unknown) => '·',
            Some(Status::Up) => '▇',
            Some(Status::Degraded) => '▅',
            Some(Status::Down) => '▁',
        })
        .collect();
    println!(
        "{:<12} {}  {:>9} {:>8}  {strip}",
        s.service.as_str(),
        windows.join(" "),
        s.incidents_30d,
        s.mttr_s.map_or_else(|| "-".to_owned(), output::duration),
    );
}

pub fn parse_service(text: &str) -> Result<Service, Failure> {
    Service::parse(text).ok_or_else(|| {
        let names: Vec<&str> = Service::ALL.iter().map(|s| s.as_str()).collect();
        Failure::usage(anyhow::anyhow!(
            "--service must be one of {}",
            names.join(", ")
        ))
    })
}

fn parse_status(text: &str) -> Result<Status, Failure> {
    Status::parse(&text.to_ascii_uppercase())
        .filter(|s| matches!(s, Status::Down | Status::Degraded))
        .ok_or_else(|| Failure::usage(anyhow::anyhow!("--status must be DOWN or DEGRADED")))
}
