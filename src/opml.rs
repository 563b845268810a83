//! OPML, the subscription lists feed readers import and export: reading the outlines of
//! sloppy real-world files and writing OPML 2.0. Pure; no I/O.

use std::collections::HashMap;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use url::Url;

use crate::config::edit::NewFeed;
use crate::model::{FeedSpec, FeedStatus};
use crate::parse::html::to_text;
use crate::text::escape_text as xml_escape;

/// A feed found in an OPML file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outline {
    /// `title`, else `text`, else empty.
    pub title: String,
    /// `xmlUrl`, as written.
    pub url: String,
    /// Names of the folders (parent outlines) it sits in.
    pub folders: Vec<String>,
    /// Its `category` attribute's categories (comma-separated, a leading `/` dropped).
    pub categories: Vec<String>,
}

/// Why an OPML file could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpmlError {
    /// No outline with a feed URL anywhere.
    #[error("no feed outlines (outline elements with xmlUrl) found")]
    NoFeeds,
}

fn attribute(e: &BytesStart<'_>, names: &[&str]) -> Option<String> {
    e.attributes().flatten().find_map(|a| {
        let key = String::from_utf8_lossy(a.key.as_ref()).to_ascii_lowercase();
        if !names.contains(&key.as_str()) {
            return None;
        }
        // HTML entities XML does not define (&nbsp; from HTML-minded exporters) are
        // decoded the way a browser would.
        let value =
            a.unescape_value().map(|v| v.into_owned()).unwrap_or_else(|_| to_text(&String::from_utf8_lossy(&a.value)));
        Some(value.trim().to_string()).filter(|v| !v.is_empty())
    })
}

/// Every feed outline of an OPML document, in document order. Tolerates a missing head,
/// missing `text`/`type` attributes, any letter case, mismatched end tags and stops
/// quietly at unrecoverable damage, keeping what came before.
pub fn read(text: &str) -> Result<Vec<Outline>, OpmlError> {
    let mut reader = Reader::from_str(text);
    let config = reader.config_mut();
    config.check_end_names = false;
    config.allow_unmatched_ends = true;
    let mut folders: Vec<Option<String>> = Vec::new();
    let mut found = Vec::new();
    loop {
        let (e, opens) = match reader.read_event() {
            Ok(Event::Start(e)) => (e, true),
            Ok(Event::Empty(e)) => (e, false),
            Ok(Event::End(e)) => {
                if e.name().as_ref().eq_ignore_ascii_case(b"outline") {
                    folders.pop();
                }
                continue;
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => continue,
        };
        if !e.name().as_ref().eq_ignore_ascii_case(b"outline") {
            continue;
        }
        // Plain text: exporters that escape twice (`&amp;amp;`) leave an entity behind.
        let title = attribute(&e, &["title"]).or_else(|| attribute(&e, &["text"])).map(|t| to_text(&t));
        match attribute(&e, &["xmlurl", "url"]) {
            Some(url) => {
                let parents = folders.iter().flatten().cloned().collect();
                let categories = attribute(&e, &["category"])
                    .map(|c| {
                        c.split(',')
                            .map(|t| t.trim().trim_start_matches('/').to_string())
                            .filter(|t| !t.is_empty())
                            .collect()
                    })
                    .unwrap_or_default();
                found.push(Outline { title: title.unwrap_or_default(), url, folders: parents, categories });
                if opens {
                    folders.push(None);
                }
            }
            None if opens => folders.push(title),
            None => {}
        }
    }
    if found.is_empty() {
        return Err(OpmlError::NoFeeds);
    }
    Ok(found)
}

/// A configuration name from an outline: its title (or the URL's host) in lower case,
/// runs of other characters as `-`.
pub fn name_for(outline: &Outline) -> String {
    let source = if outline.title.is_empty() {
        Url::parse(&outline.url).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_else(|| "feed".into())
    } else {
        outline.title.clone()
    };
    let mut name = String::new();
    for c in source.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            name.push(c);
        } else if !name.ends_with('-') {
            name.push('-');
        }
    }
    let name: String = name.trim_matches('-').chars().take(48).collect();
    if name.is_empty() {
        "feed".into()
    } else {
        name.trim_end_matches('-').to_string()
    }
}

/// What importing an OPML file into a configuration would do.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportPlan {
    /// Feeds to add.
    pub add: Vec<NewFeed>,
    /// Outlines left out, with why.
    pub skipped: Vec<(String, String)>,
}

/// Plans an import: feeds whose URL is already configured (or repeated in the file) and
/// invalid URLs are skipped; names are made unique against the configuration.
pub fn plan_import(existing: &[FeedSpec], outlines: Vec<Outline>) -> ImportPlan {
    let mut plan = ImportPlan::default();
    let mut names: Vec<String> = existing.iter().map(|f| f.name.clone()).collect();
    let mut urls: Vec<(Url, String)> = existing.iter().map(|f| (f.url.clone(), f.name.clone())).collect();
    for outline in outlines {
        let url = match Url::parse(&outline.url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => u,
            _ => {
                plan.skipped.push((outline.url.clone(), "not an http(s) URL".into()));
                continue;
            }
        };
        if let Some((_, name)) = urls.iter().find(|(u, _)| *u == url) {
            plan.skipped.push((outline.url.clone(), format!("already configured as `{name}`")));
            continue;
        }
        let base = name_for(&outline);
        let name =
            (1..).map(|i| if i == 1 { base.clone() } else { format!("{base}-{i}") }).find(|n| !names.contains(n));
        let name = name.expect("some suffix is free");
        names.push(name.clone());
        urls.push((url.clone(), name.clone()));
        let mut tags = outline.folders;
        for c in outline.categories {
            if !tags.contains(&c) {
                tags.push(c);
            }
        }
        let title = Some(outline.title).filter(|t| !t.is_empty());
        plan.add.push(NewFeed { name, url: url.into(), tags, schedule: None, title });
    }
    plan
}

/// The configured feeds as an OPML 2.0 document, as readers lay them out: feeds without
/// tags at the top level, then one folder per first tag (in the order first seen); each
/// outline named by the feed's own title (from `stored`, by configured name), else its
/// configured `title`, else its name, with its home page (`htmlUrl`) where a poll read
/// one, and its other tags in `category`. `read` takes folders and categories back as
/// tags, titles as titles.
pub fn write(title: &str, feeds: &[FeedSpec], stored: &HashMap<String, FeedStatus>) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">\n  <head>\n");
    out.push_str(&format!("    <title>{}</title>\n", xml_escape(title)));
    out.push_str(&format!("    <dateCreated>{}</dateCreated>\n  </head>\n  <body>\n", chrono::Utc::now().to_rfc2822()));
    let outline = |f: &FeedSpec, indent: &str| {
        let known = stored.get(&f.name);
        let text = known
            .and_then(|k| k.title.as_deref())
            .or(f.title.as_deref())
            .filter(|t| !t.trim().is_empty())
            .unwrap_or(&f.name);
        let rest = f.tags.get(1..).unwrap_or_default();
        let category =
            if rest.is_empty() { String::new() } else { format!(" category=\"{}\"", xml_escape(&rest.join(","))) };
        let home = known
            .and_then(|k| k.site_link.as_deref())
            .map_or(String::new(), |h| format!(" htmlUrl=\"{}\"", xml_escape(h)));
        format!(
            "{indent}<outline type=\"rss\" text=\"{0}\" title=\"{0}\" xmlUrl=\"{1}\"{home}{category}/>\n",
            xml_escape(text),
            xml_escape(f.url.as_str())
        )
    };
    for f in feeds.iter().filter(|f| f.tags.is_empty()) {
        out.push_str(&outline(f, "    "));
    }
    let mut folders: Vec<&str> = Vec::new();
    for tag in feeds.iter().filter_map(|f| f.tags.first()) {
        if !folders.contains(&tag.as_str()) {
            folders.push(tag);
        }
    }
    for folder in folders {
        out.push_str(&format!("    <outline text=\"{0}\" title=\"{0}\">\n", xml_escape(folder)));
        for f in feeds.iter().filter(|f| f.tags.first().map(String::as_str) == Some(folder)) {
            out.push_str(&outline(f, "      "));
        }
        out.push_str("    </outline>\n");
    }
    out.push_str("  </body>\n</opml>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sloppy_files_are_read() {
        // No head, no type, upper-case names, a folder, an HTML entity, a stray end tag.
        let text = r#"<opml><body>
            <OUTLINE text="News">
              <outline XMLURL="http://a.example/rss" text="A&nbsp;Paper"/>
              <outline xmlUrl="http://b.example/feed" title="B &amp; Co" text="ignored"></outline>
            </OUTLINE>
            <outline xmlUrl="http://c.example/atom.xml"/>
            </div>
            <outline text="empty folder"/>
          </body></opml>"#;
        let found = read(text).unwrap();
        let urls: Vec<&str> = found.iter().map(|o| o.url.as_str()).collect();
        assert_eq!(urls, ["http://a.example/rss", "http://b.example/feed", "http://c.example/atom.xml"]);
        assert_eq!(found[0].folders, ["News"]);
        assert_eq!(found[0].title, "A Paper");
        assert_eq!(found[1].title, "B & Co");
        assert!(found[2].folders.is_empty());
        assert_eq!(name_for(&found[1]), "b-co");
        assert_eq!(name_for(&found[2]), "c-example");
        assert_eq!(read("<opml><body></body></opml>"), Err(OpmlError::NoFeeds));
    }

    #[test]
    fn twice_escaped_titles_read_as_text_and_are_kept() {
        let found = read(r#"<opml><body><outline xmlUrl="http://b.example/f" title="B &amp;amp; Co"/></body></opml>"#);
        let found = found.unwrap();
        assert_eq!(found[0].title, "B & Co");
        let plan = plan_import(&[], found);
        assert_eq!(plan.add[0].name, "b-co");
        assert_eq!(plan.add[0].title.as_deref(), Some("B & Co"), "the title goes into the configuration");
    }

    #[test]
    fn imports_skip_known_urls_and_make_names_unique() {
        let existing = vec![FeedSpec::new("a-paper", Url::parse("http://a.example/rss").unwrap())];
        let outline = |title: &str, url: &str| Outline {
            title: title.into(),
            url: url.into(),
            folders: vec![],
            categories: vec![],
        };
        let plan = plan_import(
            &existing,
            vec![
                outline("A Paper", "http://a.example/rss"),
                outline("A Paper", "http://a.example/other"),
                outline("x", "ftp://x"),
                outline("A Paper", "http://a.example/other"),
            ],
        );
        assert_eq!(plan.add.len(), 1);
        assert_eq!(plan.add[0].name, "a-paper-2");
        let reasons: Vec<&str> = plan.skipped.iter().map(|(_, r)| r.as_str()).collect();
        assert_eq!(
            reasons,
            ["already configured as `a-paper`", "not an http(s) URL", "already configured as `a-paper-2`"]
        );
    }

    #[test]
    fn written_opml_reads_back_with_folders_titles_and_tags() {
        let spec = |name: &str, url: &str, tags: &[&str]| FeedSpec {
            tags: tags.iter().map(|t| t.to_string()).collect(),
            ..FeedSpec::new(name, Url::parse(url).unwrap())
        };
        let feeds = vec![
            spec("p0000", "http://x.example/f?a=1&b=2", &["world", "daily"]),
            spec("p0001", "http://y.example/f", &[]),
            spec("p0002", "http://z.example/f", &["world"]),
        ];
        let seen = FeedStatus {
            title: Some("X & Y News".into()),
            site_link: Some("http://x.example/".into()),
            ..FeedStatus::default()
        };
        let titles = HashMap::from([("p0000".to_string(), seen)]);
        let text = write("Mine", &feeds, &titles);
        assert!(text.contains("htmlUrl=\"http://x.example/\""), "{text}");
        assert!(text.contains("<outline text=\"world\" title=\"world\">"), "{text}");
        let back = read(&text).unwrap();
        let summary: Vec<(&str, &str, Vec<String>)> = back
            .iter()
            .map(|o| {
                let mut tags = o.folders.clone();
                tags.extend(o.categories.iter().cloned());
                (o.url.as_str(), o.title.as_str(), tags)
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("http://y.example/f", "p0001", vec![]),
                ("http://x.example/f?a=1&b=2", "X & Y News", vec!["world".to_string(), "daily".to_string()]),
                ("http://z.example/f", "p0002", vec!["world".to_string()]),
            ],
            "untagged at the top, one folder per first tag, the own title as text, the other tags kept"
        );
    }
}
