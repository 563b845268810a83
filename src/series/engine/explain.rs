//! The engine's account of one decision ([`Why`]), taken before the item changes the
//! series it joins. Reads the engine's state, never changes it.

use super::scoring::Scored;
use super::{Engine, Series};
use crate::series::why::{Candidate, How, SharedTerm, TopicMatch, Why};

/// Shared terms recorded per decision, strongest first: the ones that carry the score
/// (a headline shares a handful at most).
const SHARED_SHOWN: usize = 6;

impl Engine {
    /// Why the item with `matching` vector, published at `at`, goes to `target` (`None`:
    /// a new series) by way of `how`, given the candidates it was `scored` against.
    pub(super) fn why(
        &self,
        how: How,
        target: Option<u64>,
        matching: &[(u32, f32)],
        scored: &[Scored],
        at: i64,
    ) -> Why {
        let mut ranked: Vec<Candidate> = scored
            .iter()
            .filter_map(|c| {
                let s = self.series.get(&c.id)?;
                Some(Candidate {
                    series: c.id,
                    score: c.sim,
                    needed: Some(self.needed(s, at)),
                    evidence: c.evidence,
                    topic: self.topic_match(c),
                })
            })
            .collect();
        ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.series.cmp(&b.series)));
        let runner_up = ranked.iter().find(|c| Some(c.series) != target).cloned();
        let Some((id, s)) = target.and_then(|id| self.series.get(&id).map(|s| (id, s))) else {
            // For a new series, the candidate to show is the one that came closest to
            // taking it: one that passed every test but the topic, else the best score.
            let lexical = |c: &&Candidate| c.evidence && c.needed.is_some_and(|n| c.score >= n);
            let closest = ranked.iter().find(lexical).or(ranked.first()).cloned();
            return Why {
                how,
                series: 0,
                score: 0.0,
                needed: None,
                shared: Vec::new(),
                topic: None,
                runner_up: closest,
            };
        };
        let scored_target = scored.iter().find(|c| c.id == id);
        Why {
            how,
            series: id,
            score: scored_target.map_or_else(|| self.score(matching, None, id, s).sim, |c| c.sim),
            topic: scored_target.and_then(|c| self.topic_match(c)),
            needed: Some(self.needed(s, at)),
            shared: self.shared_terms(matching, s),
            runner_up,
        }
    }

    /// A candidate's topic similarity with what it needed.
    fn topic_match(&self, c: &Scored) -> Option<TopicMatch> {
        Some(TopicMatch { similarity: c.topic?, needed: self.topic_needed(c.named) })
    }

    /// The terms of `matching` that series `s` holds, with their part of the similarity.
    fn shared_terms(&self, matching: &[(u32, f32)], s: &Series) -> Vec<SharedTerm> {
        if s.norm == 0.0 {
            return Vec::new();
        }
        let mut shared: Vec<SharedTerm> = matching
            .iter()
            .filter_map(|(t, w)| {
                let c = s.centroid.get(t)?;
                let term = &self.terms[*t as usize];
                let text = term.display.clone().unwrap_or_else(|| term.text.clone());
                Some(SharedTerm { term: text, weight: w * c / s.norm, name: term.is_name() })
            })
            .filter(|t| t.weight > 0.0)
            .collect();
        shared.sort_by(|a, b| b.weight.total_cmp(&a.weight).then_with(|| a.term.cmp(&b.term)));
        shared.truncate(SHARED_SHOWN);
        shared
    }
}
