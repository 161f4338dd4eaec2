//! `meta-monitor check` (probe now, store, print) and `status` (stored tiles, no network).

use meta_monitor_core::check::{self, AccountTiles};
use meta_monitor_core::graph::{Timeouts, http_client};

use meta_monitor_core::account::Monitoring;
use meta_monitor_core::alert::Policy;
use meta_monitor_core::graph::Credentials;
use meta_monitor_core::notify::Notifier;
use meta_monitor_core::secrets::{Keychain, SecretKind};
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

pub fn check(
    store: &mut Store,
    name: Option<&str>,
    json: bool,
    notify: bool,
    timeouts: Timeouts,
) -> Result<(), Failure> {
    let env = env_account(name)?;
    let accounts = if name == Some(env_account::NAME) {
        Vec::new()
    } else {
        selected(store, name)?
    };
    if accounts.is_empty() && env.is_none() && !json {
        println!(
            "no accounts yet; add one with: meta-monitor account add NAME …  (or try: meta-monitor demo)"
        );
        return Ok(());
    }
    // Keychain first, outside the runtime: its D-Bus calls block.
    let keychain = Keychain::new();
    let credentials: Vec<_> = accounts
        .iter()
        .map(|a| keychain.credentials(&a.account.name))
        .collect();
    let team_webhooks: Vec<Option<Secret>> = accounts
        .iter()
        .map(|a| {
            keychain
                .get(&a.account.name, SecretKind::TeamWebhook)
                .ok()
                .flatten()
        })
        .collect();
    let problems: Vec<Option<String>> = credentials
        .iter()
        .map(|c| c.as_ref().err().map(ToString::to_string))
        .collect();
    let http = http_client(timeouts)?;
    let now = OffsetDateTime::now_utc();
    let runtime = super::runtime()?;
    let reports = runtime.block_on(async {
        let checks = accounts.iter().zip(credentials).map(|(stored, creds)| {
            let http = &http;
            async move {
                match creds {
                    Ok(creds) => {
                        let thresholds = stored.account.monitoring.thresholds();
                        check::run_probes(&stored.account, creds, http, now, &thresholds).await
                    }
                    Err(e) => check::unmeasured(now, &e.to_string()),
                }
            }
        });
        futures::future::join_all(checks).await
    });
    let mut results = Vec::with_capacity(accounts.len());
    let checked = accounts
        .iter()
        .zip(reports)
        .zip(problems)
        .zip(team_webhooks);
    for (((stored, reports), problem), webhook) in checked {
        let tiles = check::persist(store, stored.id, &reports)?;
        store.maintain_if_due(now)?;
        if notify {
            let notifiers = notifiers(&stored.account.monitoring, webhook)?;
            let name = &stored.account.name;
            let sent = check::alert(
                store,
                stored.id,
                name,
                &reports,
                problem.as_deref(),
                &notifiers,
                now,
                &Policy::default(),
            )?;
            if !json && !sent.is_empty() {
                eprintln!(
                    "{name}: {} alert notification(s) sent; see the alert history",
                    sent.len()
                );
            }
        }
        results.push(AccountTiles::new(&stored.account.name, tiles));
    }
    if let Some((account, credentials)) = env {
        // In memory only: the env account never reaches the database file.
        let reports = runtime.block_on(check::run_probes(
            &account,
            credentials,
            &http,
            now,
            &account.monitoring.thresholds(),
        ));
        let mut memory = Store::in_memory()?;
        let id = memory.add_account(&account, now)?;
        let tiles = check::persist(&mut memory, id, &reports)?;
        results.insert(0, AccountTiles::new(env_account::NAME, tiles));
    }
    output::print_results(&results, json)
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
