//! Bytes to UTF-8 text: which charset a feed is in, and why we think so.
//!
//! Order of evidence: byte order mark (UTF-8/16/32), zero-byte patterns (UTF-16/32), the
//! HTTP `Content-Type` charset, the XML declaration, then sniffing (valid UTF-8), then
//! windows-1252 (what undeclared non-UTF-8 feeds almost always are). Declarations the
//! bytes contradict are overruled, and text garbled upstream (C1 controls, UTF-8
//! encoded twice) is repaired. Pure; no I/O.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

/// Where the charset decision came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CharsetSource {
    /// A byte order mark.
    Bom,
    /// The HTTP Content-Type charset parameter.
    Http,
    /// The XML declaration's `encoding`.
    XmlDeclaration,
    /// Nothing declared; the bytes are valid UTF-8.
    Sniffed,
    /// Nothing declared and not UTF-8: windows-1252.
    Fallback,
}

impl CharsetSource {
    fn describe(self) -> &'static str {
        match self {
            CharsetSource::Bom => "byte order mark",
            CharsetSource::Http => "HTTP Content-Type",
            CharsetSource::XmlDeclaration => "XML declaration",
            CharsetSource::Sniffed => "valid UTF-8",
            CharsetSource::Fallback => "fallback",
        }
    }
}

/// Decoded text and how it was decoded.
#[derive(Debug)]
pub struct Decoded<'a> {
    /// The document as UTF-8, with any XML declaration's encoding removed.
    pub text: Cow<'a, str>,
    /// The charset's name.
    pub charset: &'static str,
    /// The evidence.
    pub source: CharsetSource,
    /// What contradicted the evidence or had to be repaired.
    pub warnings: Vec<String>,
}

impl Decoded<'_> {
    /// e.g. `windows-1251 (HTTP Content-Type)`.
    pub fn describe(&self) -> String {
        format!("{} ({})", self.charset, self.source.describe())
    }
}

/// The `charset` parameter of a Content-Type header value.
fn http_charset(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|param| {
        let (k, v) = param.split_once('=')?;
        if !k.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        Encoding::for_label(v.trim().trim_matches(|c| c == '"' || c == '\'').as_bytes())
    })
}

/// The `encoding` pseudo-attribute of an XML declaration at the start of `bytes`.
fn xml_declared(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(512)];
    let start = head.windows(5).position(|w| w == b"<?xml")?;
    let end = start + head[start..].windows(2).position(|w| w == b"?>")?;
    let decl = std::str::from_utf8(&head[start..end]).ok()?;
    let after = &decl[decl.find("encoding")? + "encoding".len()..];
    let after = after.trim_start().strip_prefix('=')?.trim_start();
    let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &after[1..][..after[1..].find(quote)?];
    Encoding::for_label(value.trim().as_bytes())
}

/// A UTF-16 or UTF-32 document without a byte order mark, told by where the zero bytes
/// of its first `<` fall.
fn sniff_wide(bytes: &[u8]) -> Option<&'static str> {
    match bytes.get(..4)? {
        [0x3C, 0, 0, 0] => Some("UTF-32LE"),
        [0, 0, 0, 0x3C] => Some("UTF-32BE"),
        [0x3C, 0, _, 0] => Some("UTF-16LE"),
        [0, 0x3C, 0, _] => Some("UTF-16BE"),
        _ => None,
    }
}

/// UTF-32 (which encoding_rs does not read), invalid code points replaced.
fn decode_utf32(bytes: &[u8], big_endian: bool) -> String {
    bytes
        .chunks(4)
        .map(|c| {
            let mut b = [0u8; 4];
            b[..c.len()].copy_from_slice(c);
            let n = if big_endian { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) };
            char::from_u32(n).unwrap_or(char::REPLACEMENT_CHARACTER)
        })
        .collect()
}

/// Decodes wide (UTF-16/32) text named `name`, skipping `skip` BOM bytes.
fn decode_wide(bytes: &[u8], name: &'static str, skip: usize) -> String {
    match name {
        "UTF-32LE" => decode_utf32(&bytes[skip..], false),
        "UTF-32BE" => decode_utf32(&bytes[skip..], true),
        other => {
            let enc = Encoding::for_label(other.as_bytes()).unwrap_or(encoding_rs::UTF_16LE);
            enc.decode_without_bom_handling(&bytes[skip..]).0.into_owned()
        }
    }
}

/// Whether the bytes hold non-ASCII text that is valid UTF-8 (strong evidence of UTF-8
/// whatever was declared: legacy text is almost never valid UTF-8 by chance).
fn is_rich_utf8(bytes: &[u8]) -> bool {
    !bytes.is_ascii() && std::str::from_utf8(bytes).is_ok()
}

/// Decodes a feed body to UTF-8.
///
/// Wide encodings come from a byte order mark or the position of zero bytes. Otherwise
/// the HTTP charset, then the XML declaration (for `text/*` as for `application/*xml`,
/// as RFC 7303 says), then sniffing. A declaration the bytes contradict loses: declared
/// UTF-8 that is not valid UTF-8 is read as windows-1252, and a declared legacy charset
/// on valid non-ASCII UTF-8 is read as UTF-8. C1 control characters are mapped as
/// windows-1252, and UTF-8 that was encoded twice is repaired.
pub fn decode<'a>(bytes: &'a [u8], content_type: Option<&str>) -> Decoded<'a> {
    let mut warnings = Vec::new();
    let wide = match bytes {
        [0xFF, 0xFE, 0, 0, ..] => Some(("UTF-32LE", CharsetSource::Bom, 4)),
        [0, 0, 0xFE, 0xFF, ..] => Some(("UTF-32BE", CharsetSource::Bom, 4)),
        [0xFF, 0xFE, ..] => Some(("UTF-16LE", CharsetSource::Bom, 2)),
        [0xFE, 0xFF, ..] => Some(("UTF-16BE", CharsetSource::Bom, 2)),
        _ => sniff_wide(bytes).map(|name| (name, CharsetSource::Sniffed, 0)),
    };
    if let Some((name, source, skip)) = wide {
        let text = decode_wide(bytes, name, skip);
        return finish(Cow::Owned(text), name, source, warnings);
    }
    let (bytes, bom) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (rest, true),
        None => (bytes, false),
    };
    let declared = if bom {
        Some((UTF_8, CharsetSource::Bom))
    } else {
        content_type
            .and_then(http_charset)
            .map(|e| (e, CharsetSource::Http))
            .or_else(|| xml_declared(bytes).map(|e| (e, CharsetSource::XmlDeclaration)))
    };
    let (encoding, source) = match declared {
        // A declaration of UTF-16 on bytes without zero bytes is ASCII-compatible text that lied.
        Some((enc, src)) if enc.output_encoding() == UTF_8 || enc == UTF_8 => {
            if std::str::from_utf8(bytes).is_ok() {
                (UTF_8, src)
            } else {
                warnings.push(format!(
                    "declared UTF-8 ({}) but the bytes are not UTF-8: read as windows-1252",
                    src.describe()
                ));
                (WINDOWS_1252, CharsetSource::Fallback)
            }
        }
        Some((enc, src)) if is_rich_utf8(bytes) => {
            warnings.push(format!(
                "declared {} ({}) but the bytes are valid UTF-8: read as UTF-8",
                enc.name(),
                src.describe()
            ));
            (UTF_8, CharsetSource::Sniffed)
        }
        Some((enc, src)) => (enc, src),
        None if std::str::from_utf8(bytes).is_ok() => (UTF_8, CharsetSource::Sniffed),
        None => (WINDOWS_1252, CharsetSource::Fallback),
    };
    let (text, _) = encoding.decode_without_bom_handling(bytes);
    finish(text, encoding.name(), source, warnings)
}

fn finish<'a>(
    text: Cow<'a, str>,
    charset: &'static str,
    source: CharsetSource,
    mut warnings: Vec<String>,
) -> Decoded<'a> {
    let text = map_c1_controls(text, &mut warnings);
    let text = repair_double_encoding(text, &mut warnings);
    Decoded { text: strip_declared_encoding(text), charset, source, warnings }
}

/// C1 control characters (U+0080-U+009F) in text are windows-1252 bytes decoded as
/// Latin-1 somewhere upstream: curly quotes and dashes.
fn map_c1_controls<'a>(text: Cow<'a, str>, warnings: &mut Vec<String>) -> Cow<'a, str> {
    let is_c1 = |c: char| ('\u{80}'..='\u{9f}').contains(&c);
    // In UTF-8 they are 0xC2 followed by 0x80-0x9F: a byte search, not a char walk.
    let bytes = text.as_bytes();
    if !memchr::memchr_iter(0xC2, bytes).any(|i| bytes.get(i + 1).is_some_and(|b| (0x80..=0x9F).contains(b))) {
        return text;
    }
    warnings.push("C1 control characters read as windows-1252".into());
    let mapped: String = text
        .chars()
        .map(|c| {
            if is_c1(c) {
                let byte = [c as u8];
                let (s, _) = WINDOWS_1252.decode_without_bom_handling(&byte);
                s.chars().next().unwrap_or(c)
            } else {
                c
            }
        })
        .collect();
    Cow::Owned(mapped)
}

/// UTF-8 that was decoded as windows-1252 and encoded again ("KÃ¤lte" for "Kälte"): when
/// the text is full of such pairs and going back gives valid UTF-8, go back.
fn repair_double_encoding<'a>(text: Cow<'a, str>, warnings: &mut Vec<String>) -> Cow<'a, str> {
    // The markers 'Ã', 'Â' and "â€" all start with byte 0xC3 in UTF-8.
    let bytes = text.as_bytes();
    let marker = |i: usize| match bytes.get(i + 1) {
        Some(0x82 | 0x83) => true,
        Some(0xA2) => bytes.get(i + 2..i + 5) == Some("€".as_bytes()),
        _ => false,
    };
    if !memchr::memchr_iter(0xC3, bytes).any(marker) {
        return text;
    }
    let (bytes, _, unmappable) = WINDOWS_1252.encode(&text);
    if unmappable {
        return text;
    }
    match String::from_utf8(bytes.into_owned()) {
        Ok(repaired) if repaired.len() < text.len() => {
            warnings.push("text was UTF-8 encoded twice: repaired".into());
            Cow::Owned(repaired)
        }
        _ => text,
    }
}

/// Removes the XML declaration's `encoding` unless it says UTF-8, so the XML parser reads
/// the UTF-8 we hand it as UTF-8 instead of decoding it a second time.
fn strip_declared_encoding(text: Cow<'_, str>) -> Cow<'_, str> {
    let trimmed = text.trim_start();
    if !trimmed.starts_with("<?xml") {
        return text;
    }
    let offset = text.len() - trimmed.len();
    let Some(end) = trimmed.find("?>") else { return text };
    let declaration = trimmed[..end].to_ascii_lowercase();
    let Some(at) = declaration.find("encoding") else { return text };
    // A declared UTF-8 is already true of the text we hand on: copying the whole document
    // to drop it would cost more than anything else done here.
    let value = declaration[at + "encoding".len()..].trim_start_matches([' ', '=', '"', '\'']);
    if value.starts_with("utf-8") || value.starts_with("utf8") {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    out.push_str("<?xml version=\"1.0\"?>");
    out.push_str(&text[offset + end + 2..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_wins() {
        let d = decode(b"\xEF\xBB\xBF<rss/>", Some("text/xml; charset=iso-8859-1"));
        assert_eq!((d.charset, d.source, &*d.text), ("UTF-8", CharsetSource::Bom, "<rss/>"));
    }

    #[test]
    fn http_charset_then_declaration() {
        let body = b"<?xml version='1.0' encoding='windows-1251'?><t>\xcf\xf0\xe8</t>";
        let d = decode(body, Some("application/rss+xml"));
        assert_eq!(d.source, CharsetSource::XmlDeclaration);
        assert_eq!(&*d.text, "<?xml version=\"1.0\"?><t>При</t>");
        let d = decode(body, Some("text/xml; charset=\"KOI8-R\""));
        assert_eq!((d.charset, d.source), ("KOI8-R", CharsetSource::Http));
    }

    #[test]
    fn wide_encodings_and_contradicted_declarations() {
        let utf16: Vec<u8> = "<rss>é</rss>".encode_utf16().flat_map(u16::to_be_bytes).collect();
        let d = decode(&utf16, None);
        assert_eq!((d.charset, d.source, &*d.text), ("UTF-16BE", CharsetSource::Sniffed, "<rss>é</rss>"));
        let mut utf32 = vec![0xFF, 0xFE, 0, 0];
        utf32.extend("<rss>é</rss>".chars().flat_map(|c| (c as u32).to_le_bytes()));
        assert_eq!(&*decode(&utf32, None).text, "<rss>é</rss>");
        let d = decode(b"<?xml version='1.0' encoding='utf-8'?><a>\x93q\x94</a>", None);
        // The declaration now says what the text is (UTF-8), so it stays.
        assert_eq!(
            (d.charset, &*d.text),
            ("windows-1252", "<?xml version='1.0' encoding='utf-8'?><a>\u{201c}q\u{201d}</a>")
        );
        assert_eq!(d.warnings.len(), 1);
        let d = decode("<a>Kälte</a>".as_bytes(), Some("text/xml; charset=iso-8859-1"));
        assert_eq!((d.charset, &*d.text), ("UTF-8", "<a>Kälte</a>"));
    }

    #[test]
    fn text_xml_without_charset_follows_the_declaration() {
        // RFC 7303: text/* without a charset no longer means US-ASCII.
        let body = b"<?xml version='1.0' encoding='windows-1251'?><t>\xcf\xf0\xe8</t>";
        let d = decode(body, Some("text/xml"));
        assert_eq!((d.charset, d.source), ("windows-1251", CharsetSource::XmlDeclaration));
    }

    #[test]
    fn garbled_text_is_repaired() {
        assert_eq!(&*decode("<a>KÃ¤lte â€“ â€œEisâ€\u{9d}</a>".as_bytes(), None).text, "<a>Kälte – “Eis”</a>");
        assert_eq!(&*decode("<a>\u{93}yes\u{94}</a>".as_bytes(), None).text, "<a>“yes”</a>");
        assert_eq!(&*decode("<a>Ãœber 100 Â°C</a>".as_bytes(), None).text, "<a>Über 100 °C</a>");
        assert_eq!(&*decode("<a>â€œQuoteâ€\u{9d}</a>".as_bytes(), None).text, "<a>“Quote”</a>", "â€ alone");
        let plain = "<a>São Paulo, Ärzte, Â</a>";
        assert_eq!(&*decode(plain.as_bytes(), None).text, plain, "real text with Ã or Â is left alone");
    }

    #[test]
    fn a_declared_utf8_document_is_handed_on_as_it_is() {
        let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss>é</rss>";
        let d = decode(body.as_bytes(), Some("application/rss+xml"));
        assert!(matches!(d.text, Cow::Borrowed(_)), "no copy of the document");
        assert_eq!(&*d.text, body);
    }

    #[test]
    fn undeclared_bytes_are_sniffed() {
        assert_eq!(decode("<a>é</a>".as_bytes(), None).source, CharsetSource::Sniffed);
        let d = decode(b"<a>\xe9</a>", None);
        assert_eq!((d.charset, &*d.text), ("windows-1252", "<a>é</a>"));
    }
}
