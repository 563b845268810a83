//! The HTTP server under clients that misbehave: half-sent request heads and idle
//! keep-alive connections are closed after the head timeout, connections beyond the cap
//! get 503 while the others are served, a stop does not wait for dripping clients, and
//! walking through `?limit=N` does not grow the render cache. In-process on 127.0.0.1:0.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{fixture, Route, Server, Setup};
use storyline::app::App;
use storyline::config::Config;
use storyline::publish::server::{serve, Limits};
use storyline::publish::{router, Published};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// A store with the three outlets' items, and the server's shared state over it.
async fn published() -> (Setup, Arc<Published>) {
    let feeds = Server::start().await;
    let mut names = Vec::new();
    for name in ["outlet-x", "outlet-y", "outlet-z"] {
        feeds.route(&format!("/{name}.xml"), Route::feed(fixture(&format!("{name}.xml")), "application/rss+xml"));
        names.push((name, feeds.url(&format!("/{name}.xml"))));
    }
    let setup = Setup::new("", &names);
    let config = Config::load(&setup.config).unwrap();
    let app = App::open_writer(config.clone(), "poll").unwrap();
    app.poll(&[], |_| {}).await.unwrap();
    drop(app);
    let state = Published::open(
        &storyline::store::Database::open_reading(&config.storage.database, "test").unwrap(),
        config.server.clone(),
    )
    .unwrap();
    (setup, Arc::new(state))
}

struct Running {
    addr: std::net::SocketAddr,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

async fn start(state: Arc<Published>, limits: Limits) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    let task = tokio::spawn(serve(listener, router(state), limits, stop.clone()));
    Running { addr, stop, task }
}

/// Reads until the server closes; returns what it sent and how long that took.
async fn read_to_close(sock: &mut TcpStream) -> (String, Duration) {
    let started = Instant::now();
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match tokio::time::timeout(Duration::from_secs(20), sock.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => panic!("the server kept the connection open for 20 s"),
        }
    }
    (String::from_utf8_lossy(&out).into_owned(), started.elapsed())
}

#[tokio::test(flavor = "multi_thread")]
async fn half_sent_heads_and_idle_keep_alive_are_closed_after_the_head_timeout() {
    let (_setup, state) = published().await;
    let head_timeout = Duration::from_millis(400);
    let server =
        start(state, Limits { max_connections: 16, per_client: 16, head_timeout, stop_grace: Duration::from_secs(2) })
            .await;

    let mut half = TcpStream::connect(server.addr).await.unwrap();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let (sent, after) = read_to_close(&mut half).await;
    assert!(after >= head_timeout - Duration::from_millis(50), "closed after {after:?}");
    assert!(!sent.contains("200 OK"), "{sent}");

    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let (sent, after) = read_to_close(&mut idle).await;
    assert!(sent.starts_with("HTTP/1.1 200 OK") && sent.ends_with("ok"), "{sent}");
    assert!(after >= head_timeout - Duration::from_millis(50), "idle keep-alive closed after {after:?}");
    server.stop.cancel();
    server.task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_beyond_the_cap_get_503_and_the_rest_are_served() {
    let (_setup, state) = published().await;
    let limits = Limits {
        max_connections: 3,
        per_client: 3,
        head_timeout: Duration::from_secs(60),
        stop_grace: Duration::from_secs(2),
    };
    let server = start(state, limits).await;
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(TcpStream::connect(server.addr).await.unwrap());
    }
    let mut extra = TcpStream::connect(server.addr).await.unwrap();
    extra.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let (sent, after) = read_to_close(&mut extra).await;
    assert!(sent.starts_with("HTTP/1.1 503 ") && sent.contains("Retry-After: 5"), "{sent}");
    assert!(after < Duration::from_secs(2), "refused at once, not after {after:?}");

    // A slot frees as soon as one of the idle clients goes away.
    drop(idle.pop());
    let client = reqwest::Client::new();
    let url = format!("http://{}/healthz", server.addr);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = client.get(&url).send().await.unwrap().status();
        if status == 200 {
            break;
        }
        assert_eq!(status, 503);
        assert!(Instant::now() < deadline, "the freed slot was never reused");
        tokio::task::yield_now().await;
    }
    server.stop.cancel();
    server.task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stop_does_not_wait_for_dripping_clients() {
    let (_setup, state) = published().await;
    let limits = Limits {
        max_connections: 64,
        per_client: 64,
        head_timeout: Duration::from_secs(60),
        stop_grace: Duration::from_secs(1),
    };
    let server = start(state, limits).await;
    let mut dripping = Vec::new();
    for _ in 0..5 {
        let mut sock = TcpStream::connect(server.addr).await.unwrap();
        sock.write_all(b"GET /feed.atom HTTP/1.1\r\nHo").await.unwrap();
        dripping.push(sock);
    }
    // One request is answered first, so the server has surely taken the five before it.
    let r = reqwest::get(format!("http://{}/healthz", server.addr)).await.unwrap();
    assert_eq!(r.status(), 200);
    let started = Instant::now();
    server.stop.cancel();
    tokio::time::timeout(Duration::from_secs(10), server.task).await.expect("the server stopped").unwrap();
    assert!(started.elapsed() < Duration::from_secs(3), "stopped after {:?}", started.elapsed());
    for mut sock in dripping {
        let (_, after) = read_to_close(&mut sock).await;
        assert!(after < Duration::from_secs(3));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn distinct_limits_do_not_grow_the_render_cache() {
    let (_setup, state) = published().await;
    let server = start(state.clone(), Limits::new(64)).await;
    let client = reqwest::Client::builder().gzip(true).build().unwrap();
    let base = format!("http://{}", server.addr);
    for path in ["/feed.atom", "/feed.rss", "/feed.json", "/", "/digest.atom"] {
        assert_eq!(client.get(format!("{base}{path}")).send().await.unwrap().status(), 200);
    }
    let hot = state.cache.bytes();
    assert!(hot > 0, "the default documents are cached");
    let metrics = client.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains(&format!("storyline_render_cache_bytes {hot}\n")), "{metrics}");
    for limit in 1..=200 {
        for path in ["/feed.atom", "/feed.rss", "/feed.json", "/digest.atom"] {
            let r = client.get(format!("{base}{path}?limit={limit}")).send().await.unwrap();
            assert_eq!(r.status(), 200);
        }
    }
    assert_eq!(state.cache.bytes(), hot, "documents at other limits are rendered on demand, not kept");
    let r = client.get(format!("{base}/feed.atom?limit=2")).send().await.unwrap();
    assert_eq!(feed_rs::parser::parse(r.bytes().await.unwrap().as_ref()).unwrap().entries.len(), 2);
    server.stop.cancel();
    server.task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn clients_that_hang_up_mid_request_cost_no_read_connection() {
    // A thousand items, so that a query of all of them outlasts the client.
    let feeds = Server::start().await;
    let mut rss = String::from("<rss version=\"2.0\"><channel><title>Wire</title>");
    for i in 0..1000 {
        rss.push_str(&format!(
            "<item><title>Headline number {i} about {}</title><link>http://wire.example/{i}</link>\
             <description>{}</description></item>",
            i % 37,
            "Words of the article body. ".repeat(20)
        ));
    }
    rss.push_str("</channel></rss>");
    feeds.route("/wire.xml", Route::feed(rss, "application/rss+xml"));
    let setup = Setup::new("", &[("wire", feeds.url("/wire.xml"))]);
    let config = Config::load(&setup.config).unwrap();
    let app = App::open_writer(config.clone(), "poll").unwrap();
    app.poll(&[], |_| {}).await.unwrap();
    drop(app);
    let state = Arc::new(
        Published::open(
            &storyline::store::Database::open_reading(&config.storage.database, "test").unwrap(),
            config.server.clone(),
        )
        .unwrap(),
    );
    let server = start(state, Limits::new(64)).await;
    // More hang-ups than the server has read connections: each closes while its query
    // may still be running.
    for _ in 0..4 * storyline::publish::READERS {
        let mut sock = TcpStream::connect(server.addr).await.unwrap();
        sock.write_all(b"GET /api/items?limit=1000 HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        // Closes once the request has surely arrived and its query started.
        tokio::time::sleep(Duration::from_millis(5)).await;
        drop(sock);
    }
    let client = reqwest::Client::new();
    for _ in 0..2 * storyline::publish::READERS {
        let r = client.get(format!("http://{}/api/items?limit=1000", server.addr)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }
    let health = client.get(format!("http://{}/healthz", server.addr)).send().await.unwrap();
    assert_eq!(health.status(), 200);
    server.stop.cancel();
    server.task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn healthz_fails_when_the_store_cannot_be_read() {
    let (setup, state) = published().await;
    let server = start(state, Limits::new(64)).await;
    let url = format!("http://{}/healthz", server.addr);
    let r = reqwest::get(&url).await.unwrap();
    assert_eq!((r.status().as_u16(), r.text().await.unwrap()), (200, "ok".to_string()));
    // The file is overwritten under the running server (a disk fault, a bad restore).
    let database = setup.dir.path().join("test.db");
    std::fs::write(&database, vec![0x5a; 64 * 1024]).unwrap();
    let _ = std::fs::remove_file(setup.dir.path().join("test.db-wal"));
    let _ = std::fs::remove_file(setup.dir.path().join("test.db-shm"));
    let r = reqwest::get(&url).await.unwrap();
    let status = r.status();
    let body = r.text().await.unwrap();
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("database"), "{body}");
    server.stop.cancel();
    server.task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn one_client_address_cannot_take_every_connection() {
    let (_setup, state) = published().await;
    let server = start(state, Limits::new(8)).await;
    assert_eq!(Limits::new(8).per_client, 2);
    // A host holding idle connections from 127.0.0.2: its third is refused.
    let from = |last: u8| {
        let addr = server.addr;
        async move {
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            socket.bind(std::net::SocketAddr::from(([127, 0, 0, last], 0))).unwrap();
            socket.connect(addr).await.unwrap()
        }
    };
    let mut hog = vec![from(2).await, from(2).await];
    let mut third = from(2).await;
    third.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let (sent, _) = read_to_close(&mut third).await;
    assert!(sent.starts_with("HTTP/1.1 503 "), "{sent}");
    // Another address is served meanwhile.
    let mut other = from(1).await;
    other.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let (sent, _) = read_to_close(&mut other).await;
    assert!(sent.starts_with("HTTP/1.1 200 OK"), "{sent}");
    // The hog's place comes back when one of its connections closes.
    drop(hog.pop());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut again = from(2).await;
        again.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
        let (sent, _) = read_to_close(&mut again).await;
        if sent.starts_with("HTTP/1.1 200 OK") {
            break;
        }
        assert!(Instant::now() < deadline, "the freed place was never given back: {sent}");
        tokio::task::yield_now().await;
    }
    server.stop.cancel();
    server.task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_damaged_database_fails_its_check_and_the_health_check() {
    let (setup, state) = published().await;
    drop(state);
    // Every page but the schema's (and the last) overwritten, as a disk fault or a bad
    // copy leaves them: the database still opens.
    let database = setup.dir.path().join("test.db");
    let schema: Vec<usize> = {
        let conn = rusqlite::Connection::open(&database).unwrap();
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
        let mut stmt = conn.prepare("SELECT pageno FROM dbstat WHERE name = 'sqlite_schema'").unwrap();
        stmt.query_map([], |r| r.get::<_, i64>(0)).unwrap().map(|p| p.unwrap() as usize).collect()
    };
    let mut bytes = std::fs::read(&database).unwrap();
    assert!(bytes.len() > 4 * 4096, "{} bytes", bytes.len());
    let pages = bytes.len() / 4096;
    for page in (2..pages).filter(|p| !schema.contains(p)) {
        for b in &mut bytes[(page - 1) * 4096..page * 4096] {
            *b = 0x5a;
        }
    }
    std::fs::write(&database, bytes).unwrap();
    let config = Config::load(&setup.config).unwrap();
    let state = Arc::new(
        Published::open(
            &storyline::store::Database::open_reading(&config.storage.database, "test").unwrap(),
            config.server.clone(),
        )
        .unwrap(),
    );
    let problem = state.check_integrity().await.unwrap_err();
    assert!(problem.starts_with("the database failed its integrity check"), "{problem}");
    let server = start(state, Limits::new(64)).await;
    let r = reqwest::get(format!("http://{}/healthz", server.addr)).await.unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.text().await.unwrap().contains("integrity check"));
    server.stop.cancel();
    server.task.await.unwrap();
}
