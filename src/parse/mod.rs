//! Bytes to normalized entries: charset, format detection (feed-rs), normalization.
//!
//! Pure: takes the body and what HTTP said about it, returns a [`ParsedFeed`] or a
//! [`ParseError`]. Must not touch the network or the database.

mod charset;
pub mod html;
mod normalize;

use std::panic::{catch_unwind, AssertUnwindSafe};

use feed_rs::parser::{ParseErrorKind, ParseFeedError};
use url::Url;

pub use charset::{decode, CharsetSource, Decoded};

use crate::model::ParsedFeed;

/// Why a body could not be read as a feed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Nothing at all.
    #[error("the response body is empty")]
    Empty,
    /// An HTML page (often a login wall or a site's front page) instead of a feed.
    #[error("the response is an HTML page, not a feed")]
    Html,
    /// Some document, but no RSS, Atom or JSON Feed root.
    #[error("no RSS, Atom or JSON Feed found in the response")]
    NotAFeed,
    /// A feed that the parser rejected.
    #[error("malformed {format}: {message}")]
    Malformed {
        /// XML or JSON.
        format: &'static str,
        /// The parser's complaint.
        message: String,
    },
    /// The parser crashed on this input; caught so the poll goes on.
    #[error("the feed parser crashed on this document: {0}")]
    Panicked(String),
}

/// Parses a feed body received from `final_url` with the given Content-Type.
pub fn parse(bytes: &[u8], content_type: Option<&str>, final_url: &Url) -> Result<ParsedFeed, ParseError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty);
    }
    let decoded = decode(bytes, content_type);
    let text = decoded.text.as_ref();
    // feed-rs invents ids for entries without one; an empty id keeps "no guid" visible so
    // identity can fall back to the link.
    let parser = feed_rs::parser::Builder::new().id_generator(|_, _, _| String::new()).build();
    let raw = catch_unwind(AssertUnwindSafe(|| parser.parse(text.as_bytes())))
        .map_err(|panic| ParseError::Panicked(panic_message(&panic)))?
        .map_err(|e| classify(e, text))?;
    Ok(normalize::feed(raw, final_url, decoded.describe()))
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

fn classify(error: ParseFeedError, text: &str) -> ParseError {
    let head: String = text.trim_start().chars().take(256).collect::<String>().to_ascii_lowercase();
    if head.starts_with("<!doctype html") || head.starts_with("<html") {
        return ParseError::Html;
    }
    match error {
        ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot) => ParseError::NotAFeed,
        ParseFeedError::JsonSerde(e) => ParseError::Malformed { format: "JSON", message: e.to_string() },
        ParseFeedError::JsonUnsupportedVersion(v) => {
            ParseError::Malformed { format: "JSON Feed", message: format!("unsupported version {v}") }
        }
        other => ParseError::Malformed { format: "XML", message: one_line(&other.to_string()) },
    }
}

fn one_line(s: &str) -> String {
    html::collapse_whitespace(s)
}
