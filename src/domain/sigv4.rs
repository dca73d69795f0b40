//! AWS Signature Version 4, verified without I/O.
//!
//! Owns: everything between "a request arrived" and "this access key signed
//! it": finding and parsing the authentication (`Authorization` header or
//! presigned query), the canonical request, the string to sign, signing-key
//! derivation, the signature, and the checks around it (scope, clock skew,
//! presigned lifetime). The secret, the current time and the policy are
//! inputs; the verdict is [`Verified`] or a [`Sigv4Error`] that carries its
//! AWS error code.
//!
//! Pure: imports std, hmac, sha2, subtle, thiserror and zeroize only; no
//! HTTP types (the transport builds a [`RequestView`]), no clock, no store.
//! Spec: `reference/sts-iam-reference.md` §4; vectors in
//! `shared/vectors/sigv4` (vendored in `tests/fixtures/sigv4`).
//!
//! The service layer calls it in three steps, so that the secret lookup
//! (async, cached) stays outside:
//!
//! ```text
//! let auth = sigv4::parse(&view)?;                  // structure; who claims to sign
//! auth.precheck(now, &policy)?;                     // scope + time, no secret needed
//! let key = cache.get_or_derive(auth.access_key_id(), auth.scope(), secret_store).await?;
//! let verified = sigv4::verify(&auth, &key, now, &policy)?;   // signature, constant time
//! ```

mod auth;
mod authorization;
mod canonical;
mod client;
mod date;
mod encoding;
mod error;
mod presigned;
mod request;
mod signing_key;
mod string_to_sign;
mod verify;

pub use auth::{AuthKind, CredentialScope, ParsedAuth, parse};
pub use client::{
    SignatureLocation, SignedRequest, SigningParams, sign_request, sign_request_with_key,
};
pub use date::{AmzDate, BasicFormat};
/// RFC 3986 percent-encoding (upper-case hex, nothing kept but the
/// unreserved set) and lenient decoding — SigV4's, and also what the TOTP
/// provisioning URI, the SAML redirect binding and `stsd login` use.
pub(crate) use encoding::{
    decode as percent_decode, encode as percent_encode, encode_into as percent_encode_into,
};
pub use error::{ECHO_LIMIT, Sigv4Error};
pub use presigned::MAX_EXPIRES;
pub use request::{Payload, RequestView, UNSIGNED_PAYLOAD};
pub use signing_key::{Signature, sign};
pub use string_to_sign::{ALGORITHM, TERMINATOR, string_to_sign};
pub use verify::{Verified, VerifyPolicy, verify, verify_with_secret};

#[cfg(test)]
mod tests;
