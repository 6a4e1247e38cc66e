//! Minimal reader/writer for the flat `<xml><Field>value</Field>…</xml>`
//! documents WeCom uses. A generic deserializer would accept far more than
//! the protocol needs; a small flattening reader makes the failure modes
//! (truncation, DTDs, unknown entities) explicit errors.

use std::collections::BTreeMap;

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::ConnectError;

/// Upper bound on nesting so hostile input cannot make us track unbounded state.
const MAX_DEPTH: usize = 16;

/// Returns the text of every direct child of the root element, keyed by tag
/// name. Text and CDATA sections are concatenated; nested elements are
/// skipped (their text does not leak into the parent). Repeated tags keep the
/// first occurrence.
pub(crate) fn parse_flat(input: &[u8]) -> Result<BTreeMap<String, String>, ConnectError> {
    let text = std::str::from_utf8(input).map_err(|_| ConnectError::malformed("XML is not UTF-8"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = Reader::from_str(text);
    let cfg = reader.config_mut();
    cfg.check_end_names = true;
    cfg.expand_empty_elements = true;

    let bad = |e: &dyn std::fmt::Display| ConnectError::malformed(format!("invalid XML: {e}"));
    let mut fields = BTreeMap::new();
    let mut depth = 0usize;
    let mut root_seen = false;
    let mut root_closed = false;
    let mut current: Option<(String, String)> = None;

    loop {
        let ev = reader.read_event().map_err(|e| bad(&e))?;
        match ev {
            Event::Start(start) => {
                if root_closed {
                    return Err(ConnectError::malformed("content after the root element"));
                }
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(ConnectError::malformed("XML nested too deeply"));
                }
                let name = std::str::from_utf8(start.name().as_ref())
                    .map_err(|_| ConnectError::malformed("tag name is not UTF-8"))?
                    .to_owned();
                if depth == 1 {
                    root_seen = true;
                } else if depth == 2 {
                    current = Some((name, String::new()));
                }
            }
            Event::End(_) => {
                if depth == 2 {
                    if let Some((name, value)) = current.take() {
                        fields.entry(name).or_insert(value);
                    }
                }
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    root_closed = true;
                }
            }
            Event::Text(t) => {
                let s = t.decode().map_err(|e| bad(&e))?;
                if depth == 2 {
                    if let Some((_, v)) = current.as_mut() {
                        v.push_str(&s);
                    }
                } else if depth == 0 && !s.trim().is_empty() {
                    // Whitespace between fields is fine; text outside the root is not.
                    return Err(ConnectError::malformed("text outside the root element"));
                }
            }
            Event::CData(c) => {
                let s = c.decode().map_err(|e| bad(&e))?;
                if depth == 2 {
                    if let Some((_, v)) = current.as_mut() {
                        v.push_str(&s);
                    }
                } else if depth == 0 {
                    return Err(ConnectError::malformed("CDATA outside the root element"));
                }
            }
            Event::GeneralRef(r) => {
                let resolved: String = if let Some(ch) = r.resolve_char_ref().map_err(|e| bad(&e))? {
                    ch.to_string()
                } else {
                    let name = r.decode().map_err(|e| bad(&e))?;
                    quick_xml::escape::resolve_predefined_entity(&name)
                        .ok_or_else(|| ConnectError::malformed(format!("unknown XML entity &{name};")))?
                        .to_owned()
                };
                if depth == 2 {
                    if let Some((_, v)) = current.as_mut() {
                        v.push_str(&resolved);
                    }
                }
            }
            Event::DocType(_) => return Err(ConnectError::malformed("DOCTYPE is not allowed")),
            Event::Empty(_) => unreachable_empty()?,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if !root_seen {
        return Err(ConnectError::malformed("XML has no root element"));
    }
    if depth != 0 {
        return Err(ConnectError::malformed("XML is truncated (unclosed element)"));
    }
    Ok(fields)
}

/// `expand_empty_elements` turns `<a/>` into Start+End, so an Empty event
/// would mean the reader config was changed; report instead of panicking.
fn unreachable_empty() -> Result<(), ConnectError> {
    Err(ConnectError::malformed("unexpected empty element event"))
}

/// Wraps `value` in CDATA, splitting any `]]>` so user text can never close
/// the section early and inject elements into a reply.
pub(crate) fn cdata(value: &str) -> String {
    format!("<![CDATA[{}]]>", value.replace("]]>", "]]]]><![CDATA[>"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cdata_text_and_entities() {
        let m = parse_flat(b"<xml><A><![CDATA[x<y]]></A><B>1 &amp; 2 &#x4e2d;</B><C/></xml>").unwrap();
        assert_eq!(m["A"], "x<y");
        assert_eq!(m["B"], "1 & 2 \u{4e2d}");
        assert_eq!(m["C"], "");
    }

    #[test]
    fn nested_elements_do_not_leak() {
        let m = parse_flat(b"<xml><A>a<N>inner</N>b</A><B>2</B></xml>").unwrap();
        assert_eq!(m["A"], "ab");
        assert!(!m.contains_key("N"));
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            &b""[..],
            b"<xml><A>1</A>",
            b"<xml><A>1</B></xml>",
            b"not xml",
            b"<xml><A>&foo;</A></xml>",
            b"<!DOCTYPE x [<!ENTITY a 'b'>]><xml><A>&a;</A></xml>",
            b"<xml></xml><xml></xml>",
            b"\xff\xfe<xml/>",
            b"<xml><A><![CDATA[unterminated</A></xml>",
        ] {
            assert!(parse_flat(bad).is_err(), "accepted {:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn cdata_cannot_be_escaped() {
        let x = format!("<xml><A>{}</A></xml>", cdata("a]]><B>evil</B>"));
        let m = parse_flat(x.as_bytes()).unwrap();
        assert_eq!(m["A"], "a]]><B>evil</B>");
        assert!(!m.contains_key("B"));
    }
}
