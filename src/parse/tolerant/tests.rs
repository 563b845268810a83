//! The tolerant reader on the kinds of breakage feeds carry.

use super::*;

fn first<'a>(e: &'a Element, name: &str) -> &'a Element {
    fn find<'a>(e: &'a Element, name: &str) -> Option<&'a Element> {
        if e.name == name {
            return Some(e);
        }
        e.elements().find_map(|c| find(c, name))
    }
    find(e, name).unwrap_or_else(|| panic!("no <{name}> in {e:?}"))
}

#[test]
fn entities_of_every_kind() {
    let doc = read("<t>Caf&eacute;&nbsp;&#X2019;&#x41;&#66; AT&T &amp; P&G &bogus; &lt;b&gt;</t>");
    assert_eq!(first(&doc, "t").text(), "Café\u{a0}\u{2019}AB AT&T & P&G &bogus; <b>");
}

#[test]
fn doctype_entities_are_learned() {
    let doc = read("<!DOCTYPE rss [ <!ENTITY copy \"&#169;\"> <!ENTITY me 'Ann'> ]><rss><t>&copy; &me;</t></rss>");
    assert_eq!(first(&doc, "t").text(), "© Ann");
}

#[test]
fn unclosed_cdata_ends_at_its_elements_end_tag() {
    let doc = read("<i><d><![CDATA[<p>open</p></d></i><i><d>two</d></i>");
    let items: Vec<&Element> = doc.elements().collect();
    assert_eq!(items.len(), 2, "{doc:?}");
    assert_eq!(first(items[0], "d").text(), "<p>open</p>");
    assert_eq!(first(items[1], "d").text(), "two");
}

#[test]
fn mismatched_and_unclosed_tags_are_balanced() {
    let doc = read("<c><i><t>Bold <b>claim</t><l>x</l></i><i><t>Two</t></c>");
    let c = first(&doc, "c");
    let items: Vec<&Element> = c.elements().collect();
    assert_eq!(items.len(), 2, "{c:?}");
    assert_eq!(first(items[0], "t").text(), "Bold claim");
    assert_eq!(first(items[0], "l").text(), "x");
    assert_eq!(first(items[1], "t").text(), "Two");
}

#[test]
fn attributes_in_any_quoting() {
    let doc = read("<link href=http://x/a?b=1&amp;c=2 rel='alternate' type=\"text/html\" hidden/>");
    let l = first(&doc, "link");
    assert_eq!(l.attr("href"), Some("http://x/a?b=1&c=2"));
    assert_eq!(l.attr("REL"), Some("alternate"));
    assert_eq!(l.attr("hidden"), Some(""));
}

#[test]
fn nothing_panics_on_truncated_or_binary_input() {
    let samples = [
        "<",
        "<a",
        "<a b=",
        "<a b='",
        "<![CDATA[",
        "<!DOCTYPE x [",
        "&#xFFFFFFFF;",
        "</",
        "<é",
        "<a é=ü>",
        "<!doctypé",
    ];
    for s in samples {
        let _ = read(s);
    }
    let deep = "<a>".repeat(10_000);
    assert!(read(&deep).text().is_empty());
    let bytes: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    let _ = read(&String::from_utf8_lossy(&bytes));
}

#[test]
fn hostile_repetitions_stay_linear() {
    // Each of these took time proportional to the rest of the document per occurrence
    // in a naive reader: with 2 MB of them, a quadratic reader would not finish.
    for unit in ["&", "<![CDATA[x", "<!DOCTYPE a ", "<!--", "<a b='", "</x>", "<a><b>"] {
        let doc = format!(
            "<rss><channel><item><title>{}</title></item></channel></rss>",
            unit.repeat(2_000_000 / unit.len())
        );
        // A hang guard, not a speed claim (the parse bench measures speed): quadratic
        // would take hours here, linear takes well under a second.
        let started = std::time::Instant::now();
        let root = read(&doc);
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "{unit:?}: {:?}", started.elapsed());
        // Whatever the reader makes of the repetitions, it reads the channel element.
        assert!(root.elements().any(|e| e.name == "rss"), "{unit:?}");
    }
}
