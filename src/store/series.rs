//! Series rows and item assignments: what grouping reads (items not yet grouped, recent
//! grouped items to warm up from) and writes (assignments, merges, summaries), and what
//! the outputs list.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use super::{rfc3339, Store, StoreError};
use crate::model::{web_link, FrontPage, Lead, Related, SeriesEntry, SOURCES_COUNTED};
use crate::series::{shown, Assignments, NewItem, Summary};

/// Headlines shown under each story on the front page.
const FRONT_HEADLINES: usize = 5;

/// A story's newest members among which the headlines shown are chosen (`series::shown`):
/// the strongest of the recent ones, so a story that moved on is not shown by its start.
pub(super) const SHOWN_CANDIDATES: usize = 30;

/// Item times read for a story's timeline (the newest; a longer story's earliest days are
/// left out of its chart).
const TIMELINE_ITEMS: usize = 1000;

/// A series as `series --json` and `/api/series` show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesRow {
    /// Opaque id.
    pub id: String,
    /// Headline-like title.
    pub title: String,
    /// Items in it.
    pub items: u64,
    /// RFC 3339 time of its oldest item.
    pub first_published: String,
    /// RFC 3339 time of its newest item.
    pub last_published: String,
    /// Names and terms its items share.
    pub keywords: Vec<String>,
}

/// Why an item is in its series: the item, its series now, and the decision as recorded
/// (none for items grouped before decisions were recorded).
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// The item, as `export items` shows it.
    pub item: crate::model::ItemRecord,
    /// Its series now (decisions name the series of the moment; merges may have moved it).
    pub series: Option<SeriesRow>,
    /// The grouping decision.
    pub why: Option<crate::series::why::Why>,
    /// The decision in words.
    pub reason: Option<String>,
    /// The title of the decision's runner-up series, while it exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runner_up_title: Option<String>,
    /// How strongly the item joined (`series::why::Confidence`).
    pub confidence: Option<crate::series::why::Confidence>,
    /// What came of its full text, when its feed asks for it (`full_text = true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_text: Option<super::FullText>,
}

/// The feeds that carried a story's (?1) newest ?2 members, copies included: through
/// `item_series_by_series`, then each member's row by id.
pub(super) const STORY_SOURCES: &str = "SELECT COUNT(DISTINCT i.feed_id) FROM (SELECT item FROM item_series
    WHERE series = ?1 ORDER BY published DESC LIMIT ?2) m JOIN items i ON i.id = m.item WHERE i.filtered IS NULL";

/// Stored title and item count, by series id.
pub type Titles = HashMap<u64, (String, u64)>;

/// The series presented as stories (`model::is_story`), as a WHERE condition.
fn stories_where() -> String {
    format!("items >= {}", crate::model::STORY_ARTICLES)
}

const SERIES_COLUMNS: &str = "id, title, items, first_published, last_published, keywords";

fn series_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SeriesRow> {
    let keywords: String = r.get(5)?;
    Ok(SeriesRow {
        id: r.get::<_, i64>(0)?.to_string(),
        title: r.get(1)?,
        items: r.get(2)?,
        first_published: rfc3339(r.get(3)?),
        last_published: rfc3339(r.get(4)?),
        keywords: serde_json::from_str(&keywords).unwrap_or_default(),
    })
}

fn new_item(r: &rusqlite::Row<'_>) -> rusqlite::Result<NewItem> {
    let series: Option<i64> = r.get(4)?;
    Ok(NewItem {
        id: r.get(0)?,
        title: r.get(1)?,
        summary: r.get(2)?,
        published: r.get(3)?,
        series: series.map(|s| s as u64),
        copy_of: r.get(5)?,
    })
}

impl Store {
    /// The newest `limit` headlines of series `id` that a reader is shown (articles of
    /// configured feeds: copies and hidden items left out), newest first, with their item
    /// ids: what "In this story" and a story's headlines are chosen from.
    pub(super) fn series_headlines(&self, id: &str, limit: usize) -> Result<Vec<(i64, Related)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT i.id, i.title, i.link, COALESCE(NULLIF(TRIM(f.title), ''), f.name), i.published
             FROM item_series m JOIN items i ON i.id = m.item JOIN feeds f ON f.id = i.feed_id
             WHERE m.series = ?1 AND i.duplicate_of IS NULL AND f.in_config = 1 AND i.filtered IS NULL
             ORDER BY m.published DESC, m.item DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![id, limit as i64], |r| {
            let related = Related {
                title: r.get(1)?,
                link: web_link(r.get(2)?),
                publisher: r.get(3)?,
                published: super::time(r.get(4)?),
            };
            Ok((r.get::<_, i64>(0)?, related))
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Items not yet in a series (the oldest `limit` by id, then in published order); a
    /// copy carries its original's series. `after` skips items up to that id (handed to
    /// the engine already, their series not yet written). Summaries are read only when
    /// `summaries` is set: the engine may match on titles alone.
    pub fn ungrouped(&self, after: Option<i64>, limit: usize, summaries: bool) -> Result<Vec<NewItem>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT i.id, i.title, CASE WHEN ?3 THEN i.summary ELSE '' END, i.published, o.series, i.duplicate_of
             FROM items i LEFT JOIN item_series o ON o.item = i.duplicate_of
             WHERE i.id > ?1 AND NOT EXISTS (SELECT 1 FROM item_series m WHERE m.item = i.id)
                   AND i.filtered IS NULL
             ORDER BY i.id LIMIT ?2",
        )?;
        let through = self.grouped_through()?.max(after.unwrap_or(0));
        let rows = stmt.query_map(params![through, limit as i64, summaries], new_item)?;
        let mut items: Vec<NewItem> = rows.collect::<Result<_, _>>()?;
        items.sort_by_key(|i| (i.published, i.id));
        Ok(items)
    }

    /// Grouped items published since `since` (unix seconds), oldest first: what the
    /// grouping engine warms up from after a restart. At most `limit` of them, the newest;
    /// summaries only when `summaries` is set.
    pub fn grouped_since(&self, since: i64, limit: usize, summaries: bool) -> Result<Vec<NewItem>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT i.id, i.title, CASE WHEN ?3 THEN i.summary ELSE '' END, i.published, m.series, NULL FROM items i JOIN item_series m ON m.item = i.id
             WHERE i.published >= ?1 AND i.duplicate_of IS NULL ORDER BY i.published DESC, i.id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![since, limit as i64, summaries], new_item)?;
        let mut items: Vec<NewItem> = rows.collect::<Result<_, _>>()?;
        items.reverse();
        Ok(items)
    }

    /// Series last active in `[from, until)` (unix seconds), oldest first, with the terms
    /// they resume from: those idle too long for their items to be replayed at start. At
    /// most `limit`, the most recently active.
    pub fn dormant_series(&self, from: i64, until: i64, limit: usize) -> Result<Vec<Summary>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, title, items, first_published, last_published, terms FROM series
             WHERE last_published >= ?1 AND last_published < ?2 AND terms != ''
             ORDER BY last_published DESC, id DESC LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![from, until, limit as i64], |r| {
            let terms: String = r.get(5)?;
            Ok(Summary {
                id: r.get::<_, i64>(0)? as u64,
                title: r.get(1)?,
                keywords: Vec::new(),
                count: r.get::<_, i64>(2)? as u64,
                first: r.get(3)?,
                last: r.get(4)?,
                terms: serde_json::from_str(&terms).unwrap_or_default(),
            })
        })?;
        let mut dormant: Vec<Summary> = rows.collect::<Result<_, _>>()?;
        dormant.reverse();
        Ok(dormant)
    }

    /// The id through which every item has been grouped.
    fn grouped_through(&self) -> Result<i64, StoreError> {
        let found = self
            .conn
            .query_row("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'grouped_through'", [], |r| r.get(0))
            .optional()?;
        Ok(found.unwrap_or(0))
    }

    /// Unix seconds of the newest item.
    pub fn newest_published(&self) -> Result<Option<i64>, StoreError> {
        Ok(self.conn.query_row("SELECT MAX(published) FROM items", [], |r| r.get(0))?)
    }

    /// Stored titles and sizes by series id, and the largest id used.
    pub fn series_titles(&self) -> Result<(Titles, u64), StoreError> {
        let mut stmt = self.conn.prepare("SELECT id, title, items FROM series")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)? as u64, (r.get(1)?, r.get(2)?))))?;
        let titles: HashMap<u64, (String, u64)> = rows.collect::<Result<_, _>>()?;
        let last = self.conn.query_row("SELECT COALESCE(MAX(id), 0) FROM series", [], |r| r.get::<_, i64>(0))? as u64;
        Ok((titles, last))
    }

    /// The newest series, most recently active first; only stories (`model::is_story`) when
    /// `stories_only`.
    pub fn series_list(&self, limit: usize, stories_only: bool) -> Result<Vec<SeriesRow>, StoreError> {
        let only = if stories_only { stories_where() } else { "1".to_string() };
        let sql =
            format!("SELECT {SERIES_COLUMNS} FROM series WHERE {only} ORDER BY last_published DESC, id DESC LIMIT ?1");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([limit as i64], series_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One series.
    pub fn series(&self, id: &str) -> Result<Option<SeriesRow>, StoreError> {
        let sql = format!("SELECT {SERIES_COLUMNS} FROM series WHERE id = ?1");
        Ok(self.conn.query_row(&sql, [id], series_row).optional()?)
    }

    /// Why item `id` is in its series (`explain`): `None` when there is no such item. A
    /// received copy is explained by its original.
    pub fn explain(&self, id: i64) -> Result<Option<Explanation>, StoreError> {
        let Some(item) = self.records_where("i.id = ?2", "i.id", Some(&id.to_string()), 1)?.pop() else {
            return Ok(None);
        };
        let decided = item.duplicate_of.unwrap_or(item.id);
        let why: Option<String> =
            // The latest decision: an item grouped again (after a failed write) has several.
            self.conn
                .query_row("SELECT why FROM decisions WHERE item = ?1 ORDER BY rowid DESC LIMIT 1", [decided], |r| r.get(0))
                .optional()?;
        let series = self.series(&item.series)?;
        let why: Option<crate::series::why::Why> = why.and_then(|w| serde_json::from_str(&w).ok());
        let runner_up_title = match why.as_ref().and_then(|w| w.runner_up.as_ref()) {
            Some(c) => self.series(&c.series.to_string())?.map(|s| s.title),
            None => None,
        };
        let reason = why.as_ref().map(|w| w.reason_named(runner_up_title.as_deref()));
        let confidence = why.as_ref().and_then(crate::series::why::Why::confidence);
        let full_text = self.full_text_of(id)?;
        Ok(Some(Explanation { item, series, why, reason, runner_up_title, confidence, full_text }))
    }

    /// The newest series with their newest headlines, for the digest feed.
    pub fn digest(&self, limit: usize, headlines: usize) -> Result<Vec<SeriesEntry>, StoreError> {
        self.series_entries("1 ORDER BY last_published DESC, id DESC", 0, limit, headlines, false)
    }

    /// The front page's `page` (from 1) of `per_page` stories and other news, and its
    /// header's counts at `now`.
    pub fn front_page(&self, page: usize, per_page: usize, now: DateTime<Utc>) -> Result<FrontPage, StoreError> {
        let skip = (page.max(1) - 1) * per_page;
        // The freshest day first; within a day, the largest story first.
        let order = format!("{} ORDER BY last_published / 86400 DESC, items DESC, id DESC", stories_where());
        let stories = self.series_entries(&order, skip, per_page, FRONT_HEADLINES, true)?;
        let count = |sql: &str| self.conn.query_row(sql, [], |r| r.get::<_, u64>(0));
        Ok(FrontPage {
            stories,
            other: self.other_news(skip, per_page)?,
            stories_total: count(&format!("SELECT COUNT(*) FROM series WHERE {}", stories_where()))?,
            items_new: self.items_since(now - chrono::Duration::hours(24))?,
            stored: self.conn.query_row("SELECT EXISTS (SELECT 1 FROM items)", [], |r| r.get(0))?,
            failing_feeds: count("SELECT COUNT(*) FROM feeds WHERE in_config = 1 AND error_count > 0")?,
        })
    }

    /// Series chosen and ordered by `filter_order` (a WHERE clause and its ORDER BY),
    /// `limit` of them after `skip`, each with `headlines` headlines of configured feeds
    /// (the strongest of its newest, `series::shown`) and, when `front`, what the front page
    /// shows besides: its items' times, its sources and its lead's summary and image.
    fn series_entries(
        &self,
        filter_order: &str,
        skip: usize,
        limit: usize,
        headlines: usize,
        front: bool,
    ) -> Result<Vec<SeriesEntry>, StoreError> {
        let sql = format!(
            "SELECT id, title, items, last_published, keywords, first_published FROM series
             WHERE {filter_order} LIMIT ?1 OFFSET ?2"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![limit as i64, skip as i64], |r| {
            let keywords: String = r.get(4)?;
            Ok(SeriesEntry {
                id: r.get::<_, i64>(0)?.to_string(),
                title: r.get(1)?,
                count: r.get(2)?,
                last: super::time(r.get(3)?),
                keywords: serde_json::from_str(&keywords).unwrap_or_default(),
                headlines: Vec::new(),
                timeline: Vec::new(),
                first: super::time(r.get(5)?),
                sources: 0,
                lead: None,
            })
        })?;
        let mut entries = rows.collect::<Result<Vec<_>, _>>()?;
        let mut times = self.conn.prepare_cached(
            "SELECT m.published FROM item_series m JOIN items i ON i.id = m.item
             WHERE m.series = ?1 AND i.duplicate_of IS NULL ORDER BY m.published DESC, m.item DESC LIMIT ?2",
        )?;
        let mut sources = self.conn.prepare_cached(STORY_SOURCES)?;
        let mut lead = self.conn.prepare_cached("SELECT summary, media FROM items WHERE id = ?1")?;
        for e in &mut entries {
            let candidates = self.series_headlines(&e.id, SHOWN_CANDIDATES.max(headlines))?;
            let shown = shown::strongest(candidates, &e.title, &e.keywords, |(_, r)| &r.title, headlines);
            if front {
                let rows = times.query_map(params![e.id, TIMELINE_ITEMS as i64], |r| r.get::<_, i64>(0))?;
                e.timeline = rows.map(|t| t.map(super::time)).collect::<Result<_, _>>()?;
                e.sources = sources.query_row(params![e.id, SOURCES_COUNTED as i64], |r| r.get(0))?;
                if let Some((id, _)) = shown.first() {
                    e.lead = lead
                        .query_row([id], |r| {
                            let media: Option<String> = r.get(1)?;
                            let media: crate::model::Media =
                                media.and_then(|m| serde_json::from_str(&m).ok()).unwrap_or_default();
                            Ok(Lead { summary: r.get(0)?, image: media.image })
                        })
                        .optional()?;
                }
            }
            e.headlines = shown.into_iter().map(|(_, r)| r).collect();
        }
        Ok(entries)
    }

    /// The records of a series' items (duplicates included), newest first.
    pub fn series_records(&self, id: &str, limit: usize) -> Result<Vec<crate::model::ItemRecord>, StoreError> {
        let filter = format!("m.series = ?2 AND {}", super::items::SHOWN);
        self.records_where(&filter, super::items::SERIES_NEWEST, Some(id), limit)
    }

    /// Writes what grouping decided, in one transaction. `through`, when given, is the
    /// newest item id up to which every item is grouped once this is written: where the
    /// next [`Store::ungrouped`] starts.
    pub fn write_series(&mut self, outcome: &Assignments, through: Option<i64>) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        apply_outcome(&tx, outcome, through)?;
        tx.commit()?;
        Ok(())
    }
}

/// Assignments, merges (members move to the surviving series) and summaries.
pub(super) fn apply_outcome(conn: &Connection, outcome: &Assignments, through: Option<i64>) -> Result<(), StoreError> {
    // An upsert, not INSERT OR REPLACE: a REPLACE may delete rows, so SQLite journals every
    // page the statement touches (measured: a third of this function's work).
    let mut assign = conn.prepare_cached(
        "INSERT INTO item_series (item, series, published) VALUES (?1, ?2, ?3)
         ON CONFLICT(item) DO UPDATE SET series = excluded.series, published = excluded.published",
    )?;
    for (item, series, published) in &outcome.assigned {
        assign.execute(params![item, *series as i64, published])?;
    }
    // Set by the caller, not taken from the assignments: a round assigns its items in
    // published order, in several writes, and only its last write completes it.
    if let Some(through) = through {
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('grouped_through', ?1)
             ON CONFLICT(key) DO UPDATE SET value = MAX(CAST(value AS INTEGER), excluded.value)",
            [through],
        )?;
        // The round is complete: what it grouped (and anything stored meanwhile) becomes
        // searchable in one bulk write.
        super::search::index_new(conn)?;
    }
    let mut why = conn.prepare_cached("INSERT INTO decisions (item, why) VALUES (?1, ?2)")?;
    for (item, decision) in &outcome.why {
        // Serializing plain numbers and strings cannot fail.
        why.execute(params![item, serde_json::to_string(decision).unwrap_or_default()])?;
    }
    for (from, into) in &outcome.merged {
        conn.execute("UPDATE item_series SET series = ?2 WHERE series = ?1", params![*from as i64, *into as i64])?;
        conn.execute("DELETE FROM series WHERE id = ?1", [*from as i64])?;
    }
    let mut upsert = conn.prepare_cached(
        "INSERT INTO series (id, title, keywords, items, first_published, last_published, terms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT(id) DO UPDATE SET title = excluded.title, keywords = excluded.keywords, items = excluded.items,
            first_published = excluded.first_published, last_published = excluded.last_published,
            terms = excluded.terms",
    )?;
    for s in &outcome.changed {
        let keywords = serde_json::to_string(&s.keywords).unwrap_or_else(|_| "[]".into());
        // Empty when unknown, so that the dormant query can skip it.
        let terms =
            if s.terms.is_empty() { String::new() } else { serde_json::to_string(&s.terms).unwrap_or_default() };
        upsert.execute(params![s.id as i64, s.title, keywords, s.count as i64, s.first, s.last, terms])?;
    }
    Ok(())
}
