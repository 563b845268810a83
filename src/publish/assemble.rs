//! What goes into a published feed (the merged one, a series', a tag's, one source's:
//! [`FeedScope`]):
//! its newest items, its title, path and updated time, read from the store and rendered. The one assembly behind the CLI's
//! `render` and the HTTP feed routes.
//!
//! Reads through the store's queries; no SQL, HTTP or caching here.

use chrono::{DateTime, Utc};

use crate::config::ServerSettings;
use crate::render::{self, FeedMeta, Format};
use crate::store::{Store, StoreError};
use crate::text::path_segment;

/// Which items a published feed shows: the one name for a feed's scope, from the route
/// (or `render --series`) to the store's query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedScope {
    /// Every feed's items.
    Merged,
    /// One series' items (by its id).
    Series(String),
    /// The items of the feeds carrying a tag.
    Tag(String),
    /// The items one configured feed carried (by its name), copies included.
    Source(String),
}

impl FeedScope {
    /// Where the feed lives under the base URL, without its extension: `feed`,
    /// `series/ID`, `tags/TAG` (its self link's path and its cache key).
    pub fn path(&self) -> String {
        match self {
            FeedScope::Merged => "feed".to_string(),
            FeedScope::Series(id) => format!("series/{id}"),
            FeedScope::Tag(tag) => format!("tags/{}", path_segment(tag)),
            FeedScope::Source(name) => format!("sources/{}", path_segment(name)),
        }
    }

    /// What a request for it says when there is no such feed.
    pub fn missing(&self) -> &'static str {
        match self {
            FeedScope::Merged => "feed unavailable",
            FeedScope::Series(_) => "no such series",
            FeedScope::Tag(_) => "no configured feed carries this tag",
            FeedScope::Source(_) => "no configured feed has this name",
        }
    }
}

/// The feed of `scope` in `format`, with at most `limit` items, under `settings`' title and
/// base URL; updated at its newest item's time, or `empty_updated` when it has none.
/// `None` when the series does not exist, no configured feed carries the tag, or none
/// has the source's name.
pub fn feed(
    store: &Store,
    settings: &ServerSettings,
    scope: &FeedScope,
    format: Format,
    limit: usize,
    empty_updated: DateTime<Utc>,
) -> Result<Option<String>, StoreError> {
    let (items, title) = match scope {
        FeedScope::Merged => (store.newest_items(limit)?, settings.title.clone()),
        FeedScope::Series(id) => {
            let Some(series) = store.series(id)? else { return Ok(None) };
            (store.series_items(id, limit)?, format!("{} ({}): {}", series.title, series.items, settings.title))
        }
        FeedScope::Tag(tag) => {
            if !store.tag_exists(tag)? {
                return Ok(None);
            }
            (store.tag_items(tag, limit)?, format!("{tag}: {}", settings.title))
        }
        FeedScope::Source(name) => {
            let Some(title) = store.source_title(name)? else { return Ok(None) };
            (store.source_items(name, limit)?, format!("{title} (as stored by {})", settings.title))
        }
    };
    let updated = items.iter().map(|i| i.first_seen.max(i.published)).max().unwrap_or(empty_updated);
    let meta = FeedMeta { title, base_url: settings.base_url.clone(), path: scope.path(), updated };
    Ok(Some(render::render(format, &meta, &items)))
}
