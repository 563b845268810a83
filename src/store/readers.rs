//! The read pool: a few read connections, used side by side (WAL lets readers run beside
//! each other and beside the writer), so one slow query never stalls the rest; and one of
//! them kept from heavy queries, so a flood of those does not queue the light ones.
//!
//! Owns when a query may run and on which connection; what it asks is the store's
//! queries'. Opened through [`super::Database`].

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;

use super::{Store, StoreError};

/// Read connections of the HTTP server. Each query holds one connection and one blocking
/// thread; a request beyond that many waits for a free connection without holding a
/// thread, so a burst of requests cannot grow the blocking pool.
///
/// A connection goes back to the pool from the blocking thread that used it, together with
/// its permit, so a request whose client hung up (its future dropped while the query runs)
/// still returns both.
pub struct Readers {
    pool: Arc<Pool>,
    free: Arc<Semaphore>,
    /// Heavy queries take one of these first: one connection fewer than there are.
    heavy: Semaphore,
}

/// The idle connections and where to open a replacement.
struct Pool {
    path: PathBuf,
    idle: Mutex<Vec<Store>>,
}

impl Pool {
    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Store>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }
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
    pub(super) fn open(path: &Path, connections: usize) -> Result<Readers, StoreError> {
        let idle = (0..connections.max(1)).map(|_| Store::open_reader(path)).collect::<Result<Vec<_>, _>>()?;
        let heavy = Semaphore::new(idle.len().saturating_sub(1).max(1));
        let free = Arc::new(Semaphore::new(idle.len()));
        Ok(Readers { pool: Arc::new(Pool { path: path.to_path_buf(), idle: Mutex::new(idle) }), free, heavy })
    }

    #[cfg(test)]
    fn idle_count(&self) -> usize {
        self.pool.idle().len()
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
        let permit = self.free.clone().acquire_owned().await.map_err(|_| ReadError::Closed)?;
        let Some(store) = self.pool.idle().pop() else {
            // Only after a crashed query whose connection could not be reopened.
            permit.forget();
            return Err(ReadError::Closed);
        };
        let pool = self.pool.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| query(&store)));
            match result {
                Ok(result) => {
                    pool.idle().push(store);
                    drop(permit);
                    Ok(result)
                }
                // The query panicked with the connection in an unknown state: open another
                // in its place, or run on with one fewer.
                Err(panic) => {
                    drop(store);
                    match Store::open_reader(&pool.path) {
                        Ok(fresh) => {
                            pool.idle().push(fresh);
                            drop(permit);
                        }
                        Err(_) => permit.forget(),
                    }
                    Err(panic_text(panic.as_ref()))
                }
            }
        })
        .await;
        match joined {
            Ok(Ok(result)) => Ok(result?),
            Ok(Err(panic)) => Err(ReadError::Crashed(panic)),
            // The blocking task itself cannot panic (the query's panic is caught inside);
            // it is only cancelled when the runtime shuts down.
            Err(e) => Err(ReadError::Crashed(e.to_string())),
        }
    }
}

/// The message of a caught panic.
fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    match (panic.downcast_ref::<&str>(), panic.downcast_ref::<String>()) {
        (Some(s), _) => (*s).to_string(),
        (_, Some(s)) => s.clone(),
        _ => "the query panicked".to_string(),
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
        assert_eq!(readers.idle_count(), 2, "the crashed connection was replaced");
        assert_eq!(readers.read(Cost::Light, |s| s.feed_statuses().map(|f| f.len())).await.unwrap(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_request_dropped_mid_query_gives_its_connection_back() {
        let dir = tempfile::tempdir().unwrap();
        let readers = std::sync::Arc::new(Readers::open(&dir.path().join("r.db"), 2).unwrap());
        // More abandoned requests than there are connections: each query is still running
        // when its future is dropped (as hyper drops a handler whose client hung up).
        for _ in 0..5 {
            let (started, wait_started) = std::sync::mpsc::channel::<()>();
            let (go, wait) = std::sync::mpsc::channel::<()>();
            let (done, finished) = std::sync::mpsc::channel::<()>();
            let read = readers.read(Cost::Light, move |_| {
                started.send(()).unwrap();
                let _ = wait.recv();
                let _ = done.send(());
                Ok(())
            });
            let abandoned = tokio::time::timeout(std::time::Duration::from_millis(1), read);
            let waiter = tokio::task::spawn_blocking(move || wait_started.recv().unwrap());
            assert!(abandoned.await.is_err(), "the request was dropped before its query ended");
            waiter.await.unwrap();
            go.send(()).unwrap();
            tokio::task::spawn_blocking(move || finished.recv().unwrap()).await.unwrap();
        }
        // Every connection is back and answers.
        for _ in 0..4 {
            let n = tokio::time::timeout(
                std::time::Duration::from_secs(10),
                readers.read(Cost::Light, |s| s.feed_statuses().map(|f| f.len())),
            );
            assert_eq!(n.await.unwrap().unwrap(), 0);
        }
        tokio::time::timeout(std::time::Duration::from_secs(10), async {
            while readers.idle_count() < 2 {
                tokio::task::yield_now().await;
            }
        })
        .await
        .unwrap();
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
