//! `meta-monitor check` (probe now, store, print) and `status` (stored tiles, no network).

use std::sync::{Arc, Mutex};

use meta_monitor_core::account::Monitoring;
use meta_monitor_core::alert::Policy;
use meta_monitor_core::check::AccountTiles;
use meta_monitor_core::clock::SystemClock;
use meta_monitor_core::events::NoEvents;
use meta_monitor_core::graph::{Credentials, Timeouts, http_client};
use meta_monitor_core::monitor::{AccountEntry, Monitor, Pauses, Scope, Watched};
use meta_monitor_core::notify::Notifier;
use meta_monitor_core::secrets::Keychain;
use meta_monitor_core::store::{Store, StoreError, accounts::StoredAccount};
use meta_monitor_core::{Account, Secret, env_account};
use time::OffsetDateTime;

use crate::{Failure, output};

pub fn selected(store: &Store, name: Option<&str>) -> Result<Vec<StoredAccount>, Failure> {
    match name {
        Some(n) => Ok(vec![store.account(n)?.ok_or_else(|| {
            Failure::usage(StoreError::NoSuchAccount(n.to_owned()))
        })?]),
        None => Ok(store.accounts()?),
    }
}

/// The channels the account's settings choose; the team webhook only when its URL is in the
/// keychain.
pub fn notifiers(
    monitoring: &Monitoring,
    webhook: Option<Secret>,
) -> Result<Vec<Box<dyn Notifier>>, Failure> {
    Ok(meta_monitor_core::notify::channels(monitoring, webhook).map_err(|e| anyhow::anyhow!(e))?)
}

/// `check`: every account (or one) through the monitor's pipeline once — the same steps,
/// pauses and alert claims as `run` and the desktop.
pub fn check(
    store: Store,
    name: Option<&str>,
    json: bool,
    notify: bool,
    pauses: Pauses,
    timeouts: Timeouts,
) -> Result<(), Failure> {
    let env = env_account(name)?;
    let accounts = if name == Some(env_account::NAME) {
        Vec::new()
    } else {
        selected(&store, name)?
    };
    if accounts.is_empty() && env.is_none() && !json {
        println!(
            "no accounts yet; add one with: meta-monitor account add NAME …  (or try: meta-monitor demo)"
        );
        return Ok(());
    }
    let watched = watched(store, accounts, env, notify)?;
    let monitor = Monitor::new(
        Arc::new(SystemClock),
        http_client(timeouts)?,
        Policy::default(),
        Arc::new(NoEvents),
    );
    let outcomes = super::runtime()?.block_on(async {
        for w in &watched {
            monitor.watch(w)?;
        }
        let checks = watched.iter().map(|w| monitor.check(w, Scope::All, pauses));
        futures::future::join_all(checks)
            .await
            .into_iter()
            .collect::<Result<Vec<_>, _>>()
    })?;
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

/// The accounts as the monitor watches them: the `env` account first (in memory only, never
/// written to the database file), then the configured ones with their keychain secrets.
pub fn watched(
    store: Store,
    accounts: Vec<StoredAccount>,
    env: Option<(Account, Credentials)>,
    notify: bool,
) -> Result<Vec<Watched>, Failure> {
    let mut watched = Vec::with_capacity(accounts.len() + 1);
    if let Some((account, credentials)) = env {
        let (memory, entry) =
            AccountEntry::in_memory(account, credentials, OffsetDateTime::now_utc())?;
        watched.push(entry.watched(memory, notify).map_err(anyhow::Error::msg)?);
    }
    // Keychain reads block on D-Bus: all of them before the runtime starts (none when only
    // the env account is watched).
    let entries = AccountEntry::load_all(accounts, &Keychain::new());
    let store = Arc::new(Mutex::new(store));
    for entry in entries {
        watched.push(
            entry
                .watched(store.clone(), notify)
                .map_err(anyhow::Error::msg)?,
        );
    }
    Ok(watched)
}

/// The `env` account (from `META_*` variables) when it is configured and `name` selects it;
/// an invalid variable is a usage error.
pub fn env_account(name: Option<&str>) -> Result<Option<(Account, Credentials)>, Failure> {
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

pub fn status(store: &Store, name: Option<&str>, json: bool) -> Result<(), Failure> {
    let accounts = selected(store, name)?;
    let mut results = Vec::with_capacity(accounts.len());
    for stored in &accounts {
        results.push(AccountTiles::new(
            &stored.account.name,
            store.tiles(stored.id)?,
        ));
    }
    if results.is_empty() && !json {
        println!("no accounts yet; add one with: meta-monitor account add NAME …");
        return Ok(());
    }
    output::print_results(&results, json)
}
