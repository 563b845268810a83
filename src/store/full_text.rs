//! Full text for the feeds that carry only a summary: which stored articles wait for
//! their page to be fetched, and what came of it (the article, which replaces the
//! item's body while its summary stays, or why there is none). The items table's
//! `full_text` column: NULL, not asked; 0, waiting; 1, fetched; 2, failed
//! (`full_text_error` says why; while waiting, why the last try did not get it, and
//! `full_text_tries` how many tries there were).

use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use super::{Store, StoreError};

/// Tries of a page that failed for a reason that may pass (a timeout, a server error, an
/// unreachable robots.txt) before it counts as failed: a page still down after three
/// polls is not worth the budget of the pages behind it.
pub const MAX_TRIES: i64 = 3;

const WAITING: i64 = 0;
const FETCHED: i64 = 1;
const FAILED: i64 = 2;

/// An article whose page is to be fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    /// The item.
    pub item: i64,
    /// Its link: the page.
    pub link: String,
}

/// What one try of an item's page gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageOutcome {
    /// Its article, sanitized.
    Article(String),
    /// No article, for good (a 404, robots.txt, not HTML): why.
    Failed(String),
    /// Nothing this time, for a reason that may pass: why.
    Later(String),
}

/// What came of an item's full text, for `explain` and `/api/items/{id}/why`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "error", rename_all = "snake_case")]
pub enum FullText {
    /// Its page is to be fetched at a coming poll (each poll fetches a few); why the last
    /// try did not get it, when there was one.
    Waiting(Option<String>),
    /// Its body is the article read from its page.
    Fetched,
    /// Its page gave no article; its body is the feed's. Why, in words.
    Failed(String),
}

impl FullText {
    /// In words, for `explain`.
    pub fn describe(&self) -> String {
        match self {
            FullText::Waiting(None) => "waiting: the page is fetched at a coming poll".into(),
            FullText::Waiting(Some(why)) => {
                format!("waiting: the last try did not get the page ({why}); tried again at a coming poll")
            }
            FullText::Fetched => "fetched: the body is the article read from its page".into(),
            FullText::Failed(why) => format!("failed: {why} (the body is the feed's)"),
        }
    }
}

/// Whether an item of a `full_text` feed, stored as new, waits for its page: NULL for
/// the others.
pub(super) fn initial(full_text: bool, link: Option<&str>) -> Option<i64> {
    (full_text && link.is_some_and(crate::model::is_web_link)).then_some(WAITING)
}

impl Store {
    /// The newest `limit` articles of the feed `name` that wait for their page.
    pub fn waiting_full_text(&self, name: &str, limit: usize) -> Result<Vec<Waiting>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT i.id, i.link FROM items i WHERE i.full_text = 0
               AND i.feed_id = (SELECT id FROM feeds WHERE name = ?1) ORDER BY i.id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![name, limit as i64], |r| Ok(Waiting { item: r.get(0)?, link: r.get(1)? }))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records what the page of `item` gave: its article (sanitized HTML), which becomes
    /// the item's body, or why there was none; a try that may do better later leaves it
    /// waiting, until [`MAX_TRIES`]. Only a waiting item is changed; whether its body did.
    pub fn record_full_text(&mut self, item: i64, outcome: &PageOutcome) -> Result<bool, StoreError> {
        let changed = match outcome {
            PageOutcome::Article(html) => self.conn.execute(
                "UPDATE items SET content = ?2, full_text = ?3, full_text_error = NULL WHERE id = ?1 AND full_text = 0",
                params![item, html, FETCHED],
            )?,
            PageOutcome::Failed(why) => {
                self.conn.execute(
                    "UPDATE items SET full_text = ?3, full_text_error = ?2 WHERE id = ?1 AND full_text = 0",
                    params![item, why, FAILED],
                )?;
                0
            }
            PageOutcome::Later(why) => {
                self.conn.execute(
                    "UPDATE items SET full_text_tries = full_text_tries + 1, full_text_error = ?2,
                        full_text = CASE WHEN full_text_tries + 1 >= ?3 THEN ?4 ELSE full_text END
                     WHERE id = ?1 AND full_text = 0",
                    params![item, why, MAX_TRIES, FAILED],
                )?;
                0
            }
        };
        Ok(changed > 0)
    }

    /// What came of the item's full text, when its feed asks for it.
    pub fn full_text_of(&self, item: i64) -> Result<Option<FullText>, StoreError> {
        let row: Option<(Option<i64>, Option<String>)> = self
            .conn
            .query_row("SELECT full_text, full_text_error FROM items WHERE id = ?1", [item], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        Ok(match row {
            Some((Some(WAITING), error)) => Some(FullText::Waiting(error)),
            Some((Some(FETCHED), _)) => Some(FullText::Fetched),
            Some((Some(_), error)) => Some(FullText::Failed(error.unwrap_or_default())),
            _ => None,
        })
    }
}
