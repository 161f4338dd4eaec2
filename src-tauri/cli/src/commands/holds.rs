//! The operator's say over alerts from the command line: `alerts firing|ack`, `silence`, and
//! `maintenance add|list|remove`. The core stores the decisions; every process obeys them.

use anyhow::anyhow;
use clap::Subcommand;
use meta_monitor_core::Service;
use meta_monitor_core::alert::hold::{self, HoldKind, HoldWindow};
use meta_monitor_core::alert::operator;
use meta_monitor_core::app::Options;
use meta_monitor_core::app::holds::NewHold;
use meta_monitor_core::store::holds::StoredHold;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Session;
use crate::{Failure, output};

#[derive(Subcommand)]
pub enum AlertsCommand {
    /// The alerts firing now, with who acknowledged them.
    Firing {
        name: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Acknowledge a firing alert (its key, from `alerts firing`): no reminders until it
    /// resolves; the resolution is still sent.
    Ack {
        name: String,
        key: String,
        /// Who acknowledges (default: the OS user).
        #[arg(long)]
        by: Option<String>,
    },
}

/// Which accounts and services a hold covers.
#[derive(clap::Args)]
pub struct Scope {
    /// The account (or --all).
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub name: Option<String>,
    /// Every account.
    #[arg(long)]
    pub all: bool,
    /// Only this service (token, graph_api, rate_limits, ads, pixel, webhooks, catalog).
    #[arg(long)]
    pub service: Option<String>,
    #[arg(long, default_value = "")]
    pub reason: String,
}

#[derive(Subcommand)]
pub enum MaintenanceCommand {
    /// Plan a window during which alerts are held: once (--start, --end or --for) or every
    /// week (--weekly "sun 02:00" --for 2h, UTC).
    Add {
        #[command(flatten)]
        scope: Scope,
        /// RFC 3339 (default: now).
        #[arg(long, conflicts_with = "weekly")]
        start: Option<String>,
        /// RFC 3339.
        #[arg(long, conflicts_with_all = ["weekly", "span"])]
        end: Option<String>,
        /// A weekly start, UTC: "sun 02:00".
        #[arg(long, requires = "span")]
        weekly: Option<String>,
        /// How long: 30m, 2h, 1d.
        #[arg(long = "for", value_name = "DURATION")]
        span: Option<String>,
    },
    /// Every silence and maintenance window not yet over.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a silence or maintenance window by id (ends it now).
    Remove { id: i64 },
}

fn open(
    session: &Session,
    name: Option<&str>,
) -> Result<(tokio::runtime::Runtime, meta_monitor_core::app::App), Failure> {
    session.open(Options {
        secrets: false,
        ..session.options(name)
    })
}

pub fn alerts(session: &Session, cmd: AlertsCommand) -> Result<(), Failure> {
    match cmd {
        AlertsCommand::Firing { name, json } => {
            let (_runtime, app) = open(session, name.as_deref())?;
            let firing = app.firing_alerts(name.as_deref())?;
            if json {
                return output::print_json(&firing);
            }
            if firing.is_empty() {
                println!("no alert is firing");
            }
            for a in &firing {
                let since = a.since.map(output::timestamp).unwrap_or_default();
                let state = match (&a.acknowledged_by, a.held) {
                    (Some(by), _) => format!("acknowledged by {by}"),
                    (None, true) => "held (silenced or in maintenance)".to_owned(),
                    (None, false) => "firing".to_owned(),
                };
                println!(
                    "{since}  {:<12} {:<24} {state}  {}",
                    a.account, a.key, a.title
                );
            }
            Ok(())
        }
        AlertsCommand::Ack { name, key, by } => {
            let (_runtime, app) = open(session, Some(&name))?;
            let by = by.unwrap_or_else(operator);
            app.acknowledge(&name, &key, &by)?;
            println!("{key} acknowledged by {by}: no reminders until it resolves");
            Ok(())
        }
    }
}

pub fn silence(session: &Session, scope: &Scope, span: &str) -> Result<(), Failure> {
    let span = hold::parse_span(span).map_err(|e| Failure::usage(anyhow!("--for: {e}")))?;
    let service = scope
        .service
        .as_deref()
        .map(super::incidents::parse_service)
        .transpose()?;
    let (_runtime, app) = open(session, scope.name.as_deref())?;
    let stored = app.silence(
        scope.name.as_deref(),
        service,
        span,
        &scope.reason,
        &operator(),
    )?;
    print_hold(&stored);
    Ok(())
}

pub fn maintenance(session: &Session, cmd: MaintenanceCommand) -> Result<(), Failure> {
    match cmd {
        MaintenanceCommand::Add {
            scope,
            start,
            end,
            weekly,
            span,
        } => {
            let window = window(
                start.as_deref(),
                end.as_deref(),
                weekly.as_deref(),
                span.as_deref(),
            )?;
            let new = NewHold {
                account: scope.name.clone(),
                service: scope
                    .service
                    .as_deref()
                    .map(super::incidents::parse_service)
                    .transpose()?,
                kind: HoldKind::Maintenance,
                window,
                reason: scope.reason.clone(),
            };
            let (_runtime, app) = open(session, scope.name.as_deref())?;
            print_hold(&app.add_hold(new, &operator())?);
            Ok(())
        }
        MaintenanceCommand::List { json } => {
            let (_runtime, app) = open(session, None)?;
            let holds = app.holds()?;
            if json {
                return output::print_json(&holds);
            }
            if holds.is_empty() {
                println!("no silence or maintenance window");
            }
            for h in &holds {
                print_hold(h);
            }
            Ok(())
        }
        MaintenanceCommand::Remove { id } => {
            let (_runtime, app) = open(session, None)?;
            app.remove_hold(id)?;
            println!("removed {id}");
            Ok(())
        }
    }
}

fn window(
    start: Option<&str>,
    end: Option<&str>,
    weekly: Option<&str>,
    span: Option<&str>,
) -> Result<HoldWindow, Failure> {
    let usage = |e: String| Failure::usage(anyhow!(e));
    let span = span
        .map(|s| hold::parse_span(s).map_err(|e| usage(format!("--for: {e}"))))
        .transpose()?;
    if let Some(weekly) = weekly {
        let (weekday, start_minute) = hold::parse_weekly(weekly).map_err(usage)?;
        let minutes = span.map_or(0, |s| s.whole_minutes());
        return Ok(HoldWindow::Weekly {
            weekday,
            start_minute,
            minutes: u32::try_from(minutes).unwrap_or(0),
        });
    }
    let time = |flag: &str, text: &str| {
        OffsetDateTime::parse(text, &Rfc3339).map_err(|_| {
            usage(format!(
                "{flag} must be an RFC 3339 time like 2026-12-06T02:00:00Z"
            ))
        })
    };
    let start = match start {
        Some(text) => time("--start", text)?,
        None => OffsetDateTime::now_utc(),
    };
    let end = match (end, span) {
        (Some(text), _) => time("--end", text)?,
        (None, Some(span)) => start + span,
        (None, None) => return Err(usage("give --end or --for".to_owned())),
    };
    Ok(HoldWindow::Once { start, end })
}

fn print_hold(h: &StoredHold) {
    let when = match &h.hold.window {
        HoldWindow::Once { start, end } => format!(
            "{} → {}",
            output::timestamp(*start),
            output::timestamp(*end)
        ),
        HoldWindow::Weekly {
            weekday,
            start_minute,
            minutes,
        } => {
            let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
            let day = days.get(usize::from(*weekday)).copied().unwrap_or("?");
            format!(
                "every {day} {:02}:{:02} UTC for {}",
                start_minute / 60,
                start_minute % 60,
                output::duration(i64::from(*minutes) * 60)
            )
        }
    };
    let kind = match h.hold.kind {
        HoldKind::Silence => "silence",
        HoldKind::Maintenance => "maintenance",
    };
    let account = h.account.as_deref().unwrap_or("all accounts");
    let service = h.hold.service.map_or("every service", Service::as_str);
    println!(
        "{:>4}  {kind:<11} {account} / {service}  {when}  by {}{}",
        h.id,
        h.hold.by,
        if h.hold.reason.is_empty() {
            String::new()
        } else {
            format!(": {}", h.hold.reason)
        }
    );
}
