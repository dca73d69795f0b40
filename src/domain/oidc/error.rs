//! Errors of web-identity token checks.
//!
//! Owns: [`TokenError`], one variant per failed check of reference 9.
//! Messages are lowercase, name no Rust type and never contain the token;
//! the AWS code and text a caller sees are chosen where the service layer
//! converts them (`service::sts::web_identity`). Pure.

/// Why a web-identity token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a compact JWS of three base64url segments with JSON header and
    /// payload.
    #[error("the token is not a well-formed jwt: {what}")]
    Malformed {
        /// What is wrong, without the token's content.
        what: &'static str,
    },
    /// The header names an algorithm outside the allow-list (`none`,
    /// HMAC, or unknown).
    #[error("the signing algorithm {alg} is not allowed")]
    AlgorithmNotAllowed {
        /// The `alg` of the header, shortened.
        alg: String,
    },
    /// No key of the provider's key set matches the header's `kid` (or,
    /// without a `kid`, no single key fits the algorithm).
    #[error("no verification key matches kid {kid}")]
    UnknownKey {
        /// The header's `kid`, shortened; empty when absent.
        kid: String,
    },
    /// The signature does not verify with the selected key.
    #[error("the signature does not verify")]
    BadSignature,
    /// A required claim is absent.
    #[error("the token has no {claim} claim")]
    MissingClaim {
        /// The claim's name.
        claim: &'static str,
    },
    /// A claim has the wrong type or an invalid value.
    #[error("the {claim} claim is invalid: {why}")]
    InvalidClaim {
        /// The claim's name.
        claim: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// Neither `aud` nor `azp` names a client ID of the provider.
    #[error("no audience of the token is a client id of the provider")]
    Audience,
    /// `exp` has passed (beyond the allowed skew).
    #[error("the token expired at {exp}, now is {now}")]
    Expired {
        /// Now, seconds since the epoch.
        now: u64,
        /// The token's `exp`.
        exp: u64,
    },
    /// `iat` is older than the configured maximum age.
    #[error("the token was issued at {iat}, longer ago than the maximum age")]
    TooOld {
        /// The token's `iat`.
        iat: u64,
    },
    /// `nbf` is still in the future (beyond the allowed skew).
    #[error("the token is not valid before {nbf}, now is {now}")]
    NotYetValid {
        /// Now, seconds since the epoch.
        now: u64,
        /// The token's `nbf`.
        nbf: u64,
    },
    /// `iat` is in the future (beyond the allowed skew).
    #[error("the token was issued in the future at {iat}, now is {now}")]
    IssuedInFuture {
        /// Now, seconds since the epoch.
        now: u64,
        /// The token's `iat`.
        iat: u64,
    },
}

/// `text`, cut to at most 64 characters, for a message.
pub(crate) fn shorten(text: &str) -> String {
    let mut out: String = text.chars().take(64).collect();
    if text.chars().nth(64).is_some() {
        out.push_str("...");
    }
    out
}
