//! The server's read connections: a few, used side by side (WAL lets readers run beside
//! each other and beside the writer), so one slow query never stalls the rest; and one of
//! them kept from heavy queries, so a flood of those does not queue the light ones.
//!
//! Owns when a query may run and on which connection; what it asks is the store's.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tokio::sync::Semaphore;

use crate::store::{Store, StoreError};

/// Read connections of the HTTP server. Each query holds one connection and one blocking
/// thread; a request beyond that many waits for a free connection without holding a
/// thread, so a burst of requests cannot grow the blocking pool.
pub struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Store>>,
    free: Semaphore,
    /// Heavy queries take one of these first: one connection fewer than there are.
    heavy: Semaphore,
}

/// What a query costs, as its caller judges it (by the rows it asks for).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cost {
    /// A page, a series, a feed list: milliseconds.
    Light,
    /// Up to a thousand rows with their text: may take tens of milliseconds each, and
    /// clients may ask for many at once.
    Heavy,
}

impl Readers {
    /// Opens `connections` (at least one) read connections to the database at `path`.
    pub fn open(path: &Path, connections: usize) -> Result<Readers, StoreError> {
        let idle = (0..connections.max(1)).map(|_| Store::open_reader(path)).collect::<Result<Vec<_>, _>>()?;
        let heavy = Semaphore::new(idle.len().saturating_sub(1).max(1));
        Ok(Readers { path: path.to_path_buf(), free: Semaphore::new(idle.len()), heavy, idle: Mutex::new(idle) })
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Store>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `query` on a free connection on a blocking thread.
    pub async fn read<T: Send + 'static>(
        &self,
        cost: Cost,
        query: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, ReadError> {
        // The semaphores are never closed: acquiring only waits.
        let _heavy = match cost {
            Cost::Heavy => Some(self.heavy.acquire().await.map_err(|_| ReadError::Closed)?),
            Cost::Light => None,
        };
        // A permit means a connection is idle.
        let permit = self.free.acquire().await.map_err(|_| ReadError::Closed)?;
        let store = self.idle().pop().ok_or(ReadError::Closed)?;
        let joined = tokio::task::spawn_blocking(move || {
            let result = query(&store);
            (store, result)
        })
        .await;
        match joined {
            Ok((store, result)) => {
                self.idle().push(store);
                Ok(result?)
            }
            // The connection went down with the query: open another in its place, or run
            // on with one fewer.
            Err(e) => {
                let path = self.path.clone();
                match tokio::task::spawn_blocking(move || Store::open_reader(&path)).await {
                    Ok(Ok(store)) => self.idle().push(store),
                    _ => permit.forget(),
                }
                Err(ReadError::Crashed(e.to_string()))
            }
        }
    }
}

/// Why a read did not answer.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The query failed in the store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The query panicked.
    #[error("a read crashed: {0}")]
    Crashed(String),
    /// No connection is left.
    #[error("no read connection is left")]
    Closed,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn queries_run_side_by_side_and_a_crash_loses_no_connection() {
        let dir = tempfile::tempdir().unwrap();
        let readers = std::sync::Arc::new(Readers::open(&dir.path().join("r.db"), 2).unwrap());
        // Two queries that each wait for the other: they finish only if they run at once.
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
        let both: Vec<_> = (0..2)
            .map(|_| {
                let (readers, barrier) = (readers.clone(), barrier.clone());
                tokio::spawn(async move { readers.read(Cost::Light, move |_| Ok(barrier.wait().is_leader())).await })
            })
            .collect();
        let mut leaders = 0;
        for task in both {
            leaders += usize::from(task.await.unwrap().unwrap());
        }
        assert_eq!(leaders, 1);
        let crashed = readers.read(Cost::Light, |_| -> Result<(), StoreError> { panic!("boom") }).await;
        assert!(matches!(crashed, Err(ReadError::Crashed(_))));
        assert_eq!(readers.idle().len(), 2, "the crashed connection was replaced");
        assert_eq!(readers.read(Cost::Light, |s| s.feed_statuses().map(|f| f.len())).await.unwrap(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn heavy_queries_leave_a_connection_to_light_ones() {
        let dir = tempfile::tempdir().unwrap();
        let readers = std::sync::Arc::new(Readers::open(&dir.path().join("r.db"), 3).unwrap());
        // Heavy queries that hold their connections until told to go.
        let (go, wait) = std::sync::mpsc::channel::<()>();
        let wait = std::sync::Arc::new(Mutex::new(wait));
        let heavy: Vec<_> = (0..4)
            .map(|_| {
                let (readers, wait) = (readers.clone(), wait.clone());
                tokio::spawn(async move {
                    readers
                        .read(Cost::Heavy, move |_| {
                            let _ = wait.lock().unwrap().recv();
                            Ok(())
                        })
                        .await
                })
            })
            .collect();
        // Two heavy ones hold their connections (a light read cannot finish otherwise);
        // the others wait for the heavy share, and the light read gets the third.
        let light = readers.read(Cost::Light, |s| s.feed_statuses().map(|f| f.len()));
        assert_eq!(tokio::time::timeout(std::time::Duration::from_secs(10), light).await.unwrap().unwrap(), 0);
        for _ in 0..4 {
            go.send(()).unwrap();
        }
        for task in heavy {
            task.await.unwrap().unwrap();
        }
    }
}
