//! The parts a writing command is built from, assembled in one place for `poll`, `run`
//! and a reload: the store's single writer, the grouping engine behind it, and poll
//! pipelines over them.
//!
//! Wiring only: no SQL, parsing or HTTP of its own.

use std::sync::Arc;

use tokio_util::task::TaskTracker;

use crate::config::{Config, FetchSettings};
use crate::fetch::Fetcher;
use crate::grouping::{Grouper, Round};
use crate::poll::Pipeline;
use crate::series::Params;
use crate::store::{StoreError, Writer, WritingDatabase};

/// Polls that may hold a response in memory, per concurrent fetch (`fetch.max_concurrent`):
/// twice the fetch concurrency keeps fetching busy while earlier responses are parsed and
/// written, and bounds the memory of responses waiting for the writer.
pub const IN_FLIGHT_PER_FETCH: usize = 2;

/// The writer and the grouper of one database.
pub struct Parts {
    /// The database's single writer.
    pub writer: Arc<Writer>,
    /// The grouping engine, writing through `writer`.
    pub grouper: Arc<Grouper>,
}

impl Parts {
    /// Puts the database's write connection behind the writer, opens the grouper on a
    /// read connection of its own (`on_grouped` hears what each round put into series,
    /// and failed rounds), and groups the items an interrupted run stored but did not
    /// group. Background grouping runs on `tasks`, which the owner waits for before
    /// closing. Fails when the database's writer is already taken.
    pub async fn open(
        config: &Config,
        database: &WritingDatabase,
        tasks: TaskTracker,
        on_grouped: impl Fn(&Round) + Send + Sync + 'static,
    ) -> Result<Parts, StoreError> {
        let store = database.take_writer().ok_or(StoreError::WriterTaken)?;
        let writer = Arc::new(Writer::spawn(store, database.generation()));
        let params = Params { window: config.series.window.as_secs() as i64, ..Params::default() };
        let grouper = Grouper::open(database.reader()?, params, writer.clone(), tasks).with_listener(on_grouped);
        let grouper = Arc::new(grouper);
        grouper.group().await?;
        Ok(Parts { writer, grouper })
    }

    /// A poll pipeline under `config`'s fetch settings and keep/block rules (a reload
    /// builds a new one).
    pub fn pipeline(&self, config: &Config) -> anyhow::Result<Pipeline> {
        let fetch: &FetchSettings = &config.fetch;
        let in_flight = IN_FLIGHT_PER_FETCH * fetch.max_concurrent;
        let filters = Arc::new(config.filters.clone());
        let sources = config.sources();
        let full_text = config.feeds.iter().filter(|f| f.full_text).map(|f| f.name.clone()).collect();
        let fetcher = Fetcher::new(fetch)?;
        Ok(Pipeline::new(fetcher, self.writer.clone(), self.grouper.clone(), in_flight, filters, sources, full_text))
    }

    /// Commits what is queued and closes the database.
    pub async fn close(&self) -> Result<(), StoreError> {
        self.writer.close().await
    }
}
