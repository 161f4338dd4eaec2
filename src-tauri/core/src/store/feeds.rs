//! `feed_sources` (where an account's products come from: a file or an `https://` URL, with
//! the validators of the last download) and `feed_runs` (each run's counts and outcome).
//! Products remember the source that last listed them (`products.source_id`), so a product
//! that vanished from its source can be found — and deleted at Meta, or held for a
//! confirmation when too many vanish at once.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use ts_rs::TS;

use super::{Store, StoreError, from_ms, to_ms};
use crate::product::Product;

/// How a feed run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum FeedOutcome {
    /// Imported and synced what changed (possibly nothing).
    Synced,
    /// The source had not changed since the last run (HTTP 304, or the same file).
    Unchanged,
    /// Synced what changed, but held the deletes: too many products vanished at once.
    Held,
    /// Not read, not a feed, or the sync failed; `message` says why.
    Failed,
}

impl FeedOutcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Synced => "synced",
            Self::Unchanged => "unchanged",
            Self::Held => "held",
            Self::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        match s {
            "synced" => Ok(Self::Synced),
            "unchanged" => Ok(Self::Unchanged),
            "held" => Ok(Self::Held),
            "failed" => Ok(Self::Failed),
            other => Err(StoreError::Corrupt(format!("feed outcome {other:?}"))),
        }
    }
}

/// One run of a feed source.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct FeedRun {
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub at: OffsetDateTime,
    #[ts(type = "number")]
    pub duration_ms: u64,
    /// `schedule`, `file changed`, `manual`, `confirmed deletes`.
    pub trigger: String,
    pub outcome: FeedOutcome,
    /// Rows in the feed (products and refused rows).
    pub rows: u32,
    /// Products new or changed in the feed.
    pub changed: u32,
    /// Rows refused by validation, and products Meta refused in the sync.
    pub refused: u32,
    /// Products that vanished from the source and were deleted (or forgotten, when never
    /// synced).
    pub deleted: u32,
    /// Products that vanished and wait for a confirmation before they are deleted.
    pub held: u32,
    /// Graph API calls the run made.
    pub calls: u32,
    pub message: Option<String>,
}

impl FeedRun {
    /// A run beginning at `at`, counts at zero, `outcome` until it ends otherwise.
    pub fn begin(at: OffsetDateTime, trigger: &str, outcome: FeedOutcome) -> Self {
        Self {
            at,
            duration_ms: 0,
            trigger: trigger.to_owned(),
            outcome,
            rows: 0,
            changed: 0,
            refused: 0,
            deleted: 0,
            held: 0,
            calls: 0,
            message: None,
        }
    }
}

/// A location as it is shown and logged: a URL without its query, which may carry the shop's
/// feed key.
pub fn displayed(location: &str) -> String {
    match url::Url::parse(location) {
        Ok(mut url) if url.query().is_some() => {
            url.set_query(Some("…"));
            url.to_string()
        }
        _ => location.to_owned(),
    }
}

/// A feed source with its latest run.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct FeedSource {
    #[ts(type = "number")]
    pub id: i64,
    /// An absolute file path or an `https://` URL.
    #[serde(skip)]
    #[ts(skip)]
    pub location: String,
    /// The location as shown: a URL's query (it may carry the shop's feed key) hidden.
    pub shown: String,
    /// Whether it is a URL (fetched on a schedule) rather than a file (read when it changes).
    pub is_url: bool,
    /// `csv`, `tsv`, `json` or `xml`; `None`: recognised from the content at each run.
    pub format: Option<String>,
    /// How often a URL is fetched (a file is read when it changes).
    pub every_minutes: u32,
    /// Deletes waiting for a confirmation.
    pub held_deletes: u32,
    pub last_run: Option<FeedRun>,
    /// The `ETag` / `Last-Modified` of the last download (a file: its size and time).
    #[serde(skip)]
    #[ts(skip)]
    pub validators: Validators,
}

/// What makes the next download conditional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// What importing a source's products changed, and which of its products vanished.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceImport {
    pub changed: u32,
    /// Products of this source before the run that Meta has (or had) — the base of the
    /// deletion brake.
    pub live_before: u32,
    /// Gone from the source, known to Meta: to delete there.
    pub vanished: Vec<String>,
    /// Gone from the source, never sent to Meta: forgotten here.
    pub forgotten: u32,
}

impl Store {
    /// Adds a source; an account lists each location once.
    pub fn add_feed_source(
        &mut self,
        account_id: i64,
        location: &str,
        format: Option<&str>,
        every_minutes: u32,
        now: OffsetDateTime,
    ) -> Result<i64, StoreError> {
        self.conn()
            .prepare_cached(
                "INSERT INTO feed_sources (account_id, location, format, every_minutes, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                account_id,
                location,
                format,
                every_minutes,
                to_ms(now)
            ])?;
        Ok(self.conn().last_insert_rowid())
    }

    /// The account's sources, oldest first, each with its latest run.
    pub fn feed_sources(&self, account_id: i64) -> Result<Vec<FeedSource>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT id, location, format, every_minutes, held_deletes, etag, last_modified
             FROM feed_sources WHERE account_id = ?1 ORDER BY id",
        )?;
        let rows = stmt
            .query_map([account_id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, u32>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = Vec::with_capacity(rows.len());
        for (id, location, format, every_minutes, held, etag, last_modified) in rows {
            out.push(FeedSource {
                id,
                shown: displayed(&location),
                is_url: location.contains("://"),
                location,
                format,
                every_minutes,
                held_deletes: held_ids(id, held.as_deref())?.len() as u32,
                last_run: self.feed_runs(id, 1)?.into_iter().next(),
                validators: Validators {
                    etag,
                    last_modified,
                },
            });
        }
        Ok(out)
    }

    /// Removes a source and its runs; its products stay (untagged). False when there was
    /// none with that id.
    pub fn remove_feed_source(&mut self, account_id: i64, id: i64) -> Result<bool, StoreError> {
        self.atomically(|store| {
            store.conn().execute(
                "UPDATE products SET source_id = NULL WHERE account_id = ?1 AND source_id = ?2",
                params![account_id, id],
            )?;
            Ok(store.conn().execute(
                "DELETE FROM feed_sources WHERE account_id = ?1 AND id = ?2",
                params![account_id, id],
            )? > 0)
        })
    }

    /// The newest runs of a source first.
    pub fn feed_runs(&self, source_id: i64, limit: u32) -> Result<Vec<FeedRun>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT at_ms, duration_ms, trigger, outcome, rows, changed, refused, deleted, held,
                    calls, message
             FROM feed_runs WHERE source_id = ?1 ORDER BY at_ms DESC, id DESC LIMIT ?2",
        )?;
        let rows = stmt
            .query_map(params![source_id, limit], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    [
                        r.get::<_, u32>(4)?,
                        r.get::<_, u32>(5)?,
                        r.get::<_, u32>(6)?,
                        r.get::<_, u32>(7)?,
                        r.get::<_, u32>(8)?,
                        r.get::<_, u32>(9)?,
                    ],
                    r.get::<_, Option<String>>(10)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(
                |(
                    at,
                    duration,
                    trigger,
                    outcome,
                    [rows, changed, refused, deleted, held, calls],
                    message,
                )| {
                    Ok(FeedRun {
                        at: from_ms(at)?,
                        duration_ms: u64::try_from(duration).unwrap_or(0),
                        trigger,
                        outcome: FeedOutcome::parse(&outcome)?,
                        rows,
                        changed,
                        refused,
                        deleted,
                        held,
                        calls,
                        message,
                    })
                },
            )
            .collect()
    }

    pub fn record_feed_run(&mut self, source_id: i64, run: &FeedRun) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached(
                "INSERT INTO feed_runs (source_id, at_ms, duration_ms, trigger, outcome, rows,
                   changed, refused, deleted, held, calls, message)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?
            .execute(params![
                source_id,
                to_ms(run.at),
                i64::try_from(run.duration_ms).unwrap_or(i64::MAX),
                run.trigger,
                run.outcome.as_str(),
                run.rows,
                run.changed,
                run.refused,
                run.deleted,
                run.held,
                run.calls,
                run.message,
            ])?;
        Ok(())
    }

    /// Remembers the validators of a download whose products are safely imported and synced.
    pub fn set_feed_validators(
        &mut self,
        source_id: i64,
        validators: &Validators,
    ) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached("UPDATE feed_sources SET etag = ?2, last_modified = ?3 WHERE id = ?1")?
            .execute(params![
                source_id,
                validators.etag,
                validators.last_modified
            ])?;
        Ok(())
    }

    /// Imports a source's products (tagging each with the source) and finds its products that
    /// vanished: `present` are the ids the feed still lists, its refused rows included (a row
    /// with a typo is not a product the shop removed). Those never sent to Meta are forgotten
    /// here at once; the others are returned, for a delete or a hold.
    pub fn import_from_source(
        &mut self,
        account_id: i64,
        source_id: i64,
        products: &[Product],
        present: &std::collections::HashSet<String>,
        now: OffsetDateTime,
    ) -> Result<SourceImport, StoreError> {
        let counts = self.import_products(account_id, products, now)?;
        self.atomically(|store| {
            let conn = store.conn();
            let live_before: u32 = conn.query_row(
                "SELECT COUNT(*) FROM products WHERE account_id = ?1 AND source_id = ?2
                 AND sync_status IS NOT NULL AND sync_status != 'deleted'",
                params![account_id, source_id],
                |r| r.get(0),
            )?;
            let mut tag = conn.prepare_cached(
                "UPDATE products SET source_id = ?3 WHERE account_id = ?1 AND retailer_id = ?2",
            )?;
            // Listed again after a delete at Meta: a product to create again, not a deleted one.
            let mut revive = conn.prepare_cached(
                "UPDATE products SET sync_status = NULL, synced_fingerprint = NULL
                 WHERE account_id = ?1 AND retailer_id = ?2 AND sync_status = 'deleted'",
            )?;
            let mut revived = 0u32;
            for p in products {
                tag.execute(params![account_id, p.id(), source_id])?;
                revived += revive.execute(params![account_id, p.id()])? as u32;
            }
            let mut listed = conn.prepare_cached(
                "SELECT retailer_id, sync_status FROM products
                 WHERE account_id = ?1 AND source_id = ?2
                 AND (sync_status IS NULL OR sync_status != 'deleted')",
            )?;
            let gone: Vec<(String, Option<String>)> = listed
                .query_map(params![account_id, source_id], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?
                .filter(|row| {
                    row.as_ref()
                        .map_or(true, |(id, _): &(String, _)| !present.contains(id))
                })
                .collect::<Result<_, _>>()?;
            let mut forget = conn.prepare_cached(
                "DELETE FROM products WHERE account_id = ?1 AND retailer_id = ?2",
            )?;
            let mut import = SourceImport {
                changed: counts.added + counts.updated + revived,
                live_before,
                ..SourceImport::default()
            };
            for (id, status) in gone {
                if status.is_none() {
                    forget.execute(params![account_id, id])?;
                    import.forgotten += 1;
                } else {
                    import.vanished.push(id);
                }
            }
            Ok(import)
        })
    }

    /// Keeps `ids` for a confirmation (replacing any held before).
    pub fn hold_deletes(&mut self, source_id: i64, ids: &[String]) -> Result<(), StoreError> {
        let json = (!ids.is_empty())
            .then(|| serde_json::to_string(ids))
            .transpose()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.conn()
            .prepare_cached("UPDATE feed_sources SET held_deletes = ?2 WHERE id = ?1")?
            .execute(params![source_id, json])?;
        Ok(())
    }

    /// Takes the held deletes of a source (confirmed): they are no longer held.
    pub fn take_held_deletes(&mut self, source_id: i64) -> Result<Vec<String>, StoreError> {
        self.atomically(|store| {
            let held: Option<Option<String>> = store
                .conn()
                .query_row(
                    "SELECT held_deletes FROM feed_sources WHERE id = ?1",
                    [source_id],
                    |r| r.get(0),
                )
                .optional()?;
            let ids = held_ids(source_id, held.flatten().as_deref())?;
            store.conn().execute(
                "UPDATE feed_sources SET held_deletes = NULL WHERE id = ?1",
                [source_id],
            )?;
            Ok(ids)
        })
    }
}

fn held_ids(source_id: i64, json: Option<&str>) -> Result<Vec<String>, StoreError> {
    json.map_or(Ok(Vec::new()), |j| {
        serde_json::from_str(j)
            .map_err(|e| StoreError::Corrupt(format!("feed {source_id} held deletes: {e}")))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used, reason = "a failed step must fail the test")]
    use std::collections::HashSet;

    use super::*;
    use crate::account::Account;
    use crate::store::products::{ItemOutcome, SyncStatus};

    fn product(id: &str) -> Product {
        Product::from_pairs([("id", id), ("title", "Mug")])
    }

    #[test]
    fn vanished_products_are_found_refused_rows_stay_and_unsent_ones_are_forgotten() {
        let now = OffsetDateTime::from_unix_timestamp(1_790_000_000).expect("time");
        let mut store = Store::in_memory().expect("store");
        let account = store
            .add_account(&Account::new("shop"), now)
            .expect("account");
        let source = store
            .add_feed_source(account, "/feeds/shop.csv", None, 60, now)
            .expect("source");
        let all: Vec<Product> = ["A", "B", "C", "D"].into_iter().map(product).collect();
        let ids =
            |list: &[&str]| -> HashSet<String> { list.iter().map(|s| (*s).to_owned()).collect() };
        let first = store
            .import_from_source(account, source, &all, &ids(&["A", "B", "C", "D"]), now)
            .expect("import");
        assert_eq!((first.changed, first.live_before), (4, 0));
        // A, B and C reached Meta; D never did.
        let outcomes: Vec<_> = ["A", "B", "C"]
            .into_iter()
            .map(|id| {
                (
                    crate::store::products::QueuedItem {
                        retailer_id: id.to_owned(),
                        method: crate::store::products::SyncMethod::Update,
                        payload: serde_json::json!({}),
                        fingerprint: String::new(),
                        handle: None,
                    },
                    ItemOutcome {
                        retailer_id: id.to_owned(),
                        status: SyncStatus::Success,
                        details: None,
                    },
                )
            })
            .collect();
        store
            .record_outcomes(account, "cat", &outcomes, now)
            .expect("outcomes");
        // The next run lists A only; B's row was refused (still listed), C and D vanished.
        let next = store
            .import_from_source(account, source, &all[..1], &ids(&["A", "B"]), now)
            .expect("import");
        assert_eq!(next.live_before, 3);
        assert_eq!(next.vanished, ["C"], "known to Meta: deleted there");
        assert_eq!(next.forgotten, 1, "D never reached Meta: forgotten here");
        assert!(store.product(account, "D").expect("read").is_none());

        store.hold_deletes(source, &next.vanished).expect("hold");
        assert_eq!(
            store.feed_sources(account).expect("list")[0].held_deletes,
            1
        );
        assert_eq!(store.take_held_deletes(source).expect("take"), ["C"]);
        assert!(store.take_held_deletes(source).expect("take").is_empty());
    }
}
