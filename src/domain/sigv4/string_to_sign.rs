//! The SigV4 string to sign.
//!
//! Owns: the four-line string that is MAC'd — algorithm, request time,
//! credential scope, hex SHA-256 of the canonical request. Pure: std and
//! sha2. Spec: reference §4.2.

use super::date::AmzDate;
use super::encoding::{hex_str, sha256_hex};

/// The only algorithm verified: `AWS4-HMAC-SHA256`.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The last element of every credential scope.
pub const TERMINATOR: &str = "aws4_request";

/// The string to sign for a canonical request made at `timestamp` under
/// `scope` (`20150830/us-east-1/sts/aws4_request`).
pub fn string_to_sign(timestamp: AmzDate, scope: &str, canonical_request: &str) -> String {
    let mut out = String::with_capacity(ALGORITHM.len() + scope.len() + 84);
    write_string_to_sign(&mut out, timestamp, scope, canonical_request);
    out
}

/// Appends the string to sign to `out`.
pub(crate) fn write_string_to_sign(
    out: &mut String,
    timestamp: AmzDate,
    scope: &str,
    canonical_request: &str,
) {
    let hash = sha256_hex(canonical_request.as_bytes());
    out.push_str(ALGORITHM);
    out.push('\n');
    out.push_str(timestamp.basic().as_str());
    out.push('\n');
    out.push_str(scope);
    out.push('\n');
    out.push_str(hex_str(&hash));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_vanilla_string_to_sign() {
        let creq = "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n\
                    host;x-amz-date\n\
                    e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let at = AmzDate::parse_basic("20150830T123600Z").unwrap();
        assert_eq!(
            string_to_sign(at, "20150830/us-east-1/service/aws4_request", creq),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\
             bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
        );
    }
}
