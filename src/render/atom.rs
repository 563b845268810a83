//! Atom 1.0 (RFC 4287).

use std::fmt::Write;

use super::{entry_html, rfc3339, xml_escape as x, FeedMeta, Format};
use crate::model::Item;

/// The items as an Atom 1.0 document; each entry has a `<source>` naming its origin feed.
pub fn atom(meta: &FeedMeta, items: &[Item]) -> String {
    let mut out = String::with_capacity(2048 + items.len() * 2048);
    let self_url = meta.self_url(Format::Atom);
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    let _ = writeln!(out, "  <title>{}</title>", x(&meta.title));
    let _ = writeln!(out, "  <id>{}</id>", x(&self_url));
    let _ = writeln!(out, "  <updated>{}</updated>", rfc3339(meta.updated));
    let _ = writeln!(out, "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>", x(&self_url));
    let _ = writeln!(out, "  <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>", x(meta.base_url.as_str()));
    let _ = writeln!(out, "  <author><name>{}</name></author>", x(&meta.title));
    let _ = writeln!(
        out,
        "  <generator uri=\"{}\" version=\"{}\">storyline</generator>",
        x(crate::config::HOMEPAGE),
        env!("CARGO_PKG_VERSION")
    );
    for item in items {
        entry(&mut out, item);
    }
    out.push_str("</feed>\n");
    out
}

fn entry(out: &mut String, item: &Item) {
    out.push_str("  <entry>\n");
    let _ = writeln!(out, "    <id>{}</id>", x(&item.uid));
    let _ = writeln!(out, "    <title type=\"text\">{}</title>", x(&item.title));
    if let Some(link) = &item.link {
        let _ = writeln!(out, "    <link rel=\"alternate\" href=\"{}\"/>", x(link));
    }
    let _ = writeln!(out, "    <published>{}</published>", rfc3339(item.published));
    let _ =
        writeln!(out, "    <updated>{}</updated>", rfc3339(item.updated.unwrap_or(item.published).max(item.published)));
    if let Some(author) = &item.author {
        let _ = writeln!(out, "    <author><name>{}</name></author>", x(author));
    }
    if !item.summary.is_empty() {
        let _ = writeln!(out, "    <summary type=\"text\">{}</summary>", x(&item.summary));
    }
    let _ = writeln!(out, "    <content type=\"html\">{}</content>", x(&entry_html(item)));
    let s = &item.source;
    out.push_str("    <source>\n");
    let _ = writeln!(out, "      <id>{}</id>", x(&s.feed_url));
    let _ = writeln!(out, "      <title>{}</title>", x(s.feed_title.as_deref().unwrap_or(&s.feed)));
    let _ = writeln!(out, "      <link rel=\"self\" href=\"{}\"/>", x(&s.feed_url));
    if let Some(site) = &s.site_link {
        let _ = writeln!(out, "      <link rel=\"alternate\" href=\"{}\"/>", x(site));
    }
    out.push_str("    </source>\n  </entry>\n");
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
        assert!(
            e.source.as_deref().is_some_and(|s| s.contains("wire.xml"))
                || text.contains("<title>wire &amp; co</title>")
        );
        assert!(!text.contains('\u{1}'));
    }
}
