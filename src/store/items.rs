//! The items table: storing a poll's entries once, finding cross-feed duplicates, reading
//! items back for export and rendering.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::feeds::FeedRef;
use super::{rfc3339, secs, time, Store, StoreError};
use crate::dedupe;
use crate::model::{web_link, Entry, Item, ItemRecord, ParsedFeed, PollCounts, Related, Source, DOCUMENT_TEXT_BYTES};
use crate::series::shown::ranked;

impl Store {
    /// Every item ever received, duplicates included, oldest first.
    pub fn export_items(&self, mut each: impl FnMut(ItemRecord) -> std::io::Result<()>) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare(&format!("{RECORD_SELECT} ORDER BY i.id"))?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            if each(record(row)?).is_err() {
                // The reader went away (a closed pipe): stop quietly.
                break;
            }
        }
        Ok(())
    }

    /// The newest `limit` items of configured feeds, duplicates included, newest first (for
    /// `/api/items`).
    pub fn newest_records(&self, limit: usize) -> Result<Vec<ItemRecord>, StoreError> {
        self.records_where(SHOWN, NEWEST, None, limit)
    }

    pub(super) fn records_where(
        &self,
        filter: &str,
        order: &str,
        arg: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ItemRecord>, StoreError> {
        let sql = format!("{RECORD_SELECT} WHERE {filter} ORDER BY {order} LIMIT ?1");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = match arg {
            Some(a) => stmt.query_map(params![limit as i64, a], record)?.collect::<Result<Vec<_>, _>>(),
            None => stmt.query_map([limit as i64], record)?.collect::<Result<Vec<_>, _>>(),
        };
        Ok(rows?)
    }

    /// The newest `limit` articles for a merged feed: originals only, each with the other
    /// sources that carried it and its series' newest other headlines.
    pub fn newest_items(&self, limit: usize) -> Result<Vec<Item>, StoreError> {
        self.items_where(&format!("i.duplicate_of IS NULL AND {SHOWN}"), NEWEST, None, limit)
    }

    /// The newest `limit` articles of configured feeds that are in no story (alone in
    /// their series, or not grouped yet), after skipping `skip`.
    pub fn other_news(&self, skip: usize, limit: usize) -> Result<Vec<Item>, StoreError> {
        let select = other_news_select();
        let filter = format!("s.items < {} AND i.duplicate_of IS NULL AND {SHOWN}", crate::model::STORY_ARTICLES);
        let mut items = self.items_from(&select, &filter, OTHER_NEWS_ORDER, None, skip + limit)?;
        Ok(items.split_off(skip.min(items.len())))
    }

    /// Items first seen at or after `since`.
    pub fn items_since(&self, since: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(self.conn.prepare_cached(ITEMS_SINCE)?.query_row([since.timestamp()], |r| r.get(0))?)
    }

    /// The newest `limit` articles of the configured feeds carrying `tag`.
    pub fn tag_items(&self, tag: &str, limit: usize) -> Result<Vec<Item>, StoreError> {
        let filter = format!("i.duplicate_of IS NULL AND {SHOWN} AND {TAGGED}");
        self.items_where(&filter, NEWEST, Some(tag), limit)
    }

    /// Whether a configured feed carries `tag`.
    pub fn tag_exists(&self, tag: &str) -> Result<bool, StoreError> {
        let sql = format!("SELECT 1 FROM feeds f WHERE f.in_config = 1 AND {TAGGED}");
        Ok(self.conn.prepare_cached(&sql.replace("?2", "?1"))?.exists([tag])?)
    }

    /// The newest `limit` articles of one series.
    pub fn series_items(&self, series: &str, limit: usize) -> Result<Vec<Item>, StoreError> {
        let filter = format!("i.duplicate_of IS NULL AND m.series = ?2 AND {SHOWN}");
        self.items_where(&filter, SERIES_NEWEST, Some(series), limit)
    }

    /// The title of the configured feed `name` (its own, else its name), or `None` when no
    /// configured feed has that name.
    pub fn source_title(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT COALESCE(title, name) FROM feeds WHERE name = ?1 AND in_config = 1")?
            .query_row([name], |r| r.get(0))
            .optional()?)
    }

    /// The newest `limit` items the configured feed `name` carried, as storyline stored
    /// them from it: its own articles and its copies of articles first received from
    /// another feed, each in the series of the article it is.
    pub fn source_items(&self, name: &str, limit: usize) -> Result<Vec<Item>, StoreError> {
        let select = ITEM_SELECT.replace(MEMBERSHIP, "m.item = COALESCE(i.duplicate_of, i.id)");
        let filter = format!("f.name = ?2 AND {SHOWN}");
        self.items_from(&select, &filter, NEWEST, Some(name), limit)
    }

    pub(super) fn items_where(
        &self,
        filter: &str,
        order: &str,
        series: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Item>, StoreError> {
        self.items_from(ITEM_SELECT, filter, order, series, limit)
    }

    /// Items of `select` (the columns of [`ITEM_SELECT`]) under `filter`, whose `?2` is
    /// `arg`, in `order`.
    pub(super) fn items_from(
        &self,
        select: &str,
        filter: &str,
        order: &str,
        arg: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Item>, StoreError> {
        let sql = format!("{select} WHERE {filter} ORDER BY {order} LIMIT ?1");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = match arg {
            Some(arg) => stmt.query(params![limit as i64, arg])?,
            None => stmt.query([limit as i64])?,
        };
        // Rows are read until their text passes the budget: whatever `limit` asks and the
        // sources sent, one request holds a bounded amount of text.
        let mut items = Vec::new();
        let mut text = 0;
        while let Some(row) = rows.next()? {
            let next = item(row)?;
            text += next.content_html.len() + next.title.len() + next.summary.len();
            if text > DOCUMENT_TEXT_BYTES && !items.is_empty() {
                break;
            }
            items.push(next);
        }
        drop(rows);
        let mut copies = self.conn.prepare_cached(
            "SELECT f.name, f.title, f.site_link, d.link FROM items d JOIN feeds f ON f.id = d.feed_id
             WHERE d.duplicate_of = ?1 AND f.in_config = 1 AND d.filtered IS NULL ORDER BY d.id",
        )?;
        // A series' headlines are ranked once for all of its entries in the document
        // (ranking per entry doubled the time to render 1,000 entries): its strongest
        // `RELATED + 1` of the newest, of which each entry shows the strongest others.
        let mut shown: HashMap<String, Vec<RankedHeadline>> = HashMap::new();
        for item in &mut items {
            item.also = copies.query_map([item.id], |r| source(r, 0))?.collect::<Result<_, _>>()?;
            item.also.retain(|s| s.feed != item.source.feed);
            item.also.dedup_by(|a, b| a.feed == b.feed);
            if item.in_story() {
                if !shown.contains_key(&item.series) {
                    let candidates = super::series::SHOWN_CANDIDATES + 1;
                    let rows = self.series_headlines(&item.series, candidates)?;
                    let title = item.series_title.as_deref().unwrap_or_default();
                    let mut best = ranked(rows, title, &item.series_keywords, |(_, r)| &r.title);
                    best.truncate(RELATED + 1);
                    shown.insert(item.series.clone(), best);
                }
                let mut others: Vec<&RankedHeadline> =
                    shown[&item.series].iter().filter(|(_, (id, _))| *id != item.id).take(RELATED).collect();
                // Shown newest first, as they were given.
                others.sort_by_key(|(place, _)| *place);
                item.related = others.into_iter().map(|(_, (_, r))| r.clone()).collect();
            }
        }
        Ok(items)
    }
}

/// A series' headline ranked for "In this story": its place among the newest, its item's
/// id and the headline.
type RankedHeadline = (usize, (i64, Related));

/// Other headlines shown under an entry ("In this story"): the strongest of the series'
/// newest (`series::shown`).
const RELATED: usize = 5;

/// Stores a parsed document's entries for `feed`, oldest first so ids follow publication
/// order within a poll: new entries, cross-feed copies (rows pointing at the original), and
/// entries already known from this feed (skipped).
pub(super) fn insert_entries(
    conn: &Connection,
    feed: &FeedRef,
    parsed: &ParsedFeed,
    now: DateTime<Utc>,
    full_text: bool,
) -> Result<PollCounts, StoreError> {
    let mut entries: Vec<&Entry> = parsed.entries.iter().collect();
    entries.sort_by_key(|e| e.published.unwrap_or(now));
    // A feed with nothing stored yet (its first poll, or every feed of a first run) knows
    // none of its entries: only a repeat within this document can be known, so the set of
    // this document's identities stands in for an index lookup per entry.
    let first_poll = !has_items(conn, feed.id)?;
    let mut in_document = HashSet::with_capacity(entries.len());
    let mut counts = PollCounts::default();
    for entry in entries {
        let identity = dedupe::identity(entry);
        if !in_document.insert(identity.clone()) {
            counts.repeated += 1;
            continue;
        }
        match insert_entry(conn, feed, entry, identity, now, first_poll, full_text)? {
            Inserted::New => counts.new += 1,
            Inserted::Duplicate => counts.duplicates += 1,
            Inserted::Known => counts.unchanged += 1,
        }
    }
    let inserted = counts.new + counts.duplicates;
    if inserted > 0 {
        conn.prepare_cached("UPDATE feeds SET item_count = item_count + ?2 WHERE id = ?1")?
            .execute(params![feed.id, inserted as i64])?;
    }
    Ok(counts)
}

/// Items first seen at or after ?1, counted in `items_first_seen`.
pub(super) const ITEMS_SINCE: &str = "SELECT COUNT(*) FROM items WHERE first_seen >= ?1";

/// Whether a feed (?1) has anything stored, through `items_identity`.
pub(super) const HAS_ITEMS: &str = "SELECT 1 FROM items WHERE feed_id = ?1 LIMIT 1";

/// Whether a feed (?1) has stored an identity (?3, hashed ?2), through `items_identity`.
pub(super) const KNOWN: &str = "SELECT 1 FROM items WHERE feed_id = ?1 AND identity_key = ?2 AND identity = ?3";

/// The original item whose canonical link or permalink guid is ?2 (hashed ?1), through
/// `items_link_key`, then `items_guid_key` only when the first finds nothing. (One
/// statement: measured about 3% fewer instructions for storing items than two; an `OR`
/// of both conditions cost more, through a row set and a sort.)
pub(super) const ORIGINAL: &str = "SELECT COALESCE(
    (SELECT id FROM items WHERE link_key = ?1 AND canonical_link = ?2 AND duplicate_of IS NULL ORDER BY id LIMIT 1),
    (SELECT id FROM items WHERE guid_key = ?1 AND guid_url = ?2 AND duplicate_of IS NULL ORDER BY id LIMIT 1))";

fn has_items(conn: &Connection, feed_id: i64) -> Result<bool, StoreError> {
    Ok(conn.prepare_cached(HAS_ITEMS)?.exists([feed_id])?)
}

enum Inserted {
    New,
    Duplicate,
    Known,
}

/// Stores one entry (of `identity`) unless its feed has it already; on the feed's
/// `first_poll` it has nothing stored to look up.
fn insert_entry(
    tx: &Connection,
    feed: &FeedRef,
    entry: &Entry,
    identity: String,
    now: DateTime<Utc>,
    first_poll: bool,
    full_text: bool,
) -> Result<Inserted, StoreError> {
    let known =
        !first_poll && tx.prepare_cached(KNOWN)?.exists(params![feed.id, dedupe::key_hash(&identity), identity])?;
    if known {
        return Ok(Inserted::Known);
    }
    let original = find_original(tx, [entry.canonical_link.as_deref(), entry.guid_url.as_deref()])?;
    // A date far in the future would pin an item to the top of every feed.
    let latest = now + chrono::Duration::days(1);
    let published = entry.published.filter(|p| *p <= latest).unwrap_or(now);
    tx.prepare_cached(
        "INSERT INTO items (feed_id, identity, uid, guid, link, canonical_link, guid_url, title, summary, content,
                            author, published, updated, first_seen, duplicate_of, identity_key, link_key, guid_key,
                            categories, filtered, media, full_text)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21,
                 ?22)",
    )?
    .execute(params![
        feed.id,
        identity,
        dedupe::entry_uid(&feed.name, &identity),
        entry.guid,
        entry.link,
        entry.canonical_link,
        entry.guid_url,
        entry.title,
        entry.summary,
        entry.content_html,
        entry.author,
        secs(published),
        entry.updated.map(secs),
        secs(now),
        original,
        dedupe::key_hash(&identity),
        entry.canonical_link.as_deref().map(dedupe::key_hash),
        // A permalink guid that is the link itself is found through the link's key: one
        // index entry fewer for most items.
        entry.guid_url.as_deref().filter(|g| Some(*g) != entry.canonical_link.as_deref()).map(dedupe::key_hash),
        serde_json::to_string(&entry.categories).unwrap_or_else(|_| "[]".into()),
        entry.filtered,
        (!entry.media.is_empty()).then(|| serde_json::to_string(&entry.media).ok()).flatten(),
        // A copy of an article stored from another feed has that feed's body; an item a
        // rule hides is not worth a fetch.
        super::full_text::initial(full_text && original.is_none() && entry.filtered.is_none(), entry.link.as_deref()),
    ])?;
    Ok(if original.is_some() { Inserted::Duplicate } else { Inserted::New })
}

/// The original item carrying any of these keys as its canonical link or permalink guid.
fn find_original(tx: &Connection, keys: [Option<&str>; 2]) -> Result<Option<i64>, StoreError> {
    // A permalink guid is usually the link itself: look each distinct key up once.
    let keys = if keys[0] == keys[1] { [keys[0], None] } else { keys };
    let mut lookup = tx.prepare_cached(ORIGINAL)?;
    for key in keys.into_iter().flatten() {
        let found: Option<i64> = lookup.query_row(params![dedupe::key_hash(key), key], |r| r.get(0))?;
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// Only items of feeds in the configuration that no keep/block rule hides reach the
/// outputs: a feed's `[[feed]]` table removed (and the configuration reloaded), or a rule
/// matching, its items stay stored but are not shown.
pub(super) const SHOWN: &str = "f.in_config = 1 AND i.filtered IS NULL";

/// The feed (`f`) carries the tag `?2`.
/// Tags match whatever their case (`/tags/News.atom` is the tag "news"), as ASCII folds.
pub(super) const TAGGED: &str = "EXISTS (SELECT 1 FROM json_each(f.tags) WHERE value = ?2 COLLATE NOCASE)";

/// Newest first, through `items_newest`.
pub(super) const NEWEST: &str = "i.published DESC, i.id DESC";

/// Newest first within one series (`m`), through `item_series_by_series`: the same order,
/// as a membership row carries its item's published time.
pub(super) const SERIES_NEWEST: &str = "m.published DESC, m.item DESC";

/// An article of a merged feed (`i`), its feed (`f`), membership (`m`) and series (`s`).
/// An item not grouped yet (between its storing and the next grouping round) is a series
/// of its own, `item-ID`: never the id of a real series.
pub(super) const ITEM_SELECT: &str =
    "SELECT i.id, i.uid, i.title, i.link, i.summary, i.content, i.author, i.published, i.updated, i.first_seen,
            COALESCE(CAST(m.series AS TEXT), 'item-' || i.id), f.name, f.title, f.site_link, s.title, s.items,
            f.tags, s.keywords, i.categories, i.media
     FROM items i JOIN feeds f ON f.id = i.feed_id LEFT JOIN item_series m ON m.item = i.id
        LEFT JOIN series s ON s.id = m.series";

/// [`ITEM_SELECT`]'s columns, driven from the series that are not stories (through
/// `series_not_stories`): walking `items_newest` and dropping story members instead read
/// every item row once most recent items were in stories (`GET /` took 0.27 s at 50k
/// items, 0.52 s at 94k, 6.0 s at 685k). An item not grouped yet is in no series and
/// joins "Other news" when its round is written, seconds later. `CROSS JOIN` keeps
/// SQLite to this order: without statistics it would scan the items instead.
pub(super) fn other_news_select() -> String {
    let columns = &ITEM_SELECT[..ITEM_SELECT.find("FROM items i").expect("ITEM_SELECT reads items")];
    format!(
        "{columns} FROM series s CROSS JOIN item_series m ON m.series = s.id
            CROSS JOIN items i ON i.id = m.item CROSS JOIN feeds f ON f.id = i.feed_id"
    )
}

/// "Other news" newest first: a series of one article is as new as it.
pub(super) const OTHER_NEWS_ORDER: &str = "s.last_published DESC, s.id DESC";

/// How [`ITEM_SELECT`] joins an item to its membership: an original's own.
const MEMBERSHIP: &str = "m.item = i.id";

/// One line of `export items` (`i`), with its feed (`f`) and its own or its original's
/// membership (`m`, `o`).
pub(super) const RECORD_SELECT: &str = "SELECT i.id, f.name, i.guid, i.link, i.title, i.published, i.first_seen,
        COALESCE(CAST(COALESCE(m.series, o.series) AS TEXT), 'item-' || COALESCE(i.duplicate_of, i.id)), i.duplicate_of,
        i.filtered
    FROM items i JOIN feeds f ON f.id = i.feed_id LEFT JOIN item_series m ON m.item = i.id
        LEFT JOIN item_series o ON o.item = i.duplicate_of";

fn record(r: &Row<'_>) -> rusqlite::Result<ItemRecord> {
    Ok(ItemRecord {
        id: r.get(0)?,
        feed: r.get(1)?,
        guid: r.get(2)?,
        link: web_link(r.get(3)?),
        title: r.get(4)?,
        published: rfc3339(r.get(5)?),
        first_seen: rfc3339(r.get(6)?),
        series: r.get(7)?,
        duplicate_of: r.get(8)?,
        filtered: r.get(9)?,
    })
}

fn source(r: &Row<'_>, at: usize) -> rusqlite::Result<Source> {
    Ok(Source {
        feed: r.get(at)?,
        feed_title: r.get(at + 1)?,
        site_link: web_link(r.get(at + 2)?),
        link: web_link(r.get(at + 3)?),
    })
}

fn item(r: &Row<'_>) -> rusqlite::Result<Item> {
    let link = web_link(r.get(3)?);
    let source =
        Source { feed: r.get(11)?, feed_title: r.get(12)?, site_link: web_link(r.get(13)?), link: link.clone() };
    Ok(Item {
        id: r.get(0)?,
        uid: r.get(1)?,
        title: r.get(2)?,
        link,
        summary: r.get(4)?,
        content_html: r.get(5)?,
        author: r.get(6)?,
        published: time(r.get(7)?),
        updated: r.get::<_, Option<i64>>(8)?.map(time),
        first_seen: time(r.get(9)?),
        series: r.get(10)?,
        source,
        also: Vec::new(),
        series_title: r.get(14)?,
        series_count: r.get::<_, Option<u64>>(15)?.unwrap_or(1),
        related: Vec::new(),
        tags: serde_json::from_str(&r.get::<_, String>(16)?).unwrap_or_default(),
        series_keywords: r
            .get::<_, Option<String>>(17)?
            .and_then(|k| serde_json::from_str(&k).ok())
            .unwrap_or_default(),
        categories: serde_json::from_str(&r.get::<_, String>(18)?).unwrap_or_default(),
        media: r.get::<_, Option<String>>(19)?.and_then(|m| serde_json::from_str(&m).ok()).unwrap_or_default(),
    })
}
