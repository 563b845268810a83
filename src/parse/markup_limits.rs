//! Caps how deep markup nests, and how many elements it holds, before an HTML parser sees
//! it; tags past either cap are dropped and their text stays. html5ever's tree builder
//! checks the stack of open elements for each tag, so 20,000 nested `<div>`s cost
//! seconds; the DOM ammonia builds finds a node's place among its siblings by walking
//! them, so text the parser must move out of a table ("foster parenting") costs time
//! quadratic in the siblings (10 MiB of `<table>x</table>` took 110 s). With both caps a
//! parse costs time linear in the size of the body. Pure; no I/O.

use std::borrow::Cow;

/// Deepest nesting kept. Chromium's HTML parser stops nesting at 512 too
/// (`kMaximumHTMLParserDOMTreeDepth`); no real feed body comes near it.
pub const MAX_DEPTH: usize = 512;

/// Most elements kept in one body. A long article holds a few hundred. Uncapped, sibling
/// tables whose text is fostered out took 0.1 s at 10,000, 1.5 s at 40,000 and 110 s for a
/// 10 MiB body; capped, that body reads in 0.6 s (`storyline inspect`, release build).
pub const MAX_ELEMENTS: usize = 10_000;

/// Elements that never hold content: they do not nest.
const VOID: &[&str] =
    &["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"];

/// Elements whose end tag may be left out: a parser closes an open one when the next
/// starts, so a run of them does not nest, and they are never dropped.
const SELF_CLOSING: &[&str] = &[
    "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "rb", "rt", "rp", "thead", "tbody", "tfoot",
    "colgroup", "caption",
];

/// `html` without the tags nested deeper than [`MAX_DEPTH`] and the start tags after the
/// first [`MAX_ELEMENTS`], or borrowed unchanged when it has neither.
pub fn bound(html: &str) -> Cow<'_, str> {
    // Cheap test first: either cap needs that many tags.
    if memchr::memchr_iter(b'<', html.as_bytes()).nth(MAX_DEPTH).is_none() {
        return Cow::Borrowed(html);
    }
    let bytes = html.as_bytes();
    let mut out = String::new();
    let mut copied = 0; // html[..copied] is decided
    let mut depth = 0usize;
    let mut elements = 0usize;
    let mut at = 0;
    while let Some(lt) = memchr::memchr(b'<', &bytes[at..]).map(|i| at + i) {
        // Comments and raw text (scripts, styles) hold no tags.
        if bytes[lt..].starts_with(b"<!--") {
            at = memchr::memmem::find(&bytes[lt + 4..], b"-->").map_or(bytes.len(), |i| lt + 4 + i + 3);
            continue;
        }
        let (closing, name, end) = match tag(bytes, lt) {
            Tag::Found(closing, name, end) => (closing, name, end),
            Tag::Text => {
                at = lt + 1;
                continue;
            }
            // No `>` ends it, so none ends any later tag either: the rest is text to a
            // parser. Stopping here keeps the scan linear (scanning on from each later `<`
            // made 600 KB of `<a ` take 100 s).
            Tag::Unterminated => break,
        };
        at = end;
        // Past the cap no element starts; end tags still close those already open (a
        // stray one costs the parser a look at the open elements, at most MAX_DEPTH).
        if !closing && elements >= MAX_ELEMENTS {
            out.push_str(&html[copied..lt]);
            copied = end;
            continue;
        }
        if !closing {
            elements += 1;
        }
        if !closing && RAW_TEXT.iter().any(|r| name.eq_ignore_ascii_case(r.as_bytes())) {
            at = raw_text_end(bytes, end, name);
            continue;
        }
        let self_closed = bytes[end - 2] == b'/';
        if VOID.iter().any(|v| name.eq_ignore_ascii_case(v.as_bytes()))
            || SELF_CLOSING.iter().any(|v| name.eq_ignore_ascii_case(v.as_bytes()))
            || (!closing && self_closed)
        {
            continue;
        }
        let drop = if closing {
            let deep = depth > MAX_DEPTH;
            depth = depth.saturating_sub(1);
            deep
        } else {
            depth += 1;
            depth > MAX_DEPTH
        };
        if drop {
            out.push_str(&html[copied..lt]);
            copied = end;
        }
    }
    if copied == 0 {
        return Cow::Borrowed(html);
    }
    out.push_str(&html[copied..]);
    Cow::Owned(out)
}

/// Elements whose content is text up to their end tag.
const RAW_TEXT: &[&str] = &["script", "style", "textarea", "title", "xmp"];

/// Where the raw text opened by `name` ends: after its end tag, or the end of the body.
fn raw_text_end(bytes: &[u8], from: usize, name: &[u8]) -> usize {
    let mut at = from;
    while let Some(i) = memchr::memmem::find(&bytes[at..], b"</").map(|i| at + i) {
        let after = i + 2 + name.len();
        if bytes.get(i + 2..after).is_some_and(|n| n.eq_ignore_ascii_case(name)) {
            return memchr::memchr(b'>', &bytes[after..]).map_or(bytes.len(), |j| after + j + 1);
        }
        at = i + 2;
    }
    bytes.len()
}

/// What starts at a `<`.
enum Tag<'a> {
    /// A start or end tag: (is an end tag, its name, the index after its `>`).
    Found(bool, &'a [u8], usize),
    /// Not a tag (text, a declaration).
    Text,
    /// A tag that no `>` ends before the end of the body.
    Unterminated,
}

/// The tag starting at `lt`.
fn tag(bytes: &[u8], lt: usize) -> Tag<'_> {
    let mut i = lt + 1;
    let closing = bytes.get(i) == Some(&b'/');
    if closing {
        i += 1;
    }
    let start = i;
    while bytes.get(i).is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b':') {
        i += 1;
    }
    if i == start || !bytes[start].is_ascii_alphabetic() {
        return Tag::Text;
    }
    let name = &bytes[start..i];
    // The tag ends at the first `>` outside a quoted attribute value.
    let mut quote = None;
    while let Some(&b) = bytes.get(i) {
        match (quote, b) {
            (None, b'"' | b'\'') => quote = Some(b),
            (Some(q), b) if b == q => quote = None,
            (None, b'>') => return Tag::Found(closing, name, i + 1),
            _ => {}
        }
        i += 1;
    }
    Tag::Unterminated
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unterminated_tag_ends_the_scan() {
        // Each `<a '` opens a tag no `>` ends: scanning on from every one was quadratic.
        let html = format!("{}{}", "<div>".repeat(MAX_DEPTH + 5), "<a '".repeat(200_000));
        let bounded = bound(&html);
        assert_eq!(bounded.matches("<div>").count(), MAX_DEPTH);
        assert!(bounded.ends_with("<a '"), "the unterminated rest is kept as it was");
        assert!(matches!(tag(b"<a href='x>", 0), Tag::Unterminated));
        assert!(matches!(tag(b"< a>", 0), Tag::Text));
    }

    #[test]
    fn elements_past_the_cap_lose_their_tags_not_their_text() {
        let html = "<table>x</table>".repeat(MAX_ELEMENTS + 50);
        let bounded = bound(&html);
        assert_eq!(bounded.matches("<table>").count(), MAX_ELEMENTS);
        assert_eq!(bounded.matches("</table>").count(), MAX_ELEMENTS + 50, "end tags stay: they open nothing");
        assert_eq!(bounded.matches('x').count(), MAX_ELEMENTS + 50);
    }

    #[test]
    fn shallow_markup_is_left_alone() {
        let html = "<div><p>a<p>b</div><img src=x>".repeat(200);
        assert!(matches!(bound(&html), Cow::Borrowed(_)));
    }

    #[test]
    fn tags_past_the_cap_go_and_their_text_stays() {
        let n = MAX_DEPTH + 100;
        let html = format!("{}deep{}<b>after</b>", "<div>x".repeat(n), "</div>".repeat(n));
        let flat = bound(&html);
        assert_eq!(flat.matches("<div>").count(), MAX_DEPTH);
        assert_eq!(flat.matches("</div>").count(), MAX_DEPTH);
        assert_eq!(flat.matches('x').count(), n, "no text is lost");
        assert!(flat.contains("deep"));
        assert!(flat.ends_with("<b>after</b>"));
    }

    #[test]
    fn runs_of_unclosed_paragraphs_and_void_elements_are_not_nesting() {
        let html = format!("{}<div>end</div>", "<p>para<br><li>item<img src=\"a>b\"/>".repeat(2 * MAX_DEPTH));
        assert!(matches!(bound(&html), Cow::Borrowed(_)));
    }

    #[test]
    fn quoted_brackets_comments_and_scripts_do_not_confuse_it() {
        let n = MAX_DEPTH + 1;
        let html = format!(
            "{}<!-- <div> --><script>if (a<b) x('<div>')</script>{}",
            "<span title=\"a>b\">".repeat(n),
            "</span>".repeat(n)
        );
        let flat = bound(&html);
        assert_eq!(flat.matches("<span").count(), MAX_DEPTH);
        assert_eq!(flat.matches("</span>").count(), MAX_DEPTH);
        assert!(flat.contains("<!-- <div> --><script>if (a<b) x('<div>')</script>"), "{flat}");
    }
}
