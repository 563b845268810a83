//! One poll of one feed: fetch -> parse -> dedupe + store, with the outcome recorded on the
//! feed's row whatever happens.
//!
//! Owns the order of the stages, not their insides: HTTP stays in `fetch`, SQL in `store`.
//! Parsing and storing run on blocking threads so the async workers keep fetching.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;

use crate::fetch::Fetcher;
use crate::model::{Failure, FailureKind, FetchOutcome};
use crate::parse;
use crate::store::{FeedRef, PollCounts, Received, Store, StoreError};

/// The store as shared by concurrent polls: one writer at a time.
pub type SharedStore = Arc<Mutex<Store>>;

/// How one feed's poll ended.
#[derive(Debug, Clone, PartialEq)]
pub enum PollResult {
    /// A new document was parsed and stored.
    Stored(PollCounts),
    /// 304 Not Modified.
    NotModified,
    /// Fetching or parsing failed; recorded on the feed row.
    Failed(Failure),
}

/// One line of `poll` output.
#[derive(Debug, Clone)]
pub struct PollReport {
    /// Configured feed name.
    pub feed: String,
    /// What happened.
    pub result: PollResult,
    /// Wall time of the whole poll.
    pub elapsed: Duration,
}

impl fmt::Display for PollReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.feed)?;
        match &self.result {
            PollResult::Stored(c) => {
                write!(f, "{} new, {} duplicates, {} already stored", c.new, c.duplicates, c.unchanged)
            }
            PollResult::NotModified => f.write_str("not modified"),
            PollResult::Failed(failure) => write!(f, "error: {}", failure.message),
        }
    }
}

/// Locks the store, tolerating a poisoned lock: a panic elsewhere must not stop polling.
pub fn lock(store: &SharedStore) -> std::sync::MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|p| p.into_inner())
}

/// Polls one feed and records the outcome. Only database failures are errors.
pub async fn poll_feed(fetcher: &Fetcher, store: &SharedStore, feed: FeedRef) -> Result<PollReport, StoreError> {
    let started = Instant::now();
    let fetched = fetcher.fetch(&feed.url, &feed.validators).await;
    let store = store.clone();
    let name = feed.name.clone();
    let result = tokio::task::spawn_blocking(move || -> Result<PollResult, StoreError> {
        let now = Utc::now();
        let moved_to = fetched.moved_to.as_ref();
        match fetched.outcome {
            FetchOutcome::NotModified => {
                lock(&store).record_not_modified(&feed, moved_to, now)?;
                Ok(PollResult::NotModified)
            }
            FetchOutcome::Failed(failure) => {
                lock(&store).record_failure(&feed, &failure, now)?;
                Ok(PollResult::Failed(failure))
            }
            FetchOutcome::Fetched(body) => {
                match parse::parse(&body.bytes, body.content_type.as_deref(), &body.final_url) {
                    Ok(parsed) => {
                        let got =
                            Received { parsed: &parsed, status: body.status, validators: &body.validators, moved_to };
                        Ok(PollResult::Stored(lock(&store).store_poll(&feed, got, now)?))
                    }
                    Err(e) => {
                        let failure = Failure {
                            kind: FailureKind::Parse,
                            http_status: Some(body.status),
                            message: e.to_string(),
                            retry_after: None,
                        };
                        lock(&store).record_failure(&feed, &failure, now)?;
                        Ok(PollResult::Failed(failure))
                    }
                }
            }
        }
    })
    .await
    .unwrap_or_else(|panic| {
        Ok(PollResult::Failed(Failure {
            kind: FailureKind::Parse,
            http_status: None,
            message: format!("internal error while processing the feed: {panic}"),
            retry_after: None,
        }))
    })?;
    Ok(PollReport { feed: name, result, elapsed: started.elapsed() })
}
