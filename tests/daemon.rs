//! The daemon end to end, against fixture feeds on loopback: started in-process on
//! 127.0.0.1:0 and checked through HTTP; as a child process where the process boundary is
//! the point (signals, systemd notifications).

mod common;

use common::daemon::Daemon;
use common::running::Running;
use common::{fixture, Route, Server};
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use serde_json::Value;
use storyline::daemon::Event;

const LM: &str = "Fri, 27 Nov 2026 12:00:00 GMT";

/// A temporary folder holding `text` as its configuration: the folder (kept alive by the
/// caller) and the file.
fn config_file(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

fn config(feeds: &[(&str, String)], extra: &str) -> String {
    let mut text = format!(
        "[storage]\ndatabase = \"d.db\"\n[fetch]\nschedule = \"every 1h\"\ntimeout = \"5s\"\n[server]\nlisten = \"127.0.0.1:0\"\n{extra}\n"
    );
    for (name, url) in feeds {
        text.push_str(&format!("[[feed]]\nname = \"{name}\"\nurl = \"{url}\"\n"));
    }
    text
}

async fn get_json<T: serde::de::DeserializeOwned>(http: &reqwest::Client, url: String) -> T {
    let text = http.get(&url).send().await.unwrap().text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: {e}: {text}"))
}

fn client() -> reqwest::Client {
    // Without automatic decompression, so the test sees the encoding headers as sent.
    reqwest::Client::builder().no_gzip().no_brotli().no_deflate().build().unwrap()
}

/// The merged feed with validators, conditional requests and compression.
#[tokio::test(flavor = "multi_thread")]
async fn the_merged_feed_is_served_with_validators_and_compression() {
    let feeds = Server::start().await;
    feeds.route("/a.xml", Route::feed(fixture("rss2.xml"), "application/rss+xml").with_validators("\"a1\"", LM));
    let (_dir, path) = config_file(&config(&[("a", feeds.url("/a.xml"))], ""));
    let mut daemon = Running::start(&path).await;
    assert_eq!(daemon.polled("a").await, ("ok", 3));
    assert_eq!(daemon.grouped().await, 3);
    let (http, base) = (client(), daemon.base.clone());

    let r = http.get(format!("{base}/feed.atom")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let etag = r.headers()[ETAG].to_str().unwrap().to_string();
    let last_modified = r.headers()[LAST_MODIFIED].to_str().unwrap().to_string();
    let body = r.text().await.unwrap();
    assert!(body.contains("Ceasefire talks resume in Geneva"), "{body}");
    // Every entry names its source: dc:creator, RSS <author> read as a name, else the
    // publisher (the feed's own title).
    for name in ["Anna Smith", "Weather Desk", "Daily Wire Service"] {
        assert!(body.contains(&format!("<author><name>{name}</name></author>")), "{name}: {body}");
    }
    let r = http.get(format!("{base}/feed.atom")).header(IF_NONE_MATCH, &etag).send().await.unwrap();
    assert_eq!(r.status(), 304);
    let r = http.get(format!("{base}/feed.atom")).header(IF_MODIFIED_SINCE, &last_modified).send().await.unwrap();
    assert_eq!(r.status(), 304);
    let r = http.get(format!("{base}/feed.rss")).header(ACCEPT_ENCODING, "gzip").send().await.unwrap();
    assert_eq!(r.headers()[CONTENT_ENCODING], "gzip");
    let json: Value = get_json(&http, format!("{base}/feed.json?limit=2")).await;
    assert_eq!(json["items"].as_array().unwrap().len(), 2);
    daemon.stop().await.unwrap();
}

/// The API, health and metrics after one poll.
#[tokio::test(flavor = "multi_thread")]
async fn the_api_health_and_metrics_tell_what_was_polled() {
    let feeds = Server::start().await;
    feeds.route("/a.xml", Route::feed(fixture("rss2.xml"), "application/rss+xml"));
    let (_dir, path) = config_file(&config(&[("a", feeds.url("/a.xml"))], ""));
    let mut daemon = Running::start(&path).await;
    assert_eq!(daemon.polled("a").await, ("ok", 3));
    daemon.scheduled("a").await;
    daemon.grouped().await;
    let (http, base) = (client(), daemon.base.clone());

    let api: Vec<Value> = get_json(&http, format!("{base}/api/feeds")).await;
    assert_eq!((api.len(), api[0]["last_status"].as_str()), (1, Some("ok")));
    assert!(api[0]["next_poll"].is_string(), "the next poll time is stored: {}", api[0]);
    let items: Vec<Value> = get_json(&http, format!("{base}/api/items?limit=2")).await;
    assert_eq!(items.len(), 2);
    assert!(items[0]["series"].is_string() && items[0]["first_seen"].is_string());
    assert_eq!(http.get(format!("{base}/healthz")).send().await.unwrap().text().await.unwrap(), "ok");
    let metrics = http.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("storyline_polls_total{result=\"ok\"} 1"), "{metrics}");
    assert!(metrics.contains("storyline_items_stored_total 3"), "{metrics}");
    assert!(metrics.contains("storyline_feed_last_success_timestamp_seconds{feed=\"a\"}"), "{metrics}");
    assert!(metrics.contains("storyline_items_grouped_total 3"), "{metrics}");
    assert!(metrics.contains("storyline_http_requests_total{route=\"/api/feeds\",status=\"200\"} 1"), "{metrics}");
    assert!(metrics.contains("storyline_http_requests_total{route=\"/healthz\",status=\"200\"} 1"), "{metrics}");
    daemon.stop().await.unwrap();
}

/// A feed added to the configuration is polled and published on reload, without a
/// restart; a broken configuration is refused and the daemon goes on with the old one.
#[tokio::test(flavor = "multi_thread")]
async fn a_reload_applies_a_valid_configuration_and_refuses_a_broken_one() {
    let feeds = Server::start().await;
    feeds.route("/a.xml", Route::feed(fixture("rss2.xml"), "application/rss+xml").with_validators("\"a1\"", LM));
    feeds.route("/b.xml", Route::feed(fixture("atom.xml"), "application/atom+xml").with_validators("\"b1\"", LM));
    let (_dir, path) = config_file(&config(&[("a", feeds.url("/a.xml"))], ""));
    let mut daemon = Running::start(&path).await;
    daemon.polled("a").await;
    daemon.grouped().await;
    let (http, base) = (client(), daemon.base.clone());
    let r = http.get(format!("{base}/feed.atom")).send().await.unwrap();
    let etag = r.headers()[ETAG].to_str().unwrap().to_string();

    std::fs::write(&path, config(&[("a", feeds.url("/a.xml")), ("b", feeds.url("/b.xml"))], "")).unwrap();
    assert!(daemon.reload().await, "a valid configuration is applied");
    assert_eq!(daemon.polled("b").await, ("ok", 2));
    assert_eq!(daemon.grouped().await, 2);
    let r = http.get(format!("{base}/feed.atom")).header(IF_NONE_MATCH, &etag).send().await.unwrap();
    assert_eq!(r.status(), 200, "the feed changed, so the old ETag no longer matches");
    assert!(r.text().await.unwrap().contains("Chip maker unveils new design"));

    std::fs::write(&path, "[server]\nlisten = 1\n[[feed]]\nname = \"a\"\n").unwrap();
    assert!(!daemon.reload().await, "a broken configuration is refused");
    let api: Vec<Value> = get_json(&http, format!("{base}/api/feeds")).await;
    assert_eq!(api.len(), 2, "the previous configuration is still in force");
    assert_eq!(http.get(format!("{base}/healthz")).send().await.unwrap().status(), 200);
    daemon.stop().await.unwrap();
}

/// A stopped daemon's store says when each feed is next due, and a restart keeps to it:
/// feeds polled before the restart are not polled again at once.
#[tokio::test(flavor = "multi_thread")]
async fn a_restart_keeps_the_stored_schedule() {
    let feeds = Server::start().await;
    feeds.route("/a.xml", Route::feed(fixture("rss2.xml"), "application/rss+xml"));
    let (_dir, path) = config_file(&config(&[("a", feeds.url("/a.xml"))], ""));
    let mut daemon = Running::start(&path).await;
    daemon.polled("a").await;
    daemon.scheduled("a").await;
    daemon.stop().await.unwrap();
    let polls = feeds.requests("/a.xml").len();

    let daemon = Running::start(&path).await;
    let api: Vec<Value> = get_json(&client(), format!("{}/api/feeds", daemon.base)).await;
    let next: chrono::DateTime<chrono::Utc> = api[0]["next_poll"].as_str().unwrap().parse().unwrap();
    // An hourly schedule puts the next poll on its grid, at least half an hour on.
    assert!(next > chrono::Utc::now() + chrono::Duration::minutes(25), "not due yet: {next}");
    daemon.stop().await.unwrap();
    assert_eq!(feeds.requests("/a.xml").len(), polls, "not polled again on restart");
}

/// The process boundary: SIGHUP reloads and SIGTERM stops with status 0.
#[tokio::test(flavor = "multi_thread")]
async fn signals_reload_and_stop_the_process() {
    let feeds = Server::start().await;
    feeds.route("/a.xml", Route::feed(fixture("rss2.xml"), "application/rss+xml"));
    feeds.route("/b.xml", Route::feed(fixture("atom.xml"), "application/atom+xml"));
    let (_dir, path) = config_file(&config(&[("a", feeds.url("/a.xml"))], ""));
    let daemon = Daemon::start(&path).await;
    std::fs::write(&path, config(&[("a", feeds.url("/a.xml")), ("b", feeds.url("/b.xml"))], "")).unwrap();
    daemon.signal("HUP");
    let http = client();
    // The reload is seen in the daemon's own state, which a request reads.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    let api: Vec<Value> = loop {
        let api: Vec<Value> = get_json(&http, format!("{}/api/feeds", daemon.base)).await;
        if api.len() == 2 || tokio::time::Instant::now() > deadline {
            break api;
        }
        tokio::task::yield_now().await;
    };
    assert_eq!(api.len(), 2);
    let (code, log) = daemon.stop().await;
    assert_eq!(code, Some(0), "log:\n{}", log.join("\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn systemd_is_notified_of_readiness_reloads_stops_and_liveness() {
    let (dir, path) = config_file(&config(&[], ""));
    let socket_path = dir.path().join("notify.sock");
    let socket = tokio::net::UnixDatagram::bind(&socket_path).unwrap();
    let env = [("NOTIFY_SOCKET", socket_path.to_str().unwrap()), ("WATCHDOG_USEC", "200000")];
    let daemon = Daemon::start_with(&path, &env).await;

    let socket = std::sync::Arc::new(socket);
    let next = || {
        let socket = socket.clone();
        async move {
            let mut buf = [0u8; 256];
            let n =
                tokio::time::timeout(std::time::Duration::from_secs(30), socket.recv(&mut buf)).await.unwrap().unwrap();
            String::from_utf8_lossy(&buf[..n]).into_owned()
        }
    };
    let mut seen = Vec::new();
    while !(seen.contains(&"READY=1".to_string()) && seen.contains(&"WATCHDOG=1".to_string())) {
        seen.push(next().await);
    }
    daemon.signal("HUP");
    let mut after_reload = Vec::new();
    while after_reload.last().map(String::as_str) != Some("READY=1") {
        let m = next().await;
        if m != "WATCHDOG=1" {
            after_reload.push(m);
        }
    }
    assert_eq!(after_reload, ["RELOADING=1", "READY=1"]);
    let stopping = tokio::spawn(async move { daemon.stop().await });
    let mut last = next().await;
    while last == "WATCHDOG=1" {
        last = next().await;
    }
    assert_eq!(last, "STOPPING=1");
    assert_eq!(stopping.await.unwrap().0, Some(0));
}

/// A feed whose `[[feed]]` table is removed leaves every output on reload; its items stay
/// stored, so putting it back shows them again without storing them anew.
#[tokio::test(flavor = "multi_thread")]
async fn a_removed_feed_leaves_the_outputs_and_comes_back_whole() {
    let feeds = Server::start().await;
    feeds.route("/a.xml", Route::feed(fixture("rss2.xml"), "application/rss+xml").with_validators("\"a1\"", LM));
    feeds.route("/b.xml", Route::feed(fixture("atom.xml"), "application/atom+xml").with_validators("\"b1\"", LM));
    let both = config(&[("a", feeds.url("/a.xml")), ("b", feeds.url("/b.xml"))], "");
    let (_dir, path) = config_file(&both);
    let mut daemon = Running::start(&path).await;
    daemon.polled("a").await;
    daemon.polled("b").await;
    let (http, base) = (client(), daemon.base.clone());
    let titles = |body: String| body.contains("Chip maker unveils new design");
    assert!(titles(http.get(format!("{base}/feed.atom")).send().await.unwrap().text().await.unwrap()));
    let items: Vec<Value> = get_json(&http, format!("{base}/api/items?limit=100")).await;
    assert_eq!(items.len(), 5);

    std::fs::write(&path, config(&[("a", feeds.url("/a.xml"))], "")).unwrap();
    assert!(daemon.reload().await);
    for route in ["/feed.atom", "/feed.rss", "/feed.json", "/"] {
        let body = http.get(format!("{base}{route}")).send().await.unwrap().text().await.unwrap();
        assert!(!titles(body), "{route} still shows the removed feed's items");
    }
    let items: Vec<Value> = get_json(&http, format!("{base}/api/items?limit=100")).await;
    assert_eq!(items.len(), 3, "only feed a's items: {items:?}");

    let fetched = feeds.requests("/b.xml").len();
    std::fs::write(&path, &both).unwrap();
    assert!(daemon.reload().await);
    assert!(titles(http.get(format!("{base}/feed.atom")).send().await.unwrap().text().await.unwrap()));
    let items: Vec<Value> = get_json(&http, format!("{base}/api/items?limit=100")).await;
    assert_eq!(items.len(), 5, "back, from the store");
    assert_eq!(feeds.requests("/b.xml").len(), fetched, "not fetched again: its next poll time was kept");
    daemon.stop().await.unwrap();
}

/// `/tags/{tag}` feeds hold the items of the feeds carrying the tag; entries carry their
/// feed's tags; `/api/feeds` lists them.
#[tokio::test(flavor = "multi_thread")]
async fn tag_feeds_select_by_the_feeds_tags() {
    let feeds = Server::start().await;
    feeds.route("/a.xml", Route::feed(fixture("rss2.xml"), "application/rss+xml"));
    feeds.route("/b.xml", Route::feed(fixture("atom.xml"), "application/atom+xml"));
    let mut text = config(&[("b", feeds.url("/b.xml"))], "");
    text.push_str(&format!(
        "[[feed]]\nname = \"a\"\nurl = \"{}\"\ntags = [\"world\", \"news\"]\n",
        feeds.url("/a.xml")
    ));
    let (_dir, path) = config_file(&text);
    let mut daemon = Running::start(&path).await;
    daemon.polled("a").await;
    daemon.polled("b").await;
    let (http, base) = (client(), daemon.base.clone());

    let r = http.get(format!("{base}/tags/world.atom")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let feed = feed_rs::parser::parse(r.text().await.unwrap().as_bytes()).unwrap();
    assert_eq!(feed.entries.len(), 3, "feed a's three items, none of b's");
    assert!(feed.entries.iter().all(|e| e.categories.iter().any(|c| c.term == "world")));
    for format in ["rss", "json"] {
        assert_eq!(http.get(format!("{base}/tags/news.{format}")).send().await.unwrap().status(), 200);
    }
    assert_eq!(http.get(format!("{base}/tags/sport.atom")).send().await.unwrap().status(), 404);
    // A tag is the same tag in any case.
    let r = http.get(format!("{base}/tags/World.atom")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(feed_rs::parser::parse(r.text().await.unwrap().as_bytes()).unwrap().entries.len(), 3);
    let api: Vec<Value> = get_json(&http, format!("{base}/api/feeds")).await;
    let a = api.iter().find(|f| f["name"] == "a").unwrap();
    assert_eq!(a["tags"], serde_json::json!(["world", "news"]));
    daemon.stop().await.unwrap();
}

/// The pages a person reads: a series' page names every item's publisher and links the
/// series' feeds; `/feeds` puts the failing feed first with its error; one stylesheet.
#[tokio::test(flavor = "multi_thread")]
async fn the_series_and_feeds_pages_show_what_a_reader_needs() {
    let feeds = Server::start().await;
    feeds.route("/x.xml", Route::feed(fixture("outlet-x.xml"), "application/rss+xml"));
    feeds.route("/y.xml", Route::feed(fixture("outlet-y.xml"), "application/rss+xml"));
    feeds.route("/broken.xml", Route::status(500));
    let named = [("x", feeds.url("/x.xml")), ("y", feeds.url("/y.xml")), ("broken", feeds.url("/broken.xml"))];
    let (_dir, path) = config_file(&config(&named, ""));
    let mut daemon = Running::start(&path).await;
    for name in ["x", "y", "broken"] {
        daemon.polled(name).await;
    }
    daemon.grouped().await;
    let (http, base) = (client(), daemon.base.clone());

    let series: Vec<Value> = get_json(&http, format!("{base}/api/series?limit=10")).await;
    let banana = series.iter().find(|s| s["title"].as_str().unwrap().contains("Fyffes")).unwrap();
    let r = http.get(format!("{base}/series/{}", banana["id"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-security-policy"].to_str().unwrap().contains("style-src 'self'"));
    let page = r.text().await.unwrap();
    assert!(page.contains("Outlet X") && page.contains("Outlet Y"), "every item names its publisher: {page}");
    assert!(page.contains("(3)</h1>") && page.contains("<svg class=\"timeline\""), "{page}");
    assert!(page.contains("application/rss+xml") && page.contains(".rss\">"), "the series' feeds are announced");
    assert_eq!(http.get(format!("{base}/series/999999")).send().await.unwrap().status(), 404);

    // The front page counts what is new by when storyline saw it; a page past the end says so.
    let front = http.get(format!("{base}/")).send().await.unwrap().text().await.unwrap();
    assert!(front.contains(" new in the last 24 hours") && front.contains("1 failing feed<"), "{front}");
    for past in ["/?page=50", "/?page=999"] {
        let r = http.get(format!("{base}{past}")).send().await.unwrap();
        assert_eq!(r.status(), 404, "{past}");
        let page = r.text().await.unwrap();
        assert!(page.contains("There is no page ") && !page.contains("no items have been fetched"), "{page}");
    }

    let page = http.get(format!("{base}/feeds")).send().await.unwrap().text().await.unwrap();
    let (broken, x) = (page.find("broken.xml").unwrap(), page.find("x.xml").unwrap());
    assert!(broken < x, "the failing feed comes first: {page}");
    assert!(page.contains("class=\"failing\"") && page.contains("HTTP 500"), "{page}");
    // Pages are conditional like the feeds.
    for route in ["/".to_string(), format!("/series/{}", banana["id"].as_str().unwrap()), "/feeds".to_string()] {
        let r = http.get(format!("{base}{route}")).send().await.unwrap();
        let etag = r.headers()[ETAG].to_str().unwrap().to_string();
        let again = http.get(format!("{base}{route}")).header(IF_NONE_MATCH, &etag).send().await.unwrap();
        assert_eq!(again.status(), 304, "{route}");
    }
    let css = http.get(format!("{base}/style.css")).send().await.unwrap();
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    assert!(css.text().await.unwrap().contains("prefers-color-scheme:dark"));
    daemon.stop().await.unwrap();
}

/// The daemon applies retention at start and after a reload: aged items lose their
/// bodies, recent ones keep them, and every row stays.
#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_prunes_aged_items_at_start_and_after_a_reload() {
    let feeds = Server::start().await;
    feeds.route("/a.xml", Route::feed(fixture("rss2.xml"), "application/rss+xml"));
    let text = config(&[("a", feeds.url("/a.xml"))], "").replace("d.db\"\n", "d.db\"\nretention = \"30d\"\n");
    let (dir, path) = config_file(&text);
    let polled = tokio::process::Command::new(env!("CARGO_BIN_EXE_storyline"))
        .arg("--config")
        .arg(&path)
        .arg("poll")
        .output()
        .await
        .unwrap();
    assert!(polled.status.success(), "{}", String::from_utf8_lossy(&polled.stderr));
    let database = dir.path().join("d.db");
    // Two of the three items were first seen 100 days ago.
    let conn = rusqlite::Connection::open(&database).unwrap();
    let aged = conn.execute("UPDATE items SET first_seen = first_seen - 100 * 86400 WHERE id <= 2", []).unwrap();
    assert_eq!(aged, 2);
    let mut daemon = Running::start(&path).await;
    assert_eq!(daemon.wait(|e| matches!(e, Event::Pruned { .. })).await, Event::Pruned { items: 2 });
    let bodies = |conn: &rusqlite::Connection| -> Vec<bool> {
        let mut stmt = conn.prepare("SELECT content != '' FROM items ORDER BY id").unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    assert_eq!(bodies(&conn), [false, false, true], "the aged lose their bodies, the rows stay");
    // A reload applies it again at once (the setting may have changed).
    conn.execute("UPDATE items SET first_seen = first_seen - 100 * 86400 WHERE id = 3", []).unwrap();
    assert!(daemon.reload().await);
    assert_eq!(daemon.wait(|e| matches!(e, Event::Pruned { .. })).await, Event::Pruned { items: 1 });
    assert_eq!(bodies(&conn), [false, false, false]);
    daemon.stop().await.unwrap();
}

/// A one-shot `poll` stores each feed's next poll time, an interval after it, so a daemon
/// started afterwards does not poll every feed at once.
#[tokio::test(flavor = "multi_thread")]
async fn a_one_shot_poll_stores_the_next_poll_times() {
    let feeds = Server::start().await;
    feeds.route("/a.xml", Route::feed(fixture("rss2.xml"), "application/rss+xml"));
    let (_dir, path) = config_file(&config(&[("a", feeds.url("/a.xml"))], ""));
    let storyline = |args: &'static [&'static str]| {
        let path = path.clone();
        async move {
            let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_storyline"))
                .arg("--config")
                .arg(&path)
                .args(args)
                .output()
                .await
                .unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8(out.stdout).unwrap()
        }
    };
    // Stored to the second.
    let before = chrono::DateTime::from_timestamp(chrono::Utc::now().timestamp(), 0).unwrap();
    storyline(&["poll"]).await;
    let listed: Vec<Value> = serde_json::from_str(&storyline(&["feeds", "--json"]).await).unwrap();
    let next =
        chrono::DateTime::parse_from_rfc3339(listed[0]["next_poll"].as_str().expect("a next poll time")).unwrap();
    let hour = chrono::Duration::hours(1);
    assert!(next >= before + hour && next <= chrono::Utc::now() + hour, "every 1h from the poll: {next}");
}
