//! Entries from documents feed-rs cannot read, or reads only in part: the tolerant tree
//! of `tolerant` searched for an RSS (0.90 to 2.0, any namespace), RDF or Atom (0.3 or
//! 1.0) root wherever it sits, and each entry's fields taken from every element that
//! carries them (`dc:title`, `media:title`, a permalink guid, an enclosure, `dc:date`,
//! `dcterms:issued`, `category` and `dc:subject` ...), handed to the one entry builder
//! (`entry`). Pure; fails on no input, only past its deadline.

use std::time::Instant;

use url::Url;

use super::entry::{self, Facts, Kind, Markup};
use super::normalize::{absolute_url, rss_author, DroppedLinks};
use super::tolerant::Element;
use super::{dates, html, ParseError};
use crate::dedupe::canonical_url;
use crate::model::{Enclosure, Image, ParsedFeed};

/// A feed found in a tolerant tree: its format name, title, home page and entries.
pub struct Found<'a> {
    /// e.g. `RSS 2.0`, `Atom 0.3`.
    pub format: String,
    root: &'a Element,
    items: Vec<(&'a Element, Option<String>)>,
}

/// Finds the first feed root in `tree` (depth-first, so wrappers are looked through).
pub fn find(tree: &Element) -> Option<Found<'_>> {
    let root = first(tree, &|e| matches!(e.local().as_str(), "rss" | "rdf" | "feed"))?;
    let kind = root.local();
    let format = match kind.as_str() {
        "rss" => root.attr("version").map_or("RSS".to_string(), |v| format!("RSS {}", v.trim())),
        "rdf" if root.attrs.iter().any(|(_, v)| v.contains("netscape.com/rdf/simple/0.9")) => "RSS 0.90".into(),
        "rdf" => "RSS 1.0".into(),
        _ if root.attr("version").is_some_and(|v| v.trim() == "0.3") || has_ns(root, "purl.org/atom/ns") => {
            "Atom 0.3".into()
        }
        _ => "Atom".into(),
    };
    let wanted = if kind == "feed" { "entry" } else { "item" };
    let mut items = Vec::new();
    collect(root, wanted, root.attr("xml:base").map(str::to_string), &mut items);
    Some(Found { format, root, items })
}

fn has_ns(e: &Element, ns: &str) -> bool {
    e.attrs.iter().any(|(k, v)| k.starts_with("xmlns") && v.contains(ns))
}

fn first<'a>(e: &'a Element, pred: &dyn Fn(&Element) -> bool) -> Option<&'a Element> {
    if !e.name.is_empty() && pred(e) {
        return Some(e);
    }
    e.elements().find_map(|c| first(c, pred))
}

/// Entries at any depth, each with the xml:base in force (joined from the outside in).
fn collect<'a>(e: &'a Element, wanted: &str, base: Option<String>, out: &mut Vec<(&'a Element, Option<String>)>) {
    for c in e.elements() {
        let base = match (c.attr("xml:base"), &base) {
            (Some(b), Some(outer)) => {
                Url::parse(outer).and_then(|u| u.join(b)).map(String::from).ok().or(Some(b.into()))
            }
            (Some(b), None) => Some(b.to_string()),
            (None, outer) => outer.clone(),
        };
        if c.local() == wanted {
            out.push((c, base));
        } else {
            collect(c, wanted, base, out);
        }
    }
}

impl Found<'_> {
    /// How many entries the document holds.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Normalized as feed-rs results are: plain titles, absolute links, sanitized HTML.
    pub fn feed(&self, final_url: &Url, charset: String, deadline: Instant) -> Result<ParsedFeed, ParseError> {
        let channel = first(self.root, &|e| e.local() == "channel").unwrap_or(self.root);
        let mut dropped = DroppedLinks::default();
        let site_link =
            link_of(channel).and_then(|l| dropped.web(absolute_url(&l, self.root.attr("xml:base"), final_url), None));
        let base = site_link.clone().unwrap_or_else(|| final_url.clone());
        let sanitizer = html::sanitizer(&base);
        let total = self.items.len();
        let mut entries = Vec::with_capacity(total);
        for (i, (e, xml_base)) in self.items.iter().enumerate() {
            if Instant::now() > deadline {
                return Err(ParseError::TooSlow { read: i, total });
            }
            entries.push(entry::build(facts(e, xml_base.as_deref()), &base, &sanitizer, &mut dropped, i));
        }
        Ok(ParsedFeed {
            format: self.format.clone(),
            charset,
            title: child(channel, &["title"]).map(|t| html::to_text(&t.text())).filter(|t| !t.is_empty()),
            site_link: site_link.map(Into::into),
            entries,
            min_interval: None,
            warnings: dropped.warning().into_iter().collect(),
        })
    }

    /// The raw date strings of entry `i` (published, updated), for dates feed-rs missed.
    pub fn dates(&self, i: usize) -> (Option<String>, Option<String>) {
        let Some((e, _)) = self.items.get(i) else { return (None, None) };
        (published_raw(e), updated_raw(e))
    }

    /// Entry `i`'s title, link (with its canonical form) and dates, to fill fields feed-rs
    /// left empty (its body is not read: sanitizing it would be wasted).
    pub fn gaps(&self, i: usize, base: &Url) -> Option<Gaps> {
        let (e, b) = self.items.get(i)?;
        let facts = facts(e, b.as_deref());
        let (link, canonical_link) = entry::link(&facts, base, &mut DroppedLinks::default(), i);
        let published = facts.published.or(facts.updated);
        Some(Gaps { title: html::to_text(&facts.title), link, canonical_link, published, updated: facts.updated })
    }
}

/// The fields of an entry that feed-rs may leave empty and the tolerant reader can fill.
pub struct Gaps {
    pub title: String,
    pub link: Option<String>,
    pub canonical_link: Option<String>,
    pub published: Option<chrono::DateTime<chrono::Utc>>,
    pub updated: Option<chrono::DateTime<chrono::Utc>>,
}

/// The first direct child with one of these local names (in order of preference), an
/// unprefixed one before a prefixed one (`title` before `dc:title`).
fn child<'a>(e: &'a Element, names: &[&str]) -> Option<&'a Element> {
    names.iter().find_map(|n| {
        let mut matching = e.elements().filter(|c| c.local() == *n && !c.text().trim().is_empty());
        let all: Vec<&Element> = matching.by_ref().collect();
        all.iter().find(|c| !c.name.contains(':')).or_else(|| all.first()).copied()
    })
}

fn link_of(e: &Element) -> Option<String> {
    let links: Vec<&Element> = e.elements().filter(|c| c.local() == "link" && !c.name.contains(':')).collect();
    let href = |l: &&Element| l.attr("href").map(str::to_string);
    links
        .iter()
        .filter(|l| matches!(l.attr("rel"), None | Some("alternate")))
        .find_map(|l| href(l).or_else(|| Some(l.text().trim().to_string()).filter(|t| !t.is_empty())))
        .or_else(|| links.iter().find_map(href))
}

fn published_raw(e: &Element) -> Option<String> {
    child(e, &["pubdate", "published", "issued", "date", "created"]).map(|d| d.text())
}

fn updated_raw(e: &Element) -> Option<String> {
    child(e, &["updated", "modified"]).map(|d| d.text())
}

/// The facts of a tolerant-tree entry, from every element that carries each of them.
fn facts(e: &Element, xml_base: Option<&str>) -> Facts {
    let guid = child(e, &["guid", "id"]).map(|g| g.text().trim().to_string()).filter(|g| !g.is_empty());
    let permalink = child(e, &["guid"])
        .filter(|g| g.attr("ispermalink") != Some("false"))
        .map(|g| g.text().trim().to_string())
        .filter(|p| canonical_url(p).is_some());
    let enclosure = e
        .elements()
        .filter(|c| matches!(c.local().as_str(), "enclosure" | "content") && c.attr("url").is_some())
        .find_map(|c| c.attr("url").map(str::to_string));
    let guid_link = guid.clone().filter(|g| canonical_url(g).is_some());
    // Atom may carry XHTML as child elements; everything else is (escaped) text.
    let markup = |b: &Element| {
        let text = if b.elements().next().is_some() { b.inner_markup() } else { b.text() };
        let plain = b.attr("type").is_some_and(|t| t == "text" || t == "plain");
        Markup { text, kind: if plain { Kind::Text } else { Kind::Guess } }
    };
    let authors = e
        .elements()
        .filter(|c| matches!(c.local().as_str(), "creator" | "author") && !c.text().trim().is_empty())
        .map(|a| match child(a, &["name"]) {
            Some(name) => html::to_text(&name.text()),
            // RSS's `<author>` is `email (Name)`.
            None => rss_author(&html::to_text(&a.text())),
        })
        .collect();
    let categories = e
        .elements()
        .filter(|c| matches!(c.local().as_str(), "category" | "subject"))
        .filter_map(|c| {
            let text = c.text();
            c.attr("label").or(c.attr("term")).map(str::to_string).or(Some(text).filter(|t| !t.trim().is_empty()))
        })
        .collect();
    let updated = updated_raw(e).as_deref().and_then(dates::parse);
    let (enclosures, images) = media(e);
    let comments = child(e, &["comments"]).map(|c| c.text().trim().to_string()).or_else(|| {
        e.elements()
            .find(|l| l.local() == "link" && l.attr("rel") == Some("replies"))
            .and_then(|l| l.attr("href").map(str::to_string))
    });
    Facts {
        enclosures,
        images,
        comments,
        links: [link_of(e), permalink, guid_link, enclosure].into_iter().flatten().collect(),
        guid,
        xml_base: xml_base.map(str::to_string),
        title: child(e, &["title"]).map(|t| t.text()).unwrap_or_default(),
        content: child(e, &["encoded", "content"]).map(markup),
        summary: child(e, &["description", "summary"]).map(markup),
        authors,
        categories,
        published: published_raw(e).as_deref().and_then(dates::parse).or(updated),
        updated,
    }
}

/// Enclosures and image candidates of a tolerant-tree entry: RSS `enclosure`, Media RSS
/// `content` and `thumbnail` (also inside `media:group`), iTunes `image`, Atom enclosure
/// links; thumbnails first, then the entry's own image, then image content.
fn media(e: &Element) -> (Vec<Enclosure>, Vec<Image>) {
    let number = |el: &Element, name: &str| el.attr(name).and_then(|v| v.trim().parse::<u64>().ok());
    let size = |el: &Element, name: &str| number(el, name).and_then(|v| u32::try_from(v).ok());
    let duration = child(e, &["duration"]).and_then(|d| clock_seconds(&d.text()));
    let mut enclosures = Vec::new();
    let (mut thumbnails, mut own, mut content_images) = (Vec::new(), Vec::new(), Vec::new());
    let groups = e.elements().filter(|c| c.local() == "group");
    for el in e.elements().chain(groups.flat_map(|g| g.elements())) {
        let image = |url: &str| Image { url: url.to_string(), width: size(el, "width"), height: size(el, "height") };
        match el.local().as_str() {
            "enclosure" | "content" if el.attr("url").is_some() => {
                let enclosure = Enclosure {
                    url: el.attr("url").unwrap_or_default().to_string(),
                    mime_type: el.attr("type").map(str::to_string),
                    length: number(el, "length").or_else(|| number(el, "filesize")),
                    duration_secs: number(el, "duration").or(duration),
                    title: None,
                };
                if el.attr("medium") == Some("image") || enclosure.mime_type_or_guess().starts_with("image/") {
                    content_images.push(image(&enclosure.url));
                }
                enclosures.push(enclosure);
            }
            "thumbnail" => thumbnails.extend(el.attr("url").map(image)),
            "image" => own.extend(el.attr("href").or(el.attr("url")).map(image)),
            "link" if el.attr("rel") == Some("enclosure") => enclosures.extend(el.attr("href").map(|href| Enclosure {
                url: href.to_string(),
                mime_type: el.attr("type").map(str::to_string),
                length: number(el, "length"),
                duration_secs: duration,
                title: el.attr("title").map(str::to_string),
            })),
            _ => {}
        }
    }
    thumbnails.extend(own);
    thumbnails.extend(content_images);
    (enclosures, thumbnails)
}

/// `itunes:duration` as seconds: `SS`, `MM:SS` or `HH:MM:SS`.
fn clock_seconds(text: &str) -> Option<u64> {
    let mut total = 0u64;
    let parts: Vec<&str> = text.trim().split(':').collect();
    if parts.len() > 3 {
        return None;
    }
    for part in parts {
        total = total.checked_mul(60)?.checked_add(part.trim().parse::<u64>().ok()?)?;
    }
    Some(total)
}
