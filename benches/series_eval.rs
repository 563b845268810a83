//! Story grouping quality and speed: replays a labelled stream (JSON Lines with id, title,
//! summary, url, publisher, published, story) through the same engine the daemon uses and
//! prints BCubed precision, recall and F1, the number of series, and items per second.
//! With `--scale N` it also replays the stream N times (shifted a month each time, as new
//! stories) and reports the cost per item at 10k and 100k items.
//!
//! With `--ceiling` it also scores a labelled oracle on the same features (see `ceiling`).
//!
//! With `--whys OUT` it writes each item's title, final series and decision (as `explain`
//! shows it) to OUT, one JSON object per line.
//!
//! Usage: cargo bench --bench series_eval -- FILE [--scale N] [--top K] [--ceiling] [--whys OUT]

use std::collections::HashMap;
use std::time::Instant;

#[path = "series_eval/ceiling.rs"]
mod ceiling;

use serde::Deserialize;
use storyline::series::{Engine, NewItem, Params};

#[derive(Deserialize)]
struct Row {
    title: String,
    #[serde(default)]
    summary: String,
    published: String,
    story: String,
}

fn params() -> Params {
    let mut p = Params::default();
    let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<f32>().ok());
    if let Some(v) = env("SL_THRESHOLD") {
        p.threshold = v;
    }
    if let Some(v) = env("SL_MERGE") {
        p.merge_threshold = v;
    }
    if let Some(v) = env("SL_FOCUS") {
        p.focus = v;
    }
    if let Some(v) = env("SL_NOVEL") {
        p.novel_weight = v;
    }
    if let Some(v) = env("SL_NEIGHBOUR") {
        p.neighbour_threshold = v;
    }
    if let Some(v) = env("SL_NEIGHBOURS") {
        p.neighbours = v as usize;
    }
    if let Some(v) = env("SL_TOPIC") {
        p.topic_threshold = v;
    }
    if let Some(v) = env("SL_NAME_RELIEF") {
        p.name_topic_relief = v;
    }
    if let Some(v) = env("SL_NAME_BOOST") {
        p.name_boost = v;
    }
    p
}

/// BCubed precision and recall (Bagga & Baldwin), averaged over items.
fn bcubed(series: &[u64], stories: &[usize]) -> (f64, f64) {
    let mut pair: HashMap<(u64, usize), f64> = HashMap::new();
    let mut by_series: HashMap<u64, f64> = HashMap::new();
    let mut by_story: HashMap<usize, f64> = HashMap::new();
    for (s, t) in series.iter().zip(stories) {
        *pair.entry((*s, *t)).or_default() += 1.0;
        *by_series.entry(*s).or_default() += 1.0;
        *by_story.entry(*t).or_default() += 1.0;
    }
    let n = series.len() as f64;
    let (mut p, mut r) = (0.0, 0.0);
    for (s, t) in series.iter().zip(stories) {
        let both = pair[&(*s, *t)];
        p += both / by_series[s];
        r += both / by_story[t];
    }
    (p / n, r / n)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let file = args.first().expect("usage: series_eval FILE [--scale N] [--top K] [--ceiling]");
    let flag = |name: &str| {
        args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse::<usize>().ok())
    };
    let text = std::fs::read_to_string(file).unwrap();
    let rows: Vec<Row> =
        text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect();
    let mut story_ids: HashMap<String, usize> = HashMap::new();
    let items: Vec<(NewItem, usize)> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let next = story_ids.len();
            let story = *story_ids.entry(r.story.clone()).or_insert(next);
            let published = chrono::DateTime::parse_from_rfc3339(&r.published).unwrap().timestamp();
            (
                NewItem {
                    id: i as i64,
                    title: r.title.clone(),
                    summary: r.summary.clone(),
                    published,
                    series: None,
                    copy_of: None,
                },
                story,
            )
        })
        .collect();

    let mut engine = Engine::new(params(), 0);
    let batch: Vec<NewItem> = items.iter().map(|(i, _)| i.clone()).collect();
    let started = Instant::now();
    let out = engine.assign(&batch);
    let secs = started.elapsed().as_secs_f64();
    // Follow merges: an item assigned to a series later merged belongs to the survivor.
    let mut alias: HashMap<u64, u64> = HashMap::new();
    for (from, into) in &out.merged {
        alias.insert(*from, *into);
    }
    let resolve = |mut s: u64| {
        while let Some(n) = alias.get(&s) {
            s = *n;
        }
        s
    };
    let series: Vec<u64> = out.assigned.iter().map(|(_, s, _)| resolve(*s)).collect();
    let stories: Vec<usize> = items.iter().map(|(_, s)| *s).collect();
    let (p, r) = bcubed(&series, &stories);
    let f1 = 2.0 * p * r / (p + r);
    let mut sizes: HashMap<u64, usize> = HashMap::new();
    for s in &series {
        *sizes.entry(*s).or_default() += 1;
    }
    println!(
        "items {}  stories {}  series {}  BCubed P {:.3} R {:.3} F1 {:.3}  {:.0} items/s",
        items.len(),
        story_ids.len(),
        sizes.len(),
        p,
        r,
        f1,
        items.len() as f64 / secs
    );
    // Unrelated items (gold stories of one item): the share put into a series that holds
    // items of a real story, as `singletons.py` counts it.
    let mut story_size: HashMap<usize, usize> = HashMap::new();
    for s in &stories {
        *story_size.entry(*s).or_default() += 1;
    }
    let mut holds_story: HashMap<u64, bool> = HashMap::new();
    for (s, st) in series.iter().zip(&stories) {
        *holds_story.entry(*s).or_default() |= story_size[st] > 1;
    }
    let single: Vec<usize> = (0..stories.len()).filter(|i| story_size[&stories[*i]] == 1).collect();
    if !single.is_empty() {
        let caught = single.iter().filter(|i| holds_story[&series[**i]]).count();
        let alone = single.iter().filter(|i| sizes[&series[**i]] == 1).count();
        println!(
            "unrelated {}  alone {:.3}  in a real story's series {:.3}",
            single.len(),
            alone as f64 / single.len() as f64,
            caught as f64 / single.len() as f64
        );
    }
    if let Some(i) = args.iter().position(|a| a == "--dump") {
        let lines: Vec<String> = series.iter().map(|s| s.to_string()).collect();
        std::fs::write(&args[i + 1], lines.join("\n")).unwrap();
        // Replayed one item at a time to record merges as "item-index from into".
        let mut engine = Engine::new(params(), 0);
        let mut merges: Vec<String> = Vec::new();
        for (n, item) in batch.iter().enumerate() {
            let one = engine.assign(std::slice::from_ref(item));
            merges.extend(one.merged.iter().map(|(f, t)| format!("{n} {f} {t}")));
            merges.extend(one.assigned.iter().map(|(_, s, _)| format!("{n} {s}")));
        }
        std::fs::write(format!("{}.merges", args[i + 1]), merges.join("\n")).unwrap();
    }
    if let Some(i) = args.iter().position(|a| a == "--whys") {
        // One line per item: its title, final series and the decision as `explain` shows it.
        let lines: Vec<String> = out
            .why
            .iter()
            .zip(&series)
            .map(|((id, why), s)| {
                let title = &items[*id as usize].0.title;
                serde_json::json!({"title": title, "series": s, "why": why}).to_string()
            })
            .collect();
        std::fs::write(&args[i + 1], lines.join("\n")).unwrap();
    }
    if let Some(top) = flag("--top") {
        let mut largest: Vec<(u64, usize)> = sizes.into_iter().collect();
        largest.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        for (id, n) in largest.into_iter().take(top) {
            let s = engine.summary(id).unwrap();
            println!("{n:>5}  {} ({})  [{}]", s.title, s.count, s.keywords.join(", "));
        }
    }
    if args.iter().any(|a| a == "--ceiling") {
        let (p, r) = bcubed(&ceiling::assign(&items, params().name_boost), &stories);
        println!("labelled oracle, same features: BCubed P {p:.3} R {r:.3} F1 {:.3}", 2.0 * p * r / (p + r));
    }
    if let Some(times) = flag("--scale") {
        scale(&items, times);
    }
}

/// Cost per item as the stream grows: the dev stream replayed `times` times, a month apart.
fn scale(items: &[(NewItem, usize)], times: usize) {
    let mut engine = Engine::new(params(), 0);
    let mut done = 0usize;
    let mut window_start = Instant::now();
    let mut window_items = 0usize;
    let mut marks = vec![10_000usize, 20_000, 50_000, 100_000, 200_000, 1_000_000];
    for round in 0..times {
        // Chunks as the product groups them (`grouping`'s CHUNK): a summary per changed
        // series per chunk, as there.
        for chunk in items.chunks(2000) {
            let batch: Vec<NewItem> = chunk
                .iter()
                .map(|(i, _)| NewItem {
                    id: (done + round) as i64,
                    title: format!("{} {}", i.title, round),
                    published: i.published + round as i64 * 30 * 86_400,
                    ..i.clone()
                })
                .collect();
            engine.assign(&batch);
            done += batch.len();
            window_items += batch.len();
            if marks.first().is_some_and(|m| done >= *m) {
                let us = window_start.elapsed().as_secs_f64() * 1e6 / window_items as f64;
                println!(
                    "at {done:>7} items: {us:.1} µs/item over the last {window_items}, {} series in memory",
                    engine.active()
                );
                marks.remove(0);
                window_start = Instant::now();
                window_items = 0;
            }
        }
    }
}
