//! The subcommands. Keychain calls run outside the async runtime (they block on D-Bus).

pub mod account;
pub mod alerts;
pub mod check;
pub mod demo;
pub mod hash;
pub mod history;
pub mod run;
pub mod secret;

use std::time::Duration;

use anyhow::Context;
use meta_monitor_core::graph::Timeouts;
use meta_monitor_core::store::{self, Store};

use crate::{Cli, Command, Failure};

pub fn run(cli: Cli) -> Result<(), Failure> {
    if !(cli.timeout.is_finite() && cli.timeout > 0.0 && cli.timeout <= 600.0) {
        return Err(Failure::usage(anyhow::anyhow!(
            "--timeout must be between 0 and 600 seconds"
        )));
    }
    let total = Duration::from_secs_f64(cli.timeout);
    let timeouts = Timeouts {
        connect: total.min(Duration::from_secs(5)),
        total,
    };
    let db = cli.db.clone().unwrap_or_else(store::default_path);
    let open =
        || Store::open(&db).with_context(|| format!("opening the database {}", db.display()));
    match cli.command {
        Command::Account(cmd) => account::run(cmd, &mut open()?),
        Command::Secret(cmd) => secret::run(cmd, &open()?),
        Command::Check {
            name,
            json,
            no_notify,
        } => check::check(&mut open()?, name.as_deref(), json, !no_notify, timeouts),
        Command::Status { name, json } => check::status(&open()?, name.as_deref(), json),
        Command::Alerts { name, json } => alerts::history(&open()?, name.as_deref(), json),
        Command::History {
            name,
            metric,
            since,
            json,
        } => history::history(&open()?, &name, &metric, &since, json),
        Command::Run {
            name,
            speed,
            metrics,
        } => run::run(open()?, name.as_deref(), speed, metrics, timeouts),
        Command::NotifyTest { name } => alerts::notify_test(&mut open()?, &name),
        Command::Simulate { listen, scenario } => demo::simulate(listen, &scenario),
        Command::Demo { json } => demo::demo(json),
        Command::Hash {
            field,
            value,
            normalized,
            raw_external_id,
        } => hash::hash(&field, &value, normalized, raw_external_id),
    }
}

pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?)
}
