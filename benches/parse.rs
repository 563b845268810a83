//! Parse throughput: feed-rs alone (the baseline) against storyline's full bytes-to-entries
//! path (charset, feed-rs, normalization, sanitizing), on a generated corpus.
//!
//! Then hostile bodies of one entry each: deeply nested markup (the nesting cap keeps it
//! linear) and markup the HTML parser logs about.
//!
//! Usage: cargo bench --bench parse -- CORPUS_DIR   (see bench/gen_corpus.py)

use std::time::Instant;

use url::Url;

fn main() {
    let dir = std::env::args().filter(|a| a != "--bench").nth(1).expect("usage: parse CORPUS_DIR");
    let mut docs = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "xml") {
            docs.push(std::fs::read(path).unwrap());
        }
    }
    let bytes: usize = docs.iter().map(Vec::len).sum();
    let url = Url::parse("http://127.0.0.1/feed.xml").unwrap();
    let mb = bytes as f64 / 1e6;

    let t = Instant::now();
    let mut n = 0;
    for d in &docs {
        n += feed_rs::parser::parse(&d[..]).map(|f| f.entries.len()).unwrap_or(0);
    }
    let base = t.elapsed().as_secs_f64();
    println!("feed-rs alone:     {:.2}s  {:.0} MB/s  {n} entries", base, mb / base);

    let t = Instant::now();
    let mut m = 0;
    for d in &docs {
        m += storyline::parse::parse(d, Some("application/xml"), &url).map(|f| f.entries.len()).unwrap_or(0);
    }
    let full = t.elapsed().as_secs_f64();
    println!("storyline parse:   {:.2}s  {:.0} MB/s  {m} entries  ({:.2}x feed-rs)", full, mb / full, full / base);

    for (name, unit, n) in [
        ("nested <div>", "<div>", 20_000),
        ("nested <div>", "<div>", 40_000),
        ("nested <span>", "<span>", 40_000),
        ("<table>x</table>", "<table>x</table>", 20_000),
        ("unterminated <a '", "<a '", 200_000),
    ] {
        let escaped = unit.replace('<', "&lt;").replace('>', "&gt;").repeat(n);
        let doc = format!(
            "<rss version=\"2.0\"><channel><title>T</title><item><title>x</title>\
             <link>http://h.example/1</link><description>{escaped}</description></item></channel></rss>"
        );
        let t = Instant::now();
        let parsed = storyline::parse::parse(doc.as_bytes(), None, &url);
        let took = t.elapsed().as_secs_f64();
        let ok = parsed.map(|f| f.entries.len()).unwrap_or(0);
        println!("{n:>6} x {name:<18} {:>7.1} KiB  {took:.3}s  ({ok} entry)", doc.len() as f64 / 1024.0);
    }
}
