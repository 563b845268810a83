//! Hostile and broken servers on 127.0.0.1: each poll ends in bounded time, the feed's
//! row says what happened in one line, the other feeds are unaffected, and nothing
//! stored before is lost or duplicated.

mod common;

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{fixture, Setup};
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

/// How one path misbehaves.
#[derive(Clone)]
enum Act {
    /// A normal 200 with this body.
    Feed(Vec<u8>),
    /// Headers, then a byte a second.
    Trickle,
    /// A body that never ends.
    Endless,
    /// A small gzip body that inflates far beyond max_body.
    Bomb(Vec<u8>),
    /// A redirect to this path.
    Redirect(u16, String),
    /// A status with extra headers and a short body.
    Status(u16, Vec<(&'static str, String)>),
    /// An HTML page.
    Html,
    /// 200 with an empty body.
    Empty,
    /// Part of the promised body, then a TCP reset.
    Reset(Vec<u8>),
    /// Reads the request and never answers.
    Silent,
}

#[derive(Clone, Default)]
struct Hostile {
    acts: Arc<Mutex<HashMap<String, Act>>>,
}

impl Hostile {
    async fn start(&self) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let me = self.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let me = me.clone();
                tokio::spawn(async move { me.serve(sock).await });
            }
        });
        base
    }

    fn set(&self, path: &str, act: Act) {
        self.acts.lock().unwrap().insert(path.into(), act);
    }

    /// Every response closes its connection and says so (a close without the header races
    /// with the client reusing the connection for the next redirect hop).
    async fn serve(&self, mut sock: TcpStream) {
        let Some(head) = common::read_head(&mut sock).await else { return };
        let path = head.split(' ').nth(1).unwrap_or("/").to_string();
        let act = self.acts.lock().unwrap().get(&path).cloned().unwrap_or(Act::Status(404, vec![]));
        let ok = |len: usize, extra: &str| {
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: {len}\r\nConnection: close\r\n{extra}\r\n"
            )
        };
        match act {
            Act::Feed(body) => {
                let _ = sock.write_all(ok(body.len(), "").as_bytes()).await;
                let _ = sock.write_all(&body).await;
            }
            Act::Trickle => {
                let _ = sock.write_all(ok(1000, "").as_bytes()).await;
                for _ in 0..1000 {
                    if sock.write_all(b" ").await.is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
            Act::Endless => {
                let _ = sock
                    .write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nConnection: close\r\n\r\n<rss>",
                    )
                    .await;
                let chunk = vec![b' '; 16 * 1024];
                while sock.write_all(&chunk).await.is_ok() {}
            }
            Act::Bomb(gz) => {
                let _ = sock.write_all(ok(gz.len(), "Content-Encoding: gzip\r\n").as_bytes()).await;
                let _ = sock.write_all(&gz).await;
            }
            Act::Redirect(code, to) => {
                let head = format!(
                    "HTTP/1.1 {code} Moved\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = sock.write_all(head.as_bytes()).await;
            }
            Act::Status(code, headers) => {
                let mut head = format!("HTTP/1.1 {code} Whatever\r\nContent-Length: 4\r\nConnection: close\r\n");
                for (k, v) in headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                let _ = sock.write_all(format!("{head}\r\nnope").as_bytes()).await;
            }
            Act::Html => {
                let body = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>Log in</body></html>";
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(body).await;
            }
            Act::Empty => {
                let _ = sock.write_all(ok(0, "").as_bytes()).await;
            }
            Act::Reset(body) => {
                let _ = sock.write_all(ok(body.len() * 4, "").as_bytes()).await;
                let _ = sock.write_all(&body).await;
                let _ = sock.flush().await;
                // A zero linger turns the close into a TCP reset. (Deprecated because a
                // non-zero linger blocks on drop; a zero one returns at once.)
                #[allow(deprecated)]
                let _ = sock.set_linger(Some(Duration::ZERO));
                return;
            }
            Act::Silent => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
        }
        let _ = sock.shutdown().await;
    }
}

/// A port that accepts connections and never says anything: not even a TLS handshake.
async fn mute_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    port
}

fn gzip_bomb() -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![b' '; 1 << 20];
    enc.write_all(b"<rss version=\"2.0\"><channel>").unwrap();
    for _ in 0..64 {
        enc.write_all(&zeros).unwrap();
    }
    enc.finish().unwrap()
}

async fn feeds(setup: &Setup) -> HashMap<String, Value> {
    let (code, out, err) = setup.run(&["feeds", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    let list: Vec<Value> = serde_json::from_str(&out).unwrap();
    list.into_iter().map(|f| (f["name"].as_str().unwrap().to_string(), f)).collect()
}

#[tokio::test]
async fn every_hostile_server_ends_in_one_clear_line() {
    let server = Hostile::default();
    let base = server.start().await;
    let good = fixture("rss2.xml");
    let bomb = gzip_bomb();
    assert!(bomb.len() < 256 * 1024, "the bomb is small on the wire: {}", bomb.len());
    let cases: Vec<(&str, Act, String)> = vec![
        ("good", Act::Feed(good.clone()), String::new()),
        ("trickle", Act::Trickle, "no complete response within 2s".into()),
        ("endless", Act::Endless, "response body is larger than max_body (64 KiB)".into()),
        ("bomb", Act::Bomb(bomb), "response body is larger than max_body (64 KiB)".into()),
        ("redirects", Act::Redirect(302, "/redirects/1".into()), "more than 5 redirects".into()),
        ("loop", Act::Redirect(301, "/loop-b".into()), format!("redirect loop at {base}/loop")),
        ("moved", Act::Redirect(301, "/nowhere".into()), "HTTP 404 Not Found".into()),
        ("e500", Act::Status(500, vec![]), "HTTP 500 Internal Server Error".into()),
        ("e502", Act::Status(502, vec![]), "HTTP 502 Bad Gateway".into()),
        (
            "e503",
            Act::Status(503, vec![("Retry-After", "120".into())]),
            "HTTP 503 Service Unavailable (retry after 120s)".into(),
        ),
        (
            "e429",
            Act::Status(429, vec![("Retry-After", "3600".into())]),
            "HTTP 429 Too Many Requests (retry after 3600s)".into(),
        ),
        (
            "forever",
            Act::Status(503, vec![("Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT".into())]),
            "HTTP 503 Service Unavailable (retry after 86400s)".into(),
        ),
        (
            "overflow",
            Act::Status(429, vec![("Retry-After", "9223372036854775807".into())]),
            "HTTP 429 Too Many Requests (retry after 86400s)".into(),
        ),
        ("html", Act::Html, "the response is an HTML page, not a feed".into()),
        ("empty", Act::Empty, "the response body is empty".into()),
        ("reset", Act::Reset(good[..good.len() / 2].to_vec()), "connection failed while reading the body".into()),
        ("silent", Act::Silent, "no complete response within 2s".into()),
    ];
    for (name, act, _) in &cases {
        server.set(&format!("/{name}"), act.clone());
    }
    for i in 1..10 {
        server.set(&format!("/redirects/{i}"), Act::Redirect(302, format!("/redirects/{}", i + 1)));
    }
    server.set("/loop-b", Act::Redirect(301, "/loop".into()));
    let mut list: Vec<(&str, String)> = cases.iter().map(|(n, _, _)| (*n, format!("{base}/{n}"))).collect();
    list.push(("mute-tls", format!("https://127.0.0.1:{}/feed", mute_port().await)));
    // Nothing listens on port 1: the error names the host it could not reach.
    list.push(("refused", "http://127.0.0.1:1/feed".into()));
    let setup = Setup::new("[fetch]\ntimeout = \"2s\"\nmax_body = \"64KiB\"\nper_host = 32\n", &list);

    let started = Instant::now();
    let (code, out, err) = setup.run(&["poll"]).await;
    let took = started.elapsed();
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(took < Duration::from_secs(20), "the poll ends in bounded time: {took:?}");
    assert!(out.contains("good: 3 new"), "{out}");

    let rows = feeds(&setup).await;
    let mut wrong = Vec::new();
    for (name, _, want) in cases.iter().skip(1).map(|(n, a, w)| (*n, a, w.clone())).chain([(
        "mute-tls",
        &Act::Empty,
        "no complete response within 2s".to_string(),
    )]) {
        let error = rows[name]["last_error"].as_str().unwrap_or_default().to_string();
        if !error.starts_with(&want) || error.contains('\n') {
            wrong.push(format!("{name}: {error:?} (expected {want:?})"));
        }
        if rows[name]["error_count"] != 1 {
            wrong.push(format!("{name}: error_count {}", rows[name]["error_count"]));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(rows["good"]["last_error"], Value::Null);
    let refused = rows["refused"]["last_error"].as_str().unwrap();
    assert!(refused.starts_with("cannot connect to 127.0.0.1: "), "{refused}");
    assert_eq!(rows["moved"]["moved_to"], Value::Null, "a redirect to a 404 is not adopted");
    // A Retry-After is held for at most a day, and `feeds` says so.
    let latest = chrono::Utc::now() + chrono::Duration::days(1) + chrono::Duration::minutes(1);
    for name in ["forever", "overflow"] {
        let held = rows[name]["held_until"].as_str().unwrap_or_else(|| panic!("{name} is held: {:?}", rows[name]));
        let held = chrono::DateTime::parse_from_rfc3339(held).unwrap();
        assert!(held < latest, "{name} is held until {held}");
    }
    let (_, text, _) = setup.run(&["feeds"]).await;
    assert!(text.contains("its server asked to wait (Retry-After)"), "{text}");
}

#[tokio::test]
async fn a_feed_turning_hostile_loses_and_duplicates_nothing() {
    let server = Hostile::default();
    let base = server.start().await;
    let good = fixture("rss2.xml");
    server.set("/f", Act::Feed(good.clone()));
    let setup = Setup::new("[fetch]\ntimeout = \"2s\"\nmax_body = \"64KiB\"\n", &[("f", format!("{base}/f"))]);
    assert_eq!(setup.run(&["poll"]).await.0, 0);
    let before: Vec<Value> = setup.items().await;
    assert_eq!(before.len(), 3);
    for act in
        [Act::Reset(good[..good.len() / 2].to_vec()), Act::Bomb(gzip_bomb()), Act::Html, Act::Empty, Act::Trickle]
    {
        server.set("/f", act);
        let (code, out, _) = setup.run(&["poll"]).await;
        assert!(code == 0 && out.starts_with("f: error: "), "{out}");
        assert_eq!(setup.items().await, before, "nothing stored is lost or changed");
    }
    server.set("/f", Act::Feed(good));
    let (_, out, _) = setup.run(&["poll"]).await;
    assert!(out.contains("f: 0 new, 0 duplicates, 3 already stored"), "{out}");
    assert_eq!(setup.items().await, before, "and nothing is stored twice");
    assert_eq!(feeds(&setup).await["f"]["error_count"], 0);
}

#[tokio::test]
async fn waiting_behind_slow_feeds_of_the_same_host_is_not_a_timeout() {
    let server = Hostile::default();
    let base = server.start().await;
    server.set("/slow-1", Act::Trickle);
    server.set("/slow-2", Act::Trickle);
    server.set("/good", Act::Feed(fixture("rss2.xml")));
    // Served from another host name that redirects to the busy one: its second hop
    // queues behind the slow feeds too.
    server.set("/hop", Act::Redirect(302, format!("{base}/good-too")));
    server.set("/good-too", Act::Feed(fixture("rss2.xml")));
    let mut feeds_list: Vec<(&str, String)> =
        ["slow-1", "slow-2", "good"].iter().map(|n| (*n, format!("{base}/{n}"))).collect();
    feeds_list.push(("hop", format!("{}/hop", base.replace("127.0.0.1", "localhost"))));
    let setup = Setup::new("[fetch]\ntimeout = \"2s\"\nper_host = 1\n", &feeds_list);
    let (code, out, _) = setup.run(&["poll"]).await;
    assert_eq!(code, 0);
    // The same articles in two feeds: whichever is stored first has them as new.
    let fetched =
        |name: &str| out.contains(&format!("{name}: 3 new")) || out.contains(&format!("{name}: 0 new, 3 dup"));
    assert!(fetched("good"), "queued behind two slow feeds, still fetched: {out}");
    assert!(fetched("hop"), "a redirect's hop queued behind them, still fetched: {out}");
    assert!(out.contains("slow-1: error: no complete response within 2s"), "{out}");
}
