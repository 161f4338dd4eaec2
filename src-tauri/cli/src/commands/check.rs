//! `meta-monitor check` (probe now, store, alert, print) and `status` (stored tiles, no
//! network, no keychain): adapters of the core's application API.

use meta_monitor_core::app::Options;
use meta_monitor_core::env_account;
use meta_monitor_core::monitor::Pauses;

use super::Session;
use crate::{Failure, output};

/// `check`: every account (or one) through the monitor's pipeline once — the same steps,
/// pauses and alert claims as `run` and the desktop.
pub fn check(
    session: &Session,
    name: Option<&str>,
    json: bool,
    notify: bool,
    pauses: Pauses,
) -> Result<(), Failure> {
    let options = Options {
        env: env_account(name)?,
        notify,
        env_alerts: false,
        ..session.options(name)
    };
    let (runtime, app) = session.open(options)?;
    if app.account_names().is_empty() && !json {
        println!(
            "no accounts yet; add one with: meta-monitor account add NAME …  (or try: meta-monitor demo)"
        );
        return Ok(());
    }
    let outcomes = runtime.block_on(app.check_every(pauses))?;
    let mut results = Vec::with_capacity(outcomes.len());
    for outcome in outcomes {
        let name = &outcome.tiles.account;
        if !json && !outcome.alerts.is_empty() {
            eprintln!(
                "{name}: {} alert notification(s) sent; see the alert history",
                outcome.alerts.len()
            );
        }
        // On stderr even with --json: stdout stays the tiles.
        for (service, until) in &outcome.paused {
            eprintln!(
                "{name}: {} not checked: Meta throttles it until {until} (--anyway checks it)",
                service.as_str()
            );
        }
        results.push(outcome.tiles);
    }
    output::print_results(&results, json)
}

/// The `env` account (from `META_*` variables) when it is configured and `name` selects it;
/// an invalid variable is a usage error.
pub fn env_account(name: Option<&str>) -> Result<Option<env_account::EnvAccount>, Failure> {
    if name.is_some_and(|n| n != env_account::NAME) {
        return Ok(None);
    }
    let env = env_account::from_process_env()
        .map_err(|e| Failure::usage(anyhow::anyhow!("META_* environment: {e}")))?;
    if env.is_none() && name == Some(env_account::NAME) {
        return Err(Failure::usage(anyhow::anyhow!(
            "the env account needs {} to be set",
            env_account::ACCESS_TOKEN
        )));
    }
    Ok(env)
}

/// `status`: the stored tiles, without the network or the keychain.
pub fn status(session: &Session, name: Option<&str>, json: bool) -> Result<(), Failure> {
    let options = Options {
        secrets: false,
        ..session.options(name)
    };
    let (_runtime, app) = session.open(options)?;
    let mut results = app.overview()?.accounts;
    if results.is_empty() && !json {
        println!("no accounts yet; add one with: meta-monitor account add NAME …");
        return Ok(());
    }
    meta_monitor_core::check::worst_first(&mut results);
    if name.is_none() && !json {
        output::print_grid(&results);
        return Ok(());
    }
    output::print_results(&results, json)
}
