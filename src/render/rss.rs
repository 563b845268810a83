//! RSS 2.0, with `atom:link rel="self"` as the RSS Advisory Board recommends.

use std::fmt::Write;

use chrono::{DateTime, Datelike, TimeZone, Utc};

use super::{entry_html, series_label, xml_escape as x, FeedMeta, Format};
use crate::model::Item;

/// The items as an RSS 2.0 document.
pub fn rss(meta: &FeedMeta, items: &[Item]) -> String {
    let mut out = String::with_capacity(2048 + items.len() * 2048);
    out.push_str(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\" \
         xmlns:dc=\"http://purl.org/dc/elements/1.1/\" \
         xmlns:media=\"http://search.yahoo.com/mrss/\" xmlns:itunes=\"http://www.itunes.com/dtds/podcast-1.0.dtd\">\n\
         <channel>\n",
    );
    let _ = writeln!(out, "  <title>{}</title>", x(&meta.title));
    let _ = writeln!(out, "  <link>{}</link>", x(meta.base_url.as_str()));
    // Readers treat a channel description as HTML: the title (built from headlines, for
    // a series) is escaped as HTML text first, then for XML.
    // The feed's title says what it holds (merged, a series, a tag, one source).
    let description = x(&format!("{}, republished by storyline", meta.title));
    let _ = writeln!(out, "  <description>{}</description>", x(&description));
    let _ = writeln!(
        out,
        "  <atom:link href=\"{}\" rel=\"self\" type=\"application/rss+xml\"/>",
        x(&meta.self_url(Format::Rss))
    );
    let _ = writeln!(out, "  <lastBuildDate>{}</lastBuildDate>", rfc2822(meta.updated));
    let _ = writeln!(out, "  <generator>storyline {}</generator>", env!("CARGO_PKG_VERSION"));
    for item in items {
        out.push_str("  <item>\n");
        let _ = writeln!(out, "    <title>{}</title>", x(&item.title));
        if let Some(link) = &item.link {
            let _ = writeln!(out, "    <link>{}</link>", x(link));
        }
        let _ = writeln!(out, "    <guid isPermaLink=\"false\">{}</guid>", x(&item.uid));
        let _ = writeln!(out, "    <pubDate>{}</pubDate>", rfc2822(item.published));
        // A name, so dc:creator: RSS's own <author> must be an email address.
        let _ = writeln!(out, "    <dc:creator>{}</dc:creator>", x(item.byline()));
        if let Some(label) = series_label(item) {
            let _ =
                writeln!(out, "    <category domain=\"storyline:series:{}\">{}</category>", x(&item.series), x(&label));
        }
        for tag in item.tags.iter().chain(&item.categories) {
            let _ = writeln!(out, "    <category>{}</category>", x(tag));
        }
        media(&mut out, &item.media);
        let _ = writeln!(out, "    <description>{}</description>", x(&entry_html(item, &meta.base_url)));
        // RSS's <source> needs a URL: the publisher's home page, never the address
        // storyline fetches from (dc:creator names the publisher without one).
        let s = &item.source;
        if let Some(site) = &s.site_link {
            let _ = writeln!(out, "    <source url=\"{}\">{}</source>", x(site), x(s.publisher()));
        }
        out.push_str("  </item>\n");
    }
    out.push_str("</channel>\n</rss>\n");
    out
}

/// RFC 2822 for any stored time. The format has four-digit years only (chrono panics on
/// others): a time before year 0 is written as the epoch, one after 9999 as its end. Read
/// dates are never outside 1970 to tomorrow (`parse::bounds`); this guards older data.
/// The first enclosure as RSS's one `<enclosure>` (its length and type are required: 0
/// and a type guessed from the URL when the source gave none), the others as Media RSS
/// content, the duration for podcast clients, the comments page and the image as a Media
/// RSS thumbnail.
fn media(out: &mut String, media: &crate::model::Media) {
    if let Some((first, others)) = media.enclosures.split_first() {
        let _ = writeln!(
            out,
            "    <enclosure url=\"{}\" length=\"{}\" type=\"{}\"/>",
            x(&first.url),
            first.length.unwrap_or(0),
            x(first.mime_type_or_guess())
        );
        if let Some(secs) = first.duration_secs {
            let _ = writeln!(out, "    <itunes:duration>{secs}</itunes:duration>");
        }
        for e in others {
            let _ = write!(out, "    <media:content url=\"{}\" type=\"{}\"", x(&e.url), x(e.mime_type_or_guess()));
            if let Some(length) = e.length {
                let _ = write!(out, " fileSize=\"{length}\"");
            }
            if let Some(secs) = e.duration_secs {
                let _ = write!(out, " duration=\"{secs}\"");
            }
            out.push_str("/>\n");
        }
    }
    if let Some(comments) = &media.comments {
        let _ = writeln!(out, "    <comments>{}</comments>", x(comments));
    }
    if let Some(image) = &media.image {
        out.push_str("    ");
        super::media_thumbnail(out, image);
    }
}

fn rfc2822(t: DateTime<Utc>) -> String {
    let t = match t.year() {
        ..=-1 => Utc.timestamp_opt(0, 0).unwrap(),
        10_000.. => Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
        _ => t,
    };
    t.to_rfc2822()
}

#[cfg(test)]
mod tests {
    use super::super::tests::sample;
    use super::*;

    #[test]
    fn rss_round_trips_through_feed_rs() {
        let (meta, items) = sample();
        let text = rss(&meta, &items);
        let feed = feed_rs::parser::parse(text.as_bytes()).unwrap();
        assert_eq!(feed.entries.len(), 1);
        assert_eq!(feed.entries[0].id, "urn:storyline:item:abc");
        assert_eq!(feed.entries[0].title.as_ref().unwrap().content, "Talks <resume> & stall");
        assert!(text.contains("<atom:link href=\"http://127.0.0.1:8080/feed.rss\" rel=\"self\""));
    }

    #[test]
    fn any_stored_date_can_be_written() {
        let (meta, mut items) = sample();
        let ancient = chrono::NaiveDate::from_ymd_opt(-5000, 3, 1).unwrap().and_hms_opt(0, 0, 0).unwrap().and_utc();
        items[0].published = ancient;
        let text = rss(&meta, &items);
        assert!(text.contains("<pubDate>Thu, 1 Jan 1970 00:00:00 +0000</pubDate>"), "{text}");
        items[0].published = DateTime::<Utc>::MAX_UTC;
        assert!(rss(&meta, &items).contains("<pubDate>Fri, 31 Dec 9999 23:59:59 +0000</pubDate>"));
    }
}
