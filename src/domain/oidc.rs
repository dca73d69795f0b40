//! Web-identity (OIDC) tokens: the checks of AssumeRoleWithWebIdentity
//! that need no I/O.
//!
//! Owns: the pipeline of reference 9 from token to checked claims, given
//! the provider's keys and `now` — [`peek`] (shape, algorithm allow-list,
//! `kid`, unverified `iss`), [`verify`] (the key the `kid` selects, the
//! signature checked by ring over the signing input as sent
//! ([`public_key`]), the claims decoded once, then [`claims::check`]:
//! times with a bounded skew, `sub`, audience) — and what the claims
//! become ([`claims`]). Fetching and caching keys, finding the provider
//! and minting are the service's (`service::sts::web_identity`); this
//! module never reads the clock: `now` is an argument. jsonwebtoken
//! serves only its JWK types (key sets are parsed with them, once per
//! set); its `decode` is not used (see [`public_key`] for why).
//!
//! Pure: std, serde_json, data-encoding, zeroize, thiserror, ring and
//! jsonwebtoken's key types. Spec: reference 1.2, 1.6, 7.3 and 9.

pub mod claims;
mod error;
pub mod jwks;
pub mod public_key;
#[cfg(test)]
pub(crate) mod testing;
mod token;

pub use claims::{TimeLimits, TokenTags, VerifiedClaims};
pub use error::TokenError;
pub use jwks::{JwksError, KeySet, Selection};
pub use public_key::PublicKey;
pub use token::{
    ALLOWED_ALGORITHMS, MAX_TOKEN_CHARS, MIN_TOKEN_CHARS, Unverified, WebIdentityToken, peek,
};

use data_encoding::BASE64URL_NOPAD;
use serde_json::{Map, Value};

/// Verifies `token` (already [`peek`]ed into `header`) with `keys`, then
/// checks its claims against the provider's `client_ids` at `now`.
///
/// # Errors
///
/// [`TokenError::UnknownKey`] when no key fits (the caller may refetch the
/// key set once and retry), [`TokenError::BadSignature`],
/// [`TokenError::Malformed`] (a segment does not decode, or `header` is
/// not this token's), and the claim errors of [`claims::check`].
pub fn verify(
    token: &WebIdentityToken,
    header: &Unverified,
    keys: &KeySet,
    client_ids: &[String],
    now: u64,
    limits: TimeLimits,
) -> Result<VerifiedClaims, TokenError> {
    let key = match keys.select(header.kid.as_deref(), header.alg) {
        Selection::Found(key) => key,
        Selection::Unknown(kid) => return Err(TokenError::UnknownKey { kid }),
    };
    let undecodable = TokenError::Malformed {
        what: "a segment does not decode",
    };
    let text = token.expose_secret();
    let mut parts = text.split('.');
    let (Some(head), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(undecodable);
    };
    // `alg` and `kid` were read by `peek`: they must be this token's.
    if head != header.header {
        return Err(TokenError::Malformed {
            what: "the header is not the one read before",
        });
    }
    let signature = BASE64URL_NOPAD
        .decode(signature.as_bytes())
        .map_err(|_| undecodable.clone())?;
    // The JWS signing input: the header and payload segments as sent.
    let signed = text
        .get(..head.len() + 1 + payload.len())
        .ok_or_else(|| undecodable.clone())?;
    key.verify(header.alg, signed.as_bytes(), &signature)
        .map_err(|_| TokenError::BadSignature)?;
    let all: Map<String, Value> = BASE64URL_NOPAD
        .decode(payload.as_bytes())
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(undecodable)?;
    claims::check(all, client_ids, now, limits)
}

#[cfg(test)]
mod tests;
