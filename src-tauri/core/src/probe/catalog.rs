//! `catalog`: the catalog node (name, product count, vertical), Meta's review of its items
//! (approved / pending / rejected counts, skipped when the call budget is tight), and — added
//! when the tile is stored (`check::with_sync_state`) — the local sync state: products Meta
//! refused or has not confirmed.

use crate::graph::catalog;
use crate::tile::detail::{CatalogDetail, Detail, ReviewCounts};
use crate::tile::{Service, Status, Tile};

use super::{ProbeContext, ProbeReport, failed, millis, not_configured};

/// Review counts cost three calls: skipped above this usage.
const REVIEW_BUDGET_PCT: f64 = 75.0;

pub async fn probe(ctx: &ProbeContext<'_>) -> ProbeReport {
    let Some(catalog_id) = ctx.account.catalog_id.as_deref() else {
        return not_configured(Service::Catalog, ctx.now);
    };
    let started = std::time::Instant::now();
    let node = match catalog::catalog(ctx.client, catalog_id).await {
        Ok(c) => c,
        Err(err) => return failed(Service::Catalog, err, ctx.now),
    };
    let latency = started.elapsed();
    let count = node.product_count.unwrap_or(0);
    let name = node.name.clone().unwrap_or_else(|| node.id.clone());
    let (status, message) = if count == 0 {
        (Status::Degraded, format!("catalog {name} has no products"))
    } else {
        (Status::Up, format!("catalog {name}: {count} products"))
    };
    let mut detail = CatalogDetail {
        name: Some(name),
        product_count: Some(count),
        vertical: node.vertical.clone(),
        review: None,
        sync: None,
    };
    let mut points = vec![("meta.catalog.product_count".to_owned(), count as f64)];
    if ctx.client.peak_usage_pct().unwrap_or(0.0) < REVIEW_BUDGET_PCT
        && let Ok(review) = catalog::review_counts(ctx.client, catalog_id).await
    {
        points.push(("meta.catalog.rejected".to_owned(), review.rejected as f64));
        detail.review = Some(ReviewCounts {
            approved: review.approved,
            pending: review.pending,
            rejected: review.rejected,
        });
    }
    let mut tile =
        Tile::new(Service::Catalog, status, ctx.now, message).with_detail(Detail::Catalog(detail));
    tile.latency_ms = Some(millis(latency));
    ProbeReport::ok(tile, points)
}
