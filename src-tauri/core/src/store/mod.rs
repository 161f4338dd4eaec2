//! The local SQLite store: WAL, foreign keys and a busy timeout set on open (outside the
//! migrations); an append-only migration list. One module per table.

pub mod accounts;
pub mod alerts;
pub mod feeds;
mod files;
pub mod holds;
pub mod leases;
pub mod metrics;
pub mod pauses;
pub mod probe_runs;
pub mod products;
pub mod rollups;
pub mod sent_events;
pub mod settings;
pub mod tiles;
pub mod transitions;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

/// `--db PATH` and this variable override the default database path.
pub const DB_ENV: &str = "META_MONITOR_DB";

/// Append-only: never edit a released entry, add a new one.
const MIGRATIONS: &[M<'static>] = &[
    M::up(
        "CREATE TABLE accounts (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        graph_url TEXT NOT NULL,
        api_version TEXT NOT NULL,
        app_id TEXT,
        ad_account_id TEXT,
        pixel_id TEXT,
        catalog_id TEXT,
        business_id TEXT,
        test_event_code TEXT,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE probe_runs (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        probe TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        status TEXT NOT NULL,
        outcome TEXT NOT NULL,
        latency_ms INTEGER,
        http_status INTEGER,
        graph_code INTEGER,
        graph_subcode INTEGER,
        fbtrace_id TEXT,
        message TEXT NOT NULL
    );
    CREATE INDEX probe_runs_by_account_time ON probe_runs(account_id, at_ms);
    CREATE TABLE metric_points (
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        value REAL NOT NULL
    );
    CREATE INDEX metric_points_by_series ON metric_points(account_id, name, at_ms);
    CREATE TABLE tiles (
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        service TEXT NOT NULL,
        status TEXT NOT NULL,
        latency_ms INTEGER,
        last_check_ms INTEGER NOT NULL,
        last_success_ms INTEGER,
        message TEXT NOT NULL,
        metrics TEXT NOT NULL,
        PRIMARY KEY (account_id, service)
    );",
    ),
    M::up(
        "CREATE TABLE alert_states (
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            state TEXT NOT NULL,
            PRIMARY KEY (account_id, key)
        );
        CREATE TABLE notifications (
            id INTEGER PRIMARY KEY,
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            at_ms INTEGER NOT NULL,
            key TEXT NOT NULL,
            kind TEXT NOT NULL,
            severity TEXT NOT NULL,
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            channel TEXT NOT NULL,
            delivered INTEGER NOT NULL,
            error TEXT
        );
        CREATE INDEX notifications_by_account_time ON notifications(account_id, at_ms);",
    ),
    M::up(
        "CREATE TABLE status_transitions (
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            service TEXT NOT NULL,
            at_ms INTEGER NOT NULL,
            from_status TEXT,
            to_status TEXT NOT NULL,
            message TEXT NOT NULL
        );
        CREATE INDEX status_transitions_by_account_time ON status_transitions(account_id, at_ms);
        CREATE TABLE rollups (
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            tier TEXT NOT NULL CHECK (tier IN ('hour', 'day')),
            bucket_ms INTEGER NOT NULL,
            count INTEGER NOT NULL,
            sum REAL NOT NULL,
            min REAL NOT NULL,
            max REAL NOT NULL,
            sketch BLOB NOT NULL,
            PRIMARY KEY (account_id, name, tier, bucket_ms)
        ) WITHOUT ROWID;
        CREATE TABLE rollup_watermarks (
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            tier TEXT NOT NULL,
            up_to_ms INTEGER NOT NULL,
            PRIMARY KEY (account_id, tier)
        );
        CREATE TABLE jobs (
            name TEXT PRIMARY KEY,
            last_run_ms INTEGER NOT NULL
        );",
    ),
    M::up("ALTER TABLE accounts ADD COLUMN webhook_endpoints TEXT NOT NULL DEFAULT '[]';"),
    // Compact history: series names stored once, points and rollups keyed by the series id
    // (WITHOUT ROWID, primary key = the read order), sketches only for distributions.
    M::up(
        "CREATE TABLE series (
            id INTEGER PRIMARY KEY,
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            UNIQUE (account_id, name)
        );
        CREATE TABLE points (
            series_id INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,
            at_ms INTEGER NOT NULL,
            value REAL NOT NULL,
            PRIMARY KEY (series_id, at_ms)
        ) WITHOUT ROWID;
        CREATE TABLE series_rollups (
            series_id INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,
            tier TEXT NOT NULL CHECK (tier IN ('hour', 'day')),
            bucket_ms INTEGER NOT NULL,
            count INTEGER NOT NULL,
            sum REAL NOT NULL,
            min REAL NOT NULL,
            max REAL NOT NULL,
            sketch BLOB,
            PRIMARY KEY (series_id, tier, bucket_ms)
        ) WITHOUT ROWID;
        INSERT OR IGNORE INTO series (account_id, name)
            SELECT DISTINCT account_id, name FROM metric_points;
        INSERT OR IGNORE INTO series (account_id, name)
            SELECT DISTINCT account_id, name FROM rollups;
        INSERT OR REPLACE INTO points (series_id, at_ms, value)
            SELECT s.id, m.at_ms, m.value FROM metric_points m
            JOIN series s ON s.account_id = m.account_id AND s.name = m.name;
        INSERT OR REPLACE INTO series_rollups
            SELECT s.id, r.tier, r.bucket_ms, r.count, r.sum, r.min, r.max, r.sketch FROM rollups r
            JOIN series s ON s.account_id = r.account_id AND s.name = r.name;
        DROP TABLE metric_points;
        DROP TABLE rollups;",
    ),
    // Per-account intervals, thresholds and channels as JSON; '{}' reads as the defaults.
    M::up("ALTER TABLE accounts ADD COLUMN monitoring TEXT NOT NULL DEFAULT '{}';"),
    // Conversions API events the app sent (keys present, never values) and Meta's answers.
    M::up(
        "CREATE TABLE sent_events (
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            sent_at_ms INTEGER NOT NULL,
            event_name TEXT NOT NULL,
            event_id TEXT NOT NULL,
            event_time INTEGER NOT NULL,
            test_event_code TEXT,
            keys TEXT NOT NULL,
            outcome TEXT NOT NULL,
            fbtrace_id TEXT,
            message TEXT
        );
        CREATE INDEX sent_events_by_account_time ON sent_events (account_id, sent_at_ms);",
    ),
    M::up(
        "CREATE TABLE products (
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            retailer_id TEXT NOT NULL,
            fields TEXT NOT NULL,
            updated_at_ms INTEGER NOT NULL,
            meta_product_id TEXT,
            catalog_id TEXT,
            last_sync_ms INTEGER,
            sync_status TEXT,
            error_details TEXT,
            review_status TEXT,
            synced_fingerprint TEXT,
            PRIMARY KEY (account_id, retailer_id)
        );
        CREATE TABLE sync_queue (
            id INTEGER PRIMARY KEY,
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            retailer_id TEXT NOT NULL,
            method TEXT NOT NULL,
            payload TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            prior_status TEXT,
            handle TEXT,
            sent_at_ms INTEGER,
            UNIQUE (account_id, retailer_id)
        );",
    ),
    // Throttle pauses outlive a restart or a settings reload: no probe of a bucket Meta
    // throttles before its regain time, whichever process made the call.
    M::up(
        "CREATE TABLE throttle_pauses (
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            bucket TEXT NOT NULL,
            until_ms INTEGER NOT NULL,
            PRIMARY KEY (account_id, bucket)
        );",
    ),
    // The error behind a tile, typed (JSON of `TileError`), instead of keys in its metrics.
    M::up("ALTER TABLE tiles ADD COLUMN error TEXT;"),
    // A tile's measurements become one typed detail per service (JSON of `tile::Detail`). The
    // string-keyed maps are not carried over: a tile is the last check's result, and the next
    // check (minutes away) writes its detail again; status and message stay meanwhile.
    M::up(
        "ALTER TABLE tiles RENAME COLUMN metrics TO detail;
         UPDATE tiles SET detail = '{\"kind\":\"none\"}';",
    ),
    // One catalog sync per account across processes (`leases.rs`).
    M::up(
        "CREATE TABLE sync_leases (
            account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
            holder TEXT NOT NULL,
            until_ms INTEGER NOT NULL
        );",
    ),
    // The installation's settings, shared by the window and the command line (`settings.rs`).
    M::up("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);"),
    // Incidents read from the transitions: Meta's code and fbtrace_id of the failure that
    // changed the status, and the newest message while the status held (`transitions.rs`).
    M::up(
        "ALTER TABLE status_transitions ADD COLUMN code INTEGER;
         ALTER TABLE status_transitions ADD COLUMN fbtrace_id TEXT;
         ALTER TABLE status_transitions ADD COLUMN last_message TEXT;
         CREATE INDEX status_transitions_by_service
             ON status_transitions(account_id, service, at_ms);",
    ),
    // Acknowledgements, silences and maintenance windows (`holds.rs`).
    M::up(
        "CREATE TABLE holds (
            id INTEGER PRIMARY KEY,
            account_id INTEGER REFERENCES accounts(id) ON DELETE CASCADE,
            hold TEXT NOT NULL,
            created_ms INTEGER NOT NULL
        );",
    ),
    // Feed sources and their runs; each product remembers the source that listed it
    // (`feeds.rs`).
    M::up(
        "CREATE TABLE feed_sources (
            id INTEGER PRIMARY KEY,
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            location TEXT NOT NULL,
            format TEXT,
            every_minutes INTEGER NOT NULL,
            etag TEXT,
            last_modified TEXT,
            held_deletes TEXT,
            created_ms INTEGER NOT NULL,
            UNIQUE (account_id, location)
        );
        CREATE TABLE feed_runs (
            id INTEGER PRIMARY KEY,
            source_id INTEGER NOT NULL REFERENCES feed_sources(id) ON DELETE CASCADE,
            at_ms INTEGER NOT NULL,
            duration_ms INTEGER NOT NULL,
            trigger TEXT NOT NULL,
            outcome TEXT NOT NULL,
            rows INTEGER NOT NULL,
            changed INTEGER NOT NULL,
            refused INTEGER NOT NULL,
            deleted INTEGER NOT NULL,
            held INTEGER NOT NULL,
            calls INTEGER NOT NULL,
            message TEXT
        );
        CREATE INDEX feed_runs_by_source ON feed_runs(source_id, at_ms);
        ALTER TABLE products ADD COLUMN source_id INTEGER
            REFERENCES feed_sources(id) ON DELETE SET NULL;",
    ),
];

pub fn migrations() -> Migrations<'static> {
    Migrations::from_slice(MIGRATIONS)
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("cannot create the database folder {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no account named {0:?}")]
    NoSuchAccount(String),
    #[error("an account named {0:?} already exists")]
    DuplicateAccount(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

pub struct Store {
    conn: Connection,
    /// Series ids by (account, name): a point insert is then one statement. Cleared whenever
    /// a series may have vanished (account removed, transaction rolled back).
    series_ids: std::collections::HashMap<(i64, String), i64>,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings it to the latest schema.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let folder_error = |folder: &Path| {
            let folder = folder.to_owned();
            move |source| StoreError::Folder {
                path: folder,
                source,
            }
        };
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
        if let Some(parent) = parent {
            files::create_folder(parent).map_err(folder_error(parent))?;
            if app_data_dir().is_some_and(|app| app == parent) {
                files::tighten(parent);
            }
        }
        files::create_private_file(path).map_err(folder_error(parent.unwrap_or(path)))?;
        let store = Self::init(Connection::open(path)?)?;
        // Only once the file proved to be a readable database: a damaged one is left as found.
        for file in files::database_files(path) {
            files::tighten(&file);
        }
        Ok(store)
    }

    /// A private in-memory database (demo mode, tests).
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<Self, StoreError> {
        conn.busy_timeout(Duration::from_secs(5))?;
        // Before anything writes: a damaged file is reported and left exactly as it is.
        let verdict: String = conn.query_row("PRAGMA quick_check(1)", [], |r| r.get(0))?;
        if verdict != "ok" {
            return Err(StoreError::Corrupt(format!("integrity check: {verdict}")));
        }
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrations().to_latest(&mut conn)?;
        Ok(Self {
            conn,
            series_ids: Default::default(),
        })
    }

    /// Runs `f` as one transaction: everything it writes is committed together or not at
    /// all (a savepoint, so the store's own transactions nest inside it). One commit per
    /// scheduler step instead of one per row is also what keeps months of history cheap.
    pub fn atomically<T>(
        &mut self,
        f: impl FnOnce(&mut Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.conn.execute_batch("SAVEPOINT atomically")?;
        match f(self) {
            Ok(value) => {
                self.conn.execute_batch("RELEASE atomically")?;
                Ok(value)
            }
            Err(e) => {
                self.series_ids.clear();
                // The error that matters is `e`; a failed rollback leaves the savepoint open
                // until the connection closes, which discards it too.
                let _ = self
                    .conn
                    .execute_batch("ROLLBACK TO atomically; RELEASE atomically");
                Err(e)
            }
        }
    }

    /// Forgets the cached series ids (after a rollback, a series may be gone).
    pub(crate) fn series_ids_clear(&mut self) {
        self.series_ids.clear();
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    pub fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

/// `$META_MONITOR_DB`, else `meta-monitor.db` in the OS data directory.
pub fn default_path() -> PathBuf {
    if let Some(p) = std::env::var_os(DB_ENV).filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    app_data_dir()
        .map(|d| d.join("meta-monitor.db"))
        .unwrap_or_else(|| PathBuf::from("meta-monitor.db"))
}

/// The app's own per-user data folder (made private when it is the database's folder).
fn app_data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("com", "MetaMonitor", "meta-monitor")
        .map(|d| d.data_dir().to_owned())
}

pub(crate) fn to_ms(t: time::OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

pub(crate) fn from_ms(ms: i64) -> Result<time::OffsetDateTime, StoreError> {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|e| StoreError::Corrupt(format!("timestamp {ms}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_validate() {
        migrations()
            .validate()
            .expect("migrations apply cleanly to an empty database");
    }

    #[test]
    fn history_written_before_the_compact_schema_is_carried_over() {
        let mut conn = Connection::open_in_memory().expect("db");
        conn.pragma_update(None, "foreign_keys", "ON").expect("fk");
        migrations().to_version(&mut conn, 4).expect("schema 4");
        conn.execute_batch(
            "INSERT INTO accounts (id, name, graph_url, api_version, created_at)
                VALUES (7, 'shop', 'https://graph.facebook.com', 'v24.0', 0);
             INSERT INTO metric_points VALUES (7, 'meta.api.latency_ms', 1000, 120.5),
                (7, 'meta.api.latency_ms', 2000, 80.0), (7, 'meta.ads.spend_24h', 1000, 12.0);
             INSERT INTO rollups VALUES (7, 'meta.api.latency_ms', 'hour', 0, 2, 200.5, 80.0,
                120.5, x'00');",
        )
        .expect("old rows");
        migrations().to_latest(&mut conn).expect("latest");
        let points: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM points p JOIN series s ON s.id = p.series_id
                 WHERE s.account_id = 7 AND s.name = 'meta.api.latency_ms'",
                [],
                |r| r.get(0),
            )
            .expect("points");
        let series: i64 = conn
            .query_row("SELECT COUNT(*) FROM series", [], |r| r.get(0))
            .expect("series");
        let rollup: f64 = conn
            .query_row("SELECT sum FROM series_rollups", [], |r| r.get(0))
            .expect("rollup");
        assert_eq!((points, series, rollup), (2, 2, 200.5));
    }

    #[test]
    fn pragmas_are_set_on_a_file_database() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store =
            Store::open(&dir.path().join("nested/m.db")).expect("opens and creates folders");
        let mode: String = store
            .conn()
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .expect("pragma");
        assert_eq!(mode, "wal");
        let fk: i64 = store
            .conn()
            .pragma_query_value(None, "foreign_keys", |r| r.get(0))
            .expect("pragma");
        assert_eq!(fk, 1, "foreign keys on");
    }

    #[test]
    fn a_file_that_cannot_be_opened_is_refused_and_left_as_it_was() {
        let dir = tempfile::tempdir().expect("tempdir");
        let garbage = dir.path().join("garbage.db");
        let bytes = b"not a database at all\n".repeat(100);
        std::fs::write(&garbage, &bytes).expect("write");
        assert!(Store::open(&garbage).is_err(), "not a database");
        assert_eq!(std::fs::read(&garbage).expect("read"), bytes, "untouched");

        // A database from a newer Meta Monitor: its schema is ahead of ours.
        let newer = dir.path().join("newer.db");
        drop(Store::open(&newer).expect("created"));
        rusqlite::Connection::open(&newer)
            .and_then(|c| c.pragma_update(None, "user_version", 999))
            .expect("bump the schema version");
        let err = Store::open(&newer).err().expect("refused");
        assert!(
            matches!(err, StoreError::Migration(_)),
            "a newer schema is a migration error, which the app explains as such: {err}"
        );
    }
}
