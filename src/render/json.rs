//! JSON Feed 1.1.

use serde_json::{json, Value};

use super::{entry_html, rfc3339, series_label, FeedMeta, Format};
use crate::model::Item;

/// The items as a JSON Feed 1.1 document.
pub fn json(meta: &FeedMeta, items: &[Item]) -> String {
    let entries: Vec<Value> = items.iter().map(|i| item(i, &meta.base_url)).collect();
    let doc = json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": meta.title,
        "home_page_url": meta.base_url.as_str(),
        "feed_url": meta.self_url(Format::Json),
        "items": entries,
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

/// Where the `_storyline` extension is described (JSON Feed asks extensions for one).
const EXTENSION_ABOUT: &str = concat!(env!("CARGO_PKG_REPOSITORY"), "#json-feed-extension");

fn item(item: &Item, base: &url::Url) -> Value {
    let mut v = json!({
        "id": item.uid,
        "title": item.title,
        "date_published": rfc3339(item.published),
        "authors": [{ "name": item.byline() }],
        "_storyline": {
            "about": EXTENSION_ABOUT,
            "series": { "id": item.series, "title": item.series_title, "items": item.series_count },
            "related": item.related,
            "source": item.source,
            "also": item.also,
        },
    });
    // A body when there is one (the item's own, the story, the other sources), else the
    // text a reader can show: the summary, else the title.
    let body = entry_html(item, base);
    if body.trim().is_empty() {
        v["content_text"] = json!(if item.summary.is_empty() { &item.title } else { &item.summary });
    } else {
        v["content_html"] = json!(body);
    }
    let mut tags: Vec<String> = item.tags.iter().chain(&item.categories).cloned().collect();
    if series_label(item).is_some() {
        tags.push(format!("series:{}", item.series));
    }
    if !tags.is_empty() {
        v["tags"] = json!(tags);
    }
    if let Some(link) = &item.link {
        v["url"] = json!(link);
    }
    if !item.summary.is_empty() {
        v["summary"] = json!(item.summary);
    }
    if let Some(updated) = item.updated {
        v["date_modified"] = json!(rfc3339(updated));
    }
    let media = &item.media;
    if let Some(image) = &media.image {
        v["image"] = json!(image.url);
    }
    if !media.enclosures.is_empty() {
        let attachments: Vec<Value> = media
            .enclosures
            .iter()
            .map(|e| {
                let mut a = json!({ "url": e.url, "mime_type": e.mime_type_or_guess() });
                if let Some(title) = &e.title {
                    a["title"] = json!(title);
                }
                if let Some(length) = e.length {
                    a["size_in_bytes"] = json!(length);
                }
                if let Some(secs) = e.duration_secs {
                    a["duration_in_seconds"] = json!(secs);
                }
                a
            })
            .collect();
        v["attachments"] = json!(attachments);
    }
    // JSON Feed has no member for it.
    if let Some(comments) = &media.comments {
        v["_storyline"]["comments"] = json!(comments);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::super::tests::sample;
    use super::*;

    #[test]
    fn json_feed_round_trips_through_feed_rs() {
        let (meta, items) = sample();
        let text = json(&meta, &items);
        let feed = feed_rs::parser::parse(text.as_bytes()).unwrap();
        assert_eq!(feed.entries.len(), 1);
        assert_eq!(feed.entries[0].id, "urn:storyline:item:abc");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["version"], "https://jsonfeed.org/version/1.1");
        assert_eq!(v["items"][0]["_storyline"]["also"][0]["feed"], "paper");
        assert!(v["items"][0]["_storyline"]["about"].as_str().unwrap().starts_with("http"));
        assert_eq!(v["items"][0]["tags"][2], "series:1");
        assert!(v["items"][0]["content_html"].is_string() && v["items"][0].get("content_text").is_none());
    }

    #[test]
    fn an_item_without_a_body_carries_text_not_empty_html() {
        let (meta, mut items) = sample();
        let item = &mut items[0];
        (item.content_html, item.also, item.related, item.series_count) = (String::new(), vec![], vec![], 1);
        let v: Value = serde_json::from_str(&json(&meta, &items)).unwrap();
        assert!(v["items"][0].get("content_html").is_none(), "{v}");
        assert_eq!(v["items"][0]["content_text"], "Summary");
        let tags = v["items"][0]["tags"].as_array().unwrap();
        assert!(!tags.iter().any(|t| t.as_str().unwrap().starts_with("series:")), "a series of one item is no tag");
        items[0].summary.clear();
        let v: Value = serde_json::from_str(&json(&meta, &items)).unwrap();
        assert_eq!(v["items"][0]["content_text"], items[0].title.as_str());
    }
}
