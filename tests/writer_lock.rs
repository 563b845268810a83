//! One writer per database, across processes: beside a running daemon a second daemon
//! and a one-shot `poll` exit 1 at once naming the daemon, while read-only commands work.
//! Child processes: the process boundary is the point.

mod common;

use std::time::{Duration, Instant};

use common::daemon::Daemon;
use common::{fixture, Route, Server, Setup};

#[tokio::test(flavor = "multi_thread")]
async fn a_second_writer_is_refused_and_readers_work_beside_the_daemon() {
    let feeds = Server::start().await;
    feeds.route("/a.xml", Route::feed(fixture("rss2.xml"), "application/rss+xml"));
    let setup = Setup::new(
        "[fetch]\nschedule = \"every 1h\"\n[server]\nlisten = \"127.0.0.1:0\"\n",
        &[("a", feeds.url("/a.xml"))],
    );
    let mut daemon = Daemon::start(&setup.config).await;
    daemon.wait_for_all(&["poll", "feed=a", "status=ok"]).await;
    let pid = daemon.child.id().unwrap();

    let started = Instant::now();
    let (code, _, err) = setup.run(&["poll"]).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(&format!("is in use by storyline run (pid {pid}")), "{err}");
    assert!(err.contains("systemctl reload storyline"), "says how to reach the daemon: {err}");
    assert!(started.elapsed() < Duration::from_secs(5), "refused at once, not after {:?}", started.elapsed());

    let (code, _, err) = setup.run(&["run"]).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(&format!("storyline run (pid {pid}")), "{err}");

    let (code, out, err) = setup.run(&["feeds", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"name\": \"a\""), "{out}");
    assert_eq!(setup.items().await.len(), 3, "export items reads beside the daemon");

    let (code, _) = daemon.stop().await;
    assert_eq!(code, Some(0));
    let (code, out, err) = setup.run(&["poll"]).await;
    assert_eq!(code, 0, "once the daemon is gone, poll writes: {err}");
    assert!(out.contains("a: "), "{out}");
}
