//! Differential: whenever the sanitizer's fast path (`parse/plain_markup.rs`) accepts a
//! body, its sanitized HTML and its text must equal, byte for byte, what ammonia and the
//! full-parse text give for the same body. The fast path may decline anything; it may
//! never differ.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(html) = std::str::from_utf8(data) else { return };
    let base = url::Url::parse("https://example.org/news/feed.xml").unwrap();
    let (fast, (full_clean, full_text)) = storyline::parse::html::both_paths(html, &base);
    if let Some((clean, text)) = fast {
        assert_eq!(clean, full_clean, "sanitized HTML differs for {html:?}");
        assert_eq!(text, full_text, "text differs for {html:?}");
    }
});
