//! Atom 1.0 (RFC 4287).

use std::fmt::Write;

use super::{entry_html, rfc3339, series_label, xml_escape as x, FeedMeta, Format};
use crate::model::{Item, SeriesEntry};
use crate::text::escape_text;

/// The XML declaration and the feed's own elements.
fn head(out: &mut String, meta: &FeedMeta) {
    let self_url = meta.self_url(Format::Atom);
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xmlns:media=\"http://search.yahoo.com/mrss/\">\n");
    let _ = writeln!(out, "  <title>{}</title>", x(&meta.title));
    let _ = writeln!(out, "  <id>{}</id>", x(&self_url));
    let _ = writeln!(out, "  <updated>{}</updated>", rfc3339(meta.updated));
    let _ = writeln!(out, "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>", x(&self_url));
    let _ = writeln!(out, "  <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>", x(meta.base_url.as_str()));
    let _ = writeln!(out, "  <author><name>{}</name></author>", x(&meta.title));
    let _ = writeln!(
        out,
        "  <generator uri=\"{}\" version=\"{}\">storyline</generator>",
        x(crate::model::HOMEPAGE),
        env!("CARGO_PKG_VERSION")
    );
}

/// The items as an Atom 1.0 document; each entry has a `<source>` naming its origin feed.
pub fn atom(meta: &FeedMeta, items: &[Item]) -> String {
    let mut out = String::with_capacity(2048 + items.len() * 2048);
    head(&mut out, meta);
    for item in items {
        entry(&mut out, item, &meta.base_url);
    }
    out.push_str("</feed>\n");
    out
}

/// One entry per series, each updated as its series grows (its id stays, its `updated`
/// moves), listing the series' newest headlines.
pub fn digest(meta: &FeedMeta, series: &[SeriesEntry]) -> String {
    let mut out = String::with_capacity(2048 + series.len() * 1024);
    head(&mut out, meta);
    for s in series {
        let link = format!("{}series/{}.atom", meta.base_url, s.id);
        let mut html = String::new();
        if !s.keywords.is_empty() {
            html.push_str(&format!("<p>{}</p>", escape_text(&s.keywords.join(", "))));
        }
        html.push_str(&super::headline_list(&s.headlines));
        out.push_str("  <entry>\n");
        let _ = writeln!(out, "    <id>urn:storyline:series:{}</id>", x(&s.id));
        let _ = writeln!(out, "    <title type=\"text\">{}</title>", x(&super::counted(&s.title, s.count)));
        let _ = writeln!(out, "    <link rel=\"alternate\" href=\"{}\"/>", x(&link));
        let _ = writeln!(out, "    <updated>{}</updated>", rfc3339(s.last));
        let _ = writeln!(out, "    <content type=\"html\">{}</content>", x(&html));
        out.push_str("  </entry>\n");
    }
    out.push_str("</feed>\n");
    out
}

fn entry(out: &mut String, item: &Item, base: &url::Url) {
    out.push_str("  <entry>\n");
    let _ = writeln!(out, "    <id>{}</id>", x(&item.uid));
    let _ = writeln!(out, "    <title type=\"text\">{}</title>", x(&item.title));
    if let Some(link) = &item.link {
        let _ = writeln!(out, "    <link rel=\"alternate\" href=\"{}\"/>", x(link));
    }
    let _ = writeln!(out, "    <published>{}</published>", rfc3339(item.published));
    let _ =
        writeln!(out, "    <updated>{}</updated>", rfc3339(item.updated.unwrap_or(item.published).max(item.published)));
    let _ = writeln!(out, "    <author><name>{}</name></author>", x(item.byline()));
    if !item.summary.is_empty() {
        let _ = writeln!(out, "    <summary type=\"text\">{}</summary>", x(&item.summary));
    }
    if let Some(label) = series_label(item) {
        let _ = writeln!(out, "    <category term=\"series:{}\" label=\"{}\"/>", x(&item.series), x(&label));
    }
    for tag in item.tags.iter().chain(&item.categories) {
        let _ = writeln!(out, "    <category term=\"{}\"/>", x(tag));
    }
    media(out, &item.media);
    let _ = writeln!(out, "    <content type=\"html\">{}</content>", x(&entry_html(item, base)));
    let s = &item.source;
    out.push_str("    <source>\n");
    let _ = writeln!(out, "      <id>{}</id>", x(&source_id(&s.feed)));
    let _ = writeln!(out, "      <title>{}</title>", x(s.publisher()));
    if let Some(site) = &s.site_link {
        let _ = writeln!(out, "      <link rel=\"alternate\" href=\"{}\"/>", x(site));
    }
    out.push_str("    </source>\n  </entry>\n");
}

/// The stable id of a source in Atom's `<source>`: its configured name.
/// Enclosures as enclosure links (with their type and length, which Atom makes optional),
/// the comments as a replies link (RFC 4685) and the image as a Media RSS thumbnail.
fn media(out: &mut String, media: &crate::model::Media) {
    for e in &media.enclosures {
        let _ =
            write!(out, "    <link rel=\"enclosure\" href=\"{}\" type=\"{}\"", x(&e.url), x(e.mime_type_or_guess()));
        if let Some(length) = e.length {
            let _ = write!(out, " length=\"{length}\"");
        }
        if let Some(title) = &e.title {
            let _ = write!(out, " title=\"{}\"", x(title));
        }
        out.push_str("/>\n");
    }
    if let Some(comments) = &media.comments {
        let _ = writeln!(out, "    <link rel=\"replies\" type=\"text/html\" href=\"{}\"/>", x(comments));
    }
    if let Some(image) = &media.image {
        out.push_str("    ");
        super::media_thumbnail(out, image);
    }
}

fn source_id(feed: &str) -> String {
    let name: String = url::form_urlencoded::byte_serialize(feed.as_bytes()).collect();
    format!("urn:storyline:feed:{name}")
}

#[cfg(test)]
mod tests {
    use super::super::tests::sample;
    use super::*;

    #[test]
    fn atom_round_trips_through_feed_rs() {
        let (meta, items) = sample();
        let text = atom(&meta, &items);
        let feed = feed_rs::parser::parse(text.as_bytes()).unwrap();
        assert_eq!(feed.entries.len(), 1);
        let e = &feed.entries[0];
        assert_eq!(e.id, "urn:storyline:item:abc");
        assert_eq!(e.title.as_ref().unwrap().content, "Talks <resume> & stall");
        assert_eq!(e.links[0].href, "http://127.0.0.1/a?x=1&y=2");
        // The entry names its source feed (feed-rs does not read `<source>`).
        let source = "<source>\n      <id>urn:storyline:feed:wire</id>\n      <title>wire &amp; co</title>\n      \
                      <link rel=\"alternate\" href=\"http://127.0.0.1/\"/>";
        assert!(text.contains(source), "{text}");
        assert!(!text.contains('\u{1}'));
        assert!(text.contains("<category term=\"series:1\" label=\"Talks &amp; truce (3)\"/>"), "{text}");
        assert_eq!(e.categories[0].term, "series:1");
    }
}
