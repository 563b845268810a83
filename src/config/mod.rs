//! The TOML configuration: parsing, validation and every configuration error message.
//!
//! Turns a file into a typed [`Config`] or a list of errors, each located as
//! `FILE:LINE:COL: message`. Holds no global state; only [`edit`] (for `import-opml`)
//! ever rewrites the file.

use std::collections::HashSet;
use std::fmt;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod access;
pub mod edit;

use serde::Deserialize;
use toml::Spanned;
use unicode_normalization::UnicodeNormalization;
use url::Url;

use crate::filter::{Field, Filters, Rule, Rules};
use crate::model::{parse_duration, parse_size, FeedSpec, Schedule};

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    /// `[storage]`.
    pub storage: Storage,
    /// `[fetch]`.
    pub fetch: FetchSettings,
    /// `[server]`.
    pub server: ServerSettings,
    /// `[series]`.
    pub series: SeriesSettings,
    /// `[[feed]]`, in file order.
    pub feeds: Vec<FeedSpec>,
    /// `[[filter]]` and each feed's `keep`/`block`: which items are hidden.
    pub filters: Filters,
}

/// `[storage]`.
#[derive(Debug, Clone)]
pub struct Storage {
    /// Absolute path of the SQLite database.
    pub database: PathBuf,
    /// Why that path: what named it (shown when a command finds no database there).
    pub database_from: String,
    /// Items first seen longer ago are pruned; None keeps everything.
    pub retention: Option<Duration>,
}

/// `[fetch]`.
#[derive(Debug, Clone)]
pub struct FetchSettings {
    /// Default schedule of feeds without their own.
    pub schedule: Schedule,
    /// The User-Agent header.
    pub user_agent: String,
    /// Fetches in flight overall.
    pub max_concurrent: usize,
    /// Fetches in flight per host.
    pub per_host: usize,
    /// Total time limit of one fetch, redirects included.
    pub timeout: Duration,
    /// Largest accepted body, after decompression.
    pub max_body: u64,
}

/// `[server]`.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Address the HTTP server binds.
    pub listen: SocketAddr,
    /// Public base URL for self links; always ends with `/`.
    pub base_url: Url,
    /// Title of the merged feed.
    pub title: String,
    /// Entries in the merged feed.
    pub items: usize,
    /// Bytes of rendered documents (plain and gzip) kept between store changes.
    pub cache: u64,
    /// Client connections served at once; more are answered 503 and closed. Read when the
    /// server starts (a reload applies it only with a new `listen`).
    pub max_connections: usize,
}

/// `[series]`.
#[derive(Debug, Clone)]
pub struct SeriesSettings {
    /// How much older than an item a series' newest item may be for the item to join it.
    pub window: Duration,
}

/// One located configuration error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub col: usize,
    /// What is wrong, in one line.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Line 0: about the file as a whole (it cannot be read), not a place in it.
        match self.line {
            0 => write!(f, "{}: {}", self.path.display(), self.message),
            _ => write!(f, "{}:{}:{}: {}", self.path.display(), self.line, self.col, self.message),
        }
    }
}

/// Every error found in one configuration file.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    storage: RawStorage,
    #[serde(default)]
    fetch: RawFetch,
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    series: RawSeries,
    #[serde(default)]
    feed: Vec<RawFeed>,
    #[serde(default)]
    filter: Vec<RawFilter>,
}

/// `[[filter]]`: global keep and block rules.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFilter {
    keep: Option<RawRule>,
    block: Option<RawRule>,
}

/// A rule: regular expressions by field.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRule {
    title: Option<Spanned<String>>,
    summary: Option<Spanned<String>>,
    link: Option<Spanned<String>>,
    author: Option<Spanned<String>>,
    category: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawStorage {
    database: Option<Spanned<String>>,
    retention: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFetch {
    schedule: Option<Spanned<String>>,
    user_agent: Option<Spanned<String>>,
    max_concurrent: Option<Spanned<i64>>,
    per_host: Option<Spanned<i64>>,
    timeout: Option<Spanned<String>>,
    max_body: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Option<Spanned<String>>,
    base_url: Option<Spanned<String>>,
    title: Option<String>,
    items: Option<Spanned<i64>>,
    cache: Option<Spanned<String>>,
    max_connections: Option<Spanned<i64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSeries {
    window: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFeed {
    name: Spanned<String>,
    url: Spanned<String>,
    schedule: Option<Spanned<String>>,
    #[serde(default)]
    tags: Vec<String>,
    enabled: Option<bool>,
    title: Option<String>,
    keep: Option<RawRule>,
    block: Option<RawRule>,
    user_agent: Option<Spanned<String>>,
    full_text: Option<bool>,
    headers: Option<Spanned<std::collections::BTreeMap<String, access::RawValue>>>,
    auth: Option<Spanned<access::RawAuth>>,
}

/// Collects located errors while a file is validated.
struct Checker<'a> {
    path: &'a Path,
    source: &'a str,
    errors: Vec<ConfigError>,
}

impl Checker<'_> {
    fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        let (line, col) = line_col(self.source, span.start);
        self.errors.push(ConfigError { path: self.path.to_path_buf(), line, col, message: message.into() });
    }

    /// Parses an optional spanned string with `parse`, falling back to `default`.
    fn value<T>(
        &mut self,
        raw: &Option<Spanned<String>>,
        key: &str,
        default: T,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> T {
        let Some(raw) = raw else { return default };
        match parse(raw.get_ref()) {
            Ok(v) => v,
            Err(e) => {
                self.error(raw.span(), format!("{key}: {e}"));
                default
            }
        }
    }

    fn int(&mut self, raw: &Option<Spanned<i64>>, key: &str, default: usize, range: Range<i64>) -> usize {
        let Some(raw) = raw else { return default };
        let v = *raw.get_ref();
        if range.contains(&v) {
            v as usize
        } else {
            self.error(raw.span(), format!("{key} must be between {} and {}, found {v}", range.start, range.end - 1));
            default
        }
    }
}

/// Most times a configuration is read to find its unknown keys and wrong types.
const MAX_READS: usize = 64;

/// Blanks out the line holding byte `at` (a key and its value), or the whole table when
/// that line is a table header, keeping every other byte where it was; whether anything
/// changed.
fn blank_out(text: &mut String, at: usize) -> bool {
    let at = at.min(text.len());
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line_end = |from: usize| text[from..].find('\n').map_or(text.len(), |i| from + i);
    let mut end = line_end(start);
    if text[start..end].trim_start().starts_with('[') {
        // The table's keys go with it: up to the next header.
        while end < text.len() {
            let next = end + 1;
            if text[next..].trim_start().starts_with('[') {
                break;
            }
            end = line_end(next);
        }
    }
    // Same length in bytes: a multi-byte character becomes as many spaces.
    let blanked: String = text[start..end]
        .chars()
        .flat_map(|c| std::iter::repeat_n(if c == '\n' { '\n' } else { ' ' }, c.len_utf8()))
        .collect();
    let changed = text[start..end].chars().any(|c| !c.is_whitespace());
    text.replace_range(start..end, &blanked);
    changed
}

/// 1-based line and character column of a byte offset.
fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

impl Config {
    /// Reads and validates a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
        let source = std::fs::read_to_string(path).map_err(|e| {
            let hint = if e.kind() == std::io::ErrorKind::NotFound {
                ". Name the configuration with --config FILE (or $STORYLINE_CONFIG); \
                 config.toml.example is a commented one to start from"
            } else {
                ""
            };
            ConfigErrors(vec![ConfigError {
                path: path.to_path_buf(),
                line: 0,
                col: 0,
                message: format!("cannot read the configuration: {e}{hint}"),
            }])
        })?;
        Config::parse(path, &source)
    }

    /// Validates configuration text that came from `path` (used to locate errors and
    /// to resolve relative database paths).
    pub fn parse(path: &Path, source: &str) -> Result<Config, ConfigErrors> {
        let mut checker = Checker { path, source, errors: Vec::new() };
        // serde stops at the first unknown key or wrong type: each such key is reported,
        // blanked out (offsets and lines unchanged) and the text read again, so that one
        // run reports every error, the checks of the known keys included.
        let mut text = source.to_string();
        let mut raw = None;
        for _ in 0..MAX_READS {
            match toml::from_str::<RawConfig>(&text) {
                Ok(read) => {
                    raw = Some(read);
                    break;
                }
                Err(e) => {
                    let span = e.span().unwrap_or(0..0);
                    let message = e.message().trim().replace('\n', " ");
                    let per_key = message.starts_with("unknown field") || message.starts_with("invalid type");
                    checker.error(span.clone(), message);
                    if !per_key || !blank_out(&mut text, span.start) {
                        break;
                    }
                }
            }
        }
        let config = raw.map(|raw| build(&mut checker, path, raw));
        checker.errors.sort_by_key(|e| (e.line, e.col));
        match config {
            Some(config) if checker.errors.is_empty() => Ok(config),
            _ => Err(ConfigErrors(checker.errors)),
        }
    }

    /// How each feed that needs more than its URL (a User-Agent of its own, headers,
    /// credentials) is asked, by name.
    pub fn sources(&self) -> std::collections::HashMap<String, crate::fetch::Source> {
        self.feeds.iter().filter_map(|f| Some((f.name.clone(), source_of(f)?))).collect()
    }

    /// The source configured at `url`, if one needs more than its URL (for `inspect`).
    pub fn source_at(&self, url: &Url) -> Option<crate::fetch::Source> {
        self.feeds.iter().filter(|f| f.url == *url).find_map(source_of)
    }

    /// The schedule that applies to a feed.
    pub fn schedule_of<'a>(&'a self, feed: &'a FeedSpec) -> &'a Schedule {
        feed.schedule.as_ref().unwrap_or(&self.fetch.schedule)
    }
}

/// How the fetcher asks for `f`, when it needs more than its URL: its access, sent to its
/// configured URL's origin.
fn source_of(f: &FeedSpec) -> Option<crate::fetch::Source> {
    (!f.access.is_default()).then(|| crate::fetch::Source { origin: f.url.clone(), access: f.access.clone() })
}

/// Where the database is, and why there, for a configuration in `dir` whose
/// `storage.database` is `key`, in this order: `$STORYLINE_DATABASE` (what `--database`
/// sets); the key, relative to the configuration's folder; `$STATE_DIRECTORY` (the unit's
/// state directory, under systemd); for a configuration in `…/etc/storyline` (the unit's
/// configuration directory), `…/var/lib/storyline`, so that a command an administrator
/// types beside the service reads the service's database; else beside the configuration.
fn database_path(dir: &Path, key: Option<&str>) -> (PathBuf, String) {
    const FILE: &str = "storyline.db";
    if let Some(path) = std::env::var_os("STORYLINE_DATABASE").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        let path = if path.is_relative() { std::env::current_dir().unwrap_or_default().join(path) } else { path };
        return (path, "--database (or $STORYLINE_DATABASE)".into());
    }
    if let Some(key) = key {
        return (dir.join(key), "storage.database in the configuration".into());
    }
    // systemd sets a colon-separated list, one per StateDirectory= entry.
    let state = std::env::var("STATE_DIRECTORY").ok();
    if let Some(state) = state.as_deref().and_then(|s| s.split(':').next()).filter(|s| !s.is_empty()) {
        return (Path::new(state).join(FILE), "$STATE_DIRECTORY (set by systemd)".into());
    }
    if dir.ends_with("etc/storyline") {
        let root = dir.parent().and_then(Path::parent).unwrap_or(Path::new("/"));
        let service = root.join("var/lib/storyline");
        let why =
            format!("the service's state directory ({}), for a configuration in {}", service.display(), dir.display());
        return (service.join(FILE), why);
    }
    (dir.join(FILE), "beside the configuration (storage.database is not set)".into())
}

fn default_user_agent() -> String {
    format!("storyline/{} (+{})", env!("CARGO_PKG_VERSION"), crate::model::HOMEPAGE)
}

fn build(c: &mut Checker<'_>, path: &Path, raw: RawConfig) -> Config {
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let (database, database_from) = database_path(&dir, raw.storage.database.as_ref().map(|d| d.get_ref().as_str()));
    let storage = Storage {
        database,
        database_from,
        retention: c.value(&raw.storage.retention, "retention", Some(Duration::from_secs(90 * 86_400)), |s| {
            if s == "forever" {
                Ok(None)
            } else {
                parse_duration(s).map(Some)
            }
        }),
    };
    let fetch = build_fetch(c, &raw.fetch);
    let server = build_server(c, &raw.server);
    let series = SeriesSettings {
        window: c.value(&raw.series.window, "window", Duration::from_secs(7 * 86_400), parse_duration),
    };
    let filters = build_filters(c, &raw.filter, &raw.feed);
    let feeds = build_feeds(c, &dir, raw.feed);
    Config { path: path.to_path_buf(), storage, fetch, server, series, feeds, filters }
}

impl Default for FetchSettings {
    /// What an empty `[fetch]` section means.
    fn default() -> Self {
        FetchSettings {
            schedule: "*/15 * * * *".parse().expect("the default schedule is valid"),
            user_agent: default_user_agent(),
            max_concurrent: 32,
            per_host: 2,
            timeout: Duration::from_secs(30),
            max_body: 10 << 20,
        }
    }
}

fn build_fetch(c: &mut Checker<'_>, raw: &RawFetch) -> FetchSettings {
    let d = FetchSettings::default();
    let timeout = c.value(&raw.timeout, "timeout", d.timeout, |s| {
        let d = parse_duration(s)?;
        if d.is_zero() {
            return Err("must be longer than zero".into());
        }
        Ok(d)
    });
    FetchSettings {
        schedule: c.value(&raw.schedule, "schedule", d.schedule, |s| s.parse()),
        user_agent: c.value(&raw.user_agent, "user_agent", d.user_agent, |s| {
            if s.trim().is_empty() || s.chars().any(char::is_control) {
                Err("must be a non-empty single line".into())
            } else {
                Ok(s.to_string())
            }
        }),
        max_concurrent: c.int(&raw.max_concurrent, "max_concurrent", d.max_concurrent, 1..10_001),
        per_host: c.int(&raw.per_host, "per_host", d.per_host, 1..1001),
        timeout,
        max_body: c.value(&raw.max_body, "max_body", d.max_body, |s| match parse_size(s)? {
            0 => Err("must be larger than zero".into()),
            n => Ok(n),
        }),
    }
}

fn build_server(c: &mut Checker<'_>, raw: &RawServer) -> ServerSettings {
    let listen = c.value(&raw.listen, "listen", SocketAddr::from(([127, 0, 0, 1], 8080)), |s| {
        s.parse().map_err(|_| format!("`{s}` is not an address like 127.0.0.1:8080 or [::1]:8080"))
    });
    let default_base = Url::parse(&format!("http://{listen}/")).expect("a socket address forms a URL");
    let base_url = c.value(&raw.base_url, "base_url", default_base, |s| {
        let mut url = Url::parse(s).map_err(|e| format!("`{s}` is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("`{s}` must be an http or https URL"));
        }
        if !url.path().ends_with('/') {
            url.set_path(&format!("{}/", url.path()));
        }
        Ok(url)
    });
    ServerSettings {
        listen,
        base_url,
        title: raw.title.clone().unwrap_or_else(|| "Storyline".into()),
        items: c.int(&raw.items, "items", 100, 1..1001),
        cache: c.value(&raw.cache, "cache", DEFAULT_CACHE, parse_size),
        max_connections: c.int(&raw.max_connections, "max_connections", DEFAULT_MAX_CONNECTIONS, 1..100_001),
    }
}

/// `[server] cache`: measured on a store of 3,877 items (the noisy dev stream), the three
/// merged feeds, the page and the digest at their default lengths take 0.67 MB, and each
/// series feed 16 KB on average: 32 MiB keeps them and about 2,000 series feeds.
const DEFAULT_CACHE: u64 = 32 << 20;

/// `[server] max_connections`: far more than readers polling a personal aggregator need,
/// and well below the unit's `LimitNOFILE`, so the daemon always has descriptors left
/// for its database, its fetches and a reload.
const DEFAULT_MAX_CONNECTIONS: usize = 512;

/// Compiles a rule's patterns; an invalid one is an error located at the pattern.
fn build_rule(c: &mut Checker<'_>, name: String, raw: &RawRule) -> Option<Rule> {
    let mut patterns = Vec::new();
    for (key, field) in Field::ALL {
        let value = match field {
            Field::Title => &raw.title,
            Field::Summary => &raw.summary,
            Field::Link => &raw.link,
            Field::Author => &raw.author,
            Field::Category => &raw.category,
        };
        let Some(pattern) = value else { continue };
        match regex::Regex::new(pattern.get_ref()) {
            Ok(re) => patterns.push((field, re)),
            Err(e) => {
                let why = e.to_string().lines().last().unwrap_or_default().trim().to_string();
                // The span covers the quoted string: point inside it, at the pattern.
                let span = pattern.span();
                c.error(span.start + 1..span.end, format!("{key}: invalid regular expression: {why}"));
            }
        }
    }
    // An empty table, or one whose every pattern was invalid (already reported), is no rule.
    (!patterns.is_empty()).then_some(Rule { name, patterns })
}

/// A scope's keep and block rules.
fn build_rules(c: &mut Checker<'_>, scope: &str, keep: &Option<RawRule>, block: &Option<RawRule>) -> Rules {
    let mut rules = Rules::default();
    if let Some(rule) = keep.as_ref().and_then(|k| build_rule(c, format!("{scope} keep"), k)) {
        rules.keep.push(rule);
    }
    if let Some(rule) = block.as_ref().and_then(|b| build_rule(c, format!("{scope} block"), b)) {
        rules.block.push(rule);
    }
    rules
}

fn build_filters(c: &mut Checker<'_>, global: &[RawFilter], feeds: &[RawFeed]) -> Filters {
    let mut filters = Filters::default();
    for (i, f) in global.iter().enumerate() {
        let rules = build_rules(c, &format!("[[filter]] #{}", i + 1), &f.keep, &f.block);
        filters.global.keep.extend(rules.keep);
        filters.global.block.extend(rules.block);
    }
    for f in feeds {
        let name = f.name.get_ref();
        let rules = build_rules(c, &format!("feed `{name}`"), &f.keep, &f.block);
        if rules != Rules::default() {
            filters.feeds.insert(name.clone(), rules);
        }
    }
    filters
}

fn build_feeds(c: &mut Checker<'_>, dir: &Path, raw: Vec<RawFeed>) -> Vec<FeedSpec> {
    let mut seen = HashSet::new();
    let mut feeds = Vec::with_capacity(raw.len());
    for f in raw {
        let name = f.name.get_ref().clone();
        if name.is_empty() || name.chars().any(|ch| ch.is_whitespace() || ch.is_control()) {
            c.error(f.name.span(), format!("feed name `{name}` must be non-empty and contain no spaces"));
        } else if name.chars().any(crate::text::is_format_control) {
            let shown = name.escape_unicode();
            c.error(f.name.span(), format!("feed name `{shown}` holds an invisible direction or format character"));
        } else if !seen.insert(name.nfc().collect::<String>()) {
            // Names that look the same (a composed and a decomposed é) are the same name.
            c.error(f.name.span(), format!("duplicate feed name `{name}`"));
        }
        let url = c.value(&Some(f.url.clone()), "url", None, |s| {
            let url = Url::parse(s).map_err(|e| format!("`{s}` is not a URL: {e}"))?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return Err(format!("`{s}` must be an http or https URL with a host"));
            }
            Ok(Some(url))
        });
        let schedule = c.value(&f.schedule, "schedule", None, |s| s.parse().map(Some));
        let raw_access = access::RawAccess { user_agent: &f.user_agent, headers: &f.headers, auth: &f.auth };
        let access = access::build(c, dir, &name, raw_access);
        if let Some(url) = url {
            let title = f.title.map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
            let enabled = f.enabled.unwrap_or(true);
            let full_text = f.full_text.unwrap_or(false);
            feeds.push(FeedSpec { name, url, schedule, tags: f.tags, enabled, title, access, full_text });
        }
    }
    feeds
}

#[cfg(test)]
mod tests;
