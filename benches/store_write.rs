//! The writer's share of a cold poll, alone: every document of a generated corpus parsed
//! first (not timed), then stored into a fresh database one transaction per feed (the
//! poll's writer groups several feeds per transaction; the statements are the same), then
//! grouped into series and the outcome stored. Single-threaded,
//! so that it can run under an instruction counter (callgrind) for figures that do not
//! depend on the machine's noise.
//!
//! Usage: cargo bench --bench store_write -- CORPUS_DIR   (see bench/gen_corpus.py)

use std::time::Instant;

use chrono::Utc;
use storyline::model::{FeedSpec, ParsedFeed, Validators};
use storyline::series::{Engine, NewItem, Params};
use storyline::store::{FeedRef, PollWrite, Store};
use url::Url;

fn main() {
    let dir = std::env::args().filter(|a| a != "--bench").nth(1).expect("usage: store_write CORPUS_DIR");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml" || e == "json"))
        .collect();
    paths.sort();
    let url = Url::parse("http://127.0.0.1/feed.xml").unwrap();
    let parsed: Vec<_> =
        paths.iter().filter_map(|p| storyline::parse::parse(&std::fs::read(p).unwrap(), None, &url).ok()).collect();
    let specs: Vec<FeedSpec> = (0..parsed.len())
        .map(|i| FeedSpec::new(format!("f{i:04}"), Url::parse(&format!("http://127.0.0.1/feeds/{i}.xml")).unwrap()))
        .collect();
    let work = tempfile::tempdir().unwrap();
    let mut store = Store::open(&work.path().join("bench.db")).unwrap();
    store.sync_feeds(&specs).unwrap();
    let feeds = store.configured_feeds().unwrap();

    let t = Instant::now();
    let new = store_items(&mut store, &feeds, parsed);
    let items = t.elapsed().as_secs_f64();
    println!("items stored:   {items:.2}s  {new} new  {:.0} items/s", new as f64 / items);

    let t = Instant::now();
    let (grouped, active) = store_series(&mut store);
    let series = t.elapsed().as_secs_f64();
    println!("series stored:  {series:.2}s  {grouped} items grouped, {active} series");
}

/// One transaction per feed; returns the new items.
#[inline(never)]
fn store_items(store: &mut Store, feeds: &[FeedRef], parsed: Vec<ParsedFeed>) -> usize {
    let now = Utc::now();
    let mut new = 0;
    for (feed, doc) in feeds.iter().zip(parsed) {
        let write = PollWrite::stored(doc, 200, Validators::default(), None);
        new += store.write_poll(feed, &write, now).unwrap().new;
    }
    new
}

/// Every stored item through the engine in grouping rounds, each round's outcome stored;
/// returns the items grouped and the series the engine holds.
#[inline(never)]
fn store_series(store: &mut Store) -> (usize, usize) {
    let mut engine = Engine::new(Params::default(), 0);
    let mut grouped = 0;
    loop {
        let batch: Vec<NewItem> = store.ungrouped(None, 2000, false).unwrap();
        if batch.is_empty() {
            return (grouped, engine.active());
        }
        grouped += batch.len();
        let through = batch.iter().map(|i| i.id).max();
        let outcome = engine.assign(&batch);
        store.write_series(&outcome, through).unwrap();
    }
}
