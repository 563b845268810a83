//! When each feed is polled: its schedule plus jitter, exponential backoff after failures,
//! Retry-After per host, 410 Gone, and hints (`<ttl>`, `sy:updatePeriod`, Cache-Control)
//! that may only slow a feed down. Also the loop that fires due polls.
//!
//! Knows nothing of HTTP, parsing or SQL: polls and persistence go through [`Poller`].

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::model::{FailureKind, PollReport, PollResult, Schedule};

/// Longest wait after repeated failures.
pub const MAX_BACKOFF: Duration = Duration::from_secs(86_400);
/// First wait after a failure; doubles with each further failure.
pub const FIRST_BACKOFF: Duration = Duration::from_secs(60);
/// Longest slow-down a feed's own hints may impose.
pub const MAX_HINT: Duration = Duration::from_secs(86_400);
/// Consecutive polls that must end at the same permanent redirect before the feed's
/// stored URL moves there.
pub const ADOPT_REDIRECT_AFTER: u32 = 3;
/// Largest jitter added to a scheduled time.
pub const MAX_JITTER: Duration = Duration::from_secs(300);

/// Retry-After from a failed poll (a 429/503), applied to every feed of its host.
fn retry_after(report: &PollReport) -> Option<Duration> {
    match &report.result {
        PollResult::Failed(f) => f.retry_after,
        _ => None,
    }
}

/// A feed as the scheduler sees it.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Configured name.
    pub name: String,
    /// Its schedule.
    pub schedule: Schedule,
    /// Host of the URL polled, for Retry-After.
    pub host: String,
    /// The stored next poll time; None when never polled (due now).
    pub next: Option<DateTime<Utc>>,
    /// Never to be polled (410 Gone, or disabled).
    pub parked: bool,
}

/// A deterministic offset in `[0, min(period / 4, MAX_JITTER))` from the feed's name, so
/// feeds sharing a schedule spread out instead of firing in the same second.
pub fn jitter(name: &str, schedule: &Schedule, at: DateTime<Utc>) -> Duration {
    let first = schedule.next_after(at);
    let period = (schedule.next_after(first) - first).to_std().unwrap_or_default();
    let span = (period / 4).min(MAX_JITTER).as_secs();
    if span == 0 {
        return Duration::ZERO;
    }
    // Stable across runs and platforms, unlike the std hasher.
    let hash = crate::text::stable_hash([name.as_bytes()]);
    Duration::from_secs(hash % span)
}

/// Wait after `consecutive` failures: 1 min, 2, 4, … capped at a day.
pub fn backoff(consecutive: u32) -> Duration {
    let doublings = consecutive.saturating_sub(1).min(20);
    FIRST_BACKOFF.saturating_mul(1 << doublings).min(MAX_BACKOFF)
}

fn after(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    t + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::days(1))
}

/// The feed's next regular time after `polled`. Cron times get the feed's jitter added
/// (feeds on one crontab line spread over part of its period); an interval is measured
/// from the previous poll, exactly (it was snapped to a grid, which put up to one and a
/// half intervals between a poll and the next).
pub fn scheduled_after(name: &str, schedule: &Schedule, polled: DateTime<Utc>) -> DateTime<Utc> {
    match schedule {
        Schedule::Cron { .. } => after(schedule.next_after(polled), jitter(name, schedule, polled)),
        Schedule::Every(interval) => after(polled, *interval),
    }
}

/// When to poll again after a poll that ended at `polled` as `report` says; None = never
/// (410 Gone, until the configuration changes). After a success the publisher's own hint
/// (ttl, sy:updatePeriod, max-age) may only lengthen the interval; after `error_count`
/// failures in a row, backoff and Retry-After may.
pub fn next_poll(name: &str, schedule: &Schedule, polled: DateTime<Utc>, report: &PollReport) -> Option<DateTime<Utc>> {
    let scheduled = scheduled_after(name, schedule, polled);
    match &report.result {
        PollResult::Failed(f) if f.kind == FailureKind::Gone => None,
        PollResult::Failed(f) => {
            let mut next = scheduled.max(after(polled, backoff(report.error_count)));
            if let Some(wait) = f.retry_after {
                next = next.max(after(polled, wait.min(MAX_BACKOFF)));
            }
            Some(next)
        }
        PollResult::Done(_) | PollResult::NotModified => {
            let hinted = report.min_interval.map(|m| after(polled, m.min(MAX_HINT)));
            Some(hinted.map_or(scheduled, |h| h.max(scheduled)))
        }
    }
}

/// Where the scheduler's time comes from. The system clock in production; under a paused
/// tokio clock in tests, wall time advances with tokio's virtual time.
#[derive(Debug, Clone, Copy)]
pub enum Clock {
    /// `Utc::now()`.
    System,
    /// Starts at `wall` and advances with tokio's clock.
    Virtual {
        /// Wall time at `start`.
        wall: DateTime<Utc>,
        /// tokio instant at creation.
        start: tokio::time::Instant,
    },
}

impl Clock {
    /// A virtual clock starting now at `wall`.
    pub fn virtual_at(wall: DateTime<Utc>) -> Clock {
        Clock::Virtual { wall, start: tokio::time::Instant::now() }
    }

    /// The current wall time.
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Virtual { wall, start } => after(*wall, start.elapsed()),
        }
    }

    /// The tokio instant at which wall time `at` is reached.
    pub fn instant_of(&self, at: DateTime<Utc>) -> tokio::time::Instant {
        let wait = (at - self.now()).to_std().unwrap_or_default();
        tokio::time::Instant::now() + wait
    }
}

/// What the scheduler asks of the rest of storyline.
pub trait Poller: Send + Sync + 'static {
    /// Polls the named feed and reports how it went; `None` when there was nothing to
    /// schedule (the feed left the configuration, or storing the poll failed).
    fn poll(&self, feed: String) -> impl Future<Output = Option<PollReport>> + Send + 'static;
    /// Persists the next poll time of a feed (None: not scheduled).
    fn scheduled(&self, feed: String, next: Option<DateTime<Utc>>) -> impl Future<Output = ()> + Send + 'static;
    /// Called on every turn of the loop and at least every `tick`: a liveness signal.
    fn alive(&self) {}
}

/// Messages to a running scheduler.
#[derive(Debug)]
pub enum Command {
    /// The configuration changed: this is the new feed list.
    Replace(Vec<Plan>),
}

/// The set of feeds and when each is next due.
#[derive(Debug, Default)]
pub struct Scheduler {
    plans: HashMap<String, Plan>,
    queue: BTreeSet<(DateTime<Utc>, String)>,
    due: HashMap<String, DateTime<Utc>>,
    blocked: HashMap<String, DateTime<Utc>>,
    running: HashMap<String, ()>,
}

impl Scheduler {
    /// A scheduler for `plans`; feeds never polled, or past due, are due at `now`.
    pub fn new(plans: Vec<Plan>, now: DateTime<Utc>) -> Scheduler {
        let mut s = Scheduler::default();
        s.replace(plans, now);
        s
    }

    /// How many feeds are due now or earlier.
    pub fn due_count(&self, now: DateTime<Utc>) -> usize {
        self.queue.iter().take_while(|(t, _)| *t <= now).count()
    }

    /// The earliest scheduled time.
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        self.queue.first().map(|(t, _)| *t)
    }

    /// When the named feed is due, if it is scheduled.
    pub fn due_at(&self, name: &str) -> Option<DateTime<Utc>> {
        self.due.get(name).copied()
    }

    fn set(&mut self, name: &str, at: Option<DateTime<Utc>>) {
        if let Some(old) = self.due.remove(name) {
            self.queue.remove(&(old, name.to_string()));
        }
        if let Some(at) = at {
            self.due.insert(name.to_string(), at);
            self.queue.insert((at, name.to_string()));
        }
    }

    /// Applies a new feed list: new feeds keep their stored time (or are due now), removed
    /// ones are dropped, and a feed whose schedule changed is due no later than its new
    /// schedule says.
    pub fn replace(&mut self, plans: Vec<Plan>, now: DateTime<Utc>) {
        let old = std::mem::take(&mut self.plans);
        for name in old.keys().filter(|n| !plans.iter().any(|p| &p.name == *n)).cloned().collect::<Vec<_>>() {
            self.set(&name, None);
        }
        for plan in plans {
            let at = if plan.parked {
                None
            } else if let Some(current) = self.due_at(&plan.name) {
                let changed = old.get(&plan.name).is_some_and(|o| o.schedule.to_string() != plan.schedule.to_string());
                Some(if changed { current.min(plan.schedule.next_after(now)) } else { current })
            } else if self.running.contains_key(&plan.name) {
                None
            } else {
                Some(plan.next.unwrap_or(now))
            };
            self.set(&plan.name, at);
            self.plans.insert(plan.name.clone(), plan);
        }
    }

    /// Holds back every feed of `host` until `until` (a stored Retry-After).
    pub fn block_host(&mut self, host: &str, until: DateTime<Utc>) {
        self.blocked.insert(host.to_ascii_lowercase(), until);
    }

    /// Removes and returns the feeds due at `now`. A feed whose host asked us to wait is
    /// moved to the end of that wait instead.
    pub fn take_due(&mut self, now: DateTime<Utc>) -> Vec<String> {
        let mut out = Vec::new();
        while let Some((at, name)) = self.queue.first().cloned() {
            if at > now {
                break;
            }
            let host = self.plans.get(&name).map(|p| p.host.clone()).unwrap_or_default();
            match self.blocked.get(&host) {
                Some(until) if *until > now => self.set(&name, Some(*until)),
                _ => {
                    self.set(&name, None);
                    self.running.insert(name.clone(), ());
                    out.push(name);
                }
            }
        }
        out
    }

    /// Records a finished poll and returns the feed's next poll time.
    pub fn finished(&mut self, name: &str, polled: DateTime<Utc>, report: &PollReport) -> Option<DateTime<Utc>> {
        self.running.remove(name);
        let plan = self.plans.get(name)?;
        if let Some(wait) = retry_after(report) {
            let until = after(polled, wait.min(MAX_BACKOFF));
            let host = plan.host.clone();
            let entry = self.blocked.entry(host).or_insert(until);
            *entry = (*entry).max(until);
        }
        let next = next_poll(name, &plan.schedule, polled, report);
        self.set(name, next);
        next
    }

    /// Runs until `token` is cancelled: fires due polls (tracked by `tracker`), schedules
    /// the next ones, and applies commands.
    pub async fn run<P: Poller>(
        mut self,
        poller: Arc<P>,
        clock: Clock,
        mut commands: mpsc::Receiver<Command>,
        token: CancellationToken,
        tracker: TaskTracker,
        tick: Duration,
    ) {
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(String, DateTime<Utc>, Option<PollReport>)>();
        loop {
            poller.alive();
            for name in self.take_due(clock.now()) {
                let (poller, done_tx) = (poller.clone(), done_tx.clone());
                tracker.spawn(async move {
                    let outcome = poller.poll(name.clone()).await;
                    let _ = done_tx.send((name, clock.now(), outcome));
                });
            }
            let wake = self.next_due().map_or_else(|| tokio::time::Instant::now() + tick, |t| clock.instant_of(t));
            let wake = wake.min(tokio::time::Instant::now() + tick);
            tokio::select! {
                biased;
                _ = token.cancelled() => break,
                Some((name, polled, report)) = done_rx.recv() => match report {
                    Some(report) => {
                        let next = self.finished(&name, polled, &report);
                        poller.scheduled(name, next).await;
                    }
                    // Nothing to schedule: the feed waits for its plan to change.
                    None => {
                        self.running.remove(&name);
                        self.set(&name, None);
                    }
                },
                Some(Command::Replace(plans)) = commands.recv() => self.replace(plans, clock.now()),
                _ = tokio::time::sleep_until(wake) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests;
