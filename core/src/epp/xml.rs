//! The XML underneath: a reader that turns a document into a small tree of elements named by
//! namespace URI and local name (quick-xml's `NsReader` resolves the prefixes), and a writer of
//! escaped text. Only what EPP needs: no DTD, no entities beyond XML's five and character
//! references, no processing of comments or instructions, depth capped.

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

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

/// One element: its start tag as read (borrowed from the document: its name and attributes are
/// read from it when asked), its text, and links to its first child and next sibling.
#[derive(Debug)]
struct Element<'a> {
    ns: Ns,
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
        let mut reader = NsReader::from_reader(xml);
        let config = reader.config_mut();
        config.expand_empty_elements = true;
        config.check_end_names = true;
        let mut elements: Vec<Element<'a>> = Vec::with_capacity(32);
        let mut open: Vec<u32> = Vec::with_capacity(MAX_DEPTH);
        let mut done = false;
        loop {
            let (ns, event) = reader.read_resolved_event().map_err(malformed)?;
            match event {
                Event::Start(start) => {
                    if done {
                        return Err(malformed("content after the root element"));
                    }
                    if open.len() >= MAX_DEPTH {
                        return Err(EppError::TooDeep(MAX_DEPTH));
                    }
                    let ns = match ns {
                        ResolveResult::Bound(uri) => Ns::of(uri.as_ref()),
                        ResolveResult::Unbound => Ns::None,
                        ResolveResult::Unknown(prefix) => {
                            return Err(malformed(format!("undeclared prefix '{prefix}'")))
                        }
                    };
                    let index = u32::try_from(elements.len())
                        .map_err(|_| malformed("too many elements"))?;
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
                    if open.is_empty() {
                        done = true;
                    }
                }
                Event::Text(t) => {
                    let text = t.into_inner();
                    if text.trim().is_empty() {
                        continue;
                    }
                    let Some(&index) = open.last() else {
                        return Err(malformed("text outside the root element"));
                    };
                    append(&mut elements[index as usize].text, text);
                }
                Event::CData(c) => {
                    let Some(&index) = open.last() else {
                        return Err(malformed("CDATA outside the root element"));
                    };
                    append(&mut elements[index as usize].text, c.into_inner());
                }
                Event::GeneralRef(r) => {
                    let c = reference(&r.into_inner())?;
                    let Some(&index) = open.last() else {
                        return Err(malformed("a reference outside the root element"));
                    };
                    elements[index as usize].text.to_mut().push(c);
                }
                Event::DocType(_) => return Err(EppError::Entity("<!DOCTYPE".into())),
                Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
                Event::Empty(_) => unreachable!("empty elements are expanded"),
                Event::Eof => break,
            }
        }
        if !open.is_empty() || elements.is_empty() {
            return Err(malformed(
                "the document ends before its root element closes",
            ));
        }
        // Attributes are read when asked for; a malformed one must still fail the document.
        for e in &elements {
            for attribute in e.start.attributes() {
                attribute.map_err(malformed)?;
            }
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
        e.ns == ns && e.start.local_name().as_ref() == name
    }

    /// Its local name.
    pub fn name(&self) -> &'t str {
        let start: &'t BytesStart<'a> = &self.element().start;
        let qualified: &'t str = &start[..start.name().as_ref().len()];
        qualified.rsplit(':').next().unwrap_or(qualified)
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
        self.element()
            .start
            .attributes()
            .flatten()
            .find(|a| a.key.as_namespace_binding().is_none() && a.key.local_name().as_ref() == name)
            .and_then(|a| unescape(a.value).ok())
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
}
