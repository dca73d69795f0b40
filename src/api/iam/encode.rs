//! Percent-encoding policy documents for IAM responses.
//!
//! Owns: [`url_encode`]. IAM returns every policy document
//! (`AssumeRolePolicyDocument`, `PolicyDocument`, `Document`) URL-encoded;
//! botocore decodes it with `unquote`, so spaces must be `%20`, never `+`.
//! Pure.

/// `text` with every byte outside RFC 3986's unreserved set
/// (`A-Z a-z 0-9 - _ . ~`) written as `%XX`.
pub(crate) fn url_encode(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            for nibble in [b >> 4, b & 0x0f] {
                if let Some(h) = HEX.get(usize::from(nibble)) {
                    out.push(char::from(*h));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_iam() {
        assert_eq!(
            url_encode(r#"{"A": "b/c*"} é"#),
            "%7B%22A%22%3A%20%22b%2Fc%2A%22%7D%20%C3%A9"
        );
        assert_eq!(url_encode("a-z_0.9~"), "a-z_0.9~");
    }
}
