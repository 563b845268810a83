//! Shared vocabulary: what a configured feed is, what parsing yields, what a fetch ends in.
//!
//! Plain data only. This module must not depend on any other module of the crate, nor on
//! reqwest, rusqlite or axum, so that every stage can speak it without pulling in another.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use url::Url;

/// When a feed is polled: a cron expression or a fixed interval.
#[derive(Debug, Clone)]
pub enum Schedule {
    /// A crontab line (5 fields, or 6 with seconds first), kept with its source text.
    Cron {
        /// The expression as the user wrote it.
        source: String,
        /// The parsed form, always 6 fields (seconds first) in the `cron` crate's dialect.
        schedule: Box<cron::Schedule>,
    },
    /// `every 20m`: a fixed interval from the previous poll.
    Every(Duration),
}

impl Schedule {
    /// The first poll time strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Schedule::Cron { schedule, .. } => schedule
                .after(&after)
                .next()
                // A valid expression that never fires again (a past year) means "never":
                // a century ahead keeps arithmetic simple.
                .unwrap_or_else(|| after + chrono::Duration::days(36_500)),
            Schedule::Every(every) => after + chrono::Duration::from_std(*every).unwrap_or(chrono::Duration::days(1)),
        }
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Cron { source, .. } => f.write_str(source),
            Schedule::Every(d) => write!(f, "every {}s", d.as_secs()),
        }
    }
}

impl FromStr for Schedule {
    type Err = String;

    /// Accepts `every 20m`, a 5-field crontab line (minute first), a 6-field line with
    /// seconds first, or the `@hourly`-style shorthands. Day-of-week numbers follow crontab
    /// (0 or 7 = Sunday), not the `cron` crate's 1 = Sunday.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if let Some(rest) = text.strip_prefix("every ") {
            let every = parse_duration(rest.trim())?;
            if every.is_zero() {
                return Err("an interval must be longer than zero".into());
            }
            return Ok(Schedule::Every(every));
        }
        let fields: Vec<&str> = text.split_whitespace().collect();
        let expr = match fields.len() {
            1 if text.starts_with('@') => text.to_string(),
            5 => format!("0 {} {} {} {} {}", fields[0], fields[1], fields[2], fields[3], crontab_dow(fields[4])?),
            6 => format!(
                "{} {} {} {} {} {}",
                fields[0],
                fields[1],
                fields[2],
                fields[3],
                fields[4],
                crontab_dow(fields[5])?
            ),
            n => {
                return Err(format!(
                    "expected a crontab line of 5 fields (or 6 with seconds) or `every N[smhd]`, found {n} field(s)"
                ))
            }
        };
        let schedule = cron::Schedule::from_str(&expr).map_err(|e| format!("invalid cron expression: {e}"))?;
        Ok(Schedule::Cron { source: text.to_string(), schedule: Box::new(schedule) })
    }
}

/// Rewrites crontab day-of-week numbers (0-7, Sunday = 0 or 7) as names, which mean the
/// same in the `cron` crate; leaves names, `*` and `?` alone.
fn crontab_dow(field: &str) -> Result<String, String> {
    const NAMES: [&str; 8] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];
    let mut out = String::with_capacity(field.len() + 8);
    let mut chars = field.chars().peekable();
    let mut after_slash = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() && !after_slash {
            let mut num = c.to_string();
            while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                num.push(*d);
                chars.next();
            }
            let n: usize = num.parse().map_err(|_| format!("bad day of week `{num}`"))?;
            let name = NAMES.get(n).ok_or_else(|| format!("day of week {n} is out of range 0-7"))?;
            out.push_str(name);
        } else {
            after_slash = c == '/' || (after_slash && c.is_ascii_digit());
            out.push(c);
        }
    }
    Ok(out)
}

/// Parses `90d`, `30s`, `1h30m`: one or more number+unit pairs, units `s`, `m`, `h`, `d`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty duration; expected e.g. `30s`, `15m`, `2h`, `7d`".into());
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            ' ' => continue,
            other => return Err(format!("unknown duration unit `{other}` in `{text}`; use s, m, h or d")),
        };
        let n: u64 = digits
            .parse()
            .map_err(|_| format!("`{text}` is not a duration; expected e.g. `30s`, `15m`, `2h`, `7d`"))?;
        total = n.checked_mul(unit).and_then(|v| total.checked_add(v)).ok_or("duration too large")?;
        digits.clear();
    }
    if !digits.is_empty() {
        return Err(format!("`{text}` lacks a unit; use s, m, h or d (e.g. `{text}s`)"));
    }
    Ok(Duration::from_secs(total))
}

/// Parses `10MiB`, `512KiB`, `1GiB` or a plain byte count.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (num, unit) = text.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("`{text}` is not a size; expected e.g. `512KiB` or `10MiB`"))?;
    let mult = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        other => return Err(format!("unknown size unit `{other}`; use B, KiB, MiB or GiB")),
    };
    n.checked_mul(mult).ok_or_else(|| "size too large".into())
}

/// One `[[feed]]` of the configuration, validated.
#[derive(Debug, Clone)]
pub struct FeedSpec {
    /// Unique name used in logs, metrics and the API.
    pub name: String,
    /// The URL as configured (the store may know a newer one after permanent redirects).
    pub url: Url,
    /// The feed's own schedule, if it overrides `[fetch].schedule`.
    pub schedule: Option<Schedule>,
    /// Free-form labels.
    pub tags: Vec<String>,
    /// Disabled feeds are kept in the store but never polled.
    pub enabled: bool,
}

/// One entry of a parsed feed, normalized: plain-text title, absolute URLs, sanitized HTML.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Entry {
    /// The feed's own id for the entry (RSS guid, Atom id, JSON Feed id), never invented.
    pub guid: Option<String>,
    /// The absolute link as published.
    pub link: Option<String>,
    /// `link` without fragment and tracking parameters: the cross-feed identity.
    pub canonical_link: Option<String>,
    /// The guid in canonical form, when the guid is an http(s) URL (a permalink).
    pub guid_url: Option<String>,
    /// Plain-text title (markup removed, whitespace collapsed); may be empty.
    pub title: String,
    /// Plain-text summary, shortened; used for matching and previews.
    pub summary: String,
    /// Sanitized HTML body (content, else summary), relative URLs made absolute.
    pub content_html: String,
    /// Author names joined by ", ".
    pub author: Option<String>,
    /// When the source says the entry was published (else updated); None if neither.
    pub published: Option<DateTime<Utc>>,
    /// When the source says the entry was last updated.
    pub updated: Option<DateTime<Utc>>,
}

/// What parsing one response yields.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedFeed {
    /// Detected format, e.g. `RSS 2.0`, `Atom`, `JSON Feed`.
    pub format: String,
    /// The charset the bytes were decoded from, and how it was decided.
    pub charset: String,
    /// The feed's own title.
    pub title: Option<String>,
    /// The feed's home page.
    pub site_link: Option<String>,
    /// Entries in document order.
    pub entries: Vec<Entry>,
    /// The shortest polling interval the feed asks for (`<ttl>`, `sy:updatePeriod`).
    pub min_interval: Option<Duration>,
    /// What had to be repaired or guessed to read it, one line each (shown by `inspect`).
    pub warnings: Vec<String>,
}

/// Validators from a successful response, stored exactly as received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// The `ETag` header.
    pub etag: Option<String>,
    /// The `Last-Modified` header.
    pub last_modified: Option<String>,
}

/// Why a fetch failed, as a category a scheduler can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// DNS, connect, TLS, reset.
    Network,
    /// Connect or total time limit exceeded.
    Timeout,
    /// A non-success HTTP status other than the ones below.
    Http,
    /// 410 Gone: the publisher removed the feed.
    Gone,
    /// 429 or 503, usually with Retry-After.
    Throttled,
    /// Body larger than `max_body`.
    TooLarge,
    /// More than the allowed number of redirects, or a loop.
    Redirects,
    /// The body is not a feed storyline can read.
    Parse,
}

impl FailureKind {
    /// A short stable word for `last_status` in `feeds` and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Network => "network_error",
            FailureKind::Timeout => "timeout",
            FailureKind::Http => "http_error",
            FailureKind::Gone => "gone",
            FailureKind::Throttled => "throttled",
            FailureKind::TooLarge => "too_large",
            FailureKind::Redirects => "redirect_error",
            FailureKind::Parse => "parse_error",
        }
    }
}

/// A failed fetch or parse, as data to be stored on the feed row.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The category.
    pub kind: FailureKind,
    /// The HTTP status, when a response arrived.
    pub http_status: Option<u16>,
    /// One line a person understands.
    pub message: String,
    /// Seconds the server asked us to wait (429/503 Retry-After).
    pub retry_after: Option<Duration>,
}

/// A response body that was received in full.
#[derive(Debug, Clone)]
pub struct Body {
    /// The URL the body came from, after redirects.
    pub final_url: Url,
    /// HTTP status (200-299).
    pub status: u16,
    /// The `Content-Type` header, for charset detection.
    pub content_type: Option<String>,
    /// ETag / Last-Modified to send next time, once the body has parsed.
    pub validators: Validators,
    /// The decompressed bytes.
    pub bytes: Vec<u8>,
}

/// What one fetch of a feed ended in. A failure is a value, never a panic.
#[derive(Debug, Clone)]
pub enum FetchOutcome {
    /// 2xx with a body.
    Fetched(Body),
    /// 304: nothing changed since the stored validators.
    NotModified,
    /// Anything else.
    Failed(Failure),
}

/// The result of a fetch plus what the redirect chain taught us.
#[derive(Debug, Clone)]
pub struct FetchReport {
    /// The outcome.
    pub outcome: FetchOutcome,
    /// Set when every hop of the redirect chain was permanent (301/308): where the feed now lives.
    pub moved_to: Option<Url>,
    /// Cache-Control max-age of the final response, a hint to poll no more often.
    pub max_age: Option<Duration>,
}

/// Where an item was received from.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Source {
    /// The feed's configured name.
    pub feed: String,
    /// The feed's own title.
    pub feed_title: Option<String>,
    /// The URL the feed is fetched from.
    pub feed_url: String,
    /// The feed's home page.
    pub site_link: Option<String>,
    /// The item's link in this source.
    pub link: Option<String>,
}

/// A stored item, as published: the original plus every source that carried it.
#[derive(Debug, Clone)]
pub struct Item {
    /// Row id.
    pub id: i64,
    /// Public id, stable forever.
    pub uid: String,
    /// Plain-text title.
    pub title: String,
    /// Link of the first copy received.
    pub link: Option<String>,
    /// Plain-text summary.
    pub summary: String,
    /// Sanitized HTML body.
    pub content_html: String,
    /// Author names.
    pub author: Option<String>,
    /// Publication time (falls back to updated, then first seen).
    pub published: DateTime<Utc>,
    /// Last update according to the source.
    pub updated: Option<DateTime<Utc>>,
    /// When storyline first received it.
    pub first_seen: DateTime<Utc>,
    /// Opaque series id.
    pub series: String,
    /// The feed it was first received from.
    pub source: Source,
    /// Other feeds that carried the same article.
    pub also: Vec<Source>,
    /// Title of its series.
    pub series_title: Option<String>,
    /// Items in its series.
    pub series_count: u64,
    /// The series' newest other headlines.
    pub related: Vec<Related>,
}

/// A headline of the same series, shown under an entry.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Related {
    /// Plain-text title.
    pub title: String,
    /// Its link.
    pub link: Option<String>,
}

/// One line of `export items` and one element of `/api/items`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ItemRecord {
    /// Row id.
    pub id: i64,
    /// Configured name of the feed it was received from.
    pub feed: String,
    /// The source's guid, if any.
    pub guid: Option<String>,
    /// The link as published.
    pub link: Option<String>,
    /// Plain-text title.
    pub title: String,
    /// RFC 3339 publication time.
    pub published: String,
    /// RFC 3339 time storyline first received it.
    pub first_seen: String,
    /// Opaque series id.
    pub series: String,
    /// Id of the item this one duplicates.
    pub duplicate_of: Option<i64>,
}

/// A feed's row in the store, for `feeds` and `/api/feeds`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FeedStatus {
    /// Configured name.
    pub name: String,
    /// The URL polled now (differs from the configured one after a permanent redirect).
    pub url: String,
    /// The URL in the configuration.
    pub config_url: String,
    /// The feed's own title.
    pub title: Option<String>,
    /// RFC 3339 time of the last poll.
    pub last_poll: Option<String>,
    /// RFC 3339 time of the last successful poll (200 or 304).
    pub last_success: Option<String>,
    /// `ok`, `not_modified`, or a failure kind such as `http_error`, `parse_error`.
    pub last_status: Option<String>,
    /// HTTP status of the last response.
    pub http_status: Option<u16>,
    /// One-line description of the last failure.
    pub last_error: Option<String>,
    /// Consecutive failures.
    pub error_count: u32,
    /// Items received from this feed (duplicates included).
    pub items: u64,
    /// RFC 3339 time of the next scheduled poll.
    pub next_poll: Option<String>,
    /// Where the last permanent redirect pointed.
    pub moved_to: Option<String>,
    /// Whether the feed is enabled in the configuration.
    pub enabled: bool,
    /// The server answered 410 Gone: no longer polled until its URL changes.
    pub gone: bool,
    /// What the last successful read had to repair or guess (`inspect` shows details).
    pub warning: Option<String>,
}

/// A series as the digest shows it: one entry per series, updated as it grows.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesEntry {
    /// Opaque id.
    pub id: String,
    /// Headline-like title.
    pub title: String,
    /// Items in it.
    pub count: u64,
    /// Newest item's publication time.
    pub last: DateTime<Utc>,
    /// Names and terms its items share.
    pub keywords: Vec<String>,
    /// Its newest headlines.
    pub headlines: Vec<Related>,
}
