//! Where the engine's state comes from after a restart (replayed items and stored
//! series terms) and what it hands out for storage and display (summaries, keywords).

use std::collections::HashMap;

use super::{Engine, Features, IdMap, NewItem, Series};
use crate::series::vector::norm;
use crate::series::Summary;

impl Engine {
    /// Rebuilds state after a restart: items already grouped (oldest first) are added to
    /// their stored series without being matched, and each series keeps its stored title.
    pub fn restore(&mut self, items: &[NewItem], titles: &HashMap<u64, (String, u64)>) {
        for item in items {
            let Some(id) = item.series else { continue };
            let Features { vector, fingerprint, title, .. } = self.features(item);
            self.series.entry(id).or_insert_with(|| Series::empty(item.published));
            self.next_id = self.next_id.max(id + 1);
            self.neighbours.insert(id, item.published, vector.clone());
            self.add(id, title, item.published, vector);
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
                ..Series::empty(d.first)
            };
            s.norm = norm(&s.centroid);
            s.mass = s.centroid.values().sum();
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

    fn keywords(&self, s: &Series) -> Vec<String> {
        let mut terms: Vec<(u32, f32)> = s.centroid.iter().map(|(t, w)| (*t, *w)).collect();
        terms.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut out: Vec<String> = Vec::new();
        for (t, _) in terms.iter().take(12) {
            let term = &self.terms[*t as usize];
            let text = match &term.display {
                Some(d) if term.is_name() => d.clone(),
                Some(d) => d.to_lowercase(),
                None => term.text.clone(),
            };
            if !out.iter().any(|o| o.eq_ignore_ascii_case(&text) || o.to_lowercase().contains(&text.to_lowercase())) {
                out.push(text);
            }
            if out.len() == 5 {
                break;
            }
        }
        out
    }
}
