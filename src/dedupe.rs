//! Entry identity: which received entries are the same article.
//!
//! Within a feed an entry is known by its guid, else its canonical link, else a hash of
//! title and content (miniflux's fallback chain). Across feeds the same article is found
//! by canonical link, or by a guid that is itself a URL. Pure functions; no I/O.

use sha2::{Digest, Sha256};
use url::Url;

use crate::model::Entry;

/// Query parameters that only track the reader, never select content.
fn is_tracking_param(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.starts_with("utm_")
        || key.starts_with("_hs")
        || matches!(
            key.as_str(),
            "fbclid"
                | "gclid"
                | "gclsrc"
                | "dclid"
                | "msclkid"
                | "yclid"
                | "twclid"
                | "igshid"
                | "mc_cid"
                | "mc_eid"
                | "_ga"
                | "_gl"
                | "wt.mc_id"
                | "cmpid"
                | "ocid"
                | "ncid"
                | "sr_share"
                | "oly_enc_id"
                | "oly_anon_id"
                | "vero_id"
                | "mkt_tok"
                | "spm"
        )
}

/// The form of a link used to recognise the same article: http(s) only, no fragment, no
/// tracking parameters, lower-case host and no default port (the `url` crate does those
/// two). Returns None for anything that is not an absolute http(s) URL.
pub fn canonical_url(link: &str) -> Option<String> {
    canonical(Url::parse(link.trim()).ok()?)
}

/// [`canonical_url`] of a URL already parsed.
pub fn canonical(mut url: Url) -> Option<String> {
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    url.set_fragment(None);
    if url.query().is_some() {
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !is_tracking_param(k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    Some(url.into())
}

/// The per-feed identity of an entry: `guid:…`, else `link:…`, else `hash:…`.
pub fn identity(entry: &Entry) -> String {
    if let Some(guid) = entry.guid.as_deref().map(str::trim).filter(|g| !g.is_empty()) {
        return format!("guid:{guid}");
    }
    if let Some(link) = &entry.canonical_link {
        return format!("link:{link}");
    }
    format!("hash:{}", hex_digest(&[entry.title.as_bytes(), b"\0", entry.content_html.as_bytes()], 16))
}

/// A stable public id for an item, derived from where it was first received.
pub fn entry_uid(feed_name: &str, identity: &str) -> String {
    format!("urn:storyline:item:{}", hex_digest(&[feed_name.as_bytes(), b"\0", identity.as_bytes()], 16))
}

/// A 64-bit FNV-1a hash of a key, for compact indexes. Stable across versions and
/// platforms (it is stored); collisions are resolved by comparing the full key.
pub fn key_hash(key: &str) -> i64 {
    crate::text::stable_hash([key.as_bytes()]) as i64
}

fn hex_digest(parts: &[&[u8]], bytes: usize) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut hasher = Sha256::new();
    for p in parts {
        hasher.update(p);
    }
    let mut out = String::with_capacity(bytes * 2);
    for b in &hasher.finalize()[..bytes] {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_parameters_and_fragments_are_dropped() {
        assert_eq!(
            canonical_url("https://EXAMPLE.org:443/a/b?id=7&utm_source=x&UTM_Medium=y&fbclid=z#top").as_deref(),
            Some("https://example.org/a/b?id=7")
        );
        assert_eq!(canonical_url("http://example.org/a?utm_source=rss").as_deref(), Some("http://example.org/a"));
        assert_eq!(canonical_url("mailto:a@b.c"), None);
        assert_eq!(canonical_url("/relative"), None);
    }

    #[test]
    fn identity_falls_back_from_guid_to_link_to_hash() {
        let mut e = Entry { guid: Some(" 42 ".into()), canonical_link: Some("http://x/a".into()), ..Entry::default() };
        assert_eq!(identity(&e), "guid:42");
        e.guid = None;
        assert_eq!(identity(&e), "link:http://x/a");
        e.canonical_link = None;
        e.title = "T".into();
        let h = identity(&e);
        assert!(h.starts_with("hash:") && h.len() == 5 + 32);
        e.content_html = "other".into();
        assert_ne!(identity(&e), h);
    }

    #[test]
    fn key_hashes_are_fixed_forever() {
        // Stored in the database: this value must never change.
        assert_eq!(key_hash(""), 0xcbf2_9ce4_8422_2325_u64 as i64);
        assert_eq!(key_hash("a"), 0xaf63_dc4c_8601_ec8c_u64 as i64);
    }

    #[test]
    fn uids_are_stable_and_distinct() {
        assert_eq!(entry_uid("a", "guid:1").len(), "urn:storyline:item:".len() + 32);
        assert_eq!(entry_uid("a", "guid:1"), entry_uid("a", "guid:1"));
        assert_ne!(entry_uid("a", "guid:1"), entry_uid("b", "guid:1"));
    }
}
