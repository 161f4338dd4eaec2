//! `meta-monitor product …`: import a shop's feed, list products with their Meta state, sync
//! them to the catalog (one, several, the changed ones or all) and delete them from it.

use std::path::Path;
use std::sync::Mutex;

use anyhow::Context;
use meta_monitor_core::app::Options;
use meta_monitor_core::app::types::{ImportResult, SyncSelection};
use meta_monitor_core::catalog::import::FeedFormat;
use meta_monitor_core::catalog::sync::{SyncProgress, SyncSummary};
use meta_monitor_core::store::products::{StoredProduct, SyncStatus};
use serde_json::{Value, json};

use super::Session;
use crate::Failure;
use crate::output::print_json;

#[derive(clap::Subcommand)]
pub enum ProductCommand {
    /// Import a product feed (CSV or TSV with a header row of feed field names, JSON, or
    /// RSS/Atom XML with the Google namespace); bad rows are reported by line and the good
    /// ones kept. Re-importing updates.
    Import {
        name: String,
        file: std::path::PathBuf,
        /// csv, tsv, json or xml. Default: recognised from the content.
        #[arg(long)]
        format: Option<FeedFormat>,
        #[arg(long)]
        json: bool,
    },
    /// The products with their Meta state.
    List {
        name: String,
        /// success, error, pending, deleted or never.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Send products to the catalog and wait for Meta's verdict on each.
    Sync {
        name: String,
        /// Retailer ids.
        #[arg(conflicts_with_all = ["changed", "all"], required_unless_present_any = ["changed", "all"])]
        ids: Vec<String>,
        /// Those changed since Meta last accepted them (or never synced).
        #[arg(long, conflicts_with = "all")]
        changed: bool,
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
    /// Delete products from the catalog (they stay in the local table as `deleted`).
    Delete {
        name: String,
        #[arg(required = true)]
        ids: Vec<String>,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: ProductCommand, session: &Session) -> Result<(), Failure> {
    match cmd {
        ProductCommand::Import {
            name,
            file,
            format,
            json,
        } => import(session, &name, &file, format, json),
        ProductCommand::List { name, status, json } => {
            list(session, &name, status.as_deref(), json)
        }
        ProductCommand::Sync {
            name,
            ids,
            changed,
            all,
            json,
        } => {
            let selection = if all {
                SyncSelection::All
            } else if changed {
                SyncSelection::Changed
            } else {
                SyncSelection::Ids { ids }
            };
            report(&sync(session, &name, selection)?, json)
        }
        ProductCommand::Delete { name, ids, json } => {
            report(&sync(session, &name, SyncSelection::Delete { ids })?, json)
        }
    }
}

/// Runs the sync through the application API, printing progress on stderr; Ctrl-C stops
/// sending (what was sent is confirmed by the next sync).
fn sync(session: &Session, name: &str, selection: SyncSelection) -> Result<SyncSummary, Failure> {
    let (runtime, app) = session.open(session.options(Some(name)))?;
    let progress = progress_lines();
    let summary = runtime.block_on(async {
        let sync = app.sync_products(name, selection, progress);
        tokio::pin!(sync);
        tokio::select! {
            summary = &mut sync => summary,
            _ = tokio::signal::ctrl_c() => {
                app.cancel_sync(name);
                sync.await
            }
        }
    })?;
    Ok(summary)
}

/// A sync's progress on stderr, one line per change ("120/3000 done, 0 failed — sending").
pub(super) fn progress_lines() -> impl Fn(&SyncProgress) + Send + Sync {
    let last = Mutex::new(String::new());
    move |p: &SyncProgress| {
        let line = match p.paused_for_s {
            Some(s) => format!(
                "{}/{} done, {} failed — paused {s} s for the rate limit",
                p.done, p.total, p.failed
            ),
            None => format!(
                "{}/{} done, {} failed — {}",
                p.done, p.total, p.failed, p.phase
            ),
        };
        if let Ok(mut last) = last.lock()
            && *last != line
        {
            eprintln!("{line}");
            *last = line;
        }
    }
}

/// Prints the summary; exit 1 when an item was refused or is still pending.
fn report(summary: &SyncSummary, json: bool) -> Result<(), Failure> {
    if json {
        print_json(summary)?;
    } else {
        println!(
            "{} succeeded, {} deleted, {} refused by Meta, {} invalid (not sent), {} still pending — {} calls ({} batches, {} status checks, {} read back){}",
            summary.succeeded,
            summary.deleted,
            summary.failed,
            summary.invalid,
            summary.pending,
            summary.calls(),
            summary.batch_calls,
            summary.status_polls,
            summary.read_back_calls,
            if summary.paused_ms > 0 {
                format!(
                    ", paused {:.0} s for the rate limit",
                    summary.paused_ms as f64 / 1000.0
                )
            } else {
                String::new()
            }
        );
        if summary.requeued > 0 {
            println!(
                "{} products of batches Meta no longer knew were sent again",
                summary.requeued
            );
        }
    }
    if summary.failed + summary.invalid + summary.pending > 0 {
        let why = if summary.cancelled {
            "the sync was cancelled; run it again to finish"
        } else if summary.pending > 0 {
            "Meta has not finished every batch yet; run the sync again to confirm them"
        } else {
            "some products were not accepted; see: meta-monitor product list NAME --status error"
        };
        return Err(Failure {
            code: 1,
            error: anyhow::anyhow!(why),
        });
    }
    Ok(())
}

fn import(
    session: &Session,
    name: &str,
    file: &Path,
    format: Option<FeedFormat>,
    json: bool,
) -> Result<(), Failure> {
    let options = Options {
        secrets: false,
        ..session.options(Some(name))
    };
    let (_runtime, app) = session.open(options)?;
    let reader =
        std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let file_name = file.display().to_string();
    let ImportResult { counts, rejected } = app.import_feed(name, &file_name, reader, format)?;
    if json {
        print_json(&json!({"imported": counts, "rejected": rejected}))?;
    } else {
        println!(
            "{} added, {} updated, {} unchanged, {} rejected",
            counts.added,
            counts.updated,
            counts.unchanged,
            rejected.len()
        );
        for row in &rejected {
            let problems: Vec<String> = row.problems.iter().map(ToString::to_string).collect();
            eprintln!(
                "line {}{}: {}",
                row.line,
                row.id
                    .as_ref()
                    .map(|i| format!(" ({i})"))
                    .unwrap_or_default(),
                problems.join("; ")
            );
        }
    }
    if !rejected.is_empty() {
        return Err(Failure::usage(anyhow::anyhow!(
            "{} rows were not imported (their lines are listed above); the others were",
            rejected.len()
        )));
    }
    Ok(())
}

/// One product as `product list --json` prints it: the feed fields, then the Meta state.
fn listed(p: &StoredProduct) -> Value {
    let mut row: serde_json::Map<String, Value> = p
        .fields
        .0
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let last_sync = p.last_sync.map(crate::output::timestamp);
    for (k, v) in [
        ("meta_product_id", json!(p.meta_product_id)),
        ("catalog_id", json!(p.catalog_id)),
        ("last_sync", json!(last_sync)),
        ("sync_status", json!(p.sync_status)),
        ("error_details", json!(p.error_details)),
        ("review_status", json!(p.review_status)),
        ("changed", json!(p.changed)),
    ] {
        row.insert(k.to_owned(), v);
    }
    Value::Object(row)
}

fn list(session: &Session, name: &str, status: Option<&str>, json: bool) -> Result<(), Failure> {
    let filter = match status {
        None => None,
        Some("never") => Some(None),
        Some("success") => Some(Some(SyncStatus::Success)),
        Some("error") => Some(Some(SyncStatus::Error)),
        Some("pending") => Some(Some(SyncStatus::Pending)),
        Some("deleted") => Some(Some(SyncStatus::Deleted)),
        Some(other) => {
            return Err(Failure::usage(anyhow::anyhow!(
                "--status {other:?} is not one of: success, error, pending, deleted, never"
            )));
        }
    };
    let options = Options {
        secrets: false,
        ..session.options(Some(name))
    };
    let (_runtime, app) = session.open(options)?;
    let products = app.products(name, filter)?;
    if json {
        return print_json(&products.iter().map(listed).collect::<Vec<_>>());
    }
    if products.is_empty() {
        println!("no products");
        return Ok(());
    }
    println!(
        "{:<20} {:<9} {:<18} {:<20} TITLE / ERROR",
        "ID", "STATUS", "META ID", "LAST SYNC"
    );
    for p in &products {
        let status = p.sync_status.map_or("never", SyncStatus::as_str);
        let last = p
            .last_sync
            .map(|t| {
                format!(
                    "{:04}-{:02}-{:02} {:02}:{:02}",
                    t.year(),
                    u8::from(t.month()),
                    t.day(),
                    t.hour(),
                    t.minute()
                )
            })
            .unwrap_or_default();
        let tail = match (&p.sync_status, &p.error_details) {
            (Some(SyncStatus::Error), Some(d)) => first_message(d),
            _ => p.fields.get("title").unwrap_or("").to_owned(),
        };
        println!(
            "{:<20} {:<9} {:<18} {:<20} {}",
            p.fields.id(),
            status,
            p.meta_product_id.as_deref().unwrap_or("-"),
            last,
            tail
        );
    }
    Ok(())
}

/// The first error message in Meta's details (or ours), for one-line listings.
pub fn first_message(details: &Value) -> String {
    let candidates = [
        details.pointer("/errors/0/message"),
        details.pointer("/validation_status/errors/0/message"),
        details.pointer("/error/message"),
    ];
    candidates
        .into_iter()
        .flatten()
        .find_map(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| details.to_string())
}
