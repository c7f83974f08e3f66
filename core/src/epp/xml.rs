//! The XML underneath: a reader that turns a document into a small tree of elements named by
//! namespace URI and local name, and a writer of escaped text. Only what EPP needs: no DTD, no
//! entities beyond XML's five and character references, no processing of comments or
//! instructions, depth and namespace declarations capped.
//!
//! quick-xml's `Reader` reads the events; the prefixes are resolved here ([`Scopes`]), not by
//! its `NsReader`. On a registry's indented `creData` answer the `NsReader` alone took 1.7-1.9
//! µs where the `Reader` takes 1.1 µs and the resolution below about 0.1 µs: the `NsReader`
//! scans every start tag's attributes for declarations, and moves each event through its own
//! bookkeeping, while here only a tag whose text holds `xmlns` is looked at, and an EPP
//! document declares two or three namespaces. The benchmark in `runtime/benches/epp_codec.rs`
//! (and BENCHMARKS.md) has the figures.

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::{unexpected, EppError};

/// How deep elements may nest. EPP's own frames go to about eight.
pub const MAX_DEPTH: usize = 32;

/// A namespace this reader tells apart; any other URI is `Other`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ns {
    Epp,
    Domain,
    Rgp,
    Fee,
    Other,
    None,
}

impl Ns {
    fn of(uri: &str) -> Ns {
        match uri {
            "urn:ietf:params:xml:ns:epp-1.0" => Ns::Epp,
            "urn:ietf:params:xml:ns:domain-1.0" => Ns::Domain,
            "urn:ietf:params:xml:ns:rgp-1.0" => Ns::Rgp,
            "urn:ietf:params:xml:ns:epp:fee-1.0" => Ns::Fee,
            _ => Ns::Other,
        }
    }
}

/// How many namespace declarations may be in scope at once (each resolution scans them).
pub const MAX_NAMESPACES: usize = 32;

/// The elements open while reading, innermost last: at most [`MAX_DEPTH`], on the stack.
struct Open {
    indices: [u32; MAX_DEPTH],
    len: usize,
}

impl Default for Open {
    fn default() -> Open {
        Open {
            indices: [0; MAX_DEPTH],
            len: 0,
        }
    }
}

impl Open {
    fn len(&self) -> usize {
        self.len
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn last(&self) -> Option<&u32> {
        self.indices[..self.len].last()
    }

    /// Opens `index`; the caller has checked the depth.
    fn push(&mut self, index: u32) {
        self.indices[self.len] = index;
        self.len += 1;
    }

    fn pop(&mut self) {
        self.len = self.len.saturating_sub(1);
    }
}

/// How many bytes the prefixes in scope may take together.
const PREFIX_BYTES: usize = 256;

/// The namespace declarations in scope while reading: each a prefix (empty for the default
/// namespace), the namespace it is bound to, and the depth of the element declaring it. Kept in
/// fixed arrays: reading a document allocates nothing for its namespaces.
pub(crate) struct Scopes {
    /// The declared prefixes, one after another.
    prefixes: [u8; PREFIX_BYTES],
    /// (where the prefix starts in `prefixes`, its namespace, the declaring element's depth),
    /// innermost last; each prefix ends where the next starts (or at `used`).
    bindings: [(u8, Ns, u8); MAX_NAMESPACES],
    len: usize,
    used: usize,
}

impl Scopes {
    pub(crate) fn new() -> Scopes {
        Scopes {
            prefixes: [0; PREFIX_BYTES],
            bindings: [(0, Ns::None, 0); MAX_NAMESPACES],
            len: 0,
            used: 0,
        }
    }

    /// Checks the attributes of `start`, an element at `depth`, and takes its namespace
    /// declarations.
    pub(crate) fn push(&mut self, start: &BytesStart<'_>, depth: usize) -> Result<(), EppError> {
        if start.attributes_raw().trim_ascii_start().is_empty() {
            return Ok(());
        }
        for attribute in start.attributes() {
            let attribute = attribute.map_err(malformed)?;
            let prefix = match attribute.key.0.strip_prefix("xmlns") {
                Some("") => "",
                Some(named) => match named.strip_prefix(':') {
                    Some(p) => p,
                    None => continue,
                },
                None => continue,
            };
            let uri = unescape(attribute.value)?;
            if !prefix.is_empty() && uri.is_empty() {
                return Err(malformed(format!("xmlns:{prefix} bound to nothing")));
            }
            if self.len >= MAX_NAMESPACES || self.used + prefix.len() > PREFIX_BYTES {
                return Err(malformed("too many namespace declarations in scope"));
            }
            // An empty default namespace undeclares it: names without a prefix are in none.
            let ns = if uri.is_empty() {
                Ns::None
            } else {
                Ns::of(&uri)
            };
            let from = self.used;
            self.prefixes[from..from + prefix.len()].copy_from_slice(prefix.as_bytes());
            self.used += prefix.len();
            // Both fit in a byte: PREFIX_BYTES is 256 with `from` below it, depth below
            // MAX_DEPTH.
            self.bindings[self.len] = (from as u8, ns, depth as u8);
            self.len += 1;
        }
        Ok(())
    }

    /// Forgets the declarations of the element at `depth`, which closed.
    pub(crate) fn pop(&mut self, depth: usize) {
        while self.len > 0 && self.bindings[self.len - 1].2 as usize >= depth {
            self.len -= 1;
            self.used = self.bindings[self.len].0 as usize;
        }
    }

    /// The namespace of an element named with `prefix` (empty: none); innermost wins.
    pub(crate) fn resolve(&self, prefix: &str) -> Result<Ns, EppError> {
        let mut end = self.used;
        for &(from, ns, _) in self.bindings[..self.len].iter().rev() {
            // Prefixes are a few bytes: compared here, not by a call to memcmp.
            let bound = &self.prefixes[from as usize..end];
            if bound.len() == prefix.len() && bound.iter().zip(prefix.bytes()).all(|(a, b)| *a == b)
            {
                return Ok(ns);
            }
            end = from as usize;
        }
        if prefix.is_empty() {
            Ok(Ns::None)
        } else {
            Err(malformed(format!("undeclared prefix '{prefix}'")))
        }
    }
}

/// One element: its start tag as read (borrowed from the document: its name and attributes are
/// read from it when asked), its text, and links to its first child and next sibling.
#[derive(Debug)]
struct Element<'a> {
    ns: Ns,
    /// Where its local name starts in its name (after the prefix and colon).
    local: u16,
    start: BytesStart<'a>,
    text: Cow<'a, str>,
    first_child: u32,
    last_child: u32,
    next_sibling: u32,
}

/// No element.
const NONE: u32 = u32::MAX;

/// A parsed document: elements in document order, the root first.
#[derive(Debug)]
pub struct Tree<'a> {
    elements: Vec<Element<'a>>,
}

/// Why a reading pass stopped: the document is bad, or it needs the exact pass.
enum Pass {
    Failed(EppError),
    Exact,
}

impl From<EppError> for Pass {
    fn from(e: EppError) -> Pass {
        Pass::Failed(e)
    }
}

fn malformed(e: impl std::fmt::Display) -> EppError {
    EppError::Malformed(e.to_string())
}

/// The text a character or predefined entity reference stands for; anything else is refused.
fn reference(name: &str) -> Result<char, EppError> {
    let named = match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => None,
    };
    if let Some(c) = named {
        return Ok(c);
    }
    let number = if let Some(hex) = name.strip_prefix("#x") {
        u32::from_str_radix(hex, 16).ok()
    } else if let Some(dec) = name.strip_prefix('#') {
        dec.parse().ok()
    } else {
        None
    };
    number
        .and_then(char::from_u32)
        .ok_or_else(|| EppError::Entity(name.chars().take(40).collect()))
}

fn append<'a>(text: &mut Cow<'a, str>, more: Cow<'a, str>) {
    if text.is_empty() {
        *text = more;
    } else {
        text.to_mut().push_str(&more);
    }
}

impl<'a> Tree<'a> {
    /// Reads `xml`. Whitespace-only text between elements is dropped; other text is read
    /// trimmed.
    pub fn parse(xml: &'a [u8]) -> Result<Tree<'a>, EppError> {
        // The reader trims text itself first: whitespace-only text then never becomes an event,
        // which takes a third off the time of an indented document. Trimming each piece of text
        // is exact only while an element's text is one piece; a reference, CDATA or a second
        // piece ("a &amp; b" comes as "a", "&amp;", "b") sends the document to the exact pass.
        match Tree::read(xml, true) {
            Err(Pass::Exact) => Tree::read(xml, false),
            done => done,
        }
        .map_err(|pass| match pass {
            Pass::Failed(e) => e,
            Pass::Exact => malformed("unreadable text"),
        })
    }

    fn read(xml: &'a [u8], trim: bool) -> Result<Tree<'a>, Pass> {
        let mut reader = Reader::from_reader(xml);
        let mut scopes = Scopes::new();
        let config = reader.config_mut();
        config.expand_empty_elements = true;
        config.check_end_names = true;
        if trim {
            config.trim_text(true);
        }
        let mut elements: Vec<Element<'a>> = Vec::with_capacity(24);
        let mut open = Open::default();
        let mut done = false;
        loop {
            let event = match reader.read_event() {
                Ok(event) => event,
                Err(e) => return Err(malformed(e).into()),
            };
            match event {
                Event::Start(start) => {
                    if done {
                        return Err(malformed("content after the root element").into());
                    }
                    if open.len() >= MAX_DEPTH {
                        return Err(EppError::TooDeep(MAX_DEPTH).into());
                    }
                    scopes.push(&start, open.len())?;
                    let name = start.name().0;
                    let (prefix, local) = match name.find(':') {
                        Some(colon) => (&name[..colon], colon + 1),
                        None => ("", 0),
                    };
                    let ns = scopes.resolve(prefix)?;
                    let local = u16::try_from(local)
                        .map_err(|_| Pass::from(malformed("an element name too long")))?;
                    let index = u32::try_from(elements.len())
                        .map_err(|_| Pass::from(malformed("too many elements")))?;
                    if let Some(&parent) = open.last() {
                        let p = &mut elements[parent as usize];
                        if p.last_child == NONE {
                            p.first_child = index;
                        } else {
                            let last = p.last_child as usize;
                            elements[last].next_sibling = index;
                        }
                        elements[parent as usize].last_child = index;
                    }
                    elements.push(Element {
                        ns,
                        local,
                        start,
                        text: Cow::Borrowed(""),
                        first_child: NONE,
                        last_child: NONE,
                        next_sibling: NONE,
                    });
                    open.push(index);
                }
                Event::End(_) => {
                    open.pop();
                    scopes.pop(open.len());
                    if open.is_empty() {
                        done = true;
                    }
                }
                Event::Text(t) => {
                    let text = t.into_inner();
                    // Whitespace is kept inside an element (it may stand between two
                    // references, "&amp; &amp;"): only the trimming pass drops it, in the reader.
                    let Some(&index) = open.last() else {
                        if text.trim().is_empty() {
                            continue;
                        }
                        return Err(malformed("text outside the root element").into());
                    };
                    let into = &mut elements[index as usize].text;
                    if trim && !into.is_empty() {
                        return Err(Pass::Exact);
                    }
                    append(into, text);
                }
                Event::CData(c) => {
                    if trim {
                        return Err(Pass::Exact);
                    }
                    let Some(&index) = open.last() else {
                        return Err(malformed("CDATA outside the root element").into());
                    };
                    append(&mut elements[index as usize].text, c.into_inner());
                }
                Event::GeneralRef(r) => {
                    let c = reference(&r.into_inner())?;
                    if trim {
                        return Err(Pass::Exact);
                    }
                    let Some(&index) = open.last() else {
                        return Err(malformed("a reference outside the root element").into());
                    };
                    elements[index as usize].text.to_mut().push(c);
                }
                Event::DocType(_) => return Err(EppError::Entity("<!DOCTYPE".into()).into()),
                Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
                Event::Empty(_) => unreachable!("empty elements are expanded"),
                Event::Eof => break,
            }
        }
        if !open.is_empty() || elements.is_empty() {
            return Err(malformed("the document ends before its root element closes").into());
        }
        Ok(Tree { elements })
    }

    /// The root element.
    pub fn root(&self) -> Node<'_, 'a> {
        Node {
            tree: self,
            index: 0,
        }
    }
}

/// An attribute of a start tag by its local name (not a namespace declaration), its references
/// replaced: what [`Node::attribute`] answers, for readers that stream.
pub(crate) fn attribute<'s>(start: &'s BytesStart<'_>, name: &str) -> Option<Cow<'s, str>> {
    start
        .attributes()
        .flatten()
        .find(|a| a.key.as_namespace_binding().is_none() && a.key.local_name().as_ref() == name)
        .and_then(|a| unescape(a.value).ok())
}

/// An attribute value with its references replaced.
fn unescape(raw: Cow<'_, str>) -> Result<Cow<'_, str>, EppError> {
    if !raw.contains('&') {
        return Ok(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest: &str = &raw;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let end = rest[at..]
            .find(';')
            .ok_or_else(|| malformed("an unterminated reference"))?;
        out.push(reference(&rest[at + 1..at + end])?);
        rest = &rest[at + end + 1..];
    }
    out.push_str(rest);
    Ok(Cow::Owned(out))
}

/// An element of a [`Tree`], to read from.
#[derive(Clone, Copy)]
pub struct Node<'t, 'a> {
    tree: &'t Tree<'a>,
    index: u32,
}

impl<'t, 'a> Node<'t, 'a> {
    fn element(&self) -> &'t Element<'a> {
        &self.tree.elements[self.index as usize]
    }

    /// Is it `ns:name`?
    pub fn is(&self, ns: Ns, name: &str) -> bool {
        let e = self.element();
        e.ns == ns && self.name() == name
    }

    /// Its local name.
    pub fn name(&self) -> &'t str {
        let e: &'t Element<'a> = self.element();
        &e.start.name().0[e.local as usize..]
    }

    /// Its namespace.
    pub fn ns(&self) -> Ns {
        self.element().ns
    }

    /// Its text, trimmed.
    pub fn text(&self) -> &'t str {
        self.element().text.trim()
    }

    /// Its children, in order.
    pub fn children(&self) -> Children<'t, 'a> {
        Children {
            tree: self.tree,
            next: self.element().first_child,
        }
    }

    /// The first child `ns:name`.
    pub fn child(&self, ns: Ns, name: &str) -> Option<Node<'t, 'a>> {
        self.children().find(|c| c.is(ns, name))
    }

    /// The first child `ns:name`, or an error naming it.
    pub fn required(&self, ns: Ns, name: &str) -> Result<Node<'t, 'a>, EppError> {
        self.child(ns, name)
            .ok_or_else(|| unexpected(format!("<{}> has no <{name}>", self.name())))
    }

    /// Every child `ns:name`.
    pub fn all(&self, ns: Ns, name: &'t str) -> impl Iterator<Item = Node<'t, 'a>> + 't {
        self.children().filter(move |c| c.is(ns, name))
    }

    /// The only child element (for `<create>`, `<resData>` and the like).
    pub fn only_child(&self) -> Result<Node<'t, 'a>, EppError> {
        let mut children = self.children();
        match (children.next(), children.next()) {
            (Some(c), None) => Ok(c),
            _ => Err(unexpected(format!(
                "<{}> must hold exactly one element",
                self.name()
            ))),
        }
    }

    /// An attribute (unqualified) by name, its references replaced.
    pub fn attribute(&self, name: &str) -> Option<Cow<'t, str>> {
        attribute(&self.element().start, name)
    }
}

/// The children of a [`Node`].
pub struct Children<'t, 'a> {
    tree: &'t Tree<'a>,
    next: u32,
}

impl<'t, 'a> Iterator for Children<'t, 'a> {
    type Item = Node<'t, 'a>;

    fn next(&mut self) -> Option<Node<'t, 'a>> {
        if self.next == NONE {
            return None;
        }
        let node = Node {
            tree: self.tree,
            index: self.next,
        };
        self.next = node.element().next_sibling;
        Some(node)
    }
}

/// Appends `text` with `&`, `<`, `>` and `"` escaped (enough for text and attribute values).
pub fn escape_into(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(at) = rest.find(['&', '<', '>', '"']) {
        out.push_str(&rest[..at]);
        out.push_str(match rest.as_bytes()[at] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            _ => "&quot;",
        });
        rest = &rest[at + 1..];
    }
    out.push_str(rest);
}

/// Writes EPP documents: the declaration and `<epp>` opened by [`Writer::new`], closed by
/// [`Writer::finish`].
pub struct Writer {
    out: String,
}

impl Writer {
    /// A document with `<epp xmlns=…>` open.
    pub fn new() -> Writer {
        let mut out = String::with_capacity(768);
        out.push_str(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n\
             <epp xmlns=\"urn:ietf:params:xml:ns:epp-1.0\">",
        );
        Writer { out }
    }

    /// Raw markup (element names and attributes this module writes itself).
    pub fn raw(&mut self, markup: &str) -> &mut Self {
        self.out.push_str(markup);
        self
    }

    /// Escaped text.
    pub fn text(&mut self, text: &str) -> &mut Self {
        escape_into(&mut self.out, text);
        self
    }

    /// `<tag>text</tag>`, the text escaped; `tag` may carry attributes written by this module.
    pub fn element(&mut self, tag: &str, text: &str) -> &mut Self {
        let name = tag.split(' ').next().unwrap_or(tag);
        self.out.push('<');
        self.out.push_str(tag);
        self.out.push('>');
        escape_into(&mut self.out, text);
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    /// Closes `<epp>` and hands the document over.
    pub fn finish(mut self) -> String {
        self.out.push_str("</epp>\n");
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_are_matched_by_uri_not_prefix() {
        let xml = br#"<x:epp xmlns:x="urn:ietf:params:xml:ns:epp-1.0"><x:hello/><d:name xmlns:d="urn:ietf:params:xml:ns:domain-1.0">a&amp;b</d:name></x:epp>"#;
        let tree = Tree::parse(xml).unwrap();
        let root = tree.root();
        assert!(root.is(Ns::Epp, "epp"));
        assert!(root.child(Ns::Epp, "hello").is_some());
        assert_eq!(root.required(Ns::Domain, "name").unwrap().text(), "a&b");
        let wrong = br#"<epp xmlns="urn:example:not-epp"><hello/></epp>"#;
        assert!(!Tree::parse(wrong).unwrap().root().is(Ns::Epp, "epp"));
    }

    #[test]
    fn declarations_are_scoped_to_their_element() {
        let xml = br#"<epp xmlns="urn:ietf:params:xml:ns:epp-1.0" xmlns:d="urn:example:other"><a xmlns="urn:ietf:params:xml:ns:domain-1.0" xmlns:d="urn:ietf:params:xml:ns:rgp-1.0"><b/><d:c/></a><b/><d:c/><e xmlns=""><f/></e><g/></epp>"#;
        let tree = Tree::parse(xml).unwrap();
        let got: Vec<(Ns, &str)> = tree
            .root()
            .children()
            .flat_map(|c| std::iter::once(c).chain(c.children()))
            .map(|n| (n.ns(), n.name()))
            .collect();
        assert_eq!(
            got,
            [
                (Ns::Domain, "a"),
                (Ns::Domain, "b"),
                (Ns::Rgp, "c"),
                (Ns::Epp, "b"),
                (Ns::Other, "c"),
                (Ns::None, "e"),
                (Ns::None, "f"),
                (Ns::Epp, "g"),
            ]
        );
        let unbound = br#"<epp xmlns:d=""><d:a/></epp>"#;
        assert!(Tree::parse(unbound).is_err());
        let undeclared = br#"<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><d:a/></epp>"#;
        assert!(Tree::parse(undeclared).is_err());
        let declarations = |n: usize| -> String {
            let attributes: String = (0..n)
                .map(|i| format!(" xmlns:p{i}=\"urn:x:{i}\""))
                .collect();
            format!("<a{attributes}><p0:b/></a>")
        };
        assert!(Tree::parse(declarations(MAX_NAMESPACES).as_bytes()).is_ok());
        assert!(Tree::parse(declarations(MAX_NAMESPACES + 1).as_bytes()).is_err());
        let bad_attribute = br#"<epp a="1" a="2"/>"#;
        assert!(Tree::parse(bad_attribute).is_err());
    }

    #[test]
    fn entities_doctypes_and_depth_are_refused() {
        let laughs = br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><epp xmlns="urn:ietf:params:xml:ns:epp-1.0">&lol2;</epp>"#;
        assert!(matches!(Tree::parse(laughs), Err(EppError::Entity(_))));
        let undeclared = br#"<epp xmlns="urn:ietf:params:xml:ns:epp-1.0">&xxe;</epp>"#;
        assert_eq!(
            Tree::parse(undeclared).unwrap_err(),
            EppError::Entity("xxe".into())
        );
        let deep = format!(
            "{}{}",
            "<a>".repeat(MAX_DEPTH + 1),
            "</a>".repeat(MAX_DEPTH + 1)
        );
        assert_eq!(
            Tree::parse(deep.as_bytes()).unwrap_err(),
            EppError::TooDeep(MAX_DEPTH)
        );
        for bad in [
            &b"<epp><a></epp>"[..],
            b"<epp><a></b></epp>",
            b"</epp>",
            b"<epp>",
            b"",
            b"<epp/><epp/>",
            b"\xff\xfe<epp/>",
        ] {
            assert!(
                Tree::parse(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn references_are_read_in_text_and_attributes() {
        let xml = br#"<r a="x&lt;&#65;&#x42;">&#x263A;&quot;<![CDATA[<c>]]></r>"#;
        let tree = Tree::parse(xml).unwrap();
        assert_eq!(tree.root().attribute("a").as_deref(), Some("x<AB"));
        assert_eq!(tree.root().text(), "\u{263A}\"<c>");
    }

    #[test]
    fn text_keeps_its_inner_spaces_around_references_and_cdata() {
        // The trimming first pass would read these as "x&y" and "ab"; they take the exact pass.
        for (xml, text) in [
            (&b"<r>\n  x &amp; y  \n</r>"[..], "x & y"),
            (b"<r> a <![CDATA[b]]> </r>", "a b"),
            (b"<r> a <x/> b </r>", "a  b"),
            (b"<r>\n one two </r>", "one two"),
            (b"<r>&amp; &amp;</r>", "& &"),
        ] {
            let tree = Tree::parse(xml).unwrap();
            assert_eq!(tree.root().text(), text, "{}", String::from_utf8_lossy(xml));
        }
    }
}
