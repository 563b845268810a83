//! Plain-text helpers every stage uses: escaping for HTML and XML, whitespace, cutting
//! text to a length, character references, and the one stable hash. A leaf: it depends on
//! no other module of the crate (only on the HTML entity table).

use std::collections::HashMap;

/// At most the first `max_bytes` bytes of `text`, cut at a character boundary.
pub fn prefix(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `text` in at most `max_bytes` bytes: whole when it fits, else cut at the last word
/// boundary of the allowed length (at a character boundary when there is no near one)
/// with an ellipsis.
pub fn cap(text: &str, max_bytes: usize) -> String {
    if text.len() <= max_bytes {
        return text.to_string();
    }
    let head = prefix(text, max_bytes.saturating_sub('…'.len_utf8()));
    // A word boundary in the last quarter; further back, a cut word reads better than a
    // title that loses a quarter of its length.
    let head = match head.rfind(char::is_whitespace) {
        Some(space) if space >= head.len() * 3 / 4 => &head[..space],
        _ => head,
    };
    format!("{}…", head.trim_end())
}

/// Whether `c` is an invisible character that changes how the text around it reads:
/// bidirectional overrides, embeddings and isolates, and zero-width format characters.
pub fn is_format_control(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// Text from a feed as it may be printed to a terminal: control characters (which could
/// move the cursor, recolour or rewrite what was printed before) and the characters of
/// [`is_format_control`] shown as `\u{..}` escapes; line breaks and tabs kept.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| (c.is_control() && c != '\n' && c != '\t') || is_format_control(c);
    if !text.chars().any(bad) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if bad(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Escapes plain text for HTML and XML alike, dropping the control characters XML 1.0
/// cannot carry (a stray one would make a whole feed unreadable).
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Trims and turns every run of whitespace into one space.
pub fn collapse_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Cuts text to at most `max` characters at a word boundary, adding an ellipsis.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{}…", cut.trim_end())
}

/// Decodes character references: XML's five, ones a DOCTYPE declared, HTML's named ones,
/// decimal and hex (either case of `x`). An `&` that starts none of these is literal.
pub fn decode_entities(raw: &str, declared: &HashMap<String, String>) -> String {
    if !raw.contains('&') {
        return raw.to_string();
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        // Looked for within the longest reference only: a scan to the next `;` for every
        // bare `&` would be quadratic.
        let semi = rest.as_bytes()[1..].iter().take(40).position(|b| *b == b';').map(|i| i + 1);
        let decoded = semi.and_then(|semi| reference(&rest[1..semi], declared).map(|t| (t, semi + 1)));
        match decoded {
            Some((text, len)) => {
                out.push_str(&text);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn reference(name: &str, declared: &HashMap<String, String>) -> Option<String> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code).filter(|c| *c != '\0').map(String::from);
    }
    match name {
        "amp" => Some("&".into()),
        "lt" => Some("<".into()),
        "gt" => Some(">".into()),
        "quot" => Some("\"".into()),
        "apos" => Some("'".into()),
        _ => declared.get(name).cloned().or_else(|| {
            let (a, b) = markup5ever::data::NAMED_ENTITIES.get(format!("{name};").as_str())?;
            let mut s: String = char::from_u32(*a).into_iter().collect();
            s.extend(char::from_u32(*b).filter(|_| *b != 0));
            Some(s)
        }),
    }
}

/// FNV-1a over the concatenated byte strings: stable across runs, versions and platforms
/// (unlike the std hasher), for what is stored or must not move between runs (dedupe
/// keys, schedule jitter, headline fingerprints). Not for untrusted keys in hash tables.
pub fn stable_hash<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in parts.into_iter().flatten() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// `name` as one URL path segment: anything but unreserved characters percent-encoded, so
/// a feed named `a/b` or a tag `R&D` gives a link that leads back to it.
pub fn path_segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_text_prints_without_terminal_controls() {
        assert_eq!(printable("plain\ttext\n"), "plain\ttext\n");
        assert_eq!(printable("red\u{1b}[31m alert\u{202e}txt"), "red\\u{1b}[31m alert\\u{202e}txt");
        assert_eq!(printable("back\rspace\u{9b}"), "back\\u{d}space\\u{9b}");
    }

    #[test]
    fn capping_cuts_at_a_word_within_the_bytes() {
        assert_eq!(cap("short", 10), "short");
        assert_eq!(cap("one two three four", 17), "one two three…");
        assert_eq!(cap("one two three four", 15), "one two thre…", "no word boundary near the end");
        let cut = cap(&"é".repeat(100), 11);
        assert!(cut.len() <= 11 && cut.ends_with("é…"), "{cut}");
    }

    #[test]
    fn shortening_cuts_at_words() {
        assert_eq!(shorten("one two three", 9), "one two…");
        assert_eq!(shorten("short", 9), "short");
        assert_eq!(prefix("añb", 2), "a");
        assert_eq!(prefix("añb", 3), "añ");
    }

    #[test]
    fn the_stable_hash_is_fnv1a_over_the_parts() {
        assert_eq!(stable_hash([&b""[..]]), 0xcbf2_9ce4_8422_2325);
        assert_eq!(stable_hash([&b"a"[..]]), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(stable_hash([&b"ab"[..]]), stable_hash([&b"a"[..], &b"b"[..]]));
    }

    #[test]
    fn a_path_segment_leads_back_to_its_name() {
        assert_eq!(path_segment("wire-a_1.b~"), "wire-a_1.b~");
        assert_eq!(path_segment("R&D/é"), "R%26D%2F%C3%A9");
    }
}
