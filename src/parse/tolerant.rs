//! A forgiving XML reader for documents that real feeds send but XML parsers reject:
//! HTML named entities, bare `&`, `&#X..;`, unclosed CDATA, mismatched or unclosed
//! tags, unquoted attributes, DOCTYPEs with entity declarations. It builds a small tree
//! the way a browser would (close what must be closed, drop what cannot match) so that
//! entries can still be found. Pure; never fails, never panics on any input.

use std::collections::HashMap;

use crate::text::decode_entities;

/// An element: its name as written (with prefix), attributes and children.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Element {
    /// Qualified name, e.g. `dc:date`.
    pub name: String,
    /// Attributes in document order, values decoded.
    pub attrs: Vec<(String, String)>,
    /// Child elements and text.
    pub children: Vec<Node>,
}

/// A child of an element.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A nested element.
    Element(Element),
    /// Text (entities decoded; CDATA as is).
    Text(String),
}

impl Element {
    /// The name without its namespace prefix, lower-cased.
    pub fn local(&self) -> String {
        self.name.rsplit(':').next().unwrap_or(&self.name).to_ascii_lowercase()
    }

    /// The value of attribute `name` (compared without case).
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Child elements.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|c| match c {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// All text inside, in order.
    pub fn text(&self) -> String {
        let mut out = String::new();
        self.collect_text(&mut out);
        out
    }

    fn collect_text(&self, out: &mut String) {
        for c in &self.children {
            match c {
                Node::Text(t) => out.push_str(t),
                Node::Element(e) => e.collect_text(out),
            }
        }
    }

    /// The markup inside, re-serialized (for HTML carried unescaped in a feed).
    pub fn inner_markup(&self) -> String {
        let mut out = String::new();
        for c in &self.children {
            match c {
                Node::Text(t) => out.push_str(&escape(t)),
                Node::Element(e) => e.outer_markup(&mut out),
            }
        }
        out
    }

    fn outer_markup(&self, out: &mut String) {
        out.push('<');
        out.push_str(&self.name);
        for (k, v) in &self.attrs {
            out.push_str(&format!(" {k}=\"{}\"", escape(v).replace('"', "&quot;")));
        }
        out.push('>');
        out.push_str(&self.inner_markup());
        out.push_str(&format!("</{}>", self.name));
    }
}

fn escape(t: &str) -> String {
    t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Deepest nesting kept; deeper elements are flattened into their parent (a hostile
/// document cannot exhaust the stack).
const MAX_DEPTH: usize = 256;

/// Reads `text` into a tree under a nameless root element.
pub fn read(text: &str) -> Element {
    let mut r = Reader { text, pos: 0, stack: vec![Element::default()], entities: HashMap::new() };
    r.run();
    while r.stack.len() > 1 {
        r.close_top();
    }
    r.stack.pop().unwrap_or_default()
}

struct Reader<'a> {
    text: &'a str,
    pos: usize,
    stack: Vec<Element>,
    entities: HashMap<String, String>,
}

impl<'a> Reader<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn run(&mut self) {
        while self.pos < self.text.len() {
            let rest = self.rest();
            let Some(lt) = rest.find('<') else {
                self.push_text(rest);
                self.pos = self.text.len();
                break;
            };
            if lt > 0 {
                self.push_text(&rest[..lt]);
                self.pos += lt;
            }
            self.markup();
        }
    }

    /// At a `<`: a comment, CDATA, DOCTYPE, processing instruction, tag, or a stray `<`.
    fn markup(&mut self) {
        let rest = self.rest();
        if rest.starts_with("<!--") {
            self.skip_past("-->", 4);
        } else if rest.starts_with("<![CDATA[") {
            self.cdata();
        } else if rest.get(..9).is_some_and(|r| r.eq_ignore_ascii_case("<!doctype")) {
            self.doctype();
        } else if rest.starts_with("<?") || rest.starts_with("<!") {
            self.skip_past(">", 2);
        } else if rest.starts_with("</") {
            self.end_tag();
        } else if rest[1..].starts_with(|c: char| c.is_alphabetic() || c == '_') {
            self.start_tag();
        } else {
            self.push_text("<");
            self.pos += 1;
        }
    }

    fn skip_past(&mut self, end: &str, from: usize) {
        self.pos = match self.rest().get(from..).and_then(|r| r.find(end)) {
            Some(i) => self.pos + from + i + end.len(),
            None => self.text.len(),
        };
    }

    /// CDATA runs to `]]>`; when that is missing, up to the end tag of the element it
    /// sits in (so one unclosed section loses no other entry).
    fn cdata(&mut self) {
        let body = &self.rest()[9..];
        let (content, advance) = match body.find("]]>") {
            Some(i) => (&body[..i], 9 + i + 3),
            None => {
                let parent = self.stack.last().map(|e| e.name.as_str()).unwrap_or_default();
                let end = end_tag_of(body, parent).unwrap_or(body.len());
                (&body[..end], 9 + end)
            }
        };
        self.append(Node::Text(content.to_string()));
        self.pos += advance;
    }

    /// Skips a DOCTYPE, learning the entities its internal subset declares.
    fn doctype(&mut self) {
        let rest = self.rest();
        let first_gt = rest.find('>').unwrap_or(rest.len());
        // Only a `[` before the first `>` opens a subset (and searching further would make
        // many DOCTYPEs quadratic).
        let subset_start = rest[..first_gt].find('[');
        let end = match subset_start {
            Some(open) if open < first_gt => match rest[open..].find("]") {
                Some(close) => {
                    self.learn_entities(&rest[open..open + close]);
                    open + close + rest[open + close..].find('>').map_or(rest.len() - open - close, |g| g + 1)
                }
                None => rest.len(),
            },
            _ => (first_gt + 1).min(rest.len()),
        };
        self.pos += end;
    }

    fn learn_entities(&mut self, subset: &str) {
        for decl in subset.split("<!ENTITY").skip(1) {
            let mut parts = decl.trim_start().splitn(2, char::is_whitespace);
            let (Some(name), Some(rest)) = (parts.next(), parts.next()) else { continue };
            let rest = rest.trim_start();
            let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else { continue };
            if let Some(end) = rest[1..].find(quote) {
                let value = decode_entities(&rest[1..1 + end], &HashMap::new());
                self.entities.insert(name.to_string(), value);
            }
        }
    }

    fn end_tag(&mut self) {
        let rest = self.rest();
        let end = rest.find('>').map_or(rest.len(), |i| i + 1);
        let name = rest[2..end].trim_end_matches('>').trim().to_ascii_lowercase();
        self.pos += end;
        // Close up to the matching open element; an end tag nothing matches is dropped.
        if let Some(depth) = self.stack.iter().rposition(|e| e.name.to_ascii_lowercase() == name) {
            if depth > 0 {
                while self.stack.len() > depth {
                    self.close_top();
                }
            }
        }
    }

    fn start_tag(&mut self) {
        let (element, self_closing, len) = parse_tag(self.rest(), &self.entities);
        self.pos += len;
        // Entries never nest: a new one closes one left open (as a new <li> does in HTML).
        let local = element.local();
        if local == "item" || local == "entry" {
            if let Some(depth) = self.stack.iter().rposition(|e| !e.name.is_empty() && e.local() == local) {
                while self.stack.len() > depth {
                    self.close_top();
                }
            }
        }
        if self_closing || self.stack.len() > MAX_DEPTH {
            self.append(Node::Element(element));
        } else {
            self.stack.push(element);
        }
    }

    fn close_top(&mut self) {
        if self.stack.len() > 1 {
            let done = self.stack.pop().unwrap_or_default();
            self.append(Node::Element(done));
        }
    }

    fn append(&mut self, node: Node) {
        if let Some(top) = self.stack.last_mut() {
            top.children.push(node);
        }
    }

    fn push_text(&mut self, raw: &str) {
        let text = decode_entities(raw, &self.entities);
        if let Some(Node::Text(last)) = self.stack.last_mut().and_then(|t| t.children.last_mut()) {
            last.push_str(&text);
        } else {
            self.append(Node::Text(text));
        }
    }
}

/// Where the end tag of `name` starts in `s` (names compared without case).
fn end_tag_of(s: &str, name: &str) -> Option<usize> {
    if name.is_empty() {
        return None;
    }
    s.match_indices("</")
        .map(|(i, _)| i)
        .find(|i| s.as_bytes().get(i + 2..i + 2 + name.len()).is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes())))
}

/// Reads a start tag at the start of `s`: the element, whether it closes itself, and
/// the bytes consumed. Attribute values may be double-, single- or un-quoted.
fn parse_tag(s: &str, entities: &HashMap<String, String>) -> (Element, bool, usize) {
    let bytes = s.as_bytes();
    let mut i = 1;
    let name_end = s[1..].find(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/').map_or(s.len(), |n| n + 1);
    let mut element = Element { name: s[1..name_end].to_string(), ..Element::default() };
    i = i.max(name_end);
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        match bytes.get(i) {
            None => return (element, false, s.len()),
            Some(b'>') => return (element, false, i + 1),
            Some(b'/') if bytes.get(i + 1) == Some(&b'>') => return (element, true, i + 2),
            Some(b'/') => {
                i += 1;
                continue;
            }
            _ => {}
        }
        let key_end = s[i..]
            .find(|c: char| c.is_ascii_whitespace() || c == '=' || c == '>' || c == '/')
            .map_or(s.len(), |n| n + i);
        let key = s[i..key_end].to_string();
        // An empty key is a stray character: step over it whole (it may be multi-byte).
        i = if key_end > i { key_end } else { i + s[i..].chars().next().map_or(1, char::len_utf8) };
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if bytes.get(i) == Some(&b'=') {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            let (raw, next) = match bytes.get(i) {
                Some(q @ (b'"' | b'\'')) => {
                    let close = s[i + 1..].find(*q as char).map_or(s.len(), |n| n + i + 1);
                    (&s[i + 1..close], (close + 1).min(s.len()))
                }
                _ => {
                    let end = s[i..].find(|c: char| c.is_ascii_whitespace() || c == '>').map_or(s.len(), |n| n + i);
                    (&s[i..end], end)
                }
            };
            value = decode_entities(raw, entities);
            i = next;
        }
        if !key.is_empty() {
            element.attrs.push((key, value));
        }
    }
}

#[cfg(test)]
mod tests;
