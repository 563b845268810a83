//! Keep and block rules: which stored items are hidden from every output and from series.
//! A rule holds regular expressions on an item's fields (title, summary, link, author,
//! category) and matches an item when any of them matches. An item is hidden when a block
//! rule (global or its feed's) matches it, or when keep rules apply (global, or its
//! feed's) and none of them matches it. The verdict names the rule, so that `explain` and
//! `export items` can say which one hid an item.
//!
//! Pure: no I/O; the configuration builds the rules, the poll pipeline and the store's
//! re-filtering apply them.

use std::collections::HashMap;

use regex::Regex;

/// An item field a pattern looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The plain-text title.
    Title,
    /// The plain-text summary (or the text of the content).
    Summary,
    /// The link.
    Link,
    /// The author.
    Author,
    /// Any of the item's categories.
    Category,
}

impl Field {
    /// Every field, with its configuration key.
    pub const ALL: [(&'static str, Field); 5] = [
        ("title", Field::Title),
        ("summary", Field::Summary),
        ("link", Field::Link),
        ("author", Field::Author),
        ("category", Field::Category),
    ];
}

/// One rule: a name saying where it was written, and its patterns.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Where the rule is, as a person finds it: "[[filter]] #1 block", "feed `hn` keep".
    pub name: String,
    /// (field, pattern): the rule matches when any matches.
    pub patterns: Vec<(Field, Regex)>,
}

impl PartialEq for Rule {
    fn eq(&self, other: &Rule) -> bool {
        self.name == other.name
            && self.patterns.len() == other.patterns.len()
            && self.patterns.iter().zip(&other.patterns).all(|(a, b)| a.0 == b.0 && a.1.as_str() == b.1.as_str())
    }
}

/// The keep and block rules of one scope (global, or one feed).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rules {
    /// When any is given, only items matching one of them are kept.
    pub keep: Vec<Rule>,
    /// Items matching any of them are hidden.
    pub block: Vec<Rule>,
}

/// What the rules look at in an item.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fields<'a> {
    /// Title.
    pub title: &'a str,
    /// Summary.
    pub summary: &'a str,
    /// Link.
    pub link: Option<&'a str>,
    /// Author.
    pub author: Option<&'a str>,
    /// Categories.
    pub categories: &'a [String],
}

impl Rule {
    fn matches(&self, item: &Fields<'_>) -> bool {
        self.patterns.iter().any(|(field, re)| match field {
            Field::Title => re.is_match(item.title),
            Field::Summary => re.is_match(item.summary),
            Field::Link => item.link.is_some_and(|l| re.is_match(l)),
            Field::Author => item.author.is_some_and(|a| re.is_match(a)),
            Field::Category => item.categories.iter().any(|c| re.is_match(c)),
        })
    }
}

/// Every rule in force: the global ones and each feed's, by feed name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    /// `[[filter]]` tables.
    pub global: Rules,
    /// `keep`/`block` of each `[[feed]]`, by name.
    pub feeds: HashMap<String, Rules>,
}

impl Filters {
    /// Whether any rule is configured at all (nothing to evaluate otherwise).
    pub fn is_empty(&self) -> bool {
        self.global == Rules::default() && self.feeds.values().all(|r| *r == Rules::default())
    }

    /// Every rule written out in a fixed order: equal exactly when the rules decide alike,
    /// so the store can tell whether stored verdicts are still current.
    pub fn signature(&self) -> String {
        let rules = |scope: &str, r: &Rules| {
            let write = |kind: &str, list: &[Rule]| {
                list.iter()
                    .map(|rule| {
                        let patterns: Vec<String> =
                            rule.patterns.iter().map(|(f, re)| format!("{f:?}={}", re.as_str())).collect();
                        format!("{scope}|{kind}|{}|{}", rule.name, patterns.join("\u{1f}"))
                    })
                    .collect::<Vec<_>>()
            };
            [write("keep", &r.keep), write("block", &r.block)].concat()
        };
        let mut feeds: Vec<(&String, &Rules)> = self.feeds.iter().collect();
        feeds.sort_by_key(|(name, _)| *name);
        let mut lines = rules("", &self.global);
        for (name, r) in feeds {
            lines.extend(rules(name, r));
        }
        lines.join("\n")
    }

    /// Why an item of `feed` is hidden, or `None` when it is shown.
    pub fn verdict(&self, feed: &str, item: &Fields<'_>) -> Option<String> {
        let none = Rules::default();
        let own = self.feeds.get(feed).unwrap_or(&none);
        if let Some(rule) = self.global.block.iter().chain(&own.block).find(|r| r.matches(item)) {
            return Some(format!("blocked by {}", rule.name));
        }
        for (scope, rules) in [("the global keep rules", &self.global), ("its feed's keep rules", own)] {
            if !rules.keep.is_empty() && !rules.keep.iter().any(|r| r.matches(item)) {
                return Some(format!("matches none of {scope} ({})", names(&rules.keep)));
            }
        }
        None
    }
}

fn names(rules: &[Rule]) -> String {
    rules.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(name: &str, field: Field, pattern: &str) -> Rule {
        Rule { name: name.into(), patterns: vec![(field, Regex::new(pattern).unwrap())] }
    }

    fn item<'a>(title: &'a str, categories: &'a [String]) -> Fields<'a> {
        Fields { title, summary: "", link: Some("https://x.example/a"), author: Some("Ann"), categories }
    }

    #[test]
    fn block_wins_then_keep_rules_must_match() {
        let mut filters = Filters::default();
        filters.global.block.push(rule("[[filter]] #1 block", Field::Title, "(?i)sponsored"));
        filters.feeds.insert(
            "hn".into(),
            Rules { keep: vec![rule("feed `hn` keep", Field::Title, "(?i)rust|sqlite")], block: vec![] },
        );
        let none: Vec<String> = vec![];
        assert_eq!(filters.verdict("hn", &item("Rust 2.0 released", &none)), None);
        assert_eq!(
            filters.verdict("hn", &item("Sponsored: Rust jobs", &none)).as_deref(),
            Some("blocked by [[filter]] #1 block")
        );
        assert_eq!(
            filters.verdict("hn", &item("Go 2.0 released", &none)).as_deref(),
            Some("matches none of its feed's keep rules (feed `hn` keep)")
        );
        assert_eq!(filters.verdict("other", &item("Go 2.0 released", &none)), None, "keep rules are per feed");
        assert!(!filters.is_empty() && Filters::default().is_empty());
        assert_eq!(filters.signature(), filters.clone().signature());
        let mut changed = filters.clone();
        changed.feeds.get_mut("hn").unwrap().keep[0].patterns[0].1 = Regex::new("(?i)rust").unwrap();
        assert_ne!(changed.signature(), filters.signature(), "a changed pattern changes the signature");
        assert_eq!(Filters::default().signature(), "");
    }

    #[test]
    fn every_field_can_be_matched() {
        let cats = vec!["Sport".to_string()];
        let it = Fields {
            title: "t",
            summary: "s body",
            link: Some("https://ads.example/x"),
            author: Some("Bot"),
            categories: &cats,
        };
        for (field, pattern) in [
            (Field::Title, "^t$"),
            (Field::Summary, "body"),
            (Field::Link, "ads\\."),
            (Field::Author, "Bot"),
            (Field::Category, "^Sport$"),
        ] {
            let filters = Filters {
                global: Rules { block: vec![rule("r", field, pattern)], keep: vec![] },
                ..Filters::default()
            };
            assert!(filters.verdict("f", &it).is_some(), "{field:?}");
        }
        let missing = Fields { link: None, author: None, ..it };
        let filters = Filters {
            global: Rules { block: vec![rule("r", Field::Author, ".*")], keep: vec![] },
            ..Filters::default()
        };
        assert_eq!(filters.verdict("f", &missing), None, "a missing field matches nothing");
    }
}
