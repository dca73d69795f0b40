//! The request as the SigV4 verifier sees it.
//!
//! Owns: [`RequestView`], a borrowed, transport-neutral view of an HTTP
//! request (method, path and query exactly as sent, headers in arrival
//! order, body or body digest), and [`Payload`]. The transport builds it;
//! nothing here knows an HTTP crate. Pure: std only.

use std::fmt;

/// A borrowed view of one HTTP request, as received.
///
/// The transport fills it in without normalising anything: SigV4 signs the
/// bytes the client sent, so the verifier must see them too.
#[derive(Clone, Copy)]
pub struct RequestView<'a> {
    /// The method, as sent (`GET`, `POST`).
    pub method: &'a str,
    /// The path of the request target exactly as sent, still
    /// percent-encoded, without the `?` and query (`/`, `/a%20b`).
    pub path: &'a str,
    /// The raw query string after `?`, still percent-encoded; empty when
    /// there is none.
    pub query: &'a str,
    /// Every header line as `(name, value)` in arrival order; a name may
    /// repeat. Must include `host` (for HTTP/2, the transport passes
    /// `:authority` as `host`). Names are matched case-insensitively.
    pub headers: &'a [(&'a str, &'a str)],
    /// The body, or its SHA-256 when the transport hashed it while reading.
    pub payload: Payload<'a>,
}

/// The request body as far as SigV4 needs it.
#[derive(Clone, Copy)]
pub enum Payload<'a> {
    /// The whole body (STS and IAM bodies are small forms).
    Bytes(&'a [u8]),
    /// The SHA-256 digest of the body, computed by the transport.
    Sha256([u8; 32]),
    /// The body is not signed: the canonical request's payload line is
    /// the literal `UNSIGNED-PAYLOAD` (S3, and presigned S3 URLs). Only a
    /// transport that accepts unsigned bodies passes it.
    Unsigned,
}

/// The payload line of a request whose body is not signed.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// Header values that `Debug` never prints: they are either bearer material
/// or, within the skew window, replayable.
const SENSITIVE_HEADERS: [&str; 3] = ["authorization", "x-amz-security-token", "cookie"];

// === impl RequestView ===

impl<'a> RequestView<'a> {
    /// Every value of the header `name` (ASCII case-insensitive), in order.
    pub fn header_values<'n>(&self, name: &'n str) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
        let headers = self.headers;
        headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }

    /// The header `name` when it appears exactly once; `Err(())` when it
    /// appears more than once.
    pub(crate) fn single_header(&self, name: &str) -> Result<Option<&'a str>, ()> {
        let mut values = self.header_values(name);
        match (values.next(), values.next()) {
            (first, None) => Ok(first),
            (Some(_), Some(_)) | (None, Some(_)) => Err(()),
        }
    }
}

impl fmt::Debug for RequestView<'_> {
    /// Prints the shape of the request only: header values that carry
    /// credentials, the query (which may hold a presigned signature or token)
    /// and the body (which may hold an assertion) are not shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Headers<'h>(&'h [(&'h str, &'h str)]);
        impl fmt::Debug for Headers<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut list = f.debug_list();
                for (name, value) in self.0 {
                    if SENSITIVE_HEADERS
                        .iter()
                        .any(|s| name.eq_ignore_ascii_case(s))
                    {
                        list.entry(&(name, "<redacted>"));
                    } else {
                        list.entry(&(name, value));
                    }
                }
                list.finish()
            }
        }
        f.debug_struct("RequestView")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query_len", &self.query.len())
            .field("headers", &Headers(self.headers))
            .field("payload", &self.payload)
            .finish()
    }
}

impl fmt::Debug for Payload<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bytes(b) => write!(f, "Bytes(<{} bytes>)", b.len()),
            Self::Sha256(_) => f.write_str("Sha256(..)"),
            Self::Unsigned => f.write_str("Unsigned"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_credentials_query_and_body() {
        let headers = [
            ("Host", "sts.amazonaws.com"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKID/…, Signature=deadbeef",
            ),
            ("X-Amz-Security-Token", "secret-token"),
        ];
        let view = RequestView {
            method: "POST",
            path: "/",
            query: "X-Amz-Signature=cafe",
            headers: &headers,
            payload: Payload::Bytes(b"WebIdentityToken=eyJ"),
        };
        let s = format!("{view:?}");
        assert!(s.contains("sts.amazonaws.com"), "{s}");
        for hidden in ["deadbeef", "secret-token", "cafe", "eyJ"] {
            assert!(!s.contains(hidden), "{hidden} leaked in {s}");
        }
    }

    #[test]
    fn header_lookup_is_case_insensitive_and_ordered() {
        let headers = [("My-Header", "a"), ("host", "h"), ("my-header", "b")];
        let view = RequestView {
            method: "GET",
            path: "/",
            query: "",
            headers: &headers,
            payload: Payload::Bytes(b""),
        };
        assert_eq!(
            view.header_values("MY-HEADER").collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(view.single_header("Host"), Ok(Some("h")));
        assert_eq!(view.single_header("my-header"), Err(()));
        assert_eq!(view.single_header("absent"), Ok(None));
    }
}
