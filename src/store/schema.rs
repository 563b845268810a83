//! Schema and migrations, versioned by SQLite's `user_version`.

use rusqlite::Connection;

use super::StoreError;

/// Each entry moves the schema from version `index` to `index + 1`. Append only.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE feeds (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    config_url    TEXT NOT NULL,
    url           TEXT NOT NULL,
    in_config     INTEGER NOT NULL DEFAULT 1,
    enabled       INTEGER NOT NULL DEFAULT 1,
    title         TEXT,
    site_link     TEXT,
    etag          TEXT,
    last_modified TEXT,
    last_poll     INTEGER,
    last_success  INTEGER,
    last_status   TEXT,
    http_status   INTEGER,
    last_error    TEXT,
    error_count   INTEGER NOT NULL DEFAULT 0,
    next_poll     INTEGER,
    moved_to      TEXT,
    moved_count   INTEGER NOT NULL DEFAULT 0,
    retry_after   INTEGER,
    gone          INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE items (
    id             INTEGER PRIMARY KEY,
    feed_id        INTEGER NOT NULL REFERENCES feeds(id),
    identity       TEXT NOT NULL,
    identity_key   INTEGER NOT NULL,
    uid            TEXT NOT NULL,
    guid           TEXT,
    link           TEXT,
    canonical_link TEXT,
    link_key       INTEGER,
    guid_url       TEXT,
    guid_key       INTEGER,
    title          TEXT NOT NULL,
    summary        TEXT NOT NULL,
    content        TEXT NOT NULL,
    author         TEXT,
    published      INTEGER NOT NULL,
    updated        INTEGER,
    first_seen     INTEGER NOT NULL,
    duplicate_of   INTEGER REFERENCES items(id),
    series         TEXT
);
-- Keys are 64-bit hashes of the text columns beside them (dedupe::key_hash): integer
-- indexes stay small and fast; queries compare the text too, so collisions are harmless.
CREATE INDEX items_identity ON items(feed_id, identity_key);
CREATE INDEX items_link_key ON items(link_key) WHERE duplicate_of IS NULL AND link_key IS NOT NULL;
CREATE INDEX items_guid_key ON items(guid_key) WHERE duplicate_of IS NULL AND guid_key IS NOT NULL;
CREATE INDEX items_duplicate_of ON items(duplicate_of) WHERE duplicate_of IS NOT NULL;
CREATE INDEX items_newest ON items(published DESC, id DESC) WHERE duplicate_of IS NULL;
"#,
    r#"
CREATE TABLE series (
    id              INTEGER PRIMARY KEY,
    title           TEXT NOT NULL,
    keywords        TEXT NOT NULL DEFAULT '[]',
    items           INTEGER NOT NULL,
    first_published INTEGER NOT NULL,
    last_published  INTEGER NOT NULL
);
CREATE INDEX series_newest ON series(last_published DESC, id DESC);
CREATE INDEX items_series ON items(series, published DESC, id DESC);
CREATE INDEX items_ungrouped ON items(published, id) WHERE series IS NULL;
"#,
    // The centroid terms a series resumes from when none of its items are replayed.
    r#"
ALTER TABLE series ADD COLUMN terms TEXT NOT NULL DEFAULT '';
"#,
    // Series membership moves to a narrow table: assigning an item no longer rewrites its
    // (wide) row and two indexes of `items`, and items still to group are those past the
    // `grouped_through` id in `meta`.
    r#"
CREATE TABLE item_series (
    item      INTEGER PRIMARY KEY REFERENCES items(id),
    series    INTEGER NOT NULL,
    published INTEGER NOT NULL
);
INSERT INTO item_series (item, series, published)
    SELECT id, CAST(series AS INTEGER), published FROM items WHERE series IS NOT NULL;
CREATE INDEX item_series_by_series ON item_series(series, published DESC, item DESC);
CREATE INDEX item_series_by_time ON item_series(published);
INSERT OR REPLACE INTO meta (key, value)
    SELECT 'grouped_through', COALESCE((SELECT MIN(id) - 1 FROM items WHERE series IS NULL), (SELECT MAX(id) FROM items), 0);
DROP INDEX items_series;
DROP INDEX items_ungrouped;
ALTER TABLE items DROP COLUMN series;
"#,
    // What the last successful parse had to repair or guess, shown beside the feed.
    r#"
ALTER TABLE feeds ADD COLUMN last_warning TEXT;
"#,
    // Warm-up reads recent grouped items through `items_newest`: an index on membership
    // by time cost every assignment one more b-tree insert.
    r#"
DROP INDEX item_series_by_time;
"#,
    // `/api/items` lists duplicates too: with the index partial, it scanned and sorted
    // every item. Duplicates are few, so the merged feed skips them as cheaply.
    r#"
DROP INDEX items_newest;
CREATE INDEX items_newest ON items(published DESC, id DESC);
"#,
    // Only http(s) links are stored or published (`model::is_web_link`): links of other
    // schemes (`javascript:` ...) that earlier versions stored are dropped. LIKE folds ASCII
    // case; stored links were written by the `url` crate, so they carry no leading blanks.
    r#"
UPDATE items SET link = NULL
    WHERE link IS NOT NULL AND NOT (link LIKE 'http://_%' OR link LIKE 'https://_%');
UPDATE feeds SET site_link = NULL
    WHERE site_link IS NOT NULL AND NOT (site_link LIKE 'http://_%' OR site_link LIKE 'https://_%');
"#,
    // Why grouping put each item where it did (`explain`), as JSON (`series::why::Why`):
    // recorded as decided, as the engine's state moves on. Appended in the order decided
    // (published order, not id order) with a small index by item: keyed by item, the
    // table's wide rows went in at random places: a cold poll of 1,000 feeds (50,000
    // items) took 3.0-3.3 s against 2.3-2.5 s appended, which is what it takes without
    // recording decisions.
    r#"
CREATE TABLE decisions (
    item INTEGER NOT NULL,
    why  TEXT NOT NULL
);
CREATE INDEX decisions_by_item ON decisions(item);
"#,
    // A feed's tags (from the configuration, a JSON array): entries carry them as
    // categories and `/tags/{tag}` feeds select by them.
    r#"
ALTER TABLE feeds ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
"#,
    // Keep/block rules (`filter`): why an item is hidden (NULL: shown), and the source's
    // categories the rules may look at (a JSON array).
    r#"
ALTER TABLE items ADD COLUMN filtered TEXT;
ALTER TABLE items ADD COLUMN categories TEXT NOT NULL DEFAULT '[]';
"#,
    // Dates before 1970, or more than a day after the item was first seen, are not
    // publication dates (`parse::bounds`): items that earlier versions stored with one are
    // dated when first seen, and their series' spans follow. (Published dates after the
    // day of first sight were never stored; updated ones were.)
    r#"
UPDATE items SET updated = NULL WHERE updated < 0 OR updated > first_seen + 86400;
UPDATE items SET published = first_seen WHERE published < 0;
UPDATE item_series SET published = (SELECT published FROM items WHERE items.id = item_series.item)
    WHERE published < 0;
UPDATE series SET
    first_published = COALESCE((SELECT MIN(published) FROM item_series WHERE item_series.series = series.id), first_published),
    last_published = COALESCE((SELECT MAX(published) FROM item_series WHERE item_series.series = series.id), last_published)
    WHERE first_published < 0 OR last_published < 0;
"#,
    // A series' size is its distinct articles: earlier versions also counted received
    // copies of an article (the same article in another feed), so the heading said 134
    // where the page listed 132.
    r#"
UPDATE series SET items = (
    SELECT COUNT(*) FROM item_series m JOIN items i ON i.id = m.item
    WHERE m.series = series.id AND i.duplicate_of IS NULL);
"#,
    // An item's enclosures, image and comments link (`model::Media` as JSON; NULL when
    // the source gave none). Kept by retention: they are small and what a podcast
    // client plays.
    r#"
ALTER TABLE items ADD COLUMN media TEXT;
"#,
    // Full text for summary-only feeds (`store::full_text`): NULL, not asked; 0, the page
    // waits to be fetched (tried so many times, the last error kept); 1, fetched; 2,
    // failed, with why.
    r#"
ALTER TABLE items ADD COLUMN full_text INTEGER;
ALTER TABLE items ADD COLUMN full_text_error TEXT;
ALTER TABLE items ADD COLUMN full_text_tries INTEGER NOT NULL DEFAULT 0;
CREATE INDEX items_full_text_waiting ON items (feed_id, id) WHERE full_text = 0;
"#,
    // Counts the pages show without reading every item: each feed's items kept on its row
    // (the writer adds what it inserts; only `purge-removed` deletes items, and only of
    // feeds it deletes too), the hidden ones through a partial index, and the items first
    // seen since a time through an index on `first_seen` (appended in order: new items
    // are first seen now); "Other news" from the series that are not stories (a story has
    // `model::STORY_ARTICLES`, 2, articles). At 1M items `GET /` took 3.5 s to 6 s and
    // `feeds` 0.9 s, both reading every item row.
    r#"
ALTER TABLE feeds ADD COLUMN item_count INTEGER NOT NULL DEFAULT 0;
UPDATE feeds SET item_count = (SELECT COUNT(*) FROM items WHERE items.feed_id = feeds.id);
CREATE INDEX items_hidden ON items (feed_id) WHERE filtered IS NOT NULL;
CREATE INDEX items_first_seen ON items (first_seen);
CREATE INDEX series_not_stories ON series (last_published DESC, id DESC) WHERE items < 2;
"#,
    // Full-text search over titles, summaries and bodies (`store::search`): an FTS5 index
    // over the items' own columns. The writer adds new items in bulk, once per grouping
    // round, up to the mark `search_through` (an index written row by row, by triggers on
    // insert, doubled the cold poll of the benchmark corpus: 5.1 s -> 10.9 s, as FTS5
    // writes and merges a segment per transaction); triggers keep the rows already
    // indexed in step when a body is emptied (retention) or a row deleted (purges).
    r#"
CREATE VIRTUAL TABLE items_fts USING fts5(
    title, summary, content, content = 'items', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO items_fts (items_fts) VALUES ('rebuild');
INSERT INTO meta (key, value) VALUES ('search_through', (SELECT COALESCE(MAX(id), 0) FROM items))
    ON CONFLICT (key) DO UPDATE SET value = excluded.value;
CREATE TRIGGER items_fts_delete AFTER DELETE ON items
    WHEN old.id <= (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'search_through') BEGIN
    INSERT INTO items_fts (items_fts, rowid, title, summary, content)
        VALUES ('delete', old.id, old.title, old.summary, old.content);
END;
CREATE TRIGGER items_fts_update AFTER UPDATE OF title, summary, content ON items
    WHEN old.id <= (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'search_through') BEGIN
    INSERT INTO items_fts (items_fts, rowid, title, summary, content)
        VALUES ('delete', old.id, old.title, old.summary, old.content);
    INSERT INTO items_fts (rowid, title, summary, content) VALUES (new.id, new.title, new.summary, new.content);
END;
"#,
];

/// Whether the database has this build's schema, for a connection that cannot migrate.
pub fn check(conn: &Connection) -> Result<(), StoreError> {
    let found: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    match found.cmp(&MIGRATIONS.len()) {
        std::cmp::Ordering::Equal => Ok(()),
        std::cmp::Ordering::Greater => Err(StoreError::TooNew { found, known: MIGRATIONS.len() }),
        std::cmp::Ordering::Less => Err(StoreError::TooOld { found, known: MIGRATIONS.len() }),
    }
}

/// Brings the database to the newest schema, one transaction per step.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let version: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > MIGRATIONS.len() {
        return Err(StoreError::TooNew { found: version, known: MIGRATIONS.len() });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database at schema version `version` (its first `version` migrations applied).
    fn at_version(version: usize) -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..version] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", version).unwrap();
        conn
    }

    /// A database at the schema just before the migration whose SQL contains `marker`.
    fn just_before(marker: &str) -> Connection {
        at_version(MIGRATIONS.iter().position(|m| m.contains(marker)).unwrap())
    }

    /// Items stored with a date before 1970 are dated when first seen, and the span of
    /// their series with them.
    #[test]
    fn dates_before_1970_are_repaired() {
        let mut conn = just_before("SET published = first_seen");
        conn.execute_batch(
            "INSERT INTO feeds (id, name, config_url, url) VALUES (1, 'a', 'http://a', 'http://a');
             INSERT INTO items (id, feed_id, identity, identity_key, uid, title, summary, content, published, updated, first_seen)
             VALUES (1, 1, 'x', 1, 'u1', 't1', '', '', -219000000000, -5, 1000),
                    (2, 1, 'y', 2, 'u2', 't2', '', '', 2000, 2100, 2000),
                    (3, 1, 'z', 3, 'u3', 't3', '', '', 3000, 253402300799, 3000);
             INSERT INTO item_series (item, series, published) VALUES (1, 7, -219000000000), (2, 7, 2000);
             INSERT INTO series (id, title, items, first_published, last_published) VALUES (7, 's', 2, -219000000000, 2000);",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let item = |id: i64| -> (i64, Option<i64>) {
            conn.query_row("SELECT published, updated FROM items WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
        };
        assert_eq!((item(1), item(2), item(3)), ((1000, None), (2000, Some(2100)), (3000, None)));
        let span: (i64, i64) = conn
            .query_row("SELECT first_published, last_published FROM series", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap();
        assert_eq!(span, (1000, 2000));
    }

    /// Series sizes stored by earlier versions counted copies; on upgrade they count
    /// distinct articles.
    #[test]
    fn series_sizes_are_recounted_without_copies() {
        let mut conn = just_before("UPDATE series SET items");
        conn.execute_batch(
            "INSERT INTO feeds (id, name, config_url, url) VALUES (1, 'a', 'http://a', 'http://a');
             INSERT INTO items (id, feed_id, identity, identity_key, uid, title, summary, content, published, first_seen, duplicate_of)
             VALUES (1, 1, 'x', 1, 'u1', 't1', '', '', 100, 100, NULL),
                    (2, 1, 'y', 2, 'u2', 't2', '', '', 200, 200, NULL),
                    (3, 1, 'z', 3, 'u3', 't1', '', '', 150, 150, 1);
             INSERT INTO item_series (item, series, published) VALUES (1, 7, 100), (2, 7, 200), (3, 7, 150);
             INSERT INTO series (id, title, items, first_published, last_published) VALUES (7, 's', 3, 100, 200);",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let items: i64 = conn.query_row("SELECT items FROM series WHERE id = 7", [], |r| r.get(0)).unwrap();
        assert_eq!(items, 2);
    }

    /// A database at version 3 (series kept on the item rows) keeps its assignments and
    /// its items still to group when it moves to the `item_series` table.
    #[test]
    fn series_membership_moves_to_its_own_table() {
        let mut conn = at_version(3);
        conn.execute_batch(
            "INSERT INTO feeds (id, name, config_url, url) VALUES (1, 'a', 'http://a', 'http://a');
             INSERT INTO items (id, feed_id, identity, identity_key, uid, title, summary, content, published, first_seen, series)
             VALUES (1, 1, 'x', 1, 'u1', 't1', '', '', 100, 100, '7'),
                    (2, 1, 'y', 2, 'u2', 't2', '', '', 200, 200, '7'),
                    (3, 1, 'z', 3, 'u3', 't3', '', '', 150, 150, NULL);",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let rows: Vec<(i64, i64, i64)> = conn
            .prepare("SELECT item, series, published FROM item_series ORDER BY item")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows, [(1, 7, 100), (2, 7, 200)]);
        let through: String =
            conn.query_row("SELECT value FROM meta WHERE key = 'grouped_through'", [], |r| r.get(0)).unwrap();
        assert_eq!(through, "2", "item 3 is still to group");
    }

    /// Links of other schemes stored by earlier versions are dropped on upgrade.
    #[test]
    fn stored_links_of_other_schemes_are_dropped() {
        let mut conn = just_before("UPDATE items SET link = NULL");
        conn.execute_batch(
            "INSERT INTO feeds (id, name, config_url, url, site_link) VALUES (1, 'a', 'http://a', 'http://a', 'JavaScript:x()'),
                                                                   (2, 'b', 'http://b', 'http://b', 'HTTPS://b.example/');
             INSERT INTO items (id, feed_id, identity, identity_key, uid, title, summary, content, published, first_seen, link)
             VALUES (1, 1, 'x', 1, 'u1', 't1', '', '', 100, 100, 'javascript:alert(1)'),
                    (2, 1, 'y', 2, 'u2', 't2', '', '', 200, 200, 'data:text/html;base64,PHNjcmlwdD4='),
                    (3, 1, 'z', 3, 'u3', 't3', '', '', 150, 150, 'https://ok.example/3');",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let links: Vec<Option<String>> = conn
            .prepare("SELECT link FROM items ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(links, [None, None, Some("https://ok.example/3".to_string())]);
        let sites: Vec<Option<String>> = conn
            .prepare("SELECT site_link FROM feeds ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(sites, [None, Some("HTTPS://b.example/".to_string())]);
    }
}
