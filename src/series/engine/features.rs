//! Headline to term vectors: stems and name phrases weighted by decayed inverse document
//! frequency, with the statistics updated as each item arrives.

use super::{decay, Engine, SUMMARY_BYTES};
use crate::series::language::Language;
use crate::series::semantic::{table, Topic};
use crate::series::simhash::simhash;
use crate::series::text::{clean_headline, title_case, words_in, Word};
use crate::series::vector::{normalise, Vector};
use crate::series::NewItem;

/// The least weight a term gets: a word in nearly every headline still counts a little
/// (a negative or zero weight would make shared common words count against a match).
const MIN_IDF: f64 = 0.1;

/// What the engine reads from one headline.
pub(super) struct Features {
    /// Normalised term vector added to the series.
    pub vector: Vector,
    /// The vector matched against series (new terms weigh little).
    pub matching: Vector,
    /// SimHash of the cleaned title's stems, for near-duplicates (none when too short).
    pub fingerprint: Option<u64>,
    /// The headline without wire prefixes and publisher suffixes.
    pub title: String,
    /// What the headline is about (none when no word of it is known, or when it is not
    /// in English, the only language of the topic table).
    pub topic: Option<Topic>,
    /// The headline's language.
    pub language: Language,
}

impl Engine {
    /// Turns a headline (and summary) into normalised term vectors, updating term
    /// statistics: the full vector (added to the series) and the matching vector, where
    /// terms seen for the first time weigh little (they cannot match anything yet and
    /// would only dilute the similarity).
    pub(super) fn features(&mut self, item: &NewItem) -> Features {
        let title = clean_headline(&item.title);
        let language = Language::detect(&title, &item.summary);
        let title_words = words_in(&title, language);
        let title_case = title_case(&title_words);
        // (term, term frequency) pairs, merged once sorted: a map per headline would cost
        // more than the few words it holds.
        let mut counts: Vec<(u32, f32)> = Vec::with_capacity(title_words.len() * 2);
        let at = item.published;
        self.docs = decay(self.docs, self.docs_at, at, self.params.df_half_life) + 1.0;
        self.docs_at = self.docs_at.max(at);
        for (i, w) in title_words.iter().enumerate() {
            if w.stop || w.stem.len() < 2 {
                continue;
            }
            let id = self.term_id(&w.stem);
            self.observe(id, w, i, title_case);
            counts.push((id, 1.0));
        }
        // Adjacent names form a phrase feature ("alexander vershbow").
        for pair in title_words.windows(2) {
            if pair.iter().all(|w| !w.stop && (w.capitalised || w.acronym || w.camel)) && !title_case {
                let id = self.term_id(&format!("{} {}", pair[0].stem, pair[1].stem));
                let term = &mut self.terms[id as usize];
                term.upper += 1;
                term.display = Some(format!("{} {}", pair[0].surface, pair[1].surface));
                counts.push((id, 1.0));
            }
        }
        // The opening of a summary carries its topic; the rest costs time and adds noise.
        let summary = if self.params.summary_weight > 0.0 { item.summary.as_str() } else { "" };
        for w in words_in(crate::text::prefix(summary, SUMMARY_BYTES), language)
            .iter()
            .filter(|w| !w.stop && w.stem.len() >= 2)
        {
            let id = self.term_id(&w.stem);
            counts.push((id, self.params.summary_weight));
        }
        counts.sort_unstable_by_key(|(id, _)| *id);
        let mut merged: Vec<(u32, f32)> = Vec::with_capacity(counts.len());
        for (id, tf) in counts {
            match merged.last_mut() {
                Some((last, sum)) if *last == id => *sum += tf,
                _ => merged.push((id, tf)),
            }
        }
        let docs = self.docs;
        // Both vectors come out sorted by term id, so their norms are summed in the same
        // order every run (the result is deterministic to the last bit).
        let mut vector: Vec<(u32, f32)> = Vec::with_capacity(merged.len());
        let mut matching: Vec<(u32, f32)> = Vec::with_capacity(merged.len());
        for (id, tf) in merged {
            let t = &mut self.terms[id as usize];
            let before = decay(t.df, t.at, at, self.params.df_half_life);
            t.df = before + 1.0;
            t.at = t.at.max(at);
            let idf = ((docs + 1.0) / (t.df + 0.5)).ln().max(MIN_IDF) as f32;
            let boost = if t.is_name() { 1.0 + self.params.name_boost } else { 1.0 };
            let w = tf.sqrt() * idf * boost;
            vector.push((id, w));
            matching.push((id, w * (before as f32).max(self.params.novel_weight).min(1.0)));
        }
        normalise(&mut vector);
        normalise(&mut matching);
        let stems: Vec<&str> = title_words.iter().filter(|w| !w.stop).map(|w| &*w.stem).collect();
        let fingerprint = simhash(&stems);
        let topic = if language.has_topics() { table().embed(&title) } else { None };
        Features { vector, matching, fingerprint, title, topic, language }
    }

    /// Learns from one word: whether it is a name (capitalised where that means
    /// something, an acronym, a number) and how to display it.
    fn observe(&mut self, id: u32, w: &Word, position: usize, title_case: bool) {
        let t = &mut self.terms[id as usize];
        if !w.capitalised && !w.camel && !w.numeric {
            t.lower += 1;
        }
        if w.acronym || w.camel || (w.capitalised && position > 0 && !title_case) {
            t.upper += 1;
        }
        let better = t.display.is_none() || w.acronym || w.camel || (w.capitalised && position > 0);
        if better && t.display.as_deref() != Some(w.surface) {
            t.display = Some(w.surface.to_string());
        }
    }
}
