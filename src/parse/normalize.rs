//! feed-rs's model to storyline's [`Entry`]: plain titles, absolute links, sanitized HTML,
//! dates with fallbacks and the canonical link. Pure; no I/O.

use feed_rs::model::{Entry as RawEntry, Feed, FeedType, Link, Text};
use url::Url;

use std::time::Instant;

use super::{html, ParseError};
use crate::dedupe::{canonical, canonical_url};
use crate::model::{is_web_link, Entry, ParsedFeed};

/// Longest plain-text summary kept per entry, in characters.
pub(super) const SUMMARY_CHARS: usize = 600;

/// Human name of a feed format.
pub fn format_name(kind: &FeedType) -> &'static str {
    match kind {
        FeedType::Atom => "Atom",
        FeedType::JSON => "JSON Feed",
        FeedType::RSS0 => "RSS 0.9x",
        FeedType::RSS1 => "RSS 1.0",
        FeedType::RSS2 => "RSS 2.0",
    }
}

/// Normalizes a parsed feed received from `final_url`, giving up past `deadline`.
pub fn feed(raw: Feed, final_url: &Url, charset: String, deadline: Instant) -> Result<ParsedFeed, ParseError> {
    let mut dropped = DroppedLinks::default();
    let site_link = pick_link(&raw.links).and_then(|l| dropped.web(absolute_url(&l.href, None, final_url), None));
    // Relative entry URLs resolve against xml:base, then the feed's own link, then the
    // URL the document came from.
    let base = site_link.clone().unwrap_or_else(|| final_url.clone());
    let sanitizer = html::sanitizer(&base);
    let total = raw.entries.len();
    let mut entries = Vec::with_capacity(total);
    for (i, e) in raw.entries.into_iter().enumerate() {
        if Instant::now() > deadline {
            return Err(ParseError::TooSlow { read: i, total });
        }
        entries.push(entry(e, &base, &sanitizer, &mut dropped, i));
    }
    Ok(ParsedFeed {
        format: format_name(&raw.feed_type).to_string(),
        charset,
        title: raw.title.map(|t| text(&t)).filter(|t| !t.is_empty()),
        site_link: site_link.map(Into::into),
        entries,
        min_interval: None,
        warnings: dropped.warning().into_iter().collect(),
    })
}

/// Entry numbers shown in the warning about dropped links; the rest are counted.
const DROPPED_SHOWN: usize = 5;

/// Links refused because their scheme is not http(s), for one warning per document.
#[derive(Debug, Default)]
pub(super) struct DroppedLinks {
    feed: bool,
    entries: Vec<usize>,
}

impl DroppedLinks {
    /// `url` if it is an http(s) link; otherwise notes the drop for entry `entry` (the
    /// feed's own link when `None`).
    pub(super) fn web(&mut self, url: Option<Url>, entry: Option<usize>) -> Option<Url> {
        let url = url?;
        if is_web_link(url.as_str()) {
            return Some(url);
        }
        match entry {
            Some(i) => self.entries.push(i + 1),
            None => self.feed = true,
        }
        None
    }

    /// "link dropped: scheme not allowed" with where, or `None` when nothing was dropped.
    /// Names no part of the refused URL: warnings are published through `/api/feeds`.
    pub(super) fn warning(&self) -> Option<String> {
        let mut whose = Vec::new();
        if self.feed {
            whose.push("the feed's own".to_string());
        }
        if !self.entries.is_empty() {
            let mut shown: Vec<String> = self.entries.iter().take(DROPPED_SHOWN).map(usize::to_string).collect();
            if self.entries.len() > DROPPED_SHOWN {
                shown.push(format!("and {} more", self.entries.len() - DROPPED_SHOWN));
            }
            whose.push(format!("entry {}", shown.join(", ")));
        }
        (!whose.is_empty()).then(|| format!("link dropped: scheme not allowed ({})", whose.join("; ")))
    }
}

/// Plain text of a feed-rs text construct.
fn text(t: &Text) -> String {
    html::to_text(&t.content)
}

/// The alternate (or first) link of a list.
fn pick_link(links: &[Link]) -> Option<&Link> {
    links.iter().find(|l| matches!(l.rel.as_deref(), None | Some("alternate"))).or_else(|| links.first())
}

/// Makes `href` absolute against xml:base, then `base`. Any scheme: callers keep only
/// web links through [`DroppedLinks::web`].
pub(super) fn absolute_url(href: &str, xml_base: Option<&str>, base: &Url) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() {
        return None;
    }
    if let Ok(url) = Url::parse(href) {
        return Some(url);
    }
    let base = xml_base.and_then(|b| base.join(b).ok()).unwrap_or_else(|| base.clone());
    base.join(href).ok()
}

fn entry(
    raw: RawEntry,
    base: &Url,
    sanitizer: &ammonia::Builder<'static>,
    dropped: &mut DroppedLinks,
    index: usize,
) -> Entry {
    let guid = Some(raw.id.trim().to_string()).filter(|g| !g.is_empty());
    let xml_base = raw.base.as_deref();
    // The link parsed once, for its text and its canonical form.
    let link = pick_link(&raw.links).and_then(|l| dropped.web(absolute_url(&l.href, xml_base, base), Some(index)));
    let (link, canonical_link) = match link {
        Some(url) => (Some(url.to_string()), canonical(url)),
        // A permalink guid is the link when the entry has none.
        None => {
            let canonical = guid.as_deref().and_then(canonical_url);
            (guid.clone().filter(|_| canonical.is_some()), canonical)
        }
    };
    let owned_sanitizer;
    let sanitizer = match xml_base.and_then(|b| base.join(b).ok()) {
        Some(b) if &b != base => {
            owned_sanitizer = html::sanitizer(&b);
            &owned_sanitizer
        }
        _ => sanitizer,
    };
    let (content_html, summary_text) = body_html(&raw, sanitizer);
    let summary_source = summary_text
        .or_else(|| raw.summary.as_ref().map(text))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| html::to_text(&content_html));
    // Most permalink guids are the link itself: canonicalise once.
    let guid_url = if guid == link { canonical_link.clone() } else { guid.as_deref().and_then(canonical_url) };
    Entry {
        canonical_link,
        guid_url,
        link,
        guid,
        title: raw.title.as_ref().map(text).unwrap_or_default(),
        summary: crate::text::shorten(&summary_source, SUMMARY_CHARS),
        content_html,
        author: Some(raw.authors.iter().map(person_name).filter(|n| !n.is_empty()).collect::<Vec<_>>().join(", "))
            .filter(|a| !a.is_empty()),
        published: raw.published.or(raw.updated),
        updated: raw.updated,
        categories: raw
            .categories
            .iter()
            .map(|c| html::to_text(c.label.as_deref().unwrap_or(&c.term)))
            .filter(|c| !c.is_empty())
            .collect(),
        filtered: None,
    }
}

/// The entry body as sanitized HTML: the full content when present, else the summary.
/// When the body is a simple HTML summary, its plain text comes along from the same
/// reading (most RSS items carry only a description).
fn body_html(raw: &RawEntry, sanitizer: &ammonia::Builder<'_>) -> (String, Option<String>) {
    let (body, is_html) = match (&raw.content, &raw.summary) {
        (Some(c), _) if c.body.as_deref().is_some_and(|b| !b.trim().is_empty()) => {
            (c.body.as_deref().unwrap_or_default(), c.content_type.subty() != "plain")
        }
        (_, Some(s)) => {
            let is_html = s.content_type.subty() != "plain" || looks_like_html(&s.content);
            if let Some((clean, text)) = is_html.then(|| html::clean_and_text(&s.content)).flatten() {
                return (clean, Some(text));
            }
            (s.content.as_str(), is_html)
        }
        _ => return (String::new(), None),
    };
    let html = if is_html { html::sanitize(sanitizer, body) } else { crate::text::escape_text(body.trim()) };
    (html, None)
}

/// RSS descriptions are typed text/plain by feed-rs but usually carry escaped HTML.
pub(super) fn looks_like_html(s: &str) -> bool {
    s.contains('<') && s.contains('>')
}

/// The name to show for an author. RSS's `<author>` reaches feed-rs as a person named
/// "author" whose email holds the element's text, by the spec `email (Name)`: the name in
/// parentheses, else a name before `<email>`, else the text as written.
fn person_name(p: &feed_rs::model::Person) -> String {
    match (&*p.name, &p.email) {
        ("author", Some(text)) => rss_author(&html::to_text(text)),
        _ => html::to_text(&p.name),
    }
}

fn rss_author(text: &str) -> String {
    let t = text.trim();
    if let (Some(open), true) = (t.find('('), t.ends_with(')')) {
        let name = t[open + 1..t.len() - 1].trim();
        if !name.is_empty() {
            return name.to_string();
        }
    }
    match t.find('<') {
        Some(lt) if !t[..lt].trim().is_empty() => t[..lt].trim().to_string(),
        _ => t.to_string(),
    }
}

#[cfg(test)]
mod author_tests {
    use super::rss_author;

    #[test]
    fn rss_authors_are_read_as_names() {
        assert_eq!(rss_author("jane@x.example (Jane Roe)"), "Jane Roe");
        assert_eq!(rss_author("Jane Roe <jane@x.example>"), "Jane Roe");
        assert_eq!(rss_author("jane@x.example"), "jane@x.example");
        assert_eq!(rss_author("Jane Roe"), "Jane Roe");
        assert_eq!(rss_author("jane@x.example ()"), "jane@x.example ()");
    }
}
