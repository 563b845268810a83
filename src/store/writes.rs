//! Writing polls: one poll's outcome in one transaction, or several polls in one
//! transaction (group commit), and the writer thread that batches them and every other
//! write, moving the store's [`Generation`] on after commits that change the outputs.

use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use tokio::sync::oneshot;
use url::Url;

use super::feeds::{record_failure, record_move, record_not_modified, record_success, set_next_poll, FeedRef};
use super::items::insert_entries;
use super::{Generation, PageOutcome, PollCounts, Retention, Store, StoreError, Waiting};
use crate::model::{Failure, FeedSpec, Outcome, ParsedFeed, Validators};
use crate::series::Assignments;

/// A permanent redirect chain a poll ended at, and the policy for it: the feed's stored
/// URL moves there once `adopt_after` consecutive polls ended there (the caller's policy,
/// the scheduler's; the store only counts).
#[derive(Debug, Clone, PartialEq)]
pub struct Redirect {
    /// Where the chain ended.
    pub to: Url,
    /// Consecutive polls ending there before the feed moves.
    pub adopt_after: u32,
}

/// Most polls committed together; bounds how much one failed commit can cost.
const MAX_BATCH: usize = 64;

/// What one poll of one feed wants written: how it ended, with the document when one
/// was read.
#[derive(Debug)]
pub struct PollWrite {
    /// How the poll ended.
    pub outcome: Outcome<Box<Document>>,
    /// Where a permanent redirect chain ended (not recorded for a failed poll).
    pub moved_to: Option<Redirect>,
}

/// A fetched and parsed document, to be stored.
#[derive(Debug)]
pub struct Document {
    /// What parsing read.
    pub parsed: ParsedFeed,
    /// HTTP status of the response.
    pub status: u16,
    /// Validators to send next time (stored only now, after a successful parse).
    pub validators: Validators,
    /// Whether its new articles wait for their pages (the feed's `full_text`).
    pub full_text: bool,
}

impl PollWrite {
    /// A document to store (boxed: it is much larger than the other outcomes).
    pub fn stored(parsed: ParsedFeed, status: u16, validators: Validators, moved_to: Option<Redirect>) -> PollWrite {
        let doc = Document { parsed, status, validators, full_text: false };
        PollWrite { outcome: Outcome::Done(Box::new(doc)), moved_to }
    }

    /// A failed poll, recorded on the feed.
    pub fn failed(failure: Failure) -> PollWrite {
        PollWrite { outcome: Outcome::Failed(failure), moved_to: None }
    }
}

fn apply(conn: &Connection, feed: &FeedRef, write: &PollWrite, now: DateTime<Utc>) -> Result<PollCounts, StoreError> {
    match &write.outcome {
        Outcome::Done(doc) => {
            let Document { parsed, status, validators, full_text } = &**doc;
            let counts = insert_entries(conn, feed, parsed, now, *full_text)?;
            let repeated = (counts.repeated > 0).then(|| {
                format!("{} entries repeat the id (guid, else link) of an earlier entry: stored once", counts.repeated)
            });
            record_success(conn, feed, parsed, repeated.as_deref(), *status, validators, now)?;
            record_move(conn, feed.id, write.moved_to.as_ref())?;
            Ok(counts)
        }
        Outcome::NotModified => {
            record_not_modified(conn, feed, now)?;
            record_move(conn, feed.id, write.moved_to.as_ref())?;
            Ok(PollCounts::default())
        }
        Outcome::Failed(failure) => {
            record_failure(conn, feed, failure, now)?;
            Ok(PollCounts::default())
        }
    }
}

/// One queued poll write and where its result goes.
struct PollJob {
    feed: FeedRef,
    write: PollWrite,
    now: DateTime<Utc>,
    reply: oneshot::Sender<Result<PollCounts, StoreError>>,
}

/// Work for the writer thread.
enum Job {
    Poll(Box<PollJob>),
    Prune {
        cutoff: DateTime<Utc>,
        force: bool,
        reply: oneshot::Sender<Result<Retention, StoreError>>,
    },
    NextPoll {
        feed: String,
        next: Option<DateTime<Utc>>,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
    Sync {
        feeds: Vec<FeedSpec>,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
    Series {
        outcome: Assignments,
        through: Option<i64>,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
    Refilter {
        filters: std::sync::Arc<crate::filter::Filters>,
        reply: oneshot::Sender<Result<usize, StoreError>>,
    },
    Waiting {
        feed: String,
        limit: usize,
        reply: oneshot::Sender<Result<Vec<Waiting>, StoreError>>,
    },
    FullText {
        item: i64,
        outcome: PageOutcome,
        reply: oneshot::Sender<Result<bool, StoreError>>,
    },
    /// Everything queued before is committed; the connection is closed, then this answers.
    Close {
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
}

impl Store {
    /// Writes one poll's outcome in one transaction.
    pub fn write_poll(
        &mut self,
        feed: &FeedRef,
        write: &PollWrite,
        now: DateTime<Utc>,
    ) -> Result<PollCounts, StoreError> {
        let tx = self.conn.transaction()?;
        let counts = apply(&tx, feed, write, now)?;
        tx.commit()?;
        Ok(counts)
    }

    /// Writes several polls in one transaction. When one poll's writes fail, the
    /// transaction is rolled back and the polls are written again one transaction each, so
    /// that the failing poll fails alone; a failed commit fails them all. (A savepoint per
    /// poll would give the same result, but journals every page each poll touches, for a
    /// failure that almost never happens.)
    fn write_batch(&mut self, jobs: &[PollJob]) -> Result<Vec<Result<PollCounts, StoreError>>, StoreError> {
        let tx = self.conn.transaction()?;
        let mut results = Vec::with_capacity(jobs.len());
        for job in jobs {
            match apply(&tx, &job.feed, &job.write, job.now) {
                Ok(counts) => results.push(Ok(counts)),
                Err(_) => {
                    tx.rollback()?;
                    return Ok(jobs.iter().map(|job| self.write_poll(&job.feed, &job.write, job.now)).collect());
                }
            }
        }
        tx.commit()?;
        Ok(results)
    }
}

/// The single writer: a thread that owns the store's write connection and commits queued
/// polls in batches. Dropping every clone of the sender ends the thread.
pub struct Writer {
    jobs: mpsc::Sender<Job>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Moves `store` onto a new writer thread, which moves `generation` on after each
    /// commit that changed what the outputs show.
    pub fn spawn(mut store: Store, generation: Arc<Generation>) -> Writer {
        let (jobs, queue) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("storyline-writer".into())
            .spawn(move || {
                let mut next = queue.recv().ok();
                while let Some(job) = next.take() {
                    match job {
                        Job::Prune { cutoff, force, reply } => {
                            let result = store.prune(cutoff, Utc::now(), force);
                            if result.as_ref().is_ok_and(|done| done.pruned > 0) {
                                generation.advance();
                            }
                            let _ = reply.send(result);
                            next = queue.recv().ok();
                        }
                        Job::NextPoll { feed, next: at, reply } => {
                            let _ = reply.send(set_next_poll(&store.conn, &feed, at));
                            next = queue.recv().ok();
                        }
                        Job::Sync { feeds, reply } => {
                            let result = store.sync_feeds(&feeds);
                            if result.is_ok() {
                                generation.advance();
                            }
                            let _ = reply.send(result);
                            next = queue.recv().ok();
                        }
                        Job::Series { outcome, through, reply } => {
                            let result = store.write_series(&outcome, through);
                            if result.is_ok() {
                                generation.advance();
                            }
                            let _ = reply.send(result);
                            next = queue.recv().ok();
                        }
                        Job::Refilter { filters, reply } => {
                            let result = store.refilter(&filters);
                            if result.as_ref().is_ok_and(|changed| *changed > 0) {
                                generation.advance();
                            }
                            let _ = reply.send(result);
                            next = queue.recv().ok();
                        }
                        Job::Waiting { feed, limit, reply } => {
                            let _ = reply.send(store.waiting_full_text(&feed, limit));
                            next = queue.recv().ok();
                        }
                        Job::FullText { item, outcome, reply } => {
                            let result = store.record_full_text(item, &outcome);
                            // Only an article changes an output: otherwise the body stays the feed's.
                            if result.as_ref().is_ok_and(|changed| *changed) {
                                generation.advance();
                            }
                            let _ = reply.send(result);
                            next = queue.recv().ok();
                        }
                        Job::Close { reply } => {
                            drop(store);
                            let _ = reply.send(Ok(()));
                            // Later jobs find their replies dropped: the writer is gone.
                            return;
                        }
                        Job::Poll(first) => {
                            let mut batch = vec![*first];
                            while batch.len() < MAX_BATCH {
                                match queue.try_recv() {
                                    Ok(Job::Poll(job)) => batch.push(*job),
                                    Ok(other) => {
                                        next = Some(other);
                                        break;
                                    }
                                    Err(_) => break,
                                }
                            }
                            commit_batch(&mut store, batch, &generation);
                            next = next.or_else(|| queue.recv().ok());
                        }
                    }
                }
            })
            .expect("cannot start the store writer thread");
        Writer { jobs, thread: Some(thread) }
    }

    /// Queues one poll's outcome and waits until it is committed.
    pub async fn write(&self, feed: FeedRef, write: PollWrite, now: DateTime<Utc>) -> Result<PollCounts, StoreError> {
        let (reply, result) = oneshot::channel();
        self.jobs.send(Job::Poll(Box::new(PollJob { feed, write, now, reply }))).map_err(|_| StoreError::WriterGone)?;
        result.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Drops the bodies of items first seen before `cutoff` and compacts the file when
    /// that is worth it (see [`Store::prune`]).
    pub async fn prune(&self, cutoff: DateTime<Utc>, force: bool) -> Result<Retention, StoreError> {
        self.ask(|reply| Job::Prune { cutoff, force, reply }).await
    }

    /// Stores when a feed is next polled.
    pub async fn set_next_poll(&self, feed: String, next: Option<DateTime<Utc>>) -> Result<(), StoreError> {
        self.ask(|reply| Job::NextPoll { feed, next, reply }).await
    }

    /// Makes the feeds table match a (re)loaded configuration.
    pub async fn sync_feeds(&self, feeds: Vec<FeedSpec>) -> Result<(), StoreError> {
        self.ask(|reply| Job::Sync { feeds, reply }).await
    }

    /// Stores what grouping decided (see [`Store::write_series`] for `through`).
    pub async fn write_series(&self, outcome: Assignments, through: Option<i64>) -> Result<(), StoreError> {
        self.ask(|reply| Job::Series { outcome, through, reply }).await
    }

    /// Applies keep/block rules to every stored item (see [`Store::refilter`]).
    pub async fn refilter(&self, filters: std::sync::Arc<crate::filter::Filters>) -> Result<usize, StoreError> {
        self.ask(|reply| Job::Refilter { filters, reply }).await
    }

    /// Commits everything queued so far and closes the database connection; writes asked
    /// for afterwards fail with [`StoreError::WriterGone`]. The daemon and `poll` close
    /// their writer when they are done, instead of relying on the last handle's drop.
    pub async fn close(&self) -> Result<(), StoreError> {
        self.ask(|reply| Job::Close { reply }).await
    }

    /// The newest `limit` articles of the feed `feed` whose pages wait to be fetched.
    /// Asked of the writer, not a reader: it sees the poll it just committed.
    pub async fn waiting_full_text(&self, feed: String, limit: usize) -> Result<Vec<Waiting>, StoreError> {
        self.ask(|reply| Job::Waiting { feed, limit, reply }).await
    }

    /// Records what the page of `item` gave (see [`Store::record_full_text`]).
    pub async fn record_full_text(&self, item: i64, outcome: PageOutcome) -> Result<bool, StoreError> {
        self.ask(|reply| Job::FullText { item, outcome, reply }).await
    }

    async fn ask<T>(&self, job: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Job) -> Result<T, StoreError> {
        let (reply, result) = oneshot::channel();
        self.jobs.send(job(reply)).map_err(|_| StoreError::WriterGone)?;
        result.await.map_err(|_| StoreError::WriterGone)?
    }
}

/// Commits a batch and answers every poll in it.
fn commit_batch(store: &mut Store, batch: Vec<PollJob>, generation: &Generation) {
    let results = match store.write_batch(&batch) {
        Ok(results) => results,
        Err(e) => {
            let message = e.to_string();
            batch.iter().map(|_| Err(StoreError::Commit(message.clone()))).collect()
        }
    };
    // Items stored (or a copy recorded) change the outputs; a 304 or a failure changes
    // only the feed's row.
    if results.iter().any(|r| r.as_ref().is_ok_and(|c| c.new + c.duplicates > 0)) {
        generation.advance();
    }
    for (job, result) in batch.into_iter().zip(results) {
        // The poll that asked may have been cancelled; its result is then moot.
        let _ = job.reply.send(result);
    }
}

impl Drop for Writer {
    /// Waits for queued writes to be committed and the connection closed.
    fn drop(&mut self) {
        let (closed, _) = mpsc::channel();
        drop(std::mem::replace(&mut self.jobs, closed));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Entry;

    fn job(feed: FeedRef, link: &str) -> PollJob {
        let entry = Entry {
            link: Some(link.into()),
            canonical_link: Some(link.into()),
            title: link.into(),
            ..Entry::default()
        };
        let parsed = Box::new(ParsedFeed { entries: vec![entry], ..ParsedFeed::default() });
        let write = PollWrite::stored(*parsed, 200, Validators::default(), None);
        PollJob { feed, write, now: Utc::now(), reply: oneshot::channel().0 }
    }

    fn spec(name: &str) -> FeedSpec {
        FeedSpec::new(name, Url::parse(&format!("http://{name}.example/f")).unwrap())
    }

    /// A poll whose writes fail (here: its feed is not in the store) fails alone; the
    /// other polls of its batch, before and after it, are stored.
    #[test]
    fn a_failing_poll_in_a_batch_fails_alone() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        store.sync_feeds(&[spec("a"), spec("b")]).unwrap();
        let (a, b) = (store.feed("a").unwrap(), store.feed("b").unwrap());
        let missing = FeedRef { id: 999, name: "gone".into(), ..a.clone() };
        let jobs = [job(a, "http://x.example/1"), job(missing, "http://x.example/2"), job(b, "http://x.example/3")];
        let results = store.write_batch(&jobs).unwrap();
        assert_eq!(results[0].as_ref().unwrap().new, 1);
        assert!(results[1].is_err(), "the feed of the second poll does not exist");
        assert_eq!(results[2].as_ref().unwrap().new, 1);
        let titles: Vec<String> = store.newest_items(10).unwrap().into_iter().map(|i| i.title).collect();
        assert_eq!(titles.len(), 2, "{titles:?}");
        assert!(!titles.contains(&"http://x.example/2".to_string()));
    }

    /// `close` commits what was queued before it and refuses what comes after.
    #[tokio::test]
    async fn closing_the_writer_commits_then_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        store.sync_feeds(&[spec("a")]).unwrap();
        let feed = store.feed("a").unwrap();
        let writer = Writer::spawn(store, Arc::default());
        let PollJob { write, .. } = job(feed.clone(), "http://x.example/1");
        let queued = writer.write(feed.clone(), write, Utc::now());
        let (written, closed) = tokio::join!(queued, writer.close());
        assert_eq!(written.unwrap().new, 1);
        closed.unwrap();
        let PollJob { write, .. } = job(feed, "http://x.example/2");
        assert!(matches!(writer.write(feed_ref_of(&dir), write, Utc::now()).await, Err(StoreError::WriterGone)));
        let reader = Store::open_reader(&dir.path().join("s.db")).unwrap();
        assert_eq!(reader.newest_items(10).unwrap().len(), 1, "what was queued before closing is stored");
    }

    /// The generation moves on when a write changes what the outputs show (a new item),
    /// not when a poll changes only its feed's row (a 304, the same item again): cached
    /// documents follow the store without being told.
    #[tokio::test]
    async fn the_generation_moves_on_with_what_the_outputs_show() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        store.sync_feeds(&[spec("a")]).unwrap();
        let feed = store.feed("a").unwrap();
        let generation = Arc::new(Generation::default());
        let writer = Writer::spawn(store, generation.clone());
        let now = |g: &Generation| g.current().0;
        let start = now(&generation);
        let PollJob { write, .. } = job(feed.clone(), "http://x.example/1");
        assert_eq!(writer.write(feed.clone(), write, Utc::now()).await.unwrap().new, 1);
        let stored = now(&generation);
        assert!(stored > start, "a new item moves it on");
        let unchanged = PollWrite { outcome: Outcome::NotModified, moved_to: None };
        writer.write(feed.clone(), unchanged, Utc::now()).await.unwrap();
        let PollJob { write, .. } = job(feed.clone(), "http://x.example/1");
        assert_eq!(writer.write(feed, write, Utc::now()).await.unwrap().new, 0);
        assert_eq!(now(&generation), stored, "a 304 and an item already stored leave it");
        writer.close().await.unwrap();
    }

    fn feed_ref_of(dir: &tempfile::TempDir) -> FeedRef {
        Store::open_reader(&dir.path().join("s.db")).unwrap().feed("a").unwrap()
    }
}
