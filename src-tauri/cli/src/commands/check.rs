//! `meta-monitor check` (probe now, store, print) and `status` (stored tiles, no network).

use meta_monitor_core::check::{self, AccountTiles};
use meta_monitor_core::graph::{Timeouts, http_client};
use meta_monitor_core::probe::Thresholds;
use meta_monitor_core::secrets::Keychain;
use meta_monitor_core::store::{Store, StoreError, accounts::StoredAccount};
use time::OffsetDateTime;

use crate::{Failure, output};

fn selected(store: &Store, name: Option<&str>) -> Result<Vec<StoredAccount>, Failure> {
    match name {
        Some(n) => Ok(vec![store.account(n)?.ok_or_else(|| {
            Failure::usage(StoreError::NoSuchAccount(n.to_owned()))
        })?]),
        None => Ok(store.accounts()?),
    }
}

pub fn check(
    store: &mut Store,
    name: Option<&str>,
    json: bool,
    timeouts: Timeouts,
) -> Result<(), Failure> {
    let accounts = selected(store, name)?;
    if accounts.is_empty() && !json {
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
    let http = http_client(timeouts)?;
    let thresholds = Thresholds::default();
    let now = OffsetDateTime::now_utc();
    let runtime = super::runtime()?;
    let reports = runtime.block_on(async {
        let checks = accounts.iter().zip(credentials).map(|(stored, creds)| {
            let (http, thresholds) = (&http, &thresholds);
            async move {
                match creds {
                    Ok(creds) => {
                        check::run_probes(&stored.account, creds, http, now, thresholds).await
                    }
                    Err(e) => check::unmeasured(now, &e.to_string()),
                }
            }
        });
        futures::future::join_all(checks).await
    });
    let mut results = Vec::with_capacity(accounts.len());
    for (stored, reports) in accounts.iter().zip(reports) {
        let tiles = check::persist(store, stored.id, &reports)?;
        results.push(AccountTiles::new(&stored.account.name, tiles));
    }
    output::print_results(&results, json)
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
