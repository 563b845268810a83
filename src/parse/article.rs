//! The article of a web page, for feeds that carry only a summary (`full_text = true`):
//! the page decoded, its main content found by dom_smoothie (a port of readability.js,
//! what Firefox's Reader View runs), then sanitized like any entry body, with its URLs
//! made absolute against the page. Pure: takes the page's bytes and what HTTP said about
//! them; fetching (robots.txt, limits) is `fetch`'s, storing is `store`'s.

use std::panic::{catch_unwind, AssertUnwindSafe};

use url::Url;

use super::{bounds, decode, html};

/// Most elements of a page the extractor reads: a long article page has 3,000 to 6,000
/// (the largest of the benchmark's 181 pages, 16,000); past this the page is refused
/// instead of scored, which bounds the time and memory one page costs.
const MAX_ELEMENTS: usize = 50_000;

/// Shortest article kept, in characters of text: below it, what was found is a teaser
/// or a cookie banner, and the feed's own summary says as much.
const MIN_TEXT_CHARS: usize = 200;

/// Why a page gave no article.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArticleError {
    /// The response is not an HTML page (a PDF, an image, a feed).
    #[error("not an HTML page ({0})")]
    NotHtml(String),
    /// No main content could be told apart from the page around it.
    #[error("no article found on the page")]
    NotFound,
    /// What was found is too short to be the article.
    #[error("the article found is too short ({0} characters)")]
    TooShort(usize),
    /// The page holds more elements than are read.
    #[error("the page is too large to read ({0} elements)")]
    TooLarge(usize),
    /// The extractor crashed on this page; caught so the poll goes on.
    #[error("the article extractor crashed on this page")]
    Panicked,
}

/// The article of the page at `url`: sanitized HTML with absolute URLs, at most
/// [`bounds::CONTENT_BYTES`].
pub fn extract(bytes: &[u8], content_type: Option<&str>, url: &Url) -> Result<String, ArticleError> {
    if let Some(t) = content_type.map(|t| t.split(';').next().unwrap_or_default().trim().to_ascii_lowercase()) {
        if !(t.is_empty() || t == "text/html" || t == "application/xhtml+xml") {
            return Err(ArticleError::NotHtml(t));
        }
    }
    let decoded = decode(bytes, content_type);
    let text = decoded.text.as_ref();
    let config = dom_smoothie::Config { max_elements_to_parse: MAX_ELEMENTS, ..dom_smoothie::Config::default() };
    let found = catch_unwind(AssertUnwindSafe(|| {
        let mut reader = dom_smoothie::Readability::new(text, Some(url.as_str()), Some(config))?;
        reader.parse().map(|article| (article.content.to_string(), article.text_content.chars().count()))
    }))
    .map_err(|_| ArticleError::Panicked)?;
    let (content, chars) = match found {
        Ok(found) => found,
        Err(dom_smoothie::ReadabilityError::TooManyElements(n, _)) => return Err(ArticleError::TooLarge(n)),
        Err(_) => return Err(ArticleError::NotFound),
    };
    if chars < MIN_TEXT_CHARS {
        return Err(ArticleError::TooShort(chars));
    }
    let clean = html::sanitize(&html::sanitizer(url), &content);
    Ok(bounds::cut_body(&clean))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(body: &str) -> String {
        format!(
            r#"<!doctype html><html><head><title>Harbour gets a new ferry</title></head><body>
            <nav><a href="/">Home</a> <a href="/sport">Sport</a> <a href="/weather">Weather</a></nav>
            <aside class="sidebar"><h3>Most read</h3><ul><li><a href="/x">Something else entirely</a></li></ul></aside>
            <article><h1>Harbour gets a new ferry</h1>{body}</article>
            <footer>Copyright 2026 Harbour News. <a href="/privacy">Privacy</a></footer>
            <script>track()</script></body></html>"#
        )
    }

    #[test]
    fn the_article_is_kept_and_the_page_around_it_dropped() {
        let body = "<p>The new ferry entered service on Tuesday, carrying 300 passengers across the bay.</p>\
                    <p>Its captain said the crossing now takes twenty minutes, half the time of the old boat.</p>\
                    <p><img src=\"/img/ferry.jpg\" alt=\"The ferry\"> The council paid for it with a grant.</p>";
        let url = Url::parse("https://news.example/2026/ferry").unwrap();
        let html = extract(page(body).as_bytes(), Some("text/html; charset=utf-8"), &url).unwrap();
        assert!(html.contains("carrying 300 passengers") && html.contains("twenty minutes"), "{html}");
        assert!(html.contains("src=\"https://news.example/img/ferry.jpg\""), "absolute: {html}");
        for boilerplate in ["Most read", "Copyright", "Sport", "track()", "<script"] {
            assert!(!html.contains(boilerplate), "{boilerplate} in {html}");
        }
    }

    #[test]
    fn pages_without_an_article_say_why() {
        let url = Url::parse("https://news.example/a").unwrap();
        assert_eq!(
            extract(b"%PDF-1.7", Some("application/pdf"), &url),
            Err(ArticleError::NotHtml("application/pdf".into()))
        );
        let teaser = page("<p>Subscribe to read.</p>");
        assert!(matches!(
            extract(teaser.as_bytes(), Some("text/html"), &url),
            Err(ArticleError::TooShort(_) | ArticleError::NotFound)
        ));
    }
}
