//! JSON Feed 1.1.

use serde_json::{json, Value};

use super::{entry_html, rfc3339, FeedMeta, Format};
use crate::model::Item;

/// The items as a JSON Feed 1.1 document.
pub fn json(meta: &FeedMeta, items: &[Item]) -> String {
    let entries: Vec<Value> = items.iter().map(item).collect();
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

fn item(item: &Item) -> Value {
    let mut v = json!({
        "id": item.uid,
        "title": item.title,
        "content_html": entry_html(item),
        "date_published": rfc3339(item.published),
        "_storyline": {
            "series": { "id": item.series, "title": item.series_title, "items": item.series_count },
            "related": item.related,
            "source": item.source,
            "also": item.also,
        },
    });
    if let Some(link) = &item.link {
        v["url"] = json!(link);
    }
    if !item.summary.is_empty() {
        v["summary"] = json!(item.summary);
    }
    if let Some(updated) = item.updated {
        v["date_modified"] = json!(rfc3339(updated));
    }
    if let Some(author) = &item.author {
        v["authors"] = json!([{ "name": author }]);
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
    }
}
