//! Sending products to Meta's catalog and finding out what really happened to them.
//!
//! `items_batch` only queues work: Meta answers with a handle, applies the batch later, and
//! reports per-item errors through `check_batch_request_status`. So a product is `success`
//! only once that batch is `finished` without an error for its retailer id; until then it is
//! `pending`. Every step is persisted through the store's queue, so a sync stopped at any
//! point (quit, crash, kill -9) resumes where it was: batches already sent are polled by
//! their handle, items not yet sent are sent.
//!
//! Rate limits: the Catalog Batch quota is per catalog per minute. The sync reads the usage
//! headers after each batch and waits before Meta would refuse; when Meta refuses anyway
//! (80014, or any throttle) it waits for the regain time and tries again — waiting, never
//! failing the items.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::graph::{ErrorClass, GraphClient, GraphError, GraphResponse};
use crate::store::products::{ItemOutcome, QueuedItem, SyncMethod, SyncStatus};
use crate::store::{Store, StoreError};

use super::product::Product;

/// Requests per `items_batch` call: Meta allows 5000 and advises staying under 3000.
pub const MAX_PER_BATCH: usize = 3000;
/// Products read back per call (`/products` with an `is_any` filter).
pub const READ_BACK_LIMIT: usize = 100;
/// A batch still without Meta's verdict after this long is taken as lost and its items are
/// sent again (Meta processes a batch in minutes; its handles are not documented to last).
pub const PENDING_BOUND: time::Duration = time::Duration::hours(24);

/// How a sync paces itself. The defaults follow Meta; tests may shorten nothing but the
/// status polling.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    pub batch_size: usize,
    /// The first wait before asking for a batch's status; doubled up to `poll_max`.
    pub poll_first: Duration,
    pub poll_max: Duration,
    /// How long to wait for Meta to finish one batch before leaving it pending.
    pub batch_deadline: Duration,
    /// The Catalog Batch quota window (per minute): how long to pause when the usage headers
    /// say the quota is spent and Meta gave no regain time.
    pub quota_window: Duration,
    /// Read the products back (Meta id, review status) after their batch finished. One call
    /// per 100 products: for a few products, not for a bulk sync.
    pub read_back: bool,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            batch_size: MAX_PER_BATCH,
            poll_first: Duration::from_millis(500),
            poll_max: Duration::from_secs(10),
            batch_deadline: Duration::from_secs(300),
            quota_window: Duration::from_secs(60),
            read_back: false,
        }
    }
}

/// Where a sync is, for a progress bar.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ts_rs::TS)]
pub struct SyncProgress {
    /// Items this sync is responsible for (queued when it started, or resumed).
    pub total: u32,
    /// Items with a final verdict (success, error or deleted).
    pub done: u32,
    pub failed: u32,
    /// `sending`, `waiting for Meta`, `paused for the rate limit`, `reading back`, `done`.
    pub phase: String,
    /// Seconds left of a rate-limit pause.
    pub paused_for_s: Option<u64>,
}

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ts_rs::TS)]
pub struct SyncSummary {
    pub succeeded: u32,
    pub failed: u32,
    pub deleted: u32,
    /// Refused before sending by our own validation (never sent).
    pub invalid: u32,
    /// Still waiting for Meta (deadline passed, cancelled, or stopped by an error).
    pub pending: u32,
    /// `items_batch` calls (accepted or not).
    pub batch_calls: u32,
    pub status_polls: u32,
    pub read_back_calls: u32,
    /// Times the sync paused for the rate limit, and for how long in all.
    pub throttle_pauses: u32,
    #[ts(type = "number")]
    pub paused_ms: u64,
    pub cancelled: bool,
    /// Items of batches Meta lost (an unknown handle, no verdict within [`PENDING_BOUND`])
    /// put back in the queue and sent again.
    pub requeued: u32,
}

impl SyncSummary {
    pub fn calls(&self) -> u32 {
        self.batch_calls + self.status_polls + self.read_back_calls
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("Meta answered the catalog batch with something unexpected: {0}")]
    Unexpected(String),
}

/// Queues products for `UPDATE` (create or change); invalid ones are marked `error` with
/// their field problems and never sent. Returns (queued, invalid).
pub fn queue_updates(
    store: &mut Store,
    account_id: i64,
    catalog_id: &str,
    products: &[Product],
    now: OffsetDateTime,
) -> Result<(u32, u32), StoreError> {
    let mut items = Vec::new();
    let mut invalid = Vec::new();
    for p in products {
        let problems = p.problems();
        let item = QueuedItem {
            retailer_id: p.id().to_owned(),
            method: SyncMethod::Update,
            payload: p.feed_data(),
            fingerprint: p.fingerprint(),
            handle: None,
        };
        if problems.is_empty() {
            items.push(item);
        } else {
            let details = json!({"source": "meta-monitor", "errors": problems});
            invalid.push((
                item,
                ItemOutcome {
                    retailer_id: p.id().to_owned(),
                    status: SyncStatus::Error,
                    details: Some(details),
                },
            ));
        }
    }
    let queued = store.enqueue(account_id, &items)?;
    store.record_outcomes(account_id, catalog_id, &invalid, now)?;
    Ok((queued, invalid.len() as u32))
}

/// Queues `DELETE`s for these retailer ids.
pub fn queue_deletes(
    store: &mut Store,
    account_id: i64,
    ids: &[String],
) -> Result<u32, StoreError> {
    let items: Vec<QueuedItem> = ids
        .iter()
        .map(|id| QueuedItem {
            retailer_id: id.clone(),
            method: SyncMethod::Delete,
            payload: json!({"id": id}),
            fingerprint: String::new(),
            handle: None,
        })
        .collect();
    store.enqueue(account_id, &items)
}

/// `items_batch`'s answer.
#[derive(Debug, Deserialize)]
struct BatchAccepted {
    #[serde(default)]
    handles: Vec<String>,
    #[serde(default)]
    validation_status: Vec<ValidationStatus>,
}

#[derive(Debug, Deserialize, Serialize)]
struct ValidationStatus {
    retailer_id: String,
    #[serde(default)]
    errors: Vec<Value>,
    #[serde(default)]
    warnings: Vec<Value>,
}

#[derive(Debug, Deserialize)]
struct BatchStatus {
    #[serde(default)]
    status: String,
    #[serde(default)]
    errors: Vec<Value>,
    #[serde(default)]
    warnings: Vec<Value>,
    #[serde(default)]
    ids_of_invalid_requests: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Envelope<T> {
    data: Vec<T>,
}

/// Runs the account's queue to the end: batches already sent are confirmed first, then the
/// rest is sent batch by batch. `progress` hears of every step; `cancel` stops sending
/// (what was sent is still confirmed by the next sync).
pub async fn run(
    client: &GraphClient,
    store: &Mutex<Store>,
    account_id: i64,
    catalog_id: &str,
    options: &SyncOptions,
    cancel: &AtomicBool,
    progress: &(dyn Fn(&SyncProgress) + Send + Sync),
) -> Result<SyncSummary, SyncError> {
    let mut run = Run {
        client,
        store,
        account_id,
        catalog_id,
        options,
        cancel,
        progress,
        summary: SyncSummary::default(),
        state: SyncProgress {
            total: lock(store).queue_len(account_id)?,
            ..SyncProgress::default()
        },
        read_back: Vec::new(),
        hold_until: None,
    };
    let result = run.all().await;
    if run.cancel.load(Ordering::Relaxed) {
        run.summary.cancelled = true;
        lock(store).cancel_unsent(account_id)?;
    }
    run.summary.pending = lock(store).queue_len(account_id)?;
    run.state.phase = "done".to_owned();
    (run.progress)(&run.state);
    result.map(|()| run.summary)
}

fn lock(store: &Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    store
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

struct Run<'a> {
    client: &'a GraphClient,
    store: &'a Mutex<Store>,
    account_id: i64,
    catalog_id: &'a str,
    options: &'a SyncOptions,
    cancel: &'a AtomicBool,
    progress: &'a (dyn Fn(&SyncProgress) + Send + Sync),
    summary: SyncSummary,
    state: SyncProgress,
    /// Retailer ids that finished as UPDATEs, to read back.
    read_back: Vec<String>,
    /// The usage headers said the quota is spent: no batch before then.
    hold_until: Option<Instant>,
}

impl Run<'_> {
    async fn all(&mut self) -> Result<(), SyncError> {
        let stale_before = OffsetDateTime::now_utc() - PENDING_BOUND;
        let stale = lock(self.store).stale_handles(self.account_id, stale_before)?;
        for handle in stale {
            let note = format!(
                "Meta gave no verdict on this product's batch within {} h; sent again",
                PENDING_BOUND.whole_hours()
            );
            self.requeue(&handle, &note)?;
        }
        let in_flight = lock(self.store).in_flight(self.account_id)?;
        for (handle, items) in in_flight {
            if !self.confirm(&handle, &items, &[]).await? {
                return Ok(()); // Meta is still busy with an older batch: do not pile on.
            }
        }
        loop {
            if self.cancel.load(Ordering::Relaxed) {
                return Ok(());
            }
            let items =
                lock(self.store).unsent(self.account_id, self.options.batch_size.clamp(1, 5000))?;
            if items.is_empty() {
                break;
            }
            match self.send(&items).await? {
                Sent::Batch(handle, validation) => {
                    if !self.confirm(&handle, &items, &validation).await? {
                        return Ok(());
                    }
                }
                Sent::Settled => {}
                Sent::Cancelled => return Ok(()),
            }
        }
        if self.options.read_back {
            self.read_back().await?;
        }
        Ok(())
    }

    fn report(&mut self, phase: &str, paused_for: Option<Duration>) {
        self.state.phase = phase.to_owned();
        self.state.paused_for_s = paused_for.map(|d| d.as_secs());
        (self.progress)(&self.state);
    }

    /// Sends one batch; returns its handle, or records the verdict at once when Meta refused
    /// the whole batch or ingested nothing.
    async fn send(&mut self, items: &[QueuedItem]) -> Result<Sent, SyncError> {
        let requests: Vec<Value> = items
            .iter()
            .map(|i| json!({"method": i.method.as_str(), "data": i.payload}))
            .collect();
        let form = vec![
            ("item_type".to_owned(), "PRODUCT_ITEM".to_owned()),
            ("allow_upsert".to_owned(), "true".to_owned()),
            ("requests".to_owned(), Value::Array(requests).to_string()),
        ];
        let path = format!("{}/items_batch", self.catalog_id);
        let held = self
            .hold_until
            .take()
            .map(|until| until.saturating_duration_since(Instant::now()))
            .filter(|wait| !wait.is_zero());
        if let Some(wait) = held
            && !self.pause(wait).await
        {
            return Ok(Sent::Cancelled);
        }
        loop {
            self.report("sending", None);
            self.summary.batch_calls += 1;
            match self.client.post_form(&path, form.clone()).await {
                Ok(response) => {
                    self.pace(&response);
                    let accepted: BatchAccepted = response.json()?;
                    let Some(handle) = accepted.handles.into_iter().next() else {
                        // Nothing ingested: each item's validation says why.
                        let by_id = index_validation(accepted.validation_status);
                        let outcomes = items
                            .iter()
                            .map(|i| {
                                let v = by_id.get(&i.retailer_id);
                                let details = v.map_or_else(
                                    || json!({"message": "Meta ingested nothing from this batch"}),
                                    |v| json!({"validation_status": v}),
                                );
                                (i.clone(), error(&i.retailer_id, details))
                            })
                            .collect::<Vec<_>>();
                        self.record(&outcomes)?;
                        return Ok(Sent::Settled);
                    };
                    let ids: Vec<&str> = items.iter().map(|i| i.retailer_id.as_str()).collect();
                    lock(self.store).mark_sent(
                        self.account_id,
                        &ids,
                        &handle,
                        OffsetDateTime::now_utc(),
                    )?;
                    return Ok(Sent::Batch(handle, accepted.validation_status));
                }
                Err(GraphError::Meta(e)) if e.class() == ErrorClass::Throttled => {
                    let wait = e
                        .regain_after
                        .filter(|d| !d.is_zero())
                        .unwrap_or(self.options.quota_window);
                    if !self.pause(wait).await {
                        return Ok(Sent::Cancelled);
                    }
                }
                Err(GraphError::Meta(e)) if e.class() == ErrorClass::InvalidRequest => {
                    // Meta refused the request as a whole (a malformed batch): every item
                    // carries its words, nothing is retried blindly.
                    let details = json!({"error": {"message": e.message, "code": e.code,
                        "error_subcode": e.error_subcode, "fbtrace_id": e.fbtrace_id}});
                    let outcomes: Vec<_> = items
                        .iter()
                        .map(|i| (i.clone(), error(&i.retailer_id, details.clone())))
                        .collect();
                    self.record(&outcomes)?;
                    return Ok(Sent::Settled);
                }
                Err(other) => return Err(other.into()),
            }
        }
    }

    /// Waits out the quota before Meta has to refuse: when the catalog's usage (or the app's)
    /// says the next batch would be over, the next batch waits for the regain time or the
    /// quota window (a last batch waits for nothing).
    fn pace(&mut self, response: &GraphResponse) {
        let usage = &response.usage;
        let spent = usage
            .business
            .iter()
            .flat_map(|m| m.get(self.catalog_id))
            .flatten()
            .filter(|e| e.kind.starts_with("catalog"))
            .filter_map(|e| {
                [e.call_count, e.total_time, e.total_cputime]
                    .into_iter()
                    .flatten()
                    .reduce(f64::max)
            })
            .any(|pct| pct >= 100.0);
        let app_high = usage
            .app
            .as_ref()
            .and_then(|a| a.call_count)
            .is_some_and(|pct| pct >= 90.0);
        if spent || app_high {
            let wait = usage.regain_after().unwrap_or(self.options.quota_window);
            self.hold_until = Some(Instant::now() + wait);
        }
    }

    /// Sleeps `wait` in one-second steps, reporting what is left; false when cancelled.
    async fn pause(&mut self, wait: Duration) -> bool {
        self.summary.throttle_pauses += 1;
        let started = Instant::now();
        while started.elapsed() < wait {
            if self.cancel.load(Ordering::Relaxed) {
                self.summary.paused_ms += started.elapsed().as_millis() as u64;
                return false;
            }
            let left = wait.saturating_sub(started.elapsed());
            self.report("paused for the rate limit", Some(left));
            tokio::time::sleep(left.min(Duration::from_secs(1))).await;
        }
        self.summary.paused_ms += started.elapsed().as_millis() as u64;
        true
    }

    /// Polls the batch until `finished` and records every item's verdict; false when the
    /// deadline passed (the items stay pending, confirmed by a later sync).
    async fn confirm(
        &mut self,
        handle: &str,
        items: &[QueuedItem],
        validation: &[ValidationStatus],
    ) -> Result<bool, SyncError> {
        let started = Instant::now();
        let mut wait = self.options.poll_first;
        let path = format!("{}/check_batch_request_status", self.catalog_id);
        let status = loop {
            self.report("waiting for Meta", None);
            tokio::time::sleep(wait).await;
            self.summary.status_polls += 1;
            let response = self
                .client
                .get(
                    &path,
                    &[("handle", handle), ("load_ids_of_invalid_requests", "true")],
                )
                .await;
            let response = match response {
                Ok(r) => r,
                Err(GraphError::Meta(e)) if e.class() == ErrorClass::Throttled => {
                    let regain = e.regain_after.unwrap_or(self.options.quota_window);
                    if !self.pause(regain).await {
                        return Ok(false);
                    }
                    continue;
                }
                // Meta refuses the handle itself (expired, unknown): the batch is lost to us,
                // not the products — they go back to the queue and are sent again.
                Err(GraphError::Meta(e)) if e.class() == ErrorClass::InvalidRequest => {
                    let note =
                        format!("Meta no longer knows this product's batch ({e}); sent again");
                    self.requeue(handle, &note)?;
                    return Ok(true);
                }
                Err(e) => return Err(e.into()),
            };
            let envelope: Envelope<BatchStatus> = response.json()?;
            let Some(status) = envelope.data.into_iter().next() else {
                let note = "Meta returned no status for this product's batch; sent again";
                self.requeue(handle, note)?;
                return Ok(true);
            };
            if status.status == "finished" {
                break status;
            }
            if started.elapsed() >= self.options.batch_deadline
                || self.cancel.load(Ordering::Relaxed)
            {
                return Ok(false);
            }
            wait = (wait * 2).min(self.options.poll_max);
        };
        // The rows carry the handle now (they were read before being marked sent).
        let items: Vec<QueuedItem> = items
            .iter()
            .map(|i| QueuedItem {
                handle: Some(handle.to_owned()),
                ..i.clone()
            })
            .collect();
        let outcomes = verdicts(&items, validation, &status);
        for (item, outcome) in &outcomes {
            if item.method == SyncMethod::Update && outcome.status == SyncStatus::Success {
                self.read_back.push(item.retailer_id.clone());
            }
        }
        self.record(&outcomes)?;
        Ok(true)
    }

    /// Puts a batch Meta lost back into the queue, counted and logged.
    fn requeue(&mut self, handle: &str, note: &str) -> Result<(), SyncError> {
        let moved = lock(self.store).requeue(self.account_id, handle, note)?;
        tracing::warn!(catalog = %self.catalog_id, items = moved, note, "batch requeued");
        self.summary.requeued += moved;
        Ok(())
    }

    fn record(&mut self, outcomes: &[(QueuedItem, ItemOutcome)]) -> Result<(), SyncError> {
        for (_, o) in outcomes {
            match o.status {
                SyncStatus::Success => self.summary.succeeded += 1,
                SyncStatus::Deleted => self.summary.deleted += 1,
                SyncStatus::Error => {
                    self.summary.failed += 1;
                    self.state.failed += 1;
                }
                SyncStatus::Pending => {}
            }
        }
        self.state.done += outcomes.len() as u32;
        lock(self.store).record_outcomes(
            self.account_id,
            self.catalog_id,
            outcomes,
            OffsetDateTime::now_utc(),
        )?;
        Ok(())
    }

    /// Reads the finished products back: Meta's product id and review status.
    async fn read_back(&mut self) -> Result<(), SyncError> {
        let ids = std::mem::take(&mut self.read_back);
        let path = format!("{}/products", self.catalog_id);
        for chunk in ids.chunks(READ_BACK_LIMIT) {
            self.report("reading back", None);
            // One product: Meta's documented `eq`; several: `is_any`, one call per 100.
            let filter = match chunk {
                [one] => json!({"retailer_id": {"eq": one}}),
                many => json!({"retailer_id": {"is_any": many}}),
            }
            .to_string();
            let limit = READ_BACK_LIMIT.to_string();
            self.summary.read_back_calls += 1;
            let response = self
                .client
                .get(
                    &path,
                    &[
                        ("fields", "id,retailer_id,review_status,errors"),
                        ("filter", filter.as_str()),
                        ("limit", limit.as_str()),
                    ],
                )
                .await?;
            #[derive(Deserialize)]
            struct Item {
                id: String,
                retailer_id: String,
                review_status: Option<String>,
                #[serde(default)]
                errors: Vec<Value>,
            }
            let page: Envelope<Item> = response.json()?;
            let store = &mut lock(self.store);
            for item in page.data {
                store.record_read_back(
                    self.account_id,
                    &item.retailer_id,
                    &item.id,
                    item.review_status.as_deref(),
                    &item.errors,
                )?;
            }
        }
        Ok(())
    }
}

/// What became of one `items_batch` call.
enum Sent {
    /// Meta queued it under this handle.
    Batch(String, Vec<ValidationStatus>),
    /// Meta refused it or ingested nothing; every item's verdict is recorded.
    Settled,
    Cancelled,
}

fn error(retailer_id: &str, details: Value) -> ItemOutcome {
    ItemOutcome {
        retailer_id: retailer_id.to_owned(),
        status: SyncStatus::Error,
        details: Some(details),
    }
}

fn index_validation(list: Vec<ValidationStatus>) -> HashMap<String, ValidationStatus> {
    list.into_iter()
        .map(|v| (v.retailer_id.clone(), v))
        .collect()
}

/// Each item's verdict from a finished batch: an error for its retailer id (by `id`, by
/// `line` — the request's 1-based position — or listed invalid) or in its validation status
/// makes it `error`, with Meta's words verbatim; otherwise `success` (`deleted` for a
/// delete), with any warnings kept.
fn verdicts(
    items: &[QueuedItem],
    validation: &[ValidationStatus],
    status: &BatchStatus,
) -> Vec<(QueuedItem, ItemOutcome)> {
    let invalid: HashSet<&str> = status
        .ids_of_invalid_requests
        .iter()
        .map(String::as_str)
        .collect();
    let for_item = |list: &[Value], index: usize, id: &str| -> Vec<Value> {
        list.iter()
            .filter(|e| {
                e.get("id").and_then(Value::as_str) == Some(id)
                    || (e.get("id").is_none()
                        && e.get("line").and_then(Value::as_u64) == Some(index as u64 + 1))
            })
            .cloned()
            .collect()
    };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let id = item.retailer_id.as_str();
            let v = validation.iter().find(|v| v.retailer_id == id);
            let mut errors = for_item(&status.errors, index, id);
            errors.extend(v.map(|v| v.errors.clone()).unwrap_or_default());
            let mut warnings = for_item(&status.warnings, index, id);
            warnings.extend(v.map(|v| v.warnings.clone()).unwrap_or_default());
            let failed = !errors.is_empty() || invalid.contains(id);
            let status = match (failed, item.method) {
                (true, _) => SyncStatus::Error,
                (false, SyncMethod::Update) => SyncStatus::Success,
                (false, SyncMethod::Delete) => SyncStatus::Deleted,
            };
            let details = if failed && errors.is_empty() {
                Some(json!({"errors": [{"message": "Meta listed this item among the invalid requests"}], "warnings": warnings}))
            } else if !errors.is_empty() || !warnings.is_empty() {
                Some(json!({"errors": errors, "warnings": warnings}))
            } else {
                None
            };
            (
                item.clone(),
                ItemOutcome {
                    retailer_id: id.to_owned(),
                    status,
                    details,
                },
            )
        })
        .collect()
}
