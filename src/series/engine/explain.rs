//! The engine's account of one decision ([`Why`]), taken before the item changes the
//! series it joins. Reads the engine's state, never changes it.

use super::scoring::Scored;
use super::{Engine, Series};
use crate::series::why::{Candidate, How, SharedTerm, Why};

/// Shared terms listed per decision, strongest first.
const SHARED_SHOWN: usize = 8;

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
                Some(Candidate { series: c.id, score: c.sim, needed: self.needed(s, at), evidence: c.evidence })
            })
            .collect();
        ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.series.cmp(&b.series)));
        let runner_up = ranked.iter().find(|c| Some(c.series) != target).cloned();
        let Some((id, s)) = target.and_then(|id| self.series.get(&id).map(|s| (id, s))) else {
            let reason = match ranked.first() {
                None => "no recent series shares its strongest terms".to_string(),
                Some(c) if !c.evidence => {
                    format!("the closest series ({}) shares only one ordinary word with it", c.series)
                }
                Some(c) => format!(
                    "the closest series ({}) scored {:.3}, below the {:.3} it needed",
                    c.series, c.score, c.needed
                ),
            };
            return Why { how, series: 0, score: 0.0, needed: 0.0, shared: Vec::new(), runner_up, reason };
        };
        let scored_here = self.score(matching, id, s);
        let needed = self.needed(s, at);
        let reason = match how {
            How::Copy => "a received copy of an article already in this series".to_string(),
            How::NearDuplicate => "its headline nearly duplicates one of the series' headlines".to_string(),
            How::Neighbour => format!(
                "its headline is as close as {:.2} to one earlier headline of the series",
                self.params.neighbour_threshold
            ),
            How::Similar => format!("scored {:.3} against the {:.3} it needed, with evidence", scored_here.sim, needed),
            How::New => String::new(),
        };
        Why {
            how,
            series: id,
            score: scored_here.sim,
            needed,
            shared: self.shared_terms(matching, s),
            runner_up,
            reason,
        }
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
