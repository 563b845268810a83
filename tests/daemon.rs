//! The daemon end to end: started from the test on 127.0.0.1:0 with fixture feeds on
//! loopback, followed through its log.

mod common;

use common::daemon::Daemon;
use common::{fixture, Route, Server};
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use serde_json::Value;

const LM: &str = "Fri, 27 Nov 2026 12:00:00 GMT";

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

#[tokio::test(flavor = "multi_thread")]
async fn daemon_polls_serves_reloads_and_stops() {
    let feeds = Server::start().await;
    feeds.route("/a.xml", Route::feed(fixture("rss2.xml"), "application/rss+xml").with_validators("\"a1\"", LM));
    feeds.route("/b.xml", Route::feed(fixture("atom.xml"), "application/atom+xml").with_validators("\"b1\"", LM));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, config(&[("a", feeds.url("/a.xml"))], "")).unwrap();

    let mut daemon = Daemon::start(&path).await;
    daemon.wait_for_all(&["scheduler started", "due=1"]).await;
    daemon.wait_for_all(&["poll", "feed=a", "status=ok", "new=3"]).await;
    daemon.wait_for_all(&["grouped into series", "items=3"]).await;
    let http = client();
    let base = daemon.base.clone();

    // The merged feed, with validators; conditional requests get 304; gzip on request.
    let r = http.get(format!("{base}/feed.atom")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let etag = r.headers()[ETAG].to_str().unwrap().to_string();
    let last_modified = r.headers()[LAST_MODIFIED].to_str().unwrap().to_string();
    let body = r.text().await.unwrap();
    assert!(body.contains("Ceasefire talks resume in Geneva"), "{body}");
    let r = http.get(format!("{base}/feed.atom")).header(IF_NONE_MATCH, &etag).send().await.unwrap();
    assert_eq!(r.status(), 304);
    let r = http.get(format!("{base}/feed.atom")).header(IF_MODIFIED_SINCE, &last_modified).send().await.unwrap();
    assert_eq!(r.status(), 304);
    let r = http.get(format!("{base}/feed.rss")).header(ACCEPT_ENCODING, "gzip").send().await.unwrap();
    assert_eq!(r.headers()[CONTENT_ENCODING], "gzip");
    let json: Value = get_json(&http, format!("{base}/feed.json?limit=2")).await;
    assert_eq!(json["items"].as_array().unwrap().len(), 2);

    // The API, health and metrics.
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

    // A new feed in the config and SIGHUP: polled and published without a restart.
    std::fs::write(&path, config(&[("a", feeds.url("/a.xml")), ("b", feeds.url("/b.xml"))], "")).unwrap();
    daemon.signal("HUP");
    daemon.wait_for("reloaded").await;
    daemon.wait_for_all(&["poll", "feed=b", "status=ok", "new=2"]).await;
    daemon.wait_for_all(&["grouped into series", "items=2"]).await;
    let r = http.get(format!("{base}/feed.atom")).header(IF_NONE_MATCH, &etag).send().await.unwrap();
    assert_eq!(r.status(), 200, "the feed changed, so the old ETag no longer matches");
    assert!(r.text().await.unwrap().contains("Chip maker unveils new design"));

    // A broken config on SIGHUP is refused; the daemon goes on serving the old state.
    std::fs::write(&path, "[server]\nlisten = 1\n[[feed]]\nname = \"a\"\n").unwrap();
    daemon.signal("HUP");
    let refused = daemon.wait_for("reload refused").await;
    daemon.wait_for("config.toml:2:10").await;
    assert!(!refused.is_empty());
    let api: Vec<Value> = get_json(&http, format!("{base}/api/feeds")).await;
    assert_eq!(api.len(), 2);

    // SIGTERM: a clean stop with status 0.
    let (code, log) = daemon.stop().await;
    assert_eq!(code, Some(0), "log:\n{}", log.join("\n"));
    assert!(log.iter().any(|l| l.contains("stopped")));

    // A restart does not re-poll feeds that are not due.
    std::fs::write(&path, config(&[("a", feeds.url("/a.xml")), ("b", feeds.url("/b.xml"))], "")).unwrap();
    let before = feeds.requests("/a.xml").len();
    let mut daemon = Daemon::start(&path).await;
    daemon.wait_for_all(&["scheduler started", "feeds=2", "due=0"]).await;
    let (code, log) = daemon.stop().await;
    assert_eq!(code, Some(0));
    assert!(!log.iter().any(|l| l.contains("poll feed=")), "{log:?}");
    assert_eq!(feeds.requests("/a.xml").len(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn systemd_is_notified_of_readiness_reloads_stops_and_liveness() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, config(&[], "")).unwrap();
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
