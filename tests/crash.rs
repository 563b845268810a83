//! Crash safety: the process is killed (SIGKILL) in the middle of storing a large poll;
//! after a restart and a re-poll every item is stored exactly once and in a series.

mod common;

use std::collections::HashSet;
use std::process::Stdio;

use common::{Route, Server, Setup};
use tokio::io::{AsyncBufReadExt, BufReader};

const FEEDS: usize = 150;
const ITEMS: usize = 60;

fn feed(n: usize) -> String {
    let items: String = (0..ITEMS)
        .map(|i| {
            format!(
                "<item><title>Feed {n} reports story {i} about topic {}</title><link>http://f{n}.example/{i}</link>\
                 <guid>http://f{n}.example/{i}</guid><pubDate>Fri, 27 Nov 2026 {:02}:{:02}:00 GMT</pubDate>\
                 <description>{}</description></item>\n",
                i % 7,
                i % 24,
                n % 60,
                "Some body text for the item. ".repeat(20)
            )
        })
        .collect();
    format!(
        "<rss version=\"2.0\"><channel><title>F{n}</title><link>http://f{n}.example/</link>\n{items}</channel></rss>"
    )
}

#[tokio::test]
async fn a_poll_killed_mid_write_stores_every_item_once_after_restart() {
    let server = Server::start().await;
    let list: Vec<(String, String)> = (0..FEEDS)
        .map(|n| {
            let path = format!("/f{n}.xml");
            server.route(&path, Route::feed(feed(n), "application/rss+xml"));
            (format!("f{n:03}"), server.url(&path))
        })
        .collect();
    let named: Vec<(&str, String)> = list.iter().map(|(n, u)| (n.as_str(), u.clone())).collect();
    let setup = Setup::new("[fetch]\nmax_concurrent = 16\nper_host = 16\n", &named);

    // Kill once some feeds are committed and others are still being written.
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_storyline"))
        .arg("--config")
        .arg(&setup.config)
        .arg("poll")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut reported = 0;
    while let Ok(Some(_)) = lines.next_line().await {
        reported += 1;
        if reported == FEEDS / 5 {
            child.start_kill().unwrap();
            break;
        }
    }
    let status = child.wait().await.unwrap();
    assert!(reported < FEEDS && !status.success(), "killed mid-poll after {reported} feeds: {status}");
    let partial = setup.items().await.len();
    assert!(partial >= reported * ITEMS && partial < FEEDS * ITEMS, "{partial} items after the kill");

    // Restart and re-poll: what was committed stays, the rest is added, nothing twice.
    let (code, out, err) = setup.run(&["poll"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let items = setup.items().await;
    assert_eq!(items.len(), FEEDS * ITEMS, "every item once");
    let guids: HashSet<&str> = items.iter().map(|i| i["guid"].as_str().unwrap()).collect();
    assert_eq!(guids.len(), FEEDS * ITEMS, "no item stored twice");
    let (_, series, _) = setup.run(&["series", "--json", "--limit", "100000"]).await;
    let series: Vec<serde_json::Value> = serde_json::from_str(&series).unwrap();
    let grouped: u64 = series.iter().map(|s| s["items"].as_u64().unwrap()).sum();
    assert_eq!(grouped, (FEEDS * ITEMS) as u64, "every item in exactly one series");
    let (_, feeds, _) = setup.run(&["feeds", "--json"]).await;
    let feeds: Vec<serde_json::Value> = serde_json::from_str(&feeds).unwrap();
    assert!(feeds.iter().all(|f| f["items"] == ITEMS as u64 && f["last_error"].is_null()), "every feed whole");
}
