//! The AuthnRequest of SP-initiated sign-in (SAML core 3.4, bindings 3.4).
//!
//! Owns: [`authn_request`] (the XML: ID, IssueInstant, Destination, the
//! assertion consumer service URL and the HTTP-POST binding for the
//! response, the SP entity ID as Issuer) and [`redirect_url`] (the
//! HTTP-Redirect binding: raw DEFLATE, base64, URL-encoded `SAMLRequest`
//! and `RelayState` appended to the IdP's SSO URL). The request is not
//! signed: it asks for nothing but a sign-in, and the response is what is
//! verified — its `InResponseTo` must answer an ID the broker issued.
//! Pure: std, flate2, data-encoding and SigV4's date type and
//! percent-encoding.

use std::io::Write as _;

use data_encoding::BASE64;

use crate::domain::sigv4::{AmzDate, percent_encode};

/// The HTTP-POST binding, asked for the response.
pub const HTTP_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

/// The AuthnRequest document.
pub fn authn_request(id: &str, now: i64, destination: &str, acs: &str, issuer: &str) -> String {
    format!(
        concat!(
            r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" "#,
            r#"xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" "#,
            r#"IssueInstant="{instant}" Destination="{destination}" "#,
            r#"AssertionConsumerServiceURL="{acs}" ProtocolBinding="{binding}">"#,
            r#"<saml:Issuer>{issuer}</saml:Issuer>"#,
            r#"<samlp:NameIDPolicy AllowCreate="true"/>"#,
            r#"</samlp:AuthnRequest>"#
        ),
        id = escape(id),
        instant = iso8601(now),
        destination = escape(destination),
        acs = escape(acs),
        binding = HTTP_POST,
        issuer = escape(issuer),
    )
}

/// `sso_url` with `SAMLRequest` (raw DEFLATE, base64) and `RelayState`
/// appended by the HTTP-Redirect binding.
pub fn redirect_url(sso_url: &str, request: &str, relay_state: &str) -> String {
    let mut deflater =
        flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let compressed = deflater
        .write_all(request.as_bytes())
        .and_then(|()| deflater.finish())
        .unwrap_or_default();
    let separator = if sso_url.contains('?') { '&' } else { '?' };
    let mut url = format!(
        "{sso_url}{separator}SAMLRequest={}",
        percent_encode(BASE64.encode(&compressed).as_bytes())
    );
    if !relay_state.is_empty() {
        url.push_str("&RelayState=");
        url.push_str(&percent_encode(relay_state.as_bytes()));
    }
    url
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
fn iso8601(secs: i64) -> String {
    let basic = AmzDate::saturating_from_unix_secs(secs).basic();
    let b = basic.as_str();
    let part = |r: std::ops::Range<usize>| b.get(r).unwrap_or("00");
    format!(
        "{}-{}-{}T{}:{}:{}Z",
        part(0..4),
        part(4..6),
        part(6..8),
        part(9..11),
        part(11..13),
        part(13..15)
    )
}

/// XML attribute and text escaping.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    #[test]
    fn request_round_trips_through_the_redirect_binding() {
        let xml = authn_request(
            "_abc",
            1_700_000_000,
            "https://idp/sso",
            "https://sp/saml",
            "urn:sp",
        );
        assert!(
            xml.contains(r#"IssueInstant="2023-11-14T22:13:20Z""#),
            "{xml}"
        );
        assert!(xml.contains(r#"AssertionConsumerServiceURL="https://sp/saml""#));
        let url = redirect_url("https://idp/sso?x=1", &xml, "r s");
        assert!(url.starts_with("https://idp/sso?x=1&SAMLRequest="), "{url}");
        assert!(url.ends_with("&RelayState=r%20s"), "{url}");
        let encoded = url
            .split("SAMLRequest=")
            .nth(1)
            .and_then(|s| s.split('&').next())
            .unwrap_or_default();
        let b64 = encoded
            .replace("%2B", "+")
            .replace("%2F", "/")
            .replace("%3D", "=");
        let raw = BASE64.decode(b64.as_bytes()).unwrap_or_default();
        let mut text = String::new();
        flate2::read::DeflateDecoder::new(raw.as_slice())
            .read_to_string(&mut text)
            .unwrap_or_default();
        assert_eq!(text, xml);
    }

    #[test]
    fn attribute_values_are_escaped() {
        let xml = authn_request("_\"x<", 0, "a&b", "c", "d");
        assert!(xml.contains(r#"ID="_&quot;x&lt;""#), "{xml}");
        assert!(xml.contains(r#"Destination="a&amp;b""#), "{xml}");
    }
}
