//! Item-level neighbours: the most recent items' term vectors behind an inverted index,
//! so that an item can be compared with the individual headlines it resembles most, not
//! only with series centroids (which blur as a series grows and drifts). Pure, bounded:
//! at most `capacity` items and `posting` items per term are kept.

use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasherDefault;

/// A sparse, normalised term vector sorted by term id.
pub type Vector = Vec<(u32, f32)>;

struct Doc {
    series: u64,
    at: i64,
    vector: Vector,
}

/// The recent items, by sequence number, and which of them contain each term.
#[derive(Default)]
pub struct Neighbours {
    docs: VecDeque<Doc>,
    /// Sequence number of `docs[0]`.
    first: u64,
    postings: HashMap<u32, VecDeque<u64>, BuildHasherDefault<super::vector::IdHasher>>,
    capacity: usize,
    posting: usize,
}

impl std::fmt::Debug for Neighbours {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Neighbours({} items)", self.docs.len())
    }
}

impl Neighbours {
    /// Keeps at most `capacity` items and `posting` items per term.
    pub fn new(capacity: usize, posting: usize) -> Neighbours {
        Neighbours { capacity, posting, ..Neighbours::default() }
    }

    /// Remembers an item of `series` published at `at`.
    pub fn insert(&mut self, series: u64, at: i64, vector: Vector) {
        if self.capacity == 0 {
            return;
        }
        let seq = self.first + self.docs.len() as u64;
        for (term, _) in &vector {
            let list = self.postings.entry(*term).or_default();
            list.push_front(seq);
            list.truncate(self.posting);
        }
        self.docs.push_back(Doc { series, at, vector });
        if self.docs.len() > self.capacity {
            // Postings of forgotten items are skipped when read and fall off as lists
            // fill: cleaning them here would cost a list scan per term per item.
            self.docs.pop_front();
            self.first += 1;
        }
    }

    /// The `k` most similar recent items (published since `since`) sharing one of the
    /// vector's `terms` strongest terms and at least one more term: (similarity, series),
    /// most similar first. One shared word, however heavy ("Apple"), is a topic, not a
    /// paraphrase.
    pub fn nearest(&self, vector: &[(u32, f32)], terms: usize, k: usize, since: i64) -> Vec<(f32, u64)> {
        let mut strongest: Vec<&(u32, f32)> = vector.iter().filter(|(_, w)| *w > 0.0).collect();
        // Which terms are the strongest matters, not their order (the items are sorted below).
        if terms > 0 && strongest.len() > terms {
            strongest.select_nth_unstable_by(terms - 1, |a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        }
        let mut seqs: Vec<u64> = strongest
            .iter()
            .take(terms)
            .flat_map(|(t, _)| self.postings.get(t).into_iter().flatten().copied())
            .filter(|s| *s >= self.first)
            .collect();
        seqs.sort_unstable();
        seqs.dedup();
        let mut found: Vec<(f32, u64, u64)> = seqs
            .into_iter()
            .filter_map(|seq| {
                let doc = &self.docs[(seq - self.first) as usize];
                let (sim, shared) = if doc.at >= since { dot(vector, &doc.vector) } else { (0.0, 0) };
                (shared >= 2).then_some((sim, seq, doc.series))
            })
            .collect();
        let closer = |a: &(f32, u64, u64), b: &(f32, u64, u64)| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1));
        if k > 0 && found.len() > k {
            found.select_nth_unstable_by(k - 1, closer);
            found.truncate(k);
        }
        found.sort_by(closer);
        found.into_iter().take(k).map(|(sim, _, series)| (sim, series)).collect()
    }
}

/// Dot product of two sorted sparse vectors, and how many terms with weight in `a` they
/// share.
fn dot(a: &[(u32, f32)], b: &[(u32, f32)]) -> (f32, usize) {
    let (mut i, mut j, mut sum, mut shared) = (0, 0, 0.0, 0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                sum += a[i].1 * b[j].1;
                shared += usize::from(a[i].1 > 0.0);
                i += 1;
                j += 1;
            }
        }
    }
    (sum, shared)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_items_come_from_the_index_and_old_ones_fall_off() {
        let mut n = Neighbours::new(3, 8);
        n.insert(1, 0, vec![(1, 0.8), (2, 0.6)]);
        n.insert(2, 10, vec![(1, 0.3), (2, 0.6), (3, 0.742)]);
        n.insert(3, 20, vec![(4, 1.0)]);
        let near = n.nearest(&[(1, 0.6), (2, 0.8)], 4, 5, 0);
        assert_eq!(near.iter().map(|x| x.1).collect::<Vec<_>>(), [1, 2]);
        assert!((near[0].0 - 0.96).abs() < 1e-5);
        assert_eq!(n.nearest(&[(1, 0.6), (2, 0.8)], 4, 5, 5).len(), 1, "older than `since`");
        n.insert(4, 30, vec![(5, 1.0)]);
        let left: Vec<u64> = n.nearest(&[(1, 0.6), (2, 0.8)], 4, 5, 0).iter().map(|x| x.1).collect();
        assert_eq!(left, [2], "the first item is beyond capacity");
    }

    #[test]
    fn one_shared_term_is_no_neighbour() {
        let mut n = Neighbours::new(8, 8);
        n.insert(1, 0, vec![(1, 0.9), (2, 0.436)]);
        assert_eq!(n.nearest(&[(1, 0.95), (3, 0.312)], 4, 5, 0), vec![], "only term 1 is shared");
        assert_eq!(n.nearest(&[(1, 0.95), (2, 0.312)], 4, 5, 0).len(), 1);
    }
}
