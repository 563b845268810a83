//! Rendered feeds cached per store generation, with the validators and compressed form
//! that conditional and gzip requests need.

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

/// One rendered document.
#[derive(Debug)]
pub struct Rendered {
    /// The document.
    pub body: Vec<u8>,
    /// The same, gzip-compressed.
    pub gzip: Vec<u8>,
    /// Strong ETag: a digest of the body, so it survives restarts while the bytes are equal.
    pub etag: String,
    /// When the store last changed before this was rendered.
    pub last_modified: DateTime<Utc>,
}

impl Rendered {
    /// Wraps freshly rendered text.
    pub fn new(text: String, last_modified: DateTime<Utc>) -> Rendered {
        let digest = Sha256::digest(text.as_bytes());
        let etag = format!("\"{}\"", digest[..12].iter().map(|b| format!("{b:02x}")).collect::<String>());
        let mut gz = GzEncoder::new(Vec::with_capacity(text.len() / 4), flate2::Compression::default());
        // Writing to a Vec cannot fail.
        let _ = gz.write_all(text.as_bytes());
        let gzip = gz.finish().unwrap_or_default();
        Rendered { body: text.into_bytes(), gzip, etag, last_modified }
    }
}

/// The cache: documents keyed by what was asked for, valid for one store generation.
#[derive(Debug)]
pub struct Cache {
    generation: AtomicU64,
    changed: Mutex<DateTime<Utc>>,
    docs: Mutex<HashMap<String, (u64, Arc<Rendered>)>>,
}

impl Default for Cache {
    fn default() -> Self {
        Cache { generation: AtomicU64::new(1), changed: Mutex::new(Utc::now()), docs: Mutex::default() }
    }
}

impl Cache {
    /// Marks everything stale: the store (or the configuration) changed.
    pub fn invalidate(&self) {
        *self.changed.lock().unwrap_or_else(|p| p.into_inner()) = Utc::now();
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.docs.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// The current generation and when it began.
    pub fn generation(&self) -> (u64, DateTime<Utc>) {
        let changed = *self.changed.lock().unwrap_or_else(|p| p.into_inner());
        (self.generation.load(Ordering::SeqCst), changed)
    }

    /// The cached document for `key` if it belongs to generation `generation`.
    pub fn get(&self, key: &str, generation: u64) -> Option<Arc<Rendered>> {
        let docs = self.docs.lock().unwrap_or_else(|p| p.into_inner());
        docs.get(key).filter(|(g, _)| *g == generation).map(|(_, r)| r.clone())
    }

    /// Stores a document rendered at `generation` (ignored if the store moved on meanwhile).
    pub fn put(&self, key: String, generation: u64, doc: Arc<Rendered>) {
        if self.generation.load(Ordering::SeqCst) == generation {
            self.docs.lock().unwrap_or_else(|p| p.into_inner()).insert(key, (generation, doc));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_live_for_one_generation() {
        let cache = Cache::default();
        let (g, at) = cache.generation();
        let doc = Arc::new(Rendered::new("<feed/>".into(), at));
        assert!(doc.etag.starts_with('"') && doc.etag.len() == 26);
        cache.put("a".into(), g, doc.clone());
        assert!(cache.get("a", g).is_some());
        cache.invalidate();
        let (g2, _) = cache.generation();
        assert!(g2 > g);
        assert!(cache.get("a", g2).is_none());
        cache.put("a".into(), g, doc);
        assert!(cache.get("a", g2).is_none(), "a render of an older generation is not kept");
        assert_eq!(Rendered::new("<feed/>".into(), at).etag, Rendered::new("<feed/>".into(), at).etag);
    }
}
