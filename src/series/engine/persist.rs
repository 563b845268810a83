//! Where the engine's state comes from after a restart (replayed items and stored
//! series terms) and what it hands out for storage and display (summaries, keywords).

use std::collections::HashMap;

use super::{Engine, Features, IdMap, NewItem, Series};
use crate::series::semantic::table;
use crate::series::text::words_in;
use crate::series::vector::norm;
use crate::series::Summary;

impl Engine {
    /// Rebuilds state after a restart: items already grouped (oldest first) are added to
    /// their stored series without being matched, and each series keeps its stored title.
    pub fn restore(&mut self, items: &[NewItem], titles: &HashMap<u64, (String, u64)>) {
        for item in items {
            let Some(id) = item.series else { continue };
            let Features { vector, fingerprint, title, topic, language, .. } = self.features(item);
            self.series.entry(id).or_insert_with(|| Series { language, ..Series::empty(item.published) });
            self.next_id = self.next_id.max(id + 1);
            self.neighbours.insert(id, item.published, vector.clone());
            // Replayed items are articles: copies are not replayed.
            // The same rule as when it joined, against the series as replayed so far.
            let topic = topic.filter(|t| self.speaks_for(id, t, &vector));
            self.add(id, title, item.published, vector, topic.as_ref(), true);
            if let Some(fp) = fingerprint {
                self.near.insert(fp, id, item.published, item.published - self.params.window);
            }
        }
        for (id, (title, count)) in titles {
            if let Some(s) = self.series.get_mut(id) {
                s.title = title.clone();
                s.named_at = *count;
                s.count = s.count.max(*count);
            }
        }
    }

    /// Takes back series that were idle too long to be rebuilt from replayed items (see
    /// [`Engine::restore`]), from their stored strongest terms; series already known, or
    /// stored without terms, are skipped.
    pub fn resume(&mut self, dormant: &[Summary]) {
        for d in dormant {
            if d.terms.is_empty() || self.series.contains_key(&d.id) {
                continue;
            }
            let centroid: IdMap<u32, f32> = d.terms.iter().map(|(t, w)| (self.term_id(t), *w)).collect();
            let mut s = Series {
                centroid,
                count: d.count,
                first: d.first,
                last: d.last,
                title: d.title.clone(),
                named_at: d.count,
                // Its items are not replayed: its title tells their language.
                language: crate::series::language::Language::detect(&d.title, ""),
                ..Series::empty(d.first)
            };
            s.norm = norm(&s.centroid);
            s.mass = s.centroid.values().sum();
            // Its items are not replayed: the title stands for what they were about.
            if let Some(topic) = table().embed(&d.title) {
                s.topic = topic.to_vec();
            }
            self.series.insert(d.id, s);
            self.next_id = self.next_id.max(d.id + 1);
            self.reindex(d.id);
        }
    }

    /// The outputs' view of a series, with the terms to resume it from.
    pub fn summary(&self, id: u64) -> Option<Summary> {
        let s = self.series.get(&id)?;
        let mut terms: Vec<(u32, f32)> = s.centroid.iter().map(|(t, w)| (*t, *w)).collect();
        terms.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        terms.truncate(self.params.indexed_terms);
        Some(Summary {
            id,
            title: s.title.clone(),
            keywords: self.keywords(s),
            count: s.count,
            first: s.first,
            last: s.last,
            terms: terms.into_iter().map(|(t, w)| (self.terms[t as usize].text.clone(), w)).collect(),
        })
    }

    /// The strongest centroid terms, spelled as the series' own headlines spell them (the
    /// engine-wide spelling of a stem comes from whichever headline used it last, another
    /// story's "powered" for this one's "powerful"). Nothing is shown twice: a name phrase
    /// takes the place of a word it contains when the headlines mostly write the word in
    /// that phrase ("Solar Impulse" for "Impulse"), and is left out otherwise ("NATO
    /// Alexander", from "NATO's Alexander Vershbow", beside "NATO").
    fn keywords(&self, s: &Series) -> Vec<String> {
        let mut terms: Vec<(u32, f32)> = s.centroid.iter().map(|(t, w)| (*t, *w)).collect();
        terms.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        terms.truncate(KEYWORD_POOL);
        let wanted: Vec<&str> = terms.iter().map(|(t, _)| self.terms[*t as usize].text.as_str()).collect();
        let own = own_spellings(s, &wanted);
        let uses = |stem: &str| wanted.iter().position(|w| *w == stem).and_then(|k| own[k].as_ref()).map_or(0, |x| x.1);
        let mut out: Vec<(String, String)> = Vec::new(); // (stem or stems, as shown)
        for (k, (t, _)) in terms.iter().enumerate() {
            let term = &self.terms[*t as usize];
            let written = own[k].as_ref().map(|(w, _)| w.as_str()).or(term.display.as_deref());
            let text = match written {
                Some(d) if term.is_name() => d.to_string(),
                Some(d) => d.to_lowercase(),
                None => term.text.clone(),
            };
            let stems: Vec<&str> = term.text.split(' ').collect();
            let shown = |stem: &str| out.iter().position(|(k, _)| k.split(' ').any(|x| x == stem));
            match stems.as_slice() {
                [one] if shown(one).is_some() => continue,
                [_] => out.push((term.text.clone(), text)),
                parts => {
                    let phrase_uses = uses(&term.text);
                    let places: Vec<Option<usize>> = parts.iter().map(|p| shown(p)).collect();
                    if places.iter().all(Option::is_none) {
                        out.push((term.text.clone(), text));
                    } else if parts
                        .iter()
                        .zip(&places)
                        .all(|(p, at)| at.is_none_or(|i| !out[i].0.contains(' ') && phrase_uses * 2 >= uses(p)))
                    {
                        // Stands in for the words it contains, at the first one's place.
                        let mut at: Vec<usize> = places.into_iter().flatten().collect();
                        at.sort_unstable();
                        at.dedup();
                        out[at[0]] = (term.text.clone(), text);
                        for i in at.into_iter().skip(1).rev() {
                            out.remove(i);
                        }
                    }
                }
            }
            if out.len() == KEYWORDS {
                break;
            }
        }
        out.into_iter().map(|(_, shown)| shown).collect()
    }
}

/// Keywords shown per series.
const KEYWORDS: usize = 5;

/// Strongest terms looked at for them (a phrase can stand for two of them).
const KEYWORD_POOL: usize = 12;

/// How the series' kept headlines write each of the `wanted` stems (or adjacent pairs of
/// stems, "edward snowden"), with how often they use it: the most frequent spelling, ties
/// to the one seen first (a word opening a headline counts less, as a capital there means
/// nothing). Only the wanted terms are looked for: this runs for every changed series.
fn own_spellings(s: &Series, wanted: &[&str]) -> Vec<Option<(String, u32)>> {
    let mut seen: Vec<(Vec<(String, u32)>, u32)> = vec![(Vec::new(), 0); wanted.len()];
    let mut note = |k: usize, surface: String, weight: u32| {
        let (spellings, uses) = &mut seen[k];
        *uses += 1;
        match spellings.iter_mut().find(|(x, _)| *x == surface) {
            Some((_, n)) => *n += weight,
            None => spellings.push((surface, weight)),
        }
    };
    for sample in &s.samples {
        let words = words_in(&sample.title, s.language);
        for (i, w) in words.iter().enumerate().filter(|(_, w)| !w.stop) {
            if let Some(k) = wanted.iter().position(|x| *x == &*w.stem) {
                note(k, w.surface.to_string(), if i == 0 { 1 } else { 2 });
            }
            let Some(next) = words.get(i + 1).filter(|n| !n.stop) else { continue };
            let pair = |x: &&str| x.split_once(' ') == Some((&*w.stem, &*next.stem));
            if let Some(k) = wanted.iter().position(pair) {
                note(k, format!("{} {}", w.surface, next.surface), 2);
            }
        }
    }
    seen.into_iter()
        .map(|(spellings, uses)| {
            let best = spellings.iter().enumerate().max_by(|(i, a), (j, b)| a.1.cmp(&b.1).then(j.cmp(i)))?;
            Some((best.1 .0.clone(), uses))
        })
        .collect()
}
