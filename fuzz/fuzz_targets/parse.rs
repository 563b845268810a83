//! Bytes to entries: charset detection, feed-rs, the tolerant reader and normalization
//! must return a feed or an error for any input, never panic or hang. The first byte
//! picks a Content-Type so the HTTP charset paths are explored too.
#![no_main]

use libfuzzer_sys::fuzz_target;

const TYPES: [Option<&str>; 5] = [
    None,
    Some("application/rss+xml"),
    Some("text/xml; charset=iso-8859-1"),
    Some("application/xml; charset=utf-16"),
    Some("application/feed+json"),
];

fuzz_target!(|data: &[u8]| {
    let Some((first, body)) = data.split_first() else { return };
    let url = url::Url::parse("http://fuzz.example/feed").unwrap();
    let _ = storyline::parse::parse(body, TYPES[usize::from(*first) % TYPES.len()], &url);
});
