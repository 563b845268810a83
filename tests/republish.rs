//! What storyline republishes from a hostile feed: every route is read after one poll of
//! a feed whose links use active schemes and whose text fields carry markup and event
//! handlers. No route may give out a live script, an event-handler attribute or a link of
//! another scheme than http(s). The server runs in-process on 127.0.0.1:0.

mod common;

use std::sync::Arc;

use common::{fixture, Route, Server, Setup};
use serde_json::Value;
use storyline::app::App;
use storyline::config::Config;
use storyline::publish::{self, Published};
use tokio_util::sync::CancellationToken;

/// Schemes that must never come out, in any case.
const ACTIVE_SCHEMES: [&str; 3] = ["javascript:", "vbscript:", "data:text"];

/// What in `html` (markup a browser would run) is active: a script element or an event
/// handler attribute in a tag.
fn active_markup(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    if let Some(at) = lower.find("<script") {
        return Some(lower[at..].chars().take(60).collect());
    }
    let mut rest = lower.as_str();
    while let Some(open) = rest.find('<') {
        let tag_end = rest[open..].find('>').map_or(rest.len(), |e| open + e);
        let tag = &rest[open..tag_end];
        let mut words = tag.split(|c: char| c.is_whitespace() || c == '/' || c == '"' || c == '\'');
        words.next(); // the element name
        if let Some(handler) = words.find(|w| w.starts_with("on") && w.contains('=')) {
            return Some(format!("{handler} in {tag}"));
        }
        rest = &rest[tag_end..];
    }
    None
}

/// Undoes one level of XML/HTML escaping: what a reader sees in an HTML-typed field.
fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn no_active_scheme(route: &str, text: &str) {
    for level in [text.to_string(), unescape(text), unescape(&unescape(text))] {
        let lower = level.to_ascii_lowercase();
        for scheme in ACTIVE_SCHEMES {
            assert!(!lower.contains(scheme), "{route} gives out a {scheme} URL:\n{text}");
        }
    }
}

fn no_active_markup(route: &str, html: &str) {
    if let Some(found) = active_markup(html) {
        panic!("{route} gives out active markup ({found}):\n{html}");
    }
}

/// A parsed Atom or RSS document: every HTML-typed field once decoded is inert.
fn feed_bodies_are_inert(route: &str, text: &str) {
    let feed = feed_rs::parser::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{route} does not parse: {e}"));
    if let Some(d) = &feed.description {
        no_active_markup(route, &d.content);
    }
    for e in &feed.entries {
        if let Some(body) = e.content.as_ref().and_then(|c| c.body.as_deref()) {
            no_active_markup(route, body);
        }
        if let Some(s) = &e.summary {
            no_active_markup(route, &s.content);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_text_and_links_come_out_inert_on_every_route() {
    let server = Server::start().await;
    server.route("/evil.xml", Route::feed(fixture("hostile-links.xml"), "application/rss+xml"));
    let setup = Setup::new("", &[("evil", server.url("/evil.xml"))]);
    // The last [[feed]] table is the file's end: a tag puts the feed on /tags/… too.
    let mut text = std::fs::read_to_string(&setup.config).unwrap();
    text.push_str("tags = [\"world\"]\n");
    std::fs::write(&setup.config, text).unwrap();
    let config = Config::load(&setup.config).unwrap();
    let app = App::open_writer(config.clone(), "poll").unwrap();
    let reports = app.poll(&[], |_| {}).await.unwrap();
    assert!(reports[0].to_string().contains("5 new"), "{}", reports[0]);
    drop(app);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = Arc::new(
        Published::open(
            &storyline::store::Database::open_reading(&config.storage.database, "test").unwrap(),
            config.server.clone(),
        )
        .unwrap(),
    );
    let stop = CancellationToken::new();
    let serving = tokio::spawn(publish::serve(listener, state, stop.clone()));
    let client = reqwest::Client::new();
    let get = |path: String| {
        let client = client.clone();
        let url = format!("{base}{path}");
        async move {
            let r = client.get(&url).send().await.unwrap();
            assert_eq!(r.status(), 200, "{url}");
            assert_eq!(r.headers()["x-content-type-options"], "nosniff", "{url}");
            let headers = r.headers().clone();
            (headers, r.text().await.unwrap())
        }
    };

    // The items form one series, so "In this story" blocks list each other's links.
    let (_, series) = get("/api/series?limit=10".into()).await;
    let series: Vec<Value> = serde_json::from_str(&series).unwrap();
    let story = series.iter().find(|s| s["items"].as_u64() > Some(1)).expect("a series of the hostile items");
    let id = story["id"].as_str().unwrap().to_string();
    assert!(story["items"].as_u64() >= Some(3), "{story}");

    let (headers, page) = get("/".into()).await;
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(!policy.contains("unsafe-inline") && !policy.contains("script-src"), "{policy}");
    assert!(headers.contains_key("referrer-policy"));
    no_active_markup("/", &page);
    no_active_scheme("/", &page);
    assert!(page.contains("https://safe.example/h-5"), "the http(s) link is kept:\n{page}");
    // The other pages: the same policy, nothing active.
    for path in [format!("/series/{id}"), "/feeds".to_string()] {
        let (headers, page) = get(path.clone()).await;
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(policy.contains("default-src 'none'") && !policy.contains("unsafe-inline"), "{path}: {policy}");
        no_active_markup(&path, &page);
        no_active_scheme(&path, &page);
    }

    for path in [
        "/feed.atom",
        "/feed.rss",
        "/digest.atom",
        "/tags/world.atom",
        "/tags/world.rss",
        &format!("/series/{id}.atom"),
        &format!("/series/{id}.rss"),
    ] {
        let (_, text) = get(path.to_string()).await;
        no_active_markup(path, &text);
        no_active_scheme(path, &text);
        feed_bodies_are_inert(path, &text);
    }
    let (_, rss) = get(format!("/series/{id}.rss")).await;
    let description = rss.split("<description>").nth(1).and_then(|d| d.split("</description>").next()).unwrap();
    no_active_markup("the series' RSS channel description", &unescape(description));

    for path in ["/feed.json".to_string(), "/tags/world.json".into(), format!("/series/{id}.json")] {
        let (_, text) = get(path.clone()).await;
        no_active_scheme(&path, &text);
        let doc: Value = serde_json::from_str(&text).unwrap();
        if !path.starts_with("/series/") {
            assert_eq!(doc["items"].as_array().map(Vec::len), Some(5), "{path}: every hostile item is published");
        }
        for item in doc["items"].as_array().unwrap() {
            no_active_markup(&path, item["content_html"].as_str().unwrap_or_default());
        }
    }
    for path in
        ["/api/items?limit=100".to_string(), "/api/feeds".into(), format!("/api/series/{id}"), "/metrics".into()]
    {
        let (headers, text) = get(path.clone()).await;
        no_active_scheme(&path, &text);
        let kind = headers["content-type"].to_str().unwrap();
        assert!(kind.starts_with("application/json") || kind.starts_with("text/plain"), "{path}: {kind}");
    }

    // `export items` and `inspect` say the same: the links are gone, the items are kept.
    let items = setup.items().await;
    assert_eq!(items.len(), 5);
    let links: Vec<&Value> = items.iter().map(|i| &i["link"]).collect();
    assert_eq!(links.iter().filter(|l| l.is_null()).count(), 4, "{links:?}");
    let (code, out, err) = setup.run(&["inspect", &server.url("/evil.xml")]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("link dropped: scheme not allowed (the feed's own; entry 1, 2, 3, 4)"), "{out}");
    no_active_scheme("inspect", &out);

    stop.cancel();
    serving.await.unwrap();
}

#[test]
fn the_checks_catch_what_they_look_for() {
    assert!(active_markup("<p>ok</p> &lt;script&gt;").is_none());
    assert!(active_markup("<p>a <ScRipt>x</script>").is_some());
    assert!(active_markup("<img src=x onerror=alert(1)>").is_some());
    assert!(active_markup("<p class=\"x\" onmouseover=\"y\">").is_some());
    assert!(active_markup("<p>online=yes</p>").is_none());
    assert!(std::panic::catch_unwind(|| no_active_scheme("t", "&lt;a href=&quot;JavaScript:x&quot;")).is_err());
}
