//! The database of one process, opened once: for writing (the writer lock taken, the
//! schema migrated, the configured feeds and keep/block rules recorded) or for reading
//! only (nothing created or written). It hands out what each part of the process needs:
//! read connections, the read pool, and, from a [`WritingDatabase`] only, the write
//! connection once (for the writer thread). Nothing outside `store` opens a connection
//! by path.
//!
//! Owns the opening sequence; the queries are the store's, the writer thread `writes`'.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::{Generation, Readers, Store, StoreError, WriterLock};
use crate::filter::Filters;
use crate::model::FeedSpec;

/// One process's handle on its database, for reading: read connections, the read pool,
/// the store's generation. Opened for writing, it comes as a [`WritingDatabase`], which
/// alone hands out the write connection: building a writer from a read-only handle does
/// not compile.
pub struct Database {
    path: PathBuf,
    /// Opened for writing (read connections may then open it read-write).
    writing: bool,
    /// What named the path, for a read-only open's errors.
    from: String,
    /// Moved on by this process's writer after each commit that changed the outputs.
    generation: Arc<Generation>,
    /// The read-only connection that checked the database when it was opened, handed out
    /// as the first reader rather than opened again.
    checked: Mutex<Option<Store>>,
}

/// A [`Database`] opened for writing: the writer lock held for as long as it lives, and
/// the write connection until the writer thread takes it.
pub struct WritingDatabase {
    database: Database,
    /// Held while this process may write: no other storyline writes meanwhile.
    _lock: WriterLock,
    writer: Mutex<Option<Store>>,
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
    ) -> Result<WritingDatabase, StoreError> {
        let lock = WriterLock::acquire(path, holder)?;
        let mut store = Store::open(path)?;
        store.sync_feeds(feeds)?;
        store.refilter(filters)?;
        let database = Database {
            path: path.to_path_buf(),
            writing: true,
            from: String::new(),
            generation: Arc::default(),
            checked: Mutex::new(None),
        };
        Ok(WritingDatabase { database, _lock: lock, writer: Mutex::new(Some(store)) })
    }

    /// Opens the database at `path` for reading only, beside a running writer if there
    /// is one: it must exist (`from` says what named the path, for the error) and have
    /// this build's schema; nothing is created, migrated or written.
    pub fn open_reading(path: &Path, from: &str) -> Result<Database, StoreError> {
        // Checked now, so that a missing or foreign database is an error at once.
        let checked = Store::open_read_only(path, from)?;
        Ok(Database {
            path: path.to_path_buf(),
            writing: false,
            from: from.to_string(),
            generation: Arc::default(),
            checked: Mutex::new(Some(checked)),
        })
    }

    /// A read connection of its own (read-only when the database was opened for reading).
    pub fn reader(&self) -> Result<Store, StoreError> {
        if let Some(store) = self.checked.lock().unwrap_or_else(|p| p.into_inner()).take() {
            return Ok(store);
        }
        if self.writing {
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

impl WritingDatabase {
    /// The write connection, for the writer thread: once.
    pub fn take_writer(&self) -> Option<Store> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

impl std::ops::Deref for WritingDatabase {
    type Target = Database;

    fn deref(&self) -> &Database {
        &self.database
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
        assert!(db.take_writer().is_some() && db.take_writer().is_none(), "the writer is handed out once");
        db.reader().unwrap().configured_feeds().unwrap();
        let reading = Database::open_reading(&path, "the test").unwrap();
        reading.reader().unwrap().configured_feeds().unwrap();
    }
}
