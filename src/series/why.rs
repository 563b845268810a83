//! Why an item is in its series: how the series was chosen, the score against what it had
//! to reach, the terms the item shares with the series and their weights, the runner-up,
//! or why the item started a series of its own. Recorded by the engine as it decides
//! (the engine's state moves on, so a decision cannot be recomputed later). Pure data.

use serde::{Deserialize, Serialize};

/// How an item's series was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum How {
    /// A received copy of an article already grouped: it goes where the original went.
    Copy,
    /// Its headline is a near-duplicate (SimHash) of a headline in the series.
    NearDuplicate,
    /// Its headline is very similar to one earlier headline of the series.
    Neighbour,
    /// Its similarity to the series passed the threshold, with evidence.
    Similar,
    /// No series was close enough: it started one.
    New,
}

/// One term an item shares with a series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedTerm {
    /// As written in headlines.
    pub term: String,
    /// Its part of the similarity (the product of the item's and the series' weights).
    pub weight: f32,
    /// A name (capitalised where that means something, an acronym, a number).
    pub name: bool,
}

/// A series the item was scored against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Series id.
    pub series: u64,
    /// Similarity of the item to the series.
    pub score: f32,
    /// What the similarity had to reach.
    pub needed: f32,
    /// Whether the shared terms were evidence (two terms, a name, or a word the series owns).
    pub evidence: bool,
}

/// The decision about one item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Why {
    /// How the series was chosen.
    pub how: How,
    /// The series the item went to when decided (it may have been merged since).
    pub series: u64,
    /// Similarity to that series (0 for a new one).
    pub score: f32,
    /// What the similarity had to reach (the threshold, raised for idle or sprawling series).
    pub needed: f32,
    /// The terms shared with that series, strongest first.
    pub shared: Vec<SharedTerm>,
    /// The best other series scored, if any.
    pub runner_up: Option<Candidate>,
    /// In words: what decided.
    pub reason: String,
}
