//! `products` (the shop's products with their Meta state) and `sync_queue` (what is waiting
//! to be sent or confirmed). The queue is the source of truth for a sync in flight: a row
//! without a handle is waiting to be sent, a row with one waits for Meta to finish that
//! batch. Rows leave the queue only in the transaction that records their outcome, so a sync
//! stopped at any point resumes without losing an item — and resending one is harmless,
//! because Meta's `UPDATE` is keyed by the retailer id.

use crate::redact::scrub_shapes;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use time::OffsetDateTime;

use super::{Store, StoreError, from_ms, to_ms};
use crate::product::Product;

/// Where a product stands with Meta.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum SyncStatus {
    Success,
    Error,
    Pending,
    Deleted,
}

impl SyncStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Error => "error",
            Self::Pending => "pending",
            Self::Deleted => "deleted",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        match s {
            "success" => Ok(Self::Success),
            "error" => Ok(Self::Error),
            "pending" => Ok(Self::Pending),
            "deleted" => Ok(Self::Deleted),
            other => Err(StoreError::Corrupt(format!("sync status {other:?}"))),
        }
    }
}

/// A product with what Meta last said about it.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct StoredProduct {
    #[ts(type = "Record<string, string>")]
    pub fields: Product,
    pub meta_product_id: Option<String>,
    pub catalog_id: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[ts(type = "string | null")]
    pub last_sync: Option<OffsetDateTime>,
    /// `None`: never synced.
    pub sync_status: Option<SyncStatus>,
    /// Meta's errors and warnings for this item, verbatim (or our own validation problems).
    #[ts(type = "unknown")]
    pub error_details: Option<serde_json::Value>,
    /// Meta's review of the item (`approved`, `pending`, `rejected`, `outdated`) when read back.
    pub review_status: Option<String>,
    /// The product differs from what Meta last accepted (or was never accepted).
    pub changed: bool,
}

/// How an import changed the table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ImportCounts {
    pub added: u32,
    pub updated: u32,
    pub unchanged: u32,
}

/// `UPDATE` (create or change, Meta's upsert) or `DELETE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SyncMethod {
    Update,
    Delete,
}

impl SyncMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Update => "UPDATE",
            Self::Delete => "DELETE",
        }
    }
}

/// One item of the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedItem {
    pub retailer_id: String,
    pub method: SyncMethod,
    /// The `data` sent to Meta (feed fields; only `id` for a delete).
    pub payload: serde_json::Value,
    pub fingerprint: String,
    pub handle: Option<String>,
}

/// What Meta decided for one item, recorded by [`Store::record_outcomes`].
#[derive(Debug, Clone, PartialEq)]
pub struct ItemOutcome {
    pub retailer_id: String,
    pub status: SyncStatus,
    pub details: Option<serde_json::Value>,
}

/// Products per sync status, for the catalog tile and the summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct StatusCounts {
    pub total: u32,
    pub never: u32,
    pub success: u32,
    pub error: u32,
    pub pending: u32,
    pub deleted: u32,
    /// Products whose fields differ from what Meta last accepted (deleted ones excluded).
    pub changed: u32,
}

const COLUMNS: &str = "fields, meta_product_id, catalog_id, last_sync_ms, sync_status, \
    error_details, review_status, synced_fingerprint";

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawRow> {
    Ok(RawRow {
        fields: r.get(0)?,
        meta_product_id: r.get(1)?,
        catalog_id: r.get(2)?,
        last_sync_ms: r.get(3)?,
        sync_status: r.get(4)?,
        error_details: r.get(5)?,
        review_status: r.get(6)?,
        synced_fingerprint: r.get(7)?,
    })
}

struct RawRow {
    fields: String,
    meta_product_id: Option<String>,
    catalog_id: Option<String>,
    last_sync_ms: Option<i64>,
    sync_status: Option<String>,
    error_details: Option<String>,
    review_status: Option<String>,
    synced_fingerprint: Option<String>,
}

impl RawRow {
    fn into_product(self) -> Result<StoredProduct, StoreError> {
        let fields: Product = serde_json::from_str(&self.fields)
            .map_err(|e| StoreError::Corrupt(format!("product fields: {e}")))?;
        let sync_status = self
            .sync_status
            .as_deref()
            .map(SyncStatus::parse)
            .transpose()?;
        let changed = sync_status != Some(SyncStatus::Deleted)
            && self.synced_fingerprint.as_deref() != Some(fields.fingerprint().as_str());
        Ok(StoredProduct {
            meta_product_id: self.meta_product_id,
            catalog_id: self.catalog_id,
            last_sync: self.last_sync_ms.map(from_ms).transpose()?,
            sync_status,
            error_details: self
                .error_details
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|e| StoreError::Corrupt(format!("error details: {e}")))?,
            review_status: self.review_status,
            changed,
            fields,
        })
    }
}

impl Store {
    /// Adds or updates products by retailer id in one transaction; a product whose fields are
    /// unchanged is left as it is (its sync state stays true).
    pub fn import_products(
        &mut self,
        account_id: i64,
        products: &[Product],
        now: OffsetDateTime,
    ) -> Result<ImportCounts, StoreError> {
        let mut counts = ImportCounts::default();
        let tx = self.conn_mut().transaction()?;
        {
            let mut existing = tx.prepare_cached(
                "SELECT fields FROM products WHERE account_id = ?1 AND retailer_id = ?2",
            )?;
            let mut upsert = tx.prepare_cached(
                "INSERT INTO products (account_id, retailer_id, fields, updated_at_ms)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (account_id, retailer_id)
                 DO UPDATE SET fields = excluded.fields, updated_at_ms = excluded.updated_at_ms",
            )?;
            for p in products {
                let json = serde_json::to_string(p)
                    .map_err(|e| StoreError::Corrupt(format!("product fields: {e}")))?;
                let before: Option<String> = existing
                    .query_row(params![account_id, p.id()], |r| r.get(0))
                    .optional()?;
                match &before {
                    Some(b) if *b == json => counts.unchanged += 1,
                    Some(_) => counts.updated += 1,
                    None => counts.added += 1,
                }
                if before.as_deref() != Some(json.as_str()) {
                    upsert.execute(params![account_id, p.id(), json, to_ms(now)])?;
                }
            }
        }
        tx.commit()?;
        Ok(counts)
    }

    /// Every product, by retailer id; only those with `status` when given (`Some(None)`
    /// selects the never-synced ones).
    pub fn products(
        &self,
        account_id: i64,
        status: Option<Option<SyncStatus>>,
    ) -> Result<Vec<StoredProduct>, StoreError> {
        let (filter, value) = match status {
            None => ("", None),
            Some(None) => ("AND sync_status IS NULL", None),
            Some(Some(s)) => ("AND sync_status = ?2", Some(s.as_str())),
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM products WHERE account_id = ?1 {filter} ORDER BY retailer_id"
        );
        let mut stmt = self.conn().prepare(&sql)?;
        let rows: Vec<RawRow> = match value {
            Some(v) => stmt
                .query_map(params![account_id, v], read_row)?
                .collect::<Result<_, _>>()?,
            None => stmt
                .query_map(params![account_id], read_row)?
                .collect::<Result<_, _>>()?,
        };
        rows.into_iter().map(RawRow::into_product).collect()
    }

    pub fn product(
        &self,
        account_id: i64,
        retailer_id: &str,
    ) -> Result<Option<StoredProduct>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM products WHERE account_id = ?1 AND retailer_id = ?2");
        let row = self
            .conn()
            .query_row(&sql, params![account_id, retailer_id], read_row)
            .optional()?;
        row.map(RawRow::into_product).transpose()
    }

    /// Removes a product from the local table (not from Meta: that is a sync with `DELETE`).
    pub fn forget_product(
        &mut self,
        account_id: i64,
        retailer_id: &str,
    ) -> Result<bool, StoreError> {
        let n = self.conn().execute(
            "DELETE FROM products WHERE account_id = ?1 AND retailer_id = ?2",
            params![account_id, retailer_id],
        )?;
        self.conn().execute(
            "DELETE FROM sync_queue WHERE account_id = ?1 AND retailer_id = ?2 AND handle IS NULL",
            params![account_id, retailer_id],
        )?;
        Ok(n > 0)
    }

    pub fn product_counts(&self, account_id: i64) -> Result<StatusCounts, StoreError> {
        let mut counts = StatusCounts::default();
        let mut stmt = self.conn().prepare_cached(
            "SELECT fields, sync_status, synced_fingerprint FROM products WHERE account_id = ?1",
        )?;
        let mut rows = stmt.query(params![account_id])?;
        while let Some(r) = rows.next()? {
            counts.total += 1;
            let status: Option<String> = r.get(1)?;
            match status.as_deref() {
                None => counts.never += 1,
                Some("success") => counts.success += 1,
                Some("error") => counts.error += 1,
                Some("pending") => counts.pending += 1,
                Some(_) => {
                    counts.deleted += 1;
                    continue;
                }
            }
            let fields: Product = serde_json::from_str(&r.get::<_, String>(0)?)
                .map_err(|e| StoreError::Corrupt(format!("product fields: {e}")))?;
            if r.get::<_, Option<String>>(2)?.as_deref() != Some(fields.fingerprint().as_str()) {
                counts.changed += 1;
            }
        }
        Ok(counts)
    }

    /// Queues items (replacing a not-yet-sent entry for the same product) and marks their
    /// products pending; returns how many were queued. An item already sent and awaiting
    /// Meta is not queued again.
    pub fn enqueue(&mut self, account_id: i64, items: &[QueuedItem]) -> Result<u32, StoreError> {
        let tx = self.conn_mut().transaction()?;
        let mut queued = 0;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO sync_queue
                   (account_id, retailer_id, method, payload, fingerprint, prior_status)
                 VALUES (?1, ?2, ?3, ?4, ?5, (SELECT sync_status FROM products
                   WHERE account_id = ?1 AND retailer_id = ?2))
                 ON CONFLICT (account_id, retailer_id) DO UPDATE SET
                   method = excluded.method, payload = excluded.payload,
                   fingerprint = excluded.fingerprint
                 WHERE sync_queue.handle IS NULL",
            )?;
            let mut pending = tx.prepare_cached(
                "UPDATE products SET sync_status = 'pending' WHERE account_id = ?1 AND retailer_id = ?2",
            )?;
            for item in items {
                queued += insert.execute(params![
                    account_id,
                    item.retailer_id,
                    item.method.as_str(),
                    item.payload.to_string(),
                    item.fingerprint,
                ])? as u32;
                pending.execute(params![account_id, item.retailer_id])?;
            }
        }
        tx.commit()?;
        Ok(queued)
    }

    /// Takes the items not yet sent off the queue, their products back to the status they
    /// had before (a cancelled sync); returns how many.
    pub fn cancel_unsent(&mut self, account_id: i64) -> Result<u32, StoreError> {
        let tx = self.conn_mut().transaction()?;
        tx.execute(
            "UPDATE products SET sync_status = (SELECT prior_status FROM sync_queue q
               WHERE q.account_id = products.account_id AND q.retailer_id = products.retailer_id)
             WHERE account_id = ?1 AND retailer_id IN
               (SELECT retailer_id FROM sync_queue WHERE account_id = ?1 AND handle IS NULL)",
            params![account_id],
        )?;
        let n = tx.execute(
            "DELETE FROM sync_queue WHERE account_id = ?1 AND handle IS NULL",
            params![account_id],
        )?;
        tx.commit()?;
        Ok(n as u32)
    }

    /// Items waiting to be sent, oldest first, at most `limit`.
    pub fn unsent(&self, account_id: i64, limit: usize) -> Result<Vec<QueuedItem>, StoreError> {
        self.queue_rows(account_id, "handle IS NULL ORDER BY id LIMIT ?2", limit)
    }

    /// Items sent and awaiting Meta's verdict, grouped by batch handle in sending order.
    pub fn in_flight(&self, account_id: i64) -> Result<Vec<(String, Vec<QueuedItem>)>, StoreError> {
        let rows = self.queue_rows(
            account_id,
            "handle IS NOT NULL ORDER BY sent_at_ms, id LIMIT ?2",
            i64::MAX as usize,
        )?;
        let mut out: Vec<(String, Vec<QueuedItem>)> = Vec::new();
        for item in rows {
            let handle = item.handle.clone().unwrap_or_default();
            match out.iter_mut().find(|(h, _)| *h == handle) {
                Some((_, items)) => items.push(item),
                None => out.push((handle, vec![item])),
            }
        }
        Ok(out)
    }

    /// Puts the items of batch `handle` back among the unsent — Meta no longer knows the
    /// handle, or it stayed unfinished past any reasonable time — with `note` in each product's
    /// details. Sending them again is safe: `UPDATE` is keyed by the retailer id. Returns
    /// how many went back.
    pub fn requeue(
        &mut self,
        account_id: i64,
        handle: &str,
        note: &str,
    ) -> Result<u32, StoreError> {
        let tx = self.conn_mut().transaction()?;
        let details = serde_json::json!({"source": "meta-monitor", "note": note}).to_string();
        tx.execute(
            "UPDATE products SET error_details = ?3 WHERE account_id = ?1 AND retailer_id IN
               (SELECT retailer_id FROM sync_queue WHERE account_id = ?1 AND handle = ?2)",
            params![account_id, handle, scrub_shapes(&details)],
        )?;
        let moved = tx.execute(
            "UPDATE sync_queue SET handle = NULL, sent_at_ms = NULL
             WHERE account_id = ?1 AND handle = ?2",
            params![account_id, handle],
        )?;
        tx.commit()?;
        Ok(u32::try_from(moved).unwrap_or(u32::MAX))
    }

    /// Handles of batches sent before `before` and still awaiting a verdict.
    pub fn stale_handles(
        &self,
        account_id: i64,
        before: OffsetDateTime,
    ) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT DISTINCT handle FROM sync_queue
             WHERE account_id = ?1 AND handle IS NOT NULL AND sent_at_ms < ?2",
        )?;
        let rows = stmt.query_map(params![account_id, to_ms(before)], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many items are queued (sent or not).
    pub fn queue_len(&self, account_id: i64) -> Result<u32, StoreError> {
        Ok(self.conn().query_row(
            "SELECT COUNT(*) FROM sync_queue WHERE account_id = ?1",
            params![account_id],
            |r| r.get(0),
        )?)
    }

    fn queue_rows(
        &self,
        account_id: i64,
        tail: &str,
        limit: usize,
    ) -> Result<Vec<QueuedItem>, StoreError> {
        let sql = format!(
            "SELECT retailer_id, method, payload, fingerprint, handle FROM sync_queue
             WHERE account_id = ?1 AND {tail}"
        );
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![account_id, limit], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?;
        rows.map(|row| {
            let (retailer_id, method, payload, fingerprint, handle) = row?;
            Ok(QueuedItem {
                retailer_id,
                method: if method == "DELETE" {
                    SyncMethod::Delete
                } else {
                    SyncMethod::Update
                },
                payload: serde_json::from_str(&payload)
                    .map_err(|e| StoreError::Corrupt(format!("queued payload: {e}")))?,
                fingerprint,
                handle,
            })
        })
        .collect()
    }

    /// Records that Meta accepted these items into batch `handle`.
    pub fn mark_sent(
        &mut self,
        account_id: i64,
        retailer_ids: &[&str],
        handle: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let tx = self.conn_mut().transaction()?;
        {
            let mut update = tx.prepare_cached(
                "UPDATE sync_queue SET handle = ?3, sent_at_ms = ?4
                 WHERE account_id = ?1 AND retailer_id = ?2 AND handle IS NULL",
            )?;
            for id in retailer_ids {
                update.execute(params![account_id, id, handle, to_ms(now)])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Stores Meta's verdicts and takes the items off the queue, in one transaction. A
    /// success remembers the fingerprint of what was sent (so "changed" compares against
    /// what Meta has); `meta_product_id` and `review_status` are set when read back.
    pub fn record_outcomes(
        &mut self,
        account_id: i64,
        catalog_id: &str,
        outcomes: &[(QueuedItem, ItemOutcome)],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let tx = self.conn_mut().transaction()?;
        {
            let mut update = tx.prepare_cached(
                "UPDATE products SET sync_status = ?3, error_details = ?4, last_sync_ms = ?5,
                   catalog_id = ?6,
                   synced_fingerprint = CASE WHEN ?3 = 'success' THEN ?7
                                             WHEN ?3 = 'deleted' THEN NULL
                                             ELSE synced_fingerprint END,
                   meta_product_id = CASE WHEN ?3 = 'deleted' THEN NULL ELSE meta_product_id END,
                   review_status = CASE WHEN ?3 = 'deleted' THEN NULL ELSE review_status END
                 WHERE account_id = ?1 AND retailer_id = ?2",
            )?;
            let mut dequeue = tx.prepare_cached(
                "DELETE FROM sync_queue WHERE account_id = ?1 AND retailer_id = ?2
                 AND (handle IS ?3)",
            )?;
            for (item, outcome) in outcomes {
                update.execute(params![
                    account_id,
                    outcome.retailer_id,
                    outcome.status.as_str(),
                    outcome
                        .details
                        .as_ref()
                        .map(|d| scrub_shapes(&d.to_string())),
                    to_ms(now),
                    catalog_id,
                    item.fingerprint,
                ])?;
                dequeue.execute(params![account_id, item.retailer_id, item.handle])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Stores what reading the item back from Meta said: its id, its review, and the
    /// item's own `errors` (kept verbatim beside the batch's verdict, under `item_errors`).
    pub fn record_read_back(
        &mut self,
        account_id: i64,
        retailer_id: &str,
        meta_product_id: &str,
        review_status: Option<&str>,
        item_errors: &[serde_json::Value],
    ) -> Result<(), StoreError> {
        let details = if item_errors.is_empty() {
            None
        } else {
            let before: Option<String> = self
                .conn()
                .query_row(
                    "SELECT error_details FROM products WHERE account_id = ?1 AND retailer_id = ?2",
                    params![account_id, retailer_id],
                    |r| r.get(0),
                )
                .optional()?
                .flatten();
            let mut details = before
                .and_then(|b| serde_json::from_str::<serde_json::Value>(&b).ok())
                .filter(serde_json::Value::is_object)
                .unwrap_or_else(|| serde_json::json!({}));
            details["item_errors"] = serde_json::Value::from(item_errors.to_vec());
            Some(scrub_shapes(&details.to_string()))
        };
        self.conn().execute(
            "UPDATE products SET meta_product_id = ?3, review_status = ?4,
               error_details = COALESCE(?5, error_details)
             WHERE account_id = ?1 AND retailer_id = ?2",
            params![
                account_id,
                retailer_id,
                meta_product_id,
                review_status,
                details
            ],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used, reason = "a failed step must fail the test")]

    use super::*;
    use crate::Account;
    use crate::catalog::sync::{queue_deletes, queue_updates};

    fn mug(title: &str) -> Product {
        Product::from_pairs([
            ("id", "SKU-1"),
            ("title", title),
            ("description", "A mug"),
            ("availability", "in stock"),
            ("condition", "new"),
            ("price", "12.34 USD"),
            ("link", "https://shop.example/mug"),
            ("image_link", "https://shop.example/mug.jpg"),
            ("brand", "Acme"),
        ])
    }

    #[test]
    fn the_queue_survives_until_meta_decides_and_a_cancel_restores_the_status() {
        let mut store = Store::in_memory().expect("store");
        let now = OffsetDateTime::now_utc();
        let id = store
            .add_account(&Account::new("shop"), now)
            .expect("account");
        store
            .import_products(id, &[mug("Mug")], now)
            .expect("import");
        assert_eq!(store.product_counts(id).expect("counts").never, 1);

        // Queued, then cancelled before sending: back to "never synced".
        queue_updates(&mut store, id, "C1", &[mug("Mug")], now).expect("queue");
        assert_eq!(
            store
                .product(id, "SKU-1")
                .expect("read")
                .and_then(|p| p.sync_status),
            Some(SyncStatus::Pending)
        );
        assert_eq!(store.cancel_unsent(id).expect("cancel"), 1);
        assert_eq!(
            store
                .product(id, "SKU-1")
                .expect("read")
                .and_then(|p| p.sync_status),
            None
        );

        // Sent: the item stays queued under its handle until Meta's verdict is recorded.
        queue_updates(&mut store, id, "C1", &[mug("Mug")], now).expect("queue");
        store.mark_sent(id, &["SKU-1"], "H1", now).expect("sent");
        assert_eq!(store.unsent(id, 10).expect("unsent"), vec![]);
        assert_eq!(
            queue_deletes(&mut store, id, &["SKU-1".into()]).expect("delete"),
            0,
            "in flight: not queued again"
        );
        let in_flight = store.in_flight(id).expect("in flight");
        assert_eq!(in_flight.len(), 1);
        let (handle, items) = &in_flight[0];
        assert_eq!(handle, "H1");
        let outcome = ItemOutcome {
            retailer_id: "SKU-1".into(),
            status: SyncStatus::Success,
            details: None,
        };
        store
            .record_outcomes(id, "C1", &[(items[0].clone(), outcome)], now)
            .expect("record");
        assert_eq!(store.queue_len(id).expect("len"), 0);
        let p = store.product(id, "SKU-1").expect("read").expect("product");
        assert_eq!(
            (p.sync_status, p.changed, p.catalog_id.as_deref()),
            (Some(SyncStatus::Success), false, Some("C1"))
        );

        // An edit makes it "changed" again; re-importing the same fields does not.
        let counts = store
            .import_products(id, &[mug("Big mug")], now)
            .expect("import");
        assert_eq!(
            counts,
            ImportCounts {
                added: 0,
                updated: 1,
                unchanged: 0
            }
        );
        assert!(
            store
                .product(id, "SKU-1")
                .expect("read")
                .expect("product")
                .changed
        );
        assert_eq!(store.product_counts(id).expect("counts").changed, 1);
    }

    #[test]
    fn invalid_products_are_marked_with_their_problems_and_never_queued() {
        let mut store = Store::in_memory().expect("store");
        let now = OffsetDateTime::now_utc();
        let id = store
            .add_account(&Account::new("shop"), now)
            .expect("account");
        let mut bad = mug("Mug");
        bad.0.insert("price".into(), "cheap".into());
        store
            .import_products(id, &[bad.clone()], now)
            .expect("import");
        let (queued, invalid) = queue_updates(&mut store, id, "C1", &[bad], now).expect("queue");
        assert_eq!((queued, invalid), (0, 1));
        assert_eq!(store.queue_len(id).expect("len"), 0);
        let p = store.product(id, "SKU-1").expect("read").expect("product");
        assert_eq!(p.sync_status, Some(SyncStatus::Error));
        let details = p.error_details.expect("details");
        assert_eq!(details["errors"][0]["field"], "price");
    }
}
