//! Story series: online grouping of items into running stories, in the tradition of
//! topic detection and tracking (single pass, incremental TF-IDF, centroid similarity),
//! with a names channel, near-duplicate fingerprints, a time-aware threshold and merging
//! of converging series. Each item is assigned as it arrives; the same items in the same
//! order always give the same series.
//!
//! Each headline's language is detected (`language`): items are grouped only with items
//! of their own language, stemmed as it is, and the topic table applies to English only.
//!
//! Pure: no I/O. Candidates come from an inverted index over series centroids, never
//! from a scan of all series or items.

mod engine;
pub mod language;
mod naming;
mod neighbours;
mod params;
mod semantic;
pub mod shown;
mod simhash;
pub mod text;
mod vector;
pub mod why;

pub use engine::Engine;
pub use params::Params;

/// An item to group.
#[derive(Debug, Clone)]
pub struct NewItem {
    /// Store id.
    pub id: i64,
    /// Headline as received.
    pub title: String,
    /// Plain-text summary (may be empty).
    pub summary: String,
    /// Unix seconds.
    pub published: i64,
    /// The series the item must join (a received copy joins its original's series).
    pub series: Option<u64>,
    /// The item this one is a received copy of, when that one's series is not known yet.
    pub copy_of: Option<i64>,
}

/// A series as the outputs show it.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Opaque id.
    pub id: u64,
    /// Headline-like title.
    pub title: String,
    /// Names and terms its items share, most telling first.
    pub keywords: Vec<String>,
    /// Distinct articles in it: a received copy of an article (the same article in another
    /// feed) is a member but not counted again.
    pub count: u64,
    /// Unix seconds of the oldest item.
    pub first: i64,
    /// Unix seconds of the newest item.
    pub last: i64,
    /// The strongest terms of its centroid with their weights: what the engine needs to
    /// resume the series after a restart when none of its items are replayed.
    pub terms: Vec<(String, f32)>,
}

/// What grouping a batch did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Assignments {
    /// (item id, series id, item published) for every item of the batch; the time rides
    /// along so that storing membership needs no read of the (wide) item row.
    pub assigned: Vec<(i64, u64, i64)>,
    /// (from, into): series absorbed by another; their items now belong to `into`.
    pub merged: Vec<(u64, u64)>,
    /// Series whose summary changed.
    pub changed: Vec<Summary>,
    /// Why each item of the batch went where it did.
    pub why: Vec<(i64, why::Why)>,
}

#[cfg(test)]
mod tests;
