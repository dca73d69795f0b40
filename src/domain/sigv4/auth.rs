//! Parsing a request's SigV4 authentication.
//!
//! Owns: [`parse`], which finds the authentication of a [`RequestView`]
//! (an `Authorization` header, or presigned `X-Amz-*` query parameters, never
//! both), checks its structure and returns a [`ParsedAuth`] that borrows
//! from the request; and the credential-scope shape. Nothing here needs the
//! secret: the service layer reads [`ParsedAuth::access_key_id`] to look the
//! secret up. Pure: std only. Spec: reference §4.2.

use std::borrow::Cow;
use std::fmt;

use super::canonical::write_canonical_request;
use super::date::AmzDate;
use super::error::{Sigv4Error, echo};
use super::presigned::QueryAuth;
use super::request::RequestView;
use super::string_to_sign::string_to_sign;
use super::{authorization, presigned};

/// The name of the presigned signature parameter, never itself signed.
pub(crate) const SIGNATURE_PARAM: &str = "X-Amz-Signature";
/// The name of the session-token query parameter.
pub(crate) const TOKEN_PARAM: &str = "X-Amz-Security-Token";
/// The session-token header, lower-case.
pub(crate) const TOKEN_HEADER: &str = "x-amz-security-token";

/// A request whose SigV4 authentication has been found and is well formed,
/// but not yet verified.
///
/// `Debug` leaves out the signature and the session token.
#[derive(Clone)]
pub struct ParsedAuth<'a> {
    pub(crate) view: RequestView<'a>,
    pub(crate) kind: AuthKind,
    /// `keyid/date/region/service/terminator`, decoded.
    /// INVARIANT: exactly five non-empty `/`-separated elements.
    pub(crate) credential: Cow<'a, str>,
    /// INVARIANT: non-empty names of header characters, one of them `host`.
    pub(crate) signed_headers: Cow<'a, str>,
    pub(crate) signature: Cow<'a, str>,
    pub(crate) timestamp: AmzDate,
    pub(crate) security_token: Option<SecurityToken<'a>>,
}

/// Where the authentication was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    /// An `Authorization` header.
    Header,
    /// Presigned query parameters.
    Presigned {
        /// `X-Amz-Expires` as sent, in seconds (1..=604800).
        expires_in: u32,
    },
}

/// The credential scope: what a signing key is derived for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialScope<'a> {
    /// `YYYYMMDD`.
    pub date: &'a str,
    /// The signing region, e.g. `us-east-1`.
    pub region: &'a str,
    /// The signing name of the service, e.g. `sts`.
    pub service: &'a str,
    /// Must be `aws4_request`.
    pub terminator: &'a str,
}

/// The session token of a request and where it travelled.
#[derive(Clone)]
pub(crate) struct SecurityToken<'a> {
    pub(crate) value: Cow<'a, str>,
    pub(crate) in_query: bool,
}

/// Finds and parses the SigV4 authentication of `view`.
pub fn parse<'a>(view: &RequestView<'a>) -> Result<ParsedAuth<'a>, Sigv4Error> {
    let header = view
        .single_header("authorization")
        .map_err(|()| Sigv4Error::DuplicateHeader("Authorization"))?;
    let mut query = QueryAuth::scan(view.query)?;
    match (header, query.is_present()) {
        (Some(_), true) => Err(Sigv4Error::ConflictingAuthentication),
        (Some(header), false) => {
            let token = security_token(view, &mut query)?;
            authorization::parse(*view, header, token)
        }
        (None, true) => {
            let token = security_token(view, &mut query)?;
            presigned::parse(*view, query, token)
        }
        (None, false) => Err(Sigv4Error::MissingAuthentication),
    }
}

/// The one session token of the request, from a header or the query.
fn security_token<'a>(
    view: &RequestView<'a>,
    query: &mut QueryAuth<'a>,
) -> Result<Option<SecurityToken<'a>>, Sigv4Error> {
    let header = view
        .single_header(TOKEN_HEADER)
        .map_err(|()| Sigv4Error::DuplicateSecurityToken)?;
    match (header, query.token.take()) {
        (Some(_), Some(_)) => Err(Sigv4Error::DuplicateSecurityToken),
        (Some(h), None) => Ok(Some(SecurityToken {
            value: Cow::Borrowed(h.trim()),
            in_query: false,
        })),
        (None, Some(q)) => Ok(Some(SecurityToken {
            value: q,
            in_query: true,
        })),
        (None, None) => Ok(None),
    }
}

/// Checks the `keyid/date/region/service/terminator` shape.
pub(crate) fn check_credential(credential: &str) -> Result<(), Sigv4Error> {
    let mut parts = credential.split('/');
    let five = parts.by_ref().take(5).filter(|p| !p.is_empty()).count() == 5;
    if five && parts.next().is_none() {
        Ok(())
    } else {
        Err(Sigv4Error::MalformedCredential(echo(credential)))
    }
}

/// Checks the signed-headers list: non-empty header names (an HTTP/2
/// pseudo-header such as `:authority` allowed), `host` or `:authority`
/// among them.
pub(crate) fn check_signed_headers(list: &str) -> Result<(), Sigv4Error> {
    if !list.split(';').all(is_header_name) {
        return Err(Sigv4Error::MalformedSignedHeaders(echo(list)));
    }
    if !list
        .split(';')
        .any(|n| n.eq_ignore_ascii_case("host") || n == ":authority")
    {
        return Err(Sigv4Error::HostNotSigned);
    }
    Ok(())
}

/// A non-empty run of RFC 9110 `tchar`s, optionally after one `:`.
pub(crate) fn is_header_name(name: &str) -> bool {
    let name = name.strip_prefix(':').unwrap_or(name);
    !name.is_empty() && name.bytes().all(is_header_name_byte)
}

/// An RFC 9110 `tchar`, the characters of a header name.
fn is_header_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

// === impl ParsedAuth ===

impl<'a> ParsedAuth<'a> {
    /// Where the authentication was found.
    pub fn kind(&self) -> AuthKind {
        self.kind
    }

    /// The access key id to look the secret up by.
    pub fn access_key_id(&self) -> &str {
        self.credential.split('/').next().unwrap_or_default()
    }

    /// The credential scope as sent (not yet checked against policy).
    pub fn scope(&self) -> CredentialScope<'_> {
        scope_of(&self.credential)
    }

    /// `date/region/service/terminator`, as it appears in the string to sign.
    pub fn scope_str(&self) -> &str {
        self.credential
            .split_once('/')
            .map(|(_, s)| s)
            .unwrap_or_default()
    }

    /// The signed header names, as sent.
    pub fn signed_headers(&self) -> impl Iterator<Item = &str> {
        self.signed_headers.split(';')
    }

    /// The request time (`X-Amz-Date`, else `Date`).
    pub fn timestamp(&self) -> AmzDate {
        self.timestamp
    }

    /// The session token, if the request carries one, signed or not.
    pub fn security_token(&self) -> Option<&str> {
        self.security_token.as_ref().map(|t| t.value.as_ref())
    }

    /// The canonical request the client should have signed; for logging a
    /// mismatch and for tests. `normalize_path` as in the verify policy.
    pub fn canonical_request(&self, normalize_path: bool) -> Result<String, Sigv4Error> {
        let mut out = String::with_capacity(512);
        write_canonical_request(
            &mut out,
            &self.view,
            &self.signed_headers,
            normalize_path,
            self.unsigned_params(false),
        )?;
        Ok(out)
    }

    /// The string to sign for `canonical_request` under this request's scope.
    pub fn string_to_sign(&self, canonical_request: &str) -> String {
        string_to_sign(self.timestamp, self.scope_str(), canonical_request)
    }

    /// Query parameters left out of the canonical query: the presigned
    /// signature, and (for the legacy "token added after signing" form)
    /// the session token.
    pub(crate) fn unsigned_params(&self, token_appended: bool) -> &'static [&'static str] {
        match (self.kind, token_appended) {
            (AuthKind::Header, _) => &[],
            (AuthKind::Presigned { .. }, false) => &[SIGNATURE_PARAM],
            (AuthKind::Presigned { .. }, true) => &[SIGNATURE_PARAM, TOKEN_PARAM],
        }
    }
}

impl fmt::Debug for ParsedAuth<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParsedAuth")
            .field("kind", &self.kind)
            .field("credential", &self.credential)
            .field("signed_headers", &self.signed_headers)
            .field("timestamp", &self.timestamp)
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "<redacted>"),
            )
            .field("view", &self.view)
            .finish_non_exhaustive()
    }
}

/// Splits a credential whose shape [`check_credential`] accepted.
///
/// The fields are the 2nd to 5th of `credential.split('/')`, found by one
/// byte scan (every signed request asks for them several times).
pub(crate) fn scope_of(credential: &str) -> CredentialScope<'_> {
    let mut parts = [""; 5];
    let (mut start, mut field) = (0, 0);
    for (i, b) in credential.bytes().enumerate() {
        if b == b'/' {
            if let Some(slot) = parts.get_mut(field) {
                *slot = credential.get(start..i).unwrap_or_default();
            }
            field += 1;
            start = i + 1;
        }
    }
    if let Some(slot) = parts.get_mut(field) {
        *slot = credential.get(start..).unwrap_or_default();
    }
    let [_, date, region, service, terminator] = parts;
    CredentialScope {
        date,
        region,
        service,
        terminator,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::sigv4::request::Payload;

    fn view<'a>(headers: &'a [(&'a str, &'a str)], query: &'a str) -> RequestView<'a> {
        RequestView {
            method: "GET",
            path: "/",
            query,
            headers,
            payload: Payload::Bytes(b""),
        }
    }

    const AUTHZ: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/\
                         aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa0";

    #[test]
    fn scope_fields_are_those_of_split() {
        for credential in [
            "AKID/20150830/us-east-1/sts/aws4_request",
            "AKID/20150830/us-east-1/sts/aws4_request/extra",
            "AKID/20150830/us-east-1",
            "AKID",
            "",
            "/",
            "//x//",
            "AKID/é/ü/sts/aws4_request",
        ] {
            let mut parts = credential.split('/').skip(1);
            let scope = scope_of(credential);
            assert_eq!(
                [scope.date, scope.region, scope.service, scope.terminator],
                [(); 4].map(|()| parts.next().unwrap_or_default()),
                "{credential:?}"
            );
        }
    }

    #[test]
    fn no_authentication_at_all() {
        let headers = [("Host", "h")];
        let err = parse(&view(&headers, "Action=GetCallerIdentity")).unwrap_err();
        assert_eq!(err, Sigv4Error::MissingAuthentication);
        assert_eq!(err.aws_code(), "MissingAuthenticationToken");
    }

    #[test]
    fn header_and_query_together_are_refused() {
        let headers = [
            ("Host", "h"),
            ("Authorization", AUTHZ),
            ("X-Amz-Date", "20150830T123600Z"),
        ];
        let err = parse(&view(&headers, "X-Amz-Algorithm=AWS4-HMAC-SHA256")).unwrap_err();
        assert_eq!(err, Sigv4Error::ConflictingAuthentication);
    }

    #[test]
    fn scope_accessors() {
        let headers = [
            ("Host", "h"),
            ("Authorization", AUTHZ),
            ("X-Amz-Date", "20150830T123600Z"),
        ];
        let v = view(&headers, "");
        let auth = parse(&v).unwrap();
        assert_eq!(auth.access_key_id(), "AKIDEXAMPLE");
        assert_eq!(auth.scope_str(), "20150830/us-east-1/service/aws4_request");
        assert_eq!(
            auth.scope(),
            CredentialScope {
                date: "20150830",
                region: "us-east-1",
                service: "service",
                terminator: "aws4_request"
            }
        );
        assert_eq!(
            auth.signed_headers().collect::<Vec<_>>(),
            ["host", "x-amz-date"]
        );
        assert_eq!(auth.kind(), AuthKind::Header);
        assert_eq!(auth.security_token(), None);
    }

    #[test]
    fn two_tokens_are_refused() {
        let headers = [
            ("Host", "h"),
            ("Authorization", AUTHZ),
            ("X-Amz-Date", "20150830T123600Z"),
            ("X-Amz-Security-Token", "a"),
        ];
        let err = parse(&view(&headers, "X-Amz-Security-Token=b")).unwrap_err();
        assert_eq!(err, Sigv4Error::DuplicateSecurityToken);
        let doubled = [headers[0], headers[1], headers[2], headers[3], headers[3]];
        assert_eq!(
            parse(&view(&doubled, "")).unwrap_err(),
            Sigv4Error::DuplicateSecurityToken
        );
    }

    #[test]
    fn credential_shapes() {
        assert!(check_credential("AKID/20150830/us-east-1/sts/aws4_request").is_ok());
        for bad in [
            "",
            "AKID",
            "AKID/20150830/us-east-1/sts",
            "AKID//us-east-1/sts/aws4_request",
            "a/b/c/d/e/f",
        ] {
            let err = check_credential(bad).unwrap_err();
            assert!(matches!(err, Sigv4Error::MalformedCredential(_)), "{bad}");
        }
    }

    #[test]
    fn signed_header_lists() {
        assert!(check_signed_headers("host;x-amz-date").is_ok());
        assert!(check_signed_headers(":authority;x-amz-date").is_ok());
        assert_eq!(
            check_signed_headers("x-amz-date"),
            Err(Sigv4Error::HostNotSigned)
        );
        for bad in [
            "",
            "host;;x",
            "host;a b",
            "host;",
            "ho\u{e9}st",
            "host;:",
            "host;::a",
        ] {
            assert!(matches!(
                check_signed_headers(bad),
                Err(Sigv4Error::MalformedSignedHeaders(_))
            ));
        }
    }
}
