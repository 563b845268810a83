//! Store behaviour on real SQLite files.

use chrono::{TimeZone, Utc};
use url::Url;

use super::*;
use crate::model::{Entry, FeedSpec, ParsedFeed, Validators};

fn spec(name: &str, url: &str) -> FeedSpec {
    FeedSpec::new(name, Url::parse(url).unwrap())
}

fn entry(guid: &str, link: &str) -> Entry {
    Entry {
        guid: Some(guid.into()),
        guid_url: crate::dedupe::canonical_url(guid),
        link: Some(link.into()),
        canonical_link: crate::dedupe::canonical_url(link),
        title: format!("title {guid}"),
        content_html: "<p>body</p>".into(),
        summary: "body".into(),
        ..Entry::default()
    }
}

fn stored(entries: Vec<Entry>, etag: &str) -> PollWrite {
    let validators = Validators { etag: Some(etag.into()), last_modified: None };
    PollWrite::stored(ParsedFeed { entries, ..ParsedFeed::default() }, 200, validators, None)
}

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.db")).unwrap();
    (dir, store)
}

#[test]
fn a_permalink_guid_matches_a_link_in_another_feed() {
    let (_dir, mut store) = open();
    store
        .sync_feeds(&[
            spec("a", "http://a.example/f"),
            spec("b", "http://b.example/f"),
            spec("c", "http://c.example/f"),
        ])
        .unwrap();
    let now = Utc::now();
    let a = store.feed("a").unwrap();
    let b = store.feed("b").unwrap();
    let c = store
        .write_poll(&a, &stored(vec![entry("http://x.example/story", "http://proxy.example/1")], "1"), now)
        .unwrap();
    assert_eq!((c.new, c.duplicates), (1, 0));
    let c = store.write_poll(&b, &stored(vec![entry("b-1", "http://x.example/story?utm_source=b")], "1"), now).unwrap();
    assert_eq!((c.new, c.duplicates), (0, 1));
    let c = store.write_poll(&b, &stored(vec![entry("b-1", "http://x.example/story?utm_source=b")], "1"), now).unwrap();
    assert_eq!((c.new, c.duplicates, c.unchanged), (0, 0, 1));
    // The other way round: a permalink guid equal to an earlier item's link.
    let feed_c = store.feed("c").unwrap();
    let c = store
        .write_poll(&feed_c, &stored(vec![entry("http://proxy.example/1", "http://c.example/elsewhere")], "1"), now)
        .unwrap();
    assert_eq!((c.new, c.duplicates), (0, 1));
}

#[test]
fn pruned_items_lose_their_bodies_but_are_not_added_again() {
    let (_dir, mut store) = open();
    store.sync_feeds(&[spec("a", "http://a.example/f")]).unwrap();
    let a = store.feed("a").unwrap();
    let then = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    store.write_poll(&a, &stored(vec![entry("1", "http://a.example/1")], "1"), then).unwrap();
    let day = chrono::Duration::days(1);
    assert_eq!(store.prune(then + day, then + day * 91, false).unwrap().pruned, 1);
    assert_eq!(store.newest_items(10).unwrap()[0].content_html, "");
    let c = store.write_poll(&a, &stored(vec![entry("1", "http://a.example/1")], "1"), Utc::now()).unwrap();
    assert_eq!((c.new, c.unchanged), (0, 1));
    store.write_poll(&a, &stored(vec![entry("2", "http://a.example/2")], "1"), then).unwrap();
    assert_eq!(store.prune(then + day, then + day * 91, false).unwrap().pruned, 0, "at most once per PRUNE_EVERY");
    assert_eq!(store.prune(then + day, then + day * 92, false).unwrap().pruned, 1, "only what was not pruned yet");
}

/// Dropped bodies leave holes that new items never fill: once they add up to a large share
/// of the file, retention compacts it and the file on disk shrinks.
#[test]
fn retention_compacts_the_file_once_much_is_freed() {
    let (dir, mut store) = open();
    let path = dir.path().join("s.db");
    store.sync_feeds(&[spec("a", "http://a.example/f")]).unwrap();
    let a = store.feed("a").unwrap();
    let then = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let day = chrono::Duration::days(1);
    let body = |i: usize| format!("<p>{}</p>", format!("paragraph {i} of a long article. ").repeat(120));
    let entries = |from: usize, to: usize| -> Vec<Entry> {
        (from..to)
            .map(|i| Entry { content_html: body(i), ..entry(&i.to_string(), &format!("http://a.example/{i}")) })
            .collect()
    };
    store.write_poll(&a, &stored(entries(0, 20), "1"), then).unwrap();
    store.write_poll(&a, &stored(entries(20, 400), "2"), then + day * 2).unwrap();
    // Little is freed against the file: no compaction.
    let done = store.prune(then + day, then + day * 91, false).unwrap();
    assert_eq!((done.pruned, done.compaction), (20, Compaction::NotNeeded));

    store.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
    let before = std::fs::metadata(&path).unwrap().len();
    let done = store.prune(then + day * 3, then + day * 92, false).unwrap();
    assert_eq!(done.pruned, 380);
    let Compaction::Reclaimed(bytes) = done.compaction else { panic!("not compacted: {:?}", done.compaction) };
    let after = std::fs::metadata(&path).unwrap().len();
    assert!(bytes > before / 2 && after < before / 2, "{before} -> {after} bytes, {bytes} reclaimed");
    // Every row stays, and the next run has nothing new to give back.
    assert_eq!(store.feed_statuses().unwrap()[0].items, 400);
    let done = store.prune(then + day * 3, then + day * 93, true).unwrap();
    assert_eq!((done.pruned, done.compaction), (0, Compaction::NotNeeded));
}

#[test]
fn a_changed_config_url_forgets_validators_but_keeps_items() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut store = Store::open(&path).unwrap();
    store.sync_feeds(&[spec("a", "http://a.example/f")]).unwrap();
    let a = store.feed("a").unwrap();
    store.write_poll(&a, &stored(vec![entry("1", "http://a.example/1")], "v1"), Utc::now()).unwrap();
    assert_eq!(store.feed("a").unwrap().validators.etag.as_deref(), Some("v1"));
    drop(store);

    // Reopening migrates nothing twice; the same URL keeps its validators.
    let mut store = Store::open(&path).unwrap();
    store.sync_feeds(&[spec("a", "http://a.example/f")]).unwrap();
    assert_eq!(store.feed("a").unwrap().validators.etag.as_deref(), Some("v1"));
    store.sync_feeds(&[spec("a", "http://a.example/new")]).unwrap();
    let a = store.feed("a").unwrap();
    assert_eq!((a.url.as_str(), a.validators.etag), ("http://a.example/new", None));
    assert_eq!(store.feed_statuses().unwrap()[0].items, 1);

    // A feed that leaves the configuration keeps its items but is no longer listed.
    store.sync_feeds(&[]).unwrap();
    assert!(store.feed_statuses().unwrap().is_empty());
    store.sync_feeds(&[spec("a", "http://a.example/new")]).unwrap();
    assert_eq!(store.feed_statuses().unwrap()[0].items, 1);
}

#[test]
fn a_failure_keeps_validators_and_counts_errors() {
    let (_dir, mut store) = open();
    store.sync_feeds(&[spec("a", "http://a.example/f")]).unwrap();
    let a = store.feed("a").unwrap();
    store.write_poll(&a, &stored(vec![entry("1", "http://a.example/1")], "v1"), Utc::now()).unwrap();
    let failure = crate::model::Failure {
        kind: crate::model::FailureKind::Http,
        http_status: Some(500),
        message: "HTTP 500 Internal Server Error".into(),
        retry_after: None,
    };
    for _ in 0..2 {
        store.write_poll(&a, &PollWrite::failed(failure.clone()), Utc::now()).unwrap();
    }
    let status = &store.feed_statuses().unwrap()[0];
    assert_eq!((status.error_count, status.http_status, status.items), (2, Some(500), 1));
    assert_eq!(status.last_error.as_deref(), Some("HTTP 500 Internal Server Error"));
    assert_eq!(store.feed("a").unwrap().validators.etag.as_deref(), Some("v1"));
    store
        .write_poll(&a, &PollWrite { outcome: crate::model::Outcome::NotModified, moved_to: None }, Utc::now())
        .unwrap();
    let status = &store.feed_statuses().unwrap()[0];
    assert_eq!((status.error_count, status.last_error.as_deref()), (0, None));
}

#[test]
fn a_permanent_redirect_is_adopted_after_consecutive_polls() {
    let (_dir, mut store) = open();
    store.sync_feeds(&[spec("a", "http://a.example/old")]).unwrap();
    let new = Url::parse("http://a.example/new").unwrap();
    let other = Url::parse("http://a.example/elsewhere").unwrap();
    let moved = |to: &Url| PollWrite {
        outcome: crate::model::Outcome::NotModified,
        moved_to: Some(crate::store::Redirect { to: to.clone(), adopt_after: crate::scheduler::ADOPT_REDIRECT_AFTER }),
    };
    let a = store.feed("a").unwrap();
    store.write_poll(&a, &moved(&new), Utc::now()).unwrap();
    store.write_poll(&a, &moved(&other), Utc::now()).unwrap();
    store.write_poll(&a, &moved(&new), Utc::now()).unwrap();
    store.write_poll(&a, &moved(&new), Utc::now()).unwrap();
    assert_eq!(store.feed("a").unwrap().url.as_str(), "http://a.example/old", "two in a row are not enough");
    assert_eq!(store.feed("a").unwrap().moved, Some((new.clone(), 2)));
    store.write_poll(&a, &moved(&new), Utc::now()).unwrap();
    let a = store.feed("a").unwrap();
    assert_eq!((a.url.as_str(), a.moved), ("http://a.example/new", None));
    let status = &store.feed_statuses().unwrap()[0];
    assert_eq!((status.url.as_str(), status.config_url.as_str()), ("http://a.example/new", "http://a.example/old"));
    // The same configuration keeps the adopted URL; a new configured URL wins.
    store.sync_feeds(&[spec("a", "http://a.example/old")]).unwrap();
    assert_eq!(store.feed("a").unwrap().url.as_str(), "http://a.example/new");
}

#[test]
fn gone_feeds_are_marked_until_their_url_changes() {
    let (_dir, mut store) = open();
    store.sync_feeds(&[spec("a", "http://a.example/f")]).unwrap();
    let a = store.feed("a").unwrap();
    let gone = crate::model::Failure {
        kind: crate::model::FailureKind::Gone,
        http_status: Some(410),
        message: "HTTP 410 Gone".into(),
        retry_after: None,
    };
    store.write_poll(&a, &PollWrite::failed(gone), Utc::now()).unwrap();
    assert!(store.feed("a").unwrap().gone);
    assert!(store.feed_statuses().unwrap()[0].gone);
    store.sync_feeds(&[spec("a", "http://a.example/f")]).unwrap();
    assert!(store.feed("a").unwrap().gone, "reloading the same config keeps it parked");
    store.sync_feeds(&[spec("a", "http://a.example/g")]).unwrap();
    assert!(!store.feed("a").unwrap().gone, "a new URL is polled again");
}

#[test]
fn series_terms_are_stored_and_read_back_for_dormant_series() {
    use crate::series::{Assignments, Summary};
    let (_dir, mut store) = open();
    let summary = |id: u64, last: i64, terms: Vec<(String, f32)>| Summary {
        id,
        title: format!("series {id}"),
        keywords: vec![],
        count: 4,
        first: last - 100,
        last,
        terms,
    };
    let outcome = Assignments {
        changed: vec![
            summary(1, 1_000, vec![("volcano".into(), 1.5), ("iceland reykjanes".into(), 0.75)]),
            summary(2, 2_000, vec![("comet".into(), 1.0)]),
            summary(3, 9_000, vec![("recent".into(), 1.0)]),
            summary(4, 1_500, vec![]),
        ],
        ..Assignments::default()
    };
    store.write_series(&outcome, None).unwrap();
    let dormant = store.dormant_series(0, 5_000, 10).unwrap();
    let ids: Vec<u64> = dormant.iter().map(|d| d.id).collect();
    assert_eq!(ids, [1, 2], "idle in range, with terms, oldest first");
    assert_eq!(dormant[0].terms, outcome.changed[0].terms);
    assert_eq!((dormant[0].count, dormant[0].first, dormant[0].last), (4, 900, 1_000));
    assert_eq!(store.dormant_series(0, 5_000, 1).unwrap()[0].id, 2, "the limit keeps the most recent");
}

#[test]
fn items_not_grouped_yet_never_show_another_series_id() {
    use crate::series::{Assignments, Summary};
    let (_dir, mut store) = open();
    store.sync_feeds(&[spec("a", "http://a.example/f"), spec("b", "http://b.example/f")]).unwrap();
    let now = Utc::now();
    let (a, b) = (store.feed("a").unwrap(), store.feed("b").unwrap());
    let first =
        vec![entry("http://x.example/1", "http://x.example/1"), entry("http://x.example/2", "http://x.example/2")];
    store.write_poll(&a, &stored(first, "1"), now).unwrap();
    // Item 1 goes to series 2; item 2 waits for the next round, and so does item 3, a copy
    // of item 2 from another feed.
    let summary = Summary { id: 2, title: "t".into(), keywords: vec![], count: 1, first: 0, last: 0, terms: vec![] };
    store
        .write_series(
            &Assignments { assigned: vec![(1, 2, 0)], changed: vec![summary], ..Assignments::default() },
            Some(1),
        )
        .unwrap();
    store.write_poll(&b, &stored(vec![entry("b-3", "http://x.example/2?utm_source=b")], "1"), now).unwrap();
    let mut records = Vec::new();
    store
        .export_items(|r| {
            records.push((r.id, r.series));
            Ok(())
        })
        .unwrap();
    assert_eq!(records, [(1, "2".to_string()), (2, "item-2".to_string()), (3, "item-2".to_string())]);
    let newest: Vec<(i64, String)> = store.newest_items(10).unwrap().into_iter().map(|i| (i.id, i.series)).collect();
    assert!(newest.contains(&(2, "item-2".to_string())) && newest.contains(&(1, "2".to_string())), "{newest:?}");
}

#[test]
fn listings_walk_an_index_instead_of_sorting_every_item() {
    use super::items::{ITEM_SELECT, NEWEST, RECORD_SELECT, SERIES_NEWEST, SHOWN};
    let (_dir, store) = open();
    let listings = [
        format!("{ITEM_SELECT} WHERE i.duplicate_of IS NULL AND {SHOWN} ORDER BY {NEWEST} LIMIT 10"),
        format!(
            "{ITEM_SELECT} WHERE i.duplicate_of IS NULL AND m.series = '1' AND {SHOWN} ORDER BY {SERIES_NEWEST} LIMIT 10"
        ),
        format!("{RECORD_SELECT} WHERE {SHOWN} ORDER BY {NEWEST} LIMIT 10"),
        format!("{RECORD_SELECT} WHERE m.series = '1' AND {SHOWN} ORDER BY {SERIES_NEWEST} LIMIT 10"),
    ];
    for sql in listings {
        let mut stmt = store.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let plan: Vec<String> = stmt.query_map([], |r| r.get(3)).unwrap().map(Result::unwrap).collect();
        let sorts_or_scans = |step: &String| step.contains("TEMP B-TREE") || step == "SCAN i";
        assert!(!plan.iter().any(sorts_or_scans), "{sql}\n{plan:#?}");
    }
}

/// Each lookup of storing an entry (per poll, per entry, per link) searches an index: none
/// reads the items table through.
#[test]
fn storing_an_entry_searches_indexes_only() {
    use super::items::{HAS_ITEMS, KNOWN, ORIGINAL};
    let (_dir, store) = open();
    for sql in [HAS_ITEMS, KNOWN, ORIGINAL] {
        let mut stmt = store.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let unbound = rusqlite::params_from_iter(vec![1; stmt.parameter_count()]);
        let plan: Vec<String> = stmt.query_map(unbound, |r| r.get(3)).unwrap().map(Result::unwrap).collect();
        // (A SELECT without FROM "scans" its one constant row.)
        let scans_or_sorts =
            |step: &String| (step.starts_with("SCAN") && step != "SCAN CONSTANT ROW") || step.contains("TEMP B-TREE");
        assert!(!plan.iter().any(scans_or_sorts), "{sql}\n{plan:#?}");
        let searches = plan.iter().filter(|step| step.starts_with("SEARCH items USING")).count();
        assert_eq!(searches, if sql == ORIGINAL { 2 } else { 1 }, "{sql}\n{plan:#?}");
    }
}

#[test]
fn items_to_group_carry_summaries_only_when_asked() {
    let (_dir, mut store) = open();
    store.sync_feeds(&[spec("a", "http://a.example/f")]).unwrap();
    let a = store.feed("a").unwrap();
    store.write_poll(&a, &stored(vec![entry("http://x.example/1", "http://x.example/1")], "1"), Utc::now()).unwrap();
    assert_eq!(store.ungrouped(None, 10, true).unwrap()[0].summary, "body");
    let titles_only = store.ungrouped(None, 10, false).unwrap();
    assert_eq!((titles_only[0].title.as_str(), titles_only[0].summary.as_str()), ("title http://x.example/1", ""));
}

/// A feed's first poll skips the stored-identity lookups: an entry repeated within that
/// document is still stored once, and the next poll still finds what the first stored.
#[test]
fn a_first_poll_stores_a_repeated_entry_once() {
    let (_dir, mut store) = open();
    store.sync_feeds(&[spec("a", "http://a.example/f")]).unwrap();
    let a = store.feed("a").unwrap();
    let first =
        vec![entry("1", "http://a.example/1"), entry("2", "http://a.example/2"), entry("1", "http://a.example/1")];
    let c = store.write_poll(&a, &stored(first, "1"), Utc::now()).unwrap();
    assert_eq!((c.new, c.unchanged, c.repeated), (2, 0, 1));
    let again = vec![entry("2", "http://a.example/2"), entry("3", "http://a.example/3")];
    let c = store.write_poll(&a, &stored(again, "2"), Utc::now()).unwrap();
    assert_eq!((c.new, c.unchanged), (1, 1));
    assert_eq!(store.newest_items(10).unwrap().len(), 3);
}

/// Purging a removed feed deletes its items, keeps a configured feed's copy of one of them
/// as the new original in its series, and brings the series' count down.
#[test]
fn purging_a_removed_feed_keeps_the_copies_of_configured_feeds() {
    use crate::series::{Assignments, Summary};
    let (_dir, mut store) = open();
    store.sync_feeds(&[spec("a", "http://a.example/f"), spec("b", "http://b.example/f")]).unwrap();
    let now = Utc::now();
    let (a, b) = (store.feed("a").unwrap(), store.feed("b").unwrap());
    // b's items 1 and 2; a's item 3 is a copy of item 1.
    let from_b =
        vec![entry("http://x.example/1", "http://x.example/1"), entry("http://x.example/2", "http://x.example/2")];
    store.write_poll(&b, &stored(from_b, "1"), now).unwrap();
    store.write_poll(&a, &stored(vec![entry("a-3", "http://x.example/1?utm_source=a")], "1"), now).unwrap();
    let summary = Summary { id: 7, title: "t".into(), keywords: vec![], count: 3, first: 0, last: 0, terms: vec![] };
    let assigned = vec![(1, 7, 10), (2, 7, 20), (3, 7, 10)];
    store.write_series(&Assignments { assigned, changed: vec![summary], ..Assignments::default() }, Some(3)).unwrap();

    store.sync_feeds(&[spec("a", "http://a.example/f")]).unwrap();
    assert_eq!(store.purge_removed().unwrap(), Purged { items: 2, feeds: 1 });
    let mut records = Vec::new();
    store
        .export_items(|r| {
            records.push((r.id, r.feed.clone(), r.duplicate_of, r.series.clone()));
            Ok(())
        })
        .unwrap();
    assert_eq!(records, [(3, "a".to_string(), None, "7".to_string())], "a's copy is the original now, in series 7");
    assert_eq!(store.series("7").unwrap().unwrap().items, 1);
    assert_eq!(store.purge_removed().unwrap(), Purged::default(), "nothing left to purge");
}

/// Stored verdicts are redone only when the rules change: the same rules again leave them
/// as they are, other rules (or none) judge every item again.
#[test]
fn rules_are_applied_again_only_when_they_change() {
    use crate::filter::{Field, Filters, Rule, Rules};
    let (_dir, mut store) = open();
    store.sync_feeds(&[spec("a", "http://a.example/f")]).unwrap();
    let a = store.feed("a").unwrap();
    let entries = vec![entry("1", "http://a.example/1"), entry("2", "http://a.example/2")];
    store.write_poll(&a, &stored(entries, "1"), Utc::now()).unwrap();
    let block = |pattern: &str| Filters {
        global: Rules {
            keep: vec![],
            block: vec![Rule { name: "r".into(), patterns: vec![(Field::Title, regex::Regex::new(pattern).unwrap())] }],
        },
        ..Filters::default()
    };
    let hidden = |store: &Store| -> Vec<i64> {
        let mut stmt = store.conn.prepare("SELECT id FROM items WHERE filtered IS NOT NULL ORDER BY id").unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    assert_eq!(store.refilter(&block("title 1$")).unwrap(), 1);
    assert_eq!(hidden(&store), [1]);
    store.conn.execute("UPDATE items SET filtered = 'marked' WHERE id = 2", []).unwrap();
    assert_eq!(store.refilter(&block("title 1$")).unwrap(), 0, "the same rules: nothing is judged again");
    assert_eq!(hidden(&store), [1, 2]);
    assert_eq!(store.refilter(&block("title 2$")).unwrap(), 2, "other rules judge every item again");
    assert_eq!(hidden(&store), [2]);
    assert_eq!(store.refilter(&Filters::default()).unwrap(), 1);
    assert!(hidden(&store).is_empty());
}

#[test]
fn a_read_for_a_document_holds_a_bounded_amount_of_text() {
    let (_dir, mut store) = open();
    store.sync_feeds(&[spec("a", "http://a.example/f")]).unwrap();
    let a = store.feed("a").unwrap();
    let body = "x".repeat(crate::model::DOCUMENT_TEXT_BYTES / 4);
    let entries = (0..10)
        .map(|i| Entry { content_html: body.clone(), ..entry(&format!("g{i}"), &format!("http://a.example/{i}")) })
        .collect();
    store.write_poll(&a, &stored(entries, "1"), Utc::now()).unwrap();
    let items = store.newest_items(1000).unwrap();
    assert_eq!(items.len(), 3, "the newest that fit, not all ten");
    assert!(items.iter().map(|i| i.content_html.len()).sum::<usize>() <= crate::model::DOCUMENT_TEXT_BYTES);
}

#[test]
fn entries_repeating_an_id_are_stored_once_and_the_feed_says_so() {
    let (_dir, mut store) = open();
    store.sync_feeds(&[spec("a", "http://a.example/f")]).unwrap();
    let a = store.feed("a").unwrap();
    let same = || entry("g-1", "http://a.example/1");
    let c = store.write_poll(&a, &stored(vec![same(), same(), entry("g-2", "http://a.example/2")], "1"), Utc::now());
    let c = c.unwrap();
    assert_eq!((c.new, c.repeated), (2, 1));
    let status = store.feed_statuses().unwrap().remove(0);
    assert_eq!(
        status.warning.as_deref(),
        Some("1 entries repeat the id (guid, else link) of an earlier entry: stored once")
    );
}

#[test]
fn a_story_is_shown_by_its_strongest_members_not_its_newest_strays() {
    use crate::series::{Assignments, Summary};
    let (_dir, mut store) = open();
    store.sync_feeds(&[spec("a", "http://a.example/f")]).unwrap();
    let a = store.feed("a").unwrap();
    let t0 = Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap();
    // The story's headlines, then two strays that joined it last on "China" alone.
    let titles = [
        "Stock futures slip on weak China data",
        "World stocks fall after weak China export data",
        "Stocks and commodities hit as China data disappoints",
        "Weak China trade data knocks stock futures",
        "Futures slide on weak Chinese data",
        "Stock markets shrug off weak China data",
        "China sets terms for Taiwan talks",
        "China wins Paralympics",
    ];
    let entries: Vec<Entry> = titles
        .iter()
        .enumerate()
        .map(|(i, t)| Entry {
            title: t.to_string(),
            published: Some(t0 + chrono::Duration::hours(i as i64)),
            ..entry(&format!("g{i}"), &format!("http://a.example/{i}"))
        })
        .collect();
    store.write_poll(&a, &stored(entries, "1"), Utc::now()).unwrap();
    let assigned = (1..=8).map(|id| (id, 1, (t0 + chrono::Duration::hours(id - 1)).timestamp())).collect();
    let summary = Summary {
        id: 1,
        title: titles[0].into(),
        keywords: vec!["China".into(), "stock futures".into(), "weak data".into()],
        count: 8,
        first: t0.timestamp(),
        last: (t0 + chrono::Duration::hours(7)).timestamp(),
        terms: vec![],
    };
    store.write_series(&Assignments { assigned, changed: vec![summary], ..Assignments::default() }, None).unwrap();

    let front = store.front_page(1, 10, Utc::now()).unwrap();
    let shown: Vec<&str> = front.stories[0].headlines.iter().map(|h| h.title.as_str()).collect();
    assert_eq!(shown.len(), 5);
    assert!(!shown.iter().any(|t| t.contains("Taiwan") || t.contains("Paralympics")), "{shown:?}");
    // Each entry's "In this story" too: the newest stray is shown with the story's core.
    let items = store.newest_items(10).unwrap();
    let stray = items.iter().find(|i| i.title == "China wins Paralympics").unwrap();
    let related: Vec<&str> = stray.related.iter().map(|r| r.title.as_str()).collect();
    assert!(!related.contains(&"China sets terms for Taiwan talks"), "{related:?}");
}

/// A page that failed for a reason that may pass stays waiting, with why, until its
/// third try; an article replaces the body once, and nothing changes a settled item.
#[test]
fn a_page_that_fails_for_now_is_tried_again_up_to_three_times() {
    use super::full_text::MAX_TRIES;
    let (_dir, mut store) = open();
    store.sync_feeds(&[spec("a", "http://a.example/f")]).unwrap();
    let a = store.feed("a").unwrap();
    let mut write = stored(vec![entry("1", "http://a.example/1"), entry("2", "http://a.example/2")], "1");
    if let crate::model::Outcome::Done(doc) = &mut write.outcome {
        doc.full_text = true;
    }
    store.write_poll(&a, &write, Utc::now()).unwrap();
    let waiting: Vec<i64> = store.waiting_full_text("a", 10).unwrap().iter().map(|w| w.item).collect();
    assert_eq!(waiting, [2, 1], "newest first");
    for _ in 1..MAX_TRIES {
        assert!(!store.record_full_text(1, &PageOutcome::Later("timeout".into())).unwrap());
        assert_eq!(store.full_text_of(1).unwrap(), Some(FullText::Waiting(Some("timeout".into()))));
    }
    store.record_full_text(1, &PageOutcome::Later("timeout".into())).unwrap();
    assert_eq!(store.full_text_of(1).unwrap(), Some(FullText::Failed("timeout".into())));
    assert!(store.record_full_text(2, &PageOutcome::Article("<p>whole</p>".into())).unwrap());
    assert!(!store.record_full_text(2, &PageOutcome::Article("<p>again</p>".into())).unwrap(), "settled");
    assert_eq!(store.full_text_of(2).unwrap(), Some(FullText::Fetched));
    assert!(store.waiting_full_text("a", 10).unwrap().is_empty());
    let bodies: Vec<String> = store.newest_items(10).unwrap().into_iter().map(|i| i.content_html).collect();
    assert!(bodies.contains(&"<p>whole</p>".to_string()), "{bodies:?}");
}

/// The counts every page shows answer from an index or a kept count: the feeds listing
/// and the front page's "items today" read no item row.
#[test]
fn the_counts_the_pages_show_read_no_item_row() {
    use super::feeds::FEED_STATUSES;
    use super::items::ITEMS_SINCE;
    let (_dir, store) = open();
    for (sql, index) in [(FEED_STATUSES, "items_hidden"), (ITEMS_SINCE, "items_first_seen")] {
        let mut stmt = store.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let unbound = rusqlite::params_from_iter(vec![1; stmt.parameter_count()]);
        let plan: Vec<String> = stmt.query_map(unbound, |r| r.get(3)).unwrap().map(Result::unwrap).collect();
        assert!(
            !plan.iter().any(|step| step.starts_with("SCAN items") || step.contains("SCAN i ")),
            "{sql}\n{plan:#?}"
        );
        assert!(plan.iter().any(|step| step.starts_with("SEARCH items") && step.contains(index)), "{sql}\n{plan:#?}");
    }
}

/// A story's sources on the front page are counted from its newest members through its
/// index, whatever its size.
#[test]
fn a_storys_sources_are_counted_from_its_newest_members() {
    let (_dir, store) = open();
    let mut stmt = store.conn.prepare(&format!("EXPLAIN QUERY PLAN {}", super::series::STORY_SOURCES)).unwrap();
    let plan: Vec<String> = stmt.query_map([1, 1000], |r| r.get(3)).unwrap().map(Result::unwrap).collect();
    assert!(plan.iter().any(|step| step.contains("item_series_by_series")), "{plan:#?}");
    assert!(!plan.iter().any(|step| step.starts_with("SCAN item_series") || step.starts_with("SCAN i ")), "{plan:#?}");
}

/// A feed's item count is kept on its row as items are stored, copies included.
#[test]
fn a_feeds_item_count_follows_what_is_stored() {
    let (_dir, mut store) = open();
    store.sync_feeds(&[spec("a", "http://a.example/f"), spec("b", "http://b.example/f")]).unwrap();
    let (a, b) = (store.feed("a").unwrap(), store.feed("b").unwrap());
    store
        .write_poll(
            &a,
            &stored(vec![entry("1", "http://x.example/1"), entry("2", "http://x.example/2")], "1"),
            Utc::now(),
        )
        .unwrap();
    store.write_poll(&a, &stored(vec![entry("1", "http://x.example/1")], "2"), Utc::now()).unwrap();
    store.write_poll(&b, &stored(vec![entry("b1", "http://x.example/1")], "1"), Utc::now()).unwrap();
    let counts: Vec<(String, u64)> = store.feed_statuses().unwrap().into_iter().map(|f| (f.name, f.items)).collect();
    assert_eq!(counts, [("a".to_string(), 2), ("b".to_string(), 1)]);
}

/// "Other news" walks the series that are not stories, newest first, and reads only the
/// items it shows.
#[test]
fn other_news_walks_the_series_that_are_not_stories() {
    use super::items::{other_news_select, OTHER_NEWS_ORDER, SHOWN};
    let (_dir, store) = open();
    let story = crate::model::STORY_ARTICLES;
    let sql = format!(
        "{} WHERE s.items < {story} AND i.duplicate_of IS NULL AND {SHOWN} ORDER BY {OTHER_NEWS_ORDER} LIMIT 30",
        other_news_select()
    );
    let mut stmt = store.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let plan: Vec<String> = stmt.query_map([], |r| r.get(3)).unwrap().map(Result::unwrap).collect();
    assert!(plan[0].contains("series_not_stories"), "{plan:#?}");
    assert!(!plan.iter().any(|step| step.contains("TEMP B-TREE") || step.starts_with("SCAN i")), "{plan:#?}");
}

/// Search reads titles, summaries and bodies, follows what retention drops, folds copies
/// into their original, and tells a query it cannot read from a failure of the database.
#[test]
fn search_finds_titles_summaries_and_bodies() {
    let (_dir, mut store) = open();
    store.sync_feeds(&[spec("a", "http://a.example/f"), spec("b", "http://b.example/f")]).unwrap();
    let (a, b) = (store.feed("a").unwrap(), store.feed("b").unwrap());
    let then = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let mut headline = entry("1", "http://x.example/1");
    headline.title = "Harbour bridge reopens".into();
    let mut summarised = entry("2", "http://x.example/2");
    summarised.summary = "The ferry strike is over".into();
    let mut bodied = entry("3", "http://x.example/3");
    bodied.content_html = "<p>Inspectors found the Zürich tunnel sound</p>".into();
    store.write_poll(&a, &stored(vec![headline, summarised], "1"), then).unwrap();
    store.write_poll(&a, &stored(vec![bodied], "2"), Utc::now()).unwrap();
    // The same article in another feed: one result.
    store.write_poll(&b, &stored(vec![entry("b1", "http://x.example/1")], "1"), Utc::now()).unwrap();
    fn found(store: &Store, q: &str) -> Vec<String> {
        store.search(q, 10).unwrap().into_iter().map(|i| i.title).collect()
    }
    assert!(found(&store, "bridge").is_empty(), "found once a grouping round is written");
    store.write_series(&crate::series::Assignments::default(), Some(4)).unwrap();
    let titles = |q: &str| found(&store, q);
    assert_eq!(titles("bridge"), ["Harbour bridge reopens"]);
    assert_eq!(titles("ferry"), ["title 2"], "by summary");
    assert_eq!(titles("zurich"), ["title 3"], "by body, diacritics folded");
    assert_eq!(titles("\"tunnel sound\" OR harb*").len(), 2, "phrases, OR and prefixes");
    assert!(titles("bridge NOT harbour").is_empty());
    // Retention drops the old bodies and summaries: they are no longer found.
    let day = chrono::Duration::days(1);
    store.prune(then + day, then + day * 91, false).unwrap();
    assert!(found(&store, "ferry").is_empty(), "what was pruned is not searched");
    assert_eq!(found(&store, "bridge"), ["Harbour bridge reopens"], "titles stay");
    for bad in ["\"unclosed", "AND", "nosuch:word"] {
        match store.search(bad, 10) {
            Err(StoreError::Search(why)) => assert!(!why.is_empty(), "{bad}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
}
