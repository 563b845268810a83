//! Housekeeping the store owns: retention (dropping the bodies of aged items) and the
//! compaction that gives the space back to the disk. The daemon runs it at start, after
//! each reload and hourly; a one-shot `poll` runs it too. It never changes which items or
//! series exist, only how much of each aged item is kept.

use chrono::{DateTime, Utc};
use rusqlite::OptionalExtension;

use super::{secs, Store, StoreError};

/// Retention scans the items table, so it runs at most this often unless forced: the
/// daemon applies it hourly, and one-shot `poll`s run from cron every few minutes do not
/// each scan.
pub const PRUNE_EVERY: chrono::Duration = chrono::Duration::hours(1);

/// The file is compacted (VACUUM) once the bodies dropped since the last compaction add
/// up to this share of it. A dropped body leaves a hole inside its page that SQLite never
/// fills again: new items go to the end of the table, so without compaction retention
/// barely slows the file's growth. Measured on the 1,000 x 50 benchmark corpus (release
/// build): all 50k bodies pruned, then 44k new items polled, the file was 184 MB without
/// compaction and 135 MB with it (the compaction itself took 96.5 MB to 46.8 MB in
/// 0.54 s). A compaction rewrites the live part of the file, so waiting for a quarter to
/// be free keeps its cost at about three bytes written per byte given back.
const COMPACT_AT_SHARE: f64 = 0.25;

/// What one run of retention did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retention {
    /// Items whose bodies were dropped.
    pub pruned: usize,
    /// Whether the file was compacted afterwards.
    pub compaction: Compaction,
}

/// The compaction after a retention run. A failed one (a full disk: it needs room for a
/// copy of the live data) is reported, not an error: the pruning stands and the next run
/// tries again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Compaction {
    /// Too little has been freed since the last one to be worth rewriting the file.
    NotNeeded,
    /// The file was rewritten and shrank by this many bytes.
    Reclaimed(u64),
    /// It was due but could not run; why, as the database engine says it.
    Failed(String),
}

impl Store {
    /// Retention: drops the bodies of items first seen before `cutoff`. The rows stay,
    /// with identity, title and link, so a feed that still lists an old item does not bring
    /// it back as new, and series keep their members. Runs at most once per
    /// [`PRUNE_EVERY`] (it scans the table), remembered across runs, unless `force`d (the
    /// retention setting changed). Then compacts the file if enough has been freed since
    /// the last compaction (see [`COMPACT_AT_SHARE`]).
    pub fn prune(&mut self, cutoff: DateTime<Utc>, now: DateTime<Utc>, force: bool) -> Result<Retention, StoreError> {
        let tx = self.conn.transaction()?;
        let last: Option<i64> = tx
            .query_row("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'last_prune'", [], |r| r.get(0))
            .optional()?;
        if !force && last.is_some_and(|last| secs(now) - last < PRUNE_EVERY.num_seconds()) {
            return Ok(Retention { pruned: 0, compaction: Compaction::NotNeeded });
        }
        let aged = "first_seen < ?1 AND (content != '' OR summary != '')";
        let freed: i64 = tx.query_row(
            &format!(
                "SELECT coalesce(sum(length(CAST(content AS BLOB)) + length(CAST(summary AS BLOB))), 0) FROM items WHERE {aged}"
            ),
            [secs(cutoff)],
            |r| r.get(0),
        )?;
        let pruned =
            tx.execute(&format!("UPDATE items SET content = '', summary = '' WHERE {aged}"), [secs(cutoff)])?;
        tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('last_prune', ?1)", [secs(now).to_string()])?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('freed_since_compaction', ?1)
             ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + excluded.value",
            [freed],
        )?;
        tx.commit()?;
        let compaction = self.compact_if_worth()?;
        Ok(Retention { pruned, compaction })
    }

    /// The file's size as SQLite counts it (pages in use and free), in bytes.
    fn file_bytes(&self) -> Result<u64, StoreError> {
        let pages: i64 = self.conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        let page: i64 = self.conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        Ok((pages * page) as u64)
    }

    fn compact_if_worth(&mut self) -> Result<Compaction, StoreError> {
        let freed: i64 = self
            .conn
            .query_row("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'freed_since_compaction'", [], |r| r.get(0))
            .optional()?
            .unwrap_or(0);
        let before = self.file_bytes()?;
        if (freed as f64) < before as f64 * COMPACT_AT_SHARE {
            return Ok(Compaction::NotNeeded);
        }
        // The copy VACUUM builds goes to a temporary file, not memory: it is as large as
        // the live data (gigabytes at a million items).
        self.conn.pragma_update(None, "temp_store", "FILE")?;
        let vacuumed = self.conn.execute_batch("VACUUM");
        self.conn.pragma_update(None, "temp_store", "MEMORY")?;
        if let Err(e) = vacuumed {
            return Ok(Compaction::Failed(e.to_string()));
        }
        // The rewritten pages are in the log; the file shrinks when they are copied back.
        // Readers still holding the old pages can delay that to a later checkpoint.
        self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        self.conn.execute("DELETE FROM meta WHERE key = 'freed_since_compaction'", [])?;
        Ok(Compaction::Reclaimed(before.saturating_sub(self.file_bytes()?)))
    }
}
