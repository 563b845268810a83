//! What one feed can make storyline hold and publish: a channel title of a megabyte, an
//! item title of two, dates thousands of years off, more entries than any feed needs, and
//! credentials in its configured address. The daemon runs in-process on 127.0.0.1:0 and
//! every route is read after one poll.

mod common;

use common::running::Running;
use common::{Route, Server};
use serde_json::Value;

/// A feed built to be expensive: `entries` ordinary items after the hostile ones.
fn hostile_feed(entries: usize) -> String {
    let mut rss = format!(
        "<rss version=\"2.0\"><channel><title>{}</title><link>http://site.example/</link>",
        "Huge channel title ".repeat(55_000)
    );
    rss.push_str(&format!(
        "<item><title>{}</title><link>http://site.example/long</link><pubDate>Mon, 30 Nov 2026 10:00:00 GMT</pubDate></item>",
        "Very long headline ".repeat(110_000)
    ));
    rss.push_str(
        "<item><title>From the deep past</title><link>http://site.example/past</link>\
         <pubDate>Sat, 01 Jan 0100 00:00:00 GMT</pubDate></item>",
    );
    rss.push_str(
        "<item><title>From the far future</title><link>http://site.example/future</link>\
         <pubDate>Fri, 31 Dec 9999 23:59:59 GMT</pubDate></item>",
    );
    for i in 0..entries {
        rss.push_str(&format!(
            "<item><title>Ordinary item {i}</title><link>http://site.example/{i}</link>\
             <pubDate>Sun, 29 Nov 2026 10:00:00 GMT</pubDate></item>"
        ));
    }
    rss.push_str("</channel></rss>");
    rss
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_feed_makes_small_documents_and_leaks_no_credentials() {
    let feeds = Server::start().await;
    feeds.route("/feed.xml?token=hunter2", Route::feed(hostile_feed(1500), "application/rss+xml"));
    let url = format!("http://reader:s3cret@{}/feed.xml?token=hunter2", feeds.addr);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        format!(
            "[storage]\ndatabase = \"d.db\"\n[fetch]\nschedule = \"every 1h\"\n[server]\nlisten = \"127.0.0.1:0\"\n\
             [[feed]]\nname = \"big\"\nurl = \"{url}\"\n"
        ),
    )
    .unwrap();
    let mut daemon = Running::start(&path).await;
    let (status, new) = daemon.polled("big").await;
    assert_eq!(status, "ok");
    assert_eq!(new, storyline::parse::bounds::MAX_ENTRIES, "only the newest entries are read");
    daemon.grouped().await;
    let http = reqwest::Client::new();
    let base = daemon.base.clone();
    let get = |path: &str| {
        let (http, url) = (http.clone(), format!("{base}{path}"));
        async move {
            let r = http.get(&url).send().await.unwrap();
            assert_eq!(r.status(), 200, "{url}");
            r.text().await.unwrap()
        }
    };
    for route in ["/feed.atom", "/feed.rss", "/feed.json", "/?page=1", "/feeds", "/api/feeds", "/api/items?limit=1000"]
    {
        let body = get(route).await;
        assert!(body.len() < 2_000_000, "{route} is {} bytes", body.len());
        for secret in ["s3cret", "hunter2", "reader:"] {
            assert!(!body.contains(secret), "{route} shows {secret}");
        }
    }
    // Every item's dates are plausible: the impossible ones are dated when first seen.
    let items: Vec<Value> = serde_json::from_str(&get("/api/items?limit=1000").await).unwrap();
    for title in ["From the deep past", "From the far future"] {
        let item = items.iter().find(|i| i["title"] == title).unwrap_or_else(|| panic!("{title} is stored"));
        assert_eq!(item["published"], item["first_seen"], "{title}");
    }
    let json: Value = serde_json::from_str(&get("/feed.json").await).unwrap();
    let entries = json["items"].as_array().unwrap();
    let entry =
        entries.iter().find(|e| e["url"] == "http://site.example/long").expect("the long headline is published");
    assert!(entry["title"].as_str().unwrap().len() <= 1024);
    assert!(entry["title"].as_str().unwrap().ends_with('…'));
    let source = &entry["_storyline"]["source"];
    assert!(source["feed_title"].as_str().unwrap().len() <= 1024);
    assert_eq!(source["site_link"], "http://site.example/");
    let feeds: Vec<Value> = serde_json::from_str(&get("/api/feeds").await).unwrap();
    assert_eq!(feeds[0]["url"], format!("http://{}/feed.xml", common_addr(&url)));
    assert!(feeds[0]["warning"].as_str().unwrap().contains("1503 entries: only the newest 1000 were read"));
    daemon.stop().await.unwrap();
}

/// The host and port of a URL with user info.
fn common_addr(url: &str) -> String {
    let rest = url.split_once('@').unwrap().1;
    rest.split('/').next().unwrap().to_string()
}
