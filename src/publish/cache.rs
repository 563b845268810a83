//! Rendered feeds cached per generation (the store's, `store::Generation`, and the
//! settings', moved on by a reload), with the validators and compressed form that
//! conditional and gzip requests need.

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use crate::store::Generation;
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

/// The cache: documents keyed by what was asked for, valid for one store generation, at
/// most `capacity` bytes in all; the least recently used go first.
#[derive(Debug)]
pub struct Cache {
    /// The settings' generation (a reload moves it on).
    generation: AtomicU64,
    /// The store's.
    store: Arc<Generation>,
    changed: Mutex<DateTime<Utc>>,
    docs: Mutex<Docs>,
}

#[derive(Debug, Default)]
struct Docs {
    capacity: u64,
    /// The generation of the documents held: older ones are dropped when a newer arrives.
    generation: u64,
    /// Bytes held: bodies, gzip forms and keys.
    bytes: u64,
    /// A counter for recency: each use takes the next value.
    clock: u64,
    map: HashMap<String, Slot>,
}

#[derive(Debug)]
struct Slot {
    generation: u64,
    doc: Arc<Rendered>,
    used: u64,
}

impl Rendered {
    /// What holding this document costs.
    fn bytes(&self) -> u64 {
        (self.body.len() + self.gzip.len() + self.etag.len()) as u64
    }
}

impl Cache {
    /// An empty cache holding at most `capacity` bytes of documents, each valid while
    /// `store` and the settings stay as they were when it was rendered.
    pub fn new(capacity: u64, store: Arc<Generation>) -> Cache {
        Cache {
            generation: AtomicU64::new(1),
            store,
            changed: Mutex::new(Utc::now()),
            docs: Mutex::new(Docs { capacity, ..Docs::default() }),
        }
    }

    fn docs(&self) -> std::sync::MutexGuard<'_, Docs> {
        self.docs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Marks everything stale: the configuration changed (the store's own changes move
    /// the store's generation instead).
    pub fn invalidate(&self) {
        *self.changed.lock().unwrap_or_else(|p| p.into_inner()) = Utc::now();
        self.generation.fetch_add(1, Ordering::SeqCst);
        let mut docs = self.docs();
        docs.map.clear();
        docs.bytes = 0;
    }

    /// Changes the capacity (a reload), dropping documents beyond it.
    pub fn set_capacity(&self, capacity: u64) {
        let mut docs = self.docs();
        docs.capacity = capacity;
        docs.evict(0);
    }

    /// The current generation and when it began: the store's and the settings' together
    /// (both only grow, so their sum names one state of the two).
    pub fn generation(&self) -> (u64, DateTime<Utc>) {
        let changed = *self.changed.lock().unwrap_or_else(|p| p.into_inner());
        let (store, store_changed) = self.store.current();
        (self.generation.load(Ordering::SeqCst) + store, changed.max(store_changed))
    }

    /// The cached document for `key` if it belongs to generation `generation`.
    pub fn get(&self, key: &str, generation: u64) -> Option<Arc<Rendered>> {
        let mut docs = self.docs();
        docs.clock += 1;
        let now = docs.clock;
        let slot = docs.map.get_mut(key).filter(|s| s.generation == generation)?;
        slot.used = now;
        Some(slot.doc.clone())
    }

    /// Stores a document rendered at `generation` (ignored if the store moved on meanwhile,
    /// or if it alone is larger than the cache).
    pub fn put(&self, key: String, generation: u64, doc: Arc<Rendered>) {
        if self.generation().0 != generation {
            return;
        }
        let size = doc.bytes() + key.len() as u64;
        let mut docs = self.docs();
        if generation > docs.generation {
            (docs.generation, docs.bytes) = (generation, 0);
            docs.map.clear();
        }
        if size > docs.capacity {
            return;
        }
        if let Some(old) = docs.map.remove(&key) {
            docs.bytes -= old.doc.bytes() + key.len() as u64;
        }
        docs.evict(size);
        docs.clock += 1;
        let used = docs.clock;
        docs.bytes += size;
        docs.map.insert(key, Slot { generation, doc, used });
    }

    /// Bytes held now.
    pub fn bytes(&self) -> u64 {
        self.docs().bytes
    }
}

impl Docs {
    /// Drops the least recently used documents until `incoming` more bytes fit. A scan
    /// per eviction: the cache holds at most a few hundred documents.
    fn evict(&mut self, incoming: u64) {
        while self.bytes + incoming > self.capacity {
            let Some(oldest) = self.map.iter().min_by_key(|(_, s)| s.used).map(|(k, _)| k.clone()) else { return };
            if let Some(slot) = self.map.remove(&oldest) {
                self.bytes -= slot.doc.bytes() + oldest.len() as u64;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_live_for_one_generation() {
        let cache = Cache::new(1 << 20, Arc::default());
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

    #[test]
    fn the_cache_keeps_to_its_capacity_dropping_the_least_recently_used() {
        let at = Utc::now();
        // Incompressible bodies of about 10 KiB each (plain plus gzip).
        let doc = |seed: u64| {
            let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            let text: String = (0..5000)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    char::from(b'a' + (x % 26) as u8)
                })
                .collect();
            Arc::new(Rendered::new(text, at))
        };
        let one = doc(0).bytes() + 2;
        let cache = Cache::new(3 * one + one / 2, Arc::default());
        let (g, _) = cache.generation();
        for (i, key) in ["k0", "k1", "k2"].into_iter().enumerate() {
            cache.put(key.into(), g, doc(i as u64));
        }
        assert!(cache.get("k0", g).is_some(), "k0 is now the most recently used");
        cache.put("k3".into(), g, doc(3));
        assert!(cache.get("k1", g).is_none(), "the least recently used went");
        for key in ["k0", "k2", "k3"] {
            assert!(cache.get(key, g).is_some(), "{key}");
        }
        assert!(cache.bytes() <= 3 * one + one / 2);
        for i in 0..1000 {
            cache.put(format!("k{}", 10 + i % 7), g, doc(i));
            assert!(cache.bytes() <= 3 * one + one / 2);
        }
        cache.put("huge".into(), g, Arc::new(Rendered::new("x".repeat(1 << 20), at)));
        assert!(cache.get("huge", g).is_none(), "a document larger than the cache is not kept");
        cache.set_capacity(one + 8);
        assert!(cache.bytes() <= one + 8);
        cache.invalidate();
        assert_eq!(cache.bytes(), 0);
    }
}
