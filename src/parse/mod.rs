//! Bytes to normalized entries: charset, format detection, normalization, and the bounds
//! every document is held to (`bounds`: text lengths, entries, dates). feed-rs
//! (`normalize`, for XML), the tolerant reader (`lenient`) and the JSON Feed reader
//! (`json_feed`) only gather each entry's facts (text, media, categories); one builder
//! (`entry`) makes them entries, so every path keeps the same fields.
//!
//! Pure: takes the body and what HTTP said about it, returns a [`ParsedFeed`] or a
//! [`ParseError`]. Must not touch the network or the database.

pub mod article;
pub mod bounds;
mod charset;
mod dates;
pub mod discover;
mod entry;
pub mod html;
mod json_feed;
mod lenient;
mod markup_limits;
#[cfg(test)]
mod media_tests;
mod normalize;
mod plain_markup;
pub mod tolerant;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use feed_rs::parser::{ParseErrorKind, ParseFeedError};
use url::Url;

pub use charset::{decode, CharsetSource, Decoded};

use crate::model::ParsedFeed;

/// Why a body could not be read as a feed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Nothing at all.
    #[error("the response body is empty")]
    Empty,
    /// An HTML page (often a login wall or a site's front page) instead of a feed.
    #[error("the response is an HTML page, not a feed")]
    Html,
    /// Some document, but no RSS, Atom or JSON Feed root.
    #[error("no RSS, Atom or JSON Feed found in the response")]
    NotAFeed,
    /// A feed that the parser rejected.
    #[error("malformed {format}: {message}")]
    Malformed {
        /// XML or JSON.
        format: &'static str,
        /// The parser's complaint.
        message: String,
    },
    /// The parser crashed on this input; caught so the poll goes on.
    #[error("the feed parser crashed on this document: {0}")]
    Panicked(String),
    /// Reading the entries took longer than [`PARSE_BUDGET`].
    #[error("reading the feed took longer than {}s; stopped after {read} of {total} entries", PARSE_BUDGET.as_secs())]
    TooSlow {
        /// Entries read when time ran out.
        read: usize,
        /// Entries in the document.
        total: usize,
    },
}

/// The most time one document may take to read, as `[fetch] timeout` bounds its fetch. A
/// backstop: with markup capped in depth and size (`markup_limits`), a 10 MiB body of the
/// worst shapes found reads in about a second.
pub const PARSE_BUDGET: Duration = Duration::from_secs(10);

/// Parses a feed body received from `final_url` with the given Content-Type.
///
/// feed-rs reads it first. When feed-rs rejects an XML document, crashes, or finds fewer
/// entries than the document holds, the tolerant reader takes over (`lenient`); when
/// feed-rs left titles, links or dates empty, they are filled from the elements it does
/// not read (`dc:title`, `media:title`, loose dates ...). Each repair is a warning.
pub fn parse(bytes: &[u8], content_type: Option<&str>, final_url: &Url) -> Result<ParsedFeed, ParseError> {
    let deadline = Instant::now() + PARSE_BUDGET;
    let (parsed, notes) =
        html::collecting_parser_notes(|| parse_before(bytes, content_type, final_url, deadline, chrono::Utc::now()));
    let mut feed = parsed?;
    if let Some(notes) = notes {
        feed.warnings.push(notes);
    }
    Ok(feed)
}

fn parse_before(
    bytes: &[u8],
    content_type: Option<&str>,
    final_url: &Url,
    deadline: Instant,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<ParsedFeed, ParseError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty);
    }
    let decoded = decode(bytes, content_type);
    let full = decoded.text.as_ref();
    let charset = decoded.describe();
    if full.trim_start().starts_with('{') {
        let (mut feed, total) = json_feed::read(full, final_url, charset, deadline, now)?;
        feed.warnings.splice(0..0, decoded.warnings.iter().cloned());
        bounds::apply(&mut feed, total, now);
        return Ok(feed);
    }
    // A document of more entries than are kept is read up to the first of them (feeds
    // list their newest first): feed-rs builds every entry it reads, 177 MB for one of
    // 100,000 entries (14 MB). Cut where an entry starts, the document may not parse (an
    // entry tag inside CDATA): then the whole is read.
    // Every fact about the document's tags that the readers and their fallbacks need, in
    // one pass (feed-rs reads it once more; the tolerant tree, when needed, once).
    let scan = Scan::of(full, bounds::MAX_ENTRIES);
    let cut = scan.past_limit.and_then(|at| cut_at(full, at)).map(|text| (text, scan.items + scan.entries));
    let read_cut = cut.as_ref().map(|(text, _)| {
        read(text, scan.expected().min(bounds::MAX_ENTRIES), &scan, final_url, &charset, deadline, now)
    });
    let (mut feed, text, total) = match (read_cut, &cut) {
        (Some(Ok((feed, _))), Some((text, total))) => (feed, text.as_str(), *total),
        _ => {
            let (feed, total) = read(full, scan.expected(), &scan, final_url, &charset, deadline, now)?;
            (feed, full, total)
        }
    };
    feed.min_interval = feed.min_interval.into_iter().chain(update_period(text, scan.first)).max();
    feed.warnings.splice(0..0, decoded.warnings.iter().cloned());
    bounds::apply(&mut feed, total, now);
    Ok(feed)
}

/// Reads one (decoded) XML document: feed-rs first, the tolerant reader when it fails or
/// falls short. Returns the feed and how many entries the document held.
/// `expected` is how many entries the text seems to hold (feed-rs fell short below it),
/// `scan` what the text's tags say.
#[allow(clippy::too_many_arguments)]
fn read(
    text: &str,
    expected: usize,
    scan: &Scan,
    final_url: &Url,
    charset: &str,
    deadline: Instant,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(ParsedFeed, usize), ParseError> {
    // feed-rs invents ids for entries without one; an empty id keeps "no guid" visible so
    // identity can fall back to the link.
    let parser = feed_rs::parser::Builder::new().id_generator(|_, _, _| String::new()).build();
    let primary = catch_unwind(AssertUnwindSafe(|| parser.parse(text.as_bytes())))
        .map_err(|panic| ParseError::Panicked(panic_message(&panic)))
        .and_then(|r| r.map_err(|e| classify(e, text)));
    let mut total = 0;
    let feed = match primary {
        Ok(mut raw) if raw.entries.len() >= expected => {
            if raw.entries.len() == expected {
                comments_as_links(&mut raw.entries, text, scan);
            }
            // Only the entries kept are normalized.
            total = raw.entries.len();
            let date = |e: &feed_rs::model::Entry| e.published.or(e.updated).filter(|t| bounds::plausible(*t, now));
            bounds::keep_newest(&mut raw.entries, bounds::MAX_ENTRIES, date);
            let ttl = raw.ttl.map(|minutes| Duration::from_secs(u64::from(minutes) * 60));
            let mut feed = normalize::feed(raw, final_url, charset.to_string(), deadline)?;
            feed.min_interval = ttl;
            fill_gaps(&mut feed, text, scan, None, final_url, deadline);
            feed
        }
        other => recover(other, text, scan, final_url, charset.to_string(), deadline)?,
    };
    Ok((feed, total))
}

/// RSS's `<comments>` reach feed-rs's entries as Atom's link to the replies (RFC 4685),
/// which the entry builder reads for both. Only when the scan counted the entries that
/// feed-rs read, so the n-th element is the n-th entry's.
fn comments_as_links(entries: &mut [feed_rs::model::Entry], text: &str, scan: &Scan) {
    for &(entry, start, end) in &scan.comments {
        let (Some(e), Some(raw)) = (entries.get_mut(entry), text.get(start..end).filter(|_| end > start)) else {
            continue;
        };
        let raw = raw.trim();
        let raw = raw.strip_prefix("<![CDATA[").and_then(|r| r.strip_suffix("]]>")).unwrap_or(raw);
        let href = html::to_text(raw);
        if !href.is_empty() && !e.links.iter().any(|l| l.rel.as_deref() == Some("replies")) {
            e.links.push(feed_rs::model::Link {
                href,
                rel: Some("replies".into()),
                media_type: Some("text/html".into()),
                href_lang: None,
                title: None,
                length: None,
            });
        }
    }
}

/// Closing tags of the elements that can give an entry the date feed-rs left empty
/// (`</dc:date>` counts for `date`, `</pubDate>` for `Date`).
const DATE_ELEMENTS: [&[u8]; 7] = [b"date", b"Date", b"issued", b"modified", b"created", b"published", b"updated"];

/// Closing tags of the elements that can give an entry its link.
const LINK_ELEMENTS: [&[u8]; 3] = [b"guid", b"id", b"link"];

/// Longest tag name looked at when a tag is closed: longer ones are no element the
/// fallbacks read.
const TAG_NAME_BYTES: usize = 32;

/// What one pass over a document's tags tells the readers and their fallbacks: how many
/// entries it holds, where the first starts and where the one past the kept number
/// starts, and whether its entries carry elements that could fill a title, date or link
/// feed-rs left empty. Gathered once per document.
#[derive(Debug, Default, Clone)]
struct Scan {
    items: usize,
    entries: usize,
    /// Where the first `<item` or `<entry` starts.
    first: Option<usize>,
    /// Where the entry past the kept number starts.
    past_limit: Option<usize>,
    closes_title: bool,
    closes_date: bool,
    /// A link element, or a `url=` / `href=` attribute, after the first entry.
    links: bool,
    /// RSS `<comments>` elements (which feed-rs does not read): the entry's number and
    /// where the element's text starts and ends.
    comments: Vec<(usize, usize, usize)>,
}

impl Scan {
    /// One pass over the `<`s (memchr) of `text`, keeping `limit` entries.
    fn of(text: &str, limit: usize) -> Scan {
        let bytes = text.as_bytes();
        let mut s = Scan::default();
        for (i, _) in text.match_indices('<') {
            let rest = &bytes[i + 1..];
            let opens = |tag: &[u8]| {
                rest.starts_with(tag) && matches!(rest.get(tag.len()), Some(b' ' | b'\t' | b'\n' | b'\r' | b'>'))
            };
            let (item, entry) = (opens(b"item"), opens(b"entry"));
            if item || entry {
                (s.items, s.entries) = (s.items + usize::from(item), s.entries + usize::from(entry));
                s.first.get_or_insert(i);
                if s.items + s.entries == limit + 1 {
                    s.past_limit = Some(i);
                }
            }
            if s.first.is_none() {
                continue;
            }
            let entry = s.items + s.entries - 1;
            if rest.starts_with(b"comments>") {
                s.comments.push((entry, i + 1 + b"comments>".len(), 0));
            }
            match rest.first() {
                Some(b'/') => {
                    let window = &rest[1..rest.len().min(TAG_NAME_BYTES + 1)];
                    let Some(end) = window.iter().position(|b| *b == b'>') else { continue };
                    let name = &window[..end];
                    if name == b"comments" {
                        if let Some(open) = s.comments.last_mut().filter(|(e, _, end)| *e == entry && *end == 0) {
                            open.2 = i;
                        }
                    }
                    s.closes_title |= name.ends_with(b"title");
                    s.closes_date |= DATE_ELEMENTS.iter().any(|n| name.ends_with(n));
                    s.links |= LINK_ELEMENTS.iter().any(|n| name.ends_with(n));
                }
                // Comments, CDATA and declarations carry no attributes.
                Some(b'!' | b'?') | None => {}
                Some(_) if !s.links => {
                    let end = rest.iter().position(|b| matches!(b, b'>' | b'<')).unwrap_or(rest.len());
                    let tag = &rest[..end];
                    s.links = contains(tag, b"url=") || contains(tag, b"href=");
                }
                Some(_) => {}
            }
        }
        s
    }

    /// How many entries the document seems to hold (a cheap count that decides whether
    /// feed-rs missed some).
    fn expected(&self) -> usize {
        self.items.max(self.entries)
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The document cut where entry `at` starts, then the end of the document from the
/// root's (or RSS's channel's) closing tag on.
fn cut_at(text: &str, at: usize) -> Option<String> {
    let tail =
        ["</channel>", "</feed>", "</rdf:RDF>"].iter().filter_map(|t| text.rfind(t)).filter(|&t| t >= at).min()?;
    Some(format!("{}{}", &text[..at], &text[tail..]))
}

/// Reads the document with the tolerant reader after feed-rs failed or fell short.
fn recover(
    primary: Result<feed_rs::model::Feed, ParseError>,
    text: &str,
    scan: &Scan,
    final_url: &Url,
    charset: String,
    deadline: Instant,
) -> Result<ParsedFeed, ParseError> {
    let tree = tolerant::read(text);
    // A root without entries after feed-rs failed is a truncated or broken document:
    // feed-rs's error says more than "no entries".
    let found = lenient::find(&tree).filter(|f| f.len() > 0);
    // The tag count that sent us here can be fooled (an `<item>` inside CDATA): the
    // tolerant reader must actually find more entries than feed-rs did.
    let found = found.filter(|f| primary.as_ref().map_or(true, |raw| f.len() > raw.entries.len()));
    match (found, primary) {
        (Some(found), primary) => {
            let mut feed = found.feed(final_url, charset, deadline)?;
            let why = match &primary {
                Ok(raw) => format!("feed-rs read {} of {} entries", raw.entries.len(), found.len()),
                Err(e) => format!("feed-rs: {e}"),
            };
            feed.warnings.push(format!("read with the tolerant parser ({why})"));
            Ok(feed)
        }
        (None, Ok(raw)) => {
            let mut feed = normalize::feed(raw, final_url, charset, deadline)?;
            fill_gaps(&mut feed, text, scan, Some(&tree), final_url, deadline);
            Ok(feed)
        }
        (None, Err(e)) => Err(e),
    }
}

/// Titles, links and dates feed-rs left empty, from the elements it does not read, as
/// long as `deadline` allows; `tree` is the tolerant tree when one was built already.
fn fill_gaps(
    feed: &mut ParsedFeed,
    text: &str,
    scan: &Scan,
    tree: Option<&tolerant::Element>,
    final_url: &Url,
    deadline: Instant,
) {
    // Only when the entries hold an element that could fill a gap (the scan says): feeds
    // whose entries simply have no dates or titles (microblogs, many others) are not read
    // twice on every poll.
    let lacking = |e: &crate::model::Entry| {
        e.title.is_empty() && scan.closes_title
            || e.published.is_none() && scan.closes_date
            || e.link.is_none() && scan.links
    };
    if !feed.entries.iter().any(lacking) {
        return;
    }
    let built;
    let tree = match tree {
        Some(tree) => tree,
        None => {
            built = tolerant::read(text);
            &built
        }
    };
    let Some(found) = lenient::find(tree).filter(|f| f.len() == feed.entries.len()) else { return };
    let base = feed.site_link.as_deref().and_then(|l| Url::parse(l).ok()).unwrap_or_else(|| final_url.clone());
    let mut filled = 0;
    for (i, e) in feed.entries.iter_mut().enumerate().filter(|(_, e)| lacking(e)) {
        if Instant::now() > deadline {
            feed.warnings.push(format!("out of time: gaps left from entry {} on", i + 1));
            break;
        }
        let Some(other) = found.gaps(i, &base) else { continue };
        if e.title.is_empty() && !other.title.is_empty() {
            e.title = other.title;
            filled += 1;
        }
        if e.link.is_none() && other.link.is_some() {
            (e.link, e.canonical_link) = (other.link, other.canonical_link);
            filled += 1;
        }
        if e.published.is_none() && other.published.is_some() {
            (e.published, e.updated) = (other.published, e.updated.or(other.updated));
            filled += 1;
        } else if e.published.is_none() {
            if let (Some(raw), _) = found.dates(i) {
                // Cut short: warnings are published, and the element could hold anything.
                let raw: String = raw.trim().chars().take(40).collect();
                feed.warnings.push(format!("entry {}: unreadable date {raw:?}", i + 1));
            }
        }
    }
    if filled > 0 {
        feed.warnings.push(format!("{filled} field(s) taken from elements feed-rs does not read"));
    }
}

/// The syndication module's `sy:updatePeriod` / `sy:updateFrequency` as an interval
/// (feed-rs does not read them).
fn update_period(text: &str, first_entry: Option<usize>) -> Option<Duration> {
    // A channel-level element: it comes before the first entry, so the entries (most of
    // the document) are not searched.
    let text = &text[..first_entry.unwrap_or(text.len()).min(text.len())];
    let element = |name: &str| {
        let start = text.find(&format!("<sy:{name}>"))? + name.len() + 5;
        let end = start + text[start..].find('<')?;
        Some(text[start..end].trim().to_ascii_lowercase())
    };
    let period = match element("updatePeriod")?.as_str() {
        "hourly" => 3600,
        "daily" => 86_400,
        "weekly" => 7 * 86_400,
        "monthly" => 30 * 86_400,
        "yearly" => 365 * 86_400,
        _ => return None,
    };
    let frequency: u64 = element("updateFrequency").and_then(|f| f.parse().ok()).filter(|f| *f > 0).unwrap_or(1);
    Some(Duration::from_secs(period / frequency))
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    redact(&message)
}

fn classify(error: ParseFeedError, text: &str) -> ParseError {
    let head: String = text.trim_start().chars().take(256).collect::<String>().to_ascii_lowercase();
    if head.starts_with("<!doctype html") || head.starts_with("<html") {
        return ParseError::Html;
    }
    match error {
        ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot) => ParseError::NotAFeed,
        ParseFeedError::JsonSerde(e) => ParseError::Malformed { format: "JSON", message: json_error(&e) },
        ParseFeedError::JsonUnsupportedVersion(_) => {
            ParseError::Malformed { format: "JSON Feed", message: "unsupported version".into() }
        }
        other => ParseError::Malformed { format: "XML", message: redact(&other.to_string()) },
    }
}

/// A JSON error as its kind and position: serde_json's own message quotes the values it
/// met, and errors are published (`/api/feeds`).
fn json_error(e: &serde_json::Error) -> String {
    let kind = match e.classify() {
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "a value of the wrong type or shape",
        serde_json::error::Category::Eof => "the document ends early",
        serde_json::error::Category::Io => "read error",
    };
    format!("{kind} at line {} column {}", e.line(), e.column())
}

/// Longest message kept of a parser's error.
const MESSAGE_CHARS: usize = 200;

/// A parser's message on one line, without what it quotes from the document (between
/// backticks or quotes) and at most [`MESSAGE_CHARS`] long: errors are published, and
/// must not carry a hostile document's text.
fn redact(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(MESSAGE_CHARS));
    let mut quote = None;
    for c in message.chars() {
        match (quote, c) {
            (None, '`' | '"' | '\'') => {
                quote = Some(c);
                out.push(c);
                out.push('…');
            }
            (Some(q), c) if c == q => {
                quote = None;
                out.push(c);
            }
            (Some(_), _) => {}
            (None, c) => out.push(c),
        }
    }
    crate::text::shorten(&crate::text::collapse_whitespace(&out), MESSAGE_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url() -> Url {
        Url::parse("http://feeds.example/news/rss").unwrap()
    }

    #[test]
    fn non_feeds_get_specific_errors() {
        assert_eq!(parse(b"  \n", None, &url()), Err(ParseError::Empty));
        let html = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>x</body></html>";
        assert_eq!(parse(html, Some("text/html"), &url()), Err(ParseError::Html));
        assert!(matches!(parse(b"{\"version\": 3}", None, &url()), Err(ParseError::Malformed { .. })));
    }

    #[test]
    fn entries_are_normalized() {
        let doc = r#"<rss version="2.0"><channel><title>T</title><link>http://site.example/</link>
            <item><title>  Big &lt;b&gt;news&lt;/b&gt;
               today </title><link>/a/1#top</link><description>plain &amp; simple</description></item>
            <item><guid>https://x.example/p/2?utm_source=rss</guid><title>Two</title>
               <pubDate>Fri, 27 Nov 2026 10:00:00 +0200</pubDate></item>
            </channel></rss>"#;
        let feed = parse(doc.as_bytes(), None, &url()).unwrap();
        assert_eq!(feed.format, "RSS 2.0");
        assert_eq!(feed.charset, "UTF-8 (valid UTF-8)");
        let [a, b] = &feed.entries[..] else { panic!("two entries expected") };
        assert_eq!(a.title, "Big news today");
        assert_eq!(a.guid, None, "no invented ids");
        assert_eq!(a.link.as_deref(), Some("http://site.example/a/1#top"));
        assert_eq!(a.canonical_link.as_deref(), Some("http://site.example/a/1"));
        assert_eq!(a.content_html, "plain &amp; simple");
        assert_eq!(a.published, None, "no date: the store uses the first-seen time");
        assert_eq!(b.link.as_deref(), Some("https://x.example/p/2?utm_source=rss"), "a permalink guid is the link");
        assert_eq!(b.guid_url.as_deref(), Some("https://x.example/p/2"));
        assert_eq!(b.published.unwrap().to_rfc3339(), "2026-11-27T08:00:00+00:00");
    }

    /// The one entry builder: the same entry read cleanly and read with repairs has the
    /// same fields (the tolerant reader dropped categories, took the summary from the
    /// body and only the first author).
    #[test]
    fn a_repaired_entry_keeps_every_field_a_clean_one_keeps() {
        let item = |description: &str| {
            format!(
                r#"<item><title>Council passes the budget</title><link>https://r.example/budget</link>
                <category>Politics</category><category>Local</category>
                <author>jane@r.example (Jane Roe)</author><dc:creator>Max Mustermann</dc:creator>
                <description>{description}</description>
                <content:encoded><![CDATA[<p>The vote was <b>31 to 12</b>.</p>]]></content:encoded>
                <pubDate>Mon, 30 Nov 2026 10:00:00 GMT</pubDate></item>"#
            )
        };
        let doc = |extra: &str| {
            format!(
                r#"<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"
                xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>T</title>
                {}{extra}</channel></rss>"#,
                item("Budget passed after a long night.")
            )
        };
        let clean = parse(doc("").as_bytes(), None, &url()).unwrap();
        let broken = r#"<item><title>Storm</title><description><![CDATA[<p>never closed</p></description></item>"#;
        let repaired = parse(doc(broken).as_bytes(), None, &url()).unwrap();
        assert!(repaired.warnings.iter().any(|w| w.contains("tolerant parser")), "{:?}", repaired.warnings);
        let (a, b) = (&clean.entries[0], &repaired.entries[0]);
        assert_eq!(a.categories, ["Politics", "Local"]);
        assert_eq!(a.author.as_deref(), Some("Jane Roe, Max Mustermann"));
        assert_eq!(a.summary, "Budget passed after a long night.");
        assert_eq!((&b.categories, &b.author, &b.summary), (&a.categories, &a.author, &a.summary));
        assert_eq!(
            (&b.title, &b.link, &b.content_html, b.published),
            (&a.title, &a.link, &a.content_html, a.published)
        );
    }

    #[test]
    fn authors_are_names_in_every_format() {
        let doc = br#"<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>T</title>
            <item><title>a</title><guid>1</guid><author>jane@x.example (Jane Roe)</author></item>
            <item><title>b</title><guid>2</guid><dc:creator>Max Mustermann</dc:creator></item>
            </channel></rss>"#;
        let feed = parse(doc, None, &url()).unwrap();
        let authors: Vec<Option<&str>> = feed.entries.iter().map(|e| e.author.as_deref()).collect();
        assert_eq!(authors, [Some("Jane Roe"), Some("Max Mustermann")]);
    }

    #[test]
    fn reading_stops_at_its_deadline_with_a_specific_error() {
        let doc = br#"<rss version="2.0"><channel><title>T</title>
            <item><title>a</title><link>http://x.example/1</link></item>
            <item><title>b</title><link>http://x.example/2</link></item></channel></rss>"#;
        let past = Instant::now().checked_sub(Duration::from_secs(1)).unwrap();
        let err = parse_before(doc, None, &url(), past, chrono::Utc::now()).unwrap_err();
        assert_eq!(err, ParseError::TooSlow { read: 0, total: 2 });
        assert!(err.to_string().contains("longer than 10s; stopped after 0 of 2 entries"), "{err}");
        // Broken XML goes to the tolerant reader, which keeps the same deadline.
        let broken = br#"<rss version="2.0"><channel><title>T</title>
            <item><title>a &bogus; b</title><link>http://x.example/1</link></item></channel>"#;
        assert!(matches!(
            parse_before(broken, None, &url(), past, chrono::Utc::now()),
            Err(ParseError::TooSlow { .. })
        ));
    }

    #[test]
    fn errors_name_kind_and_position_never_the_document_text() {
        let doc = br#"{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[{"id":"<script>evil</script>"}], "x": }"#;
        let err = parse(doc, Some("application/feed+json"), &url()).unwrap_err().to_string();
        assert!(err.starts_with("malformed JSON: syntax error at line 1 column"), "{err}");
        let doc = br#"{"version":"https://jsonfeed.org/version/1.1","title":["<script>evil</script>"],"items":[]}"#;
        let err = parse(doc, Some("application/feed+json"), &url()).unwrap_err().to_string();
        assert!(err.contains("wrong type or shape at line 1"), "{err}");
        assert!(!err.contains("evil"), "{err}");
        assert_eq!(redact("expected `</item>`, found `</evil-tag>` in \"x\""), "expected `…`, found `…` in \"…\"");
        assert!(redact(&"long ".repeat(100)).chars().count() <= MESSAGE_CHARS + 1);
    }

    #[test]
    fn a_document_of_too_many_entries_is_read_up_to_the_kept_ones() {
        let mut doc = String::from(r#"<rss version="2.0"><channel><title>T</title>"#);
        for i in 0..1500 {
            doc.push_str(&format!("<item><title>n{i}</title><link>http://x.example/{i}</link></item>"));
        }
        doc.push_str("<ttl>60</ttl></channel></rss>");
        let scan = Scan::of(&doc, bounds::MAX_ENTRIES);
        let cut = cut_at(&doc, scan.past_limit.unwrap()).unwrap();
        assert_eq!((scan.items, scan.expected()), (1500, 1500));
        assert!(cut.ends_with("<item><title>n999</title><link>http://x.example/999</link></item></channel></rss>"));
        let feed = parse(doc.as_bytes(), None, &url()).unwrap();
        assert_eq!(feed.entries.len(), bounds::MAX_ENTRIES);
        assert_eq!((feed.entries[0].title.as_str(), feed.entries[999].title.as_str()), ("n0", "n999"));
        assert_eq!(feed.warnings, ["1500 entries: only the newest 1000 were read"]);
        assert_eq!(Scan::of(&doc, 2000).past_limit, None, "a document within the bound is read whole");
        // An entry tag in CDATA fools the count (one entry fewer is kept), not the reading.
        let tricky = doc.replacen("<title>n3</title>", "<title><![CDATA[x <item> y]]></title>", 1);
        let feed = parse(tricky.as_bytes(), None, &url()).unwrap();
        assert_eq!(feed.entries.len(), bounds::MAX_ENTRIES - 1);
        assert_eq!(feed.entries[3].title, "x y", "titles are plain text");
    }

    #[test]
    fn publisher_hints_are_read() {
        let doc = r#"<rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel>
            <title>T</title><ttl>30</ttl><sy:updatePeriod> hourly </sy:updatePeriod>
            <sy:updateFrequency>2</sy:updateFrequency></channel></rss>"#;
        let feed = parse(doc.as_bytes(), None, &url()).unwrap();
        assert_eq!(feed.min_interval, Some(Duration::from_secs(1800)), "the longer of ttl and the sy period");
        let doc =
            r#"<rss version="2.0"><channel><title>T</title><sy:updatePeriod>daily</sy:updatePeriod></channel></rss>"#;
        assert_eq!(parse(doc.as_bytes(), None, &url()).unwrap().min_interval, Some(Duration::from_secs(86_400)));
    }

    #[test]
    fn entry_tags_inside_cdata_do_not_replace_feed_rs() {
        let doc = r#"<rss version="2.0"><channel><title>T</title>
            <item><title>Code</title><link>http://x.example/1</link>
            <description><![CDATA[<pre><item>not an entry</item> <entry>nor this</entry></pre>]]></description></item>
            </channel></rss>"#;
        let feed = parse(doc.as_bytes(), None, &url()).unwrap();
        assert_eq!(feed.entries.len(), 1);
        assert!(feed.warnings.is_empty(), "{:?}", feed.warnings);
    }

    #[test]
    fn title_less_entries_are_normal_in_some_feeds() {
        let doc = r#"<rss version="2.0"><channel><title>Microblog</title>
            <item><description>just a thought</description><link>http://m.example/1</link></item>
            <item><description>another one</description><link>http://m.example/2</link></item>
            </channel></rss>"#;
        let feed = parse(doc.as_bytes(), None, &url()).unwrap();
        assert!(feed.entries.iter().all(|e| e.title.is_empty()));
        assert!(feed.warnings.is_empty(), "{:?}", feed.warnings);
    }

    #[test]
    fn json_feed_text_is_escaped_into_html() {
        let doc = r#"{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[
            {"id":"1","url":"http://j.example/1","title":"A < B","content_text":"x <y> & z"}]}"#;
        let feed = parse(doc.as_bytes(), Some("application/feed+json"), &url()).unwrap();
        assert_eq!(feed.format, "JSON Feed");
        assert_eq!(feed.entries[0].title, "A < B");
        assert_eq!(feed.entries[0].content_html, "x &lt;y&gt; &amp; z");
        assert_eq!(feed.entries[0].guid.as_deref(), Some("1"));
    }
}
