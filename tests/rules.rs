//! Keep and block rules end to end: a hidden item is stored but left out of every output
//! and of series, `export items` and `explain` say which rule hid it, `feeds` counts kept
//! and hidden items, and a changed rule applies to history on reload.

mod common;

use common::running::Running;
use common::{fixture, Route, Server, Setup};
use serde_json::Value;

fn config(a: &str, b: &str, block: &str) -> String {
    format!(
        "[storage]\ndatabase = \"test.db\"\n[server]\nlisten = \"127.0.0.1:0\"\n\n{block}\n\
         [[feed]]\nname = \"a\"\nurl = \"{a}\"\n\n\
         [[feed]]\nname = \"b\"\nurl = \"{b}\"\nkeep = {{ title = \"(?i)chip\" }}\n"
    )
}

const BLOCK_STORMS: &str = "[[filter]]\nblock = { title = \"(?i)storm\", author = \"^Nobody$\" }\n";

async fn text(url: String) -> String {
    reqwest::get(url).await.unwrap().text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn rules_hide_items_everywhere_and_follow_reloads() {
    let feeds = Server::start().await;
    feeds.route("/a.xml", Route::feed(fixture("rss2.xml"), "application/rss+xml"));
    feeds.route("/b.xml", Route::feed(fixture("atom.xml"), "application/atom+xml"));
    let setup = Setup::new("", &[]);
    std::fs::write(&setup.config, config(&feeds.url("/a.xml"), &feeds.url("/b.xml"), BLOCK_STORMS)).unwrap();
    let mut daemon = Running::start(&setup.config).await;
    daemon.polled("a").await;
    daemon.polled("b").await;
    daemon.grouped().await;
    let base = daemon.base.clone();

    for route in ["/feed.atom", "/feed.rss", "/feed.json", "/", "/api/items?limit=100"] {
        let body = text(format!("{base}{route}")).await;
        assert!(body.contains("Ceasefire talks"), "{route} shows what no rule hides");
        assert!(!body.contains("Storm") && !body.contains("Regulators probe"), "{route} shows a hidden item: {body}");
        assert!(body.contains("Chip maker"), "{route} shows what feed b's keep rule keeps");
    }

    // Stored, and said why.
    let (code, out, _) = setup.run(&["export", "items"]).await;
    assert_eq!(code, 0);
    let records: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(records.len(), 5, "hidden items are stored");
    let storm = records.iter().find(|r| r["title"].as_str().unwrap().contains("Storm")).unwrap();
    assert_eq!(storm["filtered"], "blocked by [[filter]] #1 block");
    assert!(storm["series"].as_str().unwrap().starts_with("item-"), "a hidden item joins no series: {storm}");
    let breach = records.iter().find(|r| r["title"].as_str().unwrap().contains("Regulators")).unwrap();
    assert_eq!(breach["filtered"], "matches none of its feed's keep rules (feed `b` keep)");
    let (_, explained, _) = setup.run(&["explain", &storm["id"].to_string()]).await;
    assert!(
        explained.contains("hidden from every output and from series: blocked by [[filter]] #1 block"),
        "{explained}"
    );
    let (_, listed, _) = setup.run(&["feeds"]).await;
    assert!(listed.contains("3 items (2 kept, 1 hidden by rules)"), "{listed}");

    // The global rule removed: history is judged again on reload.
    std::fs::write(&setup.config, config(&feeds.url("/a.xml"), &feeds.url("/b.xml"), "")).unwrap();
    assert!(daemon.reload().await);
    let body = text(format!("{base}/feed.atom")).await;
    assert!(body.contains("Storm") && !body.contains("Regulators probe"), "{body}");
    daemon.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn check_config_points_at_a_bad_pattern() {
    let setup = Setup::new("", &[]);
    std::fs::write(&setup.config, "[[filter]]\nblock = { summary = \"[z-a]\" }\n").unwrap();
    let (code, _, err) = setup.run(&["check-config"]).await;
    assert_eq!(code, 2);
    let at = format!("{}:2:22: summary: invalid regular expression", setup.config.display());
    assert!(err.contains(&at), "{err}");
}

/// A feed that feed-rs rejects is read by the tolerant reader: its entries keep their
/// categories, so a rule on `category` hides what it names there too (it skipped every
/// repaired feed when that reader dropped categories).
#[tokio::test(flavor = "multi_thread")]
async fn a_category_rule_hides_items_of_a_repaired_feed() {
    let feeds = Server::start().await;
    feeds.route("/r.xml", Route::feed(fixture("repaired-categories.xml"), "application/rss+xml"));
    let block = "[[filter]]\nblock = { category = \"(?i)^weather$\" }\n";
    let setup = Setup::new(block, &[("r", feeds.url("/r.xml"))]);
    let (code, out, err) = setup.run(&["poll"]).await;
    assert_eq!((code, out.trim()), (0, "r: 3 new, 0 duplicates, 0 already stored"), "{err}");
    let (_, listed, _) = setup.run(&["feeds"]).await;
    assert!(listed.contains("read with repairs: read with the tolerant parser"), "{listed}");
    assert!(listed.contains("3 items (1 kept, 2 hidden by rules)"), "{listed}");
    let (code, json, _) = setup.run(&["render", "--format", "json"]).await;
    assert_eq!(code, 0);
    let feed: Value = serde_json::from_str(&json).unwrap();
    let items = feed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{json}");
    assert_eq!(items[0]["title"], "Council passes the budget");
}
