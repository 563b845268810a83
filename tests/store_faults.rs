//! Failures of the store while storyline runs (a full disk, a broken database), made
//! real with SQLite triggers that abort the writes they guard: a poll that cannot be
//! stored is a failure of its feed, rescheduled with a backoff and counted; a grouping
//! round whose write fails leaves the series' counts equal to their members.

mod common;

use std::path::Path;

use common::running::Running;
use common::{Route, Server, Setup};
use serde_json::Value;
use storyline::app::App;
use storyline::config::Config;
use storyline::daemon::Event;

const RSS: &str = "application/rss+xml";

/// An RSS feed of (guid, title, hour of 30 November 2026) items.
fn feed(items: &[(&str, &str, u32)]) -> String {
    let items: String = items
        .iter()
        .map(|(guid, title, hour)| {
            format!(
                "<item><title>{title}</title><link>http://t.example/{guid}</link>\
                 <pubDate>Mon, 30 Nov 2026 {hour:02}:00:00 GMT</pubDate></item>"
            )
        })
        .collect();
    format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>{items}</channel></rss>")
}

/// Makes every insert into `table` fail, as a full disk does, until [`heal`].
fn break_writes(database: &Path, table: &str) {
    let conn = rusqlite::Connection::open(database).unwrap();
    conn.execute_batch(&format!(
        "CREATE TRIGGER injected_fault BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;"
    ))
    .unwrap();
}

fn heal(database: &Path) {
    rusqlite::Connection::open(database).unwrap().execute_batch("DROP TRIGGER injected_fault;").unwrap();
}

/// Every series' stored count against its members: (count, members) where they differ.
fn drifted(database: &Path) -> Vec<(i64, i64)> {
    let conn = rusqlite::Connection::open(database).unwrap();
    let mut stmt = conn
        .prepare("SELECT s.items, (SELECT COUNT(*) FROM item_series m WHERE m.series = s.id) AS members FROM series s")
        .unwrap();
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    rows.map(Result::unwrap).filter(|(count, members)| count != members).collect()
}

const STORY: [(&str, &str, u32); 3] = [
    ("v1", "Volcano erupts near Grindavik, Iceland evacuates town", 6),
    ("v2", "Iceland volcano eruption forces Grindavik evacuation", 7),
    ("v3", "Grindavik residents flee as Iceland volcano erupts again", 8),
];

const MORE: [(&str, &str, u32); 3] = [
    ("v4", "Lava reaches Grindavik as Iceland volcano keeps erupting", 9),
    ("v5", "Iceland volcano: Grindavik evacuation extended", 10),
    ("v6", "Grindavik volcano eruption slows, Iceland says", 11),
];

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_grouping_write_leaves_counts_equal_to_members() {
    let server = Server::start().await;
    server.route("/a.xml", Route::feed(feed(&STORY), RSS));
    server.route("/b.xml", Route::feed(feed(&MORE), RSS));
    server.route("/c.xml", Route::feed(feed(&[("v7", "Iceland volcano: Grindavik lava flow stops", 12)]), RSS));
    let setup = Setup::new("[server]\nlisten = \"127.0.0.1:0\"\n[fetch]\nschedule = \"every 1h\"\n", &[]);
    let database = setup.dir.path().join("test.db");
    let base = std::fs::read_to_string(&setup.config).unwrap();
    let with_feeds = |names: &[&str]| {
        let mut text = base.clone();
        for name in names {
            text.push_str(&format!(
                "\n[[feed]]\nname = \"{name}\"\nurl = \"{}\"\n",
                server.url(&format!("/{name}.xml"))
            ));
        }
        std::fs::write(&setup.config, text).unwrap();
    };
    with_feeds(&["a"]);
    let mut daemon = Running::start(&setup.config).await;
    assert_eq!(daemon.grouped().await, 3);
    assert_eq!(drifted(&database), [], "counts equal members before any fault");

    // The story grows while memberships cannot be written: the round fails.
    break_writes(&database, "item_series");
    with_feeds(&["a", "b"]);
    assert!(daemon.reload().await);
    assert_eq!(daemon.polled("b").await, ("ok", 3));
    daemon.wait(|e| matches!(e, Event::GroupingFailed { .. })).await;
    heal(&database);
    // The next round groups what the failed one left, with what comes next.
    with_feeds(&["a", "b", "c"]);
    assert!(daemon.reload().await);
    assert_eq!(daemon.polled("c").await, ("ok", 1));
    assert_eq!(daemon.grouped().await, 4, "the failed round's items are grouped now");
    let conn = rusqlite::Connection::open(&database).unwrap();
    let grouped: i64 = conn.query_row("SELECT COUNT(*) FROM item_series", [], |r| r.get(0)).unwrap();
    assert_eq!(grouped, 7, "every item is grouped once the store is back");
    assert_eq!(drifted(&database), [], "no series counts an item twice");
    let metrics = reqwest::get(format!("{}/metrics", daemon.base)).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("storyline_grouping_failures_total 1"), "{metrics}");
    daemon.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_poll_the_store_cannot_take_is_a_failure_of_its_feed() {
    let server = Server::start().await;
    server.route("/a.xml", Route::feed(feed(&STORY), RSS));
    let setup = Setup::new("[server]\nlisten = \"127.0.0.1:0\"\n[fetch]\nschedule = \"every 1h\"\n", &[]);
    let database = setup.dir.path().join("test.db");
    // The store exists (with the feed) and cannot take items.
    let config = Config::load(&setup.config).unwrap();
    drop(App::open_writer(config, "poll").unwrap());
    let text = std::fs::read_to_string(&setup.config).unwrap();
    std::fs::write(&setup.config, format!("{text}\n[[feed]]\nname = \"a\"\nurl = \"{}\"\n", server.url("/a.xml")))
        .unwrap();
    break_writes(&database, "items");

    let started = chrono::Utc::now();
    let mut daemon = Running::start(&setup.config).await;
    assert_eq!(daemon.polled("a").await, ("store_error", 0));
    let next = match daemon.wait(|e| matches!(e, Event::Scheduled { feed, .. } if feed == "a")).await {
        Event::Scheduled { next, .. } => next.expect("still scheduled"),
        _ => unreachable!(),
    };
    assert!(next >= started + chrono::Duration::seconds(59), "backs off: next poll at {next}");
    let http = reqwest::Client::new();
    let text = http.get(format!("{}/api/feeds", daemon.base)).send().await.unwrap().text().await.unwrap();
    let feeds: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(feeds[0]["last_status"], "store_error", "{feeds:?}");
    assert!(feeds[0]["last_error"].as_str().unwrap().contains("disk is full"), "{feeds:?}");
    assert_eq!(feeds[0]["error_count"], 1);
    let metrics = http.get(format!("{}/metrics", daemon.base)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("storyline_feeds_failing 1"), "{metrics}");
    daemon.stop().await.unwrap();
    heal(&database);
}
