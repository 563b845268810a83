//! Scoring an item against the series it may join: candidates from the inverted index,
//! similarity with its evidence, the thresholds (stricter for idle or sprawling series),
//! and the check for two series converging. Reads the engine's state, never changes it.

use super::{Engine, Series, OWNED_LEAD};
use crate::series::semantic::{dot, Topic, DIMS};
use crate::series::vector::centroid_cosine;
use crate::series::why::TopicMatch;

/// Shared names that lower the topic a join needs (see [`Engine::topic_needed`]): on the
/// noisy dev stream, joins sharing two names were right 85% of the time above a topic
/// similarity of 0.6, those sharing none only 51%.
const MAX_NAME_RELIEF: usize = 2;

/// An item's strongest indexed terms whose posting lists give its candidate series. Dev F1
/// noisy / clean with 2: 0.845 / 0.815; 4: 0.851 / 0.835; 8: 0.851 / 0.835 at 75% of the
/// speed on the noisy stream.
const CANDIDATE_TERMS: usize = 4;

/// Candidates whose centroids are compared for a merge: the few the item matches best
/// (a centroid comparison costs a pass over the smaller centroid).
const MERGE_CANDIDATES: usize = 3;

/// An item's strongest terms looked up among recent headlines (item neighbours).
const NEIGHBOUR_TERMS: usize = 2;

/// How close an item's topic is to series `s`: to its summed topic or to one of its newest
/// items, whichever is closer (a story's headlines drift; the newest ones say where it
/// stands; on both dev streams this took F1 up by 0.01-0.02 over the sum alone). Stops at
/// the first that reaches `enough`: whether it passes is all a join needs to know.
pub(super) fn topic_cosine(topic: Option<&Topic>, s: &Series, enough: f32) -> Option<f32> {
    let topic = topic?;
    let sum: &[f32; DIMS] = s.topic.as_slice().try_into().ok()?;
    let norm = dot(sum, sum).sqrt();
    let mut best = if norm > 0.0 { dot(topic, sum) / norm } else { 0.0 };
    for recent in s.recent.iter().rev() {
        if best >= enough {
            break;
        }
        best = best.max(recent.dot(topic));
    }
    Some(best)
}

/// A candidate series scored against one item.
pub(super) struct Scored {
    pub(super) id: u64,
    pub(super) sim: f32,
    pub(super) evidence: bool,
    /// Cosine of the item's topic with the series' (none when either has no topic, or when
    /// the score alone rules out a join and a merge).
    pub(super) topic: Option<f32>,
    /// Shared terms that are names.
    pub(super) named: usize,
}

impl Engine {
    /// The series of the earlier headline most like this one, when the two are close
    /// enough to vouch for the item on their own (a paraphrase of a grouped headline whose
    /// series' centroid has drifted elsewhere), with the topic match that allowed it. The
    /// item must be on the series' topic like any other joiner: one close headline is a
    /// phrase in common, not a subject ("Cutaneous Melanoma- Everything You Need To Know"
    /// joined a Divergent series on "Everything You Need To Know"). On the noisy dev stream
    /// the joins this refuses were 17 unrelated items and 8 of a real story, on the clean
    /// one 9 of a real story (F1 0.854 to 0.856 noisy, 0.840 to 0.838 clean).
    pub(super) fn neighbour(
        &self,
        vector: &[(u32, f32)],
        topic: Option<&Topic>,
        since: i64,
    ) -> Option<(u64, Option<TopicMatch>)> {
        let (sim, series) = self.neighbours.nearest(vector, NEIGHBOUR_TERMS, 1, since).into_iter().next()?;
        let series = self.resolve(series);
        let s = self.series.get(&series).filter(|_| sim >= self.params.neighbour_threshold)?;
        let needed = self.topic_needed(self.score(vector, None, series, s).named);
        match topic_cosine(topic, s, needed) {
            Some(similarity) if similarity < needed => None,
            found => Some((series, found.map(|similarity| TopicMatch { similarity, needed }))),
        }
    }

    /// Whether a member with this topic speaks for series `id`'s subject (its topic is
    /// added to the series' sum and newest topics, which later items are compared with):
    /// only when it is on the topic of the story as a whole, not merely of one of its
    /// newest members. A member let in by a newest member stays, but cannot in turn let in
    /// the next item that resembles it: that is how a story chained from GM's ignition
    /// recall through Toyota airbags to "Tokyo shares slump" (test
    /// `a_story_stops_taking_what_only_its_newest_members_resemble`). The first member
    /// of a series speaks for it.
    pub(super) fn speaks_for(&self, id: u64, topic: &Topic, vector: &[(u32, f32)]) -> bool {
        let Some(s) = self.series.get(&id) else { return true };
        let Ok(sum) = <&[f32; DIMS]>::try_from(s.topic.as_slice()) else { return true };
        let norm = dot(sum, sum).sqrt();
        norm == 0.0 || dot(topic, sum) / norm >= self.topic_needed(self.score(vector, None, id, s).named)
    }

    /// The topic similarity a join needs: the threshold, lowered for each name the item
    /// shares with the series (up to two). A shared name is evidence that topic vectors
    /// miss ("Fyffes merger creates banana behemoth" scores only 0.51 against the
    /// Chiquita-Fyffes series); a shared ordinary word is not.
    pub(super) fn topic_needed(&self, named: usize) -> f32 {
        self.params.topic_threshold - self.params.name_topic_relief * named.min(MAX_NAME_RELIEF) as f32
    }

    /// Whether a candidate's topic allows a join (no topic on either side allows it).
    pub(super) fn on_topic(&self, c: &Scored) -> bool {
        c.topic.is_none_or(|t| t >= self.topic_needed(c.named))
    }

    /// Series sharing one of the vector's strongest terms, from the inverted index.
    pub(super) fn candidates(&self, vector: &[(u32, f32)]) -> Vec<u64> {
        let mut strongest: Vec<&(u32, f32)> = vector.iter().filter(|(_, w)| *w > 0.0).collect();
        strongest.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        // The strongest terms that some series is indexed under: a headline's rarest words
        // are often new to the stream and would find nothing.
        let mut candidates: Vec<u64> = strongest
            .iter()
            .filter_map(|(term, _)| self.postings.get(term).filter(|l| !l.is_empty()))
            .take(CANDIDATE_TERMS)
            .flatten()
            .copied()
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        candidates
    }

    /// How an item's vector compares with candidate series `id`, in one pass over its
    /// terms: the cosine and whether the shared terms are evidence (see [`Engine::evidence`]).
    /// The topic is compared only when given, with the time of the item (`at`).
    pub(super) fn score(&self, vector: &[(u32, f32)], topic: Option<(&Topic, i64)>, id: u64, s: &Series) -> Scored {
        let (mut dot, mut shared, mut first, mut named) = (0.0f32, 0, 0, 0);
        for (t, w) in vector {
            let Some(c) = s.centroid.get(t) else { continue };
            dot += w * c;
            if *w > 0.0 {
                first = if shared == 0 { *t } else { first };
                shared += 1;
                named += usize::from(self.terms[*t as usize].is_name());
            }
        }
        let sim = if s.norm == 0.0 { 0.0 } else { dot / s.norm };
        // Two shared terms are evidence already; only a single one needs to be telling.
        let evidence = shared >= 2 || (shared == 1 && self.telling(first, id));
        // Topics cost a pass over up to 33 dense vectors: compared only where the score
        // reaches the lowest bar of a join or a merge, for the few candidates that do
        // (comparing every candidate made an item cost 6 times as much at 100,000 items).
        // (A merge needs the other series within the window too, where `needed` is the
        // join's bar or lower.)
        let topic = topic.filter(|(_, at)| sim >= self.needed(s, *at));
        // The strictest bar it is checked against: a merge's, without the names' relief.
        let enough = self.params.topic_threshold;
        Scored { id, sim, evidence, topic: topic.and_then(|(t, _)| topic_cosine(Some(t), s, enough)), named }
    }

    /// The similarity an item at `at` needs to join `s`: the threshold (the stale one for
    /// a series idle longer than the window), raised for a sprawling series.
    pub(super) fn needed(&self, s: &Series, at: i64) -> f32 {
        let base = if at - s.last > self.params.window { self.params.stale_threshold } else { self.params.threshold };
        base * self.breadth(s)
    }

    /// The most similar candidate that passes its threshold (stricter for idle series).
    pub(super) fn best_match(&self, scored: &[Scored], at: i64) -> Option<u64> {
        let mut best: Option<(f32, u64)> = None;
        for c in scored.iter().filter(|c| c.evidence && self.on_topic(c)) {
            let Some(s) = self.series.get(&c.id) else { continue };
            let needed = self.needed(s, at);
            if c.sim >= needed && best.is_none_or(|(b, _)| c.sim > b) {
                best = Some((c.sim, c.id));
            }
        }
        best.map(|(_, id)| id)
    }

    /// One shared ordinary word ("next", "stocks") is a coincidence, and so is one
    /// capitalised word ("City", "South": `explain` showed them joining a Mexico City
    /// headline to the Kansas City Royals, a South Korean court to South Darfur); two
    /// terms, one name phrase ("Alexander Vershbow"), or one word the series owns (most
    /// headlines with "bitcoin" went to it) is evidence that an item belongs with a series.
    fn evidence(&self, vector: &[(u32, f32)], id: u64, s: &Series) -> bool {
        self.score(vector, None, id, s).evidence
    }

    /// Whether term `t` alone ties an item to series `id`: a name phrase (two adjacent
    /// names), or a word the series owns. A single capitalised word is not: on the noisy
    /// dev stream, counting it took BCubed precision from 0.720 down to 0.614 (F1 0.800 to
    /// 0.722), and on the clean one it earned nothing (F1 0.844 either way).
    fn telling(&self, t: u32, id: u64) -> bool {
        let term = &self.terms[t as usize];
        (term.is_name() && term.text.contains(' ')) || (term.owner_lead >= OWNED_LEAD && self.resolve(term.owner) == id)
    }

    /// How much harder a series is to join because its centroid is spread over many
    /// terms: a series that has absorbed unrelated headlines matches any headline a
    /// little, so the bar rises with its effective number of terms (1 up to `focus`).
    fn breadth(&self, s: &Series) -> f32 {
        if s.norm == 0.0 {
            return 1.0;
        }
        let effective = (s.mass / s.norm).powi(2);
        (effective / self.params.focus).sqrt().max(1.0)
    }

    /// A candidate that the item also matches and whose centroid has converged with
    /// series `id`'s (to be merged). Requiring both keeps merges from chaining series
    /// that merely share vocabulary.
    pub(super) fn converging(&self, id: u64, vector: &[(u32, f32)], scored: &[Scored]) -> Option<u64> {
        let target = self.series.get(&id)?;
        // The item's similarities were scored before it joined `id` (other series have not
        // changed since); evidence is checked again, as joining moved term ownership.
        // Centroids are compared only for the few candidates the item matches best.
        let mut matched: Vec<(f32, u64)> = scored
            .iter()
            .filter(|c| c.id != id)
            .filter_map(|c| {
                let s = self.series.get(&c.id)?;
                let needed = self.params.threshold * self.breadth(s).max(self.breadth(target));
                let near = (target.last - s.last).abs() <= self.params.window;
                // A merge joins two whole series: the item must match the other one on topic
                // without the relief names give (with it, noisy-stream F1 0.849, not 0.850).
                let on_topic = c.topic.is_none_or(|t| t >= self.params.topic_threshold);
                (near && c.sim >= needed && on_topic && self.evidence(vector, c.id, s)).then_some((c.sim, c.id))
            })
            .collect();
        matched.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut best: Option<(f32, u64)> = None;
        for (_, other) in matched.into_iter().take(MERGE_CANDIDATES) {
            let s = &self.series[&other];
            let sim = centroid_cosine(&target.centroid, target.norm, &s.centroid, s.norm);
            if sim >= self.params.merge_threshold && best.is_none_or(|(b, _)| sim > b) {
                best = Some((sim, other));
            }
        }
        best.map(|(_, id)| id)
    }
}
