//! Sources that need more than a URL: a feed behind basic auth and an API-key header,
//! with a User-Agent of its own. The secrets come from a file and the environment, are
//! sent to the configured origin only, and appear in no output: every route, every CLI
//! command that shows feeds or items, and the daemon's log are searched for them. The
//! daemon runs as a child process: its log and its environment are the point.

mod common;

use common::daemon::Daemon;
use common::{fixture, Route, Server, Setup};

const PASSWORD: &str = "s3cret-pass";
const KEY: &str = "key-9f8e7d6c";
/// `ann:s3cret-pass` in base64, as basic auth sends it.
const BASIC: &str = "Basic YW5uOnMzY3JldC1wYXNz";
const AGENT: &str = "members-reader/1.0 (ann@example.org)";

fn setup(feeds: &Server) -> Setup {
    let extra = "[fetch]\nschedule = \"every 1h\"\n[server]\nlisten = \"127.0.0.1:0\"\n";
    let setup = Setup::new(extra, &[]);
    std::fs::write(setup.dir.path().join("members.pass"), format!("{PASSWORD}\n")).unwrap();
    let mut text = std::fs::read_to_string(&setup.config).unwrap();
    for (name, path) in [("members", "/private"), ("hopper", "/hop")] {
        text.push_str(&format!(
            "\n[[feed]]\nname = \"{name}\"\nurl = \"{}?token=t0k3n\"\nuser_agent = \"{AGENT}\"\n\
             headers = {{ \"X-Api-Key\" = {{ env = \"STORYLINE_TEST_KEY\" }}, \"Accept-Language\" = \"de\" }}\n\
             auth = {{ username = \"ann\", password_file = \"members.pass\" }}\n",
            feeds.url(path)
        ));
    }
    std::fs::write(&setup.config, text).unwrap();
    setup
}

/// Every place a secret could leak to, read after a poll.
async fn everything_shown(setup: &Setup, daemon: &Daemon) -> Vec<(String, String)> {
    let mut shown = Vec::new();
    let series: serde_json::Value =
        serde_json::from_str(&reqwest::get(format!("{}/api/series", daemon.base)).await.unwrap().text().await.unwrap())
            .unwrap();
    let mut routes: Vec<String> = [
        "/",
        "/feed.atom",
        "/feed.rss",
        "/feed.json",
        "/feeds",
        "/api/feeds",
        "/api/series",
        "/api/items",
        "/digest.atom",
        "/metrics",
        "/healthz",
        "/sources/members.atom",
        "/sources/members.rss",
        "/sources/members.json",
        "/sources/hopper.json",
    ]
    .iter()
    .map(|r| r.to_string())
    .collect();
    for s in series.as_array().unwrap() {
        routes.push(format!("/series/{}", s["id"]));
        routes.push(format!("/api/series/{}", s["id"]));
    }
    routes.push("/api/items/1/why".into());
    for route in routes {
        let body = reqwest::get(format!("{}{route}", daemon.base)).await.unwrap().text().await.unwrap();
        shown.push((route, body));
    }
    for args in [
        &["feeds"][..],
        &["feeds", "--json"],
        &["export", "items"],
        &["series", "--json"],
        &["render", "--format", "json"],
        &["render", "--source", "members", "--format", "rss"],
        &["inspect", "members"],
        &["inspect", "members", "--json"],
        &["explain", "1", "--json"],
        &["check-config"],
        &["export-opml"],
    ] {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_storyline"))
            .arg("--config")
            .arg(&setup.config)
            .args(args)
            .env("STORYLINE_TEST_KEY", KEY)
            .env("STORYLINE_LOG", "debug")
            .output()
            .await
            .unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        shown.push((format!("storyline {}", args.join(" ")), text));
    }
    shown
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_are_sent_to_their_origin_and_shown_nowhere() {
    let feeds = Server::start().await;
    feeds.route(
        "/private?token=t0k3n",
        Route::feed(fixture("rss2.xml"), "application/rss+xml")
            .requiring("authorization", BASIC)
            .requiring("x-api-key", KEY)
            .requiring("user-agent", AGENT),
    );
    // A redirect to another host (localhost is not 127.0.0.1): its request must carry
    // neither the credentials nor the key, only the User-Agent.
    let landing = format!("http://localhost:{}/landing", feeds.addr.port());
    feeds.route("/hop?token=t0k3n", Route::status(302).header("Location", &landing));
    feeds.route("/landing", Route::feed(fixture("wire-a.xml"), "application/rss+xml"));
    let setup = setup(&feeds);

    let mut daemon =
        Daemon::start_with(&setup.config, &[("STORYLINE_TEST_KEY", KEY), ("STORYLINE_LOG", "debug")]).await;
    for feed in ["feed=members status=ok new=3", "feed=hopper status=ok new=2"] {
        if !daemon.log.iter().any(|l| l.contains(feed)) {
            daemon.wait_for(feed).await;
        }
    }
    let sent = feeds.requests("/private?token=t0k3n");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].headers["accept-language"], "de");
    let hop = &feeds.requests("/landing")[0];
    assert_eq!(hop.headers.get("user-agent").map(String::as_str), Some(AGENT));
    assert!(!hop.headers.contains_key("authorization") && !hop.headers.contains_key("x-api-key"), "{:?}", hop.headers);

    let shown = everything_shown(&setup, &daemon).await;
    let (_, log) = daemon.stop().await;
    let log = log.join("\n");
    assert!(log.contains("members"), "the log is read: {log}");
    for (place, text) in shown.iter().chain([&("the daemon's log".to_string(), log)]) {
        // `export-opml` writes the configured URLs whole, tokens included: it is how a
        // user moves their subscriptions. Credentials and keys it never writes.
        let url_secret = (!place.ends_with("export-opml")).then_some("t0k3n");
        for secret in [PASSWORD, KEY, "YW5uOnMzY3JldC1wYXNz"].into_iter().chain(url_secret) {
            assert!(!text.contains(secret), "{place} shows {secret}:\n{text}");
        }
    }
    let inspected = &shown.iter().find(|(p, _)| p == "storyline inspect members").unwrap().1;
    assert!(inspected.contains("entries:  3"), "inspect asks as polls do: {inspected}");
}

/// check-config reports a missing secret, a written password and headers storyline sets.
#[tokio::test]
async fn check_config_names_every_credential_problem() {
    let extra = "[[feed]]\nname = \"a\"\nurl = \"http://a.example/f\"\nauth = { username = \"ann\", password = \"x\" }\n\
                 [[feed]]\nname = \"b\"\nurl = \"http://b.example/f\"\nauth = { username = \"ann\", password_env = \"STORYLINE_UNSET_VAR\" }\n\
                 [[feed]]\nname = \"c\"\nurl = \"http://c.example/f\"\nheaders = { \"If-None-Match\" = \"x\" }\n\
                 [[feed]]\nname = \"d\"\nurl = \"http://d.example/f\"\nauth = { username = \"ann\", password_file = \"nope.pass\" }\n";
    let setup = Setup::new(extra, &[]);
    let (code, out, err) = setup.run(&["check-config"]).await;
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("feed `a`: a password is not written in the configuration"), "{err}");
    assert!(err.contains("the environment variable STORYLINE_UNSET_VAR is not set"), "{err}");
    assert!(err.contains("storyline sets the `If-None-Match` header itself"), "{err}");
    assert!(err.contains("cannot read") && err.contains("nope.pass"), "{err}");
    assert!(!err.contains("\"x\""), "{err}");
}
