//! Feed discovery and `storyline add` through the real binary, against fixture pages and
//! feeds served on 127.0.0.1: link tags with relative hrefs, several feeds, no feed, a page
//! whose feed fails; `add` keeps the configuration's comments byte for byte, refuses a
//! duplicate, and writes nothing on an invalid result.

mod common;

use common::{fixture, Route, Server, Setup};

const HTML: &str = "text/html; charset=utf-8";

const CONFIG: &str = "# My storyline\n[storage]\ndatabase = \"test.db\" # here\n\n# the first feed\n[[feed]]\nname = \"existing\"\nurl = \"http://127.0.0.1:9/existing.xml\"\n";

async fn site() -> Server {
    let server = Server::start().await;
    for page in ["one-feed", "two-feeds", "no-feed", "broken-feed"] {
        server.route(&format!("/{page}.html"), Route::feed(fixture(&format!("pages/{page}.html")), HTML));
    }
    server.route("/feeds/all.xml", Route::feed(fixture("rss2.xml"), "application/rss+xml"));
    server.route("/feeds/world.atom", Route::feed(fixture("atom.xml"), "application/atom+xml"));
    server.route("/feeds/broken.xml", Route::status(500));
    server
}

fn setup() -> Setup {
    let setup = Setup::new("", &[]);
    std::fs::write(&setup.config, CONFIG).unwrap();
    setup
}

#[tokio::test(flavor = "multi_thread")]
async fn inspect_lists_the_feeds_a_page_announces() {
    let server = site().await;
    let setup = setup();
    let (code, out, err) = setup.run(&["inspect", &server.url("/one-feed.html")]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("feeds found from it:"), "{out}");
    assert!(
        out.contains(&format!("{}  Daily Wire Service (RSS 2.0, 3 entries)", server.url("/feeds/all.xml"))),
        "{out}"
    );
    let (code, out, _) = setup.run(&["inspect", &server.url("/no-feed.html")]).await;
    assert_eq!(code, 1, "a page leading to no feed is still an error: {out}");
    assert!(out.contains("HTML page, not a feed"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn add_discovers_names_and_appends_keeping_comments() {
    let server = site().await;
    let setup = setup();
    let page = server.url("/one-feed.html");

    let (code, out, err) = setup.run(&["add", &page, "--tag", "world", "--dry-run"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("would add daily-wire-service "), "{out}");
    assert_eq!(std::fs::read_to_string(&setup.config).unwrap(), CONFIG, "a dry run writes nothing");

    let (code, out, err) = setup.run(&["add", &page, "--tag", "world", "--schedule", "every 30m"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("added daily-wire-service") && out.contains("reload"), "{out}");
    let written = std::fs::read_to_string(&setup.config).unwrap();
    assert!(written.starts_with(CONFIG), "everything before the new table is kept byte for byte:\n{written}");
    let table = &written[CONFIG.len()..];
    let expected = format!(
        "\n[[feed]]\nname = \"daily-wire-service\"\nurl = \"{}\"\ntags = [\"world\"]\nschedule = \"every 30m\"\n",
        server.url("/feeds/all.xml")
    );
    assert_eq!(table, expected);
    assert_eq!(setup.run(&["check-config"]).await.0, 0);

    let (code, _, err) = setup.run(&["add", &server.url("/feeds/all.xml")]).await;
    assert_eq!(code, 2, "a duplicate is refused");
    assert!(err.contains("already configured as `daily-wire-service`"), "{err}");
    assert_eq!(std::fs::read_to_string(&setup.config).unwrap(), written);
}

#[tokio::test(flavor = "multi_thread")]
async fn add_asks_nothing_and_writes_nothing_when_it_cannot_choose() {
    let server = site().await;
    let setup = setup();

    let (code, _, err) = setup.run(&["add", &server.url("/two-feeds.html")]).await;
    assert_eq!(code, 2, "several feeds: the user picks one");
    assert!(
        err.contains("offers 2 feeds") && err.contains("/feeds/world.atom") && err.contains("/feeds/all.xml"),
        "{err}"
    );

    let (code, _, err) = setup.run(&["add", &server.url("/no-feed.html")]).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no feed found"), "{err}");

    let (code, _, err) = setup.run(&["add", &server.url("/broken-feed.html")]).await;
    assert_eq!(code, 1, "the announced feed fails and no other is found: {err}");

    let (code, _, err) = setup.run(&["add", &server.url("/one-feed.html"), "--schedule", "whenever"]).await;
    assert_eq!(code, 2, "an invalid result is refused: {err}");
    assert!(err.contains("invalid"), "{err}");
    assert_eq!(std::fs::read_to_string(&setup.config).unwrap(), CONFIG, "nothing was written");
}
