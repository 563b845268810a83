//! Puts newly stored items into story series: reads the items not yet grouped, runs the
//! series engine over them (oldest first), and writes the outcome through the store's
//! writer. Items stored but not yet grouped when a process stops are picked up next time.
//!
//! Wiring only: the decisions are `series`', the SQL is `store`'s.

use std::sync::{Arc, Mutex};

use crate::series::{Engine, Params};
use crate::store::{Store, StoreError, Writer};

/// Items read and grouped per round.
const BATCH: usize = 2000;

/// The engine, its read connection, and the writer its results go through.
pub struct Grouper {
    engine: Mutex<Engine>,
    reader: Mutex<Store>,
    writer: Arc<Writer>,
    /// One grouping round at a time: a round reads, assigns and writes as one step.
    turn: tokio::sync::Mutex<()>,
}

impl Grouper {
    /// Opens a reader on `store_path`, and warms the engine up from items grouped within
    /// two windows of the newest one (the engine's state is derived, never stored whole).
    pub fn open(store_path: &std::path::Path, params: Params, writer: Arc<Writer>) -> Result<Grouper, StoreError> {
        let reader = Store::open(store_path)?;
        let (titles, last_id) = reader.series_titles()?;
        let since = reader.newest_published()?.unwrap_or(0) - 2 * params.window;
        let mut engine = Engine::new(params, last_id);
        engine.restore(&reader.grouped_since(since)?, &titles);
        Ok(Grouper {
            engine: Mutex::new(engine),
            reader: Mutex::new(reader),
            writer,
            turn: tokio::sync::Mutex::new(()),
        })
    }

    /// Groups every stored item not yet in a series; returns how many were grouped.
    pub async fn group(self: &Arc<Self>) -> Result<usize, StoreError> {
        let _turn = self.turn.lock().await;
        let mut total = 0;
        loop {
            let me = self.clone();
            let outcome = tokio::task::spawn_blocking(move || -> Result<_, StoreError> {
                let items = me.reader.lock().unwrap_or_else(|p| p.into_inner()).ungrouped(BATCH)?;
                let outcome = me.engine.lock().unwrap_or_else(|p| p.into_inner()).assign(&items);
                Ok(outcome)
            })
            .await
            .map_err(|e| StoreError::Commit(format!("grouping stopped: {e}")))??;
            let n = outcome.assigned.len();
            if n == 0 {
                return Ok(total);
            }
            self.writer.write_series(outcome).await?;
            total += n;
            if n < BATCH {
                return Ok(total);
            }
        }
    }
}
