//! Story series end to end: two outlets covering the same two stories plus unrelated
//! items, grouped by the real binary; checked in `export items`, the Atom feed, `series`,
//! the daemon's API, and across a restart.

mod common;

use std::collections::HashMap;

use common::running::Running;
use common::{fixture, Route, Server, Setup};
use serde_json::Value;

const RSS: &str = "application/rss+xml";

fn series_of(items: &[Value]) -> HashMap<String, String> {
    items.iter().map(|i| (i["guid"].as_str().unwrap().to_string(), i["series"].as_str().unwrap().to_string())).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_outlets_two_stories_and_strays() {
    let server = Server::start().await;
    for name in ["outlet-x", "outlet-y", "outlet-z"] {
        server.route(&format!("/{name}.xml"), Route::feed(fixture(&format!("{name}.xml")), RSS));
    }
    let mut feeds = vec![("x", server.url("/outlet-x.xml")), ("y", server.url("/outlet-y.xml"))];
    let setup = Setup::new("[server]\nlisten = \"127.0.0.1:0\"\n", &feeds);
    assert_eq!(setup.run(&["poll"]).await.0, 0);

    let s = series_of(&setup.items().await);
    assert_eq!(s["ebay-1"], s["ebay-2"]);
    assert_eq!(s["ebay-1"], s["ebay-3"]);
    assert_eq!(s["banana-1"], s["banana-2"]);
    assert_eq!(s["banana-1"], s["banana-3"]);
    assert_ne!(s["ebay-1"], s["banana-1"]);
    for stray in ["library", "marathon"] {
        let alone = s.values().filter(|v| **v == s[stray]).count();
        assert_eq!(alone, 1, "{stray} must stay alone: {s:?}");
    }

    // `series`: the two stories with three items each, titled by a headline.
    let (code, out, _) = setup.run(&["series", "--json"]).await;
    assert_eq!(code, 0);
    let list: Vec<Value> = serde_json::from_str(&out).unwrap();
    let ebay = list.iter().find(|x| x["id"] == s["ebay-1"].as_str()).unwrap();
    assert_eq!(ebay["items"], 3);
    assert!(ebay["title"].as_str().unwrap().contains("Icahn"), "{ebay}");
    assert!(ebay["keywords"].as_array().unwrap().iter().any(|k| k == "Icahn"), "{ebay}");

    // The Atom feed: every entry carries its series; story entries list the others.
    let (_, atom, _) = setup.run(&["render", "--format", "atom"]).await;
    let feed = feed_rs::parser::parse(atom.as_bytes()).unwrap();
    let entry = feed.entries.iter().find(|e| e.title.as_ref().unwrap().content.starts_with("Icahn steps up")).unwrap();
    let term = format!("series:{}", s["ebay-1"]);
    let category = entry.categories.iter().find(|c| c.term == term).expect("series category");
    assert!(category.label.as_deref().unwrap().ends_with("(3)"), "{category:?}");
    let body = entry.content.as_ref().unwrap().body.as_deref().unwrap();
    let story = format!("/series/{}\">", s["ebay-1"]);
    assert!(body.contains("In this story: <a href=") && body.contains(&story), "the block links the story: {body}");
    assert!(body.contains("(3)</a>"), "and names it with its count: {body}");
    assert!(body.contains("eBay urges shareholders"), "{body}");
    let (code, one, _) = setup.run(&["render", "--series", &s["banana-1"]]).await;
    assert_eq!(code, 0);
    assert_eq!(feed_rs::parser::parse(one.as_bytes()).unwrap().entries.len(), 3);

    // A restart (a new process) continues the same series.
    feeds.push(("z", server.url("/outlet-z.xml")));
    let setup2 = Setup { dir: setup.dir, config: setup.config.clone() };
    let text = std::fs::read_to_string(&setup2.config).unwrap();
    std::fs::write(&setup2.config, format!("{text}\n[[feed]]\nname = \"z\"\nurl = \"{}\"\n", feeds[2].1)).unwrap();
    assert_eq!(setup2.run(&["poll", "z"]).await.0, 0);
    let s2 = series_of(&setup2.items().await);
    assert_eq!(s2["ebay-4"], s["ebay-1"], "a later item joins the running story after a restart");

    // The daemon's API and series routes.
    let daemon = Running::start(&setup2.config).await;
    let http = reqwest::Client::new();
    let get = |path: String| {
        let http = http.clone();
        let url = format!("{}{path}", daemon.base);
        async move { http.get(url).send().await.unwrap() }
    };
    let api: Vec<Value> =
        serde_json::from_str(&get("/api/series?limit=10".into()).await.text().await.unwrap()).unwrap();
    let ebay = api.iter().find(|x| x["id"] == s["ebay-1"].as_str()).unwrap();
    assert_eq!(ebay["items"], 4);
    for key in ["id", "title", "items", "first_published", "last_published", "keywords"] {
        assert!(ebay.get(key).is_some(), "{key} missing: {ebay}");
    }
    let one: Value =
        serde_json::from_str(&get(format!("/api/series/{}", s["ebay-1"])).await.text().await.unwrap()).unwrap();
    assert_eq!(one["entries"].as_array().unwrap().len(), 4);
    assert_eq!(one["entries"][0]["guid"], "ebay-4", "entries newest first");
    let r = get(format!("/series/{}.atom", s["ebay-1"])).await;
    assert_eq!(r.status(), 200);
    assert_eq!(feed_rs::parser::parse(r.text().await.unwrap().as_bytes()).unwrap().entries.len(), 4);
    assert_eq!(get("/series/999999.atom".into()).await.status(), 404);
    let digest = feed_rs::parser::parse(get("/digest.atom".into()).await.text().await.unwrap().as_bytes()).unwrap();
    let story = digest.entries.iter().find(|e| e.id == format!("urn:storyline:series:{}", s["ebay-1"])).unwrap();
    assert!(story.title.as_ref().unwrap().content.ends_with("(4)"));
    let page = get("/".into()).await;
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let html = page.text().await.unwrap();
    let heading = format!("series/{}\">{} (4)</a></h2>", s["ebay-1"], ebay["title"].as_str().unwrap());
    assert!(html.contains(&heading), "the page lists the story: {html}");
    assert!(html.contains("Outlet Z</span> ·"), "headlines name their publisher: {html}");
    let (story, other) = (html.find(&heading).unwrap(), html.find("Other news").unwrap());
    assert!(story < other && html[other..].contains("Marathon runner"), "stories first, then the other news");
    daemon.stop().await.unwrap();
}

/// An RSS feed of the items `range` linking to the wire's stories, titled by `title`.
fn syndicated(range: std::ops::Range<usize>, title: impl Fn(usize) -> String, query: &str) -> String {
    let items: String = range
        .map(|i| {
            format!(
                "<item><title>{}</title><link>https://wire.example/story/{i}{query}</link>\
                 <pubDate>Mon, 10 Mar 2014 {:02}:{:02}:00 GMT</pubDate></item>",
                title(i),
                i / 60 % 24,
                i % 60
            )
        })
        .collect();
    format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>{items}</channel></rss>")
}

#[tokio::test(flavor = "multi_thread")]
async fn copies_take_their_originals_series_across_grouping_rounds() {
    // More items than one grouping round takes, so copies meet originals whose series
    // are still being written. The copies' own headlines would group them together. Two
    // feeds a side: one feed is read up to its newest `MAX_ENTRIES`.
    let n = 2 * storyline::parse::bounds::MAX_ENTRIES;
    let half = n / 2;
    let server = Server::start().await;
    let wire = |range| syndicated(range, |i| format!("Wire{i} quarry{i} lantern{i} meadow{i}"), "");
    let paper = |range| syndicated(range, |i| format!("Paper reports item number {i} today"), "?utm_source=rss");
    server.route("/wire-a.xml", Route::feed(wire(0..half), RSS));
    server.route("/wire-b.xml", Route::feed(wire(half..n), RSS));
    server.route("/paper-a.xml", Route::feed(paper(0..half), RSS));
    server.route("/paper-b.xml", Route::feed(paper(half..n), RSS));
    let feeds: Vec<(&str, String)> =
        ["wire-a", "wire-b", "paper-a", "paper-b"].iter().map(|f| (*f, server.url(&format!("/{f}.xml")))).collect();
    let setup = Setup::new("", &feeds);
    assert_eq!(setup.run(&["poll"]).await.0, 0);

    let items = setup.items().await;
    assert_eq!(items.len(), 2 * n);
    let series: HashMap<i64, &str> =
        items.iter().map(|i| (i["id"].as_i64().unwrap(), i["series"].as_str().unwrap())).collect();
    let copies: Vec<&Value> = items.iter().filter(|i| !i["duplicate_of"].is_null()).collect();
    assert_eq!(copies.len(), n);
    for copy in copies {
        let original = copy["duplicate_of"].as_i64().unwrap();
        assert_eq!(series[&copy["id"].as_i64().unwrap()], series[&original], "{copy}");
    }
}

/// An RSS feed of (guid, title, hour of 10 March 2014) items.
fn timed(items: &[(&str, &str, u32)]) -> String {
    let items: String = items
        .iter()
        .map(|(guid, title, hour)| {
            format!(
                "<item><title>{title}</title><link>http://t.example/{guid}</link><guid isPermaLink=\"false\">{guid}</guid>\
                 <pubDate>Mon, 10 Mar 2014 {hour:02}:00:00 GMT</pubDate></item>"
            )
        })
        .collect();
    format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>{items}</channel></rss>")
}

/// A cold start is one batch in published order, whatever order the feeds answer in: the
/// slow feed holds the earliest items, and series are numbered as their first items were
/// published; two cold starts with the answers in opposite orders give the same series.
#[tokio::test(flavor = "multi_thread")]
async fn a_cold_start_is_grouped_in_published_order_whatever_the_fetch_timing() {
    let early_story = timed(&[
        ("v1", "Volcano erupts near Grindavik, Iceland evacuates town", 6),
        ("v2", "Grindavik volcano eruption forces Iceland evacuation", 7),
        ("m1", "Marathon runners brave the cold in Lisbon", 8),
    ]);
    let late_story = timed(&[
        ("c1", "Chiquita and Fyffes agree banana merger", 11),
        ("c2", "Fyffes Chiquita merger creates banana giant", 12),
        ("l1", "Library extends weekend opening hours", 13),
    ]);
    let slow = std::time::Duration::from_millis(400);
    let mut partitions = Vec::new();
    for slow_is_early in [true, false] {
        let server = Server::start().await;
        let (early, late) = (Route::feed(early_story.clone(), RSS), Route::feed(late_story.clone(), RSS));
        let (early, late) = if slow_is_early { (early.delayed(slow), late) } else { (early, late.delayed(slow)) };
        server.route("/early.xml", early);
        server.route("/late.xml", late);
        let setup = Setup::new("", &[("early", server.url("/early.xml")), ("late", server.url("/late.xml"))]);
        assert_eq!(setup.run(&["poll"]).await.0, 0);
        let mut items = setup.items().await;
        items.sort_by_key(|i| i["published"].as_str().unwrap().to_string());
        let ids: Vec<i64> = items.iter().map(|i| i["series"].as_str().unwrap().parse().unwrap()).collect();
        let mut firsts = ids.clone();
        firsts.dedup();
        let mut seen = std::collections::HashSet::new();
        firsts.retain(|id| seen.insert(*id));
        assert!(firsts.windows(2).all(|w| w[0] < w[1]), "series numbered in published order: {ids:?}");
        let s = series_of(&items);
        assert_eq!(s["v1"], s["v2"]);
        assert_eq!(s["c1"], s["c2"]);
        partitions.push(ids);
    }
    assert_eq!(partitions[0], partitions[1], "the same series whichever feed answered first");
}

/// `explain` says why each item is where it is, from the CLI and the API alike.
#[tokio::test(flavor = "multi_thread")]
async fn explain_says_why_an_item_is_in_its_series() {
    let server = Server::start().await;
    for name in ["outlet-x", "outlet-y"] {
        server.route(&format!("/{name}.xml"), Route::feed(fixture(&format!("{name}.xml")), RSS));
    }
    let setup = Setup::new("", &[("x", server.url("/outlet-x.xml")), ("y", server.url("/outlet-y.xml"))]);
    assert_eq!(setup.run(&["poll"]).await.0, 0);
    let items = setup.items().await;
    let id_of = |guid: &str| items.iter().find(|i| i["guid"] == guid).unwrap()["id"].as_i64().unwrap();
    let explain = |id: i64| {
        let setup = &setup;
        async move {
            let (code, out, err) = setup.run(&["explain", &id.to_string(), "--json"]).await;
            assert_eq!(code, 0, "{err}");
            serde_json::from_str::<Value>(&out).unwrap()
        }
    };

    // The first eBay headline started the story; a later one joined it on shared names.
    let first = explain(id_of("ebay-1")).await;
    assert_eq!(first["why"]["how"], "new", "{first}");
    let joined = explain(id_of("ebay-2")).await;
    let why = &joined["why"];
    assert_ne!(why["how"], "new", "{joined}");
    assert_eq!(joined["series"]["id"], joined["item"]["series"]);
    assert_eq!(why["series"].as_u64().unwrap().to_string(), joined["item"]["series"].as_str().unwrap());
    let shared: Vec<&str> = why["shared"].as_array().unwrap().iter().map(|t| t["term"].as_str().unwrap()).collect();
    assert!(shared.contains(&"Icahn"), "{joined}");
    if why["how"] == "similar" {
        assert!(why["score"].as_f64().unwrap() >= why["needed"].as_f64().unwrap(), "{joined}");
        // How strongly: the margin over the bar it cleared.
        assert!(joined["confidence"]["score_margin"].as_f64().unwrap() >= 0.0, "{joined}");
    }

    // A stray says why it stayed alone; the text form reads as sentences.
    let stray = explain(id_of("library")).await;
    assert_eq!(stray["why"]["how"], "new");
    assert_eq!(stray["confidence"], Value::Null, "nothing was weighed for a new series");
    assert!(!stray["reason"].as_str().unwrap().is_empty(), "{stray}");
    let (code, text, _) = setup.run(&["explain", &id_of("ebay-2").to_string()]).await;
    assert_eq!(code, 0);
    assert!(text.contains("decided: ") && text.contains("shared:  ") && text.contains("Icahn"), "{text}");
    let (code, _, err) = setup.run(&["explain", "999999"]).await;
    assert_eq!(code, 2, "an unknown item is a usage error: {err}");

    // The API gives the same object.
    let config = storyline::config::Config::load(&setup.config).unwrap();
    let state = std::sync::Arc::new(
        storyline::publish::Published::open(
            &storyline::store::Database::open_reading(&config.storage.database, "test").unwrap(),
            config.server.clone(),
        )
        .unwrap(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let stop = tokio_util::sync::CancellationToken::new();
    let serving = tokio::spawn(storyline::publish::serve(listener, state, stop.clone()));
    let api = reqwest::get(format!("{base}/api/items/{}/why", id_of("ebay-2"))).await.unwrap();
    let api: Value = serde_json::from_str(&api.text().await.unwrap()).unwrap();
    assert_eq!(api, joined);
    assert_eq!(reqwest::get(format!("{base}/api/items/999999/why")).await.unwrap().status(), 404);

    // And a page says it in words, reached from each headline of the story's page.
    let series = joined["series"]["id"].as_str().unwrap();
    let story = reqwest::get(format!("{base}/series/{series}")).await.unwrap().text().await.unwrap();
    let why_link = format!("<a href=\"/items/{}\">why in this story</a>", id_of("ebay-2"));
    assert!(story.contains(&why_link), "{story}");
    let page = reqwest::get(format!("{base}/items/{}", id_of("ebay-2"))).await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let page = page.text().await.unwrap();
    let title = joined["series"]["title"].as_str().unwrap();
    assert!(page.contains(&format!("In the story <a href=\"/series/{series}\">")), "{page}");
    assert!(page.contains(&title.replace('&', "&amp;")), "{page}");
    assert!(page.contains("What it shares with the story") && page.contains("Icahn"), "{page}");
    let alone = reqwest::get(format!("{base}/items/{}", id_of("library"))).await.unwrap().text().await.unwrap();
    assert!(alone.contains("Started a new series: "), "{alone}");
    for missing in ["999999", "abc"] {
        assert_eq!(reqwest::get(format!("{base}/items/{missing}")).await.unwrap().status(), 404);
    }
    stop.cancel();
    serving.await.unwrap();
}

/// A series' size is its distinct articles: a copy of one of its articles received from
/// another feed is folded, and every place that shows the size shows the same number.
#[tokio::test(flavor = "multi_thread")]
async fn a_series_has_one_count_everywhere() {
    let server = Server::start().await;
    for name in ["outlet-x", "outlet-y"] {
        server.route(&format!("/{name}.xml"), Route::feed(fixture(&format!("{name}.xml")), RSS));
    }
    // The same eBay article as outlet X's, carried by an aggregator under its own guid.
    let copy = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Wire</title>\
        <item><title>Icahn steps up proxy fight with eBay over board nominees</title>\
        <link>http://outletx.example/ebay-2</link><guid isPermaLink=\"false\">wire-7</guid>\
        <pubDate>Mon, 10 Mar 2014 16:05:00 GMT</pubDate></item></channel></rss>";
    server.route("/wire.xml", Route::feed(copy, RSS));
    let feeds =
        [("x", server.url("/outlet-x.xml")), ("y", server.url("/outlet-y.xml")), ("w", server.url("/wire.xml"))];
    let setup = Setup::new("[server]\nlisten = \"127.0.0.1:0\"\n", &feeds);
    assert_eq!(setup.run(&["poll"]).await.0, 0);
    let items = setup.items().await;
    let s = series_of(&items);
    assert_eq!(s["wire-7"], s["ebay-2"], "the copy is a member of its original's series");
    let members = s.values().filter(|v| **v == s["ebay-1"]).count();
    assert_eq!(members, 4, "three articles and a copy");
    let id = &s["ebay-1"];

    let (_, out, _) = setup.run(&["series", "--json"]).await;
    let list: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(list.iter().find(|x| x["id"] == id.as_str()).unwrap()["items"], 3, "`series`");
    let copy_id = items.iter().find(|i| i["guid"] == "wire-7").unwrap()["id"].as_i64().unwrap();
    let (_, out, _) = setup.run(&["explain", &copy_id.to_string(), "--json"]).await;
    let explained: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(explained["series"]["items"], 3, "`explain`: {explained}");
    let (_, atom, _) = setup.run(&["render", "--format", "atom"]).await;
    let feed = feed_rs::parser::parse(atom.as_bytes()).unwrap();
    let term = format!("series:{id}");
    for entry in feed.entries.iter().filter(|e| e.categories.iter().any(|c| c.term == term)) {
        let label = entry.categories.iter().find(|c| c.term == term).unwrap().label.clone().unwrap();
        assert!(label.ends_with("(3)"), "the feed's category label: {label}");
    }

    let daemon = Running::start(&setup.config).await;
    let get = |path: String| {
        let url = format!("{}{path}", daemon.base);
        async move { reqwest::get(url).await.unwrap().text().await.unwrap() }
    };
    let api: Vec<Value> = serde_json::from_str(&get("/api/series?limit=10".into()).await).unwrap();
    assert_eq!(api.iter().find(|x| x["id"] == id.as_str()).unwrap()["items"], 3, "/api/series");
    let front = get("/".into()).await;
    let story = &front[front.find(&format!("id=\"series-{id}\"")).expect("the story is on the front page")..];
    let story = &story[..story.find("</section>").unwrap()];
    assert!(story.contains(" (3)</a></h2>"), "the front page heading: {story}");
    // Outlets X and Y, and the aggregator whose copy folded into X's article.
    assert!(story.contains("3 sources · "), "the front page counts the story's sources: {story}");
    let page = get(format!("/series/{id}")).await;
    assert!(page.contains("3 articles over 1 day, at most 3 a day"), "the series page timeline: {page}");
    assert!(page.contains(" (3)</h1>"), "the series page heading: {page}");
    let digest = feed_rs::parser::parse(get("/digest.atom".into()).await.as_bytes()).unwrap();
    let entry = digest.entries.iter().find(|e| e.id == format!("urn:storyline:series:{id}")).unwrap();
    assert!(entry.title.as_ref().unwrap().content.ends_with("(3)"), "the digest");
    daemon.stop().await.unwrap();
}
