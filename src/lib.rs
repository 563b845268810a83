//! storyline: a feed aggregator that stores every item once, groups items into story
//! series and republishes one merged feed.
//!
//! The library holds every stage so tests drive the same code as the binary; `main.rs`
//! only parses arguments and maps results to exit codes.

pub mod app;
pub mod config;
pub mod daemon;
pub mod dedupe;
pub mod fetch;
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
