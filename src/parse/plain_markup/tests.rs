use super::*;

fn ammonia_clean(html: &str) -> String {
    let base = url::Url::parse("https://example.org/feed.xml").unwrap();
    crate::parse::html::sanitizer(&base).clean(html).to_string()
}

#[test]
fn simple_bodies_come_out_as_ammonia_writes_them() {
    for html in [
        "",
        "just text",
        "<p>One.</p><p>Two &amp; three &eacute;t&#233; &#xE9;&nbsp;x &quot;q&quot; a > b</p>",
        "<ul><li>a</li><li><b>b</b></li></ul>line<br>break<br/>and<br />more<hr>",
        r#"<p>See <a href="https://example.org/a?x=1&amp;y=2" title="T">the report</a>.</p>"#,
        r#"<img src="https://cdn.example.org/1.jpg" alt="Photo &quot;1&quot;" width="640" height="360"/><p>x</p>"#,
        "<b><p>bold paragraph</p></b><div><p>a</p></div><ol><li><ul><li>nested</li></ul></li></ol>",
        "<dl><dt>term</dt><dd>definition</dd></dl><h2>head</h2><blockquote><p>q</p></blockquote>",
        "caf\u{e9} \u{1F600} &#8220;quoted&#8221;",
        "raw\u{a0}no-break <b>\u{a0}</b>\u{a0}",
        "<img src=\"https://x.org/1.jpg\" alt=\"a\u{a0}&quot;b&quot; &lt;c&gt;\">",
        "<p>line\r\nbreaks\rand <b title=\"a\rb\">more</b>\r</p>",
    ] {
        assert_eq!(clean(html).as_deref(), Some(ammonia_clean(html).as_str()), "{html}");
        assert_eq!(clean_and_text(html), clean(html).zip(text(html)), "{html}");
    }
}

#[test]
fn anything_else_goes_to_ammonia() {
    for html in [
        "<p onclick=\"x()\">a</p>",
        "<a href=\"/relative\">a</a>",
        "<a href=\"javascript:alert(1)\">a</a>",
        "<img src=\"https://:dn.;\" width=\"640\">",
        "sv&#x+10000; and &#+65;",
        "ellipsis &#133; in windows-1252",
        "<a href=\"https://example.org/\" rel=\"nofollow\">a</a>",
        "<a href='https://example.org/'>single quotes</a>",
        "<a href=\"https://example.org/\" href=\"https://evil/\">twice</a>",
        "<img src=\"https://x/1.jpg\" onerror=\"x()\">",
        "<script>alert(1)</script>",
        "<style>p{}</style>",
        "<pre>\ncode</pre>",
        "<P>upper</P>",
        "<!-- comment -->",
        "<p>unclosed",
        "<b><i>misnested</b></i>",
        "</p>",
        "<br></br>",
        "<p/>",
        "<p><ul><li>list in a paragraph</li></ul></p>",
        "<h1><h2>heading in heading</h2></h1>",
        "<ul><li>a<li>b</li></li></ul>",
        "<a href=\"https://x/\"><a href=\"https://y/\">link in link</a></a>",
        "AT&T",
        "&unknownentity;",
        "&#0;",
        "&#128;",
        "&#x110000;",
        "a < b",
        "nul\0byte",
        "<p\n>newline in tag</p>",
        "<a href=\"https://x/ y\">space in URL</a>",
    ] {
        assert_eq!(clean(html), None, "{html}");
        assert_eq!(text(html), None, "{html}");
        assert_eq!(clean_and_text(html), None, "{html}");
    }
    let deep = "<b>".repeat(MAX_DEPTH + 1) + &"</b>".repeat(MAX_DEPTH + 1);
    assert_eq!(clean(&deep), None);
}

#[test]
fn text_drops_tags_and_decodes_references() {
    let html = r#"<p>Week &amp; <a href="https://x.org/">more</a></p><p>caf&eacute;&nbsp;now</p>"#;
    assert_eq!(text(html).as_deref(), Some("Week & morecafé\u{a0}now"));
}
