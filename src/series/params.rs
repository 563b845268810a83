//! The engine's tuning knobs and their measured defaults.

/// Tuning knobs. The defaults were measured on the labelled dev stream (see the README).
#[derive(Debug, Clone)]
pub struct Params {
    /// Seconds a series stays fully open after its newest item.
    pub window: i64,
    /// Similarity needed to join an open series.
    pub threshold: f32,
    /// Similarity needed to join a series idle longer than `window`.
    pub stale_threshold: f32,
    /// Centroid similarity at which two candidate series are merged.
    pub merge_threshold: f32,
    /// Extra weight of names (acronyms, numbers, capitalised words that are not
    /// ordinary words).
    pub name_boost: f32,
    /// Weight of summary terms relative to title terms. 0 (titles only) by default: the
    /// labelled dev stream has no summaries, so no weight could be measured, and reading
    /// long summaries costs about a fifth more time per item.
    pub summary_weight: f32,
    /// Half-life of document frequencies, in seconds.
    pub df_half_life: f64,
    /// Centroid terms indexed per series.
    pub indexed_terms: usize,
    /// Series kept per posting list (the most recently active).
    pub posting_limit: usize,
    /// Series idle longer than this are forgotten by the engine.
    pub horizon: i64,
    /// Weight, when matching, of a term never seen before (it cannot match anything yet).
    pub novel_weight: f32,
    /// Effective number of centroid terms beyond which a series gets harder to join.
    pub focus: f32,
    /// Effective number of centroid terms beyond which a series takes no more items by
    /// similarity (a catch-all of unrelated headlines, not a story).
    pub max_breadth: f32,
    /// Recent items kept for item-to-item comparison.
    pub neighbours: usize,
    /// Similarity to one earlier headline at which an item joins that headline's series
    /// even when the series' centroid has drifted away.
    pub neighbour_threshold: f32,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            window: 7 * 86_400,
            threshold: 0.1,
            stale_threshold: 0.6,
            merge_threshold: 0.2,
            name_boost: 1.0,
            summary_weight: 0.0,
            df_half_life: 3.0 * 86_400.0,
            indexed_terms: 24,
            posting_limit: 16,
            horizon: 180 * 86_400,
            novel_weight: 0.5,
            focus: 12.0,
            max_breadth: 40.0,
            neighbours: 20_000,
            neighbour_threshold: 0.6,
        }
    }
}
