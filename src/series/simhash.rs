//! Near-duplicate headlines (syndicated wire copies, "UPDATE 1-" versions): 64-bit
//! SimHash fingerprints, looked up by four 16-bit bands so any fingerprint within three
//! bits shares a band. Pure.

use super::vector::IdMap;

/// Most differing bits for two headlines to count as the same text.
pub const MAX_DISTANCE: u32 = 3;

fn mix(mut x: u64) -> u64 {
    // splitmix64 finaliser: spreads FNV's weak low bits over all 64.
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// FNV-1a of the strings' bytes joined by spaces, mixed.
fn hash(parts: &[&str]) -> u64 {
    let joined = parts.iter().enumerate().flat_map(|(i, p)| [if i > 0 { &b" "[..] } else { &b""[..] }, p.as_bytes()]);
    mix(crate::text::stable_hash(joined))
}

/// The SimHash of a sequence of tokens (words and word pairs both count).
pub fn simhash(tokens: &[&str]) -> Option<u64> {
    if tokens.len() < 3 {
        return None; // too short to call two headlines the same text
    }
    // Set bits per position (a bit of the fingerprint is set when most tokens set it),
    // counted eight positions at a time: lane j holds, in byte b, the count of bit
    // 8b + j. A byte holds up to 255, so lanes are emptied into `ones` that often.
    let mut ones = [0u32; 64];
    let mut lanes = [0u64; 8];
    let flush = |lanes: &mut [u64; 8], ones: &mut [u32; 64]| {
        for (j, lane) in lanes.iter_mut().enumerate() {
            for byte in 0..8 {
                ones[8 * byte + j] += (*lane >> (8 * byte) & 0xff) as u32;
            }
            *lane = 0;
        }
    };
    // A pair hashes as its two words joined by a space, without building that string.
    let pairs = tokens.windows(2).map(hash);
    let mut n = 0;
    for h in tokens.iter().map(|t| hash(&[t])).chain(pairs) {
        for (j, lane) in lanes.iter_mut().enumerate() {
            *lane += h >> j & 0x0101_0101_0101_0101;
        }
        n += 1;
        if n % 255 == 0 {
            flush(&mut lanes, &mut ones);
        }
    }
    flush(&mut lanes, &mut ones);
    Some(ones.iter().enumerate().fold(0u64, |acc, (bit, c)| if 2 * c > n { acc | 1 << bit } else { acc }))
}

/// (fingerprint, series id, unix seconds seen).
type Entry = (u64, u64, i64);

/// Recent fingerprints and the series each belongs to.
#[derive(Debug, Default)]
pub struct NearIndex {
    bands: IdMap<(u8, u16), Vec<Entry>>,
    inserts: u64,
}

impl NearIndex {
    /// The series of a fingerprint within [`MAX_DISTANCE`] seen at or after `since`.
    pub fn find(&self, fp: u64, since: i64) -> Option<u64> {
        let mut best: Option<(u32, u64)> = None;
        for band in 0..4u8 {
            let key = (band, (fp >> (band * 16)) as u16);
            let Some(list) = self.bands.get(&key) else { continue };
            // Expired entries are skipped here and dropped by `insert` now and then.
            for (other, series, _) in list.iter().filter(|(_, _, at)| *at >= since) {
                let d = (fp ^ other).count_ones();
                if d <= MAX_DISTANCE && best.is_none_or(|(bd, _)| d < bd) {
                    best = Some((d, *series));
                }
            }
        }
        best.map(|(_, s)| s)
    }

    /// Remembers a fingerprint; now and then forgets those older than `since`, so the
    /// index holds about one window of headlines (amortised constant cost per insert).
    pub fn insert(&mut self, fp: u64, series: u64, at: i64, since: i64) {
        for band in 0..4u8 {
            self.bands.entry((band, (fp >> (band * 16)) as u16)).or_default().push((fp, series, at));
        }
        self.inserts += 1;
        if self.inserts.is_multiple_of(16_384) {
            self.bands.retain(|_, list| {
                list.retain(|(_, _, t)| *t >= since);
                !list.is_empty()
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SimHash by its definition, one bit at a time.
    fn by_definition(tokens: &[&str]) -> u64 {
        let hashes: Vec<u64> = tokens.iter().map(|t| hash(&[t])).chain(tokens.windows(2).map(hash)).collect();
        (0..64)
            .filter(|bit| hashes.iter().filter(|h| *h >> bit & 1 == 1).count() * 2 > hashes.len())
            .fold(0, |a, b| a | 1 << b)
    }

    #[test]
    fn lane_counting_gives_the_fingerprint_of_the_definition() {
        let words: Vec<String> = (0..400).map(|i| format!("w{}", i % 37)).collect();
        for n in [3, 8, 127, 128, 200, 400] {
            let tokens: Vec<&str> = words[..n].iter().map(String::as_str).collect();
            assert_eq!(simhash(&tokens), Some(by_definition(&tokens)), "{n} tokens");
        }
    }

    #[test]
    fn near_copies_match_and_others_do_not() {
        let a = simhash(&["ebay", "reject", "icahn", "board", "nomine", "ask", "investor"]).unwrap();
        let b = simhash(&["ebay", "reject", "icahn", "board", "nomine", "ask", "investor", "too"]).unwrap();
        let c = simhash(&["mcdonald", "februari", "sale", "fall", "percent"]).unwrap();
        assert!((a ^ b).count_ones() <= 16, "similar token sets give close fingerprints");
        assert!((a ^ c).count_ones() > MAX_DISTANCE);
        let mut index = NearIndex::default();
        index.insert(a, 7, 100, 0);
        assert_eq!(index.find(a ^ 0b101, 0), Some(7));
        assert_eq!(index.find(c, 0), None);
        assert_eq!(index.find(a, 101), None, "expired");
        assert_eq!(simhash(&["too", "short"]), None);
        assert_eq!(hash(&["ebay", "reject"]), hash(&["ebay reject"]), "a pair is its words joined by a space");
    }
}
