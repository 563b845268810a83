//! Which members of a story a reader is shown (the front page's headlines, "In this
//! story"): the ones closest to what the story is about, not merely the newest. Items
//! that join a large story wrongly tend to join late, on one shared name, so the newest
//! headlines are where they show; ranked by how much of the story's core (its keywords
//! and its title) a headline carries, they fall behind its real members.
//!
//! Pure: headlines and the story's words in, a choice out. Must not read the store.

use std::collections::HashSet;
use std::rc::Rc;

use super::language::Language;
use super::text::words_in;

/// The stems a story is about: every word of its keywords (the names and terms its items
/// share) and the content words of its title, in the language its title is written in
/// (a story's items share one: `language`).
fn core(title: &str, keywords: &[String], language: Language) -> HashSet<Rc<str>> {
    let mut core: HashSet<Rc<str>> = keywords.iter().flat_map(|k| words_in(k, language)).map(|w| w.stem).collect();
    core.extend(words_in(title, language).into_iter().filter(|w| !w.stop).map(|w| w.stem));
    core
}

/// How many of the core's stems a headline carries (each once).
fn strength(headline: &str, core: &HashSet<Rc<str>>, language: Language) -> usize {
    let stems: HashSet<Rc<str>> =
        words_in(headline, language).into_iter().filter(|w| !w.stop).map(|w| w.stem).collect();
    stems.iter().filter(|s| core.contains(*s)).count()
}

/// `candidates` (given newest first) for a story titled `title` with `keywords`, the
/// strongest first and, among equals, the newer first; each with its place as given.
pub fn ranked<T>(
    candidates: Vec<T>,
    title: &str,
    keywords: &[String],
    headline: impl Fn(&T) -> &str,
) -> Vec<(usize, T)> {
    let language = Language::detect(title, "");
    let core = core(title, keywords, language);
    let mut ranked: Vec<(usize, usize, T)> =
        candidates.into_iter().enumerate().map(|(i, c)| (strength(headline(&c), &core, language), i, c)).collect();
    ranked.sort_by_key(|&(s, i, _)| (std::cmp::Reverse(s), i));
    ranked.into_iter().map(|(_, i, c)| (i, c)).collect()
}

/// The `n` strongest of `candidates` (given newest first) for a story titled `title` with
/// `keywords`, in the order given: a weaker headline is never chosen while a stronger
/// one is left out, and among equals the newer goes first.
pub fn strongest<T>(
    candidates: Vec<T>,
    title: &str,
    keywords: &[String],
    headline: impl Fn(&T) -> &str,
    n: usize,
) -> Vec<T> {
    if candidates.len() <= n {
        return candidates;
    }
    let mut chosen = ranked(candidates, title, keywords, headline);
    chosen.truncate(n);
    chosen.sort_by_key(|(i, _)| *i);
    chosen.into_iter().map(|(_, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_headlines_shown_are_the_storys_not_the_newest_strays() {
        let keywords: Vec<String> = ["stock futures", "China", "weak data"].iter().map(|s| s.to_string()).collect();
        // Newest first: two strays that share only "China" joined last.
        let candidates = vec![
            "China sets terms for Taiwan talks",
            "China wins Paralympics",
            "Stock futures slip on weak China data",
            "US stock futures fall after weak Chinese factory data",
            "Stocks slide as China data disappoint",
            "Futures point lower on China worries",
        ];
        let shown = strongest(candidates, "Stock Futures Slip on Weak China Data", &keywords, |h| h, 3);
        assert_eq!(
            shown,
            [
                "Stock futures slip on weak China data",
                "US stock futures fall after weak Chinese factory data",
                "Stocks slide as China data disappoint"
            ]
        );
    }

    #[test]
    fn a_story_in_another_language_is_ranked_in_its_words() {
        // Newest first: a stray that shares only Portuguese function words ("de", "do",
        // "em", which English does not stop) with the title, then two of the story.
        let keywords: Vec<String> = ["caminhoneiros", "greve"].iter().map(|s| s.to_string()).collect();
        let candidates = vec![
            "Comunidade de Tijucas do Sul recebe em breve a nova unidade de saúde",
            "Greve dos caminhoneiros chega ao terceiro dia",
            "Caminhoneiros rejeitam proposta e mantêm greve",
        ];
        let title = "Greve de caminhoneiros bloqueia rodovias em cinco estados do Sul";
        let shown = strongest(candidates, title, &keywords, |h| h, 2);
        assert_eq!(
            shown,
            ["Greve dos caminhoneiros chega ao terceiro dia", "Caminhoneiros rejeitam proposta e mantêm greve"]
        );
    }

    #[test]
    fn few_candidates_are_all_shown_in_order() {
        let shown = strongest(vec!["b", "a"], "t", &[], |h| h, 5);
        assert_eq!(shown, ["b", "a"]);
    }
}
