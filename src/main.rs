//! The `storyline` command: arguments, logging, exit codes. No business logic here.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

mod allocator;

use clap::{Parser, Subcommand, ValueEnum};
use storyline::app::{App, CommandError};
use storyline::config::{Config, FetchSettings};
use storyline::model::FeedStatus;
use storyline::publish::assemble::FeedScope;
use storyline::render::Format;
use storyline::text::printable;

#[derive(Parser)]
#[command(name = "storyline", version, about = "Aggregates feeds into story series and republishes one merged feed")]
struct Cli {
    /// Configuration file.
    #[arg(long, global = true, env = "STORYLINE_CONFIG", default_value = "config.toml")]
    config: PathBuf,
    /// The database, instead of the configuration's `storage.database` (or its default).
    #[arg(long, global = true, env = "STORYLINE_DATABASE")]
    database: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The daemon: schedule polls, serve HTTP, reload on SIGHUP, stop on SIGTERM/SIGINT.
    Run,
    /// Validate the configuration; print every error as FILE:LINE:COL: message.
    CheckConfig,
    /// Poll all (or the named) feeds now, store the items, print one line per feed.
    Poll {
        /// Feed names; all enabled feeds when none.
        names: Vec<String>,
    },
    /// Show each feed's state: last poll, status, error, items.
    Feeds {
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// The newest story series: id, title, items, last update, keywords. The text lists
    /// stories (series of two articles or more); `--json` lists every series.
    Series {
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// List series of one item too.
        #[arg(long)]
        all: bool,
    },
    /// Why an item is in its series: how it was chosen, its score against what it needed,
    /// the shared names and terms with their weights, the runner-up, or why it started one.
    Explain {
        /// The item's id (`export items`, `/api/items`).
        item: i64,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Full-text search of the stored articles' titles, summaries and bodies, newest first:
    /// words, "quoted phrases", AND / OR / NOT, word* for a prefix.
    Search {
        /// What to search for.
        query: String,
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Export stored data.
    Export {
        #[command(subcommand)]
        what: Export,
    },
    /// Add the feeds of an OPML file to the configuration, keeping its comments.
    ImportOpml {
        /// The OPML file.
        file: PathBuf,
        /// Print what would be added; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print the configured feeds as OPML 2.0.
    ExportOpml,
    /// Add a feed to the configuration (discovered when URL is a page), keeping its
    /// comments; a running daemon picks it up on reload.
    Add {
        /// The feed's URL, or a page of the site.
        url: String,
        /// Configuration name (default: from the feed's title).
        #[arg(long)]
        name: Option<String>,
        /// A tag (repeatable).
        #[arg(long = "tag")]
        tags: Vec<String>,
        /// A schedule of its own ("every 30m", or cron).
        #[arg(long)]
        schedule: Option<String>,
        /// Print what would be added; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Delete for good the items of feeds removed from the configuration (until then they
    /// are kept, hidden from every output, so putting a feed back does not fetch them anew).
    PurgeRemoved,
    /// Show how storyline reads a feed (URL, file, or a configured feed's name): format,
    /// charset, every entry's normalized fields, warnings. Stores nothing; works without a
    /// configuration file.
    Inspect {
        /// An http(s) URL, a file, or the name of a configured feed (fetched as polls fetch
        /// it: with its User-Agent, headers and credentials).
        target: String,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print the merged feed.
    Render {
        /// Output format.
        #[arg(long, value_enum, default_value = "atom")]
        format: FormatArg,
        /// Only this series.
        #[arg(long, conflicts_with = "source")]
        series: Option<String>,
        /// Only the items of this configured feed (by name), as storyline stored them.
        #[arg(long)]
        source: Option<String>,
    },
}

#[derive(Subcommand)]
enum Export {
    /// Every stored item as JSON Lines, oldest first.
    Items,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Atom,
    Rss,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(database) = &cli.database {
        // The configuration reads it (on every load, reloads included). Set before any
        // other thread exists.
        std::env::set_var("STORYLINE_DATABASE", database);
    }
    init_logging(matches!(cli.command, Command::Run));
    // One runtime for every command: the daemon's, and the one-shot commands' fetches.
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("storyline: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(dispatch(cli.config, cli.command)) {
        Ok(code) => code,
        // The reader of stdout went away (`| head`): what it did not read is not an error.
        Err(CommandError::Failed(e)) if broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            match &e {
                // Located errors are printed as they are (FILE:LINE:COL: message).
                CommandError::Config(errors) => eprintln!("{errors}"),
                _ => eprintln!("storyline: {e}"),
            }
            ExitCode::from(e.exit_code())
        }
    }
}

/// Whether `e` is, somewhere in its chain, a write to a closed pipe.
fn broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}

/// The configuration at `path`; its errors (every one, located) are a usage error.
fn load(path: &std::path::Path) -> Result<Config, CommandError> {
    Config::load(path).map_err(|errors| CommandError::Config(errors.to_string()))
}

/// Runs one command; its result decides the exit status (a successful `inspect` of a body
/// that is not a feed exits 1, for scripts).
async fn dispatch(path: PathBuf, command: Command) -> Result<ExitCode, CommandError> {
    let mut out = std::io::stdout().lock();
    match command {
        Command::Inspect { target, json } => {
            // The fetch settings of the configuration when there is one (a feed is then
            // fetched as polls fetch it), else the defaults.
            let config = if path.exists() { Some(load(&path)?) } else { None };
            let settings = config.as_ref().map_or_else(FetchSettings::default, |c| c.fetch.clone());
            // A configured feed's name (unless a file has it), or its URL: asked as it is polled.
            let named = config
                .as_ref()
                .and_then(|c| c.feeds.iter().find(|f| f.name == target))
                .filter(|_| !std::path::Path::new(&target).exists())
                .map(|f| f.url.to_string());
            let target = named.unwrap_or(target);
            let source = config.as_ref().zip(url::Url::parse(&target).ok()).and_then(|(c, u)| c.source_at(&u));
            let report = storyline::inspect::inspect(&target, &settings, source.as_ref()).await?;
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
            } else {
                write!(out, "{}", printable(&report.text()))?;
            }
            return Ok(if report.error.is_some() { ExitCode::from(1) } else { ExitCode::SUCCESS });
        }
        Command::CheckConfig => {
            let config = load(&path)?;
            let n = config.feeds.len();
            writeln!(out, "{}: ok, {n} {}", path.display(), if n == 1 { "feed" } else { "feeds" })?;
        }
        Command::Run => {
            let config = load(&path)?;
            drop(out);
            storyline::daemon::run(path, config).await?;
        }
        Command::ImportOpml { file, dry_run } => {
            for line in storyline::app::import_opml(&load(&path)?, &file, dry_run)? {
                writeln!(out, "{line}")?;
            }
        }
        Command::ExportOpml => {
            let config = load(&path)?;
            // Each feed's own title and home page where a poll has read them (none before
            // the first poll).
            let stored = match App::open(config.clone()) {
                Ok(app) => app.feeds()?.into_iter().map(|f| (f.name.clone(), f)).collect(),
                Err(e) if matches!(e.downcast_ref(), Some(storyline::store::StoreError::Missing { .. })) => {
                    Default::default()
                }
                Err(e) => return Err(e.into()),
            };
            write!(out, "{}", storyline::opml::write(&config.server.title, &config.feeds, &stored))?;
        }
        Command::Add { url, name, tags, schedule, dry_run } => {
            let request = storyline::app::AddRequest { url, name, tags, schedule, dry_run };
            for line in storyline::app::add(&load(&path)?, &request).await? {
                writeln!(out, "{line}")?;
            }
        }
        Command::PurgeRemoved => {
            let purged = App::open_writer(load(&path)?, "purge-removed")?.purge_removed()?;
            let (items, feeds) = (purged.items, purged.feeds);
            let items = format!("{items} {}", if items == 1 { "item" } else { "items" });
            let feeds = format!("{feeds} removed {}", if feeds == 1 { "feed" } else { "feeds" });
            writeln!(out, "purged {items} of {feeds}")?;
        }
        Command::Poll { names } => {
            let app = App::open_writer(load(&path)?, "poll")?;
            drop(out);
            app.poll(&names, |report| {
                let _ = writeln!(std::io::stdout(), "{}", printable(&report.to_string()));
            })
            .await?;
        }
        Command::Feeds { json } => {
            let feeds = App::open(load(&path)?)?.feeds()?;
            if json {
                serde_json::to_writer_pretty(&mut out, &feeds)?;
                writeln!(out)?;
            } else {
                let mut text = Vec::new();
                print_feeds(&mut text, &feeds)?;
                out.write_all(printable(&String::from_utf8_lossy(&text)).as_bytes())?;
            }
        }
        Command::Export { what: Export::Items } => App::open(load(&path)?)?.export_items(&mut out)?,
        Command::Search { query, limit, json } => {
            let found = App::open(load(&path)?)?.search(&query, limit)?;
            if json {
                let found: Vec<serde_json::Value> = found
                    .iter()
                    .map(|i| {
                        serde_json::json!({
                            "id": i.id, "title": i.title, "link": i.link, "feed": i.source.feed,
                            "published": i.published.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                            "series": i.series, "series_title": i.in_story().then_some(&i.series_title),
                        })
                    })
                    .collect();
                serde_json::to_writer_pretty(&mut out, &found)?;
                writeln!(out)?;
            } else {
                for i in &found {
                    let published = i.published.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                    let story = storyline::render::series_label(i).map_or(String::new(), |l| format!("  [{l}]"));
                    let line = format!("{:>7}  {published}  {}  {}{story}", i.id, i.source.feed, i.title);
                    writeln!(out, "{}", printable(&line))?;
                }
            }
        }
        Command::Explain { item, json } => {
            let Some(explanation) = App::open(load(&path)?)?.explain(item)? else {
                return Err(CommandError::Usage(format!("no item {item}")));
            };
            if json {
                serde_json::to_writer_pretty(&mut out, &explanation)?;
                writeln!(out)?;
            } else {
                let mut text = Vec::new();
                print_explanation(&mut text, &explanation)?;
                out.write_all(printable(&String::from_utf8_lossy(&text)).as_bytes())?;
            }
        }
        Command::Render { format, series, source } => {
            let format = match format {
                FormatArg::Atom => Format::Atom,
                FormatArg::Rss => Format::Rss,
                FormatArg::Json => Format::Json,
            };
            let scope = match (series, source) {
                (Some(id), _) => FeedScope::Series(id),
                (None, Some(name)) => FeedScope::Source(name),
                (None, None) => FeedScope::Merged,
            };
            out.write_all(App::open(load(&path)?)?.render(format, scope)?.as_bytes())?;
        }
        Command::Series { json, limit, all } => {
            let series = App::open(load(&path)?)?.series(limit, !(all || json))?;
            if json {
                serde_json::to_writer_pretty(&mut out, &series)?;
                writeln!(out)?;
            } else {
                for s in series {
                    let keywords = s.keywords.join(", ");
                    let line =
                        format!("{:>6}  {} ({})  last {}  [{keywords}]", s.id, s.title, s.items, s.last_published);
                    writeln!(out, "{}", printable(&line))?;
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Logs go to stderr, filtered by STORYLINE_LOG, then RUST_LOG. The daemon logs at info
/// by default, the one-shot commands only warnings. Under systemd's journal (which stamps
/// and colours lines itself) there are no timestamps or colours.
fn init_logging(daemon: bool) {
    use std::io::IsTerminal;
    let filter = std::env::var("STORYLINE_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| if daemon { "info" } else { "warn" }.into());
    let journal = std::env::var_os("JOURNAL_STREAM").is_some();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(!journal && std::io::stderr().is_terminal())
        .with_target(false);
    // Set directly (not `init`), so the `log` bridge below is ours, not tracing-log's own.
    let installed = if journal {
        tracing::subscriber::set_global_default(builder.without_time().finish())
    } else {
        tracing::subscriber::set_global_default(builder.finish())
    };
    if installed.is_ok() && log::set_boxed_logger(Box::new(LogBridge(tracing_log::LogTracer::new()))).is_ok() {
        // Records above the filter's level are not even formatted.
        use tracing_log::AsLog;
        log::set_max_level(tracing::level_filters::LevelFilter::current().as_log());
    }
}

/// Records of crates that log through `log`: the HTML parser's are counted per document
/// while one is read (hostile markup makes it log twice per element, tens of thousands
/// of lines a poll), everything else goes on to tracing.
struct LogBridge(tracing_log::LogTracer);

impl log::Log for LogBridge {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        self.0.enabled(metadata)
    }

    fn log(&self, record: &log::Record<'_>) {
        let from_parser = record.level() <= log::Level::Warn
            && (record.target().starts_with("html5ever") || record.target().starts_with("markup5ever"));
        if !(from_parser && storyline::parse::html::note_parser_message(record.args())) {
            self.0.log(record);
        }
    }

    fn flush(&self) {}
}

fn print_explanation(out: &mut impl Write, e: &storyline::store::Explanation) -> std::io::Result<()> {
    use storyline::series::why::How;
    writeln!(out, "item {}: {} ({})", e.item.id, e.item.title, e.item.feed)?;
    if let Some(original) = e.item.duplicate_of {
        writeln!(out, "a received copy of item {original}, explained by it")?;
    }
    if let Some(rule) = &e.item.filtered {
        writeln!(out, "hidden from every output and from series: {rule}")?;
    }
    if let Some(full_text) = &e.full_text {
        writeln!(out, "full text: {}", full_text.describe())?;
    }
    match &e.series {
        Some(s) => writeln!(out, "series {}: {} ({} items)", s.id, s.title, s.items)?,
        None => writeln!(out, "in no series yet")?,
    }
    let Some(why) = &e.why else {
        return writeln!(out, "grouped before storyline recorded its decisions: nothing to explain");
    };
    let reason = e.reason.clone().unwrap_or_else(|| why.reason());
    writeln!(out, "decided: {}: {reason}", why.how.describe())?;
    if let Some(c) = why.confidence() {
        let margin = |m: Option<f32>| m.map_or("no bar".to_string(), |m| format!("{m:+.3}"));
        let (score, topic) = (margin(c.score_margin), margin(c.topic_margin));
        writeln!(out, "confidence: score {score} over its bar, topic {topic}")?;
    }
    if why.how != How::New {
        let needed = why.needed.map_or(String::new(), |n| format!(" (needed {n:.3})"));
        writeln!(out, "score:   {:.3}{needed}", why.score)?;
        if let Some(t) = why.topic {
            writeln!(out, "topic:   {:.3} (needed {:.3})", t.similarity, t.needed)?;
        }
    }
    if !why.shared.is_empty() {
        let shared: Vec<String> = why
            .shared
            .iter()
            .map(|t| format!("{} {:.3}{}", t.term, t.weight, if t.name { " (name)" } else { "" }))
            .collect();
        writeln!(out, "shared:  {}", shared.join(", "))?;
    }
    if let Some(r) = &why.runner_up {
        let evidence = if r.evidence { "" } else { ", no evidence" };
        let needed = r.needed.map_or(String::new(), |n| format!(", needed {n:.3}"));
        let topic = r.topic.map_or(String::new(), |t| format!(", topic {:.3} (needed {:.3})", t.similarity, t.needed));
        let label = if why.how == How::New { "closest" } else { "runner-up" };
        let title = e.runner_up_title.as_ref().map_or(String::new(), |t| format!(" \u{201c}{t}\u{201d}"));
        writeln!(out, "{label}: series {}{title} scored {:.3}{needed}{evidence}{topic}", r.series, r.score)?;
    }
    Ok(())
}

fn print_feeds(out: &mut impl Write, feeds: &[FeedStatus]) -> std::io::Result<()> {
    for f in feeds {
        let status = f.last_status.as_deref().unwrap_or("never polled");
        let status = match f.http_status {
            Some(code) => format!("{status} ({code})"),
            None => status.to_string(),
        };
        let items = if f.hidden > 0 {
            format!("{} items ({} kept, {} hidden by rules)", f.items, f.items - f.hidden, f.hidden)
        } else {
            format!("{} items", f.items)
        };
        writeln!(
            out,
            "{}  {}  {items}  last poll {}  next poll {}",
            f.name,
            status,
            f.last_poll.map_or("-".into(), |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            f.next_poll.map_or("due".into(), |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        )?;
        writeln!(out, "    {}{}", f.url, if f.enabled { "" } else { "  (disabled)" })?;
        if f.url != f.config_url {
            writeln!(out, "    moved permanently from {} (the configuration still names the old URL)", f.config_url)?;
        }
        if f.gone {
            writeln!(out, "    gone: the server answered 410, so it is no longer polled; change its url to resume")?;
        }
        if let Some(moved) = &f.moved_to {
            let n = storyline::scheduler::ADOPT_REDIRECT_AFTER;
            writeln!(out, "    permanently redirected to {moved} (adopted after {n} polls in a row)")?;
        }
        if let Some(err) = &f.last_error {
            writeln!(out, "    error ({} in a row): {err}", f.error_count)?;
        }
        if let Some(until) = f.held_until.filter(|t| *t > chrono::Utc::now()) {
            let until = until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            writeln!(out, "    its server asked to wait (Retry-After): no feed of this host is polled before {until}")?;
        }
        if let Some(warning) = &f.warning {
            writeln!(out, "    read with repairs: {warning}")?;
        }
    }
    Ok(())
}
