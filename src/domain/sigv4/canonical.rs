//! The SigV4 canonical request.
//!
//! Owns: the canonical URI (dot segments removed and empty segments
//! collapsed for non-S3 services, then one more encoding pass over the path
//! as sent, which is AWS's "double encoding"), the canonical query (names
//! and values decoded, RFC 3986 re-encoded, sorted by name then value), the
//! canonical headers (values trimmed, inner whitespace runs, line folds
//! included, collapsed to one space, repeated headers joined with `,`) and
//! the six-line request itself. The payload line is always the SHA-256 of
//! the body: `UNSIGNED-PAYLOAD` and streaming payloads are S3 features and a
//! request relying on them fails to verify. Pure: std and sha2. Spec:
//! reference §4.1.

use super::encoding::{canonical_component, encode_into, hex_str, hex32, sha256_hex};
use super::error::Sigv4Error;
use super::request::{Payload, RequestView, UNSIGNED_PAYLOAD};

/// Appends the canonical request for `view`, signing `signed_headers`
/// (the `;`-separated list as the client sent it).
///
/// `excluded` names query parameters that travel with the request but are
/// not part of what was signed (`X-Amz-Signature` when presigned). Fails
/// only when a signed header is missing from the request.
pub(crate) fn write_canonical_request(
    out: &mut String,
    view: &RequestView<'_>,
    signed_headers: &str,
    normalize_path: bool,
    excluded: &[&str],
) -> Result<(), Sigv4Error> {
    out.push_str(view.method);
    out.push('\n');
    write_uri(out, view.path, normalize_path);
    out.push('\n');
    write_query(out, view.query, excluded);
    out.push('\n');
    write_headers(out, view, signed_headers)?;
    out.push('\n');
    out.push_str(signed_headers);
    out.push('\n');
    let hash = match view.payload {
        Payload::Bytes(body) => sha256_hex(body),
        Payload::Sha256(digest) => hex32(&digest),
        Payload::Unsigned => {
            out.push_str(UNSIGNED_PAYLOAD);
            return Ok(());
        }
    };
    out.push_str(hex_str(&hash));
    Ok(())
}

/// Appends the canonical URI of `path` (the path as sent).
pub(crate) fn write_uri(out: &mut String, path: &str, normalize: bool) {
    let start = out.len();
    if normalize {
        // RFC 3986 dot-segment removal plus empty-segment collapsing, as
        // botocore's `remove_dot_segments` does it.
        let mut kept: Vec<&str> = Vec::new();
        for segment in path.split('/') {
            match segment {
                "" | "." => {}
                ".." => {
                    kept.pop();
                }
                s => kept.push(s),
            }
        }
        if path.starts_with('/') {
            out.push('/');
        }
        for (i, segment) in kept.iter().enumerate() {
            if i > 0 {
                out.push('/');
            }
            encode_into(out, segment.as_bytes(), false);
        }
        if path.ends_with('/') && !kept.is_empty() {
            out.push('/');
        }
    } else {
        encode_into(out, path.as_bytes(), true);
    }
    if out.len() == start {
        out.push('/');
    }
}

/// Appends the canonical query string of `raw`, leaving out parameters
/// whose decoded name is in `excluded`.
pub(crate) fn write_query(out: &mut String, raw: &str, excluded: &[&str]) {
    if raw.is_empty() {
        return;
    }
    let mut pairs: Vec<(std::borrow::Cow<'_, str>, std::borrow::Cow<'_, str>)> = raw
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (canonical_component(k), canonical_component(v))
        })
        .filter(|(k, _)| !excluded.contains(&k.as_ref()))
        .collect();
    pairs.sort_unstable();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
}

/// Appends one `name:value\n` line per signed header.
fn write_headers(
    out: &mut String,
    view: &RequestView<'_>,
    signed_headers: &str,
) -> Result<(), Sigv4Error> {
    for name in signed_headers.split(';') {
        out.push_str(name);
        out.push(':');
        let mut found = false;
        for value in view.header_values(name) {
            if found {
                out.push(',');
            }
            found = true;
            write_header_value(out, value);
        }
        if !found {
            return Err(Sigv4Error::SignedHeaderAbsent(super::error::echo(name)));
        }
        out.push('\n');
    }
    Ok(())
}

/// Appends `value` trimmed, with each run of whitespace (including obsolete
/// line folding) collapsed to one space.
fn write_header_value(out: &mut String, value: &str) {
    let trimmed = value.trim_matches(is_space);
    // Fast path: already canonical (no tab, newline or doubled space).
    let mut prev_space = false;
    let canonical = trimmed.bytes().all(|b| {
        let ok = !(matches!(b, b'\t' | b'\r' | b'\n') || (prev_space && b == b' '));
        prev_space = b == b' ';
        ok
    });
    if canonical {
        out.push_str(trimmed);
        return;
    }
    for (i, word) in trimmed
        .split(is_space)
        .filter(|w| !w.is_empty())
        .enumerate()
    {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word);
    }
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn uri(path: &str, normalize: bool) -> String {
        let mut s = String::new();
        write_uri(&mut s, path, normalize);
        s
    }

    fn query(raw: &str) -> String {
        let mut s = String::new();
        write_query(&mut s, raw, &["X-Amz-Signature"]);
        s
    }

    #[test]
    fn normalises_paths_like_botocore() {
        for (path, want) in [
            ("", "/"),
            ("/", "/"),
            ("//", "/"),
            ("/./", "/"),
            ("/example/..", "/"),
            ("/example1/example2/../..", "/"),
            ("/./example", "/example"),
            ("//example//", "/example/"),
            ("/a/b/..", "/a"),
            ("/../..", "/"),
            ("/example space/", "/example%20space/"),
            ("/example%20space/", "/example%2520space/"),
            (
                "/test/@connections/JBDvjfGEIAMCERw%3D",
                "/test/%40connections/JBDvjfGEIAMCERw%253D",
            ),
        ] {
            assert_eq!(uri(path, true), want, "{path}");
        }
    }

    #[test]
    fn leaves_paths_alone_when_not_normalising() {
        assert_eq!(uri("//example//", false), "//example//");
        assert_eq!(uri("/./", false), "/./");
        assert_eq!(uri("", false), "/");
        assert_eq!(uri("/a b/%41", false), "/a%20b/%2541");
    }

    #[test]
    fn canonicalises_queries() {
        assert_eq!(
            query("Param2=value2&Param1=value1"),
            "Param1=value1&Param2=value2"
        );
        assert_eq!(
            query("Param-3=Value3&Param=Value2&%E1%88%B4=Value1"),
            "%E1%88%B4=Value1&Param=Value2&Param-3=Value3"
        );
        assert_eq!(query("a=2&a=1&b&&c="), "a=1&a=2&b=&c=");
        assert_eq!(query("a=x%20y+z&X-Amz-Signature=ff"), "a=x%20y%2Bz");
        assert_eq!(query(""), "");
    }

    #[test]
    fn canonicalises_header_values() {
        let mut s = String::new();
        write_header_value(&mut s, "  \"a   b   c\"\t");
        assert_eq!(s, "\"a b c\"");
        s.clear();
        write_header_value(&mut s, "value1\n  value2\n     value3");
        assert_eq!(s, "value1 value2 value3");
        for (raw, want) in [
            ("a b", "a b"),
            ("a  b", "a b"),
            ("a\tb ", "a b"),
            (" ", ""),
            ("", ""),
        ] {
            s.clear();
            write_header_value(&mut s, raw);
            assert_eq!(s, want, "{raw:?}");
        }
    }

    #[test]
    fn a_missing_signed_header_is_named() {
        let headers = [("Host", "h")];
        let view = RequestView {
            method: "GET",
            path: "/",
            query: "",
            headers: &headers,
            payload: Payload::Bytes(b""),
        };
        let mut s = String::new();
        let err = write_canonical_request(&mut s, &view, "host;x-amz-date", true, &[]);
        assert_eq!(
            err,
            Err(Sigv4Error::SignedHeaderAbsent("x-amz-date".into()))
        );
    }

    proptest! {
        #[test]
        fn canonicalisation_never_panics(
            path in "\\PC{0,40}",
            raw_query in "[a-zA-Z0-9%=&+ ._~-]{0,40}",
            value in "\\PC{0,40}",
        ) {
            let headers = [("host", value.as_str())];
            let view = RequestView {
                method: "GET",
                path: &path,
                query: &raw_query,
                headers: &headers,
                payload: Payload::Bytes(value.as_bytes()),
            };
            let mut s = String::new();
            prop_assert!(write_canonical_request(&mut s, &view, "host", true, &[]).is_ok());
            let normalised = uri(&path, true);
            prop_assert!(!normalised.contains("//"), "{}", normalised);
            if path.is_empty() || path.starts_with('/') {
                prop_assert!(normalised.starts_with('/'));
            }
        }
    }
}
