//! One entry builder for both readers: the facts of one entry as feed-rs's model or the
//! tolerant tree gives them ([`Facts`]), made into storyline's [`Entry`] by one set of
//! rules (which link, body and summary, authors, categories), so an entry read with
//! repairs keeps every field that a cleanly read one keeps. Pure; each reader only
//! gathers facts, and must not shape an entry itself.

use chrono::{DateTime, Utc};
use url::Url;

use super::html;
use super::normalize::{absolute_url, looks_like_html, DroppedLinks};
use crate::dedupe::{canonical, canonical_url};
use crate::model::{is_web_link, Enclosure, Entry, Image, Media};

/// Longest plain-text summary kept per entry, in characters.
const SUMMARY_CHARS: usize = 600;

/// What a body's markup is said to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Declared HTML or XHTML.
    Html,
    /// Declared plain text.
    Text,
    /// Undeclared (RSS descriptions typed text/plain by feed-rs, untyped elements):
    /// HTML when it looks like markup.
    Guess,
}

/// A body element's markup and what it is said to be.
#[derive(Debug, Clone)]
pub(super) struct Markup {
    pub text: String,
    pub kind: Kind,
}

impl Markup {
    fn is_html(&self) -> bool {
        match self.kind {
            Kind::Html => true,
            Kind::Text => false,
            Kind::Guess => looks_like_html(&self.text),
        }
    }
}

/// One entry as its reader found it, before any rule is applied.
#[derive(Debug, Clone, Default)]
pub(super) struct Facts {
    /// The source's id for it, trimmed; never invented.
    pub guid: Option<String>,
    /// Candidate links, best first (its own link, then a permalink guid or an enclosure);
    /// a guid that is an http(s) URL comes after them all.
    pub links: Vec<String>,
    /// The xml:base in force for it.
    pub xml_base: Option<String>,
    /// Title markup.
    pub title: String,
    /// Full content.
    pub content: Option<Markup>,
    /// Summary or description.
    pub summary: Option<Markup>,
    /// Author names as written.
    pub authors: Vec<String>,
    /// Category labels or terms as written.
    pub categories: Vec<String>,
    pub published: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    /// Attached files, URLs as written (maybe relative).
    pub enclosures: Vec<Enclosure>,
    /// Candidate images, best first (thumbnails, a declared entry image, then image
    /// content), URLs as written.
    pub images: Vec<Image>,
    /// The comments page, as written.
    pub comments: Option<String>,
}

/// The link an entry is published under, with its canonical form: the first candidate
/// that is an http(s) URL once made absolute (the first refused one is noted in
/// `dropped`), else a guid that is one.
pub(super) fn link(
    facts: &Facts,
    base: &Url,
    dropped: &mut DroppedLinks,
    index: usize,
) -> (Option<String>, Option<String>) {
    let mut noted = false;
    for candidate in &facts.links {
        let Some(url) = absolute_url(candidate, facts.xml_base.as_deref(), base) else { continue };
        if is_web_link(url.as_str()) {
            return (Some(url.to_string()), canonical(url));
        }
        if !noted {
            dropped.web(Some(url), Some(index));
            noted = true;
        }
    }
    // A permalink guid is the link when the entry has none.
    match facts.guid.as_deref().and_then(|g| Some((g, canonical_url(g)?))) {
        Some((guid, canonical)) => (Some(guid.to_string()), Some(canonical)),
        None => (None, None),
    }
}

/// The entry the facts describe: links made absolute against xml:base then `base` (only
/// http(s) kept), the body sanitized (full content, else the summary), the summary in
/// plain text (the summary element, else the body), authors joined by ", ".
/// `sanitizer` is the one for `base`; an entry with its own xml:base gets its own.
pub(super) fn build(
    facts: Facts,
    base: &Url,
    sanitizer: &ammonia::Builder<'static>,
    dropped: &mut DroppedLinks,
    index: usize,
) -> Entry {
    let (link, canonical_link) = link(&facts, base, dropped, index);
    let owned_sanitizer;
    let sanitizer = match facts.xml_base.as_deref().and_then(|b| base.join(b).ok()) {
        Some(b) if &b != base => {
            owned_sanitizer = html::sanitizer(&b);
            &owned_sanitizer
        }
        _ => sanitizer,
    };
    let media = media(&facts, base);
    let (content_html, summary_text) = body(&facts, sanitizer);
    let summary_source = summary_text
        .or_else(|| facts.summary.as_ref().map(|s| html::to_text(&s.text)))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| html::to_text(&content_html));
    // Most permalink guids are the link itself: canonicalise once.
    let guid_url =
        if facts.guid == link { canonical_link.clone() } else { facts.guid.as_deref().and_then(canonical_url) };
    let authors: Vec<String> =
        facts.authors.iter().map(|a| crate::text::collapse_whitespace(a)).filter(|a| !a.is_empty()).collect();
    Entry {
        canonical_link,
        guid_url,
        link,
        guid: facts.guid,
        title: html::to_text(&facts.title),
        summary: crate::text::shorten(&summary_source, SUMMARY_CHARS),
        content_html,
        author: Some(authors.join(", ")).filter(|a| !a.is_empty()),
        published: facts.published.or(facts.updated),
        updated: facts.updated,
        categories: facts.categories.iter().map(|c| html::to_text(c)).filter(|c| !c.is_empty()).collect(),
        media,
        filtered: None,
    }
}

/// The entry's media with every URL made absolute (against its xml:base, then `base`)
/// and only http(s) ones kept, each enclosure URL once; the image is the first candidate,
/// else the first enclosure that is an image.
fn media(facts: &Facts, base: &Url) -> Media {
    let web =
        |href: &str| absolute_url(href, facts.xml_base.as_deref(), base).map(String::from).filter(|u| is_web_link(u));
    let mut enclosures: Vec<Enclosure> = Vec::with_capacity(facts.enclosures.len());
    for e in &facts.enclosures {
        let Some(url) = web(&e.url) else { continue };
        if enclosures.iter().any(|known| known.url == url) {
            continue;
        }
        enclosures.push(Enclosure {
            url,
            mime_type: e.mime_type.as_deref().map(str::trim).filter(|t| is_mime_type(t)).map(str::to_ascii_lowercase),
            // Podcast feeds often declare 0 for "unknown".
            length: e.length.filter(|l| *l > 0),
            duration_secs: e.duration_secs.filter(|d| *d > 0),
            title: e.title.as_deref().map(html::to_text).filter(|t| !t.is_empty()),
        });
    }
    let image = facts.images.iter().find_map(|i| Some(Image { url: web(&i.url)?, ..i.clone() })).or_else(|| {
        let e = enclosures.iter().find(|e| e.mime_type_or_guess().starts_with("image/"))?;
        Some(Image { url: e.url.clone(), width: None, height: None })
    });
    Media { enclosures, image, comments: facts.comments.as_deref().and_then(web) }
}

/// Longest MIME type kept (RFC 6838 caps each of its two names at 127 characters).
const MIME_TYPE_BYTES: usize = 255;

/// Whether `t` can be a MIME type, parameters allowed: `type/subtype`, printable ASCII
/// without spaces around, quotes or angle brackets (what is kept is published as is).
fn is_mime_type(t: &str) -> bool {
    t.len() <= MIME_TYPE_BYTES
        && t.contains('/')
        && t.bytes().all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'<' | b'>' | b'\\') || b == b' ')
}

/// The body as sanitized HTML: the full content when present, else the summary. When
/// the body is an HTML summary, its plain text comes along from the same reading (most
/// RSS items carry only a description).
fn body(facts: &Facts, sanitizer: &ammonia::Builder<'_>) -> (String, Option<String>) {
    let markup = match (&facts.content, &facts.summary) {
        (Some(c), _) if !c.text.trim().is_empty() => c,
        (_, Some(s)) => {
            if let Some((clean, text)) = s.is_html().then(|| html::clean_and_text(&s.text)).flatten() {
                return (clean, Some(text));
            }
            s
        }
        _ => return (String::new(), None),
    };
    let html = if markup.is_html() {
        html::sanitize(sanitizer, &markup.text)
    } else {
        crate::text::escape_text(markup.text.trim())
    };
    (html, None)
}
