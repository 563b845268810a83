//! Sparse term vectors and the maps that hold centroids: hashing, norms, cosines,
//! pruning. Pure arithmetic; knows nothing of terms' meaning or of series.

use std::collections::HashMap;

/// A sparse term vector: (term id, weight) sorted by term id.
pub type Vector = Vec<(u32, f32)>;

/// Hashes small integer keys with one multiplication (Fibonacci hashing): term and
/// series ids are dense and not attacker-chosen, so SipHash's cost buys nothing here.
#[derive(Debug, Default, Clone, Copy)]
pub struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = (u64::from(n) ^ self.0).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (n ^ self.0).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// A map keyed by small integer ids.
pub type IdMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<IdHasher>>;

/// Scales a vector to unit length.
pub fn normalise(v: &mut [(u32, f32)]) {
    let norm = v.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
    if norm > 0.0 {
        for (_, w) in v.iter_mut() {
            *w /= norm;
        }
    }
}

/// Euclidean norm of a centroid.
pub fn norm(centroid: &IdMap<u32, f32>) -> f32 {
    centroid.values().map(|w| w * w).sum::<f32>().sqrt()
}

/// Cosine of a normalised vector with a centroid of norm `norm`.
pub fn cosine(v: &[(u32, f32)], centroid: &IdMap<u32, f32>, norm: f32) -> f32 {
    if norm == 0.0 {
        return 0.0;
    }
    v.iter().map(|(t, w)| w * centroid.get(t).copied().unwrap_or(0.0)).sum::<f32>() / norm
}

/// Cosine of two centroids with norms `na` and `nb`.
pub fn centroid_cosine(a: &IdMap<u32, f32>, na: f32, b: &IdMap<u32, f32>, nb: f32) -> f32 {
    let (small, large) = if a.len() < b.len() { (a, b) } else { (b, a) };
    let dot: f32 = small.iter().map(|(t, w)| w * large.get(t).copied().unwrap_or(0.0)).sum();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

/// Keeps the `keep` heaviest terms of a centroid (ties by term id, for determinism).
pub fn prune(centroid: &mut IdMap<u32, f32>, keep: usize) {
    let mut terms: Vec<(u32, f32)> = centroid.iter().map(|(t, w)| (*t, *w)).collect();
    terms.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    terms.truncate(keep);
    *centroid = terms.into_iter().collect();
}
