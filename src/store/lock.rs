//! One writer per database: an exclusive lock on a file beside it (`DATABASE.lock`), held
//! for as long as a writing command runs. SQLite's own locks only serialize transactions:
//! two writers would both run, each with its own view of the series, and lose polls to
//! "database is locked".
//!
//! The lock is the operating system's (flock on Unix), so it goes with the process that
//! holds it, crash included; the file stays and names the last holder.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use super::StoreError;

/// The exclusive right to write to one database; released when dropped.
#[derive(Debug)]
pub struct WriterLock {
    _file: File,
}

/// The lock file of a database.
fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    database.with_file_name(name)
}

impl WriterLock {
    /// Takes the lock of `database` for `holder` (what the process is, e.g. `storyline
    /// run`), or fails at once with [`StoreError::Locked`] naming who holds it.
    pub fn acquire(database: &Path, holder: &str) -> Result<WriterLock, StoreError> {
        let path = lock_path(database);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(dir);
        }
        let io = |source| StoreError::LockFile { path: path.clone(), source };
        let mut file =
            OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                let holder = Some(text.trim().to_string()).filter(|t| !t.is_empty());
                return Err(StoreError::Locked {
                    database: database.to_path_buf(),
                    holder: holder.unwrap_or_else(|| "another process".into()),
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        let since = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let note = format!("{holder} (pid {}, since {since})\n", std::process::id());
        file.set_len(0).and_then(|()| file.rewind()).and_then(|()| file.write_all(note.as_bytes())).map_err(io)?;
        Ok(WriterLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_with_the_holder_named_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db");
        let first = WriterLock::acquire(&db, "storyline run").unwrap();
        let err = WriterLock::acquire(&db, "storyline poll").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("s.db") && text.contains("storyline run (pid "), "{text}");
        assert!(matches!(err, StoreError::Locked { .. }));
        drop(first);
        let second = WriterLock::acquire(&db, "storyline poll").unwrap();
        let note = std::fs::read_to_string(dir.path().join("s.db.lock")).unwrap();
        assert!(note.starts_with("storyline poll (pid "), "{note}");
        drop(second);
    }
}
