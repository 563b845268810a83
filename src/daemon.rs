//! `storyline run`: the long-running service. [`serve`] runs it on a bound listener until
//! its stop token is cancelled, re-reading the configuration on each reload request and
//! telling its owner what it did ([`Event`]); [`run`] is `serve` driven by signals
//! (SIGHUP reloads, SIGTERM/SIGINT stop) and systemd's notifications. Tests drive `serve`
//! in-process.
//!
//! Wiring and lifecycle only: no SQL, no parsing, no HTTP handling of its own.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, info, warn};

use crate::config::Config;
use crate::grouping::Round;
use crate::model::{PollReport, PollResult};
use crate::notify::{notify, Watchdog};
use crate::poll::Pipeline;
use crate::publish::{self, Published};
use crate::scheduler::{Clock, Command, Plan, Poller, Scheduler};
use crate::store::{Database, FeedRef, Retention, Store, StoreError};
use crate::wiring::Parts;

/// How long in-flight polls may run on after a stop request, beyond the fetch timeout.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// What a daemon did, for its owner (tests wait for these instead of reading logs).
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A feed's poll ended: `status` as in the logs and `/metrics` (`ok`, `not_modified`,
    /// or the failure's kind such as `timeout` or `http_error`; `PollReport::status`),
    /// with the items it stored.
    Polled {
        /// The feed's name.
        feed: String,
        /// How the poll ended.
        status: &'static str,
        /// Items stored as new.
        new: usize,
    },
    /// A feed's next poll time was stored (`None`: not polled again, a gone feed).
    Scheduled {
        /// The feed's name.
        feed: String,
        /// When it is polled next.
        next: Option<DateTime<Utc>>,
    },
    /// A grouping round put `items` items into series (readers see them).
    Grouped {
        /// Items grouped.
        items: usize,
    },
    /// A grouping round failed (the store could not be read or written); its items are
    /// grouped by the next round.
    GroupingFailed {
        /// Why.
        error: String,
    },
    /// Retention was applied: the bodies of `items` items were dropped.
    Pruned {
        /// Items pruned.
        items: usize,
    },
    /// Started: listening, feeds recorded, the scheduler running.
    Ready,
    /// A reload request was handled: the configuration was applied, or refused (the
    /// daemon goes on with the previous one).
    Reloaded {
        /// Whether the new configuration is in force.
        applied: bool,
    },
}

/// How the owner of a daemon drives it.
pub struct Control {
    /// Cancelled to stop: no new polls, in-flight ones get the fetch timeout and a grace.
    pub stop: CancellationToken,
    /// Each message asks for the configuration file to be read again.
    pub reload: mpsc::Receiver<()>,
    /// Where [`Event`]s are sent (nobody need listen).
    pub events: tokio::sync::broadcast::Sender<Event>,
}

impl Control {
    /// A control with its stop token, the sender of reload requests, and a receiver of
    /// events.
    pub fn new() -> (Control, mpsc::Sender<()>, tokio::sync::broadcast::Receiver<Event>) {
        let (reloads, reload) = mpsc::channel(4);
        let (events, listen) = tokio::sync::broadcast::channel(EVENTS_BUFFERED);
        (Control { stop: CancellationToken::new(), reload, events }, reloads, listen)
    }
}

/// Events kept for a listener that lags: enough for a poll round of many feeds; a listener
/// further behind misses the oldest (and is told so by the channel).
const EVENTS_BUFFERED: usize = 4096;

/// What the scheduler's polls share with the rest of the daemon.
struct Shared {
    pipeline: RwLock<Arc<Pipeline>>,
    parts: Parts,
    reader: Mutex<Store>,
    published: Arc<Published>,
    watchdog: Option<Watchdog>,
    events: tokio::sync::broadcast::Sender<Event>,
}

impl Shared {
    /// The feed's stored state: `Ok(None)` when the store no longer has it (removed).
    fn feed(&self, name: &str) -> Result<Option<FeedRef>, StoreError> {
        match self.reader.lock().unwrap_or_else(|p| p.into_inner()).feed(name) {
            Ok(feed) => Ok(Some(feed)),
            Err(StoreError::UnknownFeed(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn pipeline(&self) -> Arc<Pipeline> {
        self.pipeline.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// The scheduler's view of the daemon.
struct DaemonPoller(Arc<Shared>);

impl Poller for DaemonPoller {
    fn poll(&self, feed: String) -> impl std::future::Future<Output = Option<PollReport>> + Send + 'static {
        let shared = self.0.clone();
        async move {
            let report = match shared.feed(&feed) {
                Ok(Some(feed_ref)) => shared.pipeline().poll(feed_ref).await,
                Ok(None) => return None,
                // Not dropped from the schedule: polled again after a backoff.
                Err(e) => PollReport::store_failure(&feed, &e, 1),
            };
            let counts = report.counts();
            shared.published.metrics.record(&report);
            let _ = shared.events.send(Event::Polled { feed: feed.clone(), status: report.status(), new: counts.new });
            let ms = report.elapsed.as_millis() as u64;
            match &report.result {
                PollResult::Failed(f) => {
                    warn!(feed = %feed, status = %report.status(), duration_ms = ms, error = %f.message, "poll")
                }
                // What reading the document repaired, once per poll however often it occurred
                // (a `None` field is left out of the line).
                _ => info!(
                    feed = %feed,
                    status = %report.status(),
                    new = counts.new,
                    duplicates = counts.duplicates,
                    duration_ms = ms,
                    warnings = (!report.warnings.is_empty()).then(|| report.warnings.join("; ")).as_deref(),
                    "poll"
                ),
            }
            Some(report)
        }
    }

    fn scheduled(
        &self,
        feed: String,
        next: Option<DateTime<Utc>>,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let shared = self.0.clone();
        async move {
            match shared.parts.writer.set_next_poll(feed.clone(), next).await {
                Ok(()) => {
                    let _ = shared.events.send(Event::Scheduled { feed, next });
                }
                Err(e) => error!(feed = %feed, "cannot store the next poll time: {e}"),
            }
        }
    }

    fn alive(&self) {
        if let Some(w) = &self.0.watchdog {
            w.ping();
        }
    }
}

/// How often the daemon applies retention, besides at start and after each applied
/// reload: pruning scans the items table once (a few hundred ms at 1M items), and an
/// item outlives its retention by at most this much.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(3600);

/// Applies `storage.retention` at start, after each reload (the newest setting comes
/// through `retention`) and every [`HOUSEKEEPING_EVERY`], until `stop`.
async fn housekeeping(
    shared: Arc<Shared>,
    mut retention: tokio::sync::watch::Receiver<Option<Duration>>,
    stop: CancellationToken,
) {
    // At start and after a reload, whenever the last run pruned: the setting may have
    // changed meanwhile.
    let mut force = true;
    loop {
        let keep = *retention.borrow_and_update();
        if let Some(keep) = keep {
            match shared.pipeline().prune(keep, force).await {
                Ok(Retention { pruned: items, .. }) => {
                    info!(items, retention_days = keep.as_secs() / 86_400, "retention applied: item bodies pruned");
                    let _ = shared.events.send(Event::Pruned { items });
                }
                Err(e) => error!("cannot apply retention (tried again within the hour): {e}"),
            }
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(HOUSEKEEPING_EVERY) => force = false,
            changed = retention.changed() => match changed {
                Ok(()) => force = true,
                Err(_) => return,
            },
        }
    }
}

/// The scheduler's plans for the configured feeds, from their stored state.
fn plans(config: &Config, stored: &[FeedRef]) -> Vec<Plan> {
    config
        .feeds
        .iter()
        .filter_map(|spec| {
            let feed = stored.iter().find(|f| f.name == spec.name)?;
            Some(Plan {
                name: spec.name.clone(),
                schedule: config.schedule_of(spec).clone(),
                host: feed.url.host_str().unwrap_or_default().to_ascii_lowercase(),
                next: feed.next_poll,
                parked: feed.gone || !spec.enabled,
            })
        })
        .collect()
}

/// A running HTTP server and the token that stops it. Apart from the polls' tracker: a
/// stop waits for polls, never for HTTP clients (the server bounds its own stop).
struct Server {
    listen: std::net::SocketAddr,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

fn start_server(listener: TcpListener, listen: std::net::SocketAddr, published: Arc<Published>) -> Server {
    let stop = CancellationToken::new();
    let task = tokio::spawn(publish::serve(listener, published, stop.clone()));
    Server { listen, stop, task }
}

async fn bind(addr: std::net::SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))
}

/// Runs the daemon until SIGTERM or SIGINT, reloading `path` on SIGHUP, with systemd told
/// of readiness, reloads and the stop.
pub async fn run(path: PathBuf, config: Config) -> anyhow::Result<()> {
    // Installed first: a stop requested while starting up is then a clean stop, not the
    // default action (which kills the process).
    let mut hangup = signal(SignalKind::hangup())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let listener = bind(config.server.listen).await?;
    let (control, reloads, mut events) = Control::new();
    let stop = control.stop.clone();
    let mut daemon = tokio::spawn(serve(listener, path, config, control));
    tokio::select! {
        ended = &mut daemon => return ended?,
        _ = next_event(&mut events, |e| *e == Event::Ready) => {
            notify("READY=1");
        }
    }
    let signals = async {
        loop {
            tokio::select! {
                _ = hangup.recv() => {
                    notify("RELOADING=1");
                    let _ = reloads.send(()).await;
                    // READY again once the reload is handled, applied or refused.
                    next_event(&mut events, |e| matches!(e, Event::Reloaded { .. })).await;
                    notify("READY=1");
                }
                _ = terminate.recv() => break,
                _ = interrupt.recv() => break,
            }
        }
    };
    tokio::select! {
        // The daemon ended on its own (it failed): its error is the result.
        ended = &mut daemon => return ended?,
        _ = signals => {}
    }
    notify("STOPPING=1");
    stop.cancel();
    daemon.await?
}

/// Waits for the next event that `wanted` accepts; `None` once the daemon is gone. A
/// listener that lagged behind goes on with the events still buffered.
pub async fn next_event(
    events: &mut tokio::sync::broadcast::Receiver<Event>,
    mut wanted: impl FnMut(&Event) -> bool,
) -> Option<Event> {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match events.recv().await {
            Ok(event) if wanted(&event) => return Some(event),
            Ok(_) | Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => return None,
        }
    }
}

/// Runs the daemon on `listener` with `config` (read from `path`, which a reload reads
/// again) until `control.stop` is cancelled.
pub async fn serve(listener: TcpListener, path: PathBuf, config: Config, control: Control) -> anyhow::Result<()> {
    let Control { stop, mut reload, events } = control;
    let tracker = TaskTracker::new();
    // Held until the daemon returns (with it the writer lock: no other storyline writes
    // to this database meanwhile).
    let database =
        Database::open_writing(&config.storage.database, crate::app::DAEMON, &config.feeds, &config.filters)?;
    let reader = database.reader()?;
    let stored = reader.configured_feeds()?;
    let published = Arc::new(Published::open(&database, config.server.clone())?);
    info!("listening on http://{}/", listener.local_addr()?);
    let mut server = start_server(listener, config.server.listen, published.clone());

    let on_grouped = (published.clone(), events.clone());
    let parts = Parts::open(&config, &database, tracker.clone(), move |round| {
        let event = match round {
            Round::Grouped(round) => {
                on_grouped.0.metrics.grouped(round);
                Event::Grouped { items: round.items }
            }
            Round::Failed(error) => {
                on_grouped.0.metrics.grouping_failed();
                Event::GroupingFailed { error: error.clone() }
            }
        };
        let _ = on_grouped.1.send(event);
    })
    .await?;
    let pipeline = parts.pipeline(&config)?;
    let watchdog = Watchdog::from_env();
    let tick = watchdog.as_ref().map_or(Duration::from_secs(30), |w| w.every().min(Duration::from_secs(30)));
    let shared = Arc::new(Shared {
        pipeline: RwLock::new(Arc::new(pipeline)),
        parts,
        reader: Mutex::new(reader),
        published: published.clone(),
        watchdog,
        events: events.clone(),
    });
    let now = Utc::now();
    let mut scheduler = Scheduler::new(plans(&config, &stored), now);
    for feed in &stored {
        if let Some(until) = feed.retry_after.filter(|t| *t > now) {
            // Held at most a day from now, whatever an older version stored.
            let until = until.min(now + chrono::Duration::from_std(crate::fetch::MAX_RETRY_AFTER).unwrap_or_default());
            scheduler.block_host(feed.url.host_str().unwrap_or_default(), until);
        }
    }
    info!(feeds = config.feeds.len(), due = scheduler.due_count(now), "scheduler started");
    let (commands, queue) = mpsc::channel(4);
    let poller = Arc::new(DaemonPoller(shared.clone()));
    let scheduling = tokio::spawn(scheduler.run(poller, Clock::System, queue, stop.clone(), tracker.clone(), tick));
    let (retention, retention_changes) = tokio::sync::watch::channel(config.storage.retention);
    tracker.spawn(housekeeping(shared.clone(), retention_changes, stop.clone()));
    let _ = events.send(Event::Ready);
    // After Ready: a large database takes seconds to check, and serving goes on meanwhile.
    let checking = published.clone();
    tracker.spawn(async move {
        if let Err(problem) = checking.check_integrity().await {
            error!("{problem}; /healthz answers 503 until it is repaired (sqlite3 .recover) or restored");
        }
    });

    let mut config = config;
    loop {
        tokio::select! {
            asked = reload.recv() => {
                if asked.is_none() {
                    // Nobody can ask for reloads any more; go on until stopped.
                    stop.cancelled().await;
                    break;
                }
                let next = reload_config(&path, &config, &shared, &commands, &mut server).await;
                if let Some(next) = &next {
                    retention.send_replace(next.storage.retention);
                }
                let _ = events.send(Event::Reloaded { applied: next.is_some() });
                if let Some(next) = next {
                    config = next;
                }
            }
            _ = stop.cancelled() => break,
        }
    }

    info!("stopping: no new polls; waiting for those in flight");
    server.stop.cancel();
    let _ = server.task.await;
    let _ = scheduling.await;
    tracker.close();
    if tokio::time::timeout(config.fetch.timeout + STOP_GRACE, tracker.wait()).await.is_err() {
        warn!("polls still running after the stop deadline were abandoned");
    }
    // Commits what was queued and closes the database; an abandoned poll's late write
    // then fails instead of landing after the stop.
    shared.parts.close().await?;
    info!("stopped");
    Ok(())
}
/// Re-reads the configuration. A valid one is applied; an invalid one is refused with its
/// errors logged, and the daemon goes on with `current`.
async fn reload_config(
    path: &Path,
    current: &Config,
    shared: &Arc<Shared>,
    commands: &mpsc::Sender<Command>,
    server: &mut Server,
) -> Option<Config> {
    let next = match Config::load(path) {
        Ok(next) => next,
        Err(errors) => {
            error!("reload refused; still running the previous configuration:\n{errors}");
            return None;
        }
    };
    if next.storage.database != current.storage.database {
        warn!("storage.database changed; the new database is used after a restart");
    }
    if let Err(e) = shared.parts.writer.sync_feeds(next.feeds.clone()).await {
        error!("reload refused: cannot record the feeds: {e}");
        return None;
    }
    // A changed rule applies to history too.
    match shared.parts.writer.refilter(Arc::new(next.filters.clone())).await {
        Ok(changed) if changed > 0 => info!(items = changed, "keep/block rules re-applied"),
        Ok(_) => {}
        Err(e) => error!("cannot re-apply the keep/block rules: {e}"),
    }
    match shared.parts.pipeline(&next) {
        Ok(pipeline) => {
            *shared.pipeline.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(pipeline);
        }
        Err(e) => error!("keeping the previous fetch settings: {e}"),
    }
    if next.server.listen != server.listen {
        match bind(next.server.listen).await {
            Ok(listener) => {
                if let Ok(addr) = listener.local_addr() {
                    info!("listening on http://{addr}/");
                }
                server.stop.cancel();
                *server = start_server(listener, next.server.listen, shared.published.clone());
            }
            Err(e) => error!("still listening on {}: {e:#}", server.listen),
        }
    }
    shared.published.set_settings(next.server.clone());
    let stored = shared.reader.lock().unwrap_or_else(|p| p.into_inner()).configured_feeds();
    match stored {
        Ok(stored) => {
            let _ = commands.send(Command::Replace(plans(&next, &stored))).await;
        }
        Err(e) => error!("cannot read the feeds back after reload: {e}"),
    }
    info!(feeds = next.feeds.len(), "reloaded {}", path.display());
    Some(next)
}
