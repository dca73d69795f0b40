//! Web-identity (OIDC) tokens: the checks of AssumeRoleWithWebIdentity
//! that need no I/O.
//!
//! Owns: the pipeline of reference 9 from token to checked claims, given
//! the provider's keys and `now` — [`peek`] (shape, algorithm allow-list,
//! `kid`, unverified `iss`), [`verify`] (the key the `kid` selects, the
//! signature through `jsonwebtoken` on the ring backend of
//! [`ring_provider`], then [`claims::check`]: times with a bounded skew,
//! `sub`, audience) — and what the claims become ([`claims`]). Fetching
//! and caching keys, finding the provider and minting are the service's
//! (`service::sts::web_identity`); this module never reads the clock:
//! `now` is an argument, and jsonwebtoken's own `exp`/`nbf` checks (which
//! read the system clock) are switched off.
//!
//! Pure: std, serde_json, data-encoding, zeroize, thiserror, ring and
//! jsonwebtoken. Spec: reference 1.2, 1.6, 7.3 and 9.

pub mod claims;
mod error;
pub mod jwks;
pub mod ring_provider;
#[cfg(test)]
pub(crate) mod testing;
mod token;

pub use claims::{TimeLimits, TokenTags, VerifiedClaims};
pub use error::TokenError;
pub use jwks::{JwksError, KeySet, Selection};
pub use token::{
    ALLOWED_ALGORITHMS, MAX_TOKEN_CHARS, MIN_TOKEN_CHARS, Unverified, WebIdentityToken, peek,
};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Validation, decode};
use serde_json::{Map, Value};

/// Verifies `token` (already [`peek`]ed into `header`) with `keys`, then
/// checks its claims against the provider's `client_ids` at `now`.
///
/// # Errors
///
/// [`TokenError::UnknownKey`] when no key fits (the caller may refetch the
/// key set once and retry), [`TokenError::BadSignature`], and the claim
/// errors of [`claims::check`].
pub fn verify(
    token: &WebIdentityToken,
    header: &Unverified,
    keys: &KeySet,
    client_ids: &[String],
    now: u64,
    limits: TimeLimits,
) -> Result<VerifiedClaims, TokenError> {
    ring_provider::install();
    let key = match keys.select(header.kid.as_deref(), header.alg) {
        Selection::Found(key) => key,
        Selection::Unknown(kid) => return Err(TokenError::UnknownKey { kid }),
    };
    let mut validation = Validation::new(header.alg);
    // Times are checked against the injected clock in `claims::check`;
    // jsonwebtoken would read the system clock.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    validation.leeway = 0;
    let data = decode::<Map<String, Value>>(token.expose_secret(), key, &validation).map_err(
        |e| match e.kind() {
            ErrorKind::InvalidSignature
            | ErrorKind::InvalidAlgorithm
            | ErrorKind::InvalidKeyFormat
            | ErrorKind::InvalidRsaKey(_)
            | ErrorKind::InvalidEcdsaKey
            | ErrorKind::InvalidEddsaKey => TokenError::BadSignature,
            _ => TokenError::Malformed {
                what: "a segment does not decode",
            },
        },
    )?;
    claims::check(data.claims, client_ids, now, limits)
}

#[cfg(test)]
mod tests;
