//! One check of one account, as named steps: build the client → run the probes concurrently →
//! evaluate rate limits from every response → persist runs, points and tiles.

use serde::Serialize;
use time::OffsetDateTime;

use crate::account::Account;
use crate::alert::{Action, Policy, decide, rules};
use crate::graph::{Credentials, GraphClient};
use crate::notify::{Notifier, build_message, send_all};
use crate::probe::{self, ProbeContext, ProbeReport, Thresholds};
use crate::store::{Store, StoreError};
use crate::tile::{Service, Status, Tile, overall};

/// The `--json` shape of `check` and `status`: `{"account", "overall", "tiles"}`.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct AccountTiles {
    pub account: String,
    pub overall: Status,
    pub tiles: Vec<Tile>,
}

impl AccountTiles {
    pub fn new(account: &str, tiles: Vec<Tile>) -> Self {
        Self {
            account: account.to_owned(),
            overall: overall(&tiles),
            tiles,
        }
    }
}

/// Runs every probe once. Never fails: each problem lands in its service's tile.
pub async fn run_probes(
    account: &Account,
    credentials: Credentials,
    http: &reqwest::Client,
    now: OffsetDateTime,
    thresholds: &Thresholds,
) -> Vec<ProbeReport> {
    let client = match GraphClient::new(
        http.clone(),
        &account.graph_url,
        &account.api_version,
        credentials,
        account.app_id.clone(),
    ) {
        Ok(c) => c,
        Err(e) => return unmeasured(now, &e.to_string()),
    };
    let ctx = ProbeContext {
        account,
        client: &client,
        now,
        thresholds,
    };
    let (token, graph_api, ads, pixel, webhooks, catalog) = futures::join!(
        probe::token::probe(&ctx),
        probe::graph_api::probe(&ctx),
        probe::ads::probe(&ctx),
        probe::pixel::probe(&ctx),
        probe::webhooks::probe(&ctx),
        probe::catalog::probe(&ctx),
    );
    let rate_limits =
        probe::rate_limits::evaluate(&client.take_calls(), now, thresholds.usage_warning_pct);
    vec![token, graph_api, rate_limits, ads, pixel, webhooks, catalog]
}

/// Every service UNKNOWN with the same reason: nothing could be measured (e.g. keychain locked).
pub fn unmeasured(now: OffsetDateTime, reason: &str) -> Vec<ProbeReport> {
    Service::ALL
        .into_iter()
        .map(|s| ProbeReport::ok(Tile::new(s, Status::Unknown, now, reason), Vec::new()))
        .collect()
}

/// Stores the probe runs, the metric points and the tiles in one transaction; returns the
/// stored tiles (with `last_success` carried over). The rate-limit tile is derived from the
/// other probes' calls, so it is not a probe run of its own.
pub fn persist(
    store: &mut Store,
    account_id: i64,
    reports: &[ProbeReport],
) -> Result<Vec<Tile>, StoreError> {
    let sync_state = store.product_counts(account_id)?;
    store.atomically(|store| {
        let mut tiles = Vec::with_capacity(reports.len());
        for report in reports {
            if report.tile.service == Service::Catalog {
                let tile = probe::catalog::with_sync_state(report.tile.clone(), &sync_state);
                store.insert_probe_run(account_id, report)?;
                store.insert_points(account_id, tile.last_check, &report.points)?;
                tiles.push(store.upsert_tile(account_id, &tile)?);
                continue;
            }
            if report.tile.service != Service::RateLimits {
                store.insert_probe_run(account_id, report)?;
            }
            store.insert_points(account_id, report.tile.last_check, &report.points)?;
            tiles.push(store.upsert_tile(account_id, &report.tile)?);
        }
        Ok(tiles)
    })
}

/// Re-applies the local sync state to the stored catalog tile (after a sync, without a new
/// check); returns the account's tiles when the catalog tile changed.
pub fn refresh_catalog_tile(
    store: &mut Store,
    account_id: i64,
) -> Result<Option<Vec<Tile>>, StoreError> {
    let counts = store.product_counts(account_id)?;
    let tiles = store.tiles(account_id)?;
    let Some(tile) = tiles.iter().find(|t| t.service == Service::Catalog) else {
        return Ok(None);
    };
    let fresh = probe::catalog::with_sync_state(tile.clone(), &counts);
    if fresh == *tile {
        return Ok(None);
    }
    store.upsert_tile(account_id, &fresh)?;
    store.tiles(account_id).map(Some)
}

/// Alert decisions of the whole process, one at a time: a manual check and the scheduler
/// deciding on the same states at once could send an alert twice. Held while notifiers
/// send, but never together with the store, so a slow notifier blocks no reader.
static DECIDING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// What one alert decision changed: the states to save and the actions to send.
pub struct Decision {
    states: std::collections::BTreeMap<String, crate::alert::AlertState>,
    pub actions: Vec<Action>,
}

/// Conditions → decision, from the stored states (the first half of the alert step).
pub fn decide_alerts(
    store: &Store,
    account_id: i64,
    reports: &[ProbeReport],
    keychain_problem: Option<&str>,
    now: OffsetDateTime,
    policy: &Policy,
) -> Result<Decision, StoreError> {
    let conditions = rules::conditions(reports, keychain_problem, now);
    let mut states = store.alert_states(account_id)?;
    let before = states.clone();
    let actions = decide(&mut states, &conditions, now, policy);
    // Only what changed is written: most checks change nothing.
    states.retain(|key, state| before.get(key) != Some(state));
    Ok(Decision { states, actions })
}

/// Every action through every notifier; blocking, and needing no store.
pub fn send_alerts(
    account: &str,
    actions: &[Action],
    notifiers: &[Box<dyn Notifier>],
) -> Vec<(Action, String, Result<(), String>)> {
    let mut sent = Vec::new();
    for action in actions {
        let message = build_message(account, action);
        for (channel, outcome) in send_all(notifiers, &message) {
            sent.push((action.clone(), channel.to_owned(), outcome));
        }
    }
    sent
}

/// The new states and the history in one transaction (the last part of the alert step).
pub fn save_alerts(
    store: &mut Store,
    account_id: i64,
    decision: &Decision,
    sent: &[(Action, String, Result<(), String>)],
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    if !decision.states.is_empty() || !sent.is_empty() {
        store.save_alerts(account_id, &decision.states, sent, now)?;
    }
    Ok(())
}

/// The alert step where one caller owns the store (the command line): decide → send →
/// save. Returns what was decided.
#[allow(
    clippy::too_many_arguments,
    reason = "one pipeline step; each input is distinct"
)]
pub fn alert(
    store: &mut Store,
    account_id: i64,
    account: &str,
    reports: &[ProbeReport],
    keychain_problem: Option<&str>,
    notifiers: &[Box<dyn Notifier>],
    now: OffsetDateTime,
    policy: &Policy,
) -> Result<Vec<Action>, StoreError> {
    let _one_at_a_time = DECIDING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let decision = decide_alerts(store, account_id, reports, keychain_problem, now, policy)?;
    let sent = send_alerts(account, &decision.actions, notifiers);
    save_alerts(store, account_id, &decision, &sent, now)?;
    Ok(decision.actions)
}

fn lock(store: &std::sync::Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    store
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The alert step for a store shared between threads: the store is locked only to decide and
/// to save, never while notifiers send.
#[allow(
    clippy::too_many_arguments,
    reason = "one pipeline step; each input is distinct"
)]
pub fn alert_shared(
    store: &std::sync::Mutex<Store>,
    account_id: i64,
    account: &str,
    reports: &[ProbeReport],
    keychain_problem: Option<&str>,
    notifiers: &[Box<dyn Notifier>],
    now: OffsetDateTime,
    policy: &Policy,
) -> Result<Vec<Action>, StoreError> {
    let _one_at_a_time = DECIDING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let decision = decide_alerts(
        &lock(store),
        account_id,
        reports,
        keychain_problem,
        now,
        policy,
    )?;
    let sent = send_alerts(account, &decision.actions, notifiers);
    save_alerts(&mut lock(store), account_id, &decision, &sent, now)?;
    Ok(decision.actions)
}
