//! The one-shot commands' work (`poll`, `feeds`, `render`, `explain`, `import-opml`, ...):
//! opens the database once for the command (`store::Database` to read, or, holding the
//! writer lock, `store::WritingDatabase`), and how a command fails ([`CommandError`]).
//!
//! Must not parse feeds or write SQL itself; it calls the modules that do.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use chrono::Utc;
use tokio::task::JoinSet;

use crate::config::edit::append_feeds;
use crate::config::Config;
use crate::model::FeedStatus;
use crate::model::PollReport;
use crate::opml;
use crate::publish::assemble::{self, FeedScope};
use crate::render::Format;
use crate::store::{Database, Store, StoreError, WritingDatabase};
use crate::wiring::Parts;

/// Adds the feeds of an OPML file to the configuration at `config.path`, keeping its
/// comments; with `dry_run` only reports. Returns one line per outline.
pub fn import_opml(config: &Config, opml_path: &Path, dry_run: bool) -> Result<Vec<String>, CommandError> {
    let opml = std::fs::read(opml_path).with_context(|| format!("cannot read {}", opml_path.display()))?;
    let outlines = opml::read(&String::from_utf8_lossy(&opml))
        .map_err(|e| CommandError::Usage(format!("{}: {e}", opml_path.display())))?;
    let plan = opml::plan_import(&config.feeds, outlines);
    let source = std::fs::read_to_string(&config.path)?;
    let updated = append_feeds(&source, &plan.add)?;
    // Never write a file storyline itself would then refuse.
    Config::parse(&config.path, &updated).map_err(|e| {
        CommandError::Failed(anyhow::anyhow!("the imported feeds would make the configuration invalid:\n{e}"))
    })?;
    let verb = if dry_run { "would add" } else { "added" };
    let mut lines: Vec<String> = plan.add.iter().map(|f| format!("{verb} {} {}", f.name, f.url)).collect();
    lines.extend(plan.skipped.iter().map(|(url, why)| format!("skipped {url}: {why}")));
    if !dry_run && !plan.add.is_empty() {
        replace_config(&config.path, &updated)?;
    }
    Ok(lines)
}

/// Writes the configuration beside, then renames it over the old one: a crash never
/// leaves a half-written configuration. The new file gets the old one's mode, owner and
/// group before it takes its place (the service's user must still read it; the umask of
/// whoever runs the command must not decide), and is synced first.
fn replace_config(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::MetadataExt;
    let tmp = path.with_extension("toml.storyline-tmp");
    let old = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    let written = (|| -> std::io::Result<()> {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(text.as_bytes())?;
        // Owner first: changing it may clear set-id bits that the mode then restores.
        std::os::unix::fs::fchown(&file, Some(old.uid()), Some(old.gid()))?;
        file.set_permissions(old.permissions())?;
        file.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", tmp.display()));
    }
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

/// What `storyline add` is asked to add.
#[derive(Debug, Clone, Default)]
pub struct AddRequest {
    /// A feed's URL, or a page of the site to discover it from.
    pub url: String,
    /// The configuration name (else made from the feed's title, unique).
    pub name: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// A schedule of its own.
    pub schedule: Option<String>,
    /// Only say what would be added.
    pub dry_run: bool,
}

/// Adds a feed to the configuration at `config.path`: discovers it when the URL is a
/// page, names it after its title (made unique), validates the result and writes it
/// atomically, keeping comments and layout. Several feeds found, a URL already
/// configured, or a bad URL are usage errors (nothing is written); no feed found is a
/// failure. Returns the lines to print.
pub async fn add(config: &Config, request: &AddRequest) -> Result<Vec<String>, CommandError> {
    use crate::discover::{discover, Discovery};
    let url = url::Url::parse(&request.url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| CommandError::Usage(format!("`{}` is not an http(s) URL", request.url)))?;
    let fetcher = crate::fetch::Fetcher::new(&config.fetch)?;
    let feed = match discover(&url, &fetcher).await? {
        Discovery::Feed { feed } => feed,
        Discovery::Page { mut feeds, .. } if feeds.len() == 1 => feeds.remove(0),
        Discovery::Page { feeds, rejected } if feeds.is_empty() => {
            let tried = rejected.len();
            return Err(anyhow::anyhow!("no feed found from {url} ({tried} candidate(s) tried)").into());
        }
        Discovery::Page { feeds, .. } => {
            let list: Vec<String> =
                feeds.iter().map(|f| format!("  {}  {}", f.url, f.title.as_deref().unwrap_or("(untitled)"))).collect();
            return Err(CommandError::Usage(format!(
                "{url} offers {} feeds; add the one you want by its URL:\n{}",
                feeds.len(),
                list.join("\n")
            )));
        }
    };
    for known in &config.feeds {
        if known.url == feed.url || known.url == url {
            return Err(CommandError::Usage(format!("{} is already configured as `{}`", feed.url, known.name)));
        }
    }
    let name = match &request.name {
        Some(name) if config.feeds.iter().any(|f| &f.name == name) => {
            return Err(CommandError::Usage(format!("a feed named `{name}` is already configured")));
        }
        Some(name) => name.clone(),
        None => {
            let outline = opml::Outline {
                title: feed.title.clone().unwrap_or_default(),
                url: feed.url.to_string(),
                folders: vec![],
                categories: vec![],
            };
            let base = opml::name_for(&outline);
            let taken = |n: &String| config.feeds.iter().any(|f| &f.name == n);
            (1..).map(|i| if i == 1 { base.clone() } else { format!("{base}-{i}") }).find(|n| !taken(n)).unwrap_or(base)
        }
    };
    let new = crate::config::edit::NewFeed {
        name: name.clone(),
        url: feed.url.to_string(),
        tags: request.tags.clone(),
        schedule: request.schedule.clone(),
        title: None,
    };
    let source = std::fs::read_to_string(&config.path)?;
    let updated = append_feeds(&source, std::slice::from_ref(&new))?;
    // Never write a file storyline itself would then refuse.
    Config::parse(&config.path, &updated)
        .map_err(|e| CommandError::Usage(format!("adding this feed would make the configuration invalid:\n{e}")))?;
    let title = feed.title.as_deref().unwrap_or("untitled");
    let what = format!("{name} {} ({title}, {}, {} entries)", feed.url, feed.format, feed.entries);
    if request.dry_run {
        return Ok(vec![format!("would add {what}")]);
    }
    replace_config(&config.path, &updated)?;
    Ok(vec![
        format!("added {what} to {}", config.path.display()),
        "a running daemon picks it up on reload: `systemctl reload storyline` (or SIGHUP)".into(),
    ])
}

/// How the daemon names itself in the database's lock file.
pub const DAEMON: &str = "storyline run";

/// An opened storyline: configuration, store and fetcher.
pub struct App {
    /// The configuration in force.
    pub config: Config,
    /// A read connection for queries; polls write through the database's writer.
    reader: Mutex<Store>,
    /// The database of a writing command, with the writer lock held for its whole run
    /// (a reading command needs nothing beyond its reader).
    writing: Option<WritingDatabase>,
}

/// How a command failed, and so its exit status (see [`CommandError::exit_code`]).
#[derive(Debug)]
pub enum CommandError {
    /// Cannot be done as asked: an unknown feed, item or series, an unreadable OPML file.
    Usage(String),
    /// The configuration is invalid: every error, each located (FILE:LINE:COL: message).
    Config(String),
    /// Failed while running.
    Failed(anyhow::Error),
}

impl CommandError {
    /// 2 for a usage error, 1 for a failure (0 is success), as README documents.
    pub fn exit_code(&self) -> u8 {
        match self {
            CommandError::Usage(_) | CommandError::Config(_) => 2,
            CommandError::Failed(_) => 1,
        }
    }
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CommandError::Usage(message) | CommandError::Config(message) => f.write_str(message),
            // The chain of causes, each once: many errors already include their source
            // in their own message.
            CommandError::Failed(e) => {
                let mut text = e.to_string();
                for cause in e.chain().skip(1) {
                    let cause = cause.to_string();
                    if !text.contains(&cause) {
                        text.push_str(": ");
                        text.push_str(&cause);
                    }
                }
                f.write_str(&text)
            }
        }
    }
}

/// Any other error is a failure while running. (`CommandError` is deliberately not a
/// `std::error::Error`, so that this conversion cannot overlap with the identity.)
impl<E: Into<anyhow::Error>> From<E> for CommandError {
    fn from(e: E) -> CommandError {
        CommandError::Failed(e.into())
    }
}

impl App {
    /// Opens the store named by the configuration for reading only, beside a running
    /// daemon if there is one: nothing is created or written (read access to the file is
    /// enough), and a missing database is an error that says where it was looked for. The
    /// store shows what its writer last recorded; feeds configured since are listed by
    /// [`App::feeds`] as never polled.
    pub fn open(config: Config) -> anyhow::Result<App> {
        let storage = &config.storage;
        let database = Database::open_reading(&storage.database, &storage.database_from)?;
        Ok(App { reader: Mutex::new(database.reader()?), config, writing: None })
    }

    /// Opens the store for `command` (`poll`, ...), which writes to it: fails at once,
    /// naming the holder, when another storyline writes to the same database.
    pub fn open_writer(config: Config, command: &str) -> anyhow::Result<App> {
        let holder = format!("storyline {command}");
        let database = Database::open_writing(&config.storage.database, &holder, &config.feeds, &config.filters)
            .map_err(|e| {
                let daemon = matches!(&e, StoreError::Locked { holder, .. } if holder.starts_with(DAEMON));
                let hint = if daemon {
                    ".\nThe running daemon polls every feed on its schedule; after editing the configuration, reload \
                     it (`systemctl reload storyline`, or SIGHUP) and it polls new feeds at once."
                } else {
                    ""
                };
                anyhow::anyhow!("cannot {command}: {e}{hint}")
            })?;
        Ok(App { reader: Mutex::new(database.reader()?), config, writing: Some(database) })
    }

    /// Polls the named feeds (all enabled ones when `names` is empty) concurrently, calling
    /// `report` as each finishes. Feed failures are recorded and reported, not returned.
    pub async fn poll(
        &self,
        names: &[String],
        mut report: impl FnMut(&PollReport),
    ) -> Result<Vec<PollReport>, CommandError> {
        for name in names {
            if !self.config.feeds.iter().any(|f| &f.name == name) {
                let path = self.config.path.display();
                return Err(CommandError::Usage(format!("no feed named `{name}` in {path}")));
            }
        }
        let selected =
            self.config.feeds.iter().filter(|f| if names.is_empty() { f.enabled } else { names.contains(&f.name) });
        let Some(database) = &self.writing else {
            let e = anyhow::anyhow!("polling needs the database's writer lock: open the store with `App::open_writer`");
            return Err(e.into());
        };
        // Only polls need the writer and the grouping engine (whose warm-up reads items).
        let background = tokio_util::task::TaskTracker::new();
        let parts = Parts::open(&self.config, database, background.clone(), |_| {}).await?;
        let pipeline = Arc::new(parts.pipeline(&self.config)?);
        // One batch: grouped after every poll is stored, in published order.
        let hold = pipeline.hold();
        let mut tasks = JoinSet::new();
        for spec in selected {
            let feed = self.read().feed(&spec.name)?;
            let pipeline = pipeline.clone();
            tasks.spawn(async move { pipeline.poll(feed).await });
        }
        let mut reports = Vec::with_capacity(tasks.len());
        while let Some(joined) = tasks.join_next().await {
            let done = joined.context("a poll task failed")?;
            report(&done);
            // When the feed is due next, as the daemon would schedule it: a daemon started
            // afterwards polls it then, not at once.
            if let Some(spec) = self.config.feeds.iter().find(|f| f.name == done.feed) {
                let next = crate::scheduler::next_poll(&spec.name, self.config.schedule_of(spec), Utc::now(), &done);
                parts.writer.set_next_poll(spec.name.clone(), next).await?;
            }
            reports.push(done);
        }
        drop(hold);
        pipeline.settle().await?;
        if let Some(retention) = self.config.storage.retention {
            let done = pipeline.prune(retention, false).await?;
            tracing::info!(pruned = done.pruned, "retention applied");
        }
        background.close();
        background.wait().await;
        parts.close().await?;
        Ok(reports)
    }

    fn read(&self) -> std::sync::MutexGuard<'_, Store> {
        // A panic while reading leaves nothing half-written: the connection stays usable.
        self.reader.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Deletes for good the items of feeds no longer in the configuration (see
    /// [`Store::purge_removed`]); needs the writer lock (`App::open_writer`).
    pub fn purge_removed(&self) -> Result<crate::store::Purged, CommandError> {
        let Some(mut store) = self.writing.as_ref().and_then(WritingDatabase::take_writer) else {
            return Err(
                anyhow::anyhow!("purging needs the database's writer lock: open it with `App::open_writer`").into()
            );
        };
        Ok(store.purge_removed()?)
    }

    /// Every configured feed's stored state.
    pub fn feeds(&self) -> anyhow::Result<Vec<FeedStatus>> {
        let mut feeds = self.read().feed_statuses()?;
        // Configured since the writer last recorded the configuration: never polled.
        for spec in &self.config.feeds {
            if !feeds.iter().any(|f| f.name == spec.name) {
                feeds.push(FeedStatus {
                    name: spec.name.clone(),
                    url: crate::model::public_url(spec.url.as_str()),
                    config_url: crate::model::public_url(spec.url.as_str()),
                    enabled: spec.enabled,
                    tags: spec.tags.clone(),
                    title: spec.title.clone(),
                    ..FeedStatus::default()
                });
            }
        }
        feeds.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(feeds)
    }

    /// Writes every stored item as JSON Lines, oldest first.
    pub fn export_items(&self, out: &mut impl Write) -> anyhow::Result<()> {
        self.read().export_items(|record| {
            serde_json::to_writer(&mut *out, &record)?;
            out.write_all(b"\n")
        })?;
        Ok(())
    }

    /// The feed of `scope` (merged, one series', one source's) in `format`.
    pub fn render(&self, format: Format, scope: FeedScope) -> Result<String, CommandError> {
        let settings = &self.config.server;
        assemble::feed(&self.read(), settings, &scope, format, settings.items, Utc::now())?.ok_or_else(|| {
            CommandError::Usage(match &scope {
                FeedScope::Series(id) => format!("no series `{id}`"),
                FeedScope::Source(name) => format!("no configured feed named `{name}`"),
                _ => scope.missing().to_string(),
            })
        })
    }

    /// Why item `id` is in its series; `None` when there is no such item.
    pub fn explain(&self, id: i64) -> anyhow::Result<Option<crate::store::Explanation>> {
        Ok(self.read().explain(id)?)
    }

    /// The newest `limit` articles matching `query` (FTS5 syntax); a query the index cannot
    /// read is a usage error that says why.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<crate::model::Item>, CommandError> {
        match self.read().search(query, limit) {
            Err(e @ crate::store::StoreError::Search(_)) => Err(CommandError::Usage(e.to_string())),
            other => Ok(other.map_err(anyhow::Error::from)?),
        }
    }

    /// The newest series (only the stories when `stories_only`).
    pub fn series(&self, limit: usize, stories_only: bool) -> anyhow::Result<Vec<crate::store::SeriesRow>> {
        Ok(self.read().series_list(limit, stories_only)?)
    }
}
