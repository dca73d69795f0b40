//! Byte encodings SigV4 is built from.
//!
//! Owns: RFC 3986 percent-encoding with the SigV4 unreserved set (upper-case
//! hex, space as `%20`, never `+`), lenient percent-decoding, lower-case hex
//! and the SHA-256 helpers. Pure: std and sha2.

use std::borrow::Cow;

use sha2::{Digest, Sha256};

const UPPER_HEX: &[u8; 16] = b"0123456789ABCDEF";
const LOWER_HEX: &[u8; 16] = b"0123456789abcdef";

/// Whether SigV4 leaves `b` as is: `A–Z a–z 0–9 - _ . ~`.
pub(crate) fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// Appends `input` percent-encoded; `/` is kept when `keep_slash`.
pub(crate) fn encode_into(out: &mut String, input: &[u8], keep_slash: bool) {
    for &b in input {
        if is_unreserved(b) || (keep_slash && b == b'/') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(hex_digit(UPPER_HEX, b >> 4));
            out.push(hex_digit(UPPER_HEX, b & 0x0f));
        }
    }
}

/// `input` percent-encoded (nothing kept but the unreserved set).
pub(crate) fn encode(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len());
    encode_into(&mut out, input, false);
    out
}

/// Percent-decodes `input`. A `%` not followed by two hex digits stays a
/// literal `%`; `+` stays `+` (it means space only in HTML forms).
pub(crate) fn decode(input: &str) -> Cow<'_, [u8]> {
    if !input.contains('%') {
        return Cow::Borrowed(input.as_bytes());
    }
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let pair = (bytes.get(i + 1).copied().and_then(hex_value))
            .zip(bytes.get(i + 2).copied().and_then(hex_value));
        match (b, pair) {
            (b'%', Some((hi, lo))) => {
                out.push((hi << 4) | lo);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    Cow::Owned(out)
}

/// Percent-decodes `input` into UTF-8 text, or `None` if it is not UTF-8.
pub(crate) fn decode_utf8(input: &str) -> Option<Cow<'_, str>> {
    match decode(input) {
        Cow::Borrowed(_) => Some(Cow::Borrowed(input)),
        Cow::Owned(bytes) => String::from_utf8(bytes).ok().map(Cow::Owned),
    }
}

/// The SigV4 canonical form of one query name or value: decoded, then
/// encoded again. Borrows when the input is already canonical.
pub(crate) fn canonical_component(raw: &str) -> Cow<'_, str> {
    if raw.bytes().all(is_unreserved) {
        return Cow::Borrowed(raw);
    }
    Cow::Owned(encode(&decode(raw)))
}

/// Lower-case hex of a 32-byte digest or MAC.
pub(crate) fn hex32(bytes: &[u8; 32]) -> [u8; 64] {
    let mut out = [0u8; 64];
    for (pair, b) in out.chunks_exact_mut(2).zip(bytes) {
        if let [hi, lo] = pair {
            *hi = hex_byte(LOWER_HEX, b >> 4);
            *lo = hex_byte(LOWER_HEX, b & 0x0f);
        }
    }
    out
}

/// Lower-case hex SHA-256 of `data`.
pub(crate) fn sha256_hex(data: &[u8]) -> [u8; 64] {
    hex32(&Sha256::digest(data).into())
}

/// Views ASCII hex produced by [`hex32`] as text.
pub(crate) fn hex_str(hex: &[u8; 64]) -> &str {
    std::str::from_utf8(hex).unwrap_or("")
}

fn hex_byte(table: &[u8; 16], nibble: u8) -> u8 {
    table
        .get(usize::from(nibble & 0x0f))
        .copied()
        .unwrap_or(b'0')
}

fn hex_digit(table: &[u8; 16], nibble: u8) -> char {
    char::from(hex_byte(table, nibble))
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn encodes_with_the_sigv4_set() {
        assert_eq!(encode(b"a b+c/~-_."), "a%20b%2Bc%2F~-_.");
        let mut path = String::new();
        encode_into(&mut path, "/ሴ/x%y".as_bytes(), true);
        assert_eq!(path, "/%E1%88%B4/x%25y");
    }

    #[test]
    fn decodes_leniently() {
        assert_eq!(&*decode("a%20b"), b"a b");
        assert_eq!(&*decode("a+b"), b"a+b");
        assert_eq!(&*decode("100%"), b"100%");
        assert_eq!(&*decode("%zz%4"), b"%zz%4");
        assert_eq!(&*decode("%e1%88%b4"), "ሴ".as_bytes());
        assert_eq!(decode_utf8("%FF"), None);
    }

    #[test]
    fn canonical_components() {
        assert_eq!(canonical_component("Param1"), "Param1");
        assert_eq!(canonical_component("ሴ"), "%E1%88%B4");
        assert_eq!(canonical_component("%e1%88%b4"), "%E1%88%B4");
        assert_eq!(canonical_component("%7E"), "~");
        assert_eq!(canonical_component("a b"), "a%20b");
    }

    #[test]
    fn hex_of_the_empty_hash() {
        assert_eq!(
            hex_str(&sha256_hex(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    proptest! {
        #[test]
        fn encode_then_decode_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let enc = encode(&bytes);
            prop_assert!(enc.bytes().all(|b| is_unreserved(b) || b == b'%'
                || b.is_ascii_uppercase() || b.is_ascii_digit()));
            prop_assert_eq!(decode(&enc).into_owned(), bytes);
        }

        #[test]
        fn canonical_component_is_idempotent(s in "\\PC{0,24}") {
            let once = canonical_component(&s).into_owned();
            prop_assert_eq!(canonical_component(&once).into_owned(), once.clone());
        }
    }
}
