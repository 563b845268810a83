//! Feed discovery in a web page, the way feed readers do it: the page's
//! `<link rel="alternate">` feeds first, then its links that look like feeds, then the
//! usual feed paths of the site. Pure: page text in, candidate URLs out (each still to be
//! confirmed by fetching it).

use url::Url;

/// Feed types a `<link rel="alternate">` may announce.
const FEED_TYPES: [&str; 5] =
    ["application/rss+xml", "application/atom+xml", "application/feed+json", "application/json", "application/rdf+xml"];

/// Paths where sites commonly serve their feed, tried last.
const USUAL_PATHS: [&str; 7] = ["/feed", "/rss", "/atom.xml", "/index.xml", "/feed.json", "/rss.xml", "/feed.xml"];

/// Candidates of one kind, in the order a reader tries them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Candidates {
    /// Announced by `<link rel="alternate" type="...">`, with their titles.
    pub announced: Vec<(Url, Option<String>)>,
    /// `<a href>` links that look like feeds.
    pub linked: Vec<Url>,
    /// The site's usual feed paths.
    pub usual: Vec<Url>,
}

/// The feeds `html`, found at `page`, points to. Relative URLs are resolved against the
/// page (or its `<base href>`); only http(s) URLs are kept, each once.
pub fn candidates(html: &str, page: &Url) -> Candidates {
    let mut base = page.clone();
    let mut out = Candidates::default();
    let mut seen: Vec<Url> = Vec::new();
    let keep = |url: Url, seen: &mut Vec<Url>| {
        let fresh = matches!(url.scheme(), "http" | "https") && !seen.contains(&url);
        if fresh {
            seen.push(url.clone());
        }
        fresh.then_some(url)
    };
    for (name, attrs) in tags(html) {
        let get = |key: &str| attrs.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str());
        match name.as_str() {
            "base" => {
                if let Some(b) = get("href").and_then(|h| page.join(h).ok()) {
                    base = b;
                }
            }
            "link" => {
                let alternate =
                    get("rel").is_some_and(|r| r.split_whitespace().any(|r| r.eq_ignore_ascii_case("alternate")));
                let kind = get("type").map(|t| t.trim().to_ascii_lowercase());
                let feed = kind.is_some_and(|k| FEED_TYPES.iter().any(|f| k.starts_with(f)));
                if let (true, true, Some(href)) = (alternate, feed, get("href")) {
                    if let Some(url) = base.join(href.trim()).ok().and_then(|u| keep(u, &mut seen)) {
                        out.announced.push((url, get("title").map(str::to_string)));
                    }
                }
            }
            "a" => {
                if let Some(href) = get("href").filter(|h| looks_like_feed(h)) {
                    if let Some(url) = base.join(href.trim()).ok().and_then(|u| keep(u, &mut seen)) {
                        out.linked.push(url);
                    }
                }
            }
            _ => {}
        }
    }
    for path in USUAL_PATHS {
        if let Some(url) = page.join(path).ok().and_then(|u| keep(u, &mut seen)) {
            out.usual.push(url);
        }
    }
    out
}

/// A link whose path reads like a feed's: `.rss`, `.xml`, `.atom`, `.rdf` or `feed.json`
/// at the end, or a `feed`, `rss` or `atom` path segment.
fn looks_like_feed(href: &str) -> bool {
    let path = href.split(['?', '#']).next().unwrap_or_default().to_ascii_lowercase();
    let path = path.trim_end_matches('/');
    [".rss", ".xml", ".atom", ".rdf", "feed.json"].iter().any(|e| path.ends_with(e))
        || path.split('/').any(|seg| matches!(seg, "feed" | "rss" | "atom" | "feeds"))
}

/// The start tags of an HTML document with their attributes (names lower-cased, values
/// with the usual character references decoded). Comments, scripts and styles are
/// skipped; nothing here must be exact, only tolerant. Linear in the page: every search
/// starts where the last one ended (a page of `<script>` or `<a<a<a…` repeated stays as
/// fast as any other).
fn tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    // ASCII lower case keeps every byte offset: closing tags are found in it.
    let lower = html.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(lt) = html[at..].find('<') {
        at += lt + 1;
        let rest = &html[at..];
        if let Some(after) = rest.strip_prefix("!--") {
            at = after.find("-->").map_or(html.len(), |end| at + 3 + end + 3);
            continue;
        }
        let name_len = rest.bytes().take_while(u8::is_ascii_alphanumeric).count();
        let ends_name = rest[name_len..].chars().next().is_none_or(|c| c.is_ascii_whitespace() || c == '>' || c == '/');
        if name_len == 0 || !ends_name {
            continue;
        }
        let name = lower[at..at + name_len].to_string();
        let (attrs, consumed) = attributes(&rest[name_len..]);
        at += name_len + consumed;
        if matches!(name.as_str(), "script" | "style") {
            let close = format!("</{name}");
            at = lower[at..].find(&close).map_or(html.len(), |i| at + i);
        }
        out.push((name, attrs));
    }
    out
}

/// Attributes up to the end of a tag, and how many bytes they took (the `>` included).
fn attributes(s: &str) -> (Vec<(String, String)>, usize) {
    let mut attrs = Vec::new();
    let bytes = s.as_bytes();
    let mut i = 0;
    loop {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        if i >= bytes.len() || bytes[i] == b'>' {
            return (attrs, (i + 1).min(bytes.len()));
        }
        let start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() && !matches!(bytes[i], b'=' | b'>' | b'/') {
            i += 1;
        }
        let key = s[start..i].to_ascii_lowercase();
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < bytes.len() && bytes[i] == b'=' {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            let (v, next) = match bytes.get(i) {
                Some(q @ (b'"' | b'\'')) => {
                    let end = s[i + 1..].find(*q as char).map_or(s.len(), |e| i + 1 + e);
                    (&s[i + 1..end], (end + 1).min(s.len()))
                }
                _ => {
                    let end = s[i..].find(|c: char| c.is_ascii_whitespace() || c == '>').map_or(s.len(), |e| i + e);
                    (&s[i..end], end)
                }
            };
            value = crate::text::decode_entities(v, &Default::default());
            i = next;
        }
        if !key.is_empty() {
            attrs.push((key, value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Url {
        Url::parse("https://news.example/section/index.html").unwrap()
    }

    #[test]
    fn announced_feeds_come_first_resolved_against_the_page() {
        let html = r#"<!doctype html><html><head>
            <!-- <link rel="alternate" type="application/rss+xml" href="/commented.xml"> -->
            <link rel="stylesheet" href="/s.css">
            <LINK REL="Alternate" TYPE="application/rss+xml" TITLE="All news" HREF="feed.xml">
            <link rel=alternate type='application/atom+xml' href="//news.example/atom?x=1&amp;y=2">
            <link rel="alternate" type="application/feed+json" href="javascript:alert(1)">
            <script>var s = '<link rel="alternate" type="application/rss+xml" href="/fake.xml">';</script>
            </head><body>
            <a href="/rss/world.xml">World RSS</a> <a href="/about">About</a> <a href="feed.xml">again</a>
            </body></html>"#;
        let c = candidates(html, &page());
        let announced: Vec<(&str, Option<&str>)> =
            c.announced.iter().map(|(u, t)| (u.as_str(), t.as_deref())).collect();
        assert_eq!(
            announced,
            [("https://news.example/section/feed.xml", Some("All news")), ("https://news.example/atom?x=1&y=2", None),]
        );
        let linked: Vec<&str> = c.linked.iter().map(Url::as_str).collect();
        assert_eq!(linked, ["https://news.example/rss/world.xml"], "once each, feed-like links only");
        assert_eq!(c.usual[0].as_str(), "https://news.example/feed");
        assert_eq!(c.usual.len(), USUAL_PATHS.len());
    }

    #[test]
    fn a_base_element_moves_relative_links() {
        let html =
            r#"<base href="https://cdn.example/blog/"><link rel="alternate" type="application/rss+xml" href="rss">"#;
        assert_eq!(candidates(html, &page()).announced[0].0.as_str(), "https://cdn.example/blog/rss");
    }

    #[test]
    fn hostile_pages_are_read_in_linear_time() {
        // Each shape made an earlier scanner copy the rest of the page per tag.
        for unit in ["<script>", "<a<", "<!--", "<link href=\"", "<a href=x "] {
            let body = unit.repeat(2_000_000 / unit.len());
            let started = std::time::Instant::now();
            let c = candidates(&body, &page());
            // A hang guard, not a speed claim: quadratic would take hours here.
            assert!(started.elapsed() < std::time::Duration::from_secs(20), "{unit:?}: {:?}", started.elapsed());
            assert!(c.announced.is_empty(), "{unit:?}");
        }
    }

    #[test]
    fn a_page_without_feeds_leaves_the_usual_paths() {
        let c = candidates("<html><body><p>Hello</p><a href=\"/contact\">x</a></body></html>", &page());
        assert!(c.announced.is_empty() && c.linked.is_empty());
        assert_eq!(c.usual.len(), USUAL_PATHS.len());
    }
}
