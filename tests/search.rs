//! Search: the HTML page grouped by story, the saved search as a feed, and the CLI, over
//! a store polled from fixture feeds on loopback; a query the index cannot read gets its
//! reason and a 400 (exit 2 from the CLI), never a 500.

mod common;

use common::{fixture, Route, Server, Setup};
use serde_json::Value;

const RSS: &str = "application/rss+xml";

#[tokio::test(flavor = "multi_thread")]
async fn a_search_is_a_page_a_feed_and_a_command() {
    let server = Server::start().await;
    for name in ["outlet-x", "outlet-y"] {
        server.route(&format!("/{name}.xml"), Route::feed(fixture(&format!("{name}.xml")), RSS));
    }
    let setup = Setup::new("", &[("x", server.url("/outlet-x.xml")), ("y", server.url("/outlet-y.xml"))]);
    assert_eq!(setup.run(&["poll"]).await.0, 0);

    // The command: newest first, each line naming its story.
    let (code, out, err) = setup.run(&["search", "icahn"]).await;
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.len() >= 2 && lines.iter().all(|l| l.contains("Icahn") && l.contains(" [")), "{out}");
    let (_, json, _) = setup.run(&["search", "banana OR fyffes", "--json"]).await;
    let found: Vec<Value> = serde_json::from_str(&json).unwrap();
    assert!(found.len() >= 2 && found.iter().all(|f| f["series_title"].is_string()), "{json}");
    let (code, _, err) = setup.run(&["search", "\"unclosed"]).await;
    assert_eq!(code, 2, "a query the index cannot read is a usage error");
    assert!(err.contains("cannot search for that"), "{err}");

    let config = storyline::config::Config::load(&setup.config).unwrap();
    let database = storyline::store::Database::open_reading(&config.storage.database, "test").unwrap();
    let state = std::sync::Arc::new(storyline::publish::Published::open(&database, config.server.clone()).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let stop = tokio_util::sync::CancellationToken::new();
    let serving = tokio::spawn(storyline::publish::serve(listener, state, stop.clone()));
    let get = |path: String| {
        let url = format!("{base}{path}");
        async move { reqwest::get(url).await.unwrap() }
    };

    // The page: the eBay story's heading links to it, its matches under it; the strays
    // under "Not in a story"; the query's feeds announced.
    let page = get("/search?q=icahn%20OR%20library".into()).await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    let (story, alone) = (page.find("<h2><a href=\"/series/").unwrap(), page.find("Not in a story").unwrap());
    assert!(story < alone && page[alone..].contains("Local library"), "{page}");
    assert!(page.contains("rel=\"alternate\" type=\"application/atom+xml\""), "{page}");
    assert!(page.contains("search.atom?q=icahn%20OR%20library"), "{page}");
    assert!(get("/search".into()).await.text().await.unwrap().contains("name=\"q\""), "an empty query: the box");

    // The feed: what the page found, as entries a reader subscribes to.
    let atom = get("/search.atom?q=icahn".into()).await;
    assert_eq!(atom.status(), 200);
    let feed = feed_rs::parser::parse(atom.text().await.unwrap().as_bytes()).unwrap();
    assert!(
        feed.entries.len() >= 2 && feed.entries.iter().all(|e| e.title.as_ref().unwrap().content.contains("Icahn"))
    );
    assert!(feed.title.unwrap().content.contains("icahn"));
    for format in ["rss", "json"] {
        assert_eq!(get(format!("/search.{format}?q=banana")).await.status(), 200, "{format}");
    }

    // A query it cannot read: a 400 that says why, as a page and as a feed.
    let bad = get("/search?q=%22unclosed".into()).await;
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("cannot search for that"));
    let bad = get("/search.atom?q=AND".into()).await;
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("cannot search for that"));
    assert_eq!(get("/search.atom".into()).await.status(), 400, "a feed needs a query");
    stop.cancel();
    serving.await.unwrap();
}
