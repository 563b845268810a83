//! HTML in feeds: sanitizing bodies for republishing and reducing markup to plain text.
//!
//! Both go through ammonia (html5ever), so entities and broken markup are handled the way
//! a browser would, except markup `plain_markup` shows needs no sanitizing. Pure; no I/O.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

use ammonia::{Builder, UrlRelative};
use url::Url;

use super::{markup_limits, plain_markup};
use crate::text::collapse_whitespace;

/// Distinct messages counted per document; any others are counted together.
const DISTINCT_NOTES: usize = 8;

thread_local! {
    /// What the HTML parser (html5ever, through the `log` crate) said while this thread
    /// reads one document: message and count. `None` when no document is being read.
    static PARSER_NOTES: RefCell<Option<BTreeMap<String, usize>>> = const { RefCell::new(None) };
}

/// Restores the collection that was active before, also when reading panics.
struct NotesGuard(Option<Option<BTreeMap<String, usize>>>);

impl Drop for NotesGuard {
    fn drop(&mut self) {
        if let Some(outer) = self.0.take() {
            PARSER_NOTES.with(|n| *n.borrow_mut() = outer);
        }
    }
}

/// Runs `read`, counting what the HTML parser logs on this thread meanwhile instead of
/// letting each message through (hostile markup makes it log twice per element); returns
/// the result and one line summing the messages up, if there were any.
pub fn collecting_parser_notes<T>(read: impl FnOnce() -> T) -> (T, Option<String>) {
    let mut guard = NotesGuard(Some(PARSER_NOTES.with(|n| n.borrow_mut().replace(BTreeMap::new()))));
    let result = read();
    let outer = guard.0.take().unwrap_or_default();
    let notes = PARSER_NOTES.with(|n| std::mem::replace(&mut *n.borrow_mut(), outer)).unwrap_or_default();
    if notes.is_empty() {
        return (result, None);
    }
    let total: usize = notes.values().sum();
    let each: Vec<String> = notes.iter().map(|(m, n)| format!("{m} ({n}x)")).collect();
    (result, Some(format!("the HTML parser logged {total} message(s) for this document: {}", each.join("; "))))
}

/// Counts a message the HTML parser logged, when this thread is reading a document
/// (`true`); otherwise the caller logs it as usual (`false`).
pub fn note_parser_message(message: &dyn std::fmt::Display) -> bool {
    PARSER_NOTES.with(|n| {
        let mut notes = n.borrow_mut();
        let Some(notes) = notes.as_mut() else { return false };
        let text = message.to_string();
        let key = if notes.contains_key(&text) || notes.len() < DISTINCT_NOTES { text } else { "others".into() };
        *notes.entry(key).or_default() += 1;
        true
    })
}

/// Builds the sanitizer for bodies whose relative URLs resolve against `base`.
pub fn sanitizer(base: &Url) -> Builder<'static> {
    let mut b = Builder::default();
    b.url_relative(UrlRelative::RewriteWithBase(base.clone()));
    b
}

/// Sanitizes an HTML fragment for republishing.
pub fn sanitize(builder: &Builder<'_>, html: &str) -> String {
    plain_markup::clean(html).unwrap_or_else(|| builder.clean(&markup_limits::bound(html)).to_string())
}

/// The sanitized form and the plain text (as [`to_text`] gives it) of a simple body at
/// once, or `None` when the body needs a full parse.
pub fn clean_and_text(html: &str) -> Option<(String, String)> {
    plain_markup::clean_and_text(html).map(|(clean, text)| (clean, collapse_whitespace(&text)))
}

fn text_only() -> &'static Builder<'static> {
    static TEXT: OnceLock<Builder<'static>> = OnceLock::new();
    TEXT.get_or_init(|| {
        let mut b = Builder::empty();
        b.clean_content_tags(HashSet::from(["script", "style", "template"]));
        b
    })
}

/// Plain text of an HTML fragment (or of text that may hold entities), whitespace collapsed.
pub fn to_text(html: &str) -> String {
    if !html.contains(['<', '&']) {
        return collapse_whitespace(html);
    }
    match plain_markup::text(html) {
        Some(text) => collapse_whitespace(&text),
        None => parsed_text(html),
    }
}

/// What the fast path and ammonia each make of one body, for the differential fuzz
/// target (`fuzz/fuzz_targets/sanitizer.rs`): the fast path's (sanitized, text) or `None`
/// when it declines, and the full parse's (sanitized, text) with the republishing
/// sanitizer for `base`. Not for other callers: [`sanitize`] and [`to_text`] pick the path.
#[doc(hidden)]
pub fn both_paths(html: &str, base: &Url) -> (Option<(String, String)>, (String, String)) {
    let full = (sanitizer(base).clean(html).to_string(), parsed_text(html));
    (clean_and_text(html), full)
}

/// Plain text through a full HTML parse.
fn parsed_text(html: &str) -> String {
    let cleaned = text_only().clean(&markup_limits::bound(html)).to_string();
    // html5ever's serializer escapes only these in text nodes.
    let text = cleaned.replace("&lt;", "<").replace("&gt;", ">").replace("&nbsp;", " ").replace("&amp;", "&");
    collapse_whitespace(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_of_markup() {
        assert_eq!(to_text("  <b>Hello</b>&nbsp;&amp; <i>good\n bye</i> "), "Hello & good bye");
        assert_eq!(to_text("AT&T < Verizon"), "AT&T < Verizon");
        assert_eq!(to_text("a<script>alert(1)</script>b"), "ab");
        assert_eq!(to_text("caf&eacute;"), "café");
    }

    #[test]
    fn plain_markup_reads_as_a_full_parse_does() {
        for html in [
            "<p>Week &amp; <b>more</b></p>\n<p>caf&eacute;&nbsp;now &#8220;q&#x201D;</p>",
            "<ul><li>a</li><li>b</li></ul>x<br/>y &lt;tag&gt; &quot;z&quot;",
            "Apple &amp; Google",
        ] {
            assert_eq!(to_text(html), parsed_text(html), "{html}");
        }
    }

    #[test]
    fn clean_and_text_agree_with_their_separate_forms() {
        let base = Url::parse("https://example.org/feed.xml").unwrap();
        for html in ["<p>Week &amp;\n <b>more</b></p>  <p>caf&eacute;</p>", "  plain   words ", "AT&T <b>x</b>"] {
            let expected = plain_markup::clean(html).map(|_| (sanitize(&sanitizer(&base), html), to_text(html)));
            assert_eq!(clean_and_text(html), expected, "{html}");
        }
        assert!(clean_and_text("<p>simple</p>").is_some());
    }

    #[test]
    fn sanitizing_rewrites_relative_urls_and_drops_scripts() {
        let base = Url::parse("https://example.org/news/feed.xml").unwrap();
        let out = sanitize(
            &sanitizer(&base),
            r#"<a href="a/1.html" onclick="x()">1</a><script>bad()</script><img src="/i.png">"#,
        );
        assert!(out.contains(r#"href="https://example.org/news/a/1.html""#), "{out}");
        assert!(out.contains(r#"src="https://example.org/i.png""#), "{out}");
        assert!(!out.contains("script") && !out.contains("onclick"), "{out}");
    }

    #[test]
    fn parser_messages_are_counted_per_document() {
        let ((), none) = collecting_parser_notes(|| {});
        assert_eq!(none, None);
        assert!(!note_parser_message(&"outside"), "nothing is collected outside a document");
        let (seven, notes) = collecting_parser_notes(|| {
            for _ in 0..3 {
                note_parser_message(&"foster parenting not implemented");
            }
            for i in 0..20 {
                note_parser_message(&format!("message {i}"));
            }
            7
        });
        assert_eq!(seven, 7);
        let notes = notes.unwrap();
        assert!(notes.starts_with("the HTML parser logged 23 message(s)"), "{notes}");
        assert!(notes.contains("foster parenting not implemented (3x)") && notes.contains("others (13x)"), "{notes}");
        let caught = std::panic::catch_unwind(|| collecting_parser_notes(|| panic!("boom")));
        assert!(caught.is_err());
        assert!(!note_parser_message(&"after a panic"), "a panic leaves no collection behind");
    }
}
