//! The store's generation: a number that moves on whenever a committed write changed what
//! the outputs show (items stored, series written, items pruned or hidden, the feeds
//! replaced), with the time it last moved. Rendered documents are valid for one
//! generation, so whoever caches them keys on it instead of being told to drop them.
//!
//! Owns the number only; the writer thread advances it after its commits.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use chrono::{DateTime, Utc};

/// See the module documentation.
#[derive(Debug)]
pub struct Generation {
    number: AtomicU64,
    changed: Mutex<DateTime<Utc>>,
}

impl Default for Generation {
    fn default() -> Generation {
        Generation { number: AtomicU64::new(1), changed: Mutex::new(Utc::now()) }
    }
}

impl Generation {
    /// The current generation and when it began.
    pub fn current(&self) -> (u64, DateTime<Utc>) {
        let changed = *self.changed.lock().unwrap_or_else(|p| p.into_inner());
        (self.number.load(Ordering::SeqCst), changed)
    }

    /// Moves on: a write that readers now see changed what the outputs show.
    pub(super) fn advance(&self) {
        *self.changed.lock().unwrap_or_else(|p| p.into_inner()) = Utc::now();
        self.number.fetch_add(1, Ordering::SeqCst);
    }
}
