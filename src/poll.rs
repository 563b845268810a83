//! One poll of one feed: fetch -> parse -> dedupe + store, with the outcome recorded on the
//! feed's row whatever happens.
//!
//! Owns the order of the stages, not their insides: HTTP stays in `fetch`, SQL in `store`.
//! Parsing runs on blocking threads, at most one per core, so the async workers keep
//! fetching; writes go to the store's single writer thread.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::Semaphore;

use crate::fetch::robots::{Robots, Verdict};
use crate::fetch::{Fetcher, Source};
use crate::grouping::Grouper;
use crate::model::{Body, Failure, FailureKind, Outcome, PollReport, PollResult};
use crate::parse;
use crate::scheduler::ADOPT_REDIRECT_AFTER;
use crate::store::{self, Compaction, FeedRef, PageOutcome, PollWrite, Redirect, StoreError, Writer};

/// What every poll shares: the fetcher, the store's writer, and a bound on parsing threads.
pub struct Pipeline {
    fetcher: Fetcher,
    writer: Arc<Writer>,
    grouper: Arc<Grouper>,
    /// One parse per core keeps blocking threads (and their allocator heaps) few while
    /// fetches wait on the network.
    cpu: Arc<Semaphore>,
    /// Polls between their fetch and their commit. Fetched bodies and parsed documents
    /// wait in memory for a parser or the writer; this bound keeps that memory bounded.
    in_flight: Semaphore,
    /// When stored items are grouped.
    batching: Arc<Batching>,
    /// Keep/block rules, applied to entries before they are stored.
    filters: Arc<crate::filter::Filters>,
    /// How the feeds that need more than a URL are asked (by name).
    sources: HashMap<String, Source>,
    /// The feeds whose articles' pages are fetched for their full text (by name).
    full_text: HashSet<String>,
    /// The robots.txt of each site whose pages were asked for.
    robots: Robots,
}

/// Article pages fetched per feed and poll for full text, newest first; the others wait
/// for the feed's next polls (a 304 included). A first poll of a summary-only feed of 50
/// items then costs 5 page fetches, not 50, and a site is asked for one page at a time.
pub const FULL_TEXT_PER_POLL: usize = 5;

/// Grouping waits for a quiet moment, so that the polls started together (a cold start,
/// the feeds due at one time) are grouped as one batch in published order, whatever order
/// their answers came in.
#[derive(Default)]
struct Batching {
    /// Polls started and not finished (waiting ones included), and holds.
    active: AtomicUsize,
    /// Since when stored items wait for grouping, if they do.
    waiting_since: Mutex<Option<Instant>>,
}

impl Batching {
    /// Takes the waiting items for grouping if `now_due` says their time has come.
    fn take_if(&self, now_due: impl FnOnce(Instant) -> bool) -> bool {
        let mut since = self.waiting_since.lock().unwrap_or_else(|p| p.into_inner());
        let due = since.is_some_and(now_due);
        if due {
            *since = None;
        }
        due
    }
}

/// How long polls must have been quiet before their items are grouped: far longer than
/// the scheduler takes to start the polls due at one time (a loop of spawns), far shorter
/// than a reader notices.
const QUIET: Duration = Duration::from_millis(500);

/// Longest that stored items wait for a quiet moment: feeds whose polls keep overlapping
/// (slow servers on staggered schedules) must not keep items out of series for long.
const GROUP_AT_THE_LATEST: Duration = Duration::from_secs(120);

/// Counts as a running poll while held: no grouping starts meanwhile.
pub struct Hold(Arc<Batching>);

impl Drop for Hold {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Pipeline {
    /// A pipeline over a fetcher and the store's writer; at most `in_flight` polls hold
    /// a response in memory at once (twice the fetch concurrency keeps fetching busy
    /// while earlier responses are parsed and written).
    pub fn new(
        fetcher: Fetcher,
        writer: Arc<Writer>,
        grouper: Arc<Grouper>,
        in_flight: usize,
        filters: Arc<crate::filter::Filters>,
        sources: HashMap<String, Source>,
        full_text: HashSet<String>,
    ) -> Pipeline {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Pipeline {
            fetcher,
            writer,
            grouper,
            cpu: Arc::new(Semaphore::new(cores)),
            in_flight: Semaphore::new(in_flight.max(1)),
            batching: Arc::default(),
            filters,
            sources,
            full_text,
            robots: Robots::default(),
        }
    }

    /// Waits until every stored item is in a series.
    pub async fn settle(&self) -> Result<usize, StoreError> {
        self.grouper.group().await
    }

    /// Applies retention: prunes items first seen more than `retention` ago (at most once
    /// per [`store::PRUNE_EVERY`] unless `force`d), then compacts the file if that is due.
    pub async fn prune(&self, retention: Duration, force: bool) -> Result<store::Retention, StoreError> {
        let age = chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::MAX);
        let cutoff = Utc::now().checked_sub_signed(age).unwrap_or(chrono::DateTime::<Utc>::MIN_UTC);
        let done = self.writer.prune(cutoff, force).await?;
        match &done.compaction {
            Compaction::NotNeeded => {}
            Compaction::Reclaimed(bytes) => tracing::info!(bytes, "database compacted after retention"),
            Compaction::Failed(why) => {
                tracing::warn!("cannot compact the database after retention (tried again at the next run): {why}")
            }
        }
        Ok(done)
    }

    /// Keeps grouping from starting until the returned hold is dropped: a caller that
    /// starts many polls at once holds while it starts them, then groups with [`settle`].
    ///
    /// [`settle`]: Pipeline::settle
    pub fn hold(&self) -> Hold {
        self.batching.active.fetch_add(1, Ordering::SeqCst);
        Hold(self.batching.clone())
    }

    /// Polls one feed and records the outcome; a failure to store it is a failure of the
    /// feed (`store_error`), not an error. Its new
    /// items are grouped once polls have been quiet for `QUIET` (or after
    /// `GROUP_AT_THE_LATEST`).
    pub async fn poll(&self, feed: FeedRef) -> PollReport {
        let b = &self.batching;
        b.active.fetch_add(1, Ordering::SeqCst);
        let report = self.poll_one(feed).await;
        if matches!(report.result, PollResult::Done(c) if c.new + c.duplicates > 0) {
            b.waiting_since.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert_with(Instant::now);
        }
        let quiet = b.active.fetch_sub(1, Ordering::SeqCst) == 1;
        if b.take_if(|since| since.elapsed() >= GROUP_AT_THE_LATEST) {
            self.grouper.kick();
        } else if quiet {
            let (b, grouper) = (b.clone(), self.grouper.clone());
            self.grouper.tasks().spawn(async move {
                tokio::time::sleep(QUIET).await;
                if b.active.load(Ordering::SeqCst) == 0 && b.take_if(|_| true) {
                    grouper.kick();
                }
            });
        }
        report
    }

    async fn poll_one(&self, feed: FeedRef) -> PollReport {
        let _slot = self.in_flight.acquire().await.expect("the in-flight semaphore is never closed");
        let started = Instant::now();
        let fetched = self.fetcher.fetch_as(&feed.url, &feed.validators, self.sources.get(&feed.name)).await;
        let moved_to = fetched.moved_to.map(|to| Redirect { to, adopt_after: ADOPT_REDIRECT_AFTER });
        let mut write = match fetched.outcome {
            Outcome::Done(body) => self.parse(body, moved_to).await,
            Outcome::NotModified => PollWrite { outcome: Outcome::NotModified, moved_to },
            Outcome::Failed(failure) => PollWrite::failed(failure),
        };
        if let Outcome::Done(doc) = &mut write.outcome {
            if !self.filters.is_empty() {
                for e in &mut doc.parsed.entries {
                    let fields = crate::filter::Fields {
                        title: &e.title,
                        summary: &e.summary,
                        link: e.link.as_deref(),
                        author: e.author.as_deref(),
                        categories: &e.categories,
                    };
                    e.filtered = self.filters.verdict(&feed.name, &fields);
                }
            }
            doc.full_text = self.full_text.contains(&feed.name);
        }
        let (hint, warnings) = match &write.outcome {
            Outcome::Done(doc) => (doc.parsed.min_interval, doc.parsed.warnings.clone()),
            _ => (None, Vec::new()),
        };
        let min_interval = hint.into_iter().chain(fetched.max_age).max();
        // What the report will say, taken before the write moves the document away.
        let ended = write.outcome.without_result();
        let error_count = if ended.failure().is_some() { feed.error_count + 1 } else { 0 };
        let name = feed.name.clone();
        let counts = match self.writer.write(feed.clone(), write, Utc::now()).await {
            Ok(counts) => counts,
            // A failure of the store is a failure of this poll: the feed backs off and is
            // polled again, and the row says so if the store takes that much.
            Err(e) => {
                let mut report = PollReport::store_failure(&name, &e, feed.error_count + 1);
                if let Outcome::Failed(failure) = &report.result {
                    let _ = self.writer.write(feed, PollWrite::failed(failure.clone()), Utc::now()).await;
                }
                (report.elapsed, report.warnings) = (started.elapsed(), warnings);
                return report;
            }
        };
        if self.full_text.contains(&name) && ended.failure().is_none() {
            self.fetch_full_texts(&name).await;
        }
        let result = ended.map(|()| counts);
        PollReport { feed: name, result, elapsed: started.elapsed(), min_interval, error_count, warnings }
    }

    /// Fetches the pages of up to [`FULL_TEXT_PER_POLL`] of the feed's waiting articles,
    /// one at a time, and records each one's article or why there is none (data on the
    /// item, never a failure of the poll).
    async fn fetch_full_texts(&self, name: &str) {
        let waiting = match self.writer.waiting_full_text(name.to_string(), FULL_TEXT_PER_POLL).await {
            Ok(waiting) => waiting,
            Err(e) => return tracing::warn!(feed = name, "full text: cannot read the waiting articles: {e}"),
        };
        let (mut fetched, mut failed) = (0, 0);
        for w in waiting {
            let outcome = self.article(&w.link, self.sources.get(name)).await;
            match &outcome {
                PageOutcome::Article(_) => fetched += 1,
                PageOutcome::Failed(why) | PageOutcome::Later(why) => {
                    failed += 1;
                    tracing::info!(feed = name, item = w.item, "full text: {why}");
                }
            }
            if let Err(e) = self.writer.record_full_text(w.item, outcome).await {
                tracing::warn!(feed = name, item = w.item, "full text: cannot store it: {e}");
            }
        }
        if fetched + failed > 0 {
            tracing::info!(feed = name, fetched, failed, "full text");
        }
    }

    /// The article at `link`, sanitized, or why there is none (for good, or for now):
    /// robots.txt first, then the page under the fetcher's limits, read on a blocking
    /// thread like a feed.
    async fn article(&self, link: &str, source: Option<&Source>) -> PageOutcome {
        let url = match url::Url::parse(link) {
            Ok(url) => url,
            Err(e) => return PageOutcome::Failed(format!("the link is not a URL: {e}")),
        };
        match self.robots.verdict(&self.fetcher, &url, source).await {
            Verdict::Allowed => {}
            Verdict::Disallowed => return PageOutcome::Failed("robots.txt disallows this page".into()),
            Verdict::Unreachable(why) => {
                return PageOutcome::Later(format!("the site's robots.txt could not be read: {why}"))
            }
        }
        let body = match self.fetcher.fetch_page(&url, source).await.outcome {
            Outcome::Done(body) => body,
            Outcome::NotModified => {
                return PageOutcome::Failed("the server answered 304 Not Modified to a plain request".into())
            }
            Outcome::Failed(f) => {
                let passing = matches!(f.kind, FailureKind::Network | FailureKind::Timeout | FailureKind::Throttled)
                    || f.http_status.is_some_and(|s| s >= 500);
                return if passing { PageOutcome::Later(f.message) } else { PageOutcome::Failed(f.message) };
            }
        };
        let _cpu = self.cpu.acquire().await.expect("the CPU semaphore is never closed");
        let read = tokio::task::spawn_blocking(move || {
            parse::article::extract(&body.bytes, body.content_type.as_deref(), &body.final_url)
        })
        .await;
        match read {
            Ok(Ok(html)) => PageOutcome::Article(html),
            Ok(Err(e)) => PageOutcome::Failed(e.to_string()),
            Err(e) => PageOutcome::Failed(format!("internal error while reading the page: {e}")),
        }
    }

    /// Parses a body on a blocking thread; a parse failure (or a parser crash) becomes a
    /// recorded failure of the feed.
    async fn parse(&self, body: Body, moved_to: Option<Redirect>) -> PollWrite {
        let _cpu = self.cpu.acquire().await.expect("the CPU semaphore is never closed");
        let status = body.status;
        let parsed = tokio::task::spawn_blocking(move || {
            parse::parse(&body.bytes, body.content_type.as_deref(), &body.final_url).map(|p| (p, body.validators))
        })
        .await;
        let failure = |message: String| {
            PollWrite::failed(Failure {
                kind: FailureKind::Parse,
                http_status: Some(status),
                message,
                retry_after: None,
            })
        };
        match parsed {
            Ok(Ok((parsed, validators))) => PollWrite::stored(parsed, status, validators, moved_to),
            Ok(Err(e)) => failure(e.to_string()),
            Err(panic) => failure(format!("internal error while parsing the feed: {panic}")),
        }
    }
}
