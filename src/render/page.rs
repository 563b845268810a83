//! The HTML page at `/`: the current series, newest first, each with its keywords and
//! newest headlines, and links to the series' own feeds. Pure: series in, text out.
//!
//! Must not do I/O, and must escape everything it did not write itself: titles and
//! links come from the sources.

use std::fmt::Write;

use super::{headline_list, rfc3339, xml_escape as x, FeedMeta};
use crate::model::SeriesEntry;

/// A small stylesheet: readable without any external resource (the page works offline
/// and under a strict Content-Security-Policy).
const STYLE: &str = "body{font:16px/1.45 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;\
color:#222;background:#fff}h1{font-size:1.5rem}h2{font-size:1.15rem;margin:1.6rem 0 .2rem}\
h2 a{color:inherit;text-decoration:none}.meta{color:#666;font-size:.85rem;margin:0}ul{padding-left:1.2rem}\
li{margin:.15rem 0}nav a{margin-right:.8rem}@media(prefers-color-scheme:dark){body{color:#ddd;background:#161616}\
a{color:#8ab4f8}.meta{color:#999}}";

/// The Content-Security-Policy the page works under: nothing may load or run but its own
/// stylesheet, named by digest; no frames, forms or base URL.
pub fn content_security_policy() -> &'static str {
    static POLICY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    POLICY.get_or_init(|| {
        use sha2::{Digest, Sha256};
        let digest = base64(&Sha256::digest(STYLE.as_bytes()));
        format!(
            "default-src 'none'; style-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'; \
             frame-ancestors 'none'"
        )
    })
}

/// Standard base64 with padding (RFC 4648), for the CSP's digest.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Renders the page for `series` (newest first) under `meta`'s title.
pub fn page(meta: &FeedMeta, series: &[SeriesEntry]) -> String {
    let base = meta.base_url.as_str();
    let mut out = String::with_capacity(4096 + series.len() * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(out, "<title>{}</title>", x(&meta.title));
    for (ext, kind, label) in [
        ("atom", "application/atom+xml", "Atom"),
        ("rss", "application/rss+xml", "RSS"),
        ("json", "application/feed+json", "JSON Feed"),
    ] {
        let _ = writeln!(out, "<link rel=\"alternate\" type=\"{kind}\" title=\"{label}\" href=\"{base}feed.{ext}\">");
    }
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>", x(&meta.title));
    let _ = writeln!(
        out,
        "<nav><a href=\"{base}feed.atom\">Atom</a><a href=\"{base}feed.rss\">RSS</a>\
         <a href=\"{base}feed.json\">JSON Feed</a><a href=\"{base}digest.atom\">Stories (Atom)</a></nav>"
    );
    if series.is_empty() {
        out.push_str("<p>No stories yet: nothing has been fetched and grouped.</p>\n");
    }
    for s in series {
        let _ = writeln!(out, "<section id=\"series-{}\">", x(&s.id));
        let _ = writeln!(
            out,
            "<h2><a href=\"{base}series/{}.atom\">{}</a></h2>",
            x(&s.id),
            x(&super::counted(&s.title, s.count))
        );
        let mut meta_line = format!("updated <time datetime=\"{0}\">{0}</time>", rfc3339(s.last));
        if !s.keywords.is_empty() {
            meta_line = format!("{} · {meta_line}", x(&s.keywords.join(", ")));
        }
        let _ = writeln!(out, "<p class=\"meta\">{meta_line}</p>");
        out.push_str(&headline_list(&s.headlines));
        out.push_str("\n</section>\n");
    }
    out.push_str("</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Related;
    use chrono::{TimeZone, Utc};

    #[test]
    fn series_and_headlines_are_listed_and_escaped() {
        let (meta, _) = crate::render::tests::sample();
        let series = vec![SeriesEntry {
            id: "7".into(),
            title: "Talks <resume> & stall".into(),
            count: 12,
            last: Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap(),
            keywords: vec!["NATO".into(), "Russia".into()],
            headlines: vec![
                Related {
                    title: "Truce \"holds\"".into(),
                    link: Some("http://127.0.0.1/c?a=1&b=2".into()),
                    publisher: "Wire".into(),
                },
                Related { title: "<script>alert(1)</script>".into(), link: None, publisher: "Wire & Co".into() },
            ],
        }];
        let html = page(&meta, &series);
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(
            html.contains(
                "<h2><a href=\"http://127.0.0.1:8080/series/7.atom\">Talks &lt;resume&gt; &amp; stall (12)</a></h2>"
            ),
            "{html}"
        );
        assert!(html.contains("NATO, Russia · updated <time datetime=\"2026-11-27T12:00:00Z\">"), "{html}");
        assert!(
            html.contains("<li><a href=\"http://127.0.0.1/c?a=1&amp;b=2\">Truce &quot;holds&quot;</a></li>"),
            "{html}"
        );
        assert!(!html.contains("<script>"), "source text is escaped");
        assert!(html.contains("href=\"http://127.0.0.1:8080/feed.atom\""));
    }

    #[test]
    fn the_policy_names_the_stylesheet_by_digest() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        let policy = content_security_policy();
        assert!(policy.starts_with("default-src 'none'; style-src 'sha256-"), "{policy}");
        assert!(policy.contains("frame-ancestors 'none'"));
        let html = page(&crate::render::tests::sample().0, &[]);
        assert!(html.contains(&format!("<style>{STYLE}</style>")), "the digest is of the exact inline style");
        assert!(!html.contains("<script"), "the page runs nothing");
    }

    #[test]
    fn an_empty_store_says_so() {
        let (meta, _) = crate::render::tests::sample();
        assert!(page(&meta, &[]).contains("No stories yet"));
    }
}
