#![warn(missing_docs)]
//! storyline: a feed aggregator that stores every item once, groups items into story
//! series and republishes one merged feed.
//!
//! The library holds every stage so tests drive the same code as the binary; `main.rs`
//! only parses arguments and maps results to exit codes.
//!
//! # Layout
//!
//! The data flows config -> scheduler -> fetch -> parse -> dedupe -> store ->
//! grouping/series -> render -> publish; a module per stage, in that order:
//!
//! - [`config`]: the TOML configuration, validated, every error located.
//! - [`scheduler`]: when each feed is polled (schedule, jitter, backoff, per-host limits).
//! - [`poll`]: one poll of one feed, fetch -> parse -> store, its outcome recorded on the feed.
//! - [`fetch`]: the only HTTP to sources (conditional GET, redirects, limits); failures are data.
//! - [`parse`]: bytes to normalized entries (charset, format, sanitizing, dates).
//! - [`dedupe`]: which entries are the same article (identity fallback chain, canonical links).
//! - [`filter`]: keep and block rules, which stored items every output and series leave out.
//! - [`store`]: the only SQL (schema, feeds, items, series, the single writer, the lock, the
//!   read pool, housekeeping: retention and compaction, the full-text search index), opened
//!   once per process as a [`store::Database`] (or, to write, a [`store::WritingDatabase`]).
//! - [`grouping`]: puts stored items into series, a poll round at a time, through the store.
//! - [`series`]: the pure grouping engine (terms, topics, decisions and their explanations).
//! - [`render`]: pure: items to Atom, RSS, JSON Feed, the digest and the HTML pages (front,
//!   series, an item's "why", search, feeds).
//! - [`publish`]: the HTTP server, its routes, cache and metrics.
//!
//! Around them: [`daemon`] (`run`: serve, reload, stop), [`app`] (the one-shot commands),
//! [`wiring`] (the writer, grouper and pipelines every writing command is built from),
//! [`inspect`], [`discover`] (a site's feeds from one of its pages, for `add`), [`opml`],
//! [`notify`] (systemd), [`model`] (shared vocabulary) and [`text`]
//! (escaping, whitespace, the stable hash: a leaf).

pub mod app;
pub mod config;
pub mod daemon;
pub mod dedupe;
pub mod discover;
pub mod fetch;
pub mod filter;
pub mod grouping;
pub mod inspect;
pub mod model;
pub mod notify;
pub mod opml;
pub mod parse;
pub mod poll;
pub mod publish;
pub mod render;
pub mod scheduler;
pub mod series;
pub mod store;
pub mod text;
pub mod wiring;
