//! Runs article extractors over the benchmark's pages and writes one prediction file per
//! extractor, in the benchmark's format, with the time each took. `_plain` variants read
//! the extracted HTML as a reader would (no link footnotes), which is what storyline
//! stores; the others are as the benchmark's own Rust runner reads them.

use std::collections::BTreeMap;
use std::io::Read;
use std::time::Instant;

fn normalize(s: &str) -> String {
    s.replace('\u{00ad}', "").replace("\r\n", "\n")
}

fn html_to_text(html: &str) -> String {
    html2text::from_read(html.as_bytes(), 80).unwrap_or_default()
}

/// Text of HTML without link footnotes or image markers (what a reader reads).
fn plain_text(html: &str) -> String {
    html2text::config::with_decorator(html2text::render::TrivialDecorator::new())
        .string_from_read(html.as_bytes(), 10_000)
        .unwrap_or_default()
}

fn extract(backend: &str, html: &str, url: &str) -> Result<String, Box<dyn std::error::Error>> {
    Ok(match backend {
        "llm_readability" => {
            let mut reader = html.as_bytes();
            let parsed_url = url::Url::parse(url)?;
            let product = llm_readability::extractor::extract(&mut reader, &parsed_url)?;
            normalize(&product.text)
        }
        "readability" => {
            let mut reader = html.as_bytes();
            let parsed_url = url::Url::parse(url)?;
            let readable = readability::extractor::extract(&mut reader, &parsed_url)?;
            normalize(&readable.text)
        }
        "readabilityrs" => {
            let article = readabilityrs::Readability::new(html, Some(url), None)?.parse().ok_or("no article")?;
            normalize(&html_to_text(article.content.as_deref().unwrap_or_default()))
        }
        "dom_smoothie" => {
            let mut readability = dom_smoothie::Readability::new(html.to_string(), Some(url), None)?;
            let article = readability.parse()?;
            normalize(&html_to_text(&article.content))
        }
        "readable-readability" => {
            let mut readability = readable_readability::Readability::new();
            if let Ok(parsed) = url::Url::parse(url) {
                readability.base_url(parsed);
            }
            let (node, _meta) = readability.parse(html);
            normalize(&node.text_contents())
        }
        "rs_trafilatura" => {
            let result = rs_trafilatura::extract(html)?;
            normalize(&result.content_text)
        }
        "rs_trafilatura_html" => {
            let options = rs_trafilatura::Options {
                include_links: true,
                include_images: true,
                url: Some(url.to_string()),
                ..rs_trafilatura::Options::default()
            };
            let result = rs_trafilatura::extract_with_options(html, &options)?;
            normalize(&plain_text(result.content_html.as_deref().unwrap_or_default()))
        }
        "rs_trafilatura_html_plain" => {
            let options = rs_trafilatura::Options { url: Some(url.to_string()), ..rs_trafilatura::Options::default() };
            let result = rs_trafilatura::extract_with_options(html, &options)?;
            normalize(&plain_text(result.content_html.as_deref().unwrap_or_default()))
        }
        "dom_smoothie_plain" => {
            let mut readability = dom_smoothie::Readability::new(html.to_string(), Some(url), None)?;
            let article = readability.parse()?;
            normalize(&plain_text(&article.content))
        }
        _ => return Err("unknown".into()),
    })
}

fn main() {
    let mut args = std::env::args().skip(1);
    let bench = args.next().expect("benchmark dir");
    let out = args.next().expect("output dir");
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{bench}/ground-truth.json")).unwrap()).unwrap();
    let backends: Vec<String> = args.collect();
    for backend in &backends {
        let mut results = BTreeMap::new();
        let mut failures = 0;
        let started = Instant::now();
        for (id, item) in truth.as_object().unwrap() {
            let mut gz = flate2::read::GzDecoder::new(std::fs::File::open(format!("{bench}/html/{id}.html.gz")).unwrap());
            let mut html = String::new();
            gz.read_to_string(&mut html).unwrap();
            let url = item["url"].as_str().unwrap_or("https://example.com/");
            let body = match std::panic::catch_unwind(|| extract(backend, &html, url).map_err(|e| e.to_string())) {
                Ok(Ok(text)) => text,
                _ => {
                    failures += 1;
                    String::new()
                }
            };
            results.insert(id.clone(), serde_json::json!({ "articleBody": body }));
        }
        let secs = started.elapsed().as_secs_f64();
        std::fs::write(format!("{out}/{backend}.json"), serde_json::to_string(&results).unwrap()).unwrap();
        println!("{backend}: {} pages in {secs:.2}s ({:.1} ms/page), {failures} failed", results.len(), secs * 1000.0 / results.len() as f64);
    }
}
