//! Real-world breakage: the real binary's `inspect --json` on each fixture in
//! tests/fixtures/real (written by its make.py), checked for the entries, titles, links
//! and dates a reader expects, and for a warning that names each repair. Also `inspect`
//! of a URL served on 127.0.0.1.

mod common;

use common::{fixture, Route, Server, Setup};
use serde_json::Value;

async fn inspect(setup: &Setup, target: &str) -> (i32, Value) {
    let (code, out, err) = setup.run(&["inspect", "--json", target]).await;
    let value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{target}: {e}: {out} {err}"));
    (code, value)
}

fn real(name: &str) -> String {
    format!("{}/tests/fixtures/real/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// (fixture, entries, first title, first link, first published, a word the warnings contain)
type Case = (&'static str, usize, &'static str, &'static str, Option<&'static str>, &'static str);

const CASES: &[Case] = &[
    ("utf16le-bom.xml", 3, "Story 1", "http://example.com/1", None, ""),
    ("utf16be-nobom.xml", 3, "Story 1", "http://example.com/1", None, ""),
    ("utf32le-bom.xml", 3, "Story 1", "http://example.com/1", None, ""),
    ("cp1252-undeclared.xml", 1, "Café “quotes” – dash", "http://example.com/c", None, ""),
    ("declared-utf8-is-cp1252.xml", 1, "Café “quotes”", "http://example.com/c", None, "not UTF-8"),
    ("declared-latin1-is-utf8.xml", 1, "Kälte in München", "http://example.com/k", None, "valid UTF-8"),
    ("double-encoded.xml", 1, "Kälte in München – “Eis“", "http://example.com/k", None, "twice"),
    ("c1-controls.xml", 1, "He said “yes” – twice", "http://example.com/c1", None, "C1"),
    ("rss-noversion.xml", 3, "Story 1", "http://example.com/1", None, "tolerant"),
    ("rss091-doctype.xml", 3, "Story 1", "http://example.com/1", None, ""),
    ("rss092.xml", 3, "Story 1", "http://example.com/1", None, ""),
    ("rss094.xml", 3, "Story 1", "http://example.com/1", None, "tolerant"),
    ("rss201.xml", 3, "Story 1", "http://example.com/1", None, "tolerant"),
    ("rss-default-ns.xml", 3, "Story 1", "http://example.com/1", None, "tolerant"),
    ("rss090.xml", 3, "Story 1", "http://example.com/1", None, "tolerant"),
    ("atom03.xml", 3, "Story 1", "http://example.com/1", Some("2024-06-01T10:00:00+00:00"), "tolerant"),
    ("wrapped-in-html.xml", 3, "Story 1", "http://example.com/1", None, "tolerant"),
    ("wrapped-in-envelope.xml", 3, "Story 1", "http://example.com/1", None, "tolerant"),
    ("html-entities.xml", 4, "Café news — today…", "http://example.com/e", None, ""),
    ("bare-ampersand.xml", 4, "AT&T and Procter & Gamble", "http://example.com/a?x=1&y=2", None, "tolerant"),
    ("hex-entity-upper.xml", 4, "It’s here AA", "http://example.com/h", None, ""),
    ("unclosed-cdata.xml", 3, "One", "http://example.com/1", None, "tolerant"),
    ("mismatched-tags.xml", 4, "Bold claim", "http://example.com/m", None, "tolerant"),
    ("unclosed-item.xml", 4, "Open item", "http://example.com/o", None, "tolerant"),
    ("attribute-quotes.xml", 3, "Story 1", "http://example.com/1", Some("2024-06-03T10:00:00+00:00"), ""),
    ("doctype-entities.xml", 4, "© 2024 Example", "http://example.com/d", None, ""),
    ("atom-unknown-type.xml", 3, "Story 1", "http://example.com/1", Some("2024-06-03T10:00:00+00:00"), "tolerant"),
    ("one-bad-element.xml", 4, "Bad date", "http://example.com/b", None, "unreadable date"),
    ("fields.xml", 8, "Title from dc", "http://example.com/p/1", Some("2024-06-03T08:00:00+00:00"), "feed-rs"),
    ("atom-url-ids.xml", 2, "Marked up", "http://example.com/blog/1", Some("2024-06-03T10:00:00+00:00"), ""),
];

#[tokio::test]
async fn every_fixture_is_read_with_its_entries() {
    let setup = Setup::new("", &[]);
    let mut failures = Vec::new();
    for (name, count, title, link, published, warning) in CASES {
        let (code, v) = inspect(&setup, &real(name)).await;
        let entries = v["entries"].as_array().cloned().unwrap_or_default();
        let first = entries.first().cloned().unwrap_or(Value::Null);
        let warnings = v["warnings"].to_string();
        let got = (code, entries.len(), first["title"].as_str(), first["link"].as_str(), first["published"].as_str());
        if got != (0, *count, Some(*title), Some(*link), *published) || !warnings.contains(warning) {
            failures.push(format!("{name}: got {got:?}, warnings {warnings}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn fields_come_from_every_element_that_carries_them() {
    let setup = Setup::new("", &[]);
    let (_, v) = inspect(&setup, &real("fields.xml")).await;
    let e = v["entries"].as_array().unwrap();
    let field = |i: usize, k: &str| e[i][k].as_str().map(str::to_string);
    assert_eq!(field(1, "title").as_deref(), Some("Title from media"));
    assert_eq!(field(1, "link").as_deref(), Some("http://example.com/a.mp3"), "an enclosure is the link");
    assert_eq!(field(1, "published").as_deref(), Some("2024-06-03T00:00:00+00:00"), "dcterms:issued");
    assert_eq!(field(2, "link").as_deref(), Some("http://example.com/news/a/3"), "relative to xml:base");
    assert_eq!(field(2, "published").as_deref(), Some("2024-06-03T15:00:00+00:00"), "EST, no seconds");
    assert_eq!(field(4, "published").as_deref(), Some("2024-06-03T10:00:00+00:00"), "spelled out");
    assert_eq!(field(6, "published").as_deref(), Some("2024-06-04T08:00:00+00:00"), "dcterms:modified");
    assert_eq!(field(7, "title").as_deref(), Some("Nested base and spaces"), "markup and whitespace");
    assert_eq!(field(7, "link").as_deref(), Some("http://example.com/news/deep/page.html"), "nested xml:base");
}

#[tokio::test]
async fn inspect_reads_urls_and_reports_what_is_not_a_feed() {
    let server = Server::start().await;
    server.route("/feed", Route::feed(fixture("rss2.xml"), "application/rss+xml"));
    server.route("/page", Route::feed(&b"<!DOCTYPE html><html><body>Log in</body></html>"[..], "text/html"));
    let setup = Setup::new("", &[]);
    let (code, v) = inspect(&setup, &server.url("/feed")).await;
    assert_eq!(code, 0);
    assert_eq!(v["http_status"], 200);
    assert!(!v["entries"].as_array().unwrap().is_empty());
    // A page of a site serving /feed: discovery finds it at the usual path.
    let (code, v) = inspect(&setup, &server.url("/page")).await;
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["feeds_found"][0]["url"], server.url("/feed"));
    // A page of a site without any feed.
    let bare = Server::start().await;
    bare.route("/page", Route::feed(&b"<!DOCTYPE html><html><body>Log in</body></html>"[..], "text/html"));
    let (code, v) = inspect(&setup, &bare.url("/page")).await;
    assert_eq!(code, 1);
    assert!(v["error"].as_str().unwrap().starts_with("the response is an HTML page, not a feed"), "{v}");
    server.route("/lying", Route::status(304));
    let (code, v) = inspect(&setup, &server.url("/lying")).await;
    assert_eq!(code, 1, "a 304 to an unconditional request is an error, not a crash");
    assert!(v["error"].as_str().unwrap().contains("304 Not Modified"), "{v}");
    let (code, out, _) = setup.run(&["inspect", &server.url("/feed")]).await;
    assert_eq!(code, 0);
    assert!(out.contains("format:   RSS 2.0") && out.contains("identity:"), "{out}");
    assert!(setup.run(&["poll"]).await.0 == 0 && setup.items().await.is_empty(), "inspect stores nothing");
}

#[tokio::test]
async fn a_repaired_feed_is_stored_and_says_what_was_repaired() {
    let server = Server::start().await;
    server.route("/cdata.xml", Route::feed(std::fs::read(real("unclosed-cdata.xml")).unwrap(), "application/rss+xml"));
    let setup = Setup::new("", &[("cdata", server.url("/cdata.xml"))]);
    let (code, out, _) = setup.run(&["poll"]).await;
    assert_eq!((code, out.trim()), (0, "cdata: 3 new, 0 duplicates, 0 already stored"));
    let (_, feeds, _) = setup.run(&["feeds", "--json"]).await;
    let feeds: Value = serde_json::from_str(&feeds).unwrap();
    assert!(feeds[0]["warning"].as_str().unwrap().contains("tolerant parser"), "{feeds}");
    assert_eq!(feeds[0]["last_error"], Value::Null);
    let (_, text, _) = setup.run(&["feeds"]).await;
    assert!(text.contains("read with repairs: read with the tolerant parser"), "{text}");
}

/// Markup that makes the HTML parser log twice per element: one poll writes a handful of
/// lines, and the feed's row counts the messages once.
#[tokio::test]
async fn hostile_markup_does_not_flood_the_log() {
    let tables = "&lt;table&gt;x&lt;/table&gt;".repeat(5_000);
    let doc = format!(
        "<rss version=\"2.0\"><channel><title>T</title><item><title>Tables</title>\
         <link>http://t.example/1</link><description>{tables}</description></item></channel></rss>"
    );
    let server = Server::start().await;
    server.route("/tables.xml", Route::feed(doc, "application/rss+xml"));
    let setup = Setup::new("", &[("tables", server.url("/tables.xml"))]);
    let (code, out, err) = setup.run(&["poll"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("tables: 1 new"), "{out}");
    assert!(err.lines().count() < 5, "{} log lines, first: {:?}", err.lines().count(), err.lines().next());
    let (_, feeds, _) = setup.run(&["feeds", "--json"]).await;
    let feeds: Value = serde_json::from_str(&feeds).unwrap();
    let warning = feeds[0]["warning"].as_str().unwrap();
    assert!(
        warning.contains("the HTML parser logged") && warning.contains("foster parenting not implemented ("),
        "{warning}"
    );
}

/// Text a feed sends is printed as text: terminal control sequences in it (which could
/// rewrite what the terminal shows) come out as escapes.
#[tokio::test]
async fn inspect_prints_no_terminal_controls_from_a_feed() {
    let setup = Setup::new("", &[]);
    let path = setup.dir.path().join("controls.json");
    let doc = r#"{"version":"https://jsonfeed.org/version/1.1","title":"Feed\u001b]0;owned\u0007",
        "items":[{"id":"1","url":"http://c.example/1","title":"Red \u001b[31malert\u202e"}]}"#;
    std::fs::write(&path, doc).unwrap();
    let (code, out, err) = setup.run(&["inspect", path.to_str().unwrap()]).await;
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains('\u{1b}') && !out.contains('\u{7}') && !out.contains('\u{202e}'), "{out:?}");
    assert!(out.contains("Red \\u{1b}[31malert\\u{202e}"), "{out}");
}
