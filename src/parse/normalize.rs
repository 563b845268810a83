//! feed-rs's model to storyline's [`ParsedFeed`]: the feed's title and home page, and each
//! entry's facts handed to the one entry builder (`entry`); also the link and body
//! helpers both readers use. Pure; no I/O.

use feed_rs::model::{Entry as RawEntry, Feed, FeedType, Link, Text};
use url::Url;

use std::time::Instant;

use super::entry::{self, Facts, Kind, Markup};
use super::{html, ParseError};
use crate::model::{is_web_link, Enclosure, Image, ParsedFeed};

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
        entries.push(entry::build(facts(e), &base, &sanitizer, &mut dropped, i));
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

/// The facts of a feed-rs entry, for the one entry builder (its strings moved, not copied).
fn facts(raw: RawEntry) -> Facts {
    let (enclosures, images) = media(&raw);
    let comments = raw
        .links
        .iter()
        .find(|l| l.rel.as_deref() == Some("replies") && l.media_type.as_deref().is_none_or(|t| t == "text/html"))
        .map(|l| l.href.clone());
    Facts {
        enclosures,
        images,
        comments,
        guid: Some(raw.id.trim().to_string()).filter(|g| !g.is_empty()),
        links: pick_link(&raw.links).map(|l| l.href.clone()).into_iter().collect(),
        authors: raw.authors.iter().map(person_name).collect(),
        categories: raw.categories.into_iter().map(|c| c.label.unwrap_or(c.term)).collect(),
        xml_base: raw.base,
        title: raw.title.map(|t| t.content).unwrap_or_default(),
        content: raw.content.and_then(|c| {
            let kind = if c.content_type.subty() == "plain" { Kind::Text } else { Kind::Html };
            c.body.map(|text| Markup { text, kind })
        }),
        summary: raw.summary.map(|s| {
            let kind = if s.content_type.subty() == "plain" { Kind::Guess } else { Kind::Html };
            Markup { text: s.content, kind }
        }),
        published: raw.published,
        updated: raw.updated,
    }
}

/// Enclosures and image candidates of a feed-rs entry: Media RSS objects (RSS
/// enclosures and iTunes images reach feed-rs's model as those too), then Atom's
/// enclosure links; thumbnails are the best images, then image content.
fn media(raw: &RawEntry) -> (Vec<Enclosure>, Vec<Image>) {
    let mut enclosures = Vec::new();
    let mut images = Vec::new();
    let mut content_images = Vec::new();
    for object in &raw.media {
        let title = object.title.as_ref().map(|t| t.content.clone());
        for thumbnail in &object.thumbnails {
            let i = &thumbnail.image;
            images.push(Image { url: i.uri.clone(), width: i.width, height: i.height });
        }
        for c in &object.content {
            let Some(url) = &c.url else { continue };
            let enclosure = Enclosure {
                url: url.to_string(),
                mime_type: c.content_type.as_ref().map(|t| t.to_string()),
                length: c.size,
                duration_secs: c.duration.or(object.duration).map(|d| d.as_secs()),
                title: title.clone(),
            };
            if enclosure.mime_type_or_guess().starts_with("image/") {
                content_images.push(Image { url: enclosure.url.clone(), width: c.width, height: c.height });
            }
            enclosures.push(enclosure);
        }
    }
    images.extend(content_images);
    for l in raw.links.iter().filter(|l| l.rel.as_deref() == Some("enclosure")) {
        enclosures.push(Enclosure {
            url: l.href.clone(),
            mime_type: l.media_type.clone(),
            length: l.length,
            duration_secs: None,
            title: l.title.clone(),
        });
    }
    (enclosures, images)
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

pub(super) fn rss_author(text: &str) -> String {
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
