//! Full text for a summary-only feed (`full_text = true`): each new article's page is
//! fetched on loopback (robots.txt first, a few pages a poll, the stated User-Agent), its
//! article extracted and republished as the body while the feed's summary stays; a page
//! that gives no article is data on its item (`explain`), never a failed poll. The real
//! binary polls, as cron would run it.

mod common;

use common::{fixture, Route, Server, Setup};

/// Seven articles, each with a one-line summary, newest last in the document order of
/// their links' numbers (item 7 is the newest).
fn feed() -> String {
    let mut items = String::new();
    for i in 1..=7 {
        let path = if i == 4 { format!("/private/{i}.html") } else { format!("/a/{i}.html") };
        items.push_str(&format!(
            "<item><title>Story {i}</title><link>{path}</link><guid>story-{i}</guid>\
             <description>Summary {i}, one line.</description>\
             <pubDate>Tue, 01 Dec 2026 0{i}:00:00 GMT</pubDate></item>"
        ));
    }
    format!(r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Harbour News</title>{items}</channel></rss>"#)
}

fn explain(setup_out: &str) -> String {
    setup_out.lines().find(|l| l.starts_with("full text:")).unwrap_or_default().to_string()
}

#[tokio::test]
async fn a_summary_only_feed_republishes_the_articles_of_its_pages() {
    let server = Server::start().await;
    server.route("/feed.xml", Route::feed(feed(), "application/rss+xml"));
    server.route("/robots.txt", Route::feed("User-agent: *\nDisallow: /private/\n", "text/plain"));
    for (i, page) in [(1, "ferry.html"), (2, "market.html"), (5, "ferry.html"), (6, "market.html"), (7, "ferry.html")] {
        server.route(
            &format!("/a/{i}.html"),
            Route::feed(fixture(&format!("articles/{page}")), "text/html; charset=utf-8"),
        );
    }
    server.route("/private/4.html", Route::feed(fixture("articles/ferry.html"), "text/html"));
    // /a/3.html is not routed: a 404.
    let setup = Setup::new("", &[("harbour", server.url("/feed.xml"))]);
    let text = std::fs::read_to_string(&setup.config).unwrap() + "full_text = true\n";
    std::fs::write(&setup.config, text).unwrap();

    let (code, out, err) = setup.run(&["poll"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("harbour: 7 new"), "{out}");
    let pages: Vec<String> = (1..=7)
        .map(|i| if i == 4 { format!("/private/{i}.html") } else { format!("/a/{i}.html") })
        .filter(|p| !server.requests(p).is_empty())
        .collect();
    assert_eq!(pages, ["/a/3.html", "/a/5.html", "/a/6.html", "/a/7.html"], "the newest five, robots.txt honoured");
    let agent = &server.requests("/a/7.html")[0].headers["user-agent"];
    assert!(agent.starts_with("storyline/"), "{agent}");
    assert_eq!(server.requests("/robots.txt").len(), 1, "asked once per site");

    // Items are numbered in publication order: id 7 is story 7.
    let says = |out: &str| explain(out);
    let (_, out, _) = setup.run(&["explain", "7"]).await;
    assert!(says(&out).starts_with("full text: fetched"), "{out}");
    let (_, out, _) = setup.run(&["explain", "4"]).await;
    assert!(says(&out).contains("robots.txt disallows this page"), "{out}");
    let (_, out, _) = setup.run(&["explain", "3"]).await;
    assert!(says(&out).contains("failed: HTTP 404"), "{out}");
    let (_, out, _) = setup.run(&["explain", "1"]).await;
    assert!(says(&out).starts_with("full text: waiting"), "beyond this poll's budget: {out}");

    // The next poll (the feed unchanged) fetches the ones still waiting.
    let (code, out, err) = setup.run(&["poll"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(server.requests("/a/1.html").len(), 1);
    assert_eq!(server.requests("/a/3.html").len(), 1, "a failed page is not asked again");

    let (_, atom, _) = setup.run(&["render", "--format", "atom"]).await;
    let feed = feed_rs::parser::parse(atom.as_bytes()).unwrap();
    let entry = |title: &str| feed.entries.iter().find(|e| e.title.as_ref().unwrap().content == title).unwrap();
    let body = |title: &str| entry(title).content.as_ref().unwrap().body.clone().unwrap();
    let ferry = body("Story 1");
    assert!(ferry.contains("carrying 300 passengers") && ferry.contains("You can hear the gulls again"), "{ferry}");
    assert!(ferry.contains("http://127.0.0.1"), "relative image links made absolute: {ferry}");
    for boilerplate in ["Most read", "Copyright 2026", "cookies", "trackPageView", "Subscribe"] {
        assert!(!ferry.contains(boilerplate), "{boilerplate} in {ferry}");
    }
    assert!(body("Story 2").contains("Forty-two stalls reopened at dawn"));
    assert_eq!(entry("Story 1").summary.as_ref().unwrap().content, "Summary 1, one line.", "the summary stays");
    assert!(body("Story 3").starts_with("Summary 3"), "a failed page keeps the feed's body");
    assert!(body("Story 4").starts_with("Summary 4"));
}
