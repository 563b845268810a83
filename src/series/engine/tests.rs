//! The engine's internal bookkeeping, checked directly.

use super::*;
use crate::series::language::Language;

fn engine(posting_limit: usize) -> Engine {
    Engine::new(Params { posting_limit, indexed_terms: 1, ..Params::default() }, 0)
}

/// A series indexed under term 0 alone, last active at `last`.
fn put(e: &mut Engine, id: u64, last: i64) {
    let mut s = Series::empty(last);
    s.centroid.insert(0, 1.0);
    e.series.insert(id, s);
    e.reindex(id);
}

fn listed(e: &Engine) -> Vec<u64> {
    let mut list = e.postings[&0].clone();
    list.sort_unstable();
    list
}

#[test]
fn a_full_posting_list_keeps_the_most_recently_active_series() {
    let mut e = engine(2);
    put(&mut e, 1, 100);
    put(&mut e, 2, 300);
    put(&mut e, 3, 200);
    assert_eq!(listed(&e), [2, 3], "the least recently active series made way");
    assert!(e.series[&1].unlisted, "and its next item reindexes it");
    put(&mut e, 4, 50);
    assert_eq!(listed(&e), [2, 3], "an older series does not push out more recent ones");
    assert!(e.series[&4].unlisted);
    e.series.get_mut(&1).unwrap().last = 400;
    e.reindex(1);
    assert_eq!(listed(&e), [1, 2], "active again, a series takes the stalest place back");
    assert!(!e.series[&1].unlisted && e.series[&3].unlisted);
    e.reindex(1);
    assert_eq!(listed(&e), [1, 2], "listed once");
}

#[test]
fn a_term_outgrowing_the_indexed_ones_takes_their_place() {
    let mut e = engine(4);
    let (a, b) = (e.term_id("a"), e.term_id("b"));
    let id = e.open(0, Language::English);
    e.add(id, "a".into(), 0, vec![(a, 1.0)], None, true);
    assert_eq!(e.series[&id].indexed, [a]);
    e.add(id, "b".into(), 1, vec![(b, 0.5)], None, true);
    assert_eq!(e.series[&id].indexed, [a], "a lighter new term stays out");
    e.add(id, "b".into(), 2, vec![(b, 0.75)], None, true);
    assert_eq!(e.series[&id].indexed, [b], "grown past the indexed term, it replaces it");
    assert_eq!(e.postings[&b], [id]);
    assert!(e.postings[&a].is_empty());
}

#[test]
fn idle_series_are_forgotten_once_a_day_of_stream_time() {
    let mut e = Engine::new(Params { horizon: 1_000, ..Params::default() }, 0);
    put(&mut e, 1, 0);
    put(&mut e, 2, 100_000);
    e.forget_idle(100_500);
    assert_eq!(e.active(), 1, "the first sweep drops the series idle beyond the horizon");
    put(&mut e, 3, 100_600);
    e.forget_idle(100_000 + SWEEP_EVERY - 1);
    assert_eq!(e.active(), 2, "no sweep within a day of the last: series 2 is kept though idle");
    e.forget_idle(100_500 + SWEEP_EVERY);
    assert_eq!(e.active(), 0, "a day later, every series idle beyond the horizon goes");
    assert!(e.postings[&0].is_empty(), "and leaves the index");
}
