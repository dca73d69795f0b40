//! Errors of the SigV4 component.
//!
//! Owns: every reason a request's SigV4 authentication is refused, and the
//! AWS error code each one is reported as ([`Sigv4Error::aws_code`]). The
//! enum is exhaustive on purpose: a new reason must be placed by every
//! handler. Messages follow AWS's wording where AWS has one (lower-cased
//! first letter, no final period; [`Sigv4Error::aws_message`] restores the
//! wire form). Values echoed from the request are cut to
//! [`ECHO_LIMIT`] characters; no message ever contains a secret. Pure.

use std::fmt;
use std::time::Duration;

use super::date::AmzDate;

/// Longest request value, in characters, that a message repeats.
pub const ECHO_LIMIT: usize = 64;

/// Why a request's SigV4 authentication was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Sigv4Error {
    // --- MissingAuthenticationToken ---
    /// Neither an `Authorization` header nor presigned query parameters.
    #[error("request is missing Authentication Token")]
    MissingAuthentication,

    // --- IncompleteSignature ---
    /// Both an `Authorization` header and presigned query parameters.
    #[error(
        "only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified"
    )]
    ConflictingAuthentication,
    /// An algorithm other than `AWS4-HMAC-SHA256`.
    #[error("unsupported AWS 'algorithm': '{0}'")]
    UnsupportedAlgorithm(String),
    /// A required `Authorization` parameter is absent.
    #[error("authorization header requires '{0}' parameter")]
    MissingAuthorizationParameter(&'static str),
    /// An `Authorization` parameter appears twice.
    #[error("authorization header repeats the '{0}' parameter")]
    DuplicateAuthorizationParameter(&'static str),
    /// An `Authorization` element that is not `key=value`.
    #[error("'{0}' not a valid key=value pair (missing equal-sign) in Authorization header")]
    MalformedAuthorizationPair(String),
    /// A required presigned query parameter is absent.
    #[error("query-string authentication requires the '{0}' parameter")]
    MissingQueryParameter(&'static str),
    /// A presigned query parameter appears twice.
    #[error("query-string authentication repeats the '{0}' parameter")]
    DuplicateQueryParameter(&'static str),
    /// A presigned query parameter does not decode to UTF-8 text.
    #[error("the '{0}' query parameter is not valid percent-encoded UTF-8")]
    MalformedQueryParameter(&'static str),
    /// `X-Amz-Expires` is not an integer from 1 to 604800.
    #[error("X-Amz-Expires must be an integer number of seconds from 1 to 604800, got '{0}'")]
    InvalidExpires(String),
    /// The credential is not `keyid/date/region/service/terminator`.
    #[error(
        "credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{0}'"
    )]
    MalformedCredential(String),
    /// No `X-Amz-Date` and no `Date` header on a header-signed request.
    #[error("authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header")]
    MissingDate,
    /// The request time is not in the required format.
    #[error("date must be in ISO-8601 'basic format'. Got '{0}'")]
    MalformedDate(String),
    /// A header that must be single appears more than once.
    #[error("the '{0}' header appears more than once")]
    DuplicateHeader(&'static str),
    /// The request carries more than one `X-Amz-Security-Token`.
    #[error("the request carries more than one X-Amz-Security-Token")]
    DuplicateSecurityToken,
    /// `host` is not among the signed headers.
    #[error("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization")]
    HostNotSigned,
    /// The signed-headers list is empty or has an empty or invalid name.
    #[error("signed headers must be header names separated by ';', got '{0}'")]
    MalformedSignedHeaders(String),

    // --- SignatureDoesNotMatch ---
    /// The signature does not match the one computed with the secret.
    #[error(
        "the request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details"
    )]
    SignatureMismatch,
    /// A header listed as signed is not in the request.
    #[error("the signed header '{0}' is not present in the request")]
    SignedHeaderAbsent(String),
    /// The request time is older than the allowed skew.
    #[error("signature expired: {signed_at} is now earlier than {earliest} ({now} - {})", Window(*.skew))]
    SignatureExpired {
        /// The request time.
        signed_at: AmzDate,
        /// The oldest acceptable request time.
        earliest: AmzDate,
        /// The server time.
        now: AmzDate,
        /// The allowed skew.
        skew: Duration,
    },
    /// The request time is further in the future than the allowed skew.
    #[error("signature not yet current: {signed_at} is still later than {latest} ({now} + {})", Window(*.skew))]
    SignatureNotYetCurrent {
        /// The request time.
        signed_at: AmzDate,
        /// The newest acceptable request time.
        latest: AmzDate,
        /// The server time.
        now: AmzDate,
        /// The allowed skew.
        skew: Duration,
    },
    /// The scope date differs from the date of the request time.
    #[error(
        "date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{scope_date}' != '{}', from '{signed_at}'", .signed_at.basic().date()
    )]
    ScopeDateMismatch {
        /// The date in the credential scope.
        scope_date: String,
        /// The request time.
        signed_at: AmzDate,
    },
    /// The scope names a region this endpoint does not serve.
    #[error("credential should be scoped to a valid region, not '{0}'")]
    WrongRegion(String),
    /// The scope names another service.
    #[error("credential should be scoped to correct service: '{expected}'")]
    WrongService {
        /// The service this endpoint verifies for.
        expected: String,
        /// The service in the scope.
        found: String,
    },
    /// The scope does not end in `aws4_request`.
    #[error("credential should be scoped with a valid terminator: 'aws4_request', not '{0}'")]
    WrongTerminator(String),

    // --- RequestExpired ---
    /// A presigned URL used after its validity.
    #[error(
        "request has expired: the presigned URL signed at {signed_at} was valid until {expires_at}, and it is now {now}"
    )]
    PresignedExpired {
        /// The request time.
        signed_at: AmzDate,
        /// The end of validity (request time + effective lifetime).
        expires_at: AmzDate,
        /// The server time.
        now: AmzDate,
    },
}

/// Renders a skew window the way AWS does (`15 min.`).
struct Window(Duration);

// === impl Sigv4Error ===

impl Sigv4Error {
    /// The AWS error code this error is reported as.
    pub fn aws_code(&self) -> &'static str {
        match self {
            Self::MissingAuthentication => "MissingAuthenticationToken",
            Self::ConflictingAuthentication
            | Self::UnsupportedAlgorithm(_)
            | Self::MissingAuthorizationParameter(_)
            | Self::DuplicateAuthorizationParameter(_)
            | Self::MalformedAuthorizationPair(_)
            | Self::MissingQueryParameter(_)
            | Self::DuplicateQueryParameter(_)
            | Self::MalformedQueryParameter(_)
            | Self::InvalidExpires(_)
            | Self::MalformedCredential(_)
            | Self::MissingDate
            | Self::MalformedDate(_)
            | Self::DuplicateHeader(_)
            | Self::DuplicateSecurityToken
            | Self::HostNotSigned
            | Self::MalformedSignedHeaders(_) => "IncompleteSignature",
            Self::SignatureMismatch
            | Self::SignedHeaderAbsent(_)
            | Self::SignatureExpired { .. }
            | Self::SignatureNotYetCurrent { .. }
            | Self::ScopeDateMismatch { .. }
            | Self::WrongRegion(_)
            | Self::WrongService { .. }
            | Self::WrongTerminator(_) => "SignatureDoesNotMatch",
            Self::PresignedExpired { .. } => "RequestExpired",
        }
    }

    /// The message in AWS's wire form: the first letter capitalised and a
    /// final period added where the message does not already end in one.
    pub fn aws_message(&self) -> String {
        let msg = self.to_string();
        let mut chars = msg.chars();
        let mut out = String::with_capacity(msg.len() + 1);
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
        }
        out.push_str(chars.as_str());
        if !out.ends_with('.') && !out.ends_with(')') {
            out.push('.');
        }
        out
    }
}

/// A request value cut to [`ECHO_LIMIT`] characters, for a message.
pub(crate) fn echo(value: &str) -> String {
    if value.chars().nth(ECHO_LIMIT).is_none() {
        return value.to_owned();
    }
    let mut cut: String = value.chars().take(ECHO_LIMIT).collect();
    cut.push('…');
    cut
}

// === impl Window ===

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.as_secs();
        if secs.is_multiple_of(60) {
            write!(f, "{} min.", secs / 60)
        } else {
            write!(f, "{secs} sec.")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> AmzDate {
        AmzDate::parse_basic(s).unwrap()
    }

    #[test]
    fn skew_messages_read_like_aws() {
        let e = Sigv4Error::SignatureExpired {
            signed_at: at("20150830T123600Z"),
            earliest: at("20150830T124600Z"),
            now: at("20150830T130100Z"),
            skew: Duration::from_secs(900),
        };
        assert_eq!(
            e.aws_message(),
            "Signature expired: 20150830T123600Z is now earlier than 20150830T124600Z \
             (20150830T130100Z - 15 min.)"
        );
        assert_eq!(e.aws_code(), "SignatureDoesNotMatch");
        let e = Sigv4Error::SignatureNotYetCurrent {
            signed_at: at("20150830T130100Z"),
            latest: at("20150830T125100Z"),
            now: at("20150830T123600Z"),
            skew: Duration::from_secs(90),
        };
        assert_eq!(
            e.aws_message(),
            "Signature not yet current: 20150830T130100Z is still later than 20150830T125100Z \
             (20150830T123600Z + 90 sec.)"
        );
    }

    #[test]
    fn wire_messages_match_aws_wording() {
        let cases = [
            (
                Sigv4Error::MissingAuthorizationParameter("Credential"),
                "Authorization header requires 'Credential' parameter.",
            ),
            (
                Sigv4Error::WrongService {
                    expected: "sts".into(),
                    found: "iam".into(),
                },
                "Credential should be scoped to correct service: 'sts'.",
            ),
            (
                Sigv4Error::MissingAuthentication,
                "Request is missing Authentication Token.",
            ),
            (
                Sigv4Error::HostNotSigned,
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
            ),
        ];
        for (e, want) in cases {
            assert_eq!(e.aws_message(), want);
            assert!(!e.to_string().contains('\n'));
        }
    }

    #[test]
    fn echo_cuts_long_values_on_char_boundaries() {
        assert_eq!(echo("short"), "short");
        let long = "é".repeat(100);
        let cut = echo(&long);
        assert_eq!(cut.chars().count(), ECHO_LIMIT + 1);
        assert!(cut.ends_with('…'));
    }
}
