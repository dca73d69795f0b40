//! A strict, small XML reader for SAML documents.
//!
//! Owns: [`parse`], which turns a document into a tree of [`Element`]s with
//! resolved namespaces, refusing everything a SAML response does not need
//! and an attacker could use: a DTD (so no entity is ever declared or
//! expanded), entity references other than XML's five and character
//! references, processing instructions, a declared encoding other than
//! UTF-8 (libxml2 would decode such a document differently), more than one
//! root, and more depth or elements than [`Limits`] allow. Comments are
//! dropped and the text around them joined, which is what canonical XML
//! (and so the signature) sees: `admin<!---->@evil` reads `admin@evil`.
//! The same reader checks untrusted input before libxml2 sees it and reads
//! the verified bytes afterwards. Imports quick-xml only.

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

/// The SAML 2.0 assertion namespace.
pub(crate) const SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
/// The SAML 2.0 protocol namespace.
pub(crate) const SAMLP: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// The XML signature namespace.
pub(crate) const DS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// The XML encryption namespace.
pub(crate) const XENC: &str = "http://www.w3.org/2001/04/xmlenc#";

/// How much of a document [`parse`] accepts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Deepest element nesting.
    pub max_depth: usize,
    /// Most elements in the document.
    pub max_elements: usize,
}

/// Limits for SAML responses (at most 75,000 bytes after base64).
pub(crate) const RESPONSE_LIMITS: Limits = Limits {
    max_depth: 48,
    max_elements: 4_000,
};

/// Limits for IdP metadata (up to 10,000,000 characters).
pub(crate) const METADATA_LIMITS: Limits = Limits {
    max_depth: 48,
    max_elements: 500_000,
};

/// One element: namespace, local name, attributes and content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Element {
    /// The namespace URI (empty when none).
    pub ns: String,
    /// The local name.
    pub local: String,
    /// Attributes as written (`name` for unprefixed ones, `prefix:name`
    /// otherwise; namespace declarations left out), values unescaped.
    pub attrs: Vec<(String, String)>,
    /// Child elements and text, in document order.
    pub children: Vec<Node>,
}

/// Content of an element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node {
    /// A child element.
    Element(Element),
    /// Character data (text, references and CDATA, comments removed).
    Text(String),
}

/// Why a document was refused (logged; the caller picks the wire error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum XmlError {
    /// Not well-formed, or a name or reference quick-xml refuses.
    #[error("malformed xml: {0}")]
    Malformed(String),
    /// A construct this reader refuses outright.
    #[error("xml contains a forbidden construct: {0}")]
    Forbidden(&'static str),
    /// Too deep or too many elements.
    #[error("xml exceeds the size limits")]
    TooLarge,
}

/// Parses `text` into its root element under `limits`.
///
/// # Errors
///
/// [`XmlError`] for anything but a single well-formed root element made of
/// elements, attributes, text, CDATA and comments.
pub(crate) fn parse(text: &str, limits: Limits) -> Result<Element, XmlError> {
    let mut reader = NsReader::from_str(text);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.check_comments = true;
    config.expand_empty_elements = false;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0_usize;
    let malformed = |e: &dyn std::fmt::Display| XmlError::Malformed(e.to_string());
    loop {
        let (ns, event) = reader.read_resolved_event().map_err(|e| malformed(&e))?;
        let ns = namespace(&ns)?;
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                count += 1;
                if count > limits.max_elements || stack.len() >= limits.max_depth {
                    return Err(XmlError::TooLarge);
                }
                if root.is_some() {
                    return Err(XmlError::Malformed("content after the root element".into()));
                }
                let element = Element {
                    ns,
                    local: utf8(start.local_name().as_ref())?,
                    attrs: attributes(start)?,
                    children: Vec::new(),
                };
                if matches!(event, Event::Start(_)) {
                    stack.push(element);
                } else {
                    close(&mut stack, &mut root, element);
                }
            }
            Event::End(_) => {
                let element = stack
                    .pop()
                    .ok_or_else(|| XmlError::Malformed("unbalanced end tag".into()))?;
                close(&mut stack, &mut root, element);
            }
            Event::Text(t) => {
                let s = t.decode().map_err(|e| malformed(&e))?;
                text_into(&mut stack, &s)?;
            }
            Event::CData(c) => {
                let s = c.decode().map_err(|e| malformed(&e))?;
                text_into(&mut stack, &s)?;
            }
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().map_err(|e| malformed(&e))? {
                    Some(c) => c,
                    None => predefined(&r.decode().map_err(|e| malformed(&e))?)?,
                };
                text_into(&mut stack, c.encode_utf8(&mut [0; 4]))?;
            }
            Event::Comment(_) => {}
            Event::Decl(d) => {
                if d.version().map_err(|e| malformed(&e))?.as_ref() != b"1.0" {
                    return Err(XmlError::Forbidden("an xml version other than 1.0"));
                }
                if let Some(enc) = d.encoding() {
                    let enc = enc.map_err(|e| malformed(&e))?;
                    if !enc.eq_ignore_ascii_case(b"utf-8") {
                        return Err(XmlError::Forbidden("an encoding other than UTF-8"));
                    }
                }
            }
            Event::PI(_) => return Err(XmlError::Forbidden("a processing instruction")),
            Event::DocType(_) => return Err(XmlError::Forbidden("a DTD")),
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Malformed("unclosed element".into()));
    }
    root.ok_or_else(|| XmlError::Malformed("no root element".into()))
}

/// Attaches a finished element to its parent, or makes it the root.
fn close(stack: &mut [Element], root: &mut Option<Element>, element: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(Node::Element(element)),
        None => *root = Some(element),
    }
}

/// Appends character data to the open element; outside the root only
/// whitespace is allowed.
fn text_into(stack: &mut [Element], text: &str) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(parent) => {
            if let Some(Node::Text(t)) = parent.children.last_mut() {
                t.push_str(text);
            } else {
                parent.children.push(Node::Text(text.to_owned()));
            }
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err(XmlError::Malformed("text outside the root element".into())),
    }
}

/// The five entities XML predefines.
fn predefined(name: &str) -> Result<char, XmlError> {
    match name {
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "amp" => Ok('&'),
        "apos" => Ok('\''),
        "quot" => Ok('"'),
        _ => Err(XmlError::Forbidden("an entity reference")),
    }
}

/// The namespace of a resolved name.
fn namespace(ns: &ResolveResult<'_>) -> Result<String, XmlError> {
    match ns {
        ResolveResult::Bound(n) => utf8(n.as_ref()),
        ResolveResult::Unbound => Ok(String::new()),
        ResolveResult::Unknown(p) => Err(XmlError::Malformed(format!(
            "undeclared namespace prefix {}",
            String::from_utf8_lossy(p)
        ))),
    }
}

/// The attributes of a start tag, namespace declarations left out;
/// duplicates are refused.
fn attributes(
    start: &quick_xml::events::BytesStart<'_>,
) -> Result<Vec<(String, String)>, XmlError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for attr in start.attributes().with_checks(true) {
        let attr = attr.map_err(|e| XmlError::Malformed(e.to_string()))?;
        let key = utf8(attr.key.as_ref())?;
        if key == "xmlns" || key.starts_with("xmlns:") {
            continue;
        }
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Explicit1_0)
            .map_err(|e| XmlError::Malformed(e.to_string()))?;
        out.push((key, value.into_owned()));
    }
    Ok(out)
}

/// Bytes that must be UTF-8.
fn utf8(bytes: &[u8]) -> Result<String, XmlError> {
    std::str::from_utf8(bytes)
        .map(str::to_owned)
        .map_err(|_| XmlError::Malformed("invalid utf-8".into()))
}

// === impl Element ===

impl Element {
    /// Whether this is `{ns}local`.
    pub(crate) fn is(&self, ns: &str, local: &str) -> bool {
        self.ns == ns && self.local == local
    }

    /// The unprefixed attribute `name`.
    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Child elements.
    pub(crate) fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// Child elements named `{ns}local`.
    pub(crate) fn children_named<'a>(
        &'a self,
        ns: &'a str,
        local: &'a str,
    ) -> impl Iterator<Item = &'a Element> {
        self.elements().filter(move |e| e.is(ns, local))
    }

    /// The first child element named `{ns}local`.
    pub(crate) fn child(&self, ns: &str, local: &str) -> Option<&Element> {
        self.elements().find(|e| e.is(ns, local))
    }

    /// The text directly inside this element (comments removed, so the
    /// pieces around a comment are joined).
    pub(crate) fn text(&self) -> String {
        self.children
            .iter()
            .filter_map(|n| match n {
                Node::Text(t) => Some(t.as_str()),
                Node::Element(_) => None,
            })
            .collect()
    }

    /// This element and every element below it, in document order.
    pub(crate) fn descendants(&self) -> Vec<&Element> {
        let mut out = Vec::new();
        let mut todo = vec![self];
        while let Some(e) = todo.pop() {
            out.push(e);
            let children: Vec<&Element> = e.elements().collect();
            todo.extend(children.into_iter().rev());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Element, XmlError> {
        parse(text, RESPONSE_LIMITS)
    }

    #[test]
    fn reads_namespaces_attributes_and_text() {
        let e = p(r#"<?xml version="1.0" encoding="UTF-8"?>
<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="r1" xmlns:x="urn:x" x:ID="no">
  <saml:NameID xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">admin<!---->@evil&amp;&#x41;<![CDATA[<c>]]></saml:NameID>
</samlp:Response>"#)
        .unwrap();
        assert!(e.is(SAMLP, "Response"));
        assert_eq!(e.attr("ID"), Some("r1"));
        assert_eq!(e.attrs.len(), 2);
        let n = e.child(SAML, "NameID").unwrap();
        assert_eq!(n.text(), "admin@evil&A<c>");
        assert_eq!(e.descendants().len(), 2);
    }

    #[test]
    fn refuses_dtds_entities_and_oddities() {
        let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><a>&lol2;</a>"#;
        assert_eq!(p(laughs), Err(XmlError::Forbidden("a DTD")));
        assert_eq!(
            p("<a>&ext;</a>"),
            Err(XmlError::Forbidden("an entity reference"))
        );
        assert_eq!(
            p("<a><?pi x?></a>"),
            Err(XmlError::Forbidden("a processing instruction"))
        );
        assert!(matches!(
            p(r#"<?xml version="1.0" encoding="ISO-8859-1"?><a/>"#),
            Err(XmlError::Forbidden(_))
        ));
        for bad in [
            "<a>",
            "<a></b>",
            "<a/><b/>",
            "x<a/>",
            "<p:a/>",
            r#"<a x="1" x="2"/>"#,
            "",
        ] {
            assert!(matches!(p(bad), Err(XmlError::Malformed(_))), "{bad}");
        }
        let deep = format!("{}{}", "<a>".repeat(60), "</a>".repeat(60));
        assert_eq!(p(&deep), Err(XmlError::TooLarge));
        let wide = format!("<a>{}</a>", "<b/>".repeat(5_000));
        assert_eq!(p(&wide), Err(XmlError::TooLarge));
    }
}
