//! Puts newly stored items into story series: reads the items not yet grouped, runs the
//! series engine over them (oldest first), and writes the outcome through the store's
//! writer. Items stored but not yet grouped when a process stops are picked up next time.
//!
//! Wiring only: the decisions are `series`', the SQL is `store`'s.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_util::task::TaskTracker;

use crate::series::{Assignments, Engine, NewItem, Params};
use crate::store::{Store, StoreError, Writer};

/// Most recent items replayed into the engine at start (bounds start-up time).
const WARM_UP: usize = 20_000;

/// Series idle beyond the replayed items that are resumed from their stored terms.
const DORMANT: usize = 50_000;

/// Most items one round takes (a cold start of 1,000 feeds of 50 items fits): they are
/// held in memory, titles and summaries, to be sorted by published time.
const BACKLOG: usize = 100_000;

/// Items assigned per write: a chunk's series are stored while the next is assigned.
const CHUNK: usize = 2000;

/// What one write of grouped items did, for the grouper's owner (metrics, events).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grouped {
    /// Items put into series.
    pub items: usize,
    /// From the start of their assignment to the end of their write.
    pub elapsed: Duration,
    /// Series the engine holds in memory (open within its horizon).
    pub series_open: usize,
}

/// How a grouping round, or one write of it, ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Round {
    /// A write of grouped items was committed (readers see it).
    Grouped(Grouped),
    /// The round failed (its items are grouped by the next one): why.
    Failed(String),
}

/// Hears what each write of grouped items did, and each failed round.
type Listener = Box<dyn Fn(&Round) + Send + Sync>;

/// A chunk's series being written: the write, its items, when the chunk's assignment began.
type PendingWrite = (tokio::task::JoinHandle<Result<(), StoreError>>, usize, Instant);

/// The engine, its read connection, and the writer its results go through.
pub struct Grouper {
    /// Built (and warmed up) on first use: runs that store nothing never pay for it.
    engine: Mutex<Option<Engine>>,
    params: Params,
    reader: Mutex<Store>,
    writer: Arc<Writer>,
    /// One grouping round at a time: a round reads, assigns and writes as one step.
    turn: tokio::sync::Mutex<()>,
    /// A background round is queued (see [`Grouper::kick`]).
    queued: AtomicBool,
    /// Called after a round grouped something (the daemon drops its cached feeds).
    listener: Option<Listener>,
    /// Where background rounds run: the owner waits for them before closing the writer.
    tasks: TaskTracker,
}

impl Grouper {
    /// Groups through `reader`, its own read connection. On first use the engine is warmed up from the items
    /// grouped within two windows of the newest one (at most `WARM_UP`), and older series
    /// still within the horizon are resumed from their stored strongest terms.
    /// Background rounds run on `tasks`.
    pub fn open(reader: Store, params: Params, writer: Arc<Writer>, tasks: TaskTracker) -> Grouper {
        Grouper {
            engine: Mutex::new(None),
            params,
            reader: Mutex::new(reader),
            writer,
            turn: tokio::sync::Mutex::new(()),
            queued: AtomicBool::new(false),
            listener: None,
            tasks,
        }
    }

    /// Calls `listener` whenever a round has put items into series (and readers see them),
    /// and when a round fails.
    pub fn with_listener(mut self, listener: impl Fn(&Round) + Send + Sync + 'static) -> Grouper {
        self.listener = Some(Box::new(listener));
        self
    }

    /// Groups in the background: polls hand over and go on fetching instead of waiting for
    /// the (serial) engine. At most one round waits while another runs.
    pub fn kick(self: &Arc<Self>) {
        if self.queued.swap(true, Ordering::SeqCst) {
            return;
        }
        let me = self.clone();
        self.tasks.spawn(async move {
            let _turn = me.turn.lock().await;
            // Cleared once this round owns the turn: items stored from now on queue another.
            me.queued.store(false, Ordering::SeqCst);
            if let Err(e) = me.rounds().await {
                tracing::error!("grouping items into series failed (retried with the next round): {e}");
            }
        });
    }

    /// The tracker background rounds run on (the poll pipeline's grouping timers too).
    pub fn tasks(&self) -> &TaskTracker {
        &self.tasks
    }

    fn warm_up(reader: &Store, params: &Params) -> Result<Engine, StoreError> {
        let (titles, last_id) = reader.series_titles()?;
        let newest = reader.newest_published()?.unwrap_or(0);
        let since = newest - 2 * params.window;
        let summaries = params.summary_weight > 0.0;
        let mut engine = Engine::new(params.clone(), last_id);
        // Older series first, from their stored terms; then the recent ones from their items.
        engine.resume(&reader.dormant_series(newest - params.horizon, since, DORMANT)?);
        engine.restore(&reader.grouped_since(since, WARM_UP, summaries)?, &titles);
        Ok(engine)
    }

    /// The items not grouped yet, oldest id first, at most [`BACKLOG`], sorted by
    /// published time (ties by id): the order the engine takes them in.
    fn backlog(&self) -> Result<Vec<NewItem>, StoreError> {
        let reader = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        reader.ungrouped(None, BACKLOG, self.params.summary_weight > 0.0)
    }

    /// Runs one chunk of a backlog through the engine (warming it up on first use). A copy
    /// of an item assigned earlier in the backlog goes where its original went.
    fn assign(&self, mut chunk: Vec<NewItem>, assigned: &HashMap<i64, u64>) -> Result<Assignments, StoreError> {
        for item in chunk.iter_mut().filter(|i| i.series.is_none()) {
            item.series = item.copy_of.and_then(|original| assigned.get(&original).copied());
        }
        let mut engine = self.engine.lock().unwrap_or_else(|p| p.into_inner());
        if engine.is_none() {
            let reader = self.reader.lock().unwrap_or_else(|p| p.into_inner());
            *engine = Some(Self::warm_up(&reader, &self.params)?);
        }
        Ok(engine.as_mut().expect("the engine was just built").assign(&chunk))
    }

    /// Groups every stored item not yet in a series (waiting for a background round to
    /// finish first); returns how many were grouped.
    pub async fn group(self: &Arc<Self>) -> Result<usize, StoreError> {
        let _turn = self.turn.lock().await;
        self.rounds().await
    }

    /// Rounds until nothing is left to group; the caller holds the turn. A round takes the
    /// whole backlog in published order, so the same stored items give the same series
    /// whatever order their feeds were fetched in; it goes through the engine in chunks
    /// of [`CHUNK`], each chunk's series written while the next is assigned.
    async fn rounds(self: &Arc<Self>) -> Result<usize, StoreError> {
        let result = self.rounds_unchecked().await;
        if let Err(e) = &result {
            // The engine has moved on past what was written: it is built again from the
            // store, which holds what was committed (memberships and counts in one
            // transaction), and the items whose write failed are still to group.
            *self.engine.lock().unwrap_or_else(|p| p.into_inner()) = None;
            if let Some(listener) = &self.listener {
                listener(&Round::Failed(e.to_string()));
            }
        }
        result
    }

    /// [`Grouper::rounds`] without the reset of the engine after a failure.
    async fn rounds_unchecked(self: &Arc<Self>) -> Result<usize, StoreError> {
        let mut total = 0;
        loop {
            let me = self.clone();
            let backlog = tokio::task::spawn_blocking(move || me.backlog())
                .await
                .map_err(|e| StoreError::TaskStopped { task: "grouping", reason: e.to_string() })??;
            let Some(through) = backlog.iter().map(|i| i.id).max() else { return Ok(total) };
            let full = backlog.len() == BACKLOG;
            let mut rest = backlog.into_iter().peekable();
            let mut assigned: Arc<HashMap<i64, u64>> = Arc::default();
            let mut writing: Option<PendingWrite> = None;
            while rest.peek().is_some() {
                let started = Instant::now();
                let chunk: Vec<NewItem> = rest.by_ref().take(CHUNK).collect();
                let (me, so_far) = (self.clone(), assigned.clone());
                let outcome = tokio::task::spawn_blocking(move || me.assign(chunk, &so_far))
                    .await
                    .map_err(|e| StoreError::TaskStopped { task: "grouping", reason: e.to_string() })??;
                if let Some((previous, items, since)) = writing.take() {
                    self.written(previous, items, since).await?;
                }
                let n = outcome.assigned.len();
                Arc::make_mut(&mut assigned).extend(outcome.assigned.iter().map(|&(item, series, _)| (item, series)));
                // Only the round's last write moves the mark past its items.
                let mark = rest.peek().is_none().then_some(through);
                let writer = self.writer.clone();
                writing = Some((tokio::spawn(async move { writer.write_series(outcome, mark).await }), n, started));
                total += n;
            }
            if let Some((last, items, since)) = writing.take() {
                self.written(last, items, since).await?;
            }
            if !full {
                return Ok(total);
            }
        }
    }

    /// Waits for a round's write of `items` assignments (a chunk started at `since`) and
    /// tells the listener; only then is the round logged, so the log never runs ahead of
    /// what readers see.
    async fn written(
        &self,
        write: tokio::task::JoinHandle<Result<(), StoreError>>,
        items: usize,
        since: Instant,
    ) -> Result<(), StoreError> {
        write.await.map_err(|e| StoreError::TaskStopped { task: "writing series", reason: e.to_string() })??;
        if let Some(listener) = &self.listener {
            let series_open = self.engine.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map_or(0, Engine::active);
            listener(&Round::Grouped(Grouped { items, elapsed: since.elapsed(), series_open }));
        }
        tracing::info!(items, "grouped into series");
        Ok(())
    }
}
