//! The building blocks of a check that need no scheduler: all probes of an account on one
//! client, the UNKNOWN tiles of an account that could not be measured, and the persist step.
//! The whole pipeline (pacing, alerts, events) is the monitor module's.

use serde::Serialize;
use time::OffsetDateTime;

use crate::account::Account;
use crate::graph::{Credentials, GraphClient};
use crate::probe::{self, ProbeContext, ProbeReport, Thresholds};
use crate::store::products::StatusCounts;
use crate::store::{Store, StoreError};
use crate::tile::detail::{CatalogDetail, Detail, SyncCounts};
use crate::tile::{Service, Status, Tile, overall};

/// The `--json` shape of `check` and `status`: `{"account", "overall", "tiles"}`.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct AccountTiles {
    pub account: String,
    pub overall: Status,
    /// One line for the account: what its worst tiles say.
    pub banner: String,
    pub tiles: Vec<Tile>,
}

impl AccountTiles {
    pub fn new(account: &str, tiles: Vec<Tile>) -> Self {
        let overall = overall(&tiles);
        Self {
            account: account.to_owned(),
            overall,
            banner: banner(overall, &tiles),
            tiles,
        }
    }
}

/// What the worst of `tiles` say, in one line (services not measured when all else is up).
fn banner(overall: Status, tiles: &[Tile]) -> String {
    if tiles.is_empty() {
        return "waiting for the first check".to_owned();
    }
    if overall == Status::Up {
        let unmeasured: Vec<String> = tiles
            .iter()
            .filter(|t| t.status == Status::Unknown)
            .map(|t| format!("{} not measured: {}", t.service, t.message))
            .collect();
        if unmeasured.is_empty() {
            return "all services are up".to_owned();
        }
        return unmeasured.join("; ");
    }
    let mut messages: Vec<&str> = Vec::new();
    for t in tiles.iter().filter(|t| t.status == overall) {
        // One cause (a locked keychain) often says the same on every tile.
        if !messages.contains(&t.message.as_str()) {
            messages.push(&t.message);
        }
    }
    messages.join("; ")
}

/// Accounts in the order an operator scans them: DOWN, DEGRADED, then those with a service not
/// measured (UNKNOWN — worth a look), then UP; by name within each.
pub fn worst_first(accounts: &mut [AccountTiles]) {
    let rank = |a: &AccountTiles| {
        let unmeasured = a.tiles.iter().any(|t| t.status == Status::Unknown);
        if a.overall == Status::Up && unmeasured {
            Status::Unknown.attention()
        } else {
            a.overall.attention()
        }
    };
    accounts.sort_by(|a, b| (rank(a), &a.account).cmp(&(rank(b), &b.account)));
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
        token_source: None,
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
                let tile = with_sync_state(report.tile.clone(), &sync_state);
                store.insert_probe_run(account_id, &report.tile, report.error.as_ref())?;
                store.insert_points(account_id, tile.last_check, &report.points)?;
                tiles.push(store.upsert_tile(account_id, &tile)?);
                continue;
            }
            if report.tile.service != Service::RateLimits {
                store.insert_probe_run(account_id, &report.tile, report.error.as_ref())?;
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
    let fresh = with_sync_state(tile.clone(), &counts);
    if fresh == *tile {
        return Ok(None);
    }
    store.upsert_tile(account_id, &fresh)?;
    store.tiles(account_id).map(Some)
}

/// Adds the local sync state to a catalog tile: failed and pending counts, DEGRADED while
/// Meta refuses products (a catalog that "syncs" while items are rejected is not healthy).
fn with_sync_state(mut tile: Tile, counts: &StatusCounts) -> Tile {
    if counts.total == 0 {
        return tile;
    }
    if counts.error > 0 && tile.status == Status::Up {
        tile.status = Status::Degraded;
        tile.message = format!(
            "{}; {} product{} refused by Meta",
            tile.message,
            counts.error,
            if counts.error == 1 { "" } else { "s" }
        );
    }
    if tile.detail == Detail::None {
        // The catalog could not be read: the local counts still stand.
        tile.detail = Detail::Catalog(CatalogDetail::default());
    }
    if let Detail::Catalog(detail) = &mut tile.detail {
        detail.sync = Some(SyncCounts {
            failed: counts.error,
            pending: counts.pending,
            changed: counts.changed,
            total: counts.total - counts.deleted,
        });
    }
    tile
}
