//! End to end: the real binary polls fixture feeds served on 127.0.0.1, stores them once,
//! records failures on the feed rows, and renders feeds that parse back.

mod common;

use std::collections::HashMap;

use common::{fixture, Route, Server, Setup};
use serde_json::Value;

const RSS: &str = "application/rss+xml";

fn big_feed(bytes: usize) -> Vec<u8> {
    let mut doc = String::from("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Big</title>");
    let mut i = 0;
    while doc.len() < bytes {
        doc.push_str(&format!(
            "<item><guid>big-{i}</guid><title>Item {i}</title><description>{}</description></item>",
            "x".repeat(400)
        ));
        i += 1;
    }
    doc.push_str("</channel></rss>");
    doc.into_bytes()
}

async fn fixture_server() -> (Server, Vec<(&'static str, String)>) {
    let server = Server::start().await;
    let lm = "Fri, 27 Nov 2026 12:00:00 GMT";
    let routes = [
        ("rss2", "/rss2.xml", Route::feed(fixture("rss2.xml"), RSS).with_validators("\"r2-v1\"", lm)),
        ("rss1", "/rss1.rdf", Route::feed(fixture("rss1.rdf"), "application/rdf+xml").with_validators("\"r1\"", lm)),
        ("atom", "/atom.xml", Route::feed(fixture("atom.xml"), "application/atom+xml").with_validators("\"at\"", lm)),
        (
            "json",
            "/feed.json",
            Route::feed(fixture("feed.json"), "application/feed+json").with_validators("\"js\"", lm),
        ),
        ("cyrillic", "/cp1251.xml", Route::feed(fixture("cp1251.xml"), "text/xml").with_validators("\"ru\"", lm)),
        ("noguid", "/noguid.xml", {
            let mut r = Route::feed(fixture("noguid.xml"), RSS);
            r.last_modified = Some(lm.into());
            r
        }),
        ("outlet-a", "/wire-a.xml", Route::feed(fixture("wire-a.xml"), RSS).with_validators("\"a\"", lm)),
        ("outlet-b", "/wire-b.xml", Route::feed(fixture("wire-b.xml"), RSS).with_validators("\"b\"", lm)),
        ("broken", "/malformed.xml", Route::feed(fixture("malformed.xml"), RSS)),
        ("missing", "/missing.xml", Route::status(404)),
        ("huge", "/big.xml", Route::feed(big_feed(100 * 1024), RSS)),
    ];
    let mut feeds = Vec::new();
    for (name, path, route) in routes {
        server.route(path, route);
        feeds.push((name, server.url(path)));
    }
    (server, feeds)
}

fn by_feed(items: &[Value]) -> HashMap<String, Vec<&Value>> {
    let mut map: HashMap<String, Vec<&Value>> = HashMap::new();
    for item in items {
        map.entry(item["feed"].as_str().unwrap().to_string()).or_default().push(item);
    }
    map
}

fn titles(items: &[&Value]) -> Vec<String> {
    let mut t: Vec<String> = items.iter().map(|i| i["title"].as_str().unwrap().to_string()).collect();
    t.sort();
    t
}

#[tokio::test(flavor = "multi_thread")]
async fn poll_stores_each_item_once_and_records_failures() {
    let (server, feeds) = fixture_server().await;
    let setup = Setup::new("[fetch]\nmax_body = \"32KiB\"\ntimeout = \"10s\"\n", &feeds);

    let (code, out, err) = setup.run(&["poll"]).await;
    assert_eq!(code, 0, "poll failed: {out}\n{err}");
    assert_eq!(out.lines().count(), feeds.len(), "one line per feed:\n{out}");
    assert!(out.contains("rss2: 3 new, 0 duplicates, 0 already stored"), "{out}");
    assert!(out.contains("broken: error: malformed XML"), "{out}");
    assert!(out.contains("missing: error: HTTP 404 Not Found"), "{out}");
    assert!(out.contains("huge: error: response body is larger than max_body (32 KiB)"), "{out}");

    let items = setup.items().await;
    let feedwise = by_feed(&items);
    let counts: HashMap<&str, usize> = feedwise.iter().map(|(k, v)| (k.as_str(), v.len())).collect();
    let expected = [
        ("rss2", 3),
        ("rss1", 2),
        ("atom", 2),
        ("json", 2),
        ("cyrillic", 1),
        ("noguid", 2),
        ("outlet-a", 2),
        ("outlet-b", 2),
    ];
    assert_eq!(counts, expected.into_iter().collect(), "items per feed");

    assert_eq!(
        titles(&feedwise["rss2"]),
        ["Ceasefire talks resume in Geneva", "Central bank holds & signals patience", "Storm Ines batters the coast"]
    );
    let rates = feedwise["rss2"].iter().find(|i| i["guid"] == "wire-1002").unwrap();
    assert_eq!(
        rates["link"], "http://news.example/business/rates-hold",
        "relative link resolved against the feed link"
    );
    assert_eq!(rates["published"], "2026-11-27T08:30:00Z", "zone offset normalized to UTC");
    assert_eq!(titles(&feedwise["cyrillic"]), ["Переговоры возобновились в Женеве"]);
    let chip = feedwise["atom"].iter().find(|i| i["guid"] == "tag:atom.example,2026:chip").unwrap();
    assert_eq!(chip["title"], "Chip maker unveils new design");
    assert_eq!(chip["link"], "http://atom.example/blog/posts/chip.html", "xml:base applied");
    let breach = feedwise["atom"].iter().find(|i| i["guid"] == "tag:atom.example,2026:breach").unwrap();
    assert_eq!(breach["published"], "2026-11-27T10:00:00Z", "published falls back to updated");
    assert_eq!(titles(&feedwise["rss1"]), ["Comet visible this weekend", "Fusion record broken"]);
    assert_eq!(titles(&feedwise["json"]), ["Film festival opens", "Museum reopens after renovation"]);
    assert!(feedwise["noguid"].iter().all(|i| i["guid"].is_null()), "no invented guids");

    // The shared article: one original (whichever feed was stored first, as both are polled
    // concurrently), one received copy pointing at it.
    let a = feedwise["outlet-a"].iter().find(|i| i["guid"] == "http://shared.example/airline-routes").unwrap();
    let b = feedwise["outlet-b"].iter().find(|i| i["guid"] == "b-77").unwrap();
    let (original, copy) = if a["duplicate_of"].is_null() { (a, b) } else { (b, a) };
    assert_eq!(copy["duplicate_of"], original["id"]);
    assert_eq!(copy["series"], original["series"]);
    assert_eq!(items.iter().filter(|i| !i["duplicate_of"].is_null()).count(), 1);
    for item in &items {
        for key in ["id", "feed", "guid", "link", "title", "published", "first_seen", "series", "duplicate_of"] {
            assert!(item.get(key).is_some(), "export lacks `{key}`: {item}");
        }
        assert!(item["series"].is_string());
    }

    // Failures are recorded on the feed rows where `feeds` shows them.
    let (code, out, _) = setup.run(&["feeds", "--json"]).await;
    assert_eq!(code, 0);
    let rows: Vec<Value> = serde_json::from_str(&out).unwrap();
    let row = |name: &str| rows.iter().find(|r| r["name"] == name).unwrap().clone();
    assert_eq!(row("broken")["last_status"], "parse_error");
    assert!(row("broken")["last_error"].as_str().unwrap().starts_with("malformed XML"));
    assert_eq!(row("missing")["http_status"], 404);
    assert_eq!(row("missing")["error_count"], 1);
    assert_eq!(row("huge")["last_status"], "too_large");
    assert_eq!(row("rss2")["last_status"], "ok");
    assert_eq!(row("rss2")["items"], 3);
    assert_eq!(row("rss2")["title"], "Daily Wire Service");

    // A second poll sends the stored validators and stores nothing new.
    let (code, out, _) = setup.run(&["poll"]).await;
    assert_eq!(code, 0);
    for name in ["rss2", "rss1", "atom", "json", "cyrillic", "noguid", "outlet-a", "outlet-b"] {
        assert!(out.contains(&format!("{name}: not modified")), "{name} should answer 304:\n{out}");
    }
    let seen = server.requests("/rss2.xml");
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].headers.get("if-none-match"), None);
    assert_eq!(seen[1].headers.get("if-none-match").map(String::as_str), Some("\"r2-v1\""));
    assert_eq!(seen[1].headers.get("if-modified-since").map(String::as_str), Some("Fri, 27 Nov 2026 12:00:00 GMT"));
    assert!(seen[0].headers["user-agent"].starts_with("storyline/"), "{:?}", seen[0].headers);
    let again = server.requests("/noguid.xml");
    assert_eq!(again[1].headers.get("if-modified-since").map(String::as_str), Some("Fri, 27 Nov 2026 12:00:00 GMT"));
    assert_eq!(setup.items().await.len(), items.len());
    let (_, out, _) = setup.run(&["feeds", "--json"]).await;
    let rows: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(rows.iter().find(|r| r["name"] == "missing").unwrap()["error_count"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn rendered_feeds_parse_back_with_duplicates_collapsed() {
    let (_server, feeds) = fixture_server().await;
    let setup = Setup::new(
        "[fetch]\nmax_body = \"32KiB\"\n[server]\nbase_url = \"http://127.0.0.1:9999/sl\"\ntitle = \"Test & Co\"\n",
        &feeds,
    );
    assert_eq!(setup.run(&["poll"]).await.0, 0);
    let stored = setup.items().await.iter().filter(|i| i["duplicate_of"].is_null()).count();

    let mut ids_by_format = Vec::new();
    for format in ["atom", "rss", "json"] {
        let (code, out, err) = setup.run(&["render", "--format", format]).await;
        assert_eq!(code, 0, "{err}");
        let feed =
            feed_rs::parser::parse(out.as_bytes()).unwrap_or_else(|e| panic!("{format} does not parse: {e}\n{out}"));
        assert_eq!(feed.title.as_ref().unwrap().content, "Test & Co");
        assert_eq!(feed.entries.len(), stored, "{format}: one entry per original item");
        let airline: Vec<_> = feed
            .entries
            .iter()
            .filter(|e| e.title.as_ref().is_some_and(|t| t.content.starts_with("Airline scraps")))
            .collect();
        assert_eq!(airline.len(), 1, "{format}: the shared article appears once");
        let body = airline[0]
            .content
            .as_ref()
            .and_then(|c| c.body.clone())
            .or_else(|| airline[0].summary.as_ref().map(|s| s.content.clone()))
            .unwrap();
        // Both outlets are polled at once; whichever was stored second is named as the other source.
        assert!(
            body.contains("Also reported by") && (body.contains("Outlet B") || body.contains("Outlet A")),
            "{format}: {body}"
        );
        let mut ids: Vec<String> = feed.entries.iter().map(|e| e.id.clone()).collect();
        ids.sort();
        ids_by_format.push(ids);
        match format {
            "atom" => {
                assert!(out.contains("<source>") && out.contains("<title>Outlet A</title>"), "{out}");
                assert!(out.contains("href=\"http://127.0.0.1:9999/sl/feed.atom\""));
            }
            "rss" => assert!(out.contains("<atom:link href=\"http://127.0.0.1:9999/sl/feed.rss\" rel=\"self\"")),
            _ => assert!(out.contains("\"version\": \"https://jsonfeed.org/version/1.1\"")),
        }
    }
    assert_eq!(ids_by_format[0], ids_by_format[1], "entry ids are the same in every format");
    assert_eq!(ids_by_format[0], ids_by_format[2]);
    // Ids are stable across polls.
    assert_eq!(setup.run(&["poll"]).await.0, 0);
    let (_, out, _) = setup.run(&["render"]).await;
    let mut ids: Vec<String> =
        feed_rs::parser::parse(out.as_bytes()).unwrap().entries.into_iter().map(|e| e.id).collect();
    ids.sort();
    assert_eq!(ids, ids_by_format[0]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_feed_turning_bad_keeps_what_was_stored() {
    let server = Server::start().await;
    server.route(
        "/f.xml",
        Route::feed(fixture("rss2.xml"), RSS).with_validators("\"v1\"", "Fri, 27 Nov 2026 12:00:00 GMT"),
    );
    let setup = Setup::new("", &[("flaky", server.url("/f.xml"))]);
    assert_eq!(setup.run(&["poll"]).await.0, 0);
    assert_eq!(setup.items().await.len(), 3);

    server.route(
        "/f.xml",
        Route::feed(fixture("malformed.xml"), RSS).with_validators("\"v2\"", "Sat, 28 Nov 2026 12:00:00 GMT"),
    );
    let (code, out, _) = setup.run(&["poll", "flaky"]).await;
    assert_eq!(code, 0, "a failing feed is not a failing command");
    assert!(out.starts_with("flaky: error: malformed XML"), "{out}");
    assert_eq!(setup.items().await.len(), 3, "nothing stored is lost");

    // Validators of an unparsable response are not stored: the next poll still sends v1.
    server.route(
        "/f.xml",
        Route::feed(fixture("rss2.xml"), RSS).with_validators("\"v1\"", "Fri, 27 Nov 2026 12:00:00 GMT"),
    );
    let (_, out, _) = setup.run(&["poll", "flaky"]).await;
    assert_eq!(out.trim(), "flaky: not modified");
    let (_, out, _) = setup.run(&["feeds"]).await;
    assert!(out.contains("flaky  not_modified (304)  3 items"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn configuration_errors_are_located() {
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml.example");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_storyline"))
        .arg("--config")
        .arg(&example)
        .arg("check-config")
        .output()
        .unwrap();
    assert!(out.status.success(), "config.toml.example must load: {}", String::from_utf8_lossy(&out.stderr));

    let setup = Setup::new("[server]\nitems = 10\nlisten_on = \"x\"\n", &[]);
    let (code, _, err) = setup.run(&["check-config"]).await;
    assert_eq!(code, 2);
    let path = setup.config.display().to_string();
    assert!(err.starts_with(&format!("{path}:6:1: unknown field `listen_on`")), "{err}");

    let setup = Setup::new("", &[("x", "http://127.0.0.1/".into())]);
    let (code, _, err) = setup.run(&["poll", "nope"]).await;
    assert_eq!(code, 2, "unknown feed names are usage errors: {err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn redirects_are_followed_recorded_and_bounded() {
    let server = Server::start().await;
    server.route("/old.xml", Route::status(301).header("Location", "/new.xml"));
    server.route("/new.xml", Route::feed(fixture("rss2.xml.gz"), RSS).header("Content-Encoding", "gzip"));
    server.route("/temp.xml", Route::status(302).header("Location", "/rdf"));
    server.route("/rdf", Route::feed(fixture("rss1.rdf"), "application/rdf+xml"));
    server.route("/loop-a", Route::status(302).header("Location", "/loop-b"));
    server.route("/loop-b", Route::status(307).header("Location", "/loop-a"));
    for i in 0..7 {
        server.route(&format!("/hop{i}"), Route::status(302).header("Location", &format!("/hop{}", i + 1)));
    }
    server.route("/hop7", Route::feed(fixture("atom.xml"), RSS));
    let feeds = [
        ("moved", server.url("/old.xml")),
        ("temporary", server.url("/temp.xml")),
        ("looping", server.url("/loop-a")),
        ("far", server.url("/hop0")),
    ];
    let setup = Setup::new("", &feeds);
    let (code, out, _) = setup.run(&["poll"]).await;
    assert_eq!(code, 0);
    assert!(out.contains("moved: 3 new"), "gzip body decoded after a 301:\n{out}");
    assert!(out.contains("temporary: 2 new"), "{out}");
    assert!(out.contains("looping: error: redirect loop at"), "{out}");
    assert!(out.contains("far: error: more than 5 redirects"), "{out}");
    assert!(server.requests("/hop6").is_empty(), "no request past the fifth redirect");

    let (_, out, _) = setup.run(&["feeds", "--json"]).await;
    let rows: Vec<Value> = serde_json::from_str(&out).unwrap();
    let row = |name: &str| rows.iter().find(|r| r["name"] == name).unwrap().clone();
    assert_eq!(row("moved")["moved_to"], server.url("/new.xml"), "a 301 is recorded on the feed");
    assert!(row("temporary")["moved_to"].is_null(), "a 302 is not");
    assert_eq!(row("looping")["last_status"], "redirect_error");
    assert!(server.requests("/new.xml")[0].headers["accept-encoding"].contains("gzip"));
}

/// `purge-removed` deletes the items of feeds no longer configured and says how many; a
/// feed put back afterwards brings its items in again as new.
#[tokio::test(flavor = "multi_thread")]
async fn purging_removed_feeds_deletes_their_items_for_good() {
    let server = Server::start().await;
    server.route("/a.xml", Route::feed(fixture("rss2.xml"), "application/rss+xml"));
    server.route("/b.xml", Route::feed(fixture("atom.xml"), "application/atom+xml"));
    let both = [("a", server.url("/a.xml")), ("b", server.url("/b.xml"))];
    let setup = Setup::new("", &both);
    assert_eq!(setup.run(&["poll"]).await.0, 0);
    assert_eq!(setup.items().await.len(), 5);
    let only_a = Setup::new("", &both[..1]);
    std::fs::copy(&only_a.config, &setup.config).unwrap();

    let (code, out, err) = setup.run(&["purge-removed"]).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "purged 2 items of 1 removed feed");
    let items = setup.items().await;
    assert!(items.iter().all(|i| i["feed"] == "a") && items.len() == 3, "{items:?}");

    let full = Setup::new("", &both);
    std::fs::copy(&full.config, &setup.config).unwrap();
    let (code, out, _) = setup.run(&["poll", "b"]).await;
    assert_eq!(code, 0);
    assert!(out.contains("2 new"), "purged items come back as new: {out}");
}
