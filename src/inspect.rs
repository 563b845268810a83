//! `storyline inspect`: how storyline reads one feed (a URL or a file), without storing
//! anything. What a user runs when a feed "shows nothing".
//!
//! Wiring and presentation only: fetching is `fetch`'s, reading is `parse`'s, identity is
//! `dedupe`'s. Must not open the store.

use std::fmt::Write as _;

use serde::Serialize;
use url::Url;

use crate::config::FetchSettings;
use crate::fetch::Fetcher;
use crate::model::{FetchOutcome, Validators};
use crate::parse;

/// What reading one feed showed.
#[derive(Debug, Default, Serialize)]
pub struct Inspection {
    /// The URL or file read.
    pub source: String,
    /// Where the body finally came from (after redirects), for URLs.
    pub final_url: Option<String>,
    /// HTTP status, for URLs.
    pub http_status: Option<u16>,
    /// The Content-Type header, for URLs.
    pub content_type: Option<String>,
    /// Body size after decompression.
    pub bytes: usize,
    /// Detected format, or null when the body is not a feed.
    pub format: Option<String>,
    /// The charset and how it was decided.
    pub charset: Option<String>,
    /// Why the body could not be read, when it could not.
    pub error: Option<String>,
    /// What had to be repaired or guessed.
    pub warnings: Vec<String>,
    /// The feed's own title.
    pub title: Option<String>,
    /// The feed's home page.
    pub site_link: Option<String>,
    /// Every entry as storyline normalizes it.
    pub entries: Vec<InspectedEntry>,
    /// For a web page: the feeds found from it (see `discover`), each confirmed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub feeds_found: Vec<crate::discover::Found>,
}

/// One entry's normalized fields.
#[derive(Debug, Serialize)]
pub struct InspectedEntry {
    /// How storyline tells this entry apart (`guid:`, `link:` or `hash:`).
    pub identity: String,
    /// Plain-text title.
    pub title: String,
    /// Absolute link.
    pub link: Option<String>,
    /// The link as compared across feeds (no fragment, no tracking parameters).
    pub canonical_link: Option<String>,
    /// The source's guid.
    pub guid: Option<String>,
    /// RFC 3339, or null when the source gave no readable date.
    pub published: Option<String>,
    /// RFC 3339.
    pub updated: Option<String>,
    /// Authors.
    pub author: Option<String>,
    /// The plain-text summary, shortened.
    pub summary: String,
    /// The source's categories.
    pub categories: Vec<String>,
    /// Enclosures, image and comments link.
    pub media: crate::model::Media,
}

/// Reads `target`: an http(s) URL is fetched with `settings`, asked as `source` says (a
/// configured feed's User-Agent, headers and credentials); anything else is a file.
pub async fn inspect(
    target: &str,
    settings: &FetchSettings,
    source: Option<&crate::fetch::Source>,
) -> anyhow::Result<Inspection> {
    let mut out = Inspection { source: target.to_string(), ..Inspection::default() };
    let mut page_url = None;
    let fetcher = Fetcher::new(settings)?;
    let (bytes, content_type, base) = match Url::parse(target) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => {
            // Shown as every address of a source is: without credentials or private
            // query parameters (a configured feed's URL may carry a token).
            out.source = crate::model::public_url(target);
            page_url = Some(url.clone());
            let report = fetcher.fetch_as(&url, &Validators::default(), source).await;
            match report.outcome {
                FetchOutcome::Done(body) => {
                    out.final_url = Some(crate::model::public_url(body.final_url.as_str()));
                    out.http_status = Some(body.status);
                    out.content_type.clone_from(&body.content_type);
                    (body.bytes, body.content_type, body.final_url)
                }
                FetchOutcome::NotModified => {
                    out.http_status = Some(304);
                    out.error = Some("the server answered 304 Not Modified to a request without validators".into());
                    return Ok(out);
                }
                FetchOutcome::Failed(failure) => {
                    out.http_status = failure.http_status;
                    out.error = Some(failure.message);
                    return Ok(out);
                }
            }
        }
        _ => {
            let path = std::fs::canonicalize(target).map_err(|e| anyhow::anyhow!("cannot read {target}: {e}"))?;
            let bytes = std::fs::read(&path).map_err(|e| anyhow::anyhow!("cannot read {target}: {e}"))?;
            let base = Url::from_file_path(&path).map_err(|()| anyhow::anyhow!("{target}: not an absolute path"))?;
            (bytes, None, base)
        }
    };
    out.bytes = bytes.len();
    match parse::parse(&bytes, content_type.as_deref(), &base) {
        Ok(feed) => {
            out.format = Some(feed.format);
            out.charset = Some(feed.charset);
            out.warnings = feed.warnings;
            out.title = feed.title;
            out.site_link = feed.site_link;
            out.entries = feed.entries.iter().map(entry).collect();
        }
        // A web page: the feeds it leads to, instead of a failure.
        Err(parse::ParseError::Html) if page_url.is_some() => {
            let url = page_url.expect("checked above");
            match crate::discover::discover(&url, &fetcher).await {
                Ok(crate::discover::Discovery::Page { feeds, rejected }) if feeds.is_empty() => {
                    out.error = Some(format!(
                        "the response is an HTML page, not a feed, and none of the {} feed(s) it suggests could be read",
                        rejected.len()
                    ));
                }
                Ok(crate::discover::Discovery::Page { feeds, .. }) => out.feeds_found = feeds,
                Ok(crate::discover::Discovery::Feed { feed }) => out.feeds_found = vec![feed],
                Err(e) => out.error = Some(e.to_string()),
            }
        }
        Err(e) => out.error = Some(e.to_string()),
    }
    Ok(out)
}

fn entry(e: &crate::model::Entry) -> InspectedEntry {
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.to_rfc3339());
    InspectedEntry {
        identity: crate::dedupe::identity(e),
        title: e.title.clone(),
        link: e.link.clone(),
        canonical_link: e.canonical_link.clone(),
        guid: e.guid.clone(),
        published: time(e.published),
        updated: time(e.updated),
        author: e.author.clone(),
        summary: crate::text::shorten(&e.summary, 160),
        categories: e.categories.clone(),
        media: e.media.clone(),
    }
}

impl Inspection {
    /// The human-readable report.
    pub fn text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "source:   {}", self.source);
        if let Some(u) = &self.final_url {
            let _ = writeln!(s, "fetched:  {u} (HTTP {})", self.http_status.unwrap_or(0));
        }
        if let Some(ct) = &self.content_type {
            let _ = writeln!(s, "type:     {ct}");
        }
        let _ = writeln!(s, "bytes:    {}", self.bytes);
        if let Some(e) = &self.error {
            let _ = writeln!(s, "error:    {e}");
        }
        for (k, v) in [("format:", &self.format), ("charset:", &self.charset), ("title:", &self.title)] {
            if let Some(v) = v {
                let _ = writeln!(s, "{k:<9} {v}");
            }
        }
        for w in &self.warnings {
            let _ = writeln!(s, "warning:  {w}");
        }
        if !self.feeds_found.is_empty() {
            let _ = writeln!(s, "an HTML page; feeds found from it:");
            for f in &self.feeds_found {
                let title = f.title.as_deref().unwrap_or("(untitled)");
                let _ = writeln!(s, "  {}  {title} ({}, {} entries)", f.url, f.format, f.entries);
            }
            return s;
        }
        let _ = writeln!(s, "entries:  {}", self.entries.len());
        for (i, e) in self.entries.iter().enumerate() {
            let _ = writeln!(s, "\n[{}] {}", i + 1, if e.title.is_empty() { "(no title)" } else { &e.title });
            let none = || "-".to_string();
            let _ = writeln!(s, "    link:      {}", e.link.clone().unwrap_or_else(none));
            let _ = writeln!(s, "    guid:      {}", e.guid.clone().unwrap_or_else(none));
            let _ = writeln!(s, "    identity:  {}", e.identity);
            let _ = writeln!(
                s,
                "    published: {}",
                e.published.clone().unwrap_or_else(|| "- (first seen is used)".into())
            );
            if let Some(u) = &e.updated {
                let _ = writeln!(s, "    updated:   {u}");
            }
            if let Some(a) = &e.author {
                let _ = writeln!(s, "    author:    {a}");
            }
            if !e.summary.is_empty() {
                let _ = writeln!(s, "    summary:   {}", e.summary);
            }
            if !e.categories.is_empty() {
                let _ = writeln!(s, "    category:  {}", e.categories.join(", "));
            }
            for f in &e.media.enclosures {
                let length = f.length.map(|l| format!(", {l} bytes")).unwrap_or_default();
                let duration = f.duration_secs.map(|d| format!(", {d} s")).unwrap_or_default();
                let _ = writeln!(s, "    enclosure: {} ({}{length}{duration})", f.url, f.mime_type_or_guess());
            }
            if let Some(image) = &e.media.image {
                let size = image.width.zip(image.height).map(|(w, h)| format!(" ({w}x{h})")).unwrap_or_default();
                let _ = writeln!(s, "    image:     {}{size}", image.url);
            }
            if let Some(c) = &e.media.comments {
                let _ = writeln!(s, "    comments:  {c}");
            }
        }
        s
    }
}
