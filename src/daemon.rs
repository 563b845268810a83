//! `storyline run`: the long-running service. Wires the store, the poll pipeline, the
//! scheduler and the HTTP server; reloads on SIGHUP; stops cleanly on SIGTERM/SIGINT.
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
use crate::fetch::Fetcher;
use crate::grouping::Grouper;
use crate::notify::{notify, Watchdog};
use crate::poll::{Pipeline, PollResult};
use crate::publish::{self, PollKind, Published};
use crate::scheduler::{Clock, Command, Outcome, Plan, Poller, Scheduler};
use crate::store::{FeedRef, Store, Writer, WriterLock};

/// How long in-flight polls may run on after a stop request, beyond the fetch timeout.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// What the scheduler's polls share with the rest of the daemon.
struct Shared {
    pipeline: RwLock<Arc<Pipeline>>,
    grouper: Arc<Grouper>,
    writer: Arc<Writer>,
    reader: Mutex<Store>,
    published: Arc<Published>,
    watchdog: Option<Watchdog>,
}

impl Shared {
    fn feed(&self, name: &str) -> Option<FeedRef> {
        self.reader.lock().unwrap_or_else(|p| p.into_inner()).feed(name).ok()
    }

    fn pipeline(&self) -> Arc<Pipeline> {
        self.pipeline.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// The scheduler's view of the daemon.
struct DaemonPoller(Arc<Shared>);

impl Poller for DaemonPoller {
    fn poll(&self, feed: String) -> impl std::future::Future<Output = Outcome> + Send + 'static {
        let shared = self.0.clone();
        async move {
            let Some(feed_ref) = shared.feed(&feed) else { return Outcome::Skipped };
            let report = match shared.pipeline().poll(feed_ref).await {
                Ok(report) => report,
                Err(e) => {
                    error!(feed = %feed, "poll not stored: {e}");
                    return Outcome::Skipped;
                }
            };
            let (kind, counts) = match &report.result {
                PollResult::Stored(c) => (PollKind::Ok, *c),
                PollResult::NotModified => (PollKind::NotModified, Default::default()),
                PollResult::Failed(_) => (PollKind::Failed, Default::default()),
            };
            shared.published.metrics.record(kind, counts.new, counts.duplicates, report.elapsed);
            if counts.new + counts.duplicates > 0 {
                shared.published.cache.invalidate();
            }
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
            report.outcome()
        }
    }

    fn scheduled(
        &self,
        feed: String,
        next: Option<DateTime<Utc>>,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let writer = self.0.writer.clone();
        async move {
            if let Err(e) = writer.set_next_poll(feed.clone(), next).await {
                error!(feed = %feed, "cannot store the next poll time: {e}");
            }
        }
    }

    fn alive(&self) {
        if let Some(w) = &self.0.watchdog {
            w.ping();
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
    let listener = TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    info!("listening on http://{}/", listener.local_addr()?);
    Ok(listener)
}

/// Runs the daemon until SIGTERM or SIGINT. `path` is re-read on SIGHUP.
pub async fn run(path: PathBuf, config: Config) -> anyhow::Result<()> {
    // Installed first: a stop requested while starting up is then a clean stop, not the
    // default action (which kills the process).
    let mut hangup = signal(SignalKind::hangup())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let tracker = TaskTracker::new();
    let stop = CancellationToken::new();
    // Held until the daemon returns: no other storyline writes to this database meanwhile.
    let _lock = WriterLock::acquire(&config.storage.database, crate::app::DAEMON)?;
    let mut store = Store::open(&config.storage.database)?;
    store.sync_feeds(&config.feeds).context("cannot record the configured feeds")?;
    let reader = Store::open_reader(&config.storage.database)?;
    let stored = reader.configured_feeds()?;
    let writer = Arc::new(Writer::spawn(store));
    let published = Arc::new(Published::open(&config.storage.database, config.server.clone())?);
    let listener = bind(config.server.listen).await?;
    let mut server = start_server(listener, config.server.listen, published.clone());

    let on_grouped = published.clone();
    let grouper = Grouper::open(&config.storage.database, config.series.params(), writer.clone())?
        .with_listener(move || on_grouped.cache.invalidate());
    let grouper = Arc::new(grouper);
    // Items stored by an earlier run but not grouped before it stopped.
    grouper.group().await?;
    let pipeline =
        Pipeline::new(Fetcher::new(&config.fetch)?, writer.clone(), grouper.clone(), 2 * config.fetch.max_concurrent);
    let watchdog = Watchdog::from_env();
    let tick = watchdog.as_ref().map_or(Duration::from_secs(30), |w| w.every().min(Duration::from_secs(30)));
    let shared = Arc::new(Shared {
        pipeline: RwLock::new(Arc::new(pipeline)),
        grouper,
        writer: writer.clone(),
        reader: Mutex::new(reader),
        published: published.clone(),
        watchdog,
    });
    let now = Utc::now();
    let mut scheduler = Scheduler::new(plans(&config, &stored), now);
    for feed in &stored {
        if let Some(until) = feed.retry_after.filter(|t| *t > now) {
            scheduler.block_host(feed.url.host_str().unwrap_or_default(), until);
        }
    }
    info!(feeds = config.feeds.len(), due = scheduler.due_count(now), "scheduler started");
    let (commands, queue) = mpsc::channel(4);
    let poller = Arc::new(DaemonPoller(shared.clone()));
    let scheduling = tokio::spawn(scheduler.run(poller, Clock::System, queue, stop.clone(), tracker.clone(), tick));
    notify("READY=1");

    let mut config = config;
    loop {
        tokio::select! {
            _ = hangup.recv() => {
                notify("RELOADING=1");
                if let Some(next) = reload(&path, &config, &shared, &commands, &mut server).await {
                    config = next;
                }
                notify("READY=1");
            }
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
        }
    }

    notify("STOPPING=1");
    info!("stopping: no new polls; waiting for those in flight");
    stop.cancel();
    server.stop.cancel();
    let _ = server.task.await;
    let _ = scheduling.await;
    tracker.close();
    if tokio::time::timeout(config.fetch.timeout + STOP_GRACE, tracker.wait()).await.is_err() {
        warn!("polls still running after the stop deadline were abandoned");
    }
    drop(shared);
    drop(published);
    // The writer commits what was queued and closes the database when its last user goes.
    match Arc::try_unwrap(writer) {
        Ok(writer) => tokio::task::spawn_blocking(move || drop(writer)).await?,
        Err(_) => warn!("the database writer is still in use by an abandoned poll"),
    }
    info!("stopped");
    Ok(())
}

/// Re-reads the configuration. A valid one is applied; an invalid one is refused with its
/// errors logged, and the daemon goes on with `current`.
async fn reload(
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
    if let Err(e) = shared.writer.sync_feeds(next.feeds.clone()).await {
        error!("reload refused: cannot record the feeds: {e}");
        return None;
    }
    match Fetcher::new(&next.fetch) {
        Ok(fetcher) => {
            let pipeline =
                Pipeline::new(fetcher, shared.writer.clone(), shared.grouper.clone(), 2 * next.fetch.max_concurrent);
            *shared.pipeline.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(pipeline);
        }
        Err(e) => error!("keeping the previous fetch settings: {e}"),
    }
    if next.server.listen != server.listen {
        match bind(next.server.listen).await {
            Ok(listener) => {
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
