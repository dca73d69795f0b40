//! The `Authorization` header form of SigV4.
//!
//! Owns: parsing `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…,
//! Signature=…` with the whitespace variations SDKs produce (any run of
//! spaces or tabs after the algorithm, around commas and around `=`; a
//! trailing comma), and finding the request time in `X-Amz-Date` or, failing
//! that, `Date`. Pure: std only. Spec: reference §4.2.

use std::borrow::Cow;

use super::auth::{AuthKind, ParsedAuth, SecurityToken, check_credential, check_signed_headers};
use super::date::AmzDate;
use super::error::{Sigv4Error, echo};
use super::request::RequestView;
use super::string_to_sign::ALGORITHM;

/// The three parameters of an `Authorization` header, as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Components<'a> {
    pub(crate) credential: &'a str,
    pub(crate) signed_headers: &'a str,
    pub(crate) signature: &'a str,
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Parses a header-signed request whose `Authorization` value is `header`.
pub(crate) fn parse<'a>(
    view: RequestView<'a>,
    header: &'a str,
    security_token: Option<SecurityToken<'a>>,
) -> Result<ParsedAuth<'a>, Sigv4Error> {
    let parts = parse_header(header)?;
    check_credential(parts.credential)?;
    check_signed_headers(parts.signed_headers)?;
    let timestamp = request_time(&view)?;
    Ok(ParsedAuth {
        view,
        kind: AuthKind::Header,
        credential: Cow::Borrowed(parts.credential),
        signed_headers: Cow::Borrowed(parts.signed_headers),
        signature: Cow::Borrowed(parts.signature),
        timestamp,
        security_token,
    })
}

/// Splits an `Authorization` value into its algorithm-checked parameters.
pub(crate) fn parse_header(header: &str) -> Result<Components<'_>, Sigv4Error> {
    let header = header.trim_matches(is_space);
    let (algorithm, rest) = header
        .split_once(|c: char| is_space(c) || c == ',')
        .unwrap_or((header, ""));
    if algorithm != ALGORITHM {
        return Err(Sigv4Error::UnsupportedAlgorithm(echo(algorithm)));
    }
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for pair in rest
        .split(',')
        .map(|p| p.trim_matches(is_space))
        .filter(|p| !p.is_empty())
    {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(Sigv4Error::MalformedAuthorizationPair(echo(pair)));
        };
        let (slot, name) = match key.trim_matches(is_space) {
            "Credential" => (&mut credential, "Credential"),
            "SignedHeaders" => (&mut signed_headers, "SignedHeaders"),
            "Signature" => (&mut signature, "Signature"),
            // Unknown parameters are ignored, as AWS does.
            _ => continue,
        };
        if slot.is_some() {
            return Err(Sigv4Error::DuplicateAuthorizationParameter(name));
        }
        *slot = Some(value.trim_matches(is_space)).filter(|v| !v.is_empty());
    }
    let missing = Sigv4Error::MissingAuthorizationParameter;
    Ok(Components {
        credential: credential.ok_or(missing("Credential"))?,
        signed_headers: signed_headers.ok_or(missing("SignedHeaders"))?,
        signature: signature.ok_or(missing("Signature"))?,
    })
}

/// The request time: `X-Amz-Date`, else the `Date` header.
fn request_time(view: &RequestView<'_>) -> Result<AmzDate, Sigv4Error> {
    let amz = view
        .single_header("x-amz-date")
        .map_err(|()| Sigv4Error::DuplicateHeader("X-Amz-Date"))?;
    if let Some(value) = amz {
        let value = value.trim();
        return AmzDate::parse_basic(value).ok_or_else(|| Sigv4Error::MalformedDate(echo(value)));
    }
    let date = view
        .single_header("date")
        .map_err(|()| Sigv4Error::DuplicateHeader("Date"))?;
    let value = date.ok_or(Sigv4Error::MissingDate)?.trim();
    AmzDate::parse_http_date(value).ok_or_else(|| Sigv4Error::MalformedDate(echo(value)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::sigv4::request::Payload;
    use proptest::prelude::*;

    const WANT: Components<'static> = Components {
        credential: "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request",
        signed_headers: "host;x-amz-date",
        signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    };

    #[test]
    fn tolerates_sdk_whitespace_variations() {
        let c = WANT.credential;
        let s = WANT.signature;
        for header in [
            format!(
                "AWS4-HMAC-SHA256 Credential={c}, SignedHeaders=host;x-amz-date, Signature={s}"
            ),
            format!("AWS4-HMAC-SHA256 Credential={c},SignedHeaders=host;x-amz-date,Signature={s}"),
            format!(
                "  AWS4-HMAC-SHA256   Credential = {c} ,\tSignedHeaders=host;x-amz-date , Signature={s} ,"
            ),
            format!(
                "AWS4-HMAC-SHA256,Credential={c}, SignedHeaders=host;x-amz-date, Signature={s}"
            ),
            format!(
                "AWS4-HMAC-SHA256 Signature={s}, Credential={c}, SignedHeaders=host;x-amz-date, Extra=1"
            ),
        ] {
            assert_eq!(parse_header(&header), Ok(WANT), "{header}");
        }
    }

    #[test]
    fn names_the_missing_parameter() {
        let e = parse_header("AWS4-HMAC-SHA256 SignedHeaders=host, Signature=ab").unwrap_err();
        assert_eq!(
            e.aws_message(),
            "Authorization header requires 'Credential' parameter."
        );
        assert_eq!(e.aws_code(), "IncompleteSignature");
        let e = parse_header("AWS4-HMAC-SHA256 Credential=a/b/c/d/e, Signature=ab").unwrap_err();
        assert_eq!(
            e,
            Sigv4Error::MissingAuthorizationParameter("SignedHeaders")
        );
        let e =
            parse_header("AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host, Signature=")
                .unwrap_err();
        assert_eq!(e, Sigv4Error::MissingAuthorizationParameter("Signature"));
        assert_eq!(
            parse_header("AWS4-HMAC-SHA256").unwrap_err(),
            Sigv4Error::MissingAuthorizationParameter("Credential")
        );
    }

    #[test]
    fn refuses_other_algorithms_and_garbage() {
        assert_eq!(
            parse_header("AWS4-HMAC-SHA512 Credential=x").unwrap_err(),
            Sigv4Error::UnsupportedAlgorithm("AWS4-HMAC-SHA512".into())
        );
        assert_eq!(
            parse_header("").unwrap_err(),
            Sigv4Error::UnsupportedAlgorithm(String::new())
        );
        assert_eq!(
            parse_header("AWS4-HMAC-SHA256 Credential=x, junk").unwrap_err(),
            Sigv4Error::MalformedAuthorizationPair("junk".into())
        );
        assert_eq!(
            parse_header("AWS4-HMAC-SHA256 Signature=a, Signature=b").unwrap_err(),
            Sigv4Error::DuplicateAuthorizationParameter("Signature")
        );
    }

    #[test]
    fn request_time_falls_back_to_date() {
        let view = |headers: &'static [(&'static str, &'static str)]| RequestView {
            method: "GET",
            path: "/",
            query: "",
            headers,
            payload: Payload::Bytes(b""),
        };
        let t = AmzDate::parse_basic("20150830T123600Z").unwrap();
        assert_eq!(
            request_time(&view(&[("X-Amz-Date", "20150830T123600Z")])),
            Ok(t)
        );
        assert_eq!(
            request_time(&view(&[("Date", "Sun, 30 Aug 2015 12:36:00 GMT")])),
            Ok(t)
        );
        assert_eq!(
            request_time(&view(&[
                ("X-Amz-Date", "20150830T123600Z"),
                ("Date", "garbage")
            ])),
            Ok(t)
        );
        assert_eq!(request_time(&view(&[])), Err(Sigv4Error::MissingDate));
        assert_eq!(
            request_time(&view(&[("X-Amz-Date", "2015-08-30")])),
            Err(Sigv4Error::MalformedDate("2015-08-30".into()))
        );
        assert_eq!(
            request_time(&view(&[
                ("x-amz-date", "20150830T123600Z"),
                ("X-Amz-Date", "20150830T123600Z")
            ])),
            Err(Sigv4Error::DuplicateHeader("X-Amz-Date"))
        );
    }

    proptest! {
        #[test]
        fn arbitrary_headers_never_panic(s in "\\PC{0,200}") {
            let _ = parse_header(&s);
            let prefixed = format!("AWS4-HMAC-SHA256 {s}");
            let _ = parse_header(&prefixed);
        }

        #[test]
        fn structured_noise_never_panics(
            parts in proptest::collection::vec("(Credential|SignedHeaders|Signature|[a-z]{0,3})[ =,;/\t]{0,3}[a-z0-9/;=, ]{0,12}", 0..6)
        ) {
            let header = format!("AWS4-HMAC-SHA256 {}", parts.join(","));
            if let Ok(c) = parse_header(&header) {
                prop_assert!(!c.credential.is_empty() && !c.signature.is_empty());
            }
        }
    }
}
