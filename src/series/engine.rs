//! The online grouping engine: term statistics, series centroids, the inverted index,
//! assignment, merging. How an item scores against candidate series is `scoring`'s.

mod explain;
mod features;
mod persist;
mod scoring;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use super::language::Language;
use super::naming::{due_for_rename, most_central, Sample, SAMPLES};
use super::neighbours::Neighbours;
use super::semantic::{Packed, Topic, DIMS};
use super::simhash::NearIndex;
use super::vector::{cosine, norm, prune, IdMap};
use super::why::How;
use super::{Assignments, NewItem, Params};
use features::Features;
use scoring::Scored;

/// How much of a summary is read for features.
const SUMMARY_BYTES: usize = 240;

/// Lead in headlines by which a series must own a term for that term alone to count as
/// evidence of belonging to it (see [`Engine::evidence`]).
const OWNED_LEAD: u32 = 8;

/// Stream time between sweeps for idle series: a day keeps the engine within a day of its
/// horizon (180 days by default) at the cost of one pass over the series a day.
const SWEEP_EVERY: i64 = 86_400;

/// Newest members' topics kept per series (of the members that speak for it, see
/// `Engine::speaks_for`), to compare an item with (see
/// `scoring::topic_cosine`). Noisy / clean dev F1 with 8: 0.844 / 0.805, 32: 0.852 /
/// 0.829, 96: 0.852 / 0.829; 32 costs 16 KB for a series that long.
const RECENT_TOPICS: usize = 32;

/// A term is a name when written capitalised (where that means something) at least this
/// many times as often as in lower case: "Apple" stays a name through the odd "apple".
const NAME_RATIO: u32 = 4;

/// A centroid is pruned when it holds this many times `indexed_terms` terms, down to
/// `PRUNE_TO` times: a bound on memory and on the cost of a centroid comparison, far
/// above the terms that carry its similarity (the indexed ones).
const PRUNE_AT: usize = 4;
const PRUNE_TO: usize = 2;

#[derive(Debug, Default, Clone)]
struct Term {
    text: String,
    df: f64,
    at: i64,
    /// Times seen where a capital means a name (mid-sentence, acronym, phrase).
    upper: u32,
    /// Times seen in lower case.
    lower: u32,
    display: Option<String>,
    /// The series most of this term's headlines went to, and by how many more than went
    /// elsewhere (a majority vote: up for the owner, down for any other).
    owner: u64,
    owner_lead: u32,
}

impl Term {
    /// Written capitalised where that means something, and rarely in lower case.
    fn is_name(&self) -> bool {
        self.upper > 0 && self.lower * NAME_RATIO <= self.upper
    }
}

#[derive(Debug, Clone)]
struct Series {
    centroid: IdMap<u32, f32>,
    /// Euclidean norm of `centroid`, kept current.
    norm: f32,
    /// Sum of `centroid`'s weights, kept current.
    mass: f32,
    indexed: Vec<u32>,
    /// Weight of the lightest indexed term when last indexed. Weights only grow, so a term
    /// lighter than this cannot have entered the strongest terms since.
    floor: f32,
    /// Missing from a posting list of one of its terms (the list was full of more recent
    /// series, or one of them pushed it out): the next item reindexes it.
    unlisted: bool,
    /// Distinct articles: copies join without counting.
    count: u64,
    first: i64,
    last: i64,
    title: String,
    named_at: u64,
    samples: Vec<Sample>,
    /// Sum of the topic vectors of the members that speak for it (empty until one has a
    /// topic; see `Engine::speaks_for`).
    topic: Vec<f32>,
    /// Topics of its newest members that speak for it, oldest first; empty for a series
    /// of one such member (its `topic` is that member's).
    recent: Vec<Packed>,
    /// The language of its items (that of the item that opened it).
    language: Language,
}

impl Series {
    /// Before a second topic arrives, records the first (held only in `topic` so far).
    fn keep_first_topic(&mut self) {
        if self.recent.is_empty() && self.topic.len() == DIMS {
            let mut first = [0f32; DIMS];
            first.copy_from_slice(&self.topic);
            let norm = first.iter().map(|x| x * x).sum::<f32>().sqrt();
            if norm > 0.0 {
                first.iter_mut().for_each(|x| *x /= norm);
                self.recent.push(Packed::new(&first));
            }
        }
    }

    /// A series with no items yet, opened at `at`.
    fn empty(at: i64) -> Series {
        Series {
            centroid: IdMap::default(),
            norm: 0.0,
            mass: 0.0,
            indexed: Vec::new(),
            floor: 0.0,
            unlisted: false,
            count: 0,
            first: at,
            last: at,
            title: String::new(),
            named_at: 0,
            samples: Vec::new(),
            topic: Vec::new(),
            recent: Vec::new(),
            language: Language::English,
        }
    }
}

/// The grouping state: feed it items in order with [`Engine::assign`].
#[derive(Debug, Default)]
pub struct Engine {
    params: Params,
    vocab: HashMap<String, u32>,
    terms: Vec<Term>,
    docs: f64,
    docs_at: i64,
    series: IdMap<u64, Series>,
    aliases: IdMap<u64, u64>,
    postings: IdMap<u32, Vec<u64>>,
    near: NearIndex,
    neighbours: Neighbours,
    next_id: u64,
    /// Stream time of the last sweep for idle series.
    swept_at: i64,
}

fn decay(value: f64, from: i64, to: i64, half_life: f64) -> f64 {
    if to <= from {
        value
    } else {
        value * 0.5f64.powf((to - from) as f64 / half_life)
    }
}

impl Engine {
    /// An empty engine; new series ids start after `last_id`.
    pub fn new(params: Params, last_id: u64) -> Engine {
        let neighbours = Neighbours::new(params.neighbours, params.posting_limit);
        Engine { params, neighbours, next_id: last_id + 1, swept_at: i64::MIN / 2, ..Engine::default() }
    }

    /// Series the engine currently tracks.
    pub fn active(&self) -> usize {
        self.series.len()
    }

    fn term_id(&mut self, text: &str) -> u32 {
        if let Some(id) = self.vocab.get(text) {
            return *id;
        }
        let id = self.terms.len() as u32;
        self.vocab.insert(text.to_string(), id);
        self.terms.push(Term { text: text.to_string(), ..Term::default() });
        id
    }

    /// Follows merges to the live series.
    fn resolve(&self, mut id: u64) -> u64 {
        while let Some(next) = self.aliases.get(&id) {
            id = *next;
        }
        id
    }

    /// Assigns each item of a batch (in the order given) to a series.
    pub fn assign(&mut self, items: &[NewItem]) -> Assignments {
        let mut out = Assignments::default();
        let mut changed: Vec<u64> = Vec::new();
        let mut batch: IdMap<i64, u64> = IdMap::default();
        for item in items {
            let Features { vector, matching, fingerprint, title, topic, language } = self.features(item);
            let since = item.published - self.params.window;
            let copied = item.copy_of.and_then(|o| batch.get(&o).copied());
            let forced = item.series.or(copied).map(|s| self.resolve(s)).filter(|s| self.series.contains_key(s));
            let near = fingerprint.and_then(|fp| self.near.find(fp, since)).map(|s| self.resolve(s));
            let near = near.filter(|s| self.series.contains_key(s));
            let scored: Vec<Scored> = self
                .candidates(&matching)
                .into_iter()
                .filter_map(|id| {
                    self.series
                        .get(&id)
                        .map(|s| self.score(&matching, topic.as_ref().map(|t| (t, item.published)), id, s))
                })
                .collect();
            let mut neighbour_topic = None;
            let (target, how) = if forced.is_some() {
                (forced, How::Copy)
            } else if near.is_some() {
                (near, How::NearDuplicate)
            } else if let Some((s, t)) = self.neighbour(&matching, topic.as_ref(), since) {
                neighbour_topic = t;
                (Some(s), How::Neighbour)
            } else if let Some(s) = self.best_match(&scored, item.published) {
                (Some(s), How::Similar)
            } else {
                (None, How::New)
            };
            let mut why = self.why(how, target, &matching, &scored, item.published);
            why.topic = why.topic.or(neighbour_topic);
            let id = target.unwrap_or_else(|| self.open(item.published, language));
            why.series = id;
            out.why.push((item.id, why));
            let topic = topic.filter(|t| self.speaks_for(id, t, &matching));
            let vector_copy = vector.clone();
            // Counted unless it is a copy, whichever way it joined: a copy published before
            // its original in the same batch is grouped on its own merits.
            self.add(id, title, item.published, vector, topic.as_ref(), item.copy_of.is_none());
            let merge = self.converging(id, &matching, &scored);
            if let Some(fp) = fingerprint {
                self.near.insert(fp, id, item.published, since);
            }
            self.neighbours.insert(id, item.published, vector_copy);
            batch.insert(item.id, id);
            if let Some(other) = merge {
                let (into, from) =
                    if self.series[&other].count > self.series[&id].count { (other, id) } else { (id, other) };
                self.merge(from, into);
                out.merged.push((from, into));
                // `from` may stay listed: a merged series has no summary and drops out below.
                changed.push(into);
                out.assigned.push((item.id, into, item.published));
            } else {
                changed.push(id);
                out.assigned.push((item.id, id, item.published));
            }
        }
        changed.sort_unstable();
        changed.dedup();
        out.changed = changed.into_iter().filter_map(|id| self.summary(id)).collect();
        self.forget_idle(items.last().map_or(0, |i| i.published));
        out
    }

    fn open(&mut self, at: i64, language: Language) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.series.insert(id, Series { language, ..Series::empty(at) });
        id
    }

    /// Adds an item's terms and topic to series `id` (no topic: the item does not speak
    /// for the series' subject); `article` is false for a copy of an article (it weighs
    /// like any member but is not counted: its original is).
    fn add(
        &mut self,
        id: u64,
        title: String,
        published: i64,
        vector: Vec<(u32, f32)>,
        topic: Option<&Topic>,
        article: bool,
    ) {
        for (term, _) in &vector {
            let owner = self.resolve(self.terms[*term as usize].owner);
            let t = &mut self.terms[*term as usize];
            if t.owner_lead == 0 {
                (t.owner, t.owner_lead) = (id, 1);
            } else if owner == id {
                (t.owner, t.owner_lead) = (id, t.owner_lead + 1);
            } else {
                t.owner_lead -= 1;
            }
        }
        let s = self.series.get_mut(&id).expect("series exists");
        for (term, w) in &vector {
            *s.centroid.entry(*term).or_default() += w;
        }
        s.count += u64::from(article);
        if let Some(topic) = topic {
            if s.topic.is_empty() {
                s.topic = vec![0.0; DIMS];
            } else {
                s.keep_first_topic();
                if s.recent.len() >= RECENT_TOPICS {
                    s.recent.remove(0);
                }
                s.recent.push(Packed::new(topic));
            }
            s.topic.iter_mut().zip(topic).for_each(|(a, b)| *a += b);
        }
        s.first = s.first.min(published);
        s.last = s.last.max(published);
        // Most items only add weight to terms already indexed; reindexing would change
        // nothing then. (A term pruned below is counted as entered: reindexing is harmless.)
        let entered = vector
            .iter()
            .any(|(t, _)| s.indexed.binary_search(t).is_err() && s.centroid.get(t).is_some_and(|w| *w >= s.floor));
        s.samples.push(Sample { title, vector });
        if s.samples.len() > SAMPLES {
            // Keep the current title's sample and the newest others.
            let keep = s.samples.iter().position(|x| x.title == s.title);
            let drop = (0..s.samples.len()).find(|i| Some(*i) != keep).unwrap_or(0);
            s.samples.remove(drop);
        }
        if s.title.is_empty() || due_for_rename(s.named_at, s.count) {
            let centroid = &s.centroid;
            let n = norm(centroid);
            if let Some(best) = most_central(&s.samples, |x| cosine(&x.vector, centroid, n)) {
                s.title = best.title.clone();
            }
            s.named_at = s.count;
        }
        if s.centroid.len() > PRUNE_AT * self.params.indexed_terms {
            prune(&mut s.centroid, PRUNE_TO * self.params.indexed_terms);
        }
        s.norm = norm(&s.centroid);
        s.mass = s.centroid.values().sum();
        if entered || s.unlisted || s.indexed.len() < self.params.indexed_terms {
            self.reindex(id);
        }
    }

    /// Makes the postings of series `id` match its strongest centroid terms.
    fn reindex(&mut self, id: u64) {
        let Some(s) = self.series.get_mut(&id) else { return };
        let mut top: Vec<(u32, f32)> = s.centroid.iter().map(|(t, w)| (*t, *w)).collect();
        let heavier = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        let keep = self.params.indexed_terms;
        if top.len() > keep {
            if keep > 0 {
                top.select_nth_unstable_by(keep - 1, heavier);
            }
            top.truncate(keep);
        }
        s.floor = top.iter().map(|(_, w)| *w).fold(f32::INFINITY, f32::min);
        let mut wanted: Vec<u32> = top.into_iter().map(|(t, _)| t).collect();
        wanted.sort_unstable();
        let old = std::mem::replace(&mut s.indexed, wanted.clone());
        let last = s.last;
        for term in old.iter().filter(|t| wanted.binary_search(t).is_err()) {
            if let Some(list) = self.postings.get_mut(term) {
                list.retain(|x| *x != id);
            }
        }
        let limit = self.params.posting_limit;
        let series = &self.series;
        let (mut unlisted, mut pushed_out) = (false, Vec::new());
        for term in wanted {
            let list = self.postings.entry(term).or_default();
            if list.contains(&id) {
                continue;
            }
            if list.len() < limit {
                list.push(id);
                continue;
            }
            // A full list keeps its most recently active series: the least recent one makes
            // way, if this series is more recent (ties by id, for determinism).
            let recency = |x: &u64| series.get(x).map_or((i64::MIN, *x), |s| (s.last, *x));
            match list.iter().map(recency).enumerate().min_by_key(|(_, r)| *r) {
                Some((i, stalest)) if stalest < (last, id) => {
                    pushed_out.push(list[i]);
                    list[i] = id;
                }
                _ => unlisted = true,
            }
        }
        for other in pushed_out {
            if let Some(o) = self.series.get_mut(&other) {
                o.unlisted = true;
            }
        }
        if let Some(s) = self.series.get_mut(&id) {
            s.unlisted = unlisted;
        }
    }

    fn merge(&mut self, from: u64, into: u64) {
        let Some(mut gone) = self.series.remove(&from) else { return };
        for term in &gone.indexed {
            if let Some(list) = self.postings.get_mut(term) {
                list.retain(|x| *x != from);
            }
        }
        let s = self.series.get_mut(&into).expect("merge target exists");
        for (term, w) in &gone.centroid {
            *s.centroid.entry(*term).or_default() += w;
        }
        s.count += gone.count;
        s.keep_first_topic();
        gone.keep_first_topic();
        if s.topic.is_empty() {
            s.topic = gone.topic;
        } else if !gone.topic.is_empty() {
            s.topic.iter_mut().zip(&gone.topic).for_each(|(a, b)| *a += b);
        }
        s.recent.extend(gone.recent);
        let excess = s.recent.len().saturating_sub(RECENT_TOPICS);
        s.recent.drain(..excess);
        s.first = s.first.min(gone.first);
        s.last = s.last.max(gone.last);
        s.samples.extend(gone.samples);
        s.samples.truncate(SAMPLES);
        s.norm = norm(&s.centroid);
        s.mass = s.centroid.values().sum();
        self.aliases.insert(from, into);
        self.reindex(into);
    }

    /// Drops series idle beyond the horizon (they stay in the store, not in memory), at
    /// most once per [`SWEEP_EVERY`] of stream time: a sweep visits every series.
    fn forget_idle(&mut self, now: i64) {
        let horizon = self.params.horizon;
        if now - self.swept_at < SWEEP_EVERY {
            return;
        }
        self.swept_at = now;
        let idle: Vec<u64> = self.series.iter().filter(|(_, s)| now - s.last > horizon).map(|(id, _)| *id).collect();
        for id in idle {
            if let Some(s) = self.series.remove(&id) {
                for term in &s.indexed {
                    if let Some(list) = self.postings.get_mut(term) {
                        list.retain(|x| *x != id);
                    }
                }
            }
        }
    }
}
