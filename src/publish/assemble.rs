//! What goes into a merged feed or a series' feed: its newest items, its title, path and
//! updated time, read from the store and rendered. The one assembly behind the CLI's
//! `render` and the HTTP feed routes.
//!
//! Reads through the store's queries; no SQL, HTTP or caching here.

use chrono::{DateTime, Utc};

use crate::config::ServerSettings;
use crate::render::{self, FeedMeta, Format};
use crate::store::{Store, StoreError};

/// Which feed.
#[derive(Debug, Clone, Copy)]
pub enum Which<'a> {
    /// Every feed's items.
    Merged,
    /// One series' items (by its id).
    Series(&'a str),
    /// The items of the feeds carrying a tag.
    Tag(&'a str),
}

/// The feed `which` in `format`, with at most `limit` items, under `settings`' title and
/// base URL; updated at its newest item's time, or `empty_updated` when it has none.
/// `None` when the series does not exist, or no configured feed carries the tag.
pub fn feed(
    store: &Store,
    settings: &ServerSettings,
    which: Which<'_>,
    format: Format,
    limit: usize,
    empty_updated: DateTime<Utc>,
) -> Result<Option<String>, StoreError> {
    let (items, title, path) = match which {
        Which::Merged => (store.newest_items(limit)?, settings.title.clone(), "feed".to_string()),
        Which::Series(id) => {
            let Some(series) = store.series(id)? else { return Ok(None) };
            let title = format!("{} ({}): {}", series.title, series.items, settings.title);
            (store.series_items(id, limit)?, title, format!("series/{id}"))
        }
        Which::Tag(tag) => {
            if !store.tag_exists(tag)? {
                return Ok(None);
            }
            (store.tag_items(tag, limit)?, format!("{tag}: {}", settings.title), format!("tags/{tag}"))
        }
    };
    let updated = items.iter().map(|i| i.first_seen.max(i.published)).max().unwrap_or(empty_updated);
    let meta = FeedMeta { title, base_url: settings.base_url.clone(), path, updated };
    Ok(Some(render::render(format, &meta, &items)))
}
