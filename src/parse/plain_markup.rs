//! Sanitizes the common, simple shape of feed bodies without a full HTML parse: text and
//! formatting tags, links and images with absolute http(s) URLs, strictly nested, with
//! well-formed character references. Most bodies look like this (`<p>…</p>` with a few
//! `<a href>`s and an `<img>`), and for them html5ever's parse (through ammonia) was most
//! of the cost of reading a feed.
//!
//! Conservative on purpose: anything else (another attribute or tag, a comment, a stray
//! `<` or `&`, misnesting, a block inside `<p>`) is left to ammonia, and what this module
//! writes is what ammonia writes for the same input (tested). Pure; no I/O.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::text::decode_entities;

/// Tags kept as they are. Each carries no script or style; ammonia keeps them all.
const TAGS: &[&str] = &[
    "p",
    "br",
    "b",
    "i",
    "em",
    "strong",
    "u",
    "s",
    "ul",
    "ol",
    "li",
    "blockquote",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "code",
    "sub",
    "sup",
    "small",
    "hr",
    "div",
    "span",
    "dl",
    "dt",
    "dd",
    "abbr",
    "cite",
    "q",
    "mark",
    "a",
    "img",
];

/// Elements without content or end tag.
const VOID: &[&str] = &["br", "hr", "img"];

/// Elements an HTML parser would close an open `<p>` for: nesting one in a `<p>` is not
/// the structure a browser builds, so such bodies go to ammonia.
const BLOCKS: &[&str] =
    &["p", "ul", "ol", "div", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "dl", "dd", "dt", "li"];

const HEADINGS: &[&str] = &["h1", "h2", "h3", "h4", "h5", "h6"];

/// Deeper nesting goes to ammonia (it has its own limits).
const MAX_DEPTH: usize = 32;

/// ammonia's `rel` on every link.
const LINK_REL: &str = "noopener noreferrer";

/// (key, raw value) pairs of a tag.
type Attributes<'a> = Vec<(&'a str, &'a str)>;

enum Token<'a> {
    /// Raw text; its references are known to be well formed.
    Text(&'a str),
    Tag {
        closing: bool,
        name: &'a str,
        attrs: Attributes<'a>,
    },
}

/// `html` with its line breaks normalized as an HTML parser's input stream does it: CR LF
/// and a lone CR become LF (found by the differential fuzz target).
fn newlines(html: &str) -> Cow<'_, str> {
    if html.contains('\r') {
        Cow::Owned(html.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        Cow::Borrowed(html)
    }
}

/// The sanitized form of `html`, or `None` when it is not of the simple shape.
pub fn clean(html: &str) -> Option<String> {
    let html = &*newlines(html);
    let mut out = String::with_capacity(html.len() + 64);
    walk(html, |token| write_clean(&token, &mut out))?;
    Some(out)
}

/// The text of `html` with tags dropped and references decoded, or `None` when it is not
/// of the simple shape.
pub fn text(html: &str) -> Option<String> {
    let html = &*newlines(html);
    let mut out = String::with_capacity(html.len());
    walk(html, |token| write_text(&token, &mut out))?;
    Some(out)
}

/// [`clean`] and [`text`] of the same body in one reading of it.
pub fn clean_and_text(html: &str) -> Option<(String, String)> {
    let html = &*newlines(html);
    let mut clean = String::with_capacity(html.len() + 64);
    let mut text = String::with_capacity(html.len());
    walk(html, |token| match token {
        // Decoded once for both.
        Token::Text(t) => {
            let decoded = decode(t);
            escape(&decoded, false, &mut clean);
            text.push_str(&decoded);
        }
        tag => write_clean(&tag, &mut clean),
    })?;
    Some((clean, text))
}

fn write_text(token: &Token<'_>, out: &mut String) {
    if let Token::Text(t) = token {
        out.push_str(&decode(t));
    }
}

fn write_clean(token: &Token<'_>, out: &mut String) {
    match token {
        Token::Text(t) => escape(&decode(t), false, out),
        Token::Tag { closing: true, name, .. } => {
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        }
        Token::Tag { closing: false, name, attrs } => {
            out.push('<');
            out.push_str(name);
            for (key, value) in attrs {
                out.push(' ');
                out.push_str(key);
                out.push_str("=\"");
                escape(&decode(value), true, out);
                out.push('"');
            }
            if *name == "a" {
                out.push_str(" rel=\"");
                out.push_str(LINK_REL);
                out.push('"');
            }
            out.push('>');
        }
    }
}

fn decode(raw: &str) -> std::borrow::Cow<'_, str> {
    if raw.contains('&') {
        decode_entities(raw, &HashMap::new()).into()
    } else {
        raw.into()
    }
}

/// Escapes as html5ever's serializer does (`& < >` and no-break space; in attribute
/// values `"` too). Copies runs of plain bytes at once: bodies are mostly plain text.
fn escape(text: &str, attribute: bool, out: &mut String) {
    let bytes = text.as_bytes();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        let (replacement, len) = match bytes[i] {
            b'&' => ("&amp;", 1),
            // U+00A0 in UTF-8; 0xC2 only ever leads a character, so the cut is on a boundary.
            0xC2 if bytes.get(i + 1) == Some(&0xA0) => ("&nbsp;", 2),
            b'"' if attribute => ("&quot;", 1),
            b'<' => ("&lt;", 1),
            b'>' => ("&gt;", 1),
            _ => {
                i += 1;
                continue;
            }
        };
        out.push_str(&text[start..i]);
        out.push_str(replacement);
        i += len;
        start = i;
    }
    out.push_str(&text[start..]);
}

/// Hands `html` to `visit` as text and tags, checking the whole of it; `None` at the
/// first thing outside the simple shape (what was visited before it is then moot).
fn walk<'a>(html: &'a str, mut visit: impl FnMut(Token<'a>)) -> Option<()> {
    let bytes = html.as_bytes();
    let mut open: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let next = bytes[i..].iter().position(|b| *b == b'<').map_or(bytes.len(), |p| p + i);
        if next > i {
            let text = &html[i..next];
            if !text_ok(text) {
                return None;
            }
            visit(Token::Text(text));
        }
        if next == bytes.len() {
            break;
        }
        let (closing, name, attrs, len) = tag(&html[next..])?;
        nest(&mut open, name, closing)?;
        visit(Token::Tag { closing, name, attrs });
        i = next + len;
    }
    open.is_empty().then_some(())
}

/// Tracks open elements; `None` on misnesting or a structure a parser would rebuild.
fn nest<'a>(open: &mut Vec<&'a str>, name: &'a str, closing: bool) -> Option<()> {
    if closing {
        return (open.pop()? == name).then_some(());
    }
    // Start tags an HTML parser answers by closing open elements: a block in a `<p>`, a
    // link in a link, a heading in a heading, a list item in a list item.
    let innermost = |names: &[&str]| open.iter().rev().find(|o| names.contains(o)).copied();
    let rebuilt = (BLOCKS.contains(&name) && open.contains(&"p"))
        || (name == "a" && open.contains(&"a"))
        || (HEADINGS.contains(&name) && open.last().is_some_and(|o| HEADINGS.contains(o)))
        || (name == "li" && innermost(&["li", "ul", "ol"]) == Some("li"))
        || (matches!(name, "dd" | "dt") && matches!(innermost(&["dd", "dt", "dl"]), Some("dd" | "dt")));
    if rebuilt {
        return None;
    }
    if !VOID.contains(&name) {
        open.push(name);
    }
    (open.len() <= MAX_DEPTH).then_some(())
}

/// Text without NUL and with every `&` starting a well-formed reference.
fn text_ok(text: &str) -> bool {
    if text.contains('\0') {
        return false;
    }
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        let Some(len) = reference(&rest[amp..]) else { return false };
        rest = &rest[amp + len..];
    }
    true
}

/// A start or end tag at the start of `s`: whether it closes, its name, its attributes
/// and its length.
fn tag(s: &str) -> Option<(bool, &str, Attributes<'_>, usize)> {
    let closing = s[1..].starts_with('/');
    let start = 1 + usize::from(closing);
    let name_len = s[start..].bytes().take_while(|b| b.is_ascii_lowercase() || b.is_ascii_digit()).count();
    let name = &s[start..start + name_len];
    if !TAGS.contains(&name) || (closing && VOID.contains(&name)) {
        return None;
    }
    let mut at = start + name_len;
    let mut attrs: Attributes = Vec::new();
    loop {
        let rest = &s[at..];
        if let Some(end) = [">", "/>", " />"].iter().find(|e| rest.starts_with(**e)) {
            // `<p/>` is a start tag to a browser, not an empty element.
            if end.len() > 1 && !VOID.contains(&name) {
                return None;
            }
            return Some((closing, name, attrs, at + end.len()));
        }
        if closing {
            return None;
        }
        let (key, value, len) = attribute(rest)?;
        if !allowed(name, key, value) || attrs.iter().any(|(k, _)| *k == key) {
            return None;
        }
        attrs.push((key, value));
        at += len;
    }
}

/// ` key="value"` at the start of `s`: its key, raw value and length.
fn attribute(s: &str) -> Option<(&str, &str, usize)> {
    let body = s.strip_prefix(' ')?;
    let key_len = body.bytes().take_while(|b| b.is_ascii_lowercase()).count();
    let after = body[key_len..].strip_prefix("=\"")?;
    let value_len = after.find('"')?;
    let value = &after[..value_len];
    if key_len == 0 || value.contains(['<', '>']) || !text_ok(value) {
        return None;
    }
    Some((&body[..key_len], value, 1 + key_len + 2 + value_len + 1))
}

/// Attributes ammonia keeps unchanged; URLs only absolute http(s) ones (a relative one
/// would need rewriting against the base) that the `url` crate parses, as ammonia drops
/// the others (`https://:x` was found by the differential fuzz target).
fn allowed(tag: &str, key: &str, value: &str) -> bool {
    match (tag, key) {
        ("a", "href") | ("img", "src") => {
            let url = decode(value);
            (url.starts_with("https://") || url.starts_with("http://"))
                && !url.chars().any(|c| c.is_whitespace() || c.is_control() || c == '\\')
                && url::Url::parse(&url).is_ok()
        }
        ("a", "hreflang") | ("img", "alt" | "width" | "height" | "align") | (_, "title" | "lang") => true,
        _ => false,
    }
}

/// Length of a well-formed character reference at the start of `s` (`&amp;`, `&#233;`,
/// `&#xE9;`, or an HTML named one).
fn reference(s: &str) -> Option<usize> {
    let semi = s.as_bytes().iter().take(34).position(|b| *b == b';')?;
    let name = &s[1..semi];
    // Digits only: Rust's integer parsing also takes a leading `+`, which HTML does not.
    let valid = if let Some(hex) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
        (1..=6).contains(&hex.len())
            && hex.bytes().all(|b| b.is_ascii_hexdigit())
            && u32::from_str_radix(hex, 16).ok().and_then(char::from_u32).is_some_and(ok_char)
    } else if let Some(dec) = name.strip_prefix('#') {
        (1..=7).contains(&dec.len())
            && dec.bytes().all(|b| b.is_ascii_digit())
            && dec.parse::<u32>().ok().and_then(char::from_u32).is_some_and(ok_char)
    } else {
        name.bytes().all(|b| b.is_ascii_alphanumeric()) && markup5ever::data::NAMED_ENTITIES.contains_key(&s[1..=semi])
    };
    valid.then_some(semi + 1)
}

/// Characters a numeric reference may name without an HTML parser replacing them. The
/// C1 range is read as windows-1252 by HTML (`&#133;` is `…`), so it is left to ammonia
/// (found by the differential fuzz target).
fn ok_char(c: char) -> bool {
    (!c.is_control() || c.is_whitespace()) && !('\u{80}'..='\u{9f}').contains(&c)
}

#[cfg(test)]
mod tests;
