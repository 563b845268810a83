//! Topic vectors: what a headline is about, as a small dense vector, so that two headlines
//! that share a word but not a subject ("General relativity weighs a white dwarf", "General
//! Motors recalls...") can be told apart. Term overlap alone cannot: the shared word is
//! all it sees.
//!
//! The vectors come from a static token table distilled from the sentence encoder
//! all-MiniLM-L6-v2 (Apache-2.0; `tools/distill_semantic.py` builds `data/semantic.bin` and
//! says how): one 128-dimension int8 row per WordPiece token, fitted so that a headline's
//! mean of its tokens' rows comes close to the encoder's vector for the whole headline (on
//! a corpus of news headlines named in `data/README.md`). The tokenizer is BERT's (lower
//! case, accents stripped, punctuation split, greedy longest match with `##`
//! continuations), which reproduces the encoder's own token ids on the dev streams' titles.
//!
//! Pure: the table is compiled into the binary; nothing here reads files or knows series.

use std::collections::HashMap;
use std::sync::OnceLock;

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Dimensions of a topic vector (the table's, checked when it is read).
pub const DIMS: usize = 128;

/// A unit-length topic vector.
pub type Topic = [f32; DIMS];

/// The distilled table, as `tools/distill_semantic.py` writes it.
static TABLE_BYTES: &[u8] = include_bytes!("../../data/semantic.bin");

/// Words longer than this are one unknown token, as in BERT.
const MAX_WORD_CHARS: usize = 100;

/// The token table: a scale and `DIMS` int8 values per token, and the vocabulary.
pub struct Table {
    scales: Vec<f32>,
    rows: Vec<i8>,
    vocab: HashMap<String, u32>,
}

/// The table compiled into the binary, read on first use (a few milliseconds).
pub fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| Table::read(TABLE_BYTES).expect("data/semantic.bin is well formed (checked by its test)"))
}

impl Table {
    /// Reads the table format (see the distillation script); `None` if it is malformed.
    fn read(bytes: &[u8]) -> Option<Table> {
        let rest = bytes.strip_prefix(b"SLSEM1\0\0")?;
        let count = u32::from_le_bytes(rest.get(0..4)?.try_into().ok()?) as usize;
        let dims = u32::from_le_bytes(rest.get(4..8)?.try_into().ok()?) as usize;
        if dims != DIMS {
            return None;
        }
        let row = 4 + DIMS;
        let body = rest.get(8..8 + count * row)?;
        let mut scales = Vec::with_capacity(count);
        let mut rows = Vec::with_capacity(count * DIMS);
        for chunk in body.chunks_exact(row) {
            scales.push(f32::from_le_bytes(chunk[0..4].try_into().ok()?));
            rows.extend(chunk[4..].iter().map(|b| *b as i8));
        }
        let words = std::str::from_utf8(&rest[8 + count * row..]).ok()?;
        let vocab: HashMap<String, u32> = words.lines().zip(0u32..).map(|(w, i)| (w.to_string(), i)).collect();
        (vocab.len() == count).then_some(Table { scales, rows, vocab })
    }

    /// The topic of a text: the normalised mean of its tokens' rows; `None` when no token
    /// of it is known.
    pub fn embed(&self, text: &str) -> Option<Topic> {
        let mut sum = [0f32; DIMS];
        let mut tokens = 0usize;
        for word in basic_tokens(text) {
            self.word_pieces(&word, |id| {
                let row = &self.rows[id as usize * DIMS..(id as usize + 1) * DIMS];
                let scale = self.scales[id as usize];
                for (s, v) in sum.iter_mut().zip(row) {
                    *s += scale * f32::from(*v);
                }
                tokens += 1;
            });
        }
        let norm = sum.iter().map(|x| x * x).sum::<f32>().sqrt();
        if tokens == 0 || norm == 0.0 {
            return None;
        }
        sum.iter_mut().for_each(|x| *x /= norm);
        Some(sum)
    }

    /// Greedy longest-match-first WordPiece; a word with an unmatchable part yields nothing
    /// (BERT's `[UNK]`, which carries no topic).
    fn word_pieces(&self, word: &str, mut each: impl FnMut(u32)) {
        if word.chars().count() > MAX_WORD_CHARS {
            return;
        }
        let mut pieces = Vec::new();
        let mut start = 0;
        let mut key = String::new();
        while start < word.len() {
            let mut end = word.len();
            let mut found = None;
            while end > start {
                if !word.is_char_boundary(end) {
                    end -= 1;
                    continue;
                }
                key.clear();
                if start > 0 {
                    key.push_str("##");
                }
                key.push_str(&word[start..end]);
                if let Some(id) = self.vocab.get(key.as_str()) {
                    found = Some(*id);
                    break;
                }
                end -= 1;
            }
            let Some(id) = found else { return };
            pieces.push(id);
            start = end;
        }
        pieces.into_iter().for_each(&mut each);
    }
}

/// BERT's basic tokenizer: control characters dropped, lower case, accents stripped,
/// split on whitespace, and every punctuation mark and CJK ideograph a token of its own.
fn basic_tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut Vec<String>| {
        if !word.is_empty() {
            out.push(std::mem::take(word));
        }
    };
    for c in text.chars().flat_map(char::to_lowercase).nfd() {
        if c == '\0' || c == '\u{fffd}' || is_combining_mark(c) || (c.is_control() && !c.is_whitespace()) {
            continue;
        }
        if c.is_whitespace() {
            flush(&mut word, &mut out);
        } else if is_punctuation(c) || is_cjk(c) {
            flush(&mut word, &mut out);
            out.push(c.to_string());
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// BERT counts all non-alphanumeric ASCII as punctuation, and Unicode's P categories; the
/// general punctuation block, Latin-1's marks and CJK/full-width punctuation cover those
/// seen in headlines.
fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(c, '\u{a1}' | '\u{a7}' | '\u{ab}' | '\u{b6}' | '\u{b7}' | '\u{bb}' | '\u{bf}')
        || ('\u{2010}'..='\u{2027}').contains(&c)
        || ('\u{2030}'..='\u{205e}').contains(&c)
        || ('\u{3000}'..='\u{303f}').contains(&c)
        || ('\u{ff01}'..='\u{ff0f}').contains(&c)
}

/// CJK ideographs, which BERT splits one per token.
fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x4e00..=0x9fff | 0x3400..=0x4dbf | 0x20000..=0x2a6df | 0xf900..=0xfaff | 0x2f800..=0x2fa1f)
}

/// Cosine of two topic vectors (dot product: both are unit length, or sums of unit
/// vectors divided by their norms by the caller).
pub fn dot(a: &[f32; DIMS], b: &[f32; DIMS]) -> f32 {
    lanes(a.chunks_exact(LANES).zip(b.chunks_exact(LANES)).map(|(x, y)| std::array::from_fn(|i| x[i] * y[i])))
}

/// Partial sums kept apart: summed in one chain, a dot product cannot be vectorised (the
/// order of float additions is fixed); in eight it can, and the order is still fixed.
const LANES: usize = 8;

/// Sums products given `LANES` at a time.
fn lanes(chunks: impl Iterator<Item = [f32; LANES]>) -> f32 {
    let mut acc = [0f32; LANES];
    for chunk in chunks {
        for (a, c) in acc.iter_mut().zip(chunk) {
            *a += c;
        }
    }
    acc.iter().sum()
}

/// Fixed-point scale of a packed topic (components of a unit vector lie within -1..1).
const PACK_SCALE: f32 = 32_767.0;

/// A unit topic vector in 16-bit fixed point: half the memory of a [`Topic`], for the
/// vectors a series keeps of its newest items (dot products agree within 1e-4).
#[derive(Debug, Clone, Copy)]
pub struct Packed([i16; DIMS]);

impl Packed {
    /// Packs a unit vector.
    pub fn new(t: &Topic) -> Packed {
        Packed(t.map(|x| (x.clamp(-1.0, 1.0) * PACK_SCALE).round() as i16))
    }

    /// Dot product with an unpacked vector.
    pub fn dot(&self, t: &Topic) -> f32 {
        let products = self
            .0
            .chunks_exact(LANES)
            .zip(t.chunks_exact(LANES))
            .map(|(p, x)| std::array::from_fn(|i| f32::from(p[i]) * x[i]));
        lanes(products) / PACK_SCALE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_table_is_read_whole() {
        let t = table();
        assert_eq!(t.vocab.len(), 30_522);
        assert_eq!(t.vocab.get("[CLS]"), Some(&101));
        assert_eq!(t.vocab.get("hello"), Some(&7592));
    }

    #[test]
    fn words_split_as_bert_splits_them() {
        assert_eq!(
            basic_tokens("Café's U.S. \"rally\"—down"),
            ["cafe", "'", "s", "u", ".", "s", ".", "\"", "rally", "\"", "—", "down"]
        );
        let mut ids = Vec::new();
        table().word_pieces("unaffable", |id| ids.push(id));
        // "un", "##aff", "##able" in the encoder's vocabulary.
        let names: Vec<&str> =
            ids.iter().map(|id| table().vocab.iter().find(|(_, v)| **v == *id).unwrap().0.as_str()).collect();
        assert_eq!(names, ["una", "##ffa", "##ble"]);
    }

    /// Token ids as the encoder's own tokenizer (`tokenizer.json`, read by Hugging Face
    /// `tokenizers`) gives them; the same held for all 5,377 titles and summary openings
    /// of the noisy dev stream when the table was built.
    #[test]
    fn token_ids_match_the_encoders_tokenizer() {
        let ids = |text: &str| {
            let mut ids = Vec::new();
            for w in basic_tokens(text) {
                table().word_pieces(&w, |id| ids.push(id));
            }
            ids
        };
        assert_eq!(
            ids("Café owner’s “Zürich” plan—delayed…"),
            [7668, 3954, 1521, 1055, 1523, 10204, 1524, 2933, 1517, 8394, 1529]
        );
        assert_eq!(
            ids("Putin: Крым is ours; 東京 talks"),
            [22072, 1024, 1189, 16856, 29113, 29745, 2003, 14635, 1025, 1879, 1755, 7566]
        );
        assert_eq!(
            ids("UPDATE 2-EU deals blow to two big Russian gas pipeline projects"),
            [10651, 1016, 1011, 7327, 9144, 6271, 2000, 2048, 2502, 2845, 3806, 13117, 3934]
        );
    }

    #[test]
    fn headlines_on_one_subject_are_closer_than_headlines_sharing_a_word() {
        let t = table();
        let gm = t.embed("General Motors recalls 1.6 million cars over faulty ignition switches").unwrap();
        let gm2 = t.embed("GM ignition switch recall widens as lawmakers ask questions").unwrap();
        let physics = t.embed("General relativity weighs a white dwarf").unwrap();
        assert!(dot(&gm, &gm2) > dot(&gm, &physics) + 0.1, "{} vs {}", dot(&gm, &gm2), dot(&gm, &physics));
        assert!((dot(&gm, &gm) - 1.0).abs() < 1e-4);
    }

    #[test]
    fn packed_topics_keep_their_dot_products() {
        let a = table().embed("Central bank holds rates").unwrap();
        let b = table().embed("Rates held by the central bank again").unwrap();
        assert!((Packed::new(&b).dot(&a) - dot(&a, &b)).abs() < 1e-4);
    }

    #[test]
    fn text_without_known_tokens_has_no_topic() {
        assert!(table().embed("  \u{0} ").is_none());
        assert!(table().embed(&"x".repeat(200)).is_none());
    }
}
