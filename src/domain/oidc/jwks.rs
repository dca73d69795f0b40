//! JSON Web Key Sets: the verification keys of an OpenID provider.
//!
//! Owns: [`KeySet`], parsed from a JWKS document (discovery's `jwks_uri`
//! or a JWKS given inline in the configuration), and the choice of the key
//! that verifies a token ([`KeySet::select`]). Only signature keys of the
//! allow-listed kinds are kept — RSA (at least 2048 bits, checked when
//! verifying), EC P-256 and P-384, Ed25519 — and at most [`MAX_KEYS`] of
//! them (AWS handles at most 100); symmetric (`oct`) keys, encryption keys
//! (`use: enc`, `RSA-OAEP`…) and keys of other curves are skipped, never
//! errors, so one odd key does not take a provider down. A key that
//! declares its `alg` is used with that algorithm only.
//!
//! Pure: serde_json and jsonwebtoken's key types (each key is decoded
//! once, here, into a [`PublicKey`]). Spec: reference 9 step 3.

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};

use super::error::shorten;
use super::public_key::PublicKey;

/// At most this many keys of a set are used.
pub const MAX_KEYS: usize = 100;

/// The largest JWKS (or discovery) document read, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 512 * 1024;

/// The verification keys of one provider.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<VerificationKey>,
}

/// One usable key.
#[derive(Debug, Clone)]
struct VerificationKey {
    /// `kid`, when the key has one.
    kid: Option<String>,
    /// What the key is.
    kind: KeyKind,
    /// The `alg` the key declares, if any.
    alg: Option<Algorithm>,
    /// The key in ring's form, extracted once when the set is parsed.
    key: PublicKey,
}

/// The kinds of key kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Rsa,
    P256,
    P384,
    Ed25519,
}

/// Why a JWKS document is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwksError {
    /// Larger than [`MAX_DOCUMENT_BYTES`].
    #[error("the key set is larger than {MAX_DOCUMENT_BYTES} bytes")]
    TooLarge,
    /// Not a JSON object with a `keys` array.
    #[error("the key set is not a json object with a keys array")]
    Malformed,
}

/// The outcome of a key selection.
#[derive(Debug, Clone)]
pub enum Selection<'a> {
    /// The key to verify with.
    Found(&'a PublicKey),
    /// No key has the token's `kid` (or, without a `kid`, not exactly one
    /// key fits the algorithm). A refetch of the key set may help.
    Unknown(String),
}

// === impl KeySet ===

impl KeySet {
    /// Parses a JWKS document.
    ///
    /// # Errors
    ///
    /// [`JwksError`] when the document is too large or not a key set.
    pub fn parse(document: &[u8]) -> Result<Self, JwksError> {
        if document.len() > MAX_DOCUMENT_BYTES {
            return Err(JwksError::TooLarge);
        }
        #[derive(serde::Deserialize)]
        struct Doc {
            keys: Vec<serde_json::Value>,
        }
        let doc: Doc = serde_json::from_slice(document).map_err(|_| JwksError::Malformed)?;
        let keys = doc
            .keys
            .into_iter()
            .filter_map(|v| serde_json::from_value::<Jwk>(v).ok())
            .filter_map(|jwk| VerificationKey::from_jwk(&jwk))
            .take(MAX_KEYS)
            .collect();
        Ok(Self { keys })
    }

    /// How many usable keys the set has.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set has no usable key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether a key has `kid`.
    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }

    /// The key that verifies a token signed with `alg` under `kid`: the key
    /// with that `kid` that fits `alg`; without a `kid`, the one key of
    /// the set that fits `alg`, if there is exactly one.
    pub fn select(&self, kid: Option<&str>, alg: Algorithm) -> Selection<'_> {
        let mut fitting = self.keys.iter().filter(|k| k.fits(alg));
        let found = match kid {
            Some(kid) => fitting.find(|k| k.kid.as_deref() == Some(kid)),
            None => match (fitting.next(), fitting.next()) {
                (Some(only), None) => Some(only),
                _ => None,
            },
        };
        match found {
            Some(k) => Selection::Found(&k.key),
            None => Selection::Unknown(kid.map(shorten).unwrap_or_default()),
        }
    }
}

// === impl VerificationKey ===

impl VerificationKey {
    /// The usable key of `jwk`, or `None` to skip it.
    fn from_jwk(jwk: &Jwk) -> Option<Self> {
        if matches!(
            jwk.common.public_key_use,
            Some(PublicKeyUse::Encryption | PublicKeyUse::Other(_))
        ) {
            return None;
        }
        let kind = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => KeyKind::Rsa,
            AlgorithmParameters::EllipticCurve(p) => match p.curve {
                EllipticCurve::P256 => KeyKind::P256,
                EllipticCurve::P384 => KeyKind::P384,
                _ => return None,
            },
            AlgorithmParameters::OctetKeyPair(p) => match p.curve {
                EllipticCurve::Ed25519 => KeyKind::Ed25519,
                _ => return None,
            },
            _ => return None,
        };
        let alg = match jwk.common.key_algorithm {
            None => None,
            Some(declared) => Some(signature_algorithm(declared)?),
        };
        let key = PublicKey::from_decoding_key(&DecodingKey::from_jwk(jwk).ok()?);
        let candidate = Self {
            kid: jwk.common.key_id.clone(),
            kind,
            alg,
            key,
        };
        // A key that declares an algorithm it cannot serve is unusable.
        match alg {
            Some(a) if !candidate.fits(a) => None,
            _ => Some(candidate),
        }
    }

    /// Whether this key verifies signatures of `alg`.
    fn fits(&self, alg: Algorithm) -> bool {
        use Algorithm as A;
        if self.alg.is_some_and(|declared| declared != alg) {
            return false;
        }
        match self.kind {
            KeyKind::Rsa => matches!(
                alg,
                A::RS256 | A::RS384 | A::RS512 | A::PS256 | A::PS384 | A::PS512
            ),
            KeyKind::P256 => alg == A::ES256,
            KeyKind::P384 => alg == A::ES384,
            KeyKind::Ed25519 => alg == A::EdDSA,
        }
    }
}

/// The signature algorithm a JWK's `alg` names, or `None` for HMAC,
/// encryption and unknown algorithms.
fn signature_algorithm(alg: KeyAlgorithm) -> Option<Algorithm> {
    use Algorithm as A;
    use KeyAlgorithm as K;
    Some(match alg {
        K::RS256 => A::RS256,
        K::RS384 => A::RS384,
        K::RS512 => A::RS512,
        K::PS256 => A::PS256,
        K::PS384 => A::PS384,
        K::PS512 => A::PS512,
        K::ES256 => A::ES256,
        K::ES384 => A::ES384,
        K::EdDSA => A::EdDSA,
        _ => return None,
    })
}
