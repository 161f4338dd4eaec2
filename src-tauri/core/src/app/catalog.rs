//! The catalog for the window and `meta-monitor product`: the products with their Meta state,
//! feed import, a product editor validated by the core, and syncs — chosen ids, the changed
//! ones, all, deletes — with progress and a cancel, one per account at a time (across
//! processes: a lease in the database).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::catalog::import::{self, FeedFormat};
use crate::catalog::product::{FieldProblem, Product};
use crate::catalog::sync::{self, SyncOptions, SyncProgress, SyncSummary};
use crate::check::AccountTiles;
use crate::store::Store;
use crate::store::leases;
use crate::store::products::{StoredProduct, SyncStatus};
use time::OffsetDateTime;

use super::types::{CatalogView, ImportResult, SyncSelection};
use super::{App, AppError, ErrorCode, lock};

impl App {
    /// The account's products with their Meta state; `status` filters (`Some(None)`: never
    /// synced).
    pub fn products(
        &self,
        account: &str,
        status: Option<Option<SyncStatus>>,
    ) -> Result<Vec<StoredProduct>, AppError> {
        let (entry, store) = self.entry(account)?;
        Ok(lock(&store).products(entry.id, status)?)
    }

    pub fn catalog_view(&self, account: &str) -> Result<CatalogView, AppError> {
        let (entry, store) = self.entry(account)?;
        let store = lock(&store);
        let products = store.products(entry.id, None).map_err(AppError::store)?;
        let counts = store.product_counts(entry.id).map_err(AppError::store)?;
        Ok(CatalogView {
            catalog_id: entry.account.catalog_id.clone(),
            counts,
            products,
            syncing: lock(&self.syncs).contains_key(account),
        })
    }

    /// Imports a feed; the format is `format`, else recognised from the content. Bad rows
    /// are returned by line; the good ones are kept.
    pub fn import_feed(
        &self,
        account: &str,
        file_name: &str,
        feed: impl std::io::Read,
        format: Option<FeedFormat>,
    ) -> Result<ImportResult, AppError> {
        let (entry, store) = self.entry(account)?;
        let feed = import::read(std::io::BufReader::new(feed), format)
            .map_err(|e| AppError::new(ErrorCode::InvalidInput, format!("{file_name}: {e}")))?;
        let products: Vec<Product> = feed.products.into_iter().map(|(_, p)| p).collect();
        let counts = lock(&store)
            .import_products(entry.id, &products, OffsetDateTime::now_utc())
            .map_err(AppError::store)?;
        Ok(ImportResult {
            counts,
            rejected: feed.rejected,
        })
    }

    /// Saves a product from the editor when the core finds nothing wrong with it; otherwise
    /// returns the problems by field and saves nothing. `previous_id` renames.
    pub fn save_product(
        &self,
        account: &str,
        product: Product,
        previous_id: Option<String>,
    ) -> Result<Vec<FieldProblem>, AppError> {
        let (entry, store) = self.entry(account)?;
        let product = Product::from_pairs(product.0);
        let problems = product.problems();
        if !problems.is_empty() {
            return Ok(problems);
        }
        let mut store = lock(&store);
        if let Some(old) = previous_id.filter(|old| old != product.id()) {
            if store
                .product(entry.id, product.id())
                .map_err(AppError::store)?
                .is_some()
            {
                return Ok(vec![FieldProblem {
                    field: "id".to_owned(),
                    message: format!("another product already has the id {:?}", product.id()),
                }]);
            }
            store
                .forget_product(entry.id, &old)
                .map_err(AppError::store)?;
        }
        store
            .import_products(entry.id, &[product], OffsetDateTime::now_utc())
            .map_err(AppError::store)?;
        Ok(Vec::new())
    }

    /// Syncs (or deletes) products and waits for Meta's verdict, reporting progress; one
    /// sync per account at a time.
    pub async fn sync_products(
        &self,
        account: &str,
        selection: SyncSelection,
        progress: impl Fn(&SyncProgress) + Send + Sync,
    ) -> Result<SyncSummary, AppError> {
        let (entry, store) = self.entry(account)?;
        let invalid = |m: String| AppError::new(ErrorCode::InvalidInput, m);
        let catalog = entry.account.catalog_id.clone().ok_or_else(|| {
            invalid(format!(
                "{account} has no catalog id; add it in Settings (or: meta-monitor account \
                     set {account} catalog_id=ID)"
            ))
        })?;
        let credentials = entry.credentials.clone().map_err(AppError::from)?;
        let cancel = Arc::new(AtomicBool::new(false));
        {
            let mut syncs = lock(&self.syncs);
            if syncs.contains_key(account) {
                return Err(invalid(
                    "a sync of this catalog is already running".to_owned(),
                ));
            }
            syncs.insert(account.to_owned(), cancel.clone());
        }
        let mut running = Running {
            monitor: self,
            account,
            lease: None,
        };
        let now = OffsetDateTime::now_utc();
        // Across processes too: the desktop and `meta-monitor product sync` share the queue.
        let holder = leases::this_process();
        let taken = tokio::task::block_in_place(|| {
            lock(&store).take_sync_lease(entry.id, &holder, now, SYNC_LEASE)
        })?;
        if taken.is_some() {
            return Err(invalid(
                "a sync of this catalog is already running in another Meta Monitor (the app or \
                 the CLI); it sends what is queued — try again when it ends"
                    .to_owned(),
            ));
        }
        running.lease = Some((store.clone(), entry.id, holder.clone()));
        // Each progress report renews the lease.
        let progress = |p: &SyncProgress| {
            let _ = lock(&store).renew_sync_lease(
                entry.id,
                &holder,
                OffsetDateTime::now_utc(),
                SYNC_LEASE,
            );
            progress(p);
        };
        let (mut invalid_count, read_back) = (
            0,
            matches!(&selection, SyncSelection::Ids { ids } if ids.len() <= sync::READ_BACK_LIMIT),
        );
        tokio::task::block_in_place(|| -> Result<(), AppError> {
            let mut store = lock(&store);
            let products = store.products(entry.id, None)?;
            let chosen: Vec<Product> = match &selection {
                SyncSelection::Queued => return Ok(()),
                SyncSelection::Ids { ids } => pick(&products, ids)?
                    .into_iter()
                    .map(|p| p.fields.clone())
                    .collect(),
                SyncSelection::Changed => products
                    .iter()
                    .filter(|p| p.changed)
                    .map(|p| p.fields.clone())
                    .collect(),
                SyncSelection::All => products
                    .iter()
                    .filter(|p| p.sync_status != Some(SyncStatus::Deleted))
                    .map(|p| p.fields.clone())
                    .collect(),
                SyncSelection::Delete { ids } => {
                    // Already deleted at Meta: nothing to send for those.
                    let live: Vec<String> = pick(&products, ids)?
                        .into_iter()
                        .filter(|p| p.sync_status != Some(SyncStatus::Deleted))
                        .map(|p| p.fields.id().to_owned())
                        .collect();
                    sync::queue_deletes(&mut store, entry.id, &live)?;
                    return Ok(());
                }
            };
            invalid_count = sync::queue_updates(&mut store, entry.id, &catalog, &chosen, now)?.1;
            Ok(())
        })?;
        let client = self.client(&entry.account, credentials)?;
        let options = SyncOptions {
            read_back,
            ..SyncOptions::default()
        };
        let result = sync::run(
            &client, &store, entry.id, &catalog, &options, &cancel, &progress,
        )
        .await;
        // The catalog tile shows the new failed / pending counts at once.
        let refreshed = tokio::task::block_in_place(|| {
            crate::check::refresh_catalog_tile(&mut lock(&store), entry.id)
        });
        if let Ok(Some(tiles)) = refreshed {
            self.announce(AccountTiles::new(account, tiles));
        }
        let mut summary = result.map_err(|e| match &e {
            sync::SyncError::Graph(graph) => AppError::new(ErrorCode::from(graph), &e),
            sync::SyncError::Store(_) => AppError::store(&e),
            sync::SyncError::Unexpected(_) => AppError::new(ErrorCode::Meta, &e),
        })?;
        summary.invalid += invalid_count;
        Ok(summary)
    }

    /// Stops the account's sync from sending more (batches already at Meta are confirmed by
    /// the next sync); false when none runs.
    pub fn cancel_sync(&self, account: &str) -> bool {
        lock(&self.syncs)
            .get(account)
            .map(|flag| flag.store(true, Ordering::Relaxed))
            .is_some()
    }
}

/// The products with these retailer ids, in the order given; an unknown id is refused (the
/// same rule for the window and the command line).
fn pick<'a>(
    products: &'a [StoredProduct],
    ids: &[String],
) -> Result<Vec<&'a StoredProduct>, AppError> {
    let by_id: std::collections::HashMap<&str, &StoredProduct> =
        products.iter().map(|p| (p.fields.id(), p)).collect();
    let unknown: Vec<&str> = ids
        .iter()
        .map(String::as_str)
        .filter(|id| !by_id.contains_key(id))
        .collect();
    if !unknown.is_empty() {
        return Err(AppError::invalid(format!(
            "no product {}; import it first (the Catalog view, or meta-monitor product import …)",
            unknown
                .iter()
                .map(|id| format!("{id:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(ids
        .iter()
        .filter_map(|id| by_id.get(id.as_str()).copied())
        .collect())
}

/// Takes the account off the running syncs however the sync ends.
/// How long a sync's lease lasts unless renewed; it is renewed with every progress report
/// (at least every few seconds while a sync runs).
const SYNC_LEASE: time::Duration = time::Duration::seconds(90);

/// A sync in progress: its place in this process's list and its database lease, both given
/// back when it ends, however it ends.
struct Running<'a> {
    monitor: &'a App,
    account: &'a str,
    lease: Option<(Arc<Mutex<Store>>, i64, String)>,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        lock(&self.monitor.syncs).remove(self.account);
        if let Some((store, id, holder)) = &self.lease
            && let Err(e) = lock(store).release_sync_lease(*id, holder)
        {
            tracing::warn!(error = %e, "the sync lease could not be released; it expires");
        }
    }
}
