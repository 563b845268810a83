//! All SQL: schema, feeds, items, transactions. No other module imports rusqlite.
//!
//! A process opens its database once, as a [`Database`] (for reading only) or a
//! [`WritingDatabase`] (the writer lock, migrations, the configured feeds and rules
//! recorded; it alone gives out the write connection), which hand out connections:
//! nothing outside this module opens one. One [`Store`] is one
//! connection. Writes of polls go through one [`Writer`] thread that commits them in
//! batches; readers have their own connections, and the server a pool of them
//! ([`Readers`]; WAL lets them run alongside the writer). Housekeeping (retention, then
//! compaction when enough was freed) is the store's own job, run through the writer, as
//! is the full-text search index (filled at the end of each grouping round).

mod database;
mod feeds;
mod full_text;
mod generation;
mod housekeeping;
mod items;
mod lock;
mod readers;
mod schema;
mod search;
mod series;
mod writes;

use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::Connection;

pub use crate::model::PollCounts;
pub use database::{Database, WritingDatabase};
pub use feeds::{FeedRef, Purged};
pub use full_text::{FullText, PageOutcome, Waiting};
pub use generation::Generation;
pub use housekeeping::{Compaction, Retention, PRUNE_EVERY};
pub use lock::WriterLock;
pub use readers::{Cost, ReadError, Readers};
pub use series::{Explanation, SeriesRow};
pub use writes::{PollWrite, Redirect, Writer};

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A command that only reads found no database.
    #[error("no database at {}: {from} names it. Nothing has been stored there yet (`storyline poll`, or the daemon, creates it), or the service keeps it elsewhere: give its path with --database (or $STORYLINE_DATABASE)", path.display())]
    Missing {
        /// Where it was looked for.
        path: PathBuf,
        /// What named that path.
        from: String,
    },
    /// The database has an older schema, and a command that only reads cannot upgrade it.
    #[error("the database has schema version {found}, older than this storyline's ({known}); run `storyline poll` or start the daemon once to upgrade it")]
    TooOld {
        /// Version in the file.
        found: usize,
        /// Newest version this build knows.
        known: usize,
    },
    /// The file could not be opened or created.
    #[error("cannot open the database {path}: {reason}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// Why, as the database engine says it.
        reason: String,
    },
    /// The database was written by a newer storyline.
    #[error("the database has schema version {found}, newer than this storyline knows ({known}); upgrade storyline")]
    TooNew {
        /// Version in the file.
        found: usize,
        /// Newest version this build knows.
        known: usize,
    },
    /// Any other failure of the database engine, as it says it. (The engine's own error
    /// type stays inside this module: the error is the seam another backend fills.)
    #[error("database error: {0}")]
    Sql(String),
    /// A batch of polls could not be committed.
    #[error("database commit failed: {0}")]
    Commit(String),
    /// A background task of the store (a grouping round, a series write) stopped before
    /// it answered: it panicked or was cancelled.
    #[error("{task} stopped: {reason}")]
    TaskStopped {
        /// What the task was doing.
        task: &'static str,
        /// Why it stopped.
        reason: String,
    },
    /// The writer thread has stopped.
    #[error("the database writer has stopped")]
    WriterGone,
    /// The write connection was asked for a second time: one writer per process.
    #[error("the database's writer is already in use in this process")]
    WriterTaken,
    /// Another process writes to this database.
    #[error("the database {} is in use by {holder}; only one storyline may write to it at a time", database.display())]
    Locked {
        /// The database file.
        database: PathBuf,
        /// Who holds it, as its lock file says.
        holder: String,
    },
    /// The lock file beside the database could not be used.
    #[error("cannot use the lock file {path}: {source}")]
    LockFile {
        /// The lock file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A feed name that the store does not know.
    #[error("unknown feed `{0}`")]
    UnknownFeed(String),
    /// A search query the full-text index cannot read: the index's own words.
    #[error("cannot search for that: {0} (words match as they are; quote a phrase, join with AND, OR, NOT; end a word with * for its prefix)")]
    Search(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        StoreError::Sql(e.to_string())
    }
}

/// The storyline database.
pub struct Store {
    conn: Connection,
}

/// Page cache of the writer's connection, in KiB: keeps the dedupe indexes' hot pages in
/// memory while a cold start stores 50,000 items.
const WRITER_CACHE_KIB: i64 = 32_000;

/// Page cache of a read connection, in KiB (SQLite's default): reads walk an index once,
/// and the operating system caches the file. At 32 MiB, as the writer has, the grouping
/// reader's pass over a cold start's 50,000 items alone held 32 MiB (massif), and the
/// daemon has six readers.
const READER_CACHE_KIB: i64 = 2_000;

impl Store {
    /// Opens (creating if needed) and migrates the database at `path`, for writing.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open_with_cache(path, WRITER_CACHE_KIB)
    }

    /// Opens the database at `path` for reading (with a smaller page cache).
    pub fn open_reader(path: &Path) -> Result<Store, StoreError> {
        Store::open_with_cache(path, READER_CACHE_KIB)
    }

    /// Opens the database at `path` for reading only, for the commands that only read: it
    /// must exist (`from` says what named the path, for the error) and have this build's
    /// schema; nothing is created, migrated or written, so read access to the file is
    /// enough.
    pub fn open_read_only(path: &Path, from: &str) -> Result<Store, StoreError> {
        if !path.exists() {
            return Err(StoreError::Missing { path: path.to_path_buf(), from: from.to_string() });
        }
        let open_err = |e: rusqlite::Error| StoreError::Open { path: path.to_path_buf(), reason: e.to_string() };
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(open_err)?;
        conn.pragma_update(None, "cache_size", -READER_CACHE_KIB).map_err(open_err)?;
        schema::check(&conn)?;
        Ok(Store { conn })
    }

    fn open_with_cache(path: &Path, cache_kib: i64) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Best effort: a missing folder otherwise turns into SQLite's vaguer error.
            let _ = std::fs::create_dir_all(dir);
        }
        let open_err = |e: rusqlite::Error| StoreError::Open { path: path.to_path_buf(), reason: e.to_string() };
        let mut conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(open_err)?;
        conn.pragma_update(None, "cache_size", -cache_kib).map_err(open_err)?;
        // Statement journals (an upsert, a multi-row update) go to temporary storage.
        conn.pragma_update(None, "temp_store", "MEMORY").map_err(open_err)?;
        // Checkpoint every 32 MiB of log rather than SQLite's 4 MiB: a bulk poll rewrites
        // the same index pages in many transactions, and each checkpoint copies them into
        // the database again (and syncs it).
        conn.pragma_update(None, "wal_autocheckpoint", 8192).map_err(open_err)?;
        schema::migrate(&mut conn)?;
        Ok(Store { conn })
    }
}

impl Store {
    /// Whether this connection can read what every page needs: a query over the feeds
    /// and the newest item (so a missing or unreadable table is an error here too).
    pub fn check_readable(&self) -> Result<(), StoreError> {
        self.conn.query_row("SELECT count(*) FROM feeds", [], |r| r.get::<_, i64>(0))?;
        self.conn.query_row("SELECT max(id) FROM items", [], |r| r.get::<_, Option<i64>>(0))?;
        Ok(())
    }

    /// SQLite's `quick_check` of the whole file: `None` when it is sound, else the first
    /// problems it names (at most ten, on one line).
    pub fn quick_check(&self) -> Result<Option<String>, StoreError> {
        let mut stmt = self.conn.prepare("PRAGMA quick_check(10)")?;
        let found: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok((found != ["ok"]).then(|| found.join("; ")))
    }
}

/// Unix seconds for storage.
fn secs(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

/// Stored unix seconds back to a time.
fn time(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
}

/// RFC 3339 text of stored unix seconds, as the JSON contracts want it.
fn rfc3339(secs: i64) -> String {
    time(secs).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests;
