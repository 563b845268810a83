//! Baseline for `bench/poll.sh`: the bare pipeline of the same crates storyline uses
//! (reqwest with 32 requests in flight, feed-rs, one rusqlite writer, one transaction per
//! feed), without normalization, dedupe or politeness. storyline's `poll` is reported as a
//! ratio to this, measured in the same run.
//!
//! Usage: cargo bench --bench bare_pipeline -- URLS_FILE DB_FILE

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use rusqlite::{params, Connection};
use tokio::sync::{mpsc, Semaphore};

struct Fetched {
    url: String,
    etag: Option<String>,
    feed: Option<feed_rs::model::Feed>,
}

fn main() {
    let args: Vec<String> = std::env::args().filter(|a| a != "--bench").collect();
    let (urls_file, db_file) = (&args[1], &args[2]);
    let urls: Vec<String> = std::fs::read_to_string(urls_file).unwrap().lines().map(str::to_string).collect();
    let mut db = Connection::open(db_file).unwrap();
    db.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
         CREATE TABLE IF NOT EXISTS feeds (url TEXT PRIMARY KEY, etag TEXT);
         CREATE TABLE IF NOT EXISTS items (feed TEXT, id TEXT, title TEXT, link TEXT, content TEXT, PRIMARY KEY (feed, id));",
    )
    .unwrap();
    let etags: HashMap<String, String> = db
        .prepare("SELECT url, etag FROM feeds WHERE etag IS NOT NULL")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let started = Instant::now();
    let (tx, mut rx) = mpsc::channel::<Fetched>(64);
    let writer = std::thread::spawn(move || {
        let (mut new, mut unchanged) = (0, 0);
        while let Some(f) = rx.blocking_recv() {
            let Some(feed) = f.feed else {
                unchanged += 1;
                continue;
            };
            let t = db.transaction().unwrap();
            {
                let mut ins = t.prepare_cached("INSERT OR IGNORE INTO items VALUES (?1, ?2, ?3, ?4, ?5)").unwrap();
                for e in &feed.entries {
                    let title = e.title.as_ref().map(|t| t.content.as_str());
                    let content = e.content.as_ref().and_then(|c| c.body.as_deref());
                    new += ins.execute(params![f.url, e.id, title, e.links.first().map(|l| &l.href), content]).unwrap();
                }
            }
            t.execute("INSERT OR REPLACE INTO feeds VALUES (?1, ?2)", params![f.url, f.etag]).unwrap();
            t.commit().unwrap();
        }
        (new, unchanged)
    });
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = reqwest::Client::builder().gzip(true).brotli(true).build().unwrap();
        let sem = Arc::new(Semaphore::new(32));
        let mut tasks = tokio::task::JoinSet::new();
        for url in urls {
            let (client, sem, tx) = (client.clone(), sem.clone(), tx.clone());
            let etag = etags.get(&url).cloned();
            tasks.spawn(async move {
                let _permit = sem.acquire_owned().await.unwrap();
                let mut req = client.get(&url);
                if let Some(e) = &etag {
                    req = req.header("If-None-Match", e);
                }
                let resp = req.send().await.unwrap();
                if resp.status() == 304 {
                    tx.send(Fetched { url, etag, feed: None }).await.unwrap();
                    return;
                }
                let etag = resp.headers().get("etag").and_then(|v| v.to_str().ok()).map(str::to_string);
                let bytes = resp.bytes().await.unwrap();
                let feed = tokio::task::spawn_blocking(move || feed_rs::parser::parse(&bytes[..]).ok()).await.unwrap();
                tx.send(Fetched { url, etag, feed }).await.unwrap();
            });
        }
        drop(tx);
        while tasks.join_next().await.is_some() {}
    });
    let (new, unchanged) = writer.join().unwrap();
    println!("bare pipeline: {:.3}s, {new} new items, {unchanged} feeds not modified", started.elapsed().as_secs_f64());
}
