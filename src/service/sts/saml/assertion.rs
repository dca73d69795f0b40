//! Reading and checking a verified assertion.
//!
//! Owns: [`read`], which takes the `saml:Assertion` the signature covers
//! and checks it (reference 8, steps 5–8): the `Issuer` is the provider's
//! entity ID; every `AudienceRestriction` names one of the accepted
//! audiences (and there is at least one); exactly one bearer
//! `SubjectConfirmation`, whose data carries `NotOnOrAfter` and a
//! `Recipient` from the accepted list; `NotBefore`/`NotOnOrAfter` of the
//! conditions and the confirmation against `now` with the skew. It returns
//! the [`Claims`] the rest of the action needs: the ID (for the replay
//! cache), issuer, subject and its type, recipient, the validity window,
//! `SessionNotOnOrAfter`, and the attributes. Imports `domain::saml`, the
//! sibling `xml` and the metadata date parser of `service::iam`.

use super::error::SamlError;
use super::xml::{Element, SAML};
use crate::domain::saml::{Window, WindowError, subject_type};
use crate::service::iam::providers::metadata::parse_datetime;

/// The `Method` of a bearer subject confirmation.
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";

/// What an assertion must match.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expect<'a> {
    /// The provider's entity ID.
    pub entity_id: &'a str,
    /// Accepted audiences (SP entity IDs).
    pub audiences: &'a [String],
    /// Accepted recipients (ACS URLs).
    pub recipients: &'a [String],
    /// Allowed clock skew, in seconds.
    pub skew: i64,
    /// Now, in seconds since the epoch.
    pub now: i64,
}

/// What a checked assertion says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Claims {
    /// The assertion's `ID`.
    pub id: String,
    /// Its `Issuer`.
    pub issuer: String,
    /// The `NameID` value.
    pub subject: String,
    /// The NameID format as AWS reports it.
    pub subject_type: String,
    /// The confirmation's `Recipient` (`Audience` in the response,
    /// `saml:aud`).
    pub recipient: String,
    /// When the assertion may be used.
    pub window: Window,
    /// The earliest `SessionNotOnOrAfter` of its authentication statements.
    pub session_not_on_or_after: Option<i64>,
    /// The bearer confirmation's `InResponseTo`: the AuthnRequest ID an
    /// SP-initiated login answers (absent when IdP-initiated).
    pub in_response_to: Option<String>,
    /// Every attribute: name and values, in document order (several
    /// statements or repeated names merged).
    pub attributes: Vec<(String, Vec<String>)>,
}

/// Checks `assertion` against `expect` and reads its claims.
///
/// # Errors
///
/// [`SamlError`] naming the first check that fails.
pub(crate) fn read(assertion: &Element, expect: &Expect<'_>) -> Result<Claims, SamlError> {
    let id = assertion
        .attr("ID")
        .filter(|v| !v.is_empty())
        .ok_or(SamlError::Shape("the assertion has no ID"))?
        .to_owned();
    let issuer = assertion
        .child(SAML, "Issuer")
        .map(|i| i.text().trim().to_owned())
        .unwrap_or_default();
    if issuer != expect.entity_id {
        return Err(SamlError::Issuer(issuer));
    }
    let conditions = assertion.child(SAML, "Conditions");
    check_audience(conditions, expect.audiences)?;
    let subject = assertion
        .child(SAML, "Subject")
        .ok_or(SamlError::Subject("no Subject"))?;
    let (recipient, confirmation) = bearer(subject, expect.recipients)?;
    let window = Window::default()
        .narrow(
            time(conditions, "NotBefore")?,
            time(conditions, "NotOnOrAfter")?,
        )
        .narrow(
            time(Some(confirmation), "NotBefore")?,
            time(Some(confirmation), "NotOnOrAfter")?,
        );
    window.check(expect.now, expect.skew).map_err(|e| match e {
        WindowError::NotYetValid => SamlError::NotYetValid,
        WindowError::Expired => SamlError::Expired,
    })?;
    let name_id = subject
        .child(SAML, "NameID")
        .ok_or(SamlError::Subject("no NameID"))?;
    let value = name_id.text();
    if value.trim().is_empty() {
        return Err(SamlError::Subject("empty NameID"));
    }
    let mut session_end: Option<i64> = None;
    for statement in assertion.children_named(SAML, "AuthnStatement") {
        if let Some(t) = time(Some(statement), "SessionNotOnOrAfter")? {
            session_end = Some(session_end.map_or(t, |s| s.min(t)));
        }
    }
    Ok(Claims {
        id,
        issuer,
        subject: value,
        subject_type: subject_type(name_id.attr("Format")),
        recipient,
        window,
        session_not_on_or_after: session_end,
        in_response_to: confirmation
            .attr("InResponseTo")
            .filter(|v| !v.is_empty())
            .map(str::to_owned),
        attributes: attributes(assertion),
    })
}

/// Every `AudienceRestriction` must name an accepted audience, and there
/// must be one.
fn check_audience(conditions: Option<&Element>, accepted: &[String]) -> Result<(), SamlError> {
    let restrictions: Vec<&Element> = conditions
        .map(|c| c.children_named(SAML, "AudienceRestriction").collect())
        .unwrap_or_default();
    let satisfied = |r: &&Element| {
        r.children_named(SAML, "Audience")
            .any(|a| accepted.iter().any(|x| *x == a.text().trim()))
    };
    if restrictions.is_empty() || !restrictions.iter().all(satisfied) {
        return Err(SamlError::Audience);
    }
    Ok(())
}

/// The one bearer confirmation: its recipient and its data.
fn bearer<'a>(
    subject: &'a Element,
    recipients: &[String],
) -> Result<(String, &'a Element), SamlError> {
    let mut bearers = subject
        .children_named(SAML, "SubjectConfirmation")
        .filter(|c| c.attr("Method") == Some(BEARER));
    let (Some(confirmation), None) = (bearers.next(), bearers.next()) else {
        return Err(SamlError::Confirmation(
            "not exactly one bearer confirmation",
        ));
    };
    let data = confirmation
        .child(SAML, "SubjectConfirmationData")
        .ok_or(SamlError::Confirmation("no SubjectConfirmationData"))?;
    if data.attr("NotOnOrAfter").is_none() {
        return Err(SamlError::Confirmation("no NotOnOrAfter"));
    }
    let recipient = data
        .attr("Recipient")
        .ok_or(SamlError::Confirmation("no Recipient"))?;
    if !recipients.iter().any(|r| url_matches(r, recipient)) {
        return Err(SamlError::Recipient(recipient.to_owned()));
    }
    Ok((recipient.to_owned(), data))
}

/// Whether `url` is `pattern`, in which a `*` stands for one DNS label
/// (`[a-z0-9-]+`).
fn url_matches(pattern: &str, url: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == url,
        Some((head, tail)) => url
            .strip_prefix(head)
            .and_then(|rest| rest.strip_suffix(tail))
            .is_some_and(|label| {
                !label.is_empty()
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            }),
    }
}

/// A time attribute of `element`, in seconds since the epoch.
fn time(element: Option<&Element>, name: &'static str) -> Result<Option<i64>, SamlError> {
    match element.and_then(|e| e.attr(name)) {
        None => Ok(None),
        Some(v) => parse_datetime(v)
            .map(Some)
            .ok_or(SamlError::Shape("a time that does not parse")),
    }
}

/// Every attribute of every `AttributeStatement`, names merged.
fn attributes(assertion: &Element) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let all = assertion
        .children_named(SAML, "AttributeStatement")
        .flat_map(|s| s.children_named(SAML, "Attribute"));
    for attr in all {
        let Some(name) = attr.attr("Name") else {
            continue;
        };
        let values = attr
            .children_named(SAML, "AttributeValue")
            .map(Element::text);
        match out.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => v.extend(values),
            None => out.push((name.to_owned(), values.collect())),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::url_matches;

    #[test]
    fn recipient_patterns() {
        let p = "https://*.signin.aws.amazon.com/saml";
        assert!(url_matches(
            p,
            "https://eu-west-1.signin.aws.amazon.com/saml"
        ));
        assert!(!url_matches(p, "https://.signin.aws.amazon.com/saml"));
        assert!(!url_matches(
            p,
            "https://evil.com/x.signin.aws.amazon.com/saml"
        ));
        assert!(!url_matches(p, "https://a.b.signin.aws.amazon.com/saml"));
        assert!(url_matches("https://x/saml", "https://x/saml"));
        assert!(!url_matches("https://x/saml", "https://x/saml2"));
    }
}
