//! The database of one process, opened once: for writing (the writer lock taken, the
//! schema migrated, the configured feeds and keep/block rules recorded) or for reading
//! only (nothing created or written). It hands out what each part of the process needs:
//! the write connection once (for the writer thread), read connections, the read pool.
//! Nothing outside `store` opens a connection by path.
//!
//! Owns the opening sequence; the queries are the store's, the writer thread `writes`'.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::{Generation, Readers, Store, StoreError, WriterLock};
use crate::filter::Filters;
use crate::model::FeedSpec;

/// One process's handle on its database.
pub struct Database {
    path: PathBuf,
    /// Held while this process may write: no other storyline writes meanwhile.
    lock: Option<WriterLock>,
    /// The write connection, until the writer thread takes it.
    writer: Mutex<Option<Store>>,
    /// What named the path, for a read-only open's errors.
    from: String,
    /// Moved on by this process's writer after each commit that changed the outputs.
    generation: Arc<Generation>,
}

impl Database {
    /// Opens the database at `path` for writing on behalf of `holder` (named to whoever
    /// finds the lock taken): takes the writer lock (failing at once when another
    /// storyline holds it), opens it (created and migrated as needed), records the
    /// configured `feeds` and applies the keep/block `filters` to what is stored.
    pub fn open_writing(
        path: &Path,
        holder: &str,
        feeds: &[FeedSpec],
        filters: &Filters,
    ) -> Result<Database, StoreError> {
        let lock = WriterLock::acquire(path, holder)?;
        let mut store = Store::open(path)?;
        store.sync_feeds(feeds)?;
        store.refilter(filters)?;
        Ok(Database {
            path: path.to_path_buf(),
            lock: Some(lock),
            writer: Mutex::new(Some(store)),
            from: String::new(),
            generation: Arc::default(),
        })
    }

    /// Opens the database at `path` for reading only, beside a running writer if there
    /// is one: it must exist (`from` says what named the path, for the error) and have
    /// this build's schema; nothing is created, migrated or written.
    pub fn open_reading(path: &Path, from: &str) -> Result<Database, StoreError> {
        // Checked now, so that a missing or foreign database is an error at once.
        Store::open_read_only(path, from)?;
        Ok(Database {
            path: path.to_path_buf(),
            lock: None,
            writer: Mutex::new(None),
            from: from.to_string(),
            generation: Arc::default(),
        })
    }

    /// Whether this process holds the writer lock.
    pub fn writes(&self) -> bool {
        self.lock.is_some()
    }

    /// The write connection, for the writer thread: once, and only when opened for
    /// writing.
    pub fn take_writer(&self) -> Option<Store> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// A read connection of its own (read-only when the database was opened for reading).
    pub fn reader(&self) -> Result<Store, StoreError> {
        if self.writes() {
            Store::open_reader(&self.path)
        } else {
            Store::open_read_only(&self.path, &self.from)
        }
    }

    /// The store's generation, which this process's writer moves on (see [`Generation`]).
    pub fn generation(&self) -> Arc<Generation> {
        self.generation.clone()
    }

    /// A pool of `connections` read connections, for queries side by side.
    pub fn read_pool(&self, connections: usize) -> Result<Readers, StoreError> {
        Readers::open(&self.path, connections)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_process_writes_and_hands_its_writer_out_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let missing = Database::open_reading(&path, "the test").err().unwrap();
        assert!(matches!(missing, StoreError::Missing { .. }), "reading creates nothing: {missing}");
        assert!(!path.exists());
        let db = Database::open_writing(&path, "storyline poll", &[], &Filters::default()).unwrap();
        let again = Database::open_writing(&path, "storyline run", &[], &Filters::default()).err().unwrap();
        assert!(matches!(&again, StoreError::Locked { holder, .. } if holder.starts_with("storyline poll")), "{again}");
        assert!(db.writes());
        assert!(db.take_writer().is_some() && db.take_writer().is_none(), "the writer is handed out once");
        db.reader().unwrap().configured_feeds().unwrap();
        let reading = Database::open_reading(&path, "the test").unwrap();
        assert!(!reading.writes() && reading.take_writer().is_none());
        reading.reader().unwrap().configured_feeds().unwrap();
    }
}
