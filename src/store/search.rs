//! Full-text search over the stored items' titles, summaries and bodies, through the
//! `items_fts` index (FTS5): the writer adds new items to it in bulk at the end of each
//! grouping round ([`index_new`]); triggers keep the indexed rows in step (see the
//! schema). An item is found once the round that grouped it is written.
//!
//! Searching reads only; what it matches is shaped as every other list of items.

use rusqlite::Connection;

use super::items::{ITEM_SELECT, SHOWN};
use super::{Store, StoreError};
use crate::model::Item;

/// Adds the items stored since the last call to the search index, in one statement (one
/// FTS5 segment), and moves the mark past them; returns how many. Run inside the
/// writer's transaction that ends a grouping round.
pub(super) fn index_new(conn: &Connection) -> Result<usize, StoreError> {
    let added = conn.execute(
        "INSERT INTO items_fts (rowid, title, summary, content)
         SELECT id, title, summary, content FROM items
         WHERE id > (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'search_through') ORDER BY id",
        [],
    )?;
    conn.execute("UPDATE meta SET value = (SELECT COALESCE(MAX(id), 0) FROM items) WHERE key = 'search_through'", [])?;
    Ok(added)
}

impl Store {
    /// The `limit` shown articles stored last (copies folded into their original) matching
    /// `query`, in FTS5's query syntax: words, "quoted phrases", AND / OR / NOT, `word*`.
    /// A query the index cannot read is [`StoreError::Search`], with its reason.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<Item>, StoreError> {
        // The query alone first: FTS5 reports a query it cannot read as a plain SQL error
        // (SQLITE_ERROR, with its reason), which a busy or broken database never is.
        let check =
            self.conn.prepare_cached("SELECT 1 FROM items_fts WHERE items_fts MATCH ?1 LIMIT 1")?.exists([query]);
        match check {
            Err(rusqlite::Error::SqliteFailure(e, reason)) if e.code == rusqlite::ErrorCode::Unknown => {
                return Err(StoreError::Search(reason.unwrap_or_else(|| "not a search query".into())));
            }
            other => other?,
        };
        let filter = format!("items_fts MATCH ?2 AND i.duplicate_of IS NULL AND {SHOWN}");
        self.items_from(&search_select(), &filter, SEARCH_ORDER, Some(query), limit)
    }
}

/// [`ITEM_SELECT`]'s columns, driven from the search index in its own order (newest
/// stored first), so that a search stops at its limit: ordered by published time it
/// collected every match first (`government`, 78,561 matches at 100k items: 182 ms
/// against 6 ms). `CROSS JOIN` keeps SQLite to this order.
fn search_select() -> String {
    let columns = &ITEM_SELECT[..ITEM_SELECT.find("FROM items i").expect("ITEM_SELECT reads items")];
    format!(
        "{columns} FROM items_fts CROSS JOIN items i ON i.id = items_fts.rowid CROSS JOIN feeds f ON f.id = i.feed_id
            LEFT JOIN item_series m ON m.item = i.id LEFT JOIN series s ON s.id = m.series"
    )
}

/// Newest stored first: the index's own order.
const SEARCH_ORDER: &str = "items_fts.rowid DESC";

#[cfg(test)]
mod tests {
    /// A search walks the index in its own order and stops at its limit: no sort of every
    /// match, each item read by id.
    #[test]
    fn a_search_walks_the_index_and_reads_only_what_it_shows() {
        let dir = tempfile::tempdir().unwrap();
        let store = super::Store::open(&dir.path().join("s.db")).unwrap();
        let sql = format!(
            "EXPLAIN QUERY PLAN {} WHERE items_fts MATCH 'x' AND i.duplicate_of IS NULL AND {} ORDER BY {} LIMIT 100",
            super::search_select(),
            super::SHOWN,
            super::SEARCH_ORDER
        );
        let mut stmt = store.conn.prepare(&sql).unwrap();
        let plan: Vec<String> = stmt.query_map([], |r| r.get(3)).unwrap().map(Result::unwrap).collect();
        assert!(plan[0].starts_with("SCAN items_fts VIRTUAL TABLE"), "{plan:#?}");
        assert!(plan.iter().any(|s| s.starts_with("SEARCH i USING INTEGER PRIMARY KEY")), "{plan:#?}");
        assert!(!plan.iter().any(|s| s.contains("TEMP B-TREE")), "{plan:#?}");
    }
}
