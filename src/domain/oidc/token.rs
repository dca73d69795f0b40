//! The web-identity token as a secret, and what may be read from it before
//! its signature is checked.
//!
//! Owns: [`WebIdentityToken`] (a bearer credential: redacted `Debug`, no
//! `Display`, zeroized on drop, one `expose_secret()`), the size bounds of
//! the `WebIdentityToken` parameter, and [`peek`]: the compact-JWS shape
//! (three base64url segments), the header's `alg` against the allow-list
//! (`none`, HMAC and unknown algorithms refused before any key is looked
//! up), `kid`, a `crit` header refused (stsd understands no extension),
//! and the unverified `iss` that names the provider whose keys verify it.
//! Nothing read here is trusted until [`super::verify`] checked the
//! signature. Pure. Spec: reference 1.2 (`clientTokenType`), 9 steps 1–2.

use std::fmt;

use data_encoding::BASE64URL_NOPAD;
use jsonwebtoken::Algorithm;
use zeroize::Zeroize;

use super::error::{TokenError, shorten};

/// The shortest `WebIdentityToken` (`clientTokenType`).
pub const MIN_TOKEN_CHARS: usize = 4;
/// The longest `WebIdentityToken` (`clientTokenType`).
pub const MAX_TOKEN_CHARS: usize = 20_000;

/// The algorithms a token may be signed with: RSA PKCS#1 and PSS with
/// SHA-256/384/512, ECDSA P-256 and P-384, Ed25519. Never `none` or HMAC
/// (a provider's public key must not double as a shared secret).
pub const ALLOWED_ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// A web-identity token (a JWT), as the caller sent it.
pub struct WebIdentityToken(String);

/// What [`peek`] reads from a token before its signature is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unverified {
    /// The header's `alg`, on the allow-list.
    pub alg: Algorithm,
    /// The header's `kid`.
    pub kid: Option<String>,
    /// The payload's `iss`, as written.
    pub issuer: String,
    /// The header segment as sent: [`super::verify`] checks that the token
    /// it verifies has this header, so `alg` and `kid` are the token's.
    pub(super) header: String,
}

// === impl WebIdentityToken ===

impl WebIdentityToken {
    /// Wraps `text` (its length is checked where the parameter is
    /// decoded).
    pub fn new(text: String) -> Self {
        Self(text)
    }

    /// The token itself.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl Clone for WebIdentityToken {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl fmt::Debug for WebIdentityToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebIdentityToken(<redacted>)")
    }
}

impl Drop for WebIdentityToken {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// Reads the header and the issuer of `token` without trusting them.
///
/// # Errors
///
/// [`TokenError::Malformed`], [`TokenError::AlgorithmNotAllowed`], or
/// [`TokenError::MissingClaim`] / [`TokenError::InvalidClaim`] for `iss`.
pub fn peek(token: &WebIdentityToken) -> Result<Unverified, TokenError> {
    let mut parts = token.expose_secret().split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed("it does not have three segments"));
    };
    let segment = header;
    let header: Header = json_object(header, "the header is not base64url-encoded json")?;
    let alg = match header.alg {
        Some(serde_json::Value::String(alg)) => allowed(&alg)?,
        _ => return Err(malformed("the header has no alg")),
    };
    if header.crit.is_some() {
        return Err(malformed("the header has critical extensions"));
    }
    let kid = match header.kid {
        None => None,
        Some(serde_json::Value::String(kid)) => Some(kid),
        Some(_) => return Err(malformed("the header's kid is not a string")),
    };
    if signature.is_empty() {
        return Err(malformed("the signature is empty"));
    }
    // Only `iss` is read here: the other claims are skipped, not built
    // (verification parses them again).
    #[derive(serde::Deserialize)]
    struct Issuer {
        iss: Option<serde_json::Value>,
    }
    let payload: Issuer = json_object(payload, "the payload is not base64url-encoded json")?;
    let issuer = match payload.iss {
        Some(serde_json::Value::String(iss)) => iss,
        Some(_) => {
            return Err(TokenError::InvalidClaim {
                claim: "iss".to_owned(),
                why: "it is not a string",
            });
        }
        None => return Err(TokenError::MissingClaim { claim: "iss" }),
    };
    Ok(Unverified {
        alg,
        kid,
        issuer,
        header: segment.to_owned(),
    })
}

/// The header members [`peek`] reads; the others are skipped. A member
/// that is present is `Some`, even when it is `null`.
#[derive(serde::Deserialize)]
struct Header {
    #[serde(default, deserialize_with = "present")]
    alg: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "present")]
    kid: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "present")]
    crit: Option<serde_json::Value>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
    serde::Deserialize::deserialize(d).map(Some)
}

/// `alg` when it is on the allow-list.
fn allowed(alg: &str) -> Result<Algorithm, TokenError> {
    alg.parse::<Algorithm>()
        .ok()
        .filter(|a| ALLOWED_ALGORITHMS.contains(a))
        .ok_or_else(|| TokenError::AlgorithmNotAllowed { alg: shorten(alg) })
}

/// A base64url segment holding a JSON object, read as `T` (a struct of
/// the members wanted; serde would also take an array for a struct, so the
/// object is checked first).
fn json_object<T: serde::de::DeserializeOwned>(
    segment: &str,
    what: &'static str,
) -> Result<T, TokenError> {
    let bytes = BASE64URL_NOPAD
        .decode(segment.as_bytes())
        .map_err(|_| malformed(what))?;
    if bytes.trim_ascii_start().first() != Some(&b'{') {
        return Err(malformed(what));
    }
    serde_json::from_slice(&bytes).map_err(|_| malformed(what))
}

fn malformed(what: &'static str) -> TokenError {
    TokenError::Malformed { what }
}
