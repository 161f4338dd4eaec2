//! `catalog`: the catalog node (name, product count, vertical).

use crate::graph::catalog;
use crate::tile::{Service, Status, Tile};

use super::{ProbeContext, ProbeReport, failed, millis, not_configured};

pub async fn probe(ctx: &ProbeContext<'_>) -> ProbeReport {
    let Some(catalog_id) = ctx.account.catalog_id.as_deref() else {
        return not_configured(Service::Catalog, ctx.now);
    };
    let started = std::time::Instant::now();
    let node = match catalog::catalog(ctx.client, catalog_id).await {
        Ok(c) => c,
        Err(err) => return failed(Service::Catalog, err, ctx.now),
    };
    let count = node.product_count.unwrap_or(0);
    let name = node.name.clone().unwrap_or_else(|| node.id.clone());
    let (status, message) = if count == 0 {
        (Status::Degraded, format!("catalog {name} has no products"))
    } else {
        (Status::Up, format!("catalog {name}: {count} products"))
    };
    let mut tile = Tile::new(Service::Catalog, status, ctx.now, message)
        .with_metric("name", name)
        .with_metric("product_count", count)
        .with_metric("vertical", node.vertical.clone());
    tile.latency_ms = Some(millis(started.elapsed()));
    ProbeReport::ok(
        tile,
        vec![("meta.catalog.product_count".to_owned(), count as f64)],
    )
}
