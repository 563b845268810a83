//! The feeds table: which feeds exist, their validators and the outcome of each poll.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use url::Url;

use super::{secs, Store, StoreError};
use crate::model::{public_url, Failure, FailureKind, FeedSpec, FeedStatus, ParsedFeed, Validators};

/// What a poll needs to know about a stored feed.
#[derive(Debug, Clone)]
pub struct FeedRef {
    /// Row id.
    pub id: i64,
    /// Configured name.
    pub name: String,
    /// The URL to poll (after adopted permanent redirects).
    pub url: Url,
    /// Validators from the last successful parse.
    pub validators: Validators,
    /// Consecutive failures so far.
    pub error_count: u32,
    /// The stored next poll time.
    pub next_poll: Option<DateTime<Utc>>,
    /// 410 Gone was received: not polled until the configured URL changes.
    pub gone: bool,
    /// Until when the host asked us to wait (Retry-After).
    pub retry_after: Option<DateTime<Utc>>,
    /// The last permanent redirect target and on how many polls in a row it was seen.
    pub moved: Option<(Url, u32)>,
}

const FEED_COLUMNS: &str =
    "id, name, url, etag, last_modified, error_count, next_poll, gone, retry_after, moved_to, moved_count";

fn feed_ref(r: &rusqlite::Row<'_>) -> rusqlite::Result<Option<FeedRef>> {
    let url: String = r.get(2)?;
    let Ok(url) = Url::parse(&url) else { return Ok(None) };
    let moved_to: Option<String> = r.get(9)?;
    Ok(Some(FeedRef {
        id: r.get(0)?,
        name: r.get(1)?,
        url,
        validators: Validators { etag: r.get(3)?, last_modified: r.get(4)? },
        error_count: r.get(5)?,
        next_poll: r.get::<_, Option<i64>>(6)?.map(super::time),
        gone: r.get(7)?,
        retry_after: r.get::<_, Option<i64>>(8)?.map(super::time),
        moved: moved_to.and_then(|m| Url::parse(&m).ok()).map(|m| (m, r.get(10).unwrap_or(0))),
    }))
}

/// Every configured feed's row for `feeds`, `/feeds` and `/api/feeds`: its item count
/// kept on the row, its hidden items counted through `items_hidden`.
pub(super) const FEED_STATUSES: &str =
    "SELECT name, url, config_url, title, last_poll, last_success, last_status, http_status, last_error,
                    error_count, item_count, next_poll, moved_to, enabled, gone,
                    last_warning, tags, (SELECT COUNT(*) FROM items WHERE feed_id = feeds.id AND filtered IS NOT NULL),
                    retry_after, site_link
             FROM feeds WHERE in_config = 1 ORDER BY name";

impl Store {
    /// Makes the feeds table match the configuration: adds new feeds, updates changed URLs
    /// (forgetting validators that belonged to the old URL), and marks feeds that left the
    /// configuration without deleting them or their items.
    pub fn sync_feeds(&mut self, specs: &[FeedSpec]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute("UPDATE feeds SET in_config = 0", [])?;
        {
            let mut upsert = tx.prepare_cached(
                "INSERT INTO feeds (name, config_url, url, enabled, tags) VALUES (?1, ?2, ?2, ?3, ?4)
                 ON CONFLICT(name) DO UPDATE SET
                    in_config = 1,
                    enabled = excluded.enabled,
                    tags = excluded.tags,
                    url = CASE WHEN config_url = excluded.config_url THEN url ELSE excluded.url END,
                    etag = CASE WHEN config_url = excluded.config_url THEN etag END,
                    last_modified = CASE WHEN config_url = excluded.config_url THEN last_modified END,
                    moved_to = CASE WHEN config_url = excluded.config_url THEN moved_to END,
                    gone = CASE WHEN config_url = excluded.config_url THEN gone ELSE 0 END,
                    error_count = CASE WHEN config_url = excluded.config_url THEN error_count ELSE 0 END,
                    config_url = excluded.config_url",
            )?;
            for spec in specs {
                let tags = serde_json::to_string(&spec.tags).unwrap_or_else(|_| "[]".into());
                upsert.execute(params![spec.name, spec.url.as_str(), spec.enabled, tags])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The stored state of a feed.
    pub fn feed(&self, name: &str) -> Result<FeedRef, StoreError> {
        self.conn
            .query_row(&format!("SELECT {FEED_COLUMNS} FROM feeds WHERE name = ?1"), [name], feed_ref)
            .optional()?
            .flatten()
            .ok_or_else(|| StoreError::UnknownFeed(name.to_string()))
    }

    /// Every feed in the configuration.
    pub fn configured_feeds(&self) -> Result<Vec<FeedRef>, StoreError> {
        let mut stmt =
            self.conn.prepare(&format!("SELECT {FEED_COLUMNS} FROM feeds WHERE in_config = 1 ORDER BY name"))?;
        let rows = stmt.query_map([], feed_ref)?;
        Ok(rows.filter_map(|r| r.transpose()).collect::<Result<_, _>>()?)
    }

    /// Every feed in the configuration, in name order.
    pub fn feed_statuses(&self) -> Result<Vec<FeedStatus>, StoreError> {
        let mut stmt = self.conn.prepare_cached(FEED_STATUSES)?;
        let rows = stmt.query_map([], |r| {
            let time = |i| r.get::<_, Option<i64>>(i).map(|t| t.map(super::time));
            Ok(FeedStatus {
                name: r.get(0)?,
                // Shown and published: without credentials (`model::public_url`).
                url: public_url(&r.get::<_, String>(1)?),
                config_url: public_url(&r.get::<_, String>(2)?),
                title: r.get(3)?,
                last_poll: time(4)?,
                last_success: time(5)?,
                last_status: r.get(6)?,
                http_status: r.get(7)?,
                last_error: r.get(8)?,
                error_count: r.get(9)?,
                items: r.get(10)?,
                next_poll: time(11)?,
                moved_to: r.get::<_, Option<String>>(12)?.as_deref().map(public_url),
                enabled: r.get(13)?,
                gone: r.get(14)?,
                warning: r.get(15)?,
                tags: serde_json::from_str(&r.get::<_, String>(16)?).unwrap_or_default(),
                hidden: r.get(17)?,
                held_until: time(18)?,
                site_link: crate::model::web_link(r.get(19)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// Updates the feed row after a successful parse, inside the poll's transaction, with the
/// parse's warnings and what storing found (`stored_warning`).
pub(super) fn record_success(
    conn: &Connection,
    feed: &FeedRef,
    parsed: &ParsedFeed,
    stored_warning: Option<&str>,
    status: u16,
    validators: &Validators,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE feeds SET last_poll = ?2, last_success = ?2, last_status = 'ok', http_status = ?3, last_error = NULL,
            error_count = 0, retry_after = NULL, etag = ?4, last_modified = ?5,
            title = COALESCE(?6, title), site_link = COALESCE(?7, site_link), last_warning = ?8 WHERE id = ?1",
        params![
            feed.id,
            secs(now),
            status,
            validators.etag,
            validators.last_modified,
            parsed.title,
            parsed.site_link,
            Some(parsed.warnings.iter().map(String::as_str).chain(stored_warning).collect::<Vec<_>>().join("; "))
                .filter(|w| !w.is_empty()),
        ],
    )?;
    Ok(())
}

/// Records a 304 Not Modified.
pub(super) fn record_not_modified(conn: &Connection, feed: &FeedRef, now: DateTime<Utc>) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE feeds SET last_poll = ?2, last_success = ?2, last_status = 'not_modified', http_status = 304,
            last_error = NULL, error_count = 0, retry_after = NULL WHERE id = ?1",
        params![feed.id, secs(now)],
    )?;
    Ok(())
}

/// Records a failed fetch or parse; the stored validators and items are untouched.
pub(super) fn record_failure(
    conn: &Connection,
    feed: &FeedRef,
    failure: &Failure,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    // Saturating: a hold is at most a day (`fetch::MAX_RETRY_AFTER`) when it comes from a
    // fetch, and must not wrap when it does not.
    let retry_after =
        failure.retry_after.map(|d| secs(now).saturating_add(i64::try_from(d.as_secs()).unwrap_or(i64::MAX)));
    conn.execute(
        "UPDATE feeds SET last_poll = ?2, last_status = ?3, http_status = ?4, last_error = ?5,
            error_count = error_count + 1, retry_after = ?6, gone = ?7 WHERE id = ?1",
        params![
            feed.id,
            secs(now),
            failure.kind.as_str(),
            failure.http_status,
            failure.message,
            retry_after,
            failure.kind == FailureKind::Gone
        ],
    )?;
    Ok(())
}

/// Remembers a permanent redirect and counts how many polls in a row saw the same
/// target; once `adopt_after` have, the feed's stored URL moves there (the config file is
/// never rewritten).
pub(super) fn record_move(
    conn: &Connection,
    feed_id: i64,
    moved_to: Option<&super::writes::Redirect>,
) -> Result<(), StoreError> {
    match moved_to {
        Some(super::writes::Redirect { to: url, adopt_after }) => {
            conn.execute(
                "UPDATE feeds SET moved_count = CASE WHEN moved_to = ?2 THEN moved_count + 1 ELSE 1 END, moved_to = ?2
                 WHERE id = ?1",
                params![feed_id, url.as_str()],
            )?;
            conn.execute(
                "UPDATE feeds SET url = moved_to, moved_to = NULL, moved_count = 0 WHERE id = ?1 AND moved_count >= ?2",
                params![feed_id, adopt_after],
            )?
        }
        None => conn.execute("UPDATE feeds SET moved_to = NULL, moved_count = 0 WHERE id = ?1", [feed_id])?,
    };
    Ok(())
}

/// Stores when a feed is next polled.
pub(super) fn set_next_poll(conn: &Connection, name: &str, next: Option<DateTime<Utc>>) -> Result<(), StoreError> {
    conn.execute("UPDATE feeds SET next_poll = ?2 WHERE name = ?1", params![name, next.map(secs)])?;
    Ok(())
}

/// What `purge_removed` deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// Items deleted.
    pub items: usize,
    /// Feed rows deleted (feeds no longer in the configuration).
    pub feeds: usize,
}

impl Store {
    /// Deletes for good the items of feeds no longer in the configuration, with their
    /// series memberships and recorded decisions, and those feeds' rows. A copy of one of
    /// them received from a configured feed survives it: the oldest such copy becomes the
    /// original, in its original's series, and the other copies point to it. Series lose
    /// the deleted members from their counts and dates; a series left empty is deleted.
    pub fn purge_removed(&mut self) -> Result<Purged, StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute_batch(
            "CREATE TEMP TABLE gone AS
                 SELECT i.id FROM items i JOIN feeds f ON f.id = i.feed_id WHERE f.in_config = 0;
             CREATE TEMP TABLE heir AS
                 SELECT d.duplicate_of AS original, MIN(d.id) AS item
                 FROM items d JOIN feeds f ON f.id = d.feed_id
                 WHERE f.in_config = 1 AND d.duplicate_of IN (SELECT id FROM gone)
                 GROUP BY d.duplicate_of;
             CREATE TEMP TABLE touched AS
                 SELECT DISTINCT series FROM item_series WHERE item IN (SELECT id FROM gone);
             UPDATE items SET duplicate_of = (SELECT h.item FROM heir h WHERE h.original = items.duplicate_of)
                 WHERE duplicate_of IN (SELECT original FROM heir);
             UPDATE items SET duplicate_of = NULL WHERE id IN (SELECT item FROM heir);
             INSERT OR IGNORE INTO item_series (item, series, published)
                 SELECT h.item, s.series, i.published
                 FROM heir h JOIN item_series s ON s.item = h.original JOIN items i ON i.id = h.item;
             DELETE FROM item_series WHERE item IN (SELECT id FROM gone);
             DELETE FROM decisions WHERE item IN (SELECT id FROM gone);
             DELETE FROM items WHERE id IN (SELECT id FROM gone);",
        )?;
        let items: usize = tx.query_row("SELECT COUNT(*) FROM gone", [], |r| r.get(0))?;
        tx.execute_batch(
            "UPDATE series SET
                 items = (SELECT COUNT(*) FROM item_series m WHERE m.series = series.id),
                 first_published = COALESCE((SELECT MIN(published) FROM item_series m WHERE m.series = series.id), first_published),
                 last_published = COALESCE((SELECT MAX(published) FROM item_series m WHERE m.series = series.id), last_published)
             WHERE id IN (SELECT series FROM touched);
             DELETE FROM series WHERE id IN (SELECT series FROM touched) AND items = 0;
             DROP TABLE gone; DROP TABLE heir; DROP TABLE touched;",
        )?;
        let feeds = tx.execute("DELETE FROM feeds WHERE in_config = 0", [])?;
        tx.commit()?;
        Ok(Purged { items, feeds })
    }
}

impl Store {
    /// Applies keep/block rules to every stored item (of a removed feed too: put back, it is
    /// shown as the rules say), so that a rule
    /// changed on reload applies to history too; returns how many items changed verdict.
    /// Runs only when the rules differ from those the stored verdicts were made under (their
    /// signature is kept in `meta`): items stored since were judged as they arrived, so
    /// commands and reloads that change no rule read no item.
    pub fn refilter(&mut self, filters: &crate::filter::Filters) -> Result<usize, StoreError> {
        let signature = filters.signature();
        let applied: Option<String> =
            self.conn.query_row("SELECT value FROM meta WHERE key = 'filters'", [], |r| r.get(0)).optional()?;
        // A store that never recorded rules has none applied: all items are shown.
        if applied.unwrap_or_default() == signature {
            return Ok(0);
        }
        let tx = self.conn.transaction()?;
        tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('filters', ?1)", [&signature])?;
        if filters.is_empty() {
            // No rules: nothing is hidden, and no item need be read.
            let changed = tx.execute("UPDATE items SET filtered = NULL WHERE filtered IS NOT NULL", [])?;
            tx.commit()?;
            return Ok(changed);
        }
        let mut changes: Vec<(i64, Option<String>)> = Vec::new();
        {
            let mut stmt = tx.prepare(
                "SELECT i.id, f.name, i.title, i.summary, i.link, i.author, i.categories, i.filtered
                 FROM items i JOIN feeds f ON f.id = i.feed_id",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let (title, summary): (String, String) = (r.get(2)?, r.get(3)?);
                let (link, author): (Option<String>, Option<String>) = (r.get(4)?, r.get(5)?);
                let categories: Vec<String> = serde_json::from_str(&r.get::<_, String>(6)?).unwrap_or_default();
                let fields = crate::filter::Fields {
                    title: &title,
                    summary: &summary,
                    link: link.as_deref(),
                    author: author.as_deref(),
                    categories: &categories,
                };
                let verdict = filters.verdict(&r.get::<_, String>(1)?, &fields);
                if verdict != r.get::<_, Option<String>>(7)? {
                    changes.push((r.get(0)?, verdict));
                }
            }
        }
        {
            let mut update = tx.prepare("UPDATE items SET filtered = ?2 WHERE id = ?1")?;
            for (id, verdict) in &changes {
                update.execute(params![id, verdict])?;
            }
        }
        tx.commit()?;
        Ok(changes.len())
    }
}
