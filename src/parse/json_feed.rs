//! JSON Feed (1.0 and 1.1) read with serde into entry facts for the one entry builder
//! (`entry`). feed-rs reads JSON Feed too, but drops an item's `image`, `banner_image`
//! and attachment durations, turns attachments into links that can be taken for the
//! article's own, and rejects a whole document over one attachment without a
//! `mime_type`. Pure; no I/O.

use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use url::Url;

use super::entry::{self, Facts, Kind, Markup};
use super::normalize::{absolute_url, DroppedLinks};
use super::{bounds, dates, html, ParseError};
use crate::model::{Enclosure, Image, ParsedFeed};

/// The version URLs a JSON Feed declares, without the version number.
const VERSION_PREFIX: &str = "https://jsonfeed.org/version/1";

#[derive(Debug, Deserialize)]
struct Document {
    version: String,
    title: String,
    home_page_url: Option<String>,
    author: Option<Author>,
    authors: Option<Vec<Author>>,
    items: Vec<Item>,
}

#[derive(Debug, Deserialize)]
struct Author {
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Item {
    id: Option<serde_json::Value>,
    url: Option<String>,
    external_url: Option<String>,
    title: Option<String>,
    content_html: Option<String>,
    content_text: Option<String>,
    summary: Option<String>,
    image: Option<String>,
    banner_image: Option<String>,
    date_published: Option<String>,
    date_modified: Option<String>,
    author: Option<Author>,
    authors: Option<Vec<Author>>,
    tags: Option<Vec<String>>,
    attachments: Option<Vec<Attachment>>,
}

#[derive(Debug, Deserialize)]
struct Attachment {
    url: String,
    mime_type: Option<String>,
    title: Option<String>,
    size_in_bytes: Option<f64>,
    duration_in_seconds: Option<f64>,
}

/// An item with its published and modified dates, read once.
type Dated = (Item, Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// Reads a JSON Feed document received from `final_url`, giving up past `deadline`;
/// returns the feed and how many items the document held.
pub fn read(
    text: &str,
    final_url: &Url,
    charset: String,
    deadline: Instant,
    now: DateTime<Utc>,
) -> Result<(ParsedFeed, usize), ParseError> {
    let doc: Document = serde_json::from_str(text)
        .map_err(|e| ParseError::Malformed { format: "JSON", message: super::json_error(&e) })?;
    if !doc.version.starts_with(VERSION_PREFIX) {
        return Err(ParseError::Malformed { format: "JSON Feed", message: "unsupported version".into() });
    }
    let mut dropped = DroppedLinks::default();
    let site_link = doc.home_page_url.as_deref().and_then(|l| dropped.web(absolute_url(l, None, final_url), None));
    let base = site_link.clone().unwrap_or_else(|| final_url.clone());
    let sanitizer = html::sanitizer(&base);
    // Items without an author inherit the feed's (the spec says so).
    let feed_authors = names(doc.author.as_ref(), doc.authors.as_deref());
    let total = doc.items.len();
    let mut items: Vec<Dated> = doc
        .items
        .into_iter()
        .map(|i| {
            let published = i.date_published.as_deref().and_then(dates::parse);
            let updated = i.date_modified.as_deref().and_then(dates::parse);
            (i, published, updated)
        })
        .collect();
    // Only the entries kept are built.
    let date = |(_, p, u): &(Item, Option<DateTime<Utc>>, Option<DateTime<Utc>>)| {
        p.or(*u).filter(|t| bounds::plausible(*t, now))
    };
    bounds::keep_newest(&mut items, bounds::MAX_ENTRIES, date);
    let mut entries = Vec::with_capacity(items.len());
    for (i, (item, published, updated)) in items.into_iter().enumerate() {
        if Instant::now() > deadline {
            return Err(ParseError::TooSlow { read: i, total });
        }
        let facts = facts(item, published, updated, &feed_authors);
        entries.push(entry::build(facts, &base, &sanitizer, &mut dropped, i));
    }
    let feed = ParsedFeed {
        format: "JSON Feed".into(),
        charset,
        title: Some(html::to_text(&doc.title)).filter(|t| !t.is_empty()),
        site_link: site_link.map(Into::into),
        entries,
        min_interval: None,
        warnings: dropped.warning().into_iter().collect(),
    };
    Ok((feed, total))
}

fn names(author: Option<&Author>, authors: Option<&[Author]>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for name in author.into_iter().chain(authors.unwrap_or_default()).filter_map(|a| a.name.clone()) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

fn facts(
    item: Item,
    published: Option<DateTime<Utc>>,
    updated: Option<DateTime<Utc>>,
    feed_authors: &[String],
) -> Facts {
    let authors = names(item.author.as_ref(), item.authors.as_deref());
    // HTML is allowed only in `content_html`; `content_text` is the body when there is no
    // HTML, else the summary when none is given.
    let html = item.content_html.map(|text| Markup { text, kind: Kind::Html });
    let plain = item.content_text.map(|text| Markup { text, kind: Kind::Text });
    let given_summary = item.summary.map(|text| Markup { text, kind: Kind::Text });
    let (content, summary) = match (html, plain) {
        (Some(html), plain) => (Some(html), given_summary.or(plain)),
        (None, plain) => (plain, given_summary),
    };
    let whole = |n: Option<f64>| n.filter(|n| n.is_finite() && *n >= 0.0).map(|n| n.round() as u64);
    let enclosures = item
        .attachments
        .unwrap_or_default()
        .into_iter()
        .map(|a| Enclosure {
            url: a.url,
            mime_type: a.mime_type,
            length: whole(a.size_in_bytes),
            duration_secs: whole(a.duration_in_seconds),
            title: a.title,
        })
        .collect();
    let image = |url: String| Image { url, width: None, height: None };
    // An id may be a number in feeds written before 1.1 made it a string.
    let guid = match item.id {
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    Facts {
        guid: guid.map(|g| g.trim().to_string()).filter(|g| !g.is_empty()),
        links: [item.url, item.external_url].into_iter().flatten().collect(),
        xml_base: None,
        title: item.title.unwrap_or_default(),
        content,
        summary,
        authors: if authors.is_empty() { feed_authors.to_vec() } else { authors },
        categories: item.tags.unwrap_or_default(),
        published: published.or(updated),
        updated,
        enclosures,
        images: [item.image, item.banner_image].into_iter().flatten().map(image).collect(),
        comments: None,
    }
}
