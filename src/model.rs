//! Shared vocabulary: what a configured feed is, what parsing yields, what a fetch ends in.
//!
//! Plain data only. This module must not depend on any other module of the crate, nor on
//! reqwest, rusqlite or axum, so that every stage can speak it without pulling in another.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use url::Url;

mod access;
mod media;
mod schedule;
pub use access::{Access, Basic, Secret};
pub use media::{Enclosure, Image, Media};
pub use schedule::{parse_duration, parse_size, Schedule};

/// The project's home: named in the default User-Agent and in the feeds' generator.
pub const HOMEPAGE: &str = env!("CARGO_PKG_REPOSITORY");

/// Most bytes of item text (bodies, titles, summaries) one read of items for a document
/// holds: the newest items that fit, and at least one. Escaping for XML at most about
/// quadruples it, so no feed document passes some tens of MiB whatever `?limit` asks and
/// the sources sent (a body is at most 512 KiB, `parse::bounds`). 1,000 items of the
/// labelled streams are about 1 MiB of text, so only hostile or huge bodies meet it.
pub const DOCUMENT_TEXT_BYTES: usize = 4 << 20;

/// Whether `link` may be stored or published as a link: an absolute `http` or `https`
/// URL, the scheme compared after trimming and case folding. Anything else (`javascript:`,
/// `vbscript:`, `data:`, relative or empty) is never a link storyline republishes.
pub fn is_web_link(link: &str) -> bool {
    let link = link.trim_start_matches(|c: char| c.is_whitespace() || c.is_control()).as_bytes();
    let scheme = |s: &[u8]| link.len() > s.len() && link[..s.len()].eq_ignore_ascii_case(s);
    scheme(b"http://") || scheme(b"https://")
}

/// Query parameters kept when a source's address is shown, logged or published: the
/// ones public feed addresses use to select a feed (WordPress `?feed=rss2`, Joomla
/// `?format=feed&type=rss`, Blogger `?alt=rss`, Google News `?hl=..&gl=..&ceid=..&q=..`).
/// Any other parameter may be a token, a key or a session, and is left out.
const PUBLIC_QUERY_KEYS: &[&str] = &[
    "feed", "format", "type", "output", "alt", "view", "hl", "gl", "ceid", "lang", "q", "cat", "category", "tag",
    "section", "topic", "edition",
];

/// A source's address as it may be shown, logged or published: without user name,
/// password and fragment, and with only the query parameters in [`PUBLIC_QUERY_KEYS`].
/// Text that is not a URL is shown up to its first `?` and without what precedes an `@`.
pub fn public_url(url: &str) -> String {
    let Some(mut parsed) = Url::parse(url).ok().filter(Url::has_host) else {
        let head = url.split(['?', '#']).next().unwrap_or_default();
        return head.rsplit_once('@').map_or(head, |(_, host)| host).to_string();
    };
    let _ = parsed.set_username("");
    let _ = parsed.set_password(None);
    parsed.set_fragment(None);
    if parsed.query().is_some() {
        let kept: Vec<(String, String)> = parsed
            .query_pairs()
            .filter(|(k, _)| PUBLIC_QUERY_KEYS.contains(&k.to_ascii_lowercase().as_str()))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            parsed.set_query(None);
        } else {
            parsed.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    parsed.into()
}

/// `link` if it [`is_web_link`], else `None`.
pub fn web_link(link: Option<String>) -> Option<String> {
    link.filter(|l| is_web_link(l))
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
    /// A title to show until the feed's own is read (`import-opml` keeps the outline's).
    pub title: Option<String>,
    /// Its own User-Agent, headers and credentials.
    pub access: Access,
    /// Whether each new article's page is fetched for its full text (for feeds that
    /// carry only a summary).
    pub full_text: bool,
}

impl FeedSpec {
    /// A feed by `name` at `url` with every other key at its default (enabled, no
    /// schedule, tags, title, access or full text of its own).
    pub fn new(name: impl Into<String>, url: Url) -> FeedSpec {
        FeedSpec {
            name: name.into(),
            url,
            schedule: None,
            tags: Vec::new(),
            enabled: true,
            title: None,
            access: Access::default(),
            full_text: false,
        }
    }
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
    /// The source's categories (terms, or labels where given).
    pub categories: Vec<String>,
    /// Its enclosures, image and comments link.
    pub media: Media,
    /// Why keep/block rules hide it (`filter`), decided before it is stored.
    pub filtered: Option<String>,
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
    /// What was fetched could not be stored (a full disk, a database error): the feed is
    /// polled again after the usual backoff, and nothing it had stored is lost.
    Store,
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
            FailureKind::Store => "store_error",
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

/// How a step of one poll ended: the same three cases from the fetch to the scheduler,
/// each stage carrying its own result (the fetch a body, [`FetchOutcome`]; the write a
/// parsed document, `store::PollWrite`; the poll its counts, [`PollResult`]). A failure
/// is a value, never a panic.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome<T> {
    /// The step did its work: a body fetched (2xx), a document parsed, its items stored.
    Done(T),
    /// 304 Not Modified: nothing changed since the stored validators.
    NotModified,
    /// Fetching or parsing failed; recorded on the feed row.
    Failed(Failure),
}

impl<T> Outcome<T> {
    /// The same outcome with the work's result changed by `f`.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Outcome<U> {
        match self {
            Outcome::Done(t) => Outcome::Done(f(t)),
            Outcome::NotModified => Outcome::NotModified,
            Outcome::Failed(failure) => Outcome::Failed(failure),
        }
    }

    /// The same outcome without the work's result (a failure is copied).
    pub fn without_result(&self) -> Outcome<()> {
        match self {
            Outcome::Done(_) => Outcome::Done(()),
            Outcome::NotModified => Outcome::NotModified,
            Outcome::Failed(failure) => Outcome::Failed(failure.clone()),
        }
    }

    /// The failure, when it failed.
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            Outcome::Failed(f) => Some(f),
            _ => None,
        }
    }
}

/// What one fetch of a feed ended in: a body when it got one.
pub type FetchOutcome = Outcome<Body>;

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

/// Where an item was received from, as it is published: by name and home page, never by
/// the address storyline fetches (it may carry credentials or name an internal host).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Source {
    /// The feed's configured name.
    pub feed: String,
    /// The feed's own title.
    pub feed_title: Option<String>,
    /// The feed's home page.
    pub site_link: Option<String>,
    /// The item's link in this source.
    pub link: Option<String>,
}

impl Source {
    /// Who published through this feed: its own title, else its configured name.
    pub fn publisher(&self) -> &str {
        self.feed_title.as_deref().filter(|t| !t.trim().is_empty()).unwrap_or(&self.feed)
    }
}

/// Distinct articles a series needs to be presented as a story (a category, a count,
/// "In this story", a place among the front page's stories): one article alone is news,
/// not a running story. Every output and query decides with this.
pub const STORY_ARTICLES: u64 = 2;

/// Whether a series of `count` distinct articles is presented as a story.
pub fn is_story(count: u64) -> bool {
    count >= STORY_ARTICLES
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
    /// Its series' keywords (the names and terms its items share).
    pub series_keywords: Vec<String>,
    /// Other headlines of its series shown with it: the strongest of the newest.
    pub related: Vec<Related>,
    /// Its feed's tags (from the configuration).
    pub tags: Vec<String>,
    /// The source's own categories for it.
    pub categories: Vec<String>,
    /// Its enclosures, image and comments link, as the source gave them.
    pub media: Media,
}

impl Item {
    /// Whether its series is presented as a story.
    pub fn in_story(&self) -> bool {
        is_story(self.series_count)
    }

    /// Who the entry is by: its author when the source names one, else its publisher.
    pub fn byline(&self) -> &str {
        self.author.as_deref().filter(|a| !a.trim().is_empty()).unwrap_or_else(|| self.source.publisher())
    }
}

/// A headline of the same series, shown under an entry.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Related {
    /// Plain-text title.
    pub title: String,
    /// Its link.
    pub link: Option<String>,
    /// Who published it: its feed's own title, else the feed's configured name.
    pub publisher: String,
    /// When it was published.
    pub published: DateTime<Utc>,
}

/// One line of `export items` and one element of `/api/items`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
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
    /// Why keep/block rules hide it from every output (`null`: shown).
    #[serde(default)]
    pub filtered: Option<String>,
}

/// A feed's row in the store, for `feeds` and `/api/feeds`. Times stay `DateTime`s up to
/// the outputs, which write them as RFC 3339 in UTC to the second.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct FeedStatus {
    /// Configured name.
    pub name: String,
    /// The URL polled now (differs from the configured one after a permanent redirect), as
    /// [`public_url`] shows it.
    pub url: String,
    /// The URL in the configuration, as [`public_url`] shows it.
    pub config_url: String,
    /// The feed's own title.
    pub title: Option<String>,
    /// Time of the last poll.
    pub last_poll: Option<DateTime<Utc>>,
    /// Time of the last successful poll (200 or 304).
    pub last_success: Option<DateTime<Utc>>,
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
    /// Time of the next scheduled poll.
    pub next_poll: Option<DateTime<Utc>>,
    /// Where the last permanent redirect pointed.
    pub moved_to: Option<String>,
    /// Whether the feed is enabled in the configuration.
    pub enabled: bool,
    /// The server answered 410 Gone: no longer polled until its URL changes.
    pub gone: bool,
    /// What the last successful read had to repair or guess (`inspect` shows details).
    pub warning: Option<String>,
    /// The feed's tags, from the configuration.
    pub tags: Vec<String>,
    /// Of its `items`, those keep/block rules hide.
    pub hidden: u64,
    /// Until when its server asked (Retry-After, at most a day) not to be polled: every
    /// feed of that host waits.
    pub held_until: Option<DateTime<Utc>>,
    /// The feed's home page, as the feed names it.
    pub site_link: Option<String>,
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
    /// Its items' publication times, newest first (for a timeline; empty where unused).
    pub timeline: Vec<DateTime<Utc>>,
    /// Oldest item's publication time.
    pub first: DateTime<Utc>,
    /// Distinct feeds that carried its articles (copies included), among its newest
    /// [`SOURCES_COUNTED`] members; 0 where unused.
    pub sources: u64,
    /// What the front page shows of its first headline; none where unused.
    pub lead: Option<Lead>,
}

/// Members of a story whose feeds are counted as its sources: the front page counts
/// them for every story it shows, so the count stays bounded for a story of 100k items.
pub const SOURCES_COUNTED: usize = 1000;

/// A story's lead article as the front page shows it, beside its headline.
#[derive(Debug, Clone, PartialEq)]
pub struct Lead {
    /// The opening of its summary (plain text, may be empty).
    pub summary: String,
    /// The image its source gave for it.
    pub image: Option<crate::model::Image>,
}

/// What the front page shows: one page of stories (series of two items or more) and of
/// the other news (items in no story), and the counts of its header line.
#[derive(Debug, Clone, Default)]
pub struct FrontPage {
    /// Stories, the freshest day first, the largest first within a day.
    pub stories: Vec<SeriesEntry>,
    /// Items in no story, newest first.
    pub other: Vec<Item>,
    /// Stories in all.
    pub stories_total: u64,
    /// Items storyline first saw in the 24 hours before the page was made (whenever their
    /// sources say they were published).
    pub items_new: u64,
    /// Whether any item is stored (an empty page then says why it is empty).
    pub stored: bool,
    /// Configured feeds whose last poll failed.
    pub failing_feeds: u64,
}

/// What storing one poll did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PollCounts {
    /// Entries stored as new items.
    pub new: usize,
    /// Entries stored as copies of an article already received from another feed or link.
    pub duplicates: usize,
    /// Entries already stored from this feed.
    pub unchanged: usize,
    /// Entries whose identity (guid, else link) an earlier entry of the same document
    /// has: stored once, and counted so the feed's row can say so.
    pub repeated: usize,
}

/// How one feed's poll ended: the counts of what it stored when a document was read.
pub type PollResult = Outcome<PollCounts>;

/// How one poll went: the one outcome type that the scheduler, the metrics, the log and
/// `storyline poll`'s output all read.
#[derive(Debug, Clone)]
pub struct PollReport {
    /// Configured feed name.
    pub feed: String,
    /// What happened.
    pub result: PollResult,
    /// Wall time of the whole poll.
    pub elapsed: Duration,
    /// The publisher's own hint to poll no more often (ttl, sy:updatePeriod, max-age).
    pub min_interval: Option<Duration>,
    /// Consecutive failures, this poll included (0 after a success).
    pub error_count: u32,
    /// What reading the document had to repair or guess (also stored on the feed).
    pub warnings: Vec<String>,
}

impl PollReport {
    /// What the poll stored (all zero unless a document was stored).
    pub fn counts(&self) -> PollCounts {
        match &self.result {
            PollResult::Done(c) => *c,
            _ => PollCounts::default(),
        }
    }

    /// The report of a poll of `feed` that the store could not take (`error`), its
    /// `error_count`th failure in a row.
    pub fn store_failure(feed: &str, error: &dyn fmt::Display, error_count: u32) -> PollReport {
        let failure = Failure {
            kind: FailureKind::Store,
            http_status: None,
            message: format!("could not store the poll: {error}"),
            retry_after: None,
        };
        PollReport {
            feed: feed.to_string(),
            result: PollResult::Failed(failure),
            elapsed: Duration::ZERO,
            min_interval: None,
            error_count,
            warnings: Vec::new(),
        }
    }

    /// A short word for logs and metrics: `ok`, `not_modified` or the failure kind.
    pub fn status(&self) -> &'static str {
        match &self.result {
            PollResult::Done(_) => "ok",
            PollResult::NotModified => "not_modified",
            PollResult::Failed(f) => f.kind.as_str(),
        }
    }
}

impl fmt::Display for PollReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.feed)?;
        match &self.result {
            PollResult::Done(c) => {
                write!(f, "{} new, {} duplicates, {} already stored", c.new, c.duplicates, c.unchanged)
            }
            PollResult::NotModified => f.write_str("not modified"),
            PollResult::Failed(failure) => write!(f, "error: {}", failure.message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::public_url;

    #[test]
    fn public_urls_carry_no_credentials() {
        assert_eq!(public_url("http://user:pw@feeds.example/feed?token=s3cret&page=2#x"), "http://feeds.example/feed");
        assert_eq!(public_url("https://site.example/?feed=rss2&key=abc"), "https://site.example/?feed=rss2");
        assert_eq!(
            public_url("https://news.example/rss/search?q=nato&hl=en-US&gl=US&ceid=US:en&sig=1"),
            "https://news.example/rss/search?q=nato&hl=en-US&gl=US&ceid=US%3Aen"
        );
        assert_eq!(public_url("https://plain.example/feed.xml"), "https://plain.example/feed.xml");
        assert_eq!(public_url("not a url at all?token=x"), "not a url at all");
        assert_eq!(public_url("me:pw@host/x?y"), "host/x");
    }
}
