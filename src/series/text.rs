//! Text features of a headline: folded, stemmed content terms (in the headline's
//! language, `language`) and a separate channel of names (acronyms, numbers, capitalised
//! words and runs). Also headline cleaning (wire prefixes, " - Publisher" suffixes). Pure.

use std::collections::HashSet;
use std::rc::Rc;
use std::sync::OnceLock;

use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::UnicodeNormalization;

use super::language::Language;

/// English function words and headline filler that say nothing about the story. Weekday
/// names are here too: "Monday" in a headline dates it, and as a capitalised word it
/// would otherwise count as a name shared by every story of that day. (Month names stay:
/// measured on the dev stream, dropping them lost more than it gained.)
const STOP_WORDS: &str = "a about above after again against all also am an and any are as at be because been before being \
    below between both but by can could did do does doing down during each few for from further had has have having he her \
    here hers him his how i if in into is it its itself just me more most my no nor not now of off on once only or other our \
    out over own same she should so some such than that the their them then there these they this those through to too \
    under until up very was we were what when where which while who whom why will with would you your yours says said say \
    new news update updates live report reports video photos watch top latest first how why what after amid over vs via \
    may might us monday tuesday wednesday thursday friday saturday sunday";

/// Whether a folded word is an English stop word.
pub(crate) fn is_english_stop(folded: &str) -> bool {
    stop_words().contains(folded)
}

fn stop_words() -> &'static HashSet<&'static str> {
    static WORDS: OnceLock<HashSet<&'static str>> = OnceLock::new();
    WORDS.get_or_init(|| STOP_WORDS.split_whitespace().collect())
}

fn stemmer() -> &'static Stemmer {
    static STEMMER: OnceLock<Stemmer> = OnceLock::new();
    STEMMER.get_or_init(|| Stemmer::create(Algorithm::English))
}

/// Words stemmed so far in each language (by `Language::slot`), with whether each is a
/// stop word (news repeats its vocabulary: most words are seen before). Per thread, and
/// cleared when it grows large, so it stays small and lock-free; shared stems, so a word
/// seen before costs no allocation. Stems of a language other than English carry its
/// prefix (`Language::term_prefix`).
fn stem(folded: &str, language: Language) -> (Rc<str>, bool) {
    type Stems = std::collections::HashMap<String, (Rc<str>, bool)>;
    thread_local! {
        static STEMS: std::cell::RefCell<Vec<Stems>> = Default::default();
    }
    STEMS.with_borrow_mut(|all| {
        let slot = language.slot();
        if all.len() <= slot {
            all.resize_with(slot + 1, Stems::default);
        }
        let stems = &mut all[slot];
        if let Some((s, stop)) = stems.get(folded) {
            return (s.clone(), *stop);
        }
        if stems.len() >= 50_000 {
            stems.clear();
        }
        let (s, stop): (Rc<str>, bool) = match language {
            Language::English => (Rc::from(stemmer().stem(folded).as_ref()), stop_words().contains(folded)),
            other => {
                let stemmed = other.stemmer().map_or(std::borrow::Cow::Borrowed(folded), |s| s.stem(folded));
                (Rc::from(format!("{}{stemmed}", other.term_prefix())), other.is_stop(folded))
            }
        };
        stems.insert(folded.to_string(), (s.clone(), stop));
        (s, stop)
    })
}

/// One word of a headline as written and as matched.
#[derive(Debug, Clone, PartialEq)]
pub struct Word<'a> {
    /// As written (possessive removed), for display.
    pub surface: &'a str,
    /// Folded (lower case, no diacritics) and stemmed.
    pub stem: Rc<str>,
    /// Starts with a capital letter.
    pub capitalised: bool,
    /// All capitals (two letters or more): an acronym.
    pub acronym: bool,
    /// A capital after a lower-case letter ("eBay", "iPhone", "PayPal"): a brand's own
    /// spelling, a name wherever it stands in a headline.
    pub camel: bool,
    /// A stop word.
    pub stop: bool,
    /// Contains a digit.
    pub numeric: bool,
}

/// Lower case without diacritics ("Ünïcode" -> "unicode"), into `out` (cleared first, so
/// that folding many words reuses one buffer).
pub(crate) fn fold_into(text: &str, out: &mut String) {
    out.clear();
    if text.is_ascii() {
        out.extend(text.bytes().map(|b| char::from(b.to_ascii_lowercase())));
    } else {
        out.extend(
            text.nfkd().filter(|c| !unicode_normalization::char::is_combining_mark(*c)).flat_map(char::to_lowercase),
        );
    }
}

/// Splits an English headline into words (see [`words_in`]).
pub fn words(text: &str) -> Vec<Word<'_>> {
    words_in(text, Language::English)
}

/// Splits a headline in `language` into words: letters and digits, keeping inner
/// apostrophes and dots (U.S.) but dropping possessive `'s`; stemmed and stop-listed as
/// that language is. Where capitals do not mark names (German nouns), no word counts as
/// capitalised.
pub fn words_in(text: &str, language: Language) -> Vec<Word<'_>> {
    let capitals = language.capitals_mark_names();
    let mut out = Vec::with_capacity(text.len() / 5);
    let mut folded = String::new();
    for raw in text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’' || c == '.' || c == '&')) {
        let raw = raw.trim_matches(|c: char| !c.is_alphanumeric());
        let raw = raw.strip_suffix("'s").or_else(|| raw.strip_suffix("’s")).unwrap_or(raw);
        if raw.is_empty() {
            continue;
        }
        fold_into(raw, &mut folded);
        folded.retain(|c| c.is_alphanumeric());
        if folded.is_empty() {
            continue;
        }
        let mut letters = raw.chars().filter(|c| c.is_alphabetic());
        let capitalised = capitals && raw.chars().next().is_some_and(char::is_uppercase);
        let acronym = letters.clone().count() >= 2 && letters.all(char::is_uppercase);
        let camel = raw.chars().zip(raw.chars().skip(1)).any(|(a, b)| a.is_lowercase() && b.is_uppercase());
        let numeric = folded.chars().any(|c| c.is_ascii_digit());
        // No stop word has a digit.
        let (stem, stop) = match (numeric, language) {
            (true, Language::English) => (Rc::from(folded.as_str()), false),
            (true, other) => (Rc::from(format!("{}{folded}", other.term_prefix())), false),
            (false, _) => stem(&folded, language),
        };
        out.push(Word { surface: raw, stem, capitalised, acronym, camel, stop, numeric });
    }
    out
}

/// Whether a headline is in Title Case (most content words capitalised), where a capital
/// letter says little about whether a word is a name.
pub fn title_case(words: &[Word]) -> bool {
    let content: Vec<&Word> = words.iter().filter(|w| !w.stop && !w.numeric).collect();
    content.len() >= 3 && content.iter().filter(|w| w.capitalised).count() * 10 >= content.len() * 7
}

/// Wire desks' prefixes, followed by a dash or a colon (`UPDATE 2-`, `RPT-`, `EXCLUSIVE:`).
const WIRE_PREFIXES: &[&str] = &[
    "UPDATE",
    "WRAPUP",
    "RPT",
    "REFILE",
    "CORRECTED",
    "CORRECTION",
    "EXCLUSIVE",
    "BREAKING",
    "INSIGHT",
    "ANALYSIS",
    "FACTBOX",
    "TIMELINE",
    "GLOBAL MARKETS",
    "BUZZ",
    // Attribution labels ("Report: ..."); the longer form first, as the first match wins.
    "REPORTS",
    "REPORT",
    "OPINION",
    "EDITORIAL",
    "COMMENTARY",
    "EXPLAINER",
    "POLL",
    "STUDY",
    "SURVEY",
];

/// Words naming a publication or a source: "<one of them ...> says:" before a headline
/// attributes it ("Journal says:", "Reuters reports:"), it is not part of the story.
const PUBLICATIONS: &[&str] = &[
    "journal",
    "times",
    "post",
    "paper",
    "newspaper",
    "magazine",
    "media",
    "report",
    "sources",
    "source",
    "wsj",
    "reuters",
    "ap",
    "afp",
    "bloomberg",
    "cnn",
    "bbc",
    "insider",
];

/// Verbs of an attribution before a colon.
const ATTRIBUTING: &[&str] = &["says", "said", "reports", "reported", "claims"];

/// Words that announce the medium, not the story: `VIDEO:` before a headline, `(video)`
/// or `[WATCH LIVE]` after it.
const MEDIA_WORDS: &[&str] =
    &["video", "videos", "watch", "live", "photos", "pictures", "pics", "gallery", "slideshow", "audio", "listen"];

/// Wire-service prefixes (`UPDATE 2-`, `RPT-`, `EXCLUSIVE:`), media tags (`VIDEO:`,
/// `[WATCH LIVE]`, `(pictures)`) and publisher suffixes (` - Reuters`, ` | CNN`) removed;
/// whitespace collapsed.
pub fn clean_headline(title: &str) -> String {
    let mut t = strip_attribution(strip_slug(strip_prefixes(title.trim()))).to_string();
    for sep in [" - ", " | ", " — ", " – "] {
        // memmem: `str::rfind` builds a two-way searcher per call, which costs more than
        // searching a headline.
        if let Some(i) = memchr::memmem::rfind(t.as_bytes(), sep.as_bytes()) {
            // A short tail after the last separator is the publisher's name.
            let tail = &t[i + sep.len()..];
            if tail.split_whitespace().count() <= 4 && tail.len() <= 40 && i > 15 {
                t.truncate(i);
            }
        }
    }
    crate::text::collapse_whitespace(strip_media_tags(&t))
}

/// "Journal says: The first default ..." without its attribution, when what follows is
/// a headline of its own (three words or more).
fn strip_attribution(t: &str) -> &str {
    let Some((head, rest)) = t.split_once(':') else { return t };
    let words: Vec<String> = head.split_whitespace().map(str::to_lowercase).collect();
    let attributed = (2..=4).contains(&words.len())
        && words.last().is_some_and(|w| ATTRIBUTING.contains(&w.as_str()))
        && words.iter().any(|w| PUBLICATIONS.contains(&w.as_str()));
    let rest = rest.trim_start();
    if attributed && rest.split_whitespace().count() >= 3 {
        rest
    } else {
        t
    }
}

fn strip_prefixes(mut t: &str) -> &str {
    loop {
        let starts = |p: &&&str| t.get(..p.len()).is_some_and(|head| head.eq_ignore_ascii_case(p));
        if let Some(p) = WIRE_PREFIXES.iter().find(starts) {
            let rest = t[p.len()..].trim_start_matches(|c: char| c.is_ascii_digit() || c == ' ');
            match rest.strip_prefix('-').or_else(|| rest.strip_prefix(':')) {
                Some(r) => t = r.trim_start(),
                None => return t,
            }
        } else if let Some(p) = MEDIA_WORDS.iter().find(starts) {
            // Only before a colon: "Live-streaming" and "Watch makers" are headlines.
            match t[p.len()..].trim_start().strip_prefix(':') {
                Some(r) => t = r.trim_start(),
                None => return t,
            }
        } else {
            return t;
        }
    }
}

/// News agencies whose name in parentheses after a headline ("(Reuters)", "(AP)") says who
/// wrote it, not what it is about: shared by unrelated headlines of one wire, it joined
/// them as a shared name ("Thomson to Sell Media Group (Reuters)" with a Congo story).
const AGENCIES: &[&str] = &[
    "reuters",
    "ap",
    "afp",
    "upi",
    "dpa",
    "bloomberg",
    "xinhua",
    "ani",
    "pti",
    "ians",
    "efe",
    "ansa",
    "kyodo",
    "tass",
    "aap",
    "cp",
    "pa",
    "yonhap",
    "bernama",
    "ap photo",
    "ap video",
    "reuters video",
    "afp photo",
    "the associated press",
    "associated press",
    "agence france-presse",
    "canadian press",
    "the canadian press",
    "press association",
    "united press international",
];

/// Drops trailing `[tags]` of up to three words, `(media words)` and `(Agency)` after a
/// headline.
fn strip_media_tags(mut t: &str) -> &str {
    loop {
        let trimmed = t.trim_end();
        let (open, close) = match trimmed.chars().last() {
            Some(']') => ('[', ']'),
            Some(')') => ('(', ')'),
            _ => return trimmed,
        };
        let Some(i) = trimmed.rfind(open) else { return trimmed };
        let inner = &trimmed[i + 1..trimmed.len() - close.len_utf8()];
        let tag = if open == '[' {
            inner.split_whitespace().count() <= 3
        } else {
            let words: Vec<String> =
                inner.split_whitespace().map(|w| w.trim_start_matches('+').to_lowercase()).collect();
            let media = !words.is_empty()
                && words.iter().all(|w| MEDIA_WORDS.contains(&w.as_str()) || w == "and" || w == "with");
            media || AGENCIES.contains(&words.join(" ").as_str())
        };
        if !tag || i < 15 {
            return trimmed;
        }
        t = &trimmed[..i];
    }
}

/// A wire desk's slug in capitals glued to the headline by a dash ("US STOCKS-Wall St
/// edges lower", "GLOBAL MARKETS-"): it names the desk, not the story.
fn strip_slug(t: &str) -> &str {
    let Some(dash) = t.find('-') else { return t };
    let (slug, rest) = (&t[..dash], &t[dash + 1..]);
    let capitals = slug.chars().all(|c| c.is_ascii_uppercase() || c == ' ' || c == '&');
    let letters = slug.chars().filter(char::is_ascii_uppercase).count();
    if capitals && letters >= 3 && !slug.ends_with(' ') && rest.starts_with(|c: char| c.is_alphanumeric()) {
        rest
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_folded_stemmed_and_classified() {
        let w = words("McDonald's Café sales FALL 0.3 percent in U.S. — NATO says");
        let stems: Vec<&str> = w.iter().map(|w| &*w.stem).collect();
        assert_eq!(stems, ["mcdonald", "cafe", "sale", "fall", "03", "percent", "in", "us", "nato", "say"]);
        assert!(w[0].capitalised && !w[0].acronym);
        assert!(w[3].acronym && w[8].acronym);
        assert!(w[4].numeric);
        assert!(w[6].stop && w[9].stop);
        assert!(words("Hang Seng plunges on Monday")[3].stop, "a weekday dates a headline");
        let again = words("percent in NATO");
        assert!(again[1].stop && !again[0].stop && !again[2].stop, "cached words keep their class");
        let brands = words("Icahn steps up fight with eBay over PayPal spin-off");
        assert!(brands[5].camel && brands[7].camel && !brands[0].camel && !brands[5].capitalised);
    }

    #[test]
    fn title_case_is_detected() {
        assert!(title_case(&words("Fed's Plosser: Nasty Weather Has Curbed Job Growth")));
        assert!(!title_case(&words("Fed official says weak data caused by weather, should not slow taper")));
    }

    #[test]
    fn headlines_are_cleaned() {
        assert_eq!(clean_headline("UPDATE 1-EBay rejects Icahn board nominees"), "EBay rejects Icahn board nominees");
        assert_eq!(
            clean_headline("Thomson to Sell Media Group for $350 Mln (Reuters)"),
            "Thomson to Sell Media Group for $350 Mln"
        );
        assert_eq!(
            clean_headline("Court Declines to Hear Gay Marriage Case (AP)"),
            "Court Declines to Hear Gay Marriage Case"
        );
        assert_eq!(clean_headline("Talks with the AP (Associated Press)"), "Talks with the AP");
        // It joined an unrelated Canadian story on "Canadian Press" as a shared name.
        assert_eq!(
            clean_headline("Yellowknife parole officer found dead after visiting client (Canadian Press)"),
            "Yellowknife parole officer found dead after visiting client"
        );
        assert_eq!(
            clean_headline("Shares of Apple (AAPL) rise on iPhone sales"),
            "Shares of Apple (AAPL) rise on iPhone sales"
        );
        assert_eq!(clean_headline("RPT-UPDATE 2-Fed's Plosser sees high bar"), "Fed's Plosser sees high bar");
        assert_eq!(
            clean_headline("Russia-NATO Relations Reach a New Low - The Moscow Times"),
            "Russia-NATO Relations Reach a New Low"
        );
        assert_eq!(
            clean_headline("Exclusive: Talks  resume | CNN"),
            "Talks resume | CNN",
            "too short to hold a suffix"
        );
        assert_eq!(clean_headline("Updated forecasts show growth"), "Updated forecasts show growth");
        // Attributions are not the story; topics before a colon are.
        assert_eq!(
            clean_headline("Journal says: The first default in China's bond market"),
            "The first default in China's bond market"
        );
        assert_eq!(clean_headline("Report: Apple to unveil larger iPhone"), "Apple to unveil larger iPhone");
        assert_eq!(clean_headline("Reports: Apple to unveil larger iPhone"), "Apple to unveil larger iPhone");
        assert_eq!(clean_headline("WATCH: Snowden speaks at SXSW"), "Snowden speaks at SXSW");
        assert_eq!(clean_headline("Ukraine: Russia moves troops"), "Ukraine: Russia moves troops");
        assert_eq!(clean_headline("Obama says: we will act now"), "Obama says: we will act now");
        assert_eq!(clean_headline("Reporter wins award for Syria coverage"), "Reporter wins award for Syria coverage");
        assert_eq!(clean_headline("US STOCKS SNAPSHOT-Wall St opens lower"), "Wall St opens lower");
        assert_eq!(clean_headline("GLOBAL MARKETS-World stocks dip"), "World stocks dip");
        assert_eq!(clean_headline("Russia-NATO talks"), "Russia-NATO talks");
        assert_eq!(clean_headline("Edward Snowden speaks to SXSW [WATCH LIVE]"), "Edward Snowden speaks to SXSW");
        assert_eq!(clean_headline("VIDEO: Apple's iOS 7.1 lands with CarPlay"), "Apple's iOS 7.1 lands with CarPlay");
        assert_eq!(
            clean_headline("iPhone 6 concept shows off iPhone Air (VIDEO) - Tech Times"),
            "iPhone 6 concept shows off iPhone Air"
        );
        assert_eq!(clean_headline("Hands on with Apple iOS 7.1 (pictures)"), "Hands on with Apple iOS 7.1");
        assert_eq!(clean_headline("Live-streaming boom lifts Twitch"), "Live-streaming boom lifts Twitch");
        assert_eq!(clean_headline("Watch makers brace for Apple"), "Watch makers brace for Apple");
        assert_eq!(clean_headline("Fed holds rates (for now)"), "Fed holds rates (for now)", "not a media tag");
        assert_eq!(
            clean_headline("Ukraine crisis [a long bracketed aside of words]"),
            "Ukraine crisis [a long bracketed aside of words]"
        );
        assert_eq!(
            clean_headline("UK-EU trade deal is reached - BBC"),
            "UK-EU trade deal is reached",
            "a two-letter pair is not a slug"
        );
    }
}
