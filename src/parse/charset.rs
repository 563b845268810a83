//! Bytes to UTF-8 text: which charset a feed is in, and why we think so.
//!
//! Order of evidence: byte order mark, the HTTP `Content-Type` charset, the XML
//! declaration, then sniffing (valid UTF-8), then windows-1252 (what undeclared
//! non-UTF-8 feeds almost always are). Pure; no I/O.

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

/// Decodes a feed body to UTF-8.
pub fn decode<'a>(bytes: &'a [u8], content_type: Option<&str>) -> Decoded<'a> {
    let (encoding, source, skip) = if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        (enc, CharsetSource::Bom, bom_len)
    } else if let Some(enc) = content_type.and_then(http_charset) {
        (enc, CharsetSource::Http, 0)
    } else if let Some(enc) = xml_declared(bytes) {
        (enc, CharsetSource::XmlDeclaration, 0)
    } else if std::str::from_utf8(bytes).is_ok() {
        (UTF_8, CharsetSource::Sniffed, 0)
    } else {
        (WINDOWS_1252, CharsetSource::Fallback, 0)
    };
    // A declaration of UTF-16 on bytes without a BOM is ASCII-compatible text that lied.
    let encoding = if source != CharsetSource::Bom && encoding.output_encoding() == UTF_8 { UTF_8 } else { encoding };
    let (text, _) = encoding.decode_without_bom_handling(&bytes[skip..]);
    Decoded { text: strip_declared_encoding(text), charset: encoding.name(), source }
}

/// Removes the XML declaration's `encoding`, so the XML parser reads the UTF-8 we hand it
/// as UTF-8 instead of decoding it a second time.
fn strip_declared_encoding(text: Cow<'_, str>) -> Cow<'_, str> {
    let trimmed = text.trim_start();
    if !trimmed.starts_with("<?xml") {
        return text;
    }
    let offset = text.len() - trimmed.len();
    let Some(end) = trimmed.find("?>") else { return text };
    if !trimmed[..end].contains("encoding") {
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
    fn undeclared_bytes_are_sniffed() {
        assert_eq!(decode("<a>é</a>".as_bytes(), None).source, CharsetSource::Sniffed);
        let d = decode(b"<a>\xe9</a>", None);
        assert_eq!((d.charset, &*d.text), ("windows-1252", "<a>é</a>"));
    }
}
