//! The presigned (query-string) form of SigV4.
//!
//! Owns: finding the `X-Amz-*` authentication parameters in a raw query
//! string (decoded; each at most once), deciding whether the request is
//! presigned at all, and checking them: algorithm, credential shape, date
//! format, `X-Amz-Expires` within 1..=604800, signed headers. Pure: std only.
//! Spec: reference §4.2.

use std::borrow::Cow;

use super::auth::{
    AuthKind, ParsedAuth, SIGNATURE_PARAM, SecurityToken, TOKEN_PARAM, check_credential,
    check_signed_headers,
};
use super::date::AmzDate;
use super::encoding::decode_utf8;
use super::error::{Sigv4Error, echo};
use super::request::RequestView;
use super::string_to_sign::ALGORITHM;

/// Longest lifetime a presigned request may ask for: seven days.
pub const MAX_EXPIRES: u32 = 604_800;

/// The SigV4 parameters found in a query string, decoded. No `Debug`: it
/// holds the signature and the session token.
#[derive(Default)]
pub(crate) struct QueryAuth<'a> {
    algorithm: Option<Cow<'a, str>>,
    credential: Option<Cow<'a, str>>,
    date: Option<Cow<'a, str>>,
    expires: Option<Cow<'a, str>>,
    signed_headers: Option<Cow<'a, str>>,
    signature: Option<Cow<'a, str>>,
    pub(crate) token: Option<Cow<'a, str>>,
}

// === impl QueryAuth ===

impl<'a> QueryAuth<'a> {
    /// Collects the `X-Amz-*` authentication parameters of `query`.
    pub(crate) fn scan(query: &'a str) -> Result<Self, Sigv4Error> {
        let mut found = Self::default();
        for pair in query.split('&') {
            let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
            // Every name of interest starts with this; skip the rest cheaply.
            if !raw_name.starts_with("X-Amz-") && !raw_name.contains('%') {
                continue;
            }
            let Some(name) = decode_utf8(raw_name) else {
                continue;
            };
            let (slot, name) = match name.as_ref() {
                "X-Amz-Algorithm" => (&mut found.algorithm, "X-Amz-Algorithm"),
                "X-Amz-Credential" => (&mut found.credential, "X-Amz-Credential"),
                "X-Amz-Date" => (&mut found.date, "X-Amz-Date"),
                "X-Amz-Expires" => (&mut found.expires, "X-Amz-Expires"),
                "X-Amz-SignedHeaders" => (&mut found.signed_headers, "X-Amz-SignedHeaders"),
                SIGNATURE_PARAM => (&mut found.signature, SIGNATURE_PARAM),
                TOKEN_PARAM => (&mut found.token, TOKEN_PARAM),
                _ => continue,
            };
            if slot.is_some() {
                return Err(Sigv4Error::DuplicateQueryParameter(name));
            }
            let value = decode_utf8(raw_value).ok_or(Sigv4Error::MalformedQueryParameter(name))?;
            *slot = Some(value);
        }
        Ok(found)
    }

    /// Whether the query tries to authenticate the request.
    pub(crate) fn is_present(&self) -> bool {
        self.algorithm.is_some()
            || self.credential.is_some()
            || self.signature.is_some()
            || self.signed_headers.is_some()
    }
}

/// Parses a presigned request whose authentication parameters are `query`.
pub(crate) fn parse<'a>(
    view: RequestView<'a>,
    query: QueryAuth<'a>,
    security_token: Option<SecurityToken<'a>>,
) -> Result<ParsedAuth<'a>, Sigv4Error> {
    let missing = Sigv4Error::MissingQueryParameter;
    let algorithm = query.algorithm.ok_or(missing("X-Amz-Algorithm"))?;
    if algorithm != ALGORITHM {
        return Err(Sigv4Error::UnsupportedAlgorithm(echo(&algorithm)));
    }
    let credential = query.credential.ok_or(missing("X-Amz-Credential"))?;
    let signature = query.signature.ok_or(missing(SIGNATURE_PARAM))?;
    let date = query.date.ok_or(missing("X-Amz-Date"))?;
    let signed_headers = query.signed_headers.ok_or(missing("X-Amz-SignedHeaders"))?;
    let expires = query.expires.ok_or(missing("X-Amz-Expires"))?;
    check_credential(&credential)?;
    check_signed_headers(&signed_headers)?;
    let timestamp =
        AmzDate::parse_basic(&date).ok_or_else(|| Sigv4Error::MalformedDate(echo(&date)))?;
    let expires_in = parse_expires(&expires)?;
    Ok(ParsedAuth {
        view,
        kind: AuthKind::Presigned { expires_in },
        credential,
        signed_headers,
        signature,
        timestamp,
        security_token,
    })
}

/// `X-Amz-Expires`: plain decimal digits, 1..=604800.
pub(crate) fn parse_expires(value: &str) -> Result<u32, Sigv4Error> {
    let digits = value.len() <= 7 && value.bytes().all(|b| b.is_ascii_digit());
    match value.parse::<u32>() {
        Ok(n) if digits && (1..=MAX_EXPIRES).contains(&n) => Ok(n),
        _ => Err(Sigv4Error::InvalidExpires(echo(value))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::sigv4::auth;
    use crate::domain::sigv4::request::Payload;
    use proptest::prelude::*;

    const Q: &str = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2F\
                     us-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&\
                     X-Amz-SignedHeaders=host&X-Amz-Expires=3600&X-Amz-Signature=e93c";

    fn parse_query(query: &str) -> Result<ParsedAuth<'_>, Sigv4Error> {
        const HEADERS: &[(&str, &str)] = &[("Host", "example.amazonaws.com")];
        let view = RequestView {
            method: "GET",
            path: "/",
            query,
            headers: HEADERS,
            payload: Payload::Bytes(b""),
        };
        auth::parse(&view)
    }

    #[test]
    fn parses_a_presigned_query() {
        let a = parse_query(Q).unwrap();
        assert_eq!(a.kind(), AuthKind::Presigned { expires_in: 3600 });
        assert_eq!(a.access_key_id(), "AKIDEXAMPLE");
        assert_eq!(a.scope().region, "us-east-1");
        assert_eq!(a.timestamp().to_string(), "20150830T123600Z");
        assert_eq!(&*a.signature, "e93c");
    }

    #[test]
    fn names_each_missing_parameter() {
        for name in [
            "X-Amz-Algorithm",
            "X-Amz-Credential",
            "X-Amz-Signature",
            "X-Amz-Date",
            "X-Amz-SignedHeaders",
            "X-Amz-Expires",
        ] {
            let q: Vec<&str> = Q
                .split('&')
                .filter(|p| !p.starts_with(&format!("{name}=")))
                .collect();
            let err = parse_query(&q.join("&")).unwrap_err();
            assert_eq!(err, Sigv4Error::MissingQueryParameter(name));
            assert_eq!(err.aws_code(), "IncompleteSignature");
        }
    }

    #[test]
    fn refuses_duplicates_and_bad_values() {
        let dup = format!("{Q}&X-Amz-Date=20150830T123600Z");
        assert_eq!(
            parse_query(&dup).unwrap_err(),
            Sigv4Error::DuplicateQueryParameter("X-Amz-Date")
        );
        let enc_dup = format!("{Q}&X%2DAmz-Signature=00");
        assert_eq!(
            parse_query(&enc_dup).unwrap_err(),
            Sigv4Error::DuplicateQueryParameter("X-Amz-Signature")
        );
        let bad_utf8 = Q.replace("AKIDEXAMPLE", "AKID%FF");
        assert_eq!(
            parse_query(&bad_utf8).unwrap_err(),
            Sigv4Error::MalformedQueryParameter("X-Amz-Credential")
        );
        let sha512 = Q.replace("SHA256", "SHA512");
        assert!(matches!(
            parse_query(&sha512),
            Err(Sigv4Error::UnsupportedAlgorithm(_))
        ));
    }

    #[test]
    fn expires_bounds() {
        assert_eq!(parse_expires("1"), Ok(1));
        assert_eq!(parse_expires("604800"), Ok(604_800));
        for bad in [
            "0",
            "604801",
            "-1",
            "+5",
            "",
            "1e3",
            "99999999999",
            " 5",
            "0x10",
        ] {
            assert_eq!(
                parse_expires(bad),
                Err(Sigv4Error::InvalidExpires(bad.into())),
                "{bad}"
            );
        }
    }

    proptest! {
        #[test]
        fn arbitrary_queries_never_panic(q in "[A-Za-z0-9%&=+_.~/-]{0,120}", raw in "\\PC{0,80}") {
            let _ = parse_query(&q);
            let _ = parse_query(&raw);
            let with_auth = format!("{Q}&{q}");
            let _ = parse_query(&with_auth);
        }
    }
}
