//! A provider's public key in the form ring verifies with, and the
//! signature check of a token.
//!
//! Owns: [`PublicKey`] — an RSA key as its big-endian modulus and exponent
//! (ring's `RsaPublicKeyComponents`), an EC P-256/P-384 point or an Ed25519
//! key as raw bytes — extracted once when a key set is parsed, and
//! [`PublicKey::verify`]: the JWS signing input against the signature with
//! the ring algorithm of the token's `alg` (RSA PKCS#1 v1.5 and PSS with
//! 2048 to 8192-bit moduli, ECDSA fixed-size signatures, Ed25519). Any
//! other algorithm (HMAC, `none`, a later one) and any key of the wrong
//! family fail closed.
//!
//! Why not jsonwebtoken's `decode`: it parses the header twice and the
//! claims twice, clones the key into a boxed verifier on every call, and
//! builds a `Validation` (a `HashSet`) per token — work `peek` and
//! `claims::check` already do or do not need. Why RSA components and not
//! a DER `UnparsedPublicKey`: in ring 0.17 both rebuild the modulus'
//! Montgomery constants on every verification (its API keeps no parsed
//! RSA public key); the DER form only adds a parse (`BENCHMARKS.md`).
//!
//! Pure: ring and jsonwebtoken's key types only.

use jsonwebtoken::{Algorithm, DecodingKey, DecodingKeyKind};
use ring::signature::{self as sig, RsaPublicKeyComponents, UnparsedPublicKey};

/// A verification key, ready for ring.
#[derive(Clone)]
pub enum PublicKey {
    /// An RSA key: big-endian modulus and public exponent.
    Rsa(RsaPublicKeyComponents<Vec<u8>>),
    /// An EC point (uncompressed) or an Ed25519 key.
    Raw(Vec<u8>),
}

// === impl PublicKey ===

impl PublicKey {
    /// The key of a JWK decoded by jsonwebtoken.
    pub fn from_decoding_key(key: &DecodingKey) -> Self {
        match key.kind() {
            DecodingKeyKind::RsaModulusExponent { n, e } => Self::Rsa(RsaPublicKeyComponents {
                n: n.clone(),
                e: e.clone(),
            }),
            DecodingKeyKind::SecretOrDer(bytes) => Self::Raw(bytes.clone()),
        }
    }

    /// Whether `signature` signs `message` under this key with `alg`.
    ///
    /// # Errors
    ///
    /// `Unspecified` when it does not, or `alg` is not a signature
    /// algorithm this key can serve.
    pub fn verify(
        &self,
        alg: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), ring::error::Unspecified> {
        use Algorithm as A;
        let rsa: &'static sig::RsaParameters = match alg {
            A::RS256 => &sig::RSA_PKCS1_2048_8192_SHA256,
            A::RS384 => &sig::RSA_PKCS1_2048_8192_SHA384,
            A::RS512 => &sig::RSA_PKCS1_2048_8192_SHA512,
            A::PS256 => &sig::RSA_PSS_2048_8192_SHA256,
            A::PS384 => &sig::RSA_PSS_2048_8192_SHA384,
            A::PS512 => &sig::RSA_PSS_2048_8192_SHA512,
            A::ES256 => return self.raw(&sig::ECDSA_P256_SHA256_FIXED, message, signature),
            A::ES384 => return self.raw(&sig::ECDSA_P384_SHA384_FIXED, message, signature),
            A::EdDSA => return self.raw(&sig::ED25519, message, signature),
            _ => return Err(ring::error::Unspecified),
        };
        match self {
            Self::Rsa(components) => components.verify(rsa, message, signature),
            Self::Raw(_) => Err(ring::error::Unspecified),
        }
    }

    /// ECDSA and Ed25519: the key is the raw public point.
    fn raw(
        &self,
        alg: &'static dyn sig::VerificationAlgorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), ring::error::Unspecified> {
        match self {
            Self::Raw(point) => UnparsedPublicKey::new(alg, point).verify(message, signature),
            Self::Rsa(_) => Err(ring::error::Unspecified),
        }
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Rsa(c) => write!(f, "PublicKey::Rsa({} bits)", c.n.len() * 8),
            Self::Raw(b) => write!(f, "PublicKey::Raw({} bytes)", b.len()),
        }
    }
}
