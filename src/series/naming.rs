//! Series titles and keywords: the most central headline, kept stable, and the names
//! and terms a series' items share. Pure.

/// Headlines kept per series to choose a title from.
pub const SAMPLES: usize = 12;

/// A candidate headline with its term vector.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Cleaned headline (`text::clean_headline`).
    pub title: String,
    /// Normalised (term, weight) pairs.
    pub vector: Vec<(u32, f32)>,
}

/// Whether a series that was named at `named_at` items and now has `count` should look
/// for a better title: only after clear growth, so titles stay stable.
pub fn due_for_rename(named_at: u64, count: u64) -> bool {
    count >= 3 && count >= named_at.saturating_mul(2)
}

/// The sample closest to the centroid (`score` gives a sample's similarity); ties go to
/// the earlier sample, so the choice is deterministic.
pub fn most_central(samples: &[Sample], score: impl Fn(&Sample) -> f32) -> Option<&Sample> {
    let mut best: Option<(&Sample, f32)> = None;
    for s in samples.iter().filter(|s| s.title.split_whitespace().count() >= 3) {
        let v = score(s);
        if best.is_none_or(|(_, b)| v > b + 1e-6) {
            best = Some((s, v));
        }
    }
    best.map(|(s, _)| s).or_else(|| samples.first())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::text::clean_headline;

    impl Sample {
        fn new(raw_title: &str, vector: Vec<(u32, f32)>) -> Sample {
            Sample { title: clean_headline(raw_title), vector }
        }
    }

    #[test]
    fn renames_wait_for_growth() {
        assert!(!due_for_rename(1, 2));
        assert!(due_for_rename(1, 3));
        assert!(!due_for_rename(4, 7));
        assert!(due_for_rename(4, 8));
    }

    #[test]
    fn the_most_central_sample_wins_and_short_ones_are_avoided() {
        let samples = vec![
            Sample::new("Fed", vec![(1, 1.0)]),
            Sample::new("UPDATE 1-Fed's Plosser sees high bar", vec![(1, 0.9), (2, 0.4)]),
            Sample::new("Plosser says weather hurt jobs", vec![(2, 1.0)]),
        ];
        let centroid = |s: &Sample| s.vector.iter().map(|(t, w)| if *t == 2 { w * 2.0 } else { *w }).sum::<f32>();
        assert_eq!(most_central(&samples, centroid).unwrap().title, "Plosser says weather hurt jobs");
        assert_eq!(samples[1].title, "Fed's Plosser sees high bar");
    }
}
