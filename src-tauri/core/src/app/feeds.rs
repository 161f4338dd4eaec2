//! Feed sources of an account, and their runs: read the source when it changed, import and
//! validate, delete at Meta what vanished (or hold the deletes when too much vanished at
//! once), and sync what changed — one workflow for `meta-monitor feed run`, the schedule in
//! `run` and the window.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use super::types::SyncSelection;
use super::{App, AppError, ErrorCode, lock};
use crate::alert::{Condition, Severity};
use crate::catalog::feed::{self, Fetched, Location};
use crate::catalog::import::{self, FeedFormat};
use crate::catalog::sync::{self, SyncProgress};
use crate::store::feeds::{FeedOutcome, FeedRun, FeedSource, SourceImport, displayed as shown};
use crate::tile::Service;

/// How long a changed file must stay quiet before it is read (an editor saves in steps, an
/// export is written for a while).
const SETTLE: Duration = Duration::from_millis(700);
/// A file written without a pause for this long is read anyway (its stamp decides again on
/// the next event).
const SETTLE_AT_MOST: Duration = Duration::from_secs(30);
/// The longest the schedule sleeps before looking at the sources again (one added by the
/// window or another process starts within this).
const LOOK_EVERY: Duration = Duration::from_secs(30);

/// How often a URL source is fetched unless told (Commerce Manager's own schedules are at most
/// hourly; a shop's changes reach Meta within the hour).
pub const DEFAULT_FEED_MINUTES: u32 = 60;

impl App {
    /// Adds a feed source: an `https://` URL fetched every `every_minutes`, or a file read when
    /// it changes; `format` when the content does not show it.
    pub fn add_feed(
        &self,
        account: &str,
        location: &str,
        format: Option<FeedFormat>,
        every_minutes: Option<u32>,
    ) -> Result<FeedSource, AppError> {
        let (entry, store) = self.entry(account)?;
        let location = Location::parse(location).map_err(AppError::invalid)?;
        let every = every_minutes.unwrap_or(DEFAULT_FEED_MINUTES);
        if !(5..=10_080).contains(&every) {
            return Err(AppError::invalid(format!(
                "a feed is fetched every 5 to 10080 minutes (got {every})"
            )));
        }
        let text = location.as_text();
        let mut store = lock(&store);
        if store
            .feed_sources(entry.id)?
            .iter()
            .any(|s| s.location == text)
        {
            return Err(AppError::invalid(format!(
                "{account} already has the feed {}",
                shown(&text)
            )));
        }
        let format = format.map(|f| f.to_string());
        let id = store.add_feed_source(
            entry.id,
            &text,
            format.as_deref(),
            every,
            OffsetDateTime::now_utc(),
        )?;
        let added = store
            .feed_sources(entry.id)?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or_else(|| AppError::store("the feed source just added is missing"))?;
        // The schedule runs it at once (a file) and watches it from now on.
        self.feeds_changed.notify_one();
        Ok(added)
    }

    /// The account's feed sources with their latest runs.
    pub fn feeds(&self, account: &str) -> Result<Vec<FeedSource>, AppError> {
        let (entry, store) = self.entry(account)?;
        Ok(lock(&store).feed_sources(entry.id)?)
    }

    /// The newest runs of one source.
    pub fn feed_runs(&self, account: &str, source: i64) -> Result<Vec<FeedRun>, AppError> {
        let (_, store, source) = self.source(account, source)?;
        Ok(lock(&store).feed_runs(source.id, 100)?)
    }

    /// Removes a source; its products stay in the catalog.
    pub fn remove_feed(&self, account: &str, source: i64) -> Result<(), AppError> {
        let (entry, store) = self.entry(account)?;
        let removed = lock(&store)
            .feed_sources(entry.id)?
            .into_iter()
            .find(|s| s.id == source);
        if !lock(&store).remove_feed_source(entry.id, source)? {
            return Err(no_source(account, source));
        }
        // Its held deletes are void with it: a firing alert about them resolves.
        if let Some(removed) = removed.filter(|s| s.held_deletes > 0) {
            self.raise_held_deletes(account, &removed, 0, None, true);
        }
        Ok(())
    }

    /// Runs a source: read (when it changed), import, delete what vanished or hold the
    /// deletes, sync what changed; the run is recorded whatever its outcome.
    pub async fn run_feed(
        &self,
        account: &str,
        source: i64,
        trigger: &str,
        progress: impl Fn(&SyncProgress) + Send + Sync,
    ) -> Result<FeedRun, AppError> {
        let (entry, store, source) = self.source(account, source)?;
        let entry_id = entry.id;
        let started = Instant::now();
        let at = OffsetDateTime::now_utc();
        let mut run = FeedRun::begin(at, trigger, FeedOutcome::Failed);
        let result = self
            .run_source(account, &entry, &store, &source, &mut run, progress)
            .await;
        if let Err(e) = &result {
            run.outcome = FeedOutcome::Failed;
            run.message = Some(e.message.clone());
        }
        run.duration_ms = started.elapsed().as_millis() as u64;
        tokio::task::block_in_place(|| lock(&store).record_feed_run(source.id, &run))?;
        // On the hold as stored now: an unchanged run (a 304) keeps an earlier hold firing.
        let held_now = tokio::task::block_in_place(|| lock(&store).feed_sources(entry_id))
            .ok()
            .and_then(|list| list.into_iter().find(|s| s.id == source.id))
            .map_or(0, |s| s.held_deletes);
        self.raise_held_deletes(account, &source, held_now, run.message.as_deref(), false);
        match run.outcome {
            FeedOutcome::Failed => {
                tracing::warn!(account, feed = %shown(&source.location), message = ?run.message, "feed run failed")
            }
            outcome => {
                tracing::info!(account, feed = %shown(&source.location), ?outcome, changed = run.changed,
                    deleted = run.deleted, held = run.held, refused = run.refused, calls = run.calls, "feed run")
            }
        }
        result.map(|()| run)
    }

    /// Deletes at Meta the products a run held back, as the operator confirmed.
    pub async fn confirm_feed_deletes(
        &self,
        account: &str,
        source: i64,
        expected: Option<u32>,
        progress: impl Fn(&SyncProgress) + Send + Sync,
    ) -> Result<FeedRun, AppError> {
        let (entry, store, source) = self.source(account, source)?;
        let started = Instant::now();
        if let Some(expected) = expected
            && expected != source.held_deletes
        {
            return Err(AppError::invalid(format!(
                "the held deletes changed since they were shown ({} now, not {expected}); \
                 look again and confirm",
                source.held_deletes
            )));
        }
        // Only what still exists here and is not deleted yet (a product listed again since the
        // hold was taken off it by that run).
        let ids = tokio::task::block_in_place(|| -> Result<Vec<String>, AppError> {
            let mut store = lock(&store);
            let held = store.take_held_deletes(source.id)?;
            let live: HashSet<String> = store
                .products(entry.id, None)?
                .into_iter()
                .filter(|p| p.sync_status != Some(crate::store::products::SyncStatus::Deleted))
                .map(|p| p.fields.id().to_owned())
                .collect();
            Ok(held.into_iter().filter(|id| live.contains(id)).collect())
        })?;
        if ids.is_empty() {
            self.raise_held_deletes(account, &source, 0, None, false);
            return Err(AppError::invalid(format!(
                "no deletes are waiting for a confirmation in {}",
                shown(&source.location)
            )));
        }
        let summary = self
            .sync_products(
                account,
                SyncSelection::Delete { ids: ids.clone() },
                progress,
            )
            .await;
        let mut run = FeedRun::begin(
            OffsetDateTime::now_utc(),
            "confirmed deletes",
            FeedOutcome::Synced,
        );
        run.duration_ms = started.elapsed().as_millis() as u64;
        match &summary {
            Ok(s) => {
                run.calls = s.calls();
                run.deleted = s.deleted;
                run.refused = s.failed;
            }
            Err(e) => {
                // Not deleted: held again, for the next confirmation.
                lock(&store).hold_deletes(source.id, &ids)?;
                run.outcome = FeedOutcome::Failed;
                run.held = ids.len() as u32;
                run.message = Some(e.message.clone());
            }
        }
        lock(&store).record_feed_run(source.id, &run)?;
        self.raise_held_deletes(account, &source, run.held, run.message.as_deref(), false);
        summary.map(|_| run)
    }

    /// Runs every watched account's feed sources on their schedule until `shutdown`: a URL
    /// when its interval has passed since its last run, a file when it changes on disk (and
    /// once at the start, for changes made while nothing watched it). The window and
    /// `meta-monitor run` both call this; a run fails alone and is recorded.
    pub async fn run_feeds(&self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let (tx, mut changed) = tokio::sync::mpsc::unbounded_channel::<PathBuf>();
        // Only the feed files themselves: their folders hold other busy files (the database
        // and its journal, when the feed sits beside it) whose events must not wake anyone.
        let files: std::sync::Arc<std::sync::Mutex<HashSet<PathBuf>>> = std::sync::Arc::default();
        let wanted = files.clone();
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            if let Ok(event) = event
                && (event.kind.is_create() || event.kind.is_modify())
            {
                let wanted = lock(&wanted);
                for path in event.paths.into_iter().filter(|p| wanted.contains(p)) {
                    let _ = tx.send(path);
                }
            }
        });
        let mut watcher = match watcher {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!(error = %e, "feed files cannot be watched; they are read every {} s instead", LOOK_EVERY.as_secs());
                None
            }
        };
        let mut watched_dirs: HashSet<PathBuf> = HashSet::new();
        // Sources seen before: a file source is read when first seen (at the start, or
        // added meanwhile), then when it changes.
        let mut known: HashSet<(String, i64)> = HashSet::new();
        // Runs skipped while their catalog synced: run at the next look.
        let mut skipped: HashSet<(String, i64, &'static str)> = HashSet::new();
        loop {
            let now = OffsetDateTime::now_utc();
            let mut next = now + LOOK_EVERY;
            let mut due: Vec<(String, i64)> = Vec::new();
            for account in self.account_names() {
                let Ok(sources) = self.feeds(&account) else {
                    continue;
                };
                for source in sources {
                    match Location::parse(&source.location) {
                        Ok(Location::File(path)) => {
                            lock(&files).insert(path.clone());
                            let dir = path.parent().map(PathBuf::from).unwrap_or_default();
                            let watching = watcher.as_mut().is_some_and(|w| {
                                use notify::Watcher;
                                watched_dirs.contains(&dir)
                                    || w.watch(&dir, notify::RecursiveMode::NonRecursive).is_ok()
                            });
                            if watching {
                                watched_dirs.insert(dir);
                            }
                            let first_sight = known.insert((account.clone(), source.id));
                            if first_sight || !watching {
                                due.push((account.clone(), source.id));
                            }
                        }
                        Ok(Location::Url(_)) => {
                            let every = time::Duration::minutes(i64::from(source.every_minutes));
                            match source.last_run.as_ref().map(|r| r.at + every) {
                                Some(at) if at > now => next = next.min(at),
                                _ => due.push((account.clone(), source.id)),
                            }
                        }
                        // A file deleted meanwhile: its runs say so when it is run by hand.
                        Err(_) => {}
                    }
                }
            }
            let retries: Vec<_> = skipped.drain().collect();
            for (account, id, trigger) in due
                .into_iter()
                .map(|(a, id)| (a, id, "schedule"))
                .chain(retries)
            {
                if !self.scheduled_run(&account, id, trigger).await {
                    skipped.insert((account, id, trigger));
                }
            }
            if !skipped.is_empty() {
                next = next.min(OffsetDateTime::now_utc() + time::Duration::seconds(5));
            }
            let wait = (next - OffsetDateTime::now_utc())
                .max(time::Duration::ZERO)
                .unsigned_abs();
            tokio::select! {
                () = &mut shutdown => break,
                () = tokio::time::sleep(wait) => {}
                () = self.feeds_changed.notified() => {}
                Some(first) = changed.recv() => {
                    // Settled: no event for SETTLE (a large export is written for a while), at
                    // most SETTLE_AT_MOST after the first.
                    let mut paths = HashSet::from([first]);
                    let deadline = tokio::time::Instant::now() + SETTLE_AT_MOST;
                    while tokio::time::Instant::now() < deadline
                        && let Ok(Some(p)) = tokio::time::timeout(SETTLE, changed.recv()).await
                    {
                        paths.insert(p);
                    }
                    for (account, id) in self.sources_at(&paths) {
                        if !self.scheduled_run(&account, id, "file changed").await {
                            skipped.insert((account, id, "file changed"));
                        }
                    }
                }
            }
        }
    }

    /// A run of the schedule; false when skipped because the account's catalog syncs (to run
    /// again shortly). A failed run is recorded with its reason and not repeated before its
    /// next turn.
    async fn scheduled_run(&self, account: &str, id: i64, trigger: &str) -> bool {
        if lock(&self.syncs).contains_key(account) {
            return false;
        }
        if let Err(e) = self
            .run_feed(account, id, trigger, |_: &SyncProgress| {})
            .await
        {
            tracing::debug!(account, feed = id, error = %e.message, "scheduled feed run failed");
        }
        true
    }

    /// The alert for deletes held in `source`: fired when a run holds them, resolved once no
    /// run holds any (confirmed, or the products came back) — the usual state machine, holds
    /// and channels; `resolve_now` when the source itself is gone.
    fn raise_held_deletes(
        &self,
        account: &str,
        source: &FeedSource,
        held: u32,
        message: Option<&str>,
        resolve_now: bool,
    ) {
        let (monitor, watched) = {
            let current = lock(&self.current);
            (current.monitor.clone(), current.watched.clone())
        };
        let Some(watched) = watched.iter().find(|w| w.account.name == account) else {
            return;
        };
        let condition = Condition {
            key: format!("feed_deletes_held:{}", source.id),
            service: Some(Service::Catalog),
            active: held > 0,
            severity: Severity::Warning,
            immediate: true,
            once: false,
            title: format!(
                "Feed deletes wait for a confirmation: {}",
                shown(&source.location)
            ),
            body: message.unwrap_or_default().to_owned(),
        };
        // A source removed: resolved at once (as many passes as the policy asks).
        let passes = if resolve_now {
            monitor.resolve_after()
        } else {
            1
        };
        let raised = tokio::task::block_in_place(|| {
            (0..passes).try_for_each(|_| {
                monitor
                    .raise(
                        watched,
                        std::slice::from_ref(&condition),
                        OffsetDateTime::now_utc(),
                    )
                    .map(drop)
            })
        });
        if let Err(e) = raised {
            tracing::warn!(account, error = %e, "the held-deletes alert could not be decided");
        }
    }

    /// The file sources at `paths`, across the watched accounts.
    fn sources_at(&self, paths: &HashSet<PathBuf>) -> Vec<(String, i64)> {
        let mut found = Vec::new();
        for account in self.account_names() {
            for source in self.feeds(&account).unwrap_or_default() {
                if paths.contains(std::path::Path::new(&source.location)) {
                    found.push((account.clone(), source.id));
                }
            }
        }
        found
    }

    async fn run_source(
        &self,
        account: &str,
        entry: &crate::monitor::AccountEntry,
        store: &std::sync::Arc<std::sync::Mutex<crate::store::Store>>,
        source: &FeedSource,
        run: &mut FeedRun,
        progress: impl Fn(&SyncProgress) + Send + Sync,
    ) -> Result<(), AppError> {
        let location = Location::parse(&source.location).map_err(AppError::invalid)?;
        let fetched = feed::fetch(&self.http(), &location, &source.validators)
            .await
            .map_err(|e| AppError::new(ErrorCode::FeedUnavailable, e))?;
        let (text, validators) = match fetched {
            Fetched::Unchanged => {
                run.outcome = FeedOutcome::Unchanged;
                return Ok(());
            }
            Fetched::Changed { text, validators } => (text, validators),
        };
        let format = source
            .format
            .as_deref()
            .map(str::parse::<FeedFormat>)
            .transpose()
            .map_err(AppError::invalid)?;
        let parsed = import::read(text.as_bytes(), format)
            .map_err(|e| AppError::invalid(format!("{}: {e}", shown(&source.location))))?;
        drop(text);
        run.rows = (parsed.products.len() + parsed.rejected.len()) as u32;
        run.refused = parsed.rejected.len() as u32;
        let present: HashSet<String> = parsed
            .products
            .iter()
            .map(|(_, p)| p.id().to_owned())
            .chain(parsed.rejected.iter().filter_map(|r| r.id.clone()))
            .collect();
        // A refused row whose id could not be read (a broken line, an unknown entity) may be
        // any product: none is deleted as vanished while one exists.
        let unidentified = parsed.rejected.iter().filter(|r| r.id.is_none()).count();
        let products: Vec<_> = parsed.products.into_iter().map(|(_, p)| p).collect();
        let brake = entry.account.monitoring.feed_delete_brake_pct;
        let must_hold = |imported: &SourceImport| {
            !imported.vanished.is_empty()
                && (unidentified > 0
                    || feed::needs_confirmation(
                        imported.vanished.len(),
                        imported.live_before,
                        brake,
                    ))
        };
        let imported: SourceImport = tokio::task::block_in_place(|| {
            let mut store = lock(store);
            let imported = store.import_from_source(
                entry.id,
                source.id,
                &products,
                &present,
                OffsetDateTime::now_utc(),
            )?;
            if must_hold(&imported) {
                store.hold_deletes(source.id, &imported.vanished)?;
            } else {
                // Deletes held by an earlier run are void: what vanished now is deleted, what
                // came back is listed again.
                store.hold_deletes(source.id, &[])?;
                sync::queue_deletes(&mut store, entry.id, &imported.vanished)?;
            }
            Ok::<_, AppError>(imported)
        })?;
        run.changed = imported.changed;
        let held = must_hold(&imported);
        if held {
            run.held = imported.vanished.len() as u32;
            let why = if unidentified > 0 {
                format!(
                    "{} products vanished while {unidentified} refused rows have no readable \
                     id (any of them may be one of those products)",
                    imported.vanished.len()
                )
            } else {
                format!(
                    "{} of the feed's {} products vanished at once (more than {brake} %)",
                    imported.vanished.len(),
                    imported.live_before
                )
            };
            run.message = Some(format!(
                "{why}: their deletes wait for a confirmation (the Catalog view, or meta-monitor \
                 feed confirm-deletes {account} {})",
                source.id
            ));
        } else {
            run.deleted = imported.vanished.len() as u32 + imported.forgotten;
        }
        let to_send = imported.changed > 0 || (!held && !imported.vanished.is_empty());
        let pending_changes = tokio::task::block_in_place(|| {
            lock(store).product_counts(entry.id).map(|c| c.changed > 0)
        })?;
        if to_send || pending_changes {
            let summary = self
                .sync_products(account, SyncSelection::Changed, progress)
                .await?;
            run.calls = summary.calls();
            run.refused += summary.failed;
        }
        run.outcome = if held {
            FeedOutcome::Held
        } else {
            FeedOutcome::Synced
        };
        // Only now: a run that failed before this point downloads the feed again next time.
        tokio::task::block_in_place(|| lock(store).set_feed_validators(source.id, &validators))?;
        Ok(())
    }

    fn source(
        &self,
        account: &str,
        source: i64,
    ) -> Result<
        (
            crate::monitor::AccountEntry,
            std::sync::Arc<std::sync::Mutex<crate::store::Store>>,
            FeedSource,
        ),
        AppError,
    > {
        let (entry, store) = self.entry(account)?;
        let found = lock(&store)
            .feed_sources(entry.id)?
            .into_iter()
            .find(|s| s.id == source);
        match found {
            Some(s) => Ok((entry, store, s)),
            None => Err(no_source(account, source)),
        }
    }
}

fn no_source(account: &str, source: i64) -> AppError {
    AppError::new(
        ErrorCode::NotFound,
        format!("{account} has no feed {source} (meta-monitor feed list {account})"),
    )
}
