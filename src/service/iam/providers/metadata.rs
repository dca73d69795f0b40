//! A light check of SAML metadata documents.
//!
//! Owns: [`check`], which tells a well-formed XML document whose root is an
//! `EntityDescriptor` with an `entityID` from anything else, and reads its
//! `validUntil`. Full validation (signing certificates, descriptors) comes
//! with SAML federation (issue 5). DTDs are refused outright, so no entity
//! is ever expanded. Pure: std only.

/// What a metadata document declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// The root `EntityDescriptor`'s `entityID`.
    pub entity_id: String,
    /// Its `validUntil`, in seconds since the epoch.
    pub valid_until: Option<i64>,
}

/// One start tag: its local name and attributes.
struct StartTag {
    local: String,
    attributes: Vec<(String, String)>,
}

/// Checks `text` and reads its entity ID and `validUntil`; `None` when it
/// is not well-formed, has a DTD, or its root is not an
/// `EntityDescriptor` with an `entityID`.
pub fn check(text: &str) -> Option<Metadata> {
    let mut stack: Vec<String> = Vec::new();
    let mut root: Option<StartTag> = None;
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        let after = rest.get(open..)?;
        if after.starts_with("<!--") {
            rest = after.get(after.find("-->")? + 3..)?;
        } else if after.starts_with("<![CDATA[") {
            rest = after.get(after.find("]]>")? + 3..)?;
        } else if after.starts_with("<?") {
            rest = after.get(after.find("?>")? + 2..)?;
        } else if after.starts_with("<!") {
            return None; // DOCTYPE and other declarations
        } else {
            let end = tag_end(after)?;
            let inner = after.get(1..end)?;
            rest = after.get(end + 1..)?;
            if let Some(name) = inner.strip_prefix('/') {
                if stack.pop()? != name.trim() {
                    return None;
                }
            } else {
                let self_closing = inner.ends_with('/');
                let body = inner.strip_suffix('/').unwrap_or(inner);
                let tag = parse_start(body)?;
                if stack.is_empty() && root.is_some() {
                    return None; // two root elements
                }
                let qname = body.split_whitespace().next()?.to_owned();
                if root.is_none() {
                    root = Some(tag);
                }
                if !self_closing {
                    stack.push(qname);
                }
            }
        }
    }
    let root = root.filter(|_| stack.is_empty())?;
    if root.local != "EntityDescriptor" {
        return None;
    }
    let attr = |name: &str| {
        root.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let entity_id = attr("entityID").filter(|v| !v.is_empty())?;
    let valid_until = match attr("validUntil") {
        Some(v) => Some(parse_datetime(&v)?),
        None => None,
    };
    Some(Metadata {
        entity_id,
        valid_until,
    })
}

/// The index of the `>` closing the tag at the start of `text`, skipping
/// quoted attribute values.
fn tag_end(text: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i),
            (None, '<') if i > 0 => return None,
            _ => {}
        }
    }
    None
}

/// Parses `name attr="v" …` (without `<`, `/` and `>`).
fn parse_start(body: &str) -> Option<StartTag> {
    let body = body.trim();
    let name_end = body.find(char::is_whitespace).unwrap_or(body.len());
    let qname = body.get(..name_end)?;
    if qname.is_empty() {
        return None;
    }
    let local = qname.rsplit(':').next()?.to_owned();
    let mut attributes = Vec::new();
    let mut rest = body.get(name_end..)?.trim_start();
    while !rest.is_empty() {
        let eq = rest.find('=')?;
        let key = rest.get(..eq)?.trim();
        let value_part = rest.get(eq + 1..)?.trim_start();
        let quote = value_part
            .chars()
            .next()
            .filter(|c| *c == '"' || *c == '\'')?;
        let value_rest = value_part.get(1..)?;
        let close = value_rest.find(quote)?;
        let value = value_rest.get(..close)?;
        let key = key.rsplit(':').next().filter(|_| !key.starts_with("xmlns"));
        if let Some(k) = key {
            attributes.push((k.to_owned(), value.to_owned()));
        }
        rest = value_rest.get(close + 1..)?.trim_start();
    }
    Some(StartTag { local, attributes })
}

/// `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)` as seconds since the epoch.
pub fn parse_datetime(text: &str) -> Option<i64> {
    let (date, time) = text.split_once('T')?;
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (clock, offset) = if let Some(c) = time.strip_suffix('Z') {
        (c, 0)
    } else {
        let at = time.rfind(['+', '-'])?;
        let (c, off) = (time.get(..at)?, time.get(at..)?);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (oh, om) = off.get(1..)?.split_once(':')?;
        (
            c,
            sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60),
        )
    };
    let clock = clock.split('.').next()?;
    let mut t = clock.splitn(3, ':').map(|p| p.parse::<i64>().ok());
    let (h, min, s) = (t.next()??, t.next()??, t.next()??);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || h > 23 || min > 59 || s > 60 {
        return None;
    }
    Some(days_from_civil(y, m, day) * 86_400 + h * 3600 + min * 60 + s - offset)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"<?xml version="1.0"?>
<!-- comment -->
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.org/saml" validUntil="2030-01-02T03:04:05.123Z">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:SingleSignOnService Binding="b" Location="https://idp/sso?a=1&amp;b=>2"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"#;

    #[test]
    fn reads_entity_id_and_valid_until() {
        let m = check(DOC).unwrap();
        assert_eq!(m.entity_id, "https://idp.example.org/saml");
        assert_eq!(m.valid_until, Some(1_893_553_445));
    }

    #[test]
    fn refuses_what_is_not_metadata() {
        for bad in [
            "x".repeat(1000),
            DOC.replace("</md:EntityDescriptor>", ""),
            DOC.replace("md:EntityDescriptor", "md:Other"),
            DOC.replace(" entityID=\"https://idp.example.org/saml\"", ""),
            format!("<!DOCTYPE x [<!ENTITY a \"b\">]>{DOC}"),
            format!("{DOC}<second/>"),
            DOC.replace("2030-01-02", "2030-13-02"),
        ] {
            assert_eq!(check(&bad), None, "{bad}");
        }
    }

    #[test]
    fn datetimes() {
        assert_eq!(parse_datetime("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_datetime("2000-03-01T00:00:00+01:00"),
            Some(951_865_200)
        );
        assert_eq!(parse_datetime("2000-03-01"), None);
    }
}
