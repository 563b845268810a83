//! The merged feed as Atom 1.0, RSS 2.0 and JSON Feed 1.1, the series digest, and the
//! HTML page of current series. Pure: items in, text out.
//!
//! Must not do I/O; callers fetch the items from the store and decide where text goes.

mod atom;
pub mod html;
mod json;
mod rss;

use chrono::{DateTime, Utc};
use url::Url;

pub use atom::{atom, digest};
pub use json::json;
pub use rss::rss;

use crate::model::{Item, Source};
use crate::text::escape_text;

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Atom 1.0.
    Atom,
    /// RSS 2.0.
    Rss,
    /// JSON Feed 1.1.
    Json,
}

impl Format {
    /// File extension used in routes (`feed.atom`).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Atom => "atom",
            Format::Rss => "rss",
            Format::Json => "json",
        }
    }

    /// The Content-Type to serve it with.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Json => "application/feed+json; charset=utf-8",
        }
    }
}

/// What a rendered feed says about itself.
#[derive(Debug, Clone)]
pub struct FeedMeta {
    /// Feed title.
    pub title: String,
    /// Public base URL (ends with `/`); the alternate link.
    pub base_url: Url,
    /// Path of this feed below the base, e.g. `feed` (the extension is added per format,
    /// before a query string: `search?q=x` is `search.atom?q=x` in Atom).
    pub path: String,
    /// When anything in it last changed.
    pub updated: DateTime<Utc>,
}

impl FeedMeta {
    /// The feed's own URL in `format`.
    pub fn self_url(&self, format: Format) -> String {
        match self.path.split_once('?') {
            Some((path, query)) => format!("{}{path}.{}?{query}", self.base_url, format.extension()),
            None => format!("{}{}.{}", self.base_url, self.path, format.extension()),
        }
    }
}

/// Renders items in a format.
pub fn render(format: Format, meta: &FeedMeta, items: &[Item]) -> String {
    match format {
        Format::Atom => atom(meta, items),
        Format::Rss => rss(meta, items),
        Format::Json => json(meta, items),
    }
}

/// Headlines as an HTML list, linked where they have a link.
/// A Media RSS thumbnail element for `image`, with its size when known, on one line.
fn media_thumbnail(out: &mut String, image: &crate::model::Image) {
    use std::fmt::Write;
    let _ = write!(out, "<media:thumbnail url=\"{}\"", xml_escape(&image.url));
    if let Some(w) = image.width {
        let _ = write!(out, " width=\"{w}\"");
    }
    if let Some(h) = image.height {
        let _ = write!(out, " height=\"{h}\"");
    }
    out.push_str("/>\n");
}

fn headline_list(headlines: &[crate::model::Related]) -> String {
    let mut html = String::from("<ul>");
    for h in headlines {
        match &h.link {
            Some(l) => html.push_str(&format!("<li><a href=\"{}\">{}</a></li>", xml_escape(l), xml_escape(&h.title))),
            None => html.push_str(&format!("<li>{}</li>", xml_escape(&h.title))),
        }
    }
    html.push_str("</ul>");
    html
}

/// The label of an item's series: "TITLE (N)"; none for a series of one item, which is
/// not presented as a series.
pub fn series_label(item: &Item) -> Option<String> {
    item.series_title.as_ref().filter(|_| item.in_story()).map(|t| format!("{t} ({})", item.series_count))
}

/// A series' title as listed: with its count when it is a story.
fn counted(title: &str, count: u64) -> String {
    if crate::model::is_story(count) {
        format!("{title} ({count})")
    } else {
        title.to_string()
    }
}

/// The entry body as published: the item's own content, then, for an item of a story,
/// "In this story: TITLE (N)" linking to the story's page under `base` (readers show
/// neither a category's label nor a related link, so the story is named in the body),
/// with the headlines shown of it, then the other sources.
pub fn entry_html(item: &Item, base: &Url) -> String {
    let mut html = item.content_html.clone();
    if item.in_story() {
        let title = escape_text(item.series_title.as_deref().unwrap_or("this story"));
        let page = escape_text(&format!("{base}series/{}", item.series));
        html.push_str(&format!(
            "<p><strong>In this story: <a href=\"{page}\">{title} ({})</a></strong></p>",
            item.series_count
        ));
        if !item.related.is_empty() {
            html.push_str("<ul>");
            for r in &item.related {
                let (title, publisher) = (escape_text(&r.title), escape_text(&r.publisher));
                match &r.link {
                    Some(link) => {
                        html.push_str(&format!("<li><a href=\"{}\">{title}</a> ({publisher})</li>", escape_text(link)))
                    }
                    None => html.push_str(&format!("<li>{title} ({publisher})</li>")),
                }
            }
            html.push_str("</ul>");
        }
    }
    if !item.also.is_empty() {
        html.push_str("<p>Also reported by: ");
        for (i, s) in item.also.iter().enumerate() {
            if i > 0 {
                html.push_str(", ");
            }
            source_link(&mut html, s);
        }
        html.push_str("</p>");
    }
    html
}

fn source_link(out: &mut String, s: &Source) {
    let name = escape_text(s.feed_title.as_deref().unwrap_or(&s.feed));
    match &s.link {
        Some(link) => out.push_str(&format!("<a href=\"{}\">{name}</a>", escape_text(link))),
        None => out.push_str(&name),
    }
}

/// Escapes text for XML (the same escaping as HTML text gets).
pub use crate::text::escape_text as xml_escape;

/// RFC 3339 as Atom and JSON Feed want it.
pub(crate) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::Related;
    use chrono::TimeZone;

    pub fn sample() -> (FeedMeta, Vec<Item>) {
        let t = Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap();
        let source = |feed: &str, link: &str| Source {
            feed: feed.into(),
            feed_title: Some(format!("{feed} & co")),
            site_link: Some("http://127.0.0.1/".into()),
            link: Some(link.into()),
        };
        let item = Item {
            id: 1,
            uid: "urn:storyline:item:abc".into(),
            title: "Talks <resume> & stall".into(),
            link: Some("http://127.0.0.1/a?x=1&y=2".into()),
            summary: "Summary".into(),
            content_html: "<p>Body \u{1}text</p>".into(),
            author: Some("Ann".into()),
            published: t,
            updated: None,
            first_seen: t,
            series: "1".into(),
            source: source("wire", "http://127.0.0.1/a?x=1&y=2"),
            also: vec![source("paper", "http://127.0.0.1/b")],
            series_title: Some("Talks & truce".into()),
            series_count: 3,
            series_keywords: vec![],
            related: vec![
                Related {
                    title: "Truce <holds>".into(),
                    link: Some("http://127.0.0.1/c".into()),
                    publisher: "Wire".into(),
                    published: t,
                },
                Related { title: "Talks begin".into(), link: None, publisher: "Paper & Co".into(), published: t },
            ],
            tags: vec!["world".into(), "news & views".into()],
            categories: vec![],
            media: crate::model::Media::default(),
        };
        let meta = FeedMeta {
            title: "Storyline".into(),
            base_url: Url::parse("http://127.0.0.1:8080/").unwrap(),
            path: "feed".into(),
            updated: t,
        };
        (meta, vec![item])
    }

    #[test]
    fn escaping_drops_illegal_characters() {
        assert_eq!(xml_escape("a<&>\"'\u{0}\u{1}b\n"), "a&lt;&amp;&gt;&quot;&apos;b\n");
    }

    #[test]
    fn other_sources_and_the_story_are_in_the_body() {
        let (_, items) = sample();
        let (meta, _) = sample();
        let html = entry_html(&items[0], &meta.base_url);
        assert!(html.ends_with("<p>Also reported by: <a href=\"http://127.0.0.1/b\">paper &amp; co</a></p>"), "{html}");
        let story = "<p><strong>In this story: <a href=\"http://127.0.0.1:8080/series/1\">Talks &amp; truce (3)</a>\
                     </strong></p><ul><li><a href=\"http://127.0.0.1/c\">Truce &lt;holds&gt;</a> \
                     (Wire)</li><li>Talks begin (Paper &amp; Co)</li></ul>";
        assert!(html.contains(story), "each related headline names its publisher: {html}");
        assert_eq!(series_label(&items[0]).as_deref(), Some("Talks & truce (3)"));
    }

    #[test]
    fn every_entry_of_a_story_names_and_links_it() {
        let (meta, mut items) = sample();
        // No other headline shown (the story's others are all copies, say): still named.
        items[0].related.clear();
        let html = entry_html(&items[0], &meta.base_url);
        let story =
            "<p><strong>In this story: <a href=\"http://127.0.0.1:8080/series/1\">Talks &amp; truce (3)</a></strong></p>";
        assert!(html.contains(story) && !html.contains("<ul>"), "{html}");
        for format in [Format::Atom, Format::Rss, Format::Json] {
            let text = render(format, &meta, &items);
            assert!(text.contains("series/1") && text.contains("In this story"), "{format:?}: {text}");
        }
        // An item alone in its series is news, not a story: nothing is named.
        items[0].series_count = 1;
        assert!(!entry_html(&items[0], &meta.base_url).contains("In this story"));
    }

    #[test]
    fn entries_carry_their_feeds_tags_as_categories() {
        let (meta, items) = sample();
        let atom = render(Format::Atom, &meta, &items);
        assert!(atom.contains("<category term=\"world\"/>") && atom.contains("<category term=\"news &amp; views\"/>"));
        let rss = render(Format::Rss, &meta, &items);
        assert!(rss.contains("<category>world</category>") && rss.contains("<category>news &amp; views</category>"));
        let json: serde_json::Value = serde_json::from_str(&render(Format::Json, &meta, &items)).unwrap();
        assert_eq!(json["items"][0]["tags"], serde_json::json!(["world", "news & views", "series:1"]));
        let entry = &feed_rs::parser::parse(atom.as_bytes()).unwrap().entries[0];
        let terms: Vec<&str> = entry.categories.iter().map(|c| c.term.as_str()).collect();
        assert_eq!(terms, ["series:1", "world", "news & views"]);
    }

    #[test]
    fn entries_are_by_their_author_else_their_publisher() {
        let (meta, mut items) = sample();
        assert_eq!(items[0].byline(), "Ann");
        items[0].author = None;
        assert_eq!(items[0].byline(), "wire & co", "the feed's own title");
        items[0].source.feed_title = None;
        assert_eq!(items[0].byline(), items[0].source.feed, "else its configured name");
        let atom = render(Format::Atom, &meta, &items);
        assert!(atom.contains(&format!("    <author><name>{}</name></author>", items[0].source.feed)), "{atom}");
        let rss = render(Format::Rss, &meta, &items);
        assert!(rss.contains(&format!("<dc:creator>{}</dc:creator>", items[0].source.feed)), "{rss}");
        let json: serde_json::Value = serde_json::from_str(&render(Format::Json, &meta, &items)).unwrap();
        assert_eq!(json["items"][0]["authors"][0]["name"], items[0].source.feed.as_str());
    }

    #[test]
    fn a_series_of_one_item_is_not_presented_as_a_series() {
        let (meta, mut items) = sample();
        items[0].series_count = 1;
        items[0].related.clear();
        assert_eq!(series_label(&items[0]), None);
        assert!(!entry_html(&items[0], &meta.base_url).contains("In this story"));
        for text in [atom(&meta, &items), rss(&meta, &items)] {
            assert!(!text.contains("(1)") && !text.contains("series:1"), "{text}");
        }
        assert_eq!(counted("Talks", 1), "Talks");
        assert_eq!(counted("Talks", 2), "Talks (2)");
    }
}
