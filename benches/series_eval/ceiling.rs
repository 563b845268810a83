//! A labelled oracle on the same headline features as the engine, to tell how much of the
//! gap to a target the features themselves leave.
//!
//! It reads the stream in published order, like the engine, but it knows the true story of
//! every earlier item and when a story starts (a new story is never missed, never
//! invented). Each later item goes to the story whose centroid of earlier items is most
//! similar. It has the answers the engine has to guess, so what it still gets wrong is a
//! sign (not a proof) that these features do not separate those stories.

use std::collections::HashMap;

use storyline::series::text::{clean_headline, title_case, words};
use storyline::series::NewItem;

/// Terms of one headline with TF-IDF weights (document frequencies counted up to and
/// including this headline), normalised.
fn vector(title: &str, name_weight: f32, df: &mut HashMap<String, f32>, docs: f32) -> HashMap<String, f32> {
    let title = clean_headline(title);
    let words = words(&title);
    let title_case = title_case(&words);
    let mut tf: HashMap<String, f32> = HashMap::new();
    for (i, w) in words.iter().enumerate() {
        if w.stop || w.stem.len() < 2 {
            continue;
        }
        let name = w.acronym || w.numeric || (w.capitalised && i > 0 && !title_case);
        let weight = if name { name_weight } else { 1.0 };
        let slot = tf.entry(w.stem.to_string()).or_default();
        *slot = slot.max(weight);
    }
    // Adjacent names form a phrase, a name itself (as in the engine).
    for pair in words.windows(2) {
        if !title_case && pair.iter().all(|w| !w.stop && (w.capitalised || w.acronym)) {
            tf.insert(format!("{} {}", pair[0].stem, pair[1].stem), name_weight);
        }
    }
    for term in tf.keys() {
        *df.entry(term.clone()).or_default() += 1.0;
    }
    let mut v: HashMap<String, f32> = tf
        .into_iter()
        .map(|(t, w)| {
            let idf = ((docs + 1.0) / (df[&t] + 0.5)).ln().max(0.1);
            (t, w * idf)
        })
        .collect();
    let norm = v.values().map(|x| x * x).sum::<f32>().sqrt().max(f32::MIN_POSITIVE);
    v.values_mut().for_each(|x| *x /= norm);
    v
}

/// The oracle's story for each item (indexes into `items`), as series ids. Names weigh
/// `1 + name_boost`, as in the engine.
pub fn assign(items: &[(NewItem, usize)], name_boost: f32) -> Vec<u64> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|i| (items[*i].0.published, *i));
    let mut df: HashMap<String, f32> = HashMap::new();
    let mut centroids: HashMap<usize, HashMap<String, f32>> = HashMap::new();
    let mut out = vec![0u64; items.len()];
    for (n, i) in order.into_iter().enumerate() {
        let (item, story) = &items[i];
        let v = vector(&item.title, 1.0 + name_boost, &mut df, n as f32 + 1.0);
        let best = centroids
            .iter()
            .map(|(s, c)| {
                let norm = c.values().map(|x| x * x).sum::<f32>().sqrt().max(f32::MIN_POSITIVE);
                let dot: f32 = v.iter().map(|(t, x)| x * c.get(t).copied().unwrap_or(0.0)).sum();
                (dot / norm, *s)
            })
            .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
        let chosen = match best {
            Some((_, s)) if centroids.contains_key(story) => s,
            _ => *story,
        };
        out[i] = chosen as u64;
        let c = centroids.entry(*story).or_default();
        for (t, x) in v {
            *c.entry(t).or_default() += x;
        }
    }
    out
}
