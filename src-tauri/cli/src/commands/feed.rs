//! `meta-monitor feed add|list|runs|remove|run|confirm-deletes`: an account's feed sources (a
//! file or an `https://` URL), run by hand here and on their schedule by `meta-monitor run`.

use meta_monitor_core::app::Options;
use meta_monitor_core::catalog::import::FeedFormat;
use meta_monitor_core::store::feeds::{FeedOutcome, FeedRun, FeedSource};

use super::Session;
use super::product::progress_lines;
use crate::Failure;
use crate::output::{print_json, timestamp};

#[derive(Debug, clap::Subcommand)]
pub enum FeedCommand {
    /// Add a feed source: an https:// URL (fetched every --every minutes, downloaded only when
    /// it changed) or a file (read when it changes); CSV, TSV, JSON or RSS/Atom XML.
    Add {
        name: String,
        location: String,
        /// csv, tsv, json or xml. Default: recognised from the content.
        #[arg(long)]
        format: Option<FeedFormat>,
        /// Minutes between fetches of a URL (5–10080; default 60).
        #[arg(long)]
        every: Option<u32>,
        #[arg(long)]
        json: bool,
    },
    /// The account's feed sources with their last run.
    List {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// The runs of one source, newest first.
    Runs {
        name: String,
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Remove a feed source (its products stay in the catalog).
    Remove { name: String, id: i64 },
    /// Run a source now (every source without ID): read it if it changed, import, delete what
    /// vanished (or hold the deletes), sync what changed. Exit 1 when a run failed or held.
    Run {
        name: String,
        id: Option<i64>,
        #[arg(long)]
        json: bool,
    },
    /// Delete at Meta the products a run held back (too many vanished at once).
    ConfirmDeletes {
        name: String,
        id: i64,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: FeedCommand, session: &Session) -> Result<(), Failure> {
    match cmd {
        FeedCommand::Add {
            name,
            location,
            format,
            every,
            json,
        } => {
            let (_runtime, app) = session.open(local(session, &name))?;
            let source = app.add_feed(&name, &location, format, every)?;
            if json {
                return print_json(&source);
            }
            println!(
                "feed {} added: {} (run it now: meta-monitor feed run {name} {})",
                source.id, source.shown, source.id
            );
            Ok(())
        }
        FeedCommand::List { name, json } => {
            let (_runtime, app) = session.open(local(session, &name))?;
            let sources = app.feeds(&name)?;
            if json {
                return print_json(&sources);
            }
            if sources.is_empty() {
                println!("{name} has no feed sources (meta-monitor feed add {name} URL-OR-FILE)");
            }
            for s in &sources {
                print_source(s);
            }
            Ok(())
        }
        FeedCommand::Runs { name, id, json } => {
            let (_runtime, app) = session.open(local(session, &name))?;
            let runs = app.feed_runs(&name, id)?;
            if json {
                return print_json(&runs);
            }
            for r in &runs {
                println!("{}", run_line(r));
            }
            Ok(())
        }
        FeedCommand::Remove { name, id } => {
            let (_runtime, app) = session.open(local(session, &name))?;
            app.remove_feed(&name, id)?;
            println!("feed {id} removed; its products stay in the catalog");
            Ok(())
        }
        FeedCommand::Run { name, id, json } => {
            let (runtime, app) = session.open(session.options(Some(&name)))?;
            let ids: Vec<i64> = match id {
                Some(id) => vec![id],
                None => app.feeds(&name)?.iter().map(|s| s.id).collect(),
            };
            let mut runs = Vec::new();
            let mut failed = None;
            for id in ids {
                match runtime.block_on(app.run_feed(&name, id, "manual", progress_lines())) {
                    Ok(run) => runs.push((id, run)),
                    Err(e) => {
                        eprintln!("feed {id}: {}", e.message);
                        failed = Some(e);
                    }
                }
            }
            report(&runs, json)?;
            if let Some(e) = failed {
                return Err(Failure::from(e));
            }
            if runs.iter().any(|(_, r)| r.outcome == FeedOutcome::Held) {
                return Err(Failure {
                    code: 1,
                    error: anyhow::anyhow!("deletes are held for a confirmation"),
                });
            }
            Ok(())
        }
        FeedCommand::ConfirmDeletes { name, id, json } => {
            let (runtime, app) = session.open(session.options(Some(&name)))?;
            let run =
                runtime.block_on(app.confirm_feed_deletes(&name, id, None, progress_lines()))?;
            report(&[(id, run)], json)
        }
    }
}

/// No keychain, no Meta: the sources are local settings.
fn local(session: &Session, name: &str) -> Options {
    Options {
        secrets: false,
        ..session.options(Some(name))
    }
}

fn report(runs: &[(i64, FeedRun)], json: bool) -> Result<(), Failure> {
    if json {
        let list: Vec<_> = runs
            .iter()
            .map(|(id, run)| serde_json::json!({"id": id, "run": run}))
            .collect();
        return print_json(&list);
    }
    for (id, run) in runs {
        println!("feed {id}: {}", run_line(run));
    }
    Ok(())
}

fn print_source(s: &FeedSource) {
    println!(
        "{:>4}  {}  ({}, every {} min){}",
        s.id,
        s.shown,
        s.format.as_deref().unwrap_or("format from the content"),
        s.every_minutes,
        if s.held_deletes > 0 {
            format!(
                " — {} deletes wait for a confirmation (feed confirm-deletes)",
                s.held_deletes
            )
        } else {
            String::new()
        }
    );
    match &s.last_run {
        Some(r) => println!("      last run: {}", run_line(r)),
        None => println!("      never run"),
    }
}

fn run_line(r: &FeedRun) -> String {
    let outcome = match r.outcome {
        FeedOutcome::Synced => "synced",
        FeedOutcome::Unchanged => "unchanged",
        FeedOutcome::Held => "deletes held",
        FeedOutcome::Failed => "FAILED",
    };
    let mut line = format!(
        "{} {outcome} ({}): {} rows, {} changed, {} refused, {} deleted, {} held, {} calls, {:.1} s",
        timestamp(r.at),
        r.trigger,
        r.rows,
        r.changed,
        r.refused,
        r.deleted,
        r.held,
        r.calls,
        r.duration_ms as f64 / 1000.0
    );
    if let Some(m) = &r.message {
        line.push_str(" — ");
        line.push_str(m);
    }
    line
}
